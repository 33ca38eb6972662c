"""Writes jax_blocks.json: the Jacobian and Hessian blocks of the cases of second_order.txt
computed by jax.jacobian and jax.hessian (x64) at fixed inputs, which second_order.rs
compares with matgrad's. Run once; the JSON is committed, so the tests need no JAX:

    python3 -m venv /tmp/jaxenv && /tmp/jaxenv/bin/pip install jax numpy
    /tmp/jaxenv/bin/python crates/matgrad/tests/data/jax_blocks.py
"""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

sigmoid = jax.nn.sigmoid


def lse(v):
    return jax.scipy.special.logsumexp(v)


# name: (jacobian or hessian, inputs in program order with shapes, wrt, function of the inputs)
CASES = {
    "Jacobian of a linear map: ∂(Ax)/∂x = A": (
        "jacobian", [("x", (3,)), ("A", (2, 3))], ["x", "A"], lambda x, A: A @ x),
    "Jacobian of the logistic sigmoid: Diag(σ(x) ⊙ (1 − σ(x)))": (
        "jacobian", [("x", (3,))], ["x"], lambda x: sigmoid(x)),
    "Jacobian of softmax: Diag(y) − y yᵀ": (
        "jacobian", [("x", (3,))], ["x"], lambda x: jax.nn.softmax(x)),
    "Kronecker form: ∂vec(AXB)/∂vec(X) = Bᵀ ⊗ A": (
        "jacobian", [("X", (3, 2)), ("A", (3, 3)), ("B", (2, 2))], ["X"], lambda X, A, B: A @ X @ B),
    "Jacobian of the inverse: dX ↦ −X⁻¹ dX X⁻¹": (
        "jacobian", [("X", (3, 3))], ["X"], lambda X: jnp.linalg.inv(X)),
    "Jacobian of an intermediate with respect to a matrix and a vector": (
        "jacobian", [("x", (3,)), ("A", (3, 3))], ["A", "x"], lambda x, A: jnp.tanh(A @ x)),
    "quadratic form: ∂²(xᵀAx)/∂x² = A + Aᵀ, mixed x|A": (
        "hessian", [("x", (3,)), ("A", (3, 3))], ["x", "A"], lambda x, A: x @ A @ x),
    "Matrix Cookbook (quadratic): ∂²/∂x² (Bx + b)ᵀ C (Dx + d) = BᵀCD + DᵀCᵀB": (
        "hessian", [("x", (3,)), ("B", (2, 3)), ("D", (2, 3)), ("C", (2, 2)), ("b", (2,)), ("d", (2,))], ["x"],
        lambda x, B, D, C, b, d: (B @ x + b) @ C @ (D @ x + d)),
    "least squares: ∂²‖Ax − b‖²/∂x² = 2AᵀA (ridge: + 2λI)": (
        "hessian", [("A", (3, 2)), ("x", (2,)), ("b", (3,)), ("lambda", ())], ["x", "A"],
        lambda A, x, b, lam: jnp.sum((A @ x - b) ** 2) + lam * x @ x),
    "logistic regression: Xᵀ Diag(p ⊙ (1 − p)) X": (
        "hessian", [("X", (4, 3)), ("t", (4,)), ("w", (3,)), ("b", ())], ["w", "b"],
        lambda X, t, w, b: -jnp.sum(t * jnp.log(sigmoid(X @ w + b)) + (1 - t) * jnp.log(1 - sigmoid(X @ w + b)))),
    "softmax cross-entropy: Wᵀ (Diag(p) − p pᵀ) W": (
        "hessian", [("W", (3, 2)), ("x", (2,)), ("b", (3,)), ("t", (3,))], ["x", "W"],
        lambda W, x, b, t: lse(W @ x + b) - t @ (W @ x + b)),
    "log-sum-exp: Diag(p) − p pᵀ": ("hessian", [("x", (3,))], ["x"], lambda x: lse(x)),
    "log det X: dX ↦ −X⁻ᵀ dXᵀ X⁻ᵀ": (
        "hessian", [("X", (3, 3))], ["X"], lambda X: jnp.linalg.slogdet(X)[1]),
    "tr(XᵀAX): (A + Aᵀ)[i,k] δ[j,l], I ⊗ (A + Aᵀ)": (
        "hessian", [("X", (3, 2)), ("A", (3, 3))], ["X"], lambda X, A: jnp.trace(X.T @ A @ X)),
    "tr(AXBXᵀ): Bᵀ ⊗ A + B ⊗ Aᵀ": (
        "hessian", [("X", (3, 2)), ("A", (3, 3)), ("B", (2, 2))], ["X"], lambda X, A, B: jnp.trace(A @ X @ B @ X.T)),
    "the question's model with respect to x, A and B, mixed blocks included": (
        "hessian", [("x", (2,)), ("A", (2, 2)), ("B", (2, 2))], ["x", "A", "B"],
        lambda x, A, B: jnp.sum((A @ (A @ (sigmoid(A @ x) * (B @ x)))) ** 2)),
    "a small MLP": (
        "hessian", [("x", (3,)), ("t", (2,)), ("W1", (2, 3)), ("W2", (2, 2))], ["x", "W2"],
        lambda x, t, W1, W2: jnp.sum((W2 @ sigmoid(W1 @ x) - t) ** 2)),
    "shared weights": (
        "hessian", [("x", (3,)), ("W", (3, 3))], ["x", "W"],
        lambda x, W: jnp.sum(jnp.tanh(W @ jnp.tanh(W @ x)))),
}


def main():
    rng = np.random.RandomState(15)
    out = []
    for name, (kind, inputs, wrt, f) in CASES.items():
        values = {n: rng.standard_normal(shape) for n, shape in inputs}
        order = [n for n, _ in inputs]
        argnums = tuple(order.index(n) for n in wrt)
        args = [jnp.asarray(values[n]) for n in order]
        derivative = (jax.hessian if kind == "hessian" else jax.jacobian)(f, argnums=argnums)
        result = derivative(*args)
        if kind == "hessian":
            blocks = {p: {q: np.asarray(result[i][j]).tolist() for j, q in enumerate(wrt)} for i, p in enumerate(wrt)}
        else:
            blocks = {q: np.asarray(result[j]).tolist() for j, q in enumerate(wrt)}
        out.append({
            "name": name,
            "inputs": {n: values[n].tolist() for n in order},
            "blocks": blocks,
        })
    data = {
        "note": "Computed once by jax_blocks.py with jax " + jax.__version__ + " (jax.jacobian, jax.hessian, "
                "x64) at inputs drawn by numpy.random.RandomState(15); second_order.rs compares matgrad's blocks "
                "with these numbers.",
        "cases": out,
    }
    path = Path(__file__).with_name("jax_blocks.json")
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path} ({len(out)} cases)")


if __name__ == "__main__":
    main()
