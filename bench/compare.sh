#!/usr/bin/env bash
# The side-by-side benchmark of bench/README.md: matgrad vs JAX and NumPy (PyTorch if it is
# installed in the venv) on the three workloads, f64, 2 threads; writes bench/results.md.
#
#   bench/compare.sh            # the full run (a few minutes, plus the first venv setup)
#   bench/compare.sh --quick    # short timings, to check that everything runs
#
# Installs nothing globally: the Python peers live in bench/.venv (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=bench/.venv
if [ ! -x "$venv/bin/python" ]; then
    echo "== creating $venv (numpy, jax[cpu])"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    # PyTorch is not installed: PyPI's Linux wheel is the CUDA build (~5 GB with its
    # dependencies); `$venv/bin/pip install torch` adds it to the comparison if wanted.
    "$venv/bin/pip" install --quiet numpy 'jax[cpu]'
fi

echo "== building matgrad (release)"
cargo build --release --quiet -p matgrad-cli

# Two threads everywhere: the machine has two cores, and every peer gets the same.
export RAYON_NUM_THREADS=2
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
export XLA_FLAGS="--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2"
export JAX_PLATFORMS=cpu

echo "== running (two rounds; each line is one measurement)"
"$venv/bin/python" bench/peers.py "$@"
