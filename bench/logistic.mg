# Workload 3: the logistic-regression loss of n samples with labels t,
# -Σ t log σ(s) + (1 - t) log(1 - σ(s)), written stably as Σ softplus(s) - t s.
# Each sample is a column of X: matgrad stores matrices column by column, so this is the
# layout of the peers' NumPy array of n rows (one sample per row, row by row) — each
# sample's features side by side in memory.
X: matrix(d, n)
t: vector(n)
w: vector(d)

s = X'*w
L = sum(softplus(s) - t.*s)
