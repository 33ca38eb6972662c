# The backprop example in Unicode math.
x ∈ ℝ^K, A, B ∈ ℝ^{K×K}

y = A x
u = σ(y)
v = B x
z = A (u ⊙ v)
w = A z
L = ‖w‖²
