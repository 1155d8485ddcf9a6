"""Benchmark: ``jh.run`` against a Python loop over a jitted optax step and a NumPy loop.

All three train Adam (α = 0.01) with batches of 32 on the homework's medium (10 000, 5)
and large (150 000, 7) problems, side by side in one invocation:

1. ``jh.run``: the whole run is one compiled program that logs the full-data loss after
   every step (with ``‖w − w*‖``, the gradient norm and the batch error).
2. A Python loop over a ``jax.jit``-compiled ``optax.adam`` step: a NumPy permutation per
   epoch, batches sliced on the host (the last partial batch of an epoch dropped, so the
   step never recompiles), the full-data loss computed in the jitted step.
3. A NumPy loop in the homework notebook's style: ``np.random.permutation`` per epoch,
   ``X[p]`` copies, the batch gradient ``2 Xbᵀ(Xb w − yb)/B``, the Adam update,
   ``w_history.append`` and ``error.append`` (the batch's mean absolute error), float64.

Steady-state times are medians over repeats in one process. "First call" times are
medians over fresh processes (each builds the problem, untimed, then times its first
call), so they include tracing and XLA compilation; the compile overhead is the first
call minus the steady state.

Usage::

    python benchmarks/bench_loop.py            # print the markdown section
    python benchmarks/bench_loop.py --write    # also replace it in docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Training loop (`jh.run`)"
SIZES = {"medium": (10_000, 5), "large": (150_000, 7)}
BATCH, LR, SHORT, LONG = 32, 1e-2, 1_000, 100_000


# --------------------------------------------------------------------------- the three loops


def numpy_homework(X, y, steps, batch_size=BATCH, lr=LR, b1=0.9, b2=0.999, eps=1e-8, seed=0):
    """The homework notebook's loop: a fresh permutation and copy of the data per epoch."""
    rng = np.random.default_rng(seed)
    n, d = X.shape
    w = rng.standard_normal(d)
    m, v = np.zeros(d), np.zeros(d)
    w_history, error = [w.copy()], []
    t = 0
    while t < steps:
        p = np.random.permutation(n)
        X_perm, y_perm = X[p], y[p]
        for start in range(0, n, batch_size):
            if t == steps:
                break
            X_batch, y_batch = (
                X_perm[start : start + batch_size],
                y_perm[start : start + batch_size],
            )
            residual = X_batch @ w - y_batch
            gradient = 2 * X_batch.T @ residual / len(y_batch)
            t += 1
            m = b1 * m + (1 - b1) * gradient
            v = b2 * v + (1 - b2) * gradient**2
            m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
            w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
            w_history.append(w.copy())
            error.append(np.mean(np.abs(residual)))
    return w, w_history, error


def make_optax_loop(prob):
    """A Python loop over a jitted optax.adam step (the usual hand-written JAX loop)."""
    import jax
    import jax.numpy as jnp
    import optax

    tx = optax.adam(LR)

    @jax.jit
    def step(w, state, X_batch, y_batch, X, y):
        grads = jax.grad(lambda w: jnp.mean(jnp.square(X_batch @ w - y_batch)))(w)
        updates, state = tx.update(grads, state, w)
        w = optax.apply_updates(w, updates)
        return w, state, jnp.mean(jnp.square(X @ w - y))

    X_host, y_host = np.asarray(prob.X), np.asarray(prob.y)

    def train(steps, seed=0):
        rng = np.random.default_rng(seed)
        w = prob.init_params(seed)
        state = tx.init(w)
        losses, t = [], 0
        while t < steps:
            p = rng.permutation(len(y_host))
            X_perm, y_perm = X_host[p], y_host[p]
            for start in range(0, len(y_host) - BATCH + 1, BATCH):
                if t == steps:
                    break
                w, state, loss = step(
                    w,
                    state,
                    X_perm[start : start + BATCH],
                    y_perm[start : start + BATCH],
                    prob.X,
                    prob.y,
                )
                losses.append(loss)
                t += 1
        return np.asarray(jnp.stack(losses)), w

    return train


def run_jh(prob, steps, seed=0):
    import jaxopt_hw as jh

    trace = jh.run(prob, _ADAM, steps=steps, batch_size=BATCH, seed=seed)
    return np.asarray(trace.loss)


_ADAM = None


def problem(size):
    global _ADAM
    import jax

    import jaxopt_hw as jh

    if _ADAM is None:
        _ADAM = jh.adam(LR)
    prob = jh.homework_problem(size)
    jax.block_until_ready(prob.X)
    return prob


# --------------------------------------------------------------------------- measurements


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def first_call_child(method, size, steps):
    """Runs in a fresh process: build the problem (untimed), then time the first call."""
    prob = problem(size)
    if method == "run":
        seconds, _ = timed(run_jh, prob, steps)
    elif method == "optax":
        train = make_optax_loop(prob)
        seconds, _ = timed(train, steps)
    elif method == "stages":  # where jh.run's first call goes
        import jax

        from jaxopt_hw import loop

        recipe, hyperparameters = loop.traced_hyperparameters(_ADAM, prob.X.dtype)
        args = (
            prob.data,
            prob.aux,
            *loop.problem_optimum(prob),
            prob.initial_params(0),
            loop.host_shuffle_words(0),
            1e6,
            hyperparameters,
        )
        static = dict(
            fns=loop.ProblemFns.of(prob),
            tx=None if recipe else _ADAM,
            recipe=recipe,
            steps=steps,
            batch_size=BATCH,
            log_every=1,
            record_params=False,
        )
        t0 = time.perf_counter()
        traced = loop.run_program(jax.default_backend()).trace(*args, **static)
        t1 = time.perf_counter()
        lowered = traced.lower()
        t2 = time.perf_counter()
        compiled = lowered.compile()
        t3 = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        t4 = time.perf_counter()
        seconds = {"trace": t1 - t0, "lower": t2 - t1, "compile": t3 - t2, "execute": t4 - t3}
    else:
        raise ValueError(method)
    print(json.dumps(seconds))


def first_call(method, size, steps, repeats, cache_dir=None):
    """Median over fresh processes; with ``cache_dir``, JAX's persistent compilation cache
    is on there and one untimed process fills it first."""
    env = dict(os.environ)
    if cache_dir is not None:
        env.update(
            JAX_COMPILATION_CACHE_DIR=str(cache_dir),
            JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
            JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0",
        )
    command = [sys.executable, __file__, "--first-call", method, size, str(steps)]
    if cache_dir is not None:
        subprocess.run(command, check=True, capture_output=True, env=env, cwd=ROOT)
    results = []
    for _ in range(repeats):
        out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT, env=env)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if isinstance(results[0], dict):
        return {key: statistics.median(r[key] for r in results) for key in results[0]}
    return statistics.median(results)


def steady(fn, repeats, *args):
    fn(*args)  # warm up (compiles)
    times, out = [], None
    for _ in range(repeats):
        seconds, out = timed(fn, *args)
        times.append(seconds)
    return statistics.median(times), out


def interleaved(methods, repeats):
    """Median seconds of each ``name: fn`` (each called once before, to compile), timed
    in turns, one call of each per round, so that a slow spell of the machine weighs on
    all of them alike; and each method's last output. (Not for calls of a millisecond or
    two: after another method's call XLA's threads wake up cold, which doubled `jh.run`'s
    1 000-step time in turns with NumPy.)"""
    outs, times = {}, {name: [] for name in methods}
    for _ in range(repeats):
        for name, fn in methods.items():
            seconds, outs[name] = timed(fn)
            times[name].append(seconds)
    return {name: statistics.median(t) for name, t in times.items()}, outs


def machine():
    from jaxopt_hw.studies import machine_description

    return machine_description()


def measure(repeats, first_repeats, quick):
    rows = {}
    for size in SIZES:
        prob = problem(size)
        X64, y64 = np.asarray(prob.X, np.float64), np.asarray(prob.y, np.float64)
        train_optax = make_optax_loop(prob)
        r = {}
        r["run_steady"], losses = steady(run_jh, repeats * 3, prob, SHORT)
        r["run_loss"] = float(losses[-1])
        r["optax_steady"], (losses, _) = steady(train_optax, repeats, SHORT)
        r["optax_loss"] = float(losses[-1])
        r["numpy_steady"], (w, _, _) = steady(numpy_homework, repeats, X64, y64, SHORT)
        r["numpy_loss"] = float(np.mean((X64 @ w - y64) ** 2))
        if quick:
            r["numpy_long"] = (
                10 * steady(numpy_homework, max(1, repeats // 2), X64, y64, LONG // 10)[0]
            )
        else:
            r["numpy_long"] = steady(numpy_homework, max(1, repeats // 2), X64, y64, LONG)[0]
        r["run_long_steady"] = steady(run_jh, max(1, repeats // 2), prob, LONG)[0]
        r["run_first_short"] = first_call("run", size, SHORT, first_repeats)
        r["optax_first_short"] = first_call("optax", size, SHORT, first_repeats)
        r["run_first_long"] = first_call("run", size, LONG, first_repeats)
        with tempfile.TemporaryDirectory() as cache_dir:
            r["run_first_long_cached"] = first_call("run", size, LONG, first_repeats, cache_dir)
        r["stages_long"] = first_call("stages", size, LONG, first_repeats)
        rows[size] = r
        print(f"[{size}] done", file=sys.stderr)
    return rows


# --------------------------------------------------------------------------- the report


def _ratio(value):
    return f"{value:.1f}×" if value >= 1 else f"{value:.2g}×"


def report(rows, quick, load):
    out = [titled(SECTION), ""]
    out.append(
        f"`python benchmarks/bench_loop.py` ({datetime.date.today().isoformat()}): Adam (α = 0.01), batch {BATCH}, "
        "float32 for JAX, float64 for NumPy; on "
        + machine()
        + f". Load average before/after: {load[0]:.2f}/{load[1]:.2f}."
    )
    out.append("")
    out.append(
        "* **`jh.run`**: one compiled program; logs the full-data loss (and ‖w − w*‖, the gradient norm, "
        "the batch error) after **every** step.\n"
        "* **jitted optax loop**: a Python loop over a `jax.jit` step of `optax.adam` that also computes the "
        "full-data loss; NumPy permutation per epoch, batches sliced on the host.\n"
        "* **NumPy (homework style)**: `np.random.permutation` and `X[p]` per epoch, gradient "
        "`2 Xbᵀ(Xb w − yb)/B`, Adam, `w_history.append`, `error.append` (batch mean absolute error)."
    )
    out.append("")
    out.append(
        f"Steady state at {SHORT:,} steps (median of consecutive repeats in one process; compile excluded). "
        "*First-call overhead* = first call in a fresh process (problem already built) minus the steady state: "
        "tracing + XLA compilation."
    )
    out.append("")
    out.append(
        "| problem (n, d) | method | 10³ steps (ms) | steps/s | first-call overhead (s) | loss after 10³ steps | speed-up vs NumPy |"
    )
    out.append("|---|---|---:|---:|---:|---:|---:|")
    for size, r in rows.items():
        n, d = SIZES[size]
        label = f"{size} ({n:,}, {d})"
        for name, key, first in (
            ("`jh.run`", "run", "run_first_short"),
            ("jitted optax loop", "optax", "optax_first_short"),
            ("NumPy (homework)", "numpy", None),
        ):
            seconds = r[f"{key}_steady"]
            overhead = f"{r[first] - seconds:.2f}" if first else "–"
            out.append(
                f"| {label} | {name} | {1e3 * seconds:.1f} | {SHORT / seconds:,.0f} | {overhead} | "
                f"{r[f'{key}_loss']:.3g} | {_ratio(r['numpy_steady'] / seconds)} |"
            )
    out.append("")
    numpy_note = " (extrapolated: 10 × a measured 10⁴-step run)" if quick else " (measured)"
    out.append(
        f"At {LONG:,} steps, `jh.run`'s **first call** (compilation included, fresh process) against NumPy{numpy_note}:"
    )
    out.append("")
    out.append(
        "| problem | NumPy (s) | `jh.run` first call (s) | of which trace + lower / XLA compile / run (s) | speed-up incl. compile | `jh.run` steady (s) | speed-up excl. compile | first call, compilation cache warm (s) | speed-up, cache warm |"
    )
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, r in rows.items():
        st, numpy_long = r["stages_long"], r["numpy_long"]
        out.append(
            f"| {size} | {numpy_long:.2f} | {r['run_first_long']:.2f} | {st['trace'] + st['lower']:.2f} / {st['compile']:.2f} / "
            f"{st['execute']:.2f} | **{numpy_long / r['run_first_long']:.1f}×** | {r['run_long_steady']:.3f} | "
            f"{numpy_long / r['run_long_steady']:.1f}× | {r['run_first_long_cached']:.2f} | {numpy_long / r['run_first_long_cached']:.1f}× |"
        )
    out.append("")
    out.append(
        "*Cache warm*: a fresh process with JAX's persistent compilation cache "
        "(`JAX_COMPILATION_CACHE_DIR`, thresholds set to 0) filled by an earlier process; "
        "`jh.run` does not turn the cache on by itself; the `jaxopt-hw` command does."
    )
    out.append("")
    checks = []
    for size, r in rows.items():
        excl = r["numpy_steady"] / r["run_steady"]
        incl = r["numpy_long"] / r["run_first_long"]
        checks.append(
            f"{size}: {excl:.1f}× compile excluded ({'met' if excl >= 10 else 'missed'}), "
            f"{incl:.1f}× with compile at 10⁵ steps ({'met' if incl >= 3 else 'missed'})"
        )
    out.append(
        "Targets (≥ 10× NumPy compile excluded; ≥ 3× including compile at 10⁵ steps): "
        + "; ".join(checks)
        + "."
    )
    out.append("")
    out.append(NOTES if titled(SECTION) == SECTION else NOTES_GPU)
    return "\n".join(out) + "\n"


NOTES_GPU = """On the GPU one run is latency-bound: each step is a few dependent kernel launches,
≈ 10 µs against 1–3 µs for the whole step on the 2-core CPU above, so a single small run
is faster on a CPU. The GPU pays off when a step serves many configs (`jh.sweep`, the
section above).
"""

NOTES = """Where the time goes (profiled while optimising `jaxopt_hw/loop.py` on the 2-core Intel
Xeon these figures came from until 2026-11-25; before those changes `jh.run` took 3.0 ms (medium) and 9.0 ms (large) per 10³ steps,
about 4× and 2× NumPy, and its first call about 0.65 s):

* **Thread-pool hand-offs.** XLA:CPU splits a kernel it deems expensive over its thread
  pool and judges a gather by the size of the array gathered *from*: the 32-row gather
  from the 150 000-row data was split in two every step (with batch indices precomputed,
  a step took 5.4 µs on two cores and 1.0 µs pinned to one), and so were the shuffle's
  hash kernels over large blocks. The loop now draws the rows of ~64 steps at once, in
  pieces of ≤ 512 rows written in place into the block (never split), and each step
  slices its batch off the block.
* **Cycle-walking.** The shuffle was a Feistel bijection on `[0, 2^k)`: ~40 % of the draws
  walked again inside a `while_loop`. It is now a Feistel bijection on mixed radices,
  `[0, a·b)` with `a·b = n` when `n` has a divisor `a ≥ 16` in `[√n/2, √n]` (no walks; both
  homework sizes) and `a = b = ⌈√n⌉` otherwise (a point walks with probability < 2/√n).
* **Kernel count.** A step of these tiny problems costs what its ~18 kernels cost to
  launch (~1 µs): `X @ w` for d ≤ 32 is written as multiply-and-sum, fused with its
  neighbours instead of a matrix–vector call (~15 %), and the five logged metrics are
  written as one vector. Unrolling the scan by 2 would buy another 10 % for +0.05 s of
  compilation (not done).
* **First call.** The initial point is drawn on the host (NumPy, keyed by the seed):
  drawing it inside the program cost ~0.08 s of XLA compilation (threefry and erfinv
  kernels). The shuffle's hash is written in `lax` primitives, which trace and lower
  ~4× faster than `jnp` operators, and the least-squares batch gradient is written out
  (`2/B · Xᵀr`, the arithmetic `jax.grad` gives) instead of traced through autodiff
  (train step traced in 24 ms instead of 34). XLA:CPU's legacy fusion emitters compile
  the program in ~0.2 s instead of ~0.45 s at the same speed, and splitting LLVM's code
  generation into two modules (`xla_cpu_parallel_codegen_split_count=2`, one per core)
  takes ~0.03 s off that (0.22 → 0.19 s, medians of 4 fresh processes each). What
  remains is tracing + lowering (Python, ~0.08 s), XLA's code generation for ~50 small
  kernels (~0.19 s) and the run. NumPy's own time varies between runs (1.2–1.8 s at
  10⁵ steps); with JAX's persistent compilation cache warm (last column) the first call
  is about twice as fast.
"""


def titled(section):
    """``section``'s heading for the backend measured on: CPU and GPU figures stand side
    by side in docs/benchmarks.md, each under its own heading."""
    import jax

    backend = jax.default_backend()
    return section if backend == "cpu" else f"{section} on {backend.upper()}"


def write_section(text, section=SECTION):
    """Replaces the section headed ``section`` of docs/benchmarks.md by ``text`` (or
    appends it), leaving the other sections as they are."""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    if DOC.exists():
        doc = DOC.read_text()
        pattern = re.compile("^" + re.escape(section) + r"$.*?(?=^## |\Z)", re.S | re.M)
        doc = (
            pattern.sub(lambda _: text + "\n", doc, count=1)
            if pattern.search(doc)
            else doc.rstrip() + "\n\n" + text
        )
    else:
        doc = "# Benchmarks\n\n" + text
    DOC.write_text(doc)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--write", action="store_true", help="replace the loop section of docs/benchmarks.md"
    )
    parser.add_argument("--repeats", type=int, default=5, help="repeats for steady-state medians")
    parser.add_argument(
        "--first-repeats", type=int, default=3, help="fresh processes per first-call median"
    )
    parser.add_argument(
        "--quick", action="store_true", help="NumPy at 10^5 steps extrapolated from 10^4"
    )
    parser.add_argument(
        "--first-call", nargs=3, metavar=("METHOD", "SIZE", "STEPS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.first_call:
        method, size, steps = args.first_call
        first_call_child(method, size, int(steps))
        return
    load_before = os.getloadavg()[0]
    rows = measure(args.repeats, args.first_repeats, args.quick)
    text = report(rows, args.quick, (load_before, os.getloadavg()[0]))
    print(text)
    if args.write:
        write_section(text, titled(SECTION))
        print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
