"""The side-by-side benchmark: matgrad (compiled plan, through `matgrad bench`), JAX
(jit of value_and_grad, x64), NumPy (the closed form written by hand, as a person would
write it) and, if it is installed, PyTorch (eager autograd), on the same workloads, in f64,
in one run. Run it through `bench/compare.sh`,
which sets up the environment (venv, threads) and builds matgrad.

Every figure is the wall time of one call producing the value and the gradients; the
warm-up (and JAX's compilation) is excluded. Each measurement is taken in two rounds, in
interleaved order, so that the table can say how much the figures moved between rounds.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MATGRAD = ROOT / "target" / "release" / "matgrad"

try:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
except ImportError:  # pragma: no cover - reported in the table
    jax = None

try:
    import torch  # noqa: F401  (optional: PyPI's wheel is the ~5 GB CUDA build)
except ImportError:
    torch = None


# ---------------------------------------------------------------------------------------
# Timing


def timed(call, budget, min_runs, warmup=3):
    """Times `call()` (which must finish its work before returning): warm-up, then runs
    for `budget` seconds and at least `min_runs` runs. Returns the times in µs."""
    for _ in range(warmup):
        call()
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < budget:
        t = time.perf_counter()
        call()
        times.append((time.perf_counter() - t) * 1e6)
    return times


def summary(times):
    return {"median_us": statistics.median(times), "min_us": min(times), "max_us": max(times), "runs": len(times)}


# ---------------------------------------------------------------------------------------
# Workloads: each gives NumPy inputs, a NumPy closed form and a JAX loss.


def sigmoid(x):
    # 1/(1 + e^-x) without overflow warnings.
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def backprop_inputs(rng, K):
    return {"x": rng.standard_normal(K), "A": rng.standard_normal((K, K)), "B": rng.standard_normal((K, K))}


def backprop_numpy(x, A, B):
    """L = ‖w‖² for y = Ax, u = σ(y), v = Bx, z = A(u ⊙ v), w = Az, and its gradients as a
    person derives them: the three outer products of ∂L/∂A as one product of thin
    matrices."""
    y = A @ x
    u = sigmoid(y)
    v = B @ x
    uv = u * v
    z = A @ uv
    w = A @ z
    L = w @ w
    p = A.T @ w
    q = A.T @ p
    uq = u * q
    r = uv * q * (1.0 - u)
    dA = 2.0 * (np.stack((w, p, r), axis=1) @ np.stack((z, uv, x)))
    dB = np.outer(2.0 * uq, x)
    dx = 2.0 * (B.T @ uq + A.T @ r)
    return L, dA, dB, dx


def backprop_jax(x, A, B):
    y = A @ x
    u = jax.nn.sigmoid(y)
    v = B @ x
    z = A @ (u * v)
    w = A @ z
    return jnp.sum(w * w)


def mlp_inputs(rng, d, b):
    scale = 1.0 / np.sqrt(d)
    inputs = {"X": rng.standard_normal((d, b)), "T": rng.standard_normal((d, b))}
    for i in range(1, 5):
        inputs[f"W{i}"] = scale * rng.standard_normal((d, d))
    return inputs


def mlp_numpy(X, T, W1, W2, W3, W4):
    H1 = np.tanh(W1 @ X)
    H2 = np.tanh(W2 @ H1)
    H3 = np.tanh(W3 @ H2)
    E = W4 @ H3 - T
    L = 0.5 * np.vdot(E, E)
    dW4 = E @ H3.T
    D3 = (W4.T @ E) * (1.0 - H3 * H3)
    dW3 = D3 @ H2.T
    D2 = (W3.T @ D3) * (1.0 - H2 * H2)
    dW2 = D2 @ H1.T
    D1 = (W2.T @ D2) * (1.0 - H1 * H1)
    dW1 = D1 @ X.T
    return L, dW1, dW2, dW3, dW4


def mlp_jax(X, T, W1, W2, W3, W4):
    H1 = jnp.tanh(W1 @ X)
    H2 = jnp.tanh(W2 @ H1)
    H3 = jnp.tanh(W3 @ H2)
    E = W4 @ H3 - T
    return 0.5 * jnp.sum(E * E)


def logistic_inputs(rng, n, d):
    return {"X": rng.standard_normal((n, d)), "t": rng.standard_normal(n), "w": rng.standard_normal(d)}


def logistic_numpy(X, t, w):
    s = X @ w
    L = np.sum(np.logaddexp(0.0, s) - t * s)
    return L, X.T @ (sigmoid(s) - t)


def logistic_jax(X, t, w):
    s = X @ w
    return jnp.sum(jax.nn.softplus(s) - t * s)


# PyTorch (eager autograd), used only if torch is installed in the venv.


def backprop_torch(x, A, B):
    u = torch.sigmoid(A @ x)
    w = A @ (A @ (u * (B @ x)))
    return torch.sum(w * w)


def mlp_torch(X, T, W1, W2, W3, W4):
    E = W4 @ torch.tanh(W3 @ torch.tanh(W2 @ torch.tanh(W1 @ X))) - T
    return 0.5 * torch.sum(E * E)


def logistic_torch(X, t, w):
    s = X @ w
    return torch.sum(torch.nn.functional.softplus(s) - t * s)


# name, .mg file, --wrt, dims, inputs, NumPy closed form, JAX loss, JAX argnums
WORKLOADS = []
for K in (16, 64, 256, 1024, 4096):
    WORKLOADS.append(
        {
            "name": f"backprop K={K}",
            "group": "1 · backprop example",
            "file": "examples/backprop.mg",
            "wrt": "A,B,x",
            "dims": f"K={K}",
            "inputs": (lambda rng, K=K: backprop_inputs(rng, K)),
            "order": ["x", "A", "B"],
            "numpy": backprop_numpy,
            "jax": backprop_jax,
            "torch": backprop_torch,
            "argnums": (0, 1, 2),
            "K": K,
        }
    )
WORKLOADS.append(
    {
        "name": "MLP 4×512, batch 256",
        "group": "2 · tanh MLP",
        "file": "bench/mlp.mg",
        "wrt": "W1,W2,W3,W4",
        "dims": "d=512,b=256",
        "inputs": lambda rng: mlp_inputs(rng, 512, 256),
        "order": ["X", "T", "W1", "W2", "W3", "W4"],
        "numpy": mlp_numpy,
        "jax": mlp_jax,
        "torch": mlp_torch,
        "argnums": (2, 3, 4, 5),
    }
)
WORKLOADS.append(
    {
        "name": "logistic 10000×1000",
        "group": "3 · logistic regression",
        "file": "bench/logistic.mg",
        "wrt": "w",
        "dims": "n=10000,d=1000",
        "inputs": lambda rng: logistic_inputs(rng, 10000, 1000),
        "order": ["X", "t", "w"],
        "numpy": logistic_numpy,
        "jax": logistic_jax,
        "torch": logistic_torch,
        "argnums": (2,),
    }
)


# ---------------------------------------------------------------------------------------
# The peers


def run_matgrad(workload, budget, min_runs):
    command = [
        str(MATGRAD),
        "bench",
        workload["file"],
        "--wrt",
        workload["wrt"],
        "--dims",
        workload["dims"],
        "--format",
        "json",
        "--time",
        str(budget),
        "--min-runs",
        str(min_runs),
    ]
    out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def run_numpy(workload, budget, min_runs):
    rng = np.random.default_rng(0)
    inputs = workload["inputs"](rng)
    args = [inputs[name] for name in workload["order"]]
    return summary(timed(lambda: workload["numpy"](*args), budget, min_runs))


def run_jax(workload, budget, min_runs):
    rng = np.random.default_rng(0)
    inputs = workload["inputs"](rng)
    args = [jnp.asarray(inputs[name]) for name in workload["order"]]
    f = jax.jit(jax.value_and_grad(workload["jax"], argnums=workload["argnums"]))
    call = lambda: jax.block_until_ready(f(*args))  # noqa: E731
    call()  # compilation, excluded
    return summary(timed(call, budget, min_runs))


def run_torch(workload, budget, min_runs):
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    inputs = workload["inputs"](rng)
    args = [torch.tensor(inputs[name], dtype=torch.float64) for name in workload["order"]]
    wrt = [args[i].requires_grad_(True) for i in workload["argnums"]]

    def call():
        for a in wrt:
            a.grad = None
        loss = workload["torch"](*args)
        loss.backward()
        return loss.item()

    return summary(timed(call, budget, min_runs))


def relative_difference(a, b):
    a, b = np.asarray(a), np.asarray(b)
    scale = max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-300)
    return np.max(np.abs(a - b)) / scale


def check_agreement(workload):
    """The NumPy closed form, JAX and PyTorch (if installed) compute the same value and
    gradient (a guard against comparing different work)."""
    rng = np.random.default_rng(1)
    inputs = workload["inputs"](rng)
    args = [inputs[name] for name in workload["order"]]
    mine = workload["numpy"](*args)
    value, grads = jax.jit(jax.value_and_grad(workload["jax"], argnums=workload["argnums"]))(
        *[jnp.asarray(a) for a in args]
    )
    theirs = (value, *grads)
    # NumPy's order follows the workload's argnums order for every workload here, except the
    # backprop example, whose closed form returns (L, dA, dB, dx) for argnums (x, A, B).
    if workload["group"].startswith("1"):
        theirs = (value, grads[1], grads[2], grads[0])
    for a, b in zip(mine, theirs):
        error = relative_difference(a, b)
        if not error < 1e-8:
            raise SystemExit(f"{workload['name']}: NumPy and JAX disagree ({error:.1e})")
    if torch is not None:
        targs = [torch.tensor(a, dtype=torch.float64) for a in args]
        wrt = [targs[i].requires_grad_(True) for i in workload["argnums"]]
        loss = workload["torch"](*targs)
        loss.backward()
        for a, b in zip((value, *grads), (loss.item(), *[w.grad.numpy() for w in wrt])):
            error = relative_difference(a, b)
            if not error < 1e-8:
                raise SystemExit(f"{workload['name']}: JAX and PyTorch disagree ({error:.1e})")


# ---------------------------------------------------------------------------------------
# Bandwidth


def stream_bandwidth(megabytes=512, threads=1, repeats=5):
    """STREAM-style copy bandwidth in GB/s (bytes read + bytes written, per second)."""
    n = megabytes * 2**20 // 8
    src = np.ones(n)
    dst = np.empty(n)
    parts = np.array_split(np.arange(n), threads)
    bounds = [(p[0], p[-1] + 1) for p in parts]

    def copy(bound):
        lo, hi = bound
        np.copyto(dst[lo:hi], src[lo:hi])

    best = float("inf")
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(repeats):
            t = time.perf_counter()
            list(pool.map(copy, bounds))
            best = min(best, time.perf_counter() - t)
    return 2 * n * 8 / best / 1e9


# ---------------------------------------------------------------------------------------
# Derivation


def derivation_seconds(statements=10_000, repeats=3):
    """Wall time of `matgrad grad` (parse, differentiate, simplify, print the closed form) on
    a generated program of `statements` statements that all use A; the best of `repeats`."""
    lines = ["x: vector(K)", "A: matrix(K, K)", "h0 = x"]
    lines += [f"h{i} = tanh(A*h{i - 1}) + h{i - 1}/2" for i in range(1, statements + 1)]
    lines.append(f"L = sum(h{statements})")
    path = ROOT / "target" / "bench-long-program.mg"
    path.write_text("\n".join(lines) + "\n")
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([str(MATGRAD), "grad", str(path), "--wrt", "A"], check=True, capture_output=True)
        best = min(best, time.perf_counter() - t)
    return best


# ---------------------------------------------------------------------------------------
# The run


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short timings (a smoke test)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.md"))
    parser.add_argument("--only", metavar="TEXT", help="only the workloads whose name contains TEXT")
    args = parser.parse_args()
    workloads = [w for w in WORKLOADS if not args.only or args.only in w["name"]]
    budget = 0.2 if args.quick else 1.5
    min_runs = 3 if args.quick else 10

    peers = ["matgrad", "numpy"] + (["jax"] if jax else []) + (["torch"] if torch else [])
    runners = {"matgrad": run_matgrad, "numpy": run_numpy, "jax": run_jax, "torch": run_torch}
    results = {w["name"]: {p: [] for p in peers} for w in workloads}
    value_only = {}

    if jax:
        for workload in workloads:
            if workload.get("K", 0) <= 256 or workload["group"][0] != "1":
                check_agreement(workload)

    for round_ in range(2):
        for workload in workloads:
            # The largest sizes run a second apart: fewer runs, same budget.
            order = peers if round_ == 0 else list(reversed(peers))
            for peer in order:
                r = runners[peer](workload, budget, min_runs if workload.get("K", 0) < 4096 else 5)
                results[workload["name"]][peer].append(r)
                if peer == "matgrad":
                    value_only.setdefault(workload["name"], []).append(r["value_only_median_us"])
                print(f"round {round_ + 1} {workload['name']:<24} {peer:<8} {r['median_us']:>12.1f} µs", flush=True)

    bandwidth_1 = stream_bandwidth(threads=1)
    bandwidth_2 = stream_bandwidth(threads=2)
    bandwidth = max(bandwidth_1, bandwidth_2)
    derivation = derivation_seconds()

    report = render(results, value_only, peers, bandwidth_1, bandwidth_2, bandwidth)
    report += (
        f"Derivation: `matgrad grad` of a generated 10 000-statement program (parse, differentiate, "
        f"simplify, print) takes {derivation * 1e3:.0f} ms, the whole process.\n"
    )
    Path(args.out).write_text(report)
    print()
    print(report)


def render(results, value_only, peers, bandwidth_1, bandwidth_2, bandwidth):
    lines = []
    lines.append("# matgrad vs peers: value and gradient, median µs per call (f64, 2 threads)")
    lines.append("")
    lines.append(f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    versions = [f"numpy {np.__version__}"]
    if jax:
        versions.append(f"jax {jax.__version__}")
    versions.append("torch " + (torch.__version__ if torch else "not installed (not measured)"))
    lines.append(f"- peers: {', '.join(versions)}; python {platform.python_version()}")
    lines.append(
        f"- stream (copy) bandwidth: {bandwidth_1:.1f} GB/s on 1 thread, {bandwidth_2:.1f} GB/s on 2 threads"
    )
    lines.append("- each cell: median over both rounds (round 1 / round 2 medians in the noise column)")
    lines.append("")
    header = "| workload | " + " | ".join(peers) + " | fastest peer | matgrad speed-up | gradient ÷ value | noise (matgrad r1/r2) |"
    lines.append(header)
    lines.append("|" + "---|" * (len(peers) + 5))
    for name, by_peer in results.items():
        medians = {}
        for peer in peers:
            all_runs = by_peer[peer]
            medians[peer] = statistics.median([r["median_us"] for r in all_runs])
        others = {p: m for p, m in medians.items() if p != "matgrad"}
        fastest = min(others, key=others.get)
        speedup = others[fastest] / medians["matgrad"]
        ratio = medians["matgrad"] / statistics.median(value_only[name])
        rounds = " / ".join(f"{r['median_us']:.1f}" for r in by_peer["matgrad"])
        cells = " | ".join(f"{medians[p]:.1f}" for p in peers)
        lines.append(f"| {name} | {cells} | {fastest} | {speedup:.2f}× | {ratio:.2f}× | {rounds} |")
    lines.append("")
    K = 4096
    traffic = 4 * K * K * 8
    bound_us = traffic / (bandwidth * 1e9) * 1e6
    if f"backprop K={K}" not in results:
        return "\n".join(lines)
    measured = statistics.median([r["median_us"] for r in results[f"backprop K={K}"]["matgrad"]])
    lines.append(
        f"Memory-traffic bound at K = {K}: reading A and B and writing ∂L/∂A and ∂L/∂B once is "
        f"{traffic / 2**20:.0f} MiB, {bound_us:.0f} µs at {bandwidth:.1f} GB/s; matgrad takes "
        f"{measured:.0f} µs, {measured / bound_us:.2f}× the bound."
    )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
