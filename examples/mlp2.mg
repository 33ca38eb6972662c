# A 2-layer network with a sigmoid hidden layer and squared loss.
x: vector(n)
t: vector(m)
W1: matrix(h, n)
W2: matrix(m, h)

a = sigmoid(W1*x)
o = W2*a
L = norm2(o - t)^2
