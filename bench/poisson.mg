# The Hessian benchmark's Newton step: Poisson regression (a GLM with the log link), each
# sample a column of X (d × n, the layout of the peers' n × d NumPy array). The gradient is
# X (exp(s) − t), the Hessian X Diag(exp(s)) Xᵀ, the step H⁻¹ g.
X: matrix(d, n)
t: vector(n)
w: vector(d)
s = X'*w
L = sum(exp(s) - t.*s)
