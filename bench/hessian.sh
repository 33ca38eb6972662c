#!/usr/bin/env bash
# The second-order benchmark of bench/README.md: matgrad's compiled Hessians, Newton step and
# Hessian-vector products vs jax.hessian / jax.jvp(jax.grad) (jit), NumPy's closed forms and
# torch.func (only if PyTorch is importable in the venv), f64, 2 threads; writes
# bench/hessian-results.md.
#
#   bench/hessian.sh                 # the full run (a few minutes, plus the first venv setup)
#   bench/hessian.sh --quick         # short timings, to check that everything runs
#   bench/hessian.sh --only HVP      # the workloads whose name contains the text
#
# Installs nothing globally: the Python peers live in bench/.venv (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=bench/.venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import numpy, jax" 2>/dev/null; then
    echo "== creating $venv (numpy, jax[cpu])"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet numpy 'jax[cpu]'
fi

echo "== building matgrad (release)"
cargo build --release --quiet -p matgrad-cli

# Two threads everywhere: the machine has two cores, and every peer gets the same.
export RAYON_NUM_THREADS=2
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
export XLA_FLAGS="--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2"
export JAX_PLATFORMS=cpu

echo "== running (agreement first, then two rounds; each line is one measurement)"
"$venv/bin/python" bench/hessian.py "$@"
