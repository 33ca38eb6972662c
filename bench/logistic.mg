# Workload 3: the logistic-regression loss of n samples (the rows of X) with labels t,
# -Σ t log σ(s) + (1 - t) log(1 - σ(s)), written stably as Σ softplus(s) - t s.
X: matrix(n, d)
t: vector(n)
w: vector(d)

s = X*w
L = sum(softplus(s) - t.*s)
