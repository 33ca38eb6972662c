# The network from the question that started matgrad: A feeds three nodes (y, z, w) and x
# feeds two (y, v), so the chain rule sums over several children.
x: vector(K)
A, B: matrix(K, K)

y = A*x
u = sigmoid(y)
v = B*x
z = A*(u.*v)
w = A*z
L = norm2(w)^2
