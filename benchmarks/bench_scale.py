"""Benchmark: ``jh.sweep`` with its default chunks from 1 024 to 1 048 576 Adam configs.

Every method trains Adam (β2 = 0.999) for 1 000 steps with batches of 32 on the homework's
medium problem, ``jh.linear_regression(10_000, 5)``, over a grid of learning rates × β1
(log-spaced 0.001…0.3 × 0.5…0.99, as close to square as a power of two allows), side by
side in one run:

1. ``jh.sweep`` as a user calls it: no ``chunk_size`` or ``memory_budget``, final metrics
   only (``log_every=1000``), on all devices, the CPU's cores presented as devices
   (``jh.use_cpu_cores()``, unless ``JAX_NUM_CPU_DEVICES`` is set), and on one device
   (``devices=jax.devices()[:1]``). The chunk size it derives is shown.
2. (c) The expert's hand-written ``jax.jit(jax.vmap(lax.scan))`` over
   ``optax.inject_hyperparams(optax.adam)`` from ``bench_sweep.py``, the whole grid in one
   call, on the default device, where it fits (up to 131 072 configs).

Rates are config-steps per second (configs × steps ÷ seconds of a whole call, host work
included); steady-state times are medians over repeats, the methods of a size timed in
turns, and the first call's extra time (tracing + XLA compilation) is shown apart.

Usage::

    python benchmarks/bench_scale.py            # print the markdown section
    python benchmarks/bench_scale.py --write    # also replace it in docs/benchmarks.md
    python benchmarks/bench_scale.py --quick    # a smoke test: 50 steps, up to 131 072 configs
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import sys

import numpy as np
from bench_loop import interleaved, machine, timed, titled, write_section
from bench_sweep import make_expert

SECTION = "## Sweeps at scale (`jh.sweep`, default chunks)"
N, D, BATCH = 10_000, 5, 32
SIZES, QUICK_SIZES = (1_024, 16_384, 131_072, 1_048_576), (1_024, 16_384, 131_072)
STEPS, QUICK_STEPS = 1_000, 50
EXPERT_MAX = 131_072  # the expert's one call holds every config's state and batch products at once
#: Seconds of timed calls each method gets at least: the median of three 25 ms calls moves
#: by a third with the shared machine's phases, that of forty by a few percent.
TIMED_SECONDS, MAX_REPEATS = 1.0, 50


# --------------------------------------------------------------------------- the methods


def axes(n_configs):
    """Learning rates and β1 values whose grid has ``n_configs`` configs."""
    side = 2 ** math.ceil(math.log2(n_configs) / 2)
    return np.geomspace(1e-3, 0.3, side), np.linspace(0.5, 0.99, n_configs // side)


def make_sweep(prob, n_configs, steps, devices):
    """The default ``jh.sweep`` call over ``n_configs`` configs; returns its result."""
    import jaxopt_hw as jh

    learning_rates, b1s = axes(n_configs)
    grid = {"learning_rate": [float(v) for v in learning_rates], "b1": [float(v) for v in b1s]}
    return lambda: jh.sweep(
        prob,
        jh.adam,
        grid=grid,
        steps=steps,
        batch_size=BATCH,
        log_every=steps,
        devices=devices,
        progress=False,
    )


def make_expert_call(prob, n_configs, steps):
    """The expert's program over the same grid, in the sweep's (learning rate, β1) order."""
    learning_rates, b1s = np.meshgrid(*axes(n_configs), indexing="ij")
    return make_expert(prob, learning_rates, b1s, steps=steps)


# --------------------------------------------------------------------------- measurements


def measure(sizes, steps, repeats, one_device):
    import jax

    import jaxopt_hw as jh

    prob = jh.linear_regression(N, D)
    jax.block_until_ready(prob.X)
    placements = {"all": jax.devices()}
    if one_device and len(jax.devices()) > 1:
        placements["one"] = jax.devices()[:1]
    rows = {}
    for n_configs in sizes:
        r, methods = {"n_configs": n_configs}, {}
        for where, devices in placements.items():
            methods[f"sweep_{where}"] = make_sweep(prob, n_configs, steps, devices)
        if n_configs <= EXPERT_MAX:
            methods["expert"] = make_expert_call(prob, n_configs, steps)
        for name, fn in methods.items():
            r[f"{name}_first"], out = timed(fn)
            if name.startswith("sweep"):
                r[f"{name}_chunk"], r[f"{name}_chunks"] = (
                    out.meta["chunk_size"],
                    out.meta["n_chunks"],
                )
                r[f"{name}_devices"] = out.meta["devices"]
        warm = max(timed(fn)[0] for fn in methods.values())
        r["repeats"] = max(repeats, min(MAX_REPEATS, math.ceil(TIMED_SECONDS / warm)))
        medians, outs = interleaved(methods, r["repeats"])
        r.update(medians)
        if "expert" in outs:
            sweep_losses = np.asarray(outs["sweep_all"].final_loss).reshape(-1)
            r["loss_ratio_median"] = float(np.nanmedian(sweep_losses / outs["expert"]))
        rows[n_configs] = r
        print(
            f"[{n_configs} configs] done: " + ", ".join(f"{k}={v:.4g}" for k, v in r.items()),
            file=sys.stderr,
        )
    return rows


# --------------------------------------------------------------------------- the report


def _ratio(value):
    return f"{value:,.2f}×"


def report(rows, steps, repeats, load):
    import jax

    out = [titled(SECTION), ""]
    first = min(rows)
    out.append(
        f"`python benchmarks/bench_scale.py` ({datetime.date.today().isoformat()}): Adam on "
        f"`linear_regression({N:,}, {D})`, {steps:,} steps, batch {BATCH}, one seed, float32, final metrics "
        f"only; grids of learning rates × β1; on {machine()}. Load average before/after: {load[0]:.2f}/{load[1]:.2f}."
    )
    out.append("")
    out.append(
        "Config-steps per second (configs × steps ÷ seconds of a whole call), steady state (median of "
        f"repeats, the methods of a size timed in turns, at least {repeats} rounds and enough for "
        f"{TIMED_SECONDS:g} s of each method's calls, at most {MAX_REPEATS}: "
        + ", ".join(f"{r['repeats']} at {n:,}" for n, r in rows.items())
        + "; the first call's extra time, tracing and compilation, apart). `jh.sweep` is called as a user would, without `chunk_size` or "
        "`memory_budget`; its chunk size is the one it derived (configs per chunk × chunks). "
        f"*All devices*: the {len(jax.devices())} device(s) JAX presents"
        + (" (`jh.use_cpu_cores()`: one per core)" if jax.default_backend() == "cpu" else "")
        + "; *one device*: `devices=jax.devices()[:1]`. (c) is the expert's `jit(vmap(scan))` of "
        "`bench_sweep.py`, the whole grid in one call on the default device, run up to "
        f"{EXPERT_MAX:,} configs. Speed-up: (c)'s time over `jh.sweep`'s; scale: the rate over "
        f"the same method's rate at {first:,} configs. A size whose chunks have the shape of an "
        "earlier size's reuses its compiled program: its first call costs no extra."
    )
    out.append("")
    out.append(
        "| configs | method | chunks | time (s) | config-steps/s | first call extra (s) | speed-up vs (c) | scale |"
    )
    out.append("|---:|---|---|---:|---:|---:|---:|---:|")
    names = [
        ("sweep_all", "`jh.sweep`, all devices"),
        ("sweep_one", "`jh.sweep`, one device"),
        ("expert", "(c) expert `jit(vmap(scan))`"),
    ]
    for n_configs, r in rows.items():
        for key, label in names:
            if key not in r:
                continue
            seconds = r[key]
            rate = n_configs * steps / seconds
            base = rows[first].get(key)
            scale = "–" if base is None else _ratio(rate / (first * steps / base))
            chunks = (
                f"{r[key + '_chunk']:,} × {r[key + '_chunks']}" if key + "_chunk" in r else "1 call"
            )
            speedup = _ratio(r["expert"] / seconds) if "expert" in r and key != "expert" else "–"
            out.append(
                f"| {n_configs:,} | {label} | {chunks} | {seconds:.3g} | {rate:,.0f} | "
                f"{r[key + '_first'] - seconds:.2f} | {speedup} | {scale} |"
            )
    checks = [
        f"{r['loss_ratio_median']:.3f} at {n:,}"
        for n, r in rows.items()
        if "loss_ratio_median" in r
    ]
    if checks:
        out.append("")
        out.append(
            "A check that both solve the same problem (same configs and initial point, different batch "
            "orders): the median over configs of `jh.sweep`'s final loss over the expert's is "
            + "; ".join(checks)
            + "."
        )
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_STEPS} steps, sizes {QUICK_SIZES}, 2 repeats"
    )
    parser.add_argument("--repeats", type=int, default=3, help="repeats for steady-state medians")
    parser.add_argument("--no-one-device", action="store_true", help="skip the one-device sweeps")
    parser.add_argument(
        "--write", action="store_true", help="replace this section of docs/benchmarks.md"
    )
    args = parser.parse_args(argv)
    if args.quick and args.write:
        parser.error("--quick is a smoke test: its figures are not written")
    if "JAX_NUM_CPU_DEVICES" not in os.environ:
        import jaxopt_hw as jh

        jh.use_cpu_cores()  # before any JAX computation; no effect on a GPU's programs
    sizes, steps = (QUICK_SIZES, QUICK_STEPS) if args.quick else (SIZES, STEPS)
    repeats = min(args.repeats, 2) if args.quick else args.repeats
    load_before = os.getloadavg()[0]
    rows = measure(sizes, steps, repeats, one_device=not args.no_one_device)
    text = report(rows, steps, repeats, (load_before, os.getloadavg()[0]))
    print(text)
    if args.write:
        write_section(text, titled(SECTION))
        print("wrote docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
