# A 3-layer tanh network with squared loss.
x: vector(n0)
t: vector(n3)
W1: matrix(n1, n0)
W2: matrix(n2, n1)
W3: matrix(n3, n2)
b1: vector(n1)
b2: vector(n2)
b3: vector(n3)

h1 = tanh(W1*x + b1)
h2 = tanh(W2*h1 + b2)
o = W3*h2 + b3
L = norm2(o - t)^2 / 2
