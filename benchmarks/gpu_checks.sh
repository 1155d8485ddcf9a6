#!/usr/bin/env bash
# The checks to run on a machine with a GPU, in one go: both benchmarks (which write their
# "… on GPU" sections of docs/benchmarks.md), then the test suite. Logs and the updated
# docs/benchmarks.md go to $OUT (default /tmp/gpu_checks). Uses the machine's own python3
# with jax[cuda], optax, chex, hypothesis, matplotlib, tqdm and pytest-xdist installed; the package is
# taken from this checkout (PYTHONPATH), nothing is installed.
#
#   bash benchmarks/gpu_checks.sh            # all of it
#   SKIP_TESTS=1 bash benchmarks/gpu_checks.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_checks}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MPLBACKEND=Agg
PY=${PYTHON:-python3}

nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv 2>&1 | tee "$OUT/machine.txt"
$PY -c "import jax, optax; print('jax', jax.__version__, 'optax', optax.__version__, jax.devices())" 2>&1 | tee -a "$OUT/machine.txt"

timeout "${SWEEP_S:-240}" $PY benchmarks/bench_sweep.py --write --repeats "${REPEATS:-3}" 2>&1 | tee "$OUT/bench_sweep.log"
timeout "${LOOP_S:-150}" $PY benchmarks/bench_loop.py --write --quick --repeats "${REPEATS:-3}" --first-repeats 1 2>&1 | tee "$OUT/bench_loop.log"
cp docs/benchmarks.md "$OUT/benchmarks.md"

if [ -z "${SKIP_TESTS:-}" ]; then
  # one process per few cores; each leaves the GPU's memory to the others
  XLA_PYTHON_CLIENT_PREALLOCATE=false timeout "${TESTS_S:-240}" $PY -m pytest -q -p no:cacheprovider \
    -n "${WORKERS:-6}" --durations=15 -rfE 2>&1 | tee "$OUT/tests.log"
fi
