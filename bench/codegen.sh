#!/usr/bin/env bash
# The generated code's benchmark of bench/README.md: the modules `matgrad codegen` writes
# (NumPy, and JAX under jax.jit) against the NumPy written by hand in peers.py and JAX's
# jit(value_and_grad), on the same workloads, f64, 2 threads; writes bench/codegen_results.md.
#
#   bench/codegen.sh                 # the full run (about 3 minutes)
#   bench/codegen.sh --quick         # short timings, to check that everything runs
#   bench/codegen.sh --only K=1024   # one workload
#
# Installs nothing globally: the Python peers live in bench/.venv (gitignored), as for
# compare.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=bench/.venv
if [ ! -x "$venv/bin/python" ]; then
    echo "== creating $venv (numpy, jax[cpu])"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet numpy 'jax[cpu]'
fi

# Only the code generator runs here, not matgrad's evaluation, so any build will do.
echo "== building matgrad"
cargo build --quiet -p matgrad-cli
matgrad="${CARGO_TARGET_DIR:-target}/debug/matgrad"

modules="${CARGO_TARGET_DIR:-target}/bench-codegen"
mkdir -p "$modules"
echo "== writing the modules into $modules"
for workload in "examples/backprop.mg A,B,x" "bench/mlp.mg W1,W2,W3,W4" "bench/logistic_rows.mg w"; do
    read -r file wrt <<<"$workload"
    stem="$(basename "$file" .mg)"
    for target in numpy jax; do
        "$matgrad" codegen "$file" --target "$target" --wrt "$wrt" -o "$modules/${stem}_$target.py"
    done
done

# Two threads everywhere: the machine has two cores, and every peer gets the same.
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
export XLA_FLAGS="--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2"
export JAX_PLATFORMS=cpu

echo "== running (eight short rounds; each line is one measurement)"
"$venv/bin/python" bench/codegen.py "$modules" "$@"
