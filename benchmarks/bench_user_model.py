"""Benchmark: a user's own model through ``jh.problem``, against an expert's ``jit(vmap(scan))``.

1. A 16 × 16 grid (256 configs: learning rate × β1, β2 = 0.999) of Adam on a digits-sized
   MLP (64 → 32 → 10, tanh, cross-entropy; n = 1 797 rows, scikit-learn's digits when
   installed, else random data of that shape), 1 000 steps, batch 32, one seed:
   * ``jh.sweep`` over ``jaxopt_hw.models.mlp_classifier`` with the final metrics only
     (``log_every=1000``), and with its default logging (every four epochs: the full-data
     loss and gradient norm); on all devices and on one;
   * (c) the expert's ``jax.jit(jax.vmap(lax.scan))`` over
     ``optax.inject_hyperparams(optax.adam)``: a ``jax.random.permutation`` per epoch inside
     the program, the batch gathered in the scan, the final full-data loss returned.
   Side by side in one process, timed in turns (median of repeats), compile shown apart.
2. ``jh.run``'s fixed cost per call: the time of a 10-step Adam run minus the time of its
   compiled program called alone with the same placed arguments (``loop.prepared_run``), on
   the homework's (10 000, 5) problem and on the MLP; beside it, a 1 000-step run minus
   1 000 times the per-step time of a 100 000-step run (which also counts the program's own
   launch, initial loss and final metrics).

Usage::

    python benchmarks/bench_user_model.py            # print the markdown section
    python benchmarks/bench_user_model.py --write    # also replace it in docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import datetime
import functools
import math
import os
import statistics
import sys

import numpy as np
from bench_loop import interleaved, machine, timed, titled, write_section

SECTION = "## Your model (`jh.problem`)"
STEPS, BATCH, SIDE, HIDDEN = 1_000, 32, 16, 32
LEARNING_RATES = np.geomspace(1e-4, 0.3, SIDE)
B1S = np.linspace(0.5, 0.99, SIDE)


def digits():
    """``(x, y, source)``: scikit-learn's digits, or random data of their shape."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        rng = np.random.default_rng(0)
        return (
            rng.random((1797, 64)).astype(np.float32),
            rng.integers(0, 10, 1797),
            "random data of the digits' shape",
        )
    data = load_digits()
    return (data.data / 16.0).astype(np.float32), data.target, "scikit-learn's digits"


def axes(side=SIDE):
    """The grid's learning rates and β1 values, ``side`` of each."""
    return np.geomspace(1e-4, 0.3, side), np.linspace(0.5, 0.99, side)


def grid(side=SIDE):
    learning_rates, b1s = axes(side)
    return {"learning_rate": [float(v) for v in learning_rates], "b1": [float(v) for v in b1s]}


def jh_sweep(prob, log_every, devices, side=SIDE, steps=STEPS):
    import jaxopt_hw as jh

    res = jh.sweep(
        prob,
        jh.adam,
        grid=grid(side),
        fixed={"b2": 0.999},
        steps=steps,
        batch_size=BATCH,
        log_every=log_every,
        devices=devices,
        progress=False,
    )
    return res.final_loss


def make_expert(prob, side=SIDE, steps=STEPS):
    """The expert's ``jit(vmap(scan))`` over ``inject_hyperparams(optax.adam)`` on the same
    network, data and initial point."""
    import jax
    import jax.numpy as jnp
    import optax

    from jaxopt_hw.models import cross_entropy

    data = prob.data
    n = data["x"].shape[0]
    per_epoch = n // BATCH
    epochs = math.ceil(steps / per_epoch)

    @jax.jit
    def train(learning_rates, b1s, params0, key):
        orders = jax.vmap(lambda k: jax.random.permutation(k, n))(jax.random.split(key, epochs))
        batches = orders[:, : per_epoch * BATCH].reshape(-1, BATCH)[:steps]

        def one(lr, b1):
            tx = optax.inject_hyperparams(optax.adam)(learning_rate=lr, b1=b1, b2=0.999)

            def step(carry, rows):
                params, state = carry
                grads = jax.grad(cross_entropy)(params, jax.tree.map(lambda a: a[rows], data))
                updates, state = tx.update(grads, state, params)
                return (optax.apply_updates(params, updates), state), None

            (params, _), _ = jax.lax.scan(step, (params0, tx.init(params0)), batches)
            return cross_entropy(params, data)

        return jax.vmap(one)(learning_rates, b1s)

    lrs, b1s = (
        jnp.asarray(a, jnp.float32).reshape(-1) for a in np.meshgrid(*axes(side), indexing="ij")
    )
    params0 = prob.init_params(0)
    key = jax.random.key(0)
    return lambda: np.asarray(train(lrs, b1s, params0, key))


#: Steps of the short runs that time ``jh.run`` against its program alone: short, so that
#: the program's own variation does not hide a difference of microseconds.
SHORT = 10


def fixed_cost(prob, repeats):
    """``(s of a 1 000-step run, s per step at 10⁵ steps, s of a 10-step run, of its program alone)``."""
    import jax

    import jaxopt_hw as jh
    from jaxopt_hw.loop import prepared_run

    tx = jh.adam(0.01)

    def run(steps):
        return jax.block_until_ready(
            jh.run(prob, tx, steps=steps, batch_size=BATCH, log_every=steps).loss
        )

    program = prepared_run(prob, tx, SHORT, BATCH, log_every=SHORT).program

    def program_alone():
        return jax.block_until_ready(program())

    short, long, tiny, alone = [], [], [], []
    run(1_000), run(100_000), run(SHORT), program_alone()  # compile them
    for _ in range(repeats):
        long.append(timed(run, 100_000)[0])
        short.extend(timed(run, 1_000)[0] for _ in range(20))
        for _ in range(100):  # in turns, so that drifts in load hit both alike
            tiny.append(timed(run, SHORT)[0])
            alone.append(timed(program_alone)[0])
    median = statistics.median
    return median(short), median(long) / 100_000, median(tiny), median(alone)


def measure(repeats):
    import jax

    import jaxopt_hw as jh
    from jaxopt_hw.models import mlp_classifier

    x, y, source = digits()
    prob = mlp_classifier(x, y, hidden=HIDDEN)
    r = {"source": source}
    methods = {}
    device_sets = [("", jax.devices())] + (
        [("_one", jax.devices()[:1])] if len(jax.devices()) > 1 else []
    )
    for log_every, key in [(STEPS, "final"), (None, "default")]:
        for suffix, devices in device_sets:
            methods[f"sweep_{key}{suffix}"] = functools.partial(jh_sweep, prob, log_every, devices)
            r[f"sweep_{key}{suffix}_first"], _ = timed(methods[f"sweep_{key}{suffix}"])
    expert = make_expert(prob)
    r["expert_first"], _ = timed(expert)
    methods["expert"] = expert
    medians, outs = interleaved(methods, repeats)
    r.update(medians)
    r["loss_ratio_median"] = float(
        np.nanmedian(np.asarray(outs["sweep_final"])[..., 0].reshape(-1) / outs["expert"])
    )
    r["fixed"] = {
        "homework (10 000, 5)": fixed_cost(jh.linear_regression(10_000, 5), repeats),
        "digits MLP": fixed_cost(prob, repeats),
    }
    print(", ".join(f"{k}={v}" for k, v in r.items()), file=sys.stderr)
    return r


SCALE_SECTION = "## Your model at scale (`jh.problem`, 16 384 configs)"
SCALE_SIDE, SCALE_STEPS = 128, 200


def measure_scale(repeats):
    """A 128 × 128 grid (16 384 configs) of the same MLP, 200 steps: the default sweep on all
    devices and on one, against the expert's one call, in turns."""
    import jax

    from jaxopt_hw.models import mlp_classifier

    x, y, source = digits()
    prob = mlp_classifier(x, y, hidden=HIDDEN)
    methods = {
        "sweep": functools.partial(
            jh_sweep, prob, SCALE_STEPS, jax.devices(), SCALE_SIDE, SCALE_STEPS
        ),
        "sweep_one": functools.partial(
            jh_sweep, prob, SCALE_STEPS, jax.devices()[:1], SCALE_SIDE, SCALE_STEPS
        ),
        "expert": make_expert(prob, SCALE_SIDE, SCALE_STEPS),
    }
    r = {"source": source}
    for name, method in methods.items():
        r[f"{name}_first"], _ = timed(method)
    medians, _ = interleaved(methods, repeats)
    r.update(medians)
    print(", ".join(f"{k}={v}" for k, v in r.items()), file=sys.stderr)
    return r


def report_scale(r, load):
    n = SCALE_SIDE * SCALE_SIDE
    out = [titled(SCALE_SECTION), ""]
    out.append(
        f"`python benchmarks/bench_user_model.py --scale` ({datetime.date.today().isoformat()}): "
        f"the MLP of the section above over {r['source']}, Adam on a {SCALE_SIDE} × {SCALE_SIDE} "
        f"grid ({n:,} configs), {SCALE_STEPS} steps, batch {BATCH}, final loss only; `jh.sweep` "
        f"with its default chunks; on {machine()}. Load average before/after: "
        f"{load[0]:.2f}/{load[1]:.2f}. Steady state: median of repeats, timed in turns."
    )
    out += ["", "| method | time (s) | config-steps/s | first call extra (s) | vs (c) |"]
    out.append("|---|---:|---:|---:|---:|")
    labels = {
        "sweep": "`jh.sweep`, all devices",
        "sweep_one": "`jh.sweep`, one device",
        "expert": "(c) expert `jit(vmap(scan))`",
    }
    for key, label in labels.items():
        seconds = r[key]
        out.append(
            f"| {label} | {seconds:.3g} | {n * SCALE_STEPS / seconds:,.0f} "
            f"| {r[key + '_first'] - seconds:.2f} | {r['expert'] / seconds:.2f}× |"
        )
    return "\n".join(out)


def report(r, load):
    n = SIDE * SIDE
    several = "sweep_final_one" in r
    out = [titled(SECTION), ""]
    out.append(
        f"`python benchmarks/bench_user_model.py` ({datetime.date.today().isoformat()}): Adam, {SIDE} × {SIDE} = {n} "
        f"configs (learning rate {LEARNING_RATES[0]:g}…{LEARNING_RATES[-1]:g} log-spaced × β1 {B1S[0]:g}…{B1S[-1]:g}), "
        f"{STEPS:,} steps, batch {BATCH}, one seed, on an MLP 64 → {HIDDEN} → 10 (tanh, cross-entropy) over {r['source']} "
        f"(n = 1 797), float32; on {machine()}. Load average before/after: {load[0]:.2f}/{load[1]:.2f}. "
        "Steady state: median of repeats, timed in turns; the first call's extra time (tracing and compiling) apart."
    )
    out.append("")
    out.append("| method | time (s) | config-steps/s | first call extra (s) | vs (c) |")
    out.append("|---|---:|---:|---:|---:|")
    wheres = [("", "")] + ([("_one", ", one device")] if several else [])
    for key, text in [("final", "final metrics"), ("default", "default logging (every 4 epochs)")]:
        for suffix, where in wheres:
            seconds = r[f"sweep_{key}{suffix}"]
            out.append(
                f"| `jh.sweep`, {text}{where} | {seconds:.3g} | {n * STEPS / seconds:,.0f} | "
                f"{r[f'sweep_{key}{suffix}_first'] - seconds:.2f} | {r['expert'] / seconds:.2f}× |"
            )
    out.append(
        f"| (c) expert `jit(vmap(scan))`, final loss | {r['expert']:.3g} | {n * STEPS / r['expert']:,.0f} | "
        f"{r['expert_first'] - r['expert']:.2f} | 1.00× |"
    )
    out.append("")
    out.append(
        f"Same problem check: the median over the {n} configs of `jh.sweep`'s final loss over the expert's is "
        f"{r['loss_ratio_median']:.3f} (same network, data and initial point; other batch orders)."
    )
    out.append("")
    out.append(
        "`jh.run`'s fixed cost per call (Adam, batch 32, final metrics only): a "
        f"{SHORT}-step run's time minus its compiled program's, called alone with the same placed "
        "arguments (medians of calls in turns); and a 1 000-step run's time minus 1 000 × the "
        "per-step time of a 100 000-step run, which also counts the program's own launch, "
        "initial loss and final metrics."
    )
    out.append("")
    out.append(
        f"| problem | {SHORT} steps (µs) | program alone (µs) | above the program (µs) "
        "| 1 000 steps (ms) | per step at 10⁵ steps (µs) | above 1 000 steps (µs) |"
    )
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for label, (short, per_step, tiny, alone) in r["fixed"].items():
        out.append(
            f"| {label} | {tiny * 1e6:.0f} | {alone * 1e6:.0f} | {(tiny - alone) * 1e6:.0f} "
            f"| {short * 1e3:.3f} | {per_step * 1e6:.3f} | {(short - 1_000 * per_step) * 1e6:.0f} |"
        )
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--write", action="store_true", help="replace the section of docs/benchmarks.md"
    )
    parser.add_argument("--repeats", type=int, default=5, help="repeats for steady-state medians")
    parser.add_argument(
        "--scale", action="store_true", help="only the 16 384-config grid (its own section)"
    )
    args = parser.parse_args(argv)
    if "JAX_NUM_CPU_DEVICES" not in os.environ:
        import jaxopt_hw as jh

        jh.use_cpu_cores()
    load_before = os.getloadavg()[0]
    if args.scale:
        r = measure_scale(min(args.repeats, 2))
        text, section = report_scale(r, (load_before, os.getloadavg()[0])), SCALE_SECTION
    else:
        r = measure(args.repeats)
        text, section = report(r, (load_before, os.getloadavg()[0])), SECTION
    print(text)
    if args.write:
        write_section(text, titled(section))


if __name__ == "__main__":
    main()
