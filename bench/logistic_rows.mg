# Workload 3 as the peers' NumPy and JAX hold it, for the generated code's benchmark
# (codegen.sh): X is n × d, a sample a row (generated code takes row-major arrays as they are).
X: matrix(n, d)
t: vector(n)
w: vector(d)

s = X*w
L = sum(softplus(s) - t.*s)
