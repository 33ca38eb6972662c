"""The second-order benchmark: matgrad's compiled Hessians (from their closed forms),
Newton step and Hessian-vector products (through `matgrad bench --hessian/--newton/--hvp`)
against JAX (jit of jax.hessian; jit of jax.jvp(jax.grad(f)) for the products), NumPy with
the closed form written by hand, and torch.func when PyTorch is importable — f64, two
threads, side by side in one run. Run it through `bench/hessian.sh`, which sets up the
environment (venv, threads) and builds matgrad.

Each figure is the median wall time of one call after a warm-up; compilation (JAX's jit
and trace, matgrad's differentiation and plan) is timed apart, once, and reported in its
own column. Every measurement is taken in two rounds in interleaved order. Before timing,
the peers' numbers are compared with each other (relative 1e-8), and matgrad's Hessians
and products with JAX's at a small size of every workload (through `matgrad hessian
--inputs … --format json` and the library's compiled products, `matgrad bench --hvp`'s
plan, checked in the Rust tests).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import MATGRAD, ROOT, jax, relative_difference, sigmoid, summary, timed, torch  # noqa: E402

if jax is not None:
    import jax.numpy as jnp


# ---------------------------------------------------------------------------------------
# Workloads: inputs (NumPy, in the peers' layout), a scalar loss for JAX (and torch), the
# closed form by hand in NumPy, and how matgrad names and lays out the same inputs.


def quadratic_inputs(rng, n):
    return {"x": rng.standard_normal(n), "A": rng.standard_normal((n, n))}


def quadratic_numpy(x, A):
    return A + A.T


def quadratic_loss(np_):
    return lambda x, A: x @ A @ x


def logistic_inputs(rng, n, d):
    return {"X": rng.standard_normal((n, d)), "t": rng.standard_normal(n), "w": rng.standard_normal(d) / np.sqrt(d)}


def logistic_numpy(X, t, w):
    p = sigmoid(X @ w)
    return X.T @ (X * (p * (1.0 - p))[:, None])


def logistic_loss(np_):
    softplus = jax.nn.softplus if np_ is jnp else torch.nn.functional.softplus
    return lambda X, t, w: np_.sum(softplus(X @ w) - t * (X @ w))


def lse_inputs(rng, m, n):
    return {"x": rng.standard_normal(n) / np.sqrt(n), "A": rng.standard_normal((m, n))}


def lse_numpy(x, A):
    s = A @ x
    p = np.exp(s - s.max())
    p /= p.sum()
    q = A.T @ p
    return A.T @ (A * p[:, None]) - np.outer(q, q)


def lse_loss(np_):
    if np_ is jnp:
        return lambda x, A: jax.scipy.special.logsumexp(A @ x)
    return lambda x, A: torch.logsumexp(A @ x, 0)


def poisson_inputs(rng, n, d):
    X = rng.standard_normal((n, d)) / np.sqrt(d)
    return {"X": X, "t": rng.poisson(1.0, n).astype(float), "w": 0.1 * rng.standard_normal(d)}


def poisson_numpy(X, t, w):
    mu = np.exp(X @ w)
    g = X.T @ (mu - t)
    H = X.T @ (X * mu[:, None])
    return np.linalg.solve(H, g)


def poisson_loss(np_):
    return lambda X, t, w: np_.sum(np_.exp(X @ w) - t * (X @ w))


def backprop_inputs(rng, K):
    return {"x": rng.standard_normal(K), "A": rng.standard_normal((K, K)), "B": rng.standard_normal((K, K))}


def backprop_loss(np_):
    sig = jax.nn.sigmoid if np_ is jnp else torch.sigmoid

    def f(x, A, B):
        w = A @ (A @ (sig(A @ x) * (B @ x)))
        return np_.sum(w * w)

    return f


WORKLOADS = [
    {
        "name": "xᵀAx Hessian n=2048",
        "kind": "hessian",
        "file": "bench/quadratic.mg",
        "wrt": "x",
        "dims": {"n": 2048},
        "small": {"n": 5},
        "inputs": lambda rng, n=2048: quadratic_inputs(rng, n),
        "order": ["x", "A"],
        "loss": quadratic_loss,
        "numpy": quadratic_numpy,
        "argnum": 0,
        "size": 2048**2,
    },
    {
        "name": "logistic Hessian 2048×256",
        "kind": "hessian",
        "file": "bench/logistic.mg",
        "wrt": "w",
        "dims": {"n": 2048, "d": 256},
        "small": {"n": 7, "d": 3},
        "inputs": lambda rng, n=2048, d=256: logistic_inputs(rng, n, d),
        "order": ["X", "t", "w"],
        "loss": logistic_loss,
        "numpy": logistic_numpy,
        "argnum": 2,
        "size": 256**2,
    },
    {
        "name": "logistic Hessian 10000×1000",
        "kind": "hessian",
        "file": "bench/logistic.mg",
        "wrt": "w",
        "dims": {"n": 10000, "d": 1000},
        "small": {"n": 7, "d": 3},
        "inputs": lambda rng, n=10000, d=1000: logistic_inputs(rng, n, d),
        "order": ["X", "t", "w"],
        "loss": logistic_loss,
        "numpy": logistic_numpy,
        "argnum": 2,
        "size": 1000**2,
    },
    {
        "name": "log-sum-exp Hessian 2048×512",
        "kind": "hessian",
        "file": "bench/logsumexp.mg",
        "wrt": "x",
        "dims": {"m": 2048, "n": 512},
        "small": {"m": 6, "n": 4},
        "inputs": lambda rng, m=2048, n=512: lse_inputs(rng, m, n),
        "order": ["x", "A"],
        "loss": lse_loss,
        "numpy": lse_numpy,
        "argnum": 0,
        "size": 512**2,
    },
    {
        "name": "Newton step, Poisson GLM 4096×512",
        "kind": "newton",
        "file": "bench/poisson.mg",
        "wrt": "w",
        "dims": {"n": 4096, "d": 512},
        "small": {"n": 9, "d": 3},
        "inputs": lambda rng, n=4096, d=512: poisson_inputs(rng, n, d),
        "order": ["X", "t", "w"],
        "loss": poisson_loss,
        "numpy": poisson_numpy,
        "argnum": 2,
        "size": 512**2,
    },
]
for K in (64, 256, 1024, 4096):
    WORKLOADS.append(
        {
            "name": f"HVP backprop K={K}",
            "kind": "hvp",
            "file": "examples/backprop.mg",
            "wrt": "A,B,x",
            "dims": {"K": K},
            "inputs": (lambda rng, K=K: backprop_inputs(rng, K)),
            "order": ["x", "A", "B"],
            "loss": backprop_loss,
            "numpy": None,
            "K": K,
            "size": 2 * K * K + K,
        }
    )


# ---------------------------------------------------------------------------------------
# The peers


def dims_text(dims):
    return ",".join(f"{k}={v}" for k, v in dims.items())


def run_matgrad(workload, budget, min_runs):
    command = [str(MATGRAD), "bench", workload["file"], "--wrt", workload["wrt"], "--dims", dims_text(workload["dims"])]
    command += [f"--{workload['kind']}", "--format", "json", "--time", str(budget), "--min-runs", str(min_runs)]
    out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    report = json.loads(out.stdout)
    return {**summary_of(report), "compile_ms": report["compile_ms"], "memory_bytes": report["memory_bytes"]}


def summary_of(report):
    return {k: report[k] for k in ("median_us", "min_us", "max_us", "runs")}


def jax_function(workload):
    """The jitted JAX call of the workload and its arguments (JAX arrays)."""
    loss = workload["loss"](jnp)
    if workload["kind"] == "hvp":
        grad = jax.grad(loss, argnums=(0, 1, 2))

        def hvp(primals, tangents):
            return jax.jvp(grad, primals, tangents)

        return jax.jit(hvp)
    i = workload["argnum"]
    hessian = jax.hessian(loss, argnums=i)
    if workload["kind"] == "newton":
        grad = jax.grad(loss, argnums=i)
        return jax.jit(lambda *args: jnp.linalg.solve(hessian(*args), grad(*args)))
    return jax.jit(hessian)


def jax_args(workload, inputs, rng):
    args = [jnp.asarray(inputs[name]) for name in workload["order"]]
    if workload["kind"] == "hvp":
        tangents = tuple(jnp.asarray(rng.standard_normal(np.shape(a))) for a in args)
        return (tuple(args), tangents)
    return tuple(args)


def run_jax(workload, budget, min_runs):
    rng = np.random.default_rng(0)
    args = jax_args(workload, workload["inputs"](rng), rng)
    f = jax_function(workload)
    start = time.perf_counter()
    jax.block_until_ready(f(*args))  # trace and compile, timed apart
    compile_ms = (time.perf_counter() - start) * 1e3
    call = lambda: jax.block_until_ready(f(*args))  # noqa: E731
    return {**summary(timed(call, budget, min_runs)), "compile_ms": compile_ms}


def run_numpy(workload, budget, min_runs):
    rng = np.random.default_rng(0)
    inputs = workload["inputs"](rng)
    args = [inputs[name] for name in workload["order"]]
    return summary(timed(lambda: workload["numpy"](*args), budget, min_runs))


def torch_function(workload):
    loss = workload["loss"](torch)
    if workload["kind"] == "hvp":
        grad = torch.func.grad(loss, argnums=(0, 1, 2))
        return lambda primals, tangents: torch.func.jvp(grad, primals, tangents)
    i = workload["argnum"]
    hessian = torch.func.hessian(loss, argnums=i)
    if workload["kind"] == "newton":
        grad = torch.func.grad(loss, argnums=i)
        return lambda *args: torch.linalg.solve(hessian(*args), grad(*args))
    return hessian


def torch_args(workload, inputs, rng):
    args = [torch.tensor(inputs[name], dtype=torch.float64) for name in workload["order"]]
    if workload["kind"] == "hvp":
        tangents = tuple(torch.tensor(rng.standard_normal(a.shape), dtype=torch.float64) for a in args)
        return (tuple(args), tangents)
    return tuple(args)


def run_torch(workload, budget, min_runs):
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    args = torch_args(workload, workload["inputs"](rng), rng)
    return summary(timed(lambda: torch_function(workload)(*args), budget, min_runs))


# ---------------------------------------------------------------------------------------
# Agreement, before any timing


def matgrad_hessian(workload, inputs):
    """matgrad's Hessian block (JAX's layout) at `inputs` (peers' layout) through the
    command, at a small size."""
    ours = {}
    for name, value in inputs.items():
        # matgrad's X is d × n (samples as columns): the peers' n × d array transposed.
        ours[name] = value.T.tolist() if name == "X" else value.tolist()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(ours, f)
    command = [str(MATGRAD), "hessian", workload["file"], "--wrt", workload["wrt"], "--inputs", f.name]
    out = subprocess.run(command + ["--format", "json"], cwd=ROOT, check=True, capture_output=True, text=True)
    os.unlink(f.name)
    wrt = workload["wrt"]
    return np.array(json.loads(out.stdout)["hessian"][wrt][wrt]["value"])


def check_agreement(workload):
    rng = np.random.default_rng(1)
    if workload["kind"] == "hvp":
        # Small K: JAX's products against torch's where importable; matgrad's products are
        # checked against its dense blocks and finite differences in the Rust tests.
        inputs = backprop_inputs(rng, 8)
        args = jax_args(workload, inputs, rng)
        grads, products = jax_function(workload)(*args)
        if torch is not None:
            rng = np.random.default_rng(1)
            targs = torch_args(workload, backprop_inputs(rng, 8), rng)
            _, theirs = torch_function(workload)(*targs)
            for a, b in zip(products, theirs):
                if not relative_difference(a, b.numpy()) < 1e-8:
                    raise SystemExit(f"{workload['name']}: JAX and PyTorch disagree")
        return
    # At the workload's own size: NumPy's closed form against JAX (and torch).
    inputs = workload["inputs"](rng)
    args = [inputs[name] for name in workload["order"]]
    mine = workload["numpy"](*args)
    theirs = np.asarray(jax_function(workload)(*[jnp.asarray(a) for a in args]))
    error = relative_difference(mine, theirs)
    if not error < 1e-8:
        raise SystemExit(f"{workload['name']}: NumPy and JAX disagree ({error:.1e})")
    if torch is not None:
        t = torch_function(workload)(*[torch.tensor(a, dtype=torch.float64) for a in args])
        if not relative_difference(mine, t.numpy()) < 1e-8:
            raise SystemExit(f"{workload['name']}: NumPy and PyTorch disagree")
    # matgrad's Hessian at a small size against JAX's.
    if workload["kind"] == "hessian":
        small = {k: v for k, v in workload["small"].items()}
        rng = np.random.default_rng(2)
        inputs = {
            "bench/quadratic.mg": lambda: quadratic_inputs(rng, small.get("n", 0)),
            "bench/logistic.mg": lambda: logistic_inputs(rng, small.get("n", 0), small.get("d", 0)),
            "bench/logsumexp.mg": lambda: lse_inputs(rng, small.get("m", 0), small.get("n", 0)),
        }[workload["file"]]()
        ours = matgrad_hessian(workload, inputs)
        theirs = np.asarray(jax_function(workload)(*[jnp.asarray(inputs[n]) for n in workload["order"]]))
        error = relative_difference(ours, theirs)
        if not error < 1e-8:
            raise SystemExit(f"{workload['name']}: matgrad and JAX disagree ({error:.1e})")


# ---------------------------------------------------------------------------------------
# The run


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short timings (a smoke test)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "hessian-results.md"))
    parser.add_argument("--only", metavar="TEXT", help="only the workloads whose name contains TEXT")
    args = parser.parse_args()
    if jax is None:
        raise SystemExit("JAX is not importable: run this through bench/hessian.sh")
    workloads = [w for w in WORKLOADS if not args.only or args.only in w["name"]]
    budget = 0.2 if args.quick else 1.5
    min_runs = 3 if args.quick else 10

    peers = ["matgrad", "jax"] + (["torch"] if torch else [])
    runners = {"matgrad": run_matgrad, "numpy": run_numpy, "jax": run_jax, "torch": run_torch}
    if torch is None:
        print("== PyTorch is not importable in bench/.venv: torch.func is not measured", flush=True)
    for workload in workloads:
        check_agreement(workload)
    print("== the peers agree (and matgrad's Hessians with JAX's at small sizes)", flush=True)

    results = {w["name"]: {} for w in workloads}
    for round_ in range(2):
        for workload in workloads:
            order = peers + (["numpy"] if workload["numpy"] else [])
            order = order if round_ == 0 else list(reversed(order))
            for peer in order:
                runs = min_runs if workload.get("K", 0) < 4096 and "10000" not in workload["name"] else 5
                r = runners[peer](workload, budget, runs)
                results[workload["name"]].setdefault(peer, []).append(r)
                print(f"round {round_ + 1} {workload['name']:<36} {peer:<8} {r['median_us']:>12.1f} µs", flush=True)

    report = render(workloads, results, peers)
    Path(args.out).write_text(report)
    print()
    print(report)


def render(workloads, results, peers):
    lines = ["# matgrad vs peers: Hessians, a Newton step and Hessian-vector products (f64, 2 threads)", ""]
    lines.append(f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    versions = [f"numpy {np.__version__}", f"jax {jax.__version__}"]
    versions.append("torch " + (torch.__version__ if torch else "not importable (torch.func not measured)"))
    lines.append(f"- peers: {', '.join(versions)}; python {platform.python_version()}")
    lines.append("- each cell: median µs of one call over both rounds; compile: ms, once (matgrad: differentiation and plan; JAX: trace and jit)")
    lines.append("")
    columns = ["matgrad", "jax"] + (["torch"] if torch else []) + ["numpy"]
    lines.append(
        "| workload | "
        + " | ".join(columns)
        + " | matgrad ÷ JAX speed-up | compile matgrad / JAX (ms) | memory ÷ result | noise (matgrad r1/r2) |"
    )
    lines.append("|" + "---|" * (len(columns) + 5))
    for workload in workloads:
        name = workload["name"]
        by = results[name]
        med = {p: statistics.median([r["median_us"] for r in runs]) for p, runs in by.items()}
        cells = " | ".join(f"{med[p]:.1f}" if p in med else "—" for p in columns)
        speedup = med["jax"] / med["matgrad"]
        compile_ms = (by["matgrad"][0]["compile_ms"], by["jax"][0]["compile_ms"])
        memory = by["matgrad"][0]["memory_bytes"] / (8 * workload["size"])
        rounds = " / ".join(f"{r['median_us']:.1f}" for r in by["matgrad"])
        lines.append(
            f"| {name} | {cells} | {speedup:.2f}× | {compile_ms[0]:.1f} / {compile_ms[1]:.1f} | {memory:.2f} | {rounds} |"
        )
    lines.append("")
    lines.append(
        "memory ÷ result: the bytes of matgrad's outputs and intermediates (the plan's buffers) over the bytes "
        "of the result (the Hessian; for an HVP, v's size)."
    )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
