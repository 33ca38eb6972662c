# Ridge-regularised least squares.
A: matrix(m, n)
x: vector(n)
b: vector(m)
lambda: scalar

r = A*x - b
L = norm2(r)^2 + lambda*x'*x
