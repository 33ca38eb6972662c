# Workload 2: a 4-layer tanh MLP with squared loss on a batch (the columns of X and T):
# three tanh layers and a linear output layer, no biases.
X, T: matrix(d, b)
W1, W2, W3, W4: matrix(d, d)

H1 = tanh(W1*X)
H2 = tanh(W2*H1)
H3 = tanh(W3*H2)
Y = W4*H3
L = norm2(Y - T)^2 / 2
