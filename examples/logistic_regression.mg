# Logistic regression: the negative log-likelihood of labels t ∈ {0, 1}ⁿ given features X.
X: matrix(n, d)
t: vector(n)
w: vector(d)
b: scalar

s = X*w + b
p = sigmoid(s)
L = -sum(t.*log(p) + (1 - t).*log(1 - p))
