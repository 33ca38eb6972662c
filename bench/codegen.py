"""The generated code's benchmark: the modules `matgrad codegen` writes, timed side by side
with what a person writes by hand, on the workloads of `peers.py`, f64, in one run.

- NumPy: the generated `value_and_grad` against the closed form written by hand in
  `peers.py` (target: within 1.1× of it, or faster).
- JAX: the generated `value_and_grad` under `jax.jit` against
  `jax.jit(jax.value_and_grad(f))` of the loss (target: as fast or faster).

Run it through `bench/codegen.sh`, which sets up the environment (venv, two threads) and
writes the modules. Each figure is the median wall time of one call producing the value and
the gradients, warm-up and compilation excluded, in eight short rounds (alternate ones in
reverse order); a ratio is taken within each round, and the median of the rounds' reported.
"""

import argparse
import importlib.util
import os
import platform
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402  (the workloads, the hand-written NumPy and the JAX losses)

jax, jnp = peers.jax, peers.jnp
ROOT = peers.ROOT
WORKLOADS = [
    w
    for w in peers.WORKLOADS
    if w.get("K") in (64, 256, 1024) or not w["group"].startswith("1")
]


def module(workload, target, directory):
    """The module `matgrad codegen` wrote for `workload` and `target` (see codegen.sh)."""
    stem = Path(workload["file"]).stem.replace("logistic", "logistic_rows")
    path = Path(directory) / f"{stem}_{target}.py"
    spec = importlib.util.spec_from_file_location(f"{stem}_{target}", path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def arguments(workload, seed):
    """The peers' inputs in the program's order (the logistic workload's program for the
    generated code, `logistic_rows.mg`, holds X as the peers do, n × d)."""
    inputs = workload["inputs"](np.random.default_rng(seed))
    ordered = [inputs[name] for name in workload["order"]]
    return ordered, ordered


def check(workload, generated_numpy, generated_jax):
    """The generated modules compute what JAX's autodiff computes (value and gradients in
    --wrt order), to 1e-8 relative: a guard against timing different work."""
    ordered, generated = arguments(workload, 1)
    autodiff = jax.jit(jax.value_and_grad(workload["jax"], argnums=workload["argnums"]))
    value, grads = autodiff(*[jnp.asarray(a) for a in ordered])
    by_name = dict(zip([workload["order"][i] for i in workload["argnums"]], grads))
    expected = [value] + [by_name[name] for name in workload["wrt"].split(",")]
    for label, module_ in (("numpy", generated_numpy), ("jax", generated_jax)):
        args = generated if label == "numpy" else [jnp.asarray(a) for a in generated]
        got_value, got_grads = module_.value_and_grad(*args)
        for a, b in zip([got_value, *got_grads], expected, strict=True):
            error = peers.relative_difference(np.asarray(a), np.asarray(b))
            if not error < 1e-8:
                raise SystemExit(f"{workload['name']}: generated {label} disagrees with JAX ({error:.1e})")


def runners(workload, directory):
    """The four calls timed for `workload`, each producing the value and the gradients."""
    ordered, generated = arguments(workload, 0)
    generated_numpy = module(workload, "numpy", directory)
    generated_jax = module(workload, "jax", directory)
    check(workload, generated_numpy, generated_jax)
    autodiff = jax.jit(jax.value_and_grad(workload["jax"], argnums=workload["argnums"]))
    jitted = jax.jit(generated_jax.value_and_grad)
    autodiff_args = [jnp.asarray(a) for a in ordered]
    jitted_args = [jnp.asarray(a) for a in generated]
    calls = {
        "numpy (hand)": lambda: workload["numpy"](*ordered),
        "numpy (generated)": lambda: generated_numpy.value_and_grad(*generated),
        "jax (jit ∘ value_and_grad)": lambda: jax.block_until_ready(autodiff(*autodiff_args)),
        "jax (generated, jit)": lambda: jax.block_until_ready(jitted(*jitted_args)),
    }
    calls["jax (jit ∘ value_and_grad)"]()  # compilation, excluded
    calls["jax (generated, jit)"]()
    return calls


COLUMNS = ["numpy (hand)", "numpy (generated)", "jax (jit ∘ value_and_grad)", "jax (generated, jit)"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("modules", help="the directory of the generated modules")
    parser.add_argument("--quick", action="store_true", help="short timings (a smoke test)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "codegen_results.md"))
    parser.add_argument("--only", metavar="TEXT", help="only the workloads whose name contains TEXT")
    args = parser.parse_args()
    workloads = [w for w in WORKLOADS if not args.only or args.only in w["name"]]
    # Many short rounds, each timing the four calls back to back (in alternating order), and
    # ratios taken within a round: this machine's speed drifts by a third over minutes, which
    # two long rounds compared across time did not survive.
    budget = 0.2 if args.quick else 0.4
    min_runs = 3 if args.quick else 10
    rounds = 2 if args.quick else 8
    calls = {w["name"]: runners(w, args.modules) for w in workloads}
    results = {w["name"]: {c: [] for c in COLUMNS} for w in workloads}
    for round_ in range(rounds):
        for workload in workloads:
            order = COLUMNS if round_ % 2 == 0 else list(reversed(COLUMNS))
            for column in order:
                r = peers.summary(peers.timed(calls[workload["name"]][column], budget, min_runs))
                results[workload["name"]][column].append(r["median_us"])
                print(f"round {round_ + 1} {workload['name']:<24} {column:<28} {r['median_us']:>12.1f} µs", flush=True)
    report = render(results)
    Path(args.out).write_text(report)
    print()
    print(report)


def ratios(by_column, a, b):
    """Column a over column b, round by round."""
    return [x / y for x, y in zip(by_column[a], by_column[b], strict=True)]


def spread(values):
    return f"{min(values):.2f}–{max(values):.2f}×"


def render(results):
    lines = [
        "# Generated code vs hand-written: value and gradient, median µs per call (f64, 2 threads)",
        "",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        f"- numpy {np.__version__}, jax {jax.__version__}; python {platform.python_version()}",
        "- each time: the median over the rounds of each round's median; each ratio: the median of",
        "  the rounds' ratios (both calls timed side by side in one round), with the rounds' range",
        "",
        "| workload | NumPy by hand | NumPy generated | generated ÷ hand | JAX jit(value_and_grad) | JAX generated, jit | generated ÷ autodiff | rounds' range (NumPy) | rounds' range (JAX) |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, by_column in results.items():
        m = {c: statistics.median(v) for c, v in by_column.items()}
        numpy_ratios = ratios(by_column, "numpy (generated)", "numpy (hand)")
        jax_ratios = ratios(by_column, "jax (generated, jit)", "jax (jit ∘ value_and_grad)")
        lines.append(
            f"| {name} | {m['numpy (hand)']:.1f} | {m['numpy (generated)']:.1f} | {statistics.median(numpy_ratios):.2f}× "
            f"| {m['jax (jit ∘ value_and_grad)']:.1f} | {m['jax (generated, jit)']:.1f} | {statistics.median(jax_ratios):.2f}× "
            f"| {spread(numpy_ratios)} | {spread(jax_ratios)} |"
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
