# The Hessian benchmark's quadratic form: ∂²(xᵀAx)/∂x² = A + Aᵀ.
x: vector(n)
A: matrix(n, n)
L = x'*A*x
