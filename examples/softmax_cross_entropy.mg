# Softmax cross-entropy of a linear classifier; t is a one-hot label, so
# -log softmax(s)ᵢ = logsumexp(s) - tᵀs.
W: matrix(c, d)
x: vector(d)
b: vector(c)
t: vector(c)

s = W*x + b
L = logsumexp(s) - t'*s
