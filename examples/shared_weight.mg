# One weight matrix used in two layers (a tied, recurrent-style weight).
x: vector(n)
W: matrix(n, n)

h1 = tanh(W*x)
h2 = tanh(W*h1)
L = sum(h2)
