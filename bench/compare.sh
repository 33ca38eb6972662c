#!/usr/bin/env bash
# The side-by-side benchmark of bench/README.md: matgrad vs JAX, NumPy and PyTorch (if it is
# installed in the venv) on the three workloads, f64, 2 threads; writes bench/results.md.
#
#   bench/compare.sh                 # the full run (a few minutes, plus the first venv setup)
#   bench/compare.sh --quick         # short timings, to check that everything runs
#   bench/compare.sh --with-torch    # first install PyTorch into the venv (~5 GB from PyPI)
#
# Installs nothing globally: the Python peers live in bench/.venv (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=bench/.venv
if [ ! -x "$venv/bin/python" ]; then
    echo "== creating $venv (numpy, jax[cpu])"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet numpy 'jax[cpu]'
fi

# PyTorch is opt-in: PyPI's Linux wheel is the CUDA build, about 5 GB with its `nvidia-*`
# dependencies (it runs on the CPU all the same).
args=()
for arg in "$@"; do
    if [ "$arg" = --with-torch ]; then
        if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
            echo "== installing torch into $venv"
            "$venv/bin/pip" install --quiet torch
        fi
    else
        args+=("$arg")
    fi
done

echo "== building matgrad (release)"
cargo build --release --quiet -p matgrad-cli

# Two threads everywhere: the machine has two cores, and every peer gets the same.
export RAYON_NUM_THREADS=2
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
export XLA_FLAGS="--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2"
export JAX_PLATFORMS=cpu

echo "== running (two rounds; each line is one measurement)"
"$venv/bin/python" bench/peers.py ${args[@]+"${args[@]}"}
