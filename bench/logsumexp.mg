# The Hessian benchmark's log-sum-exp of a linear map: ∂²L/∂x² = Aᵀ (Diag(p) − p pᵀ) A with
# p = softmax(A x).
x: vector(n)
A: matrix(m, n)
L = logsumexp(A*x)
