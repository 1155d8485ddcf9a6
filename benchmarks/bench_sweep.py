"""Benchmark: ``jh.sweep`` over 1 024 Adam configs against three other ways to get them.

Every method trains Adam for 1 000 steps with batches of 32 on the same problem, for the
configs of a 32 × 32 grid of learning rates × β1 (β2 = 0.999), side by side in one run:

1. ``jh.sweep``: one compiled program for the grid (``vmap`` over configs inside the
   scan; the batch drawn and gathered once per step for all configs). Timed with the
   final metrics only (``log_every=1000``) and logging the five full-data metrics after
   every step (``log_every=1``); on a CPU, with the cores presented to JAX as devices
   (``jh.use_cpu_cores()``, unless ``JAX_NUM_CPU_DEVICES`` is set), over which the sweep
   shards its configs, and on one device.
2. (c) The expert's hand-written ``jax.jit(jax.vmap(lax.scan))`` over
   ``optax.inject_hyperparams(optax.adam)``: a ``jax.random.permutation`` per epoch
   inside the program (the last partial batch of an epoch dropped), the batch gathered
   in the scan (unbatched under ``vmap``, so once per step), the final full-data loss of
   every config returned.
3. (b) A Python loop over a jitted ``optax.adam`` step, one config after another (the
   loop of ``bench_loop.py``: NumPy permutation per epoch, full-data loss per step),
   timed on a few configs and reported per config-step.
4. (a) The homework notebook's NumPy loop, one config after another (float64), timed on
   a few configs and reported per config-step.

Rates are config-steps per second (configs × steps / seconds); steady-state times are
medians over repeats in one process, and the first call's extra time (tracing + XLA
compilation) is shown apart.

Usage::

    python benchmarks/bench_sweep.py            # print the markdown section
    python benchmarks/bench_sweep.py --write    # also replace it in docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import datetime
import functools
import math
import os
import sys
import time

import numpy as np
from bench_loop import (
    interleaved,
    machine,
    make_optax_loop,
    numpy_homework,
    timed,
    titled,
    write_section,
)

SECTION = "## Sweeps (`jh.sweep`)"
PROBLEMS = {
    "medium (10,000, 5)": (10_000, 5),
    "large (150,000, 7)": (150_000, 7),
    "d = 100 (10,000, 100)": (10_000, 100),
}
STEPS, BATCH, SIDE = 1_000, 32, 32
LEARNING_RATES = np.geomspace(1e-3, 0.3, SIDE)
B1S = np.linspace(0.5, 0.99, SIDE)


# --------------------------------------------------------------------------- the methods


def grid():
    return {"learning_rate": [float(v) for v in LEARNING_RATES], "b1": [float(v) for v in B1S]}


def jh_sweep(prob, log_every, devices=None):
    import jaxopt_hw as jh

    res = jh.sweep(
        prob,
        jh.adam,
        grid=grid(),
        steps=STEPS,
        batch_size=BATCH,
        log_every=log_every,
        devices=devices,
        progress=False,
    )
    return res.final_loss


def make_expert(prob, learning_rates=None, b1s=None, steps=STEPS):
    """The expert's ``jit(vmap(scan))`` over ``inject_hyperparams(optax.adam)``, for the
    configs ``(learning_rates[i], b1s[i])`` (default: the 32 × 32 grid), ``steps`` steps."""
    import jax
    import jax.numpy as jnp
    import optax

    X, y = prob.X, prob.y
    n = X.shape[0]
    batches_per_epoch = n // BATCH
    epochs = math.ceil(steps / batches_per_epoch)

    def loss(w, Xb, yb):
        return jnp.mean(jnp.square(Xb @ w - yb))

    @jax.jit
    def train(learning_rates, b1s, w0, key):
        orders = jax.vmap(lambda k: jax.random.permutation(k, n))(jax.random.split(key, epochs))
        batches = orders[:, : batches_per_epoch * BATCH].reshape(-1, BATCH)[:steps]

        def one(lr, b1):
            tx = optax.inject_hyperparams(optax.adam)(learning_rate=lr, b1=b1, b2=0.999)

            def step(carry, rows):
                w, state = carry
                grads = jax.grad(loss)(w, X[rows], y[rows])
                updates, state = tx.update(grads, state, w)
                return (optax.apply_updates(w, updates), state), None

            (w, _), _ = jax.lax.scan(step, (w0, tx.init(w0)), batches)
            return loss(w, X, y)

        return jax.vmap(one)(learning_rates, b1s)

    if learning_rates is None:
        learning_rates, b1s = np.meshgrid(LEARNING_RATES, B1S, indexing="ij")
    lrs, b1s = (jnp.asarray(a, jnp.float32).reshape(-1) for a in (learning_rates, b1s))
    w0 = prob.init_params(0)
    key = jax.random.key(0)
    return lambda: np.asarray(train(lrs, b1s, w0, key))


def per_config(fn, configs, repeats):
    """Median seconds for one config, timing ``configs`` configs one after another."""
    fn(*configs[0])  # warm up (compiles)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for config in configs:
            fn(*config)
        times.append((time.perf_counter() - start) / len(configs))
    return float(np.median(times))


# --------------------------------------------------------------------------- measurements


def measure(repeats):
    import jax

    import jaxopt_hw as jh

    n_configs = SIDE * SIDE
    configs = [(float(LEARNING_RATES[i]), float(B1S[j])) for i, j in [(5, 3), (20, 28)]]
    rows = {}
    for label, (n, d) in PROBLEMS.items():
        prob = jh.linear_regression(n, d)
        jax.block_until_ready(prob.X)
        X64, y64 = np.asarray(prob.X, np.float64), np.asarray(prob.y, np.float64)
        r = {}
        methods = {}
        for log_every, key in [(STEPS, "final"), (1, "curves")]:
            for suffix, devices in (
                [("", None), ("_one", jax.devices()[:1])]
                if len(jax.devices()) > 1
                else [("", None)]
            ):
                methods[f"sweep_{key}{suffix}"] = functools.partial(
                    jh_sweep, prob, log_every, devices or jax.devices()
                )
                r[f"sweep_{key}{suffix}_first"], _ = timed(methods[f"sweep_{key}{suffix}"])
        expert = make_expert(prob)
        r["expert_first"], _ = timed(expert)
        methods["expert"] = expert
        medians, outs = interleaved(methods, repeats)
        r.update(medians)
        sweep_losses = np.asarray(outs["sweep_curves"])[..., 0].reshape(
            -1
        )  # (lr, b1) order, as the expert's
        r["loss_ratio_median"] = float(np.nanmedian(sweep_losses / outs["expert"]))
        train_optax = make_optax_loop(prob)
        r["optax_per_config"] = per_config(lambda lr, b1: train_optax(STEPS), configs[:1], repeats)
        r["numpy_per_config"] = per_config(
            lambda lr, b1: numpy_homework(X64, y64, STEPS, lr=lr, b1=b1), configs, repeats
        )
        r["n_configs"] = n_configs
        rows[label] = r
        print(
            f"[{label}] done: " + ", ".join(f"{k}={v:.4g}" for k, v in r.items()), file=sys.stderr
        )
    return rows


# --------------------------------------------------------------------------- the report


def _rate(seconds_per_config):
    return STEPS / seconds_per_config


def _fmt_rate(rate):
    return f"{rate:,.0f}"


def _ratio(value):
    return f"{value:,.1f}×" if value >= 1 else f"{value:.2g}×"


def report(rows, load):
    out = [titled(SECTION), ""]
    out.append(
        f"`python benchmarks/bench_sweep.py` ({datetime.date.today().isoformat()}): Adam, {SIDE} × {SIDE} = "
        f"{SIDE * SIDE} configs (learning rate {LEARNING_RATES[0]:g}…{LEARNING_RATES[-1]:g} log-spaced × β1 "
        f"{B1S[0]:g}…{B1S[-1]:g}), {STEPS:,} steps, batch {BATCH}, one seed, float32 (NumPy float64); "
        f"on {machine()}. Load average before/after: {load[0]:.2f}/{load[1]:.2f}."
    )
    out.append("")
    import jax

    n_devices = len(jax.devices())
    several = any("sweep_final_one" in r for r in rows.values())
    out.append(
        "Config-steps per second (configs × steps ÷ seconds), steady state (median of repeats, the "
        "compiled methods timed in turns; compile excluded, shown apart as the first call's extra time). "
        "(a) and (b) run one config after another and are timed on a few configs. The ratios compare "
        "`jh.sweep` with the final metrics only against (c), which also returns only the final loss, and "
        "`jh.sweep` logging every step against (a) and (b), which also record a value per step."
        + (
            f" JAX presents the {n_devices} cores as {n_devices} CPU devices "
            "(`jh.use_cpu_cores()`, as the `jaxopt-hw` command does): `jh.sweep` shards its configs over "
            "them, one share per core; *one device* is the same sweep with `devices=jax.devices()[:1]`. "
            "The other methods run on the default device, as written."
            if several and jax.default_backend() == "cpu"
            else ""
        )
    )
    out.append("")
    header = "| problem (n, d) | method | time for 1,024 configs (s) | config-steps/s | first call extra (s) | `jh.sweep` speed-up |"
    if several:
        header += " `jh.sweep` (one device) speed-up |"
    out.append(header)
    out.append("|---|---|---:|---:|---:|---:|" + ("---:|" if several else ""))
    for label, r in rows.items():
        c = r["n_configs"]
        sweeps = [("", "")] + ([("_one", ", one device")] if several else [])
        lines = []
        for key, text in [("final", "final metrics"), ("curves", "5 metrics every step")]:
            for suffix, where in sweeps:
                seconds = r[f"sweep_{key}{suffix}"]
                lines.append(
                    (
                        f"`jh.sweep`, {text}{where}",
                        seconds,
                        r[f"sweep_{key}{suffix}_first"] - seconds,
                        None,
                    )
                )
        lines += [
            ("(c) expert `jit(vmap(scan))`", r["expert"], r["expert_first"] - r["expert"], "final"),
            ("(b) jitted optax step, Python loop", r["optax_per_config"] * c, None, "curves"),
            ("(a) NumPy (homework)", r["numpy_per_config"] * c, None, "curves"),
        ]
        for method, seconds, extra, against in lines:
            extra_text = "–" if extra is None else f"{extra:.2f}"
            ratios = [
                "–" if against is None else _ratio(seconds / r[f"sweep_{against}{suffix}"])
                for suffix, _ in sweeps
            ]
            out.append(
                f"| {label} | {method} | {seconds:.3g} | {_fmt_rate(c * STEPS / seconds)} | {extra_text} | "
                + " | ".join(ratios)
                + " |"
            )
    out.append("")
    targets = []
    for label, r in rows.items():
        parts = []
        for suffix, where in [("", ""), ("_one", " on one device")] if several else [("", "")]:
            vs_expert = r["expert"] / r[f"sweep_final{suffix}"]
            vs_numpy = r["numpy_per_config"] * r["n_configs"] / r[f"sweep_curves{suffix}"]
            vs_numpy_final = r["numpy_per_config"] * r["n_configs"] / r[f"sweep_final{suffix}"]
            parts.append(
                f"{vs_expert:.2f}× (c), {vs_numpy:,.0f}× (a) ({vs_numpy_final:,.0f}× with final metrics only){where}"
            )
        targets.append(f"{label}: " + "; ".join(parts))
    out.append(
        "Targets: ≥ 300× (a) per config-step, ≥ 1.0× (c) everywhere and ≥ 1.5× (c) for d ≤ 20. Measured: "
        + ". ".join(targets)
        + ". Against (a) the table compares like with like, a value recorded per step; "
        "(a) records only the batch error, while `jh.sweep` logging every step also computes four "
        "full-data metrics per config, so the final-metrics figure (which still sums the batch error "
        "of every step) is given too."
    )
    out.append("")
    out.append(
        "A check that the two compiled paths solve the same problem (same initial point and configs, "
        "different batch orders): the median over the 1,024 configs of `jh.sweep`'s final loss over the "
        "expert's is "
        + "; ".join(f"{r['loss_ratio_median']:.3f} ({label})" for label, r in rows.items())
        + ". Single configs differ by their batch order: at d = 100 the final loss of one config "
        "spans a factor of ~4 over seeds."
    )
    out.append("")
    out.append(WHERE_THE_TIME_GOES if titled(SECTION) == SECTION else WHERE_THE_TIME_GOES_GPU)
    return "\n".join(out)


WHERE_THE_TIME_GOES = """Where the time goes. Profiled with `jax.profiler` and timed A/B in one process on the
2-core AMD EPYC above (2026-11-30), after earlier rounds on a 2-core Intel Xeon (until
2026-11-25) that took a one-device, final-metrics step at (10 000, 5) from ≈ 50 to
≈ 26 µs:

* **Configs on the minor axis of the state** (least squares, `FastForms.sets_minor`).
  The batch products lay the configs out along rows (`(B, configs)`, `(d, configs)`); a
  state stored `(configs, d)` was transposed for them every step, one kernel more, and a
  costly one at d = 20. Stored `(d, configs)` (A/B on one device, final metrics,
  2026-11-30): d = 5 37 → 33 ms, d = 20 137 → 63 ms, d = 32 logging every step 400 →
  211 ms; each config trains bit for bit as before. A logistic regression, whose batch
  gradients are plain `vmap`s, keeps the configs major (398 ms against 530 ms minor).
* **Transposes left in the sharded program** (found in XLA's optimized programs,
  `--xla_dump_to` with `--xla_dump_hlo_pass_re=.*`, 2026-11-30). Until then two CPU
  devices gained nothing at d = 20 (69.5 ms, against 63.7 on one device): the sharded
  program kept transposes of the `(d, configs)` parameters at every step, which the
  one-device program folded away. Inside the per-config `vmap`, each config's flag
  (its learning rate, its divergence flag) is a `(configs,)` array with the configs
  first; `vmap` then moves the configs of the `(d, configs)` parameters to the front for
  every elementwise operation that mixes them, and transposes back at the end. XLA's
  reshape mover sinks such a transpose past an operation only when every user of the
  transposed value can take it at once; the freeze of diverged configs,
  `where(diverged, old, old + update)`, reads the transposed old parameters twice, so
  neither user moves, in the sharded program for good (in the one-device program other
  rewrites happened to break the tie). The sweep now freezes all configs at once after
  the `vmap`, its flags spread over the layout of the parameters
  (`loop.proposed_step` and `loop.guarded`, `sweep.layout.select_runs`; each config trains bit
  for bit as before): d = 20 on two devices 69.5 → 35.0 ms with final metrics, 101 →
  53 ms logging every step (one device: 63.7 → 63.3 and 105 → 97 ms; A/B runs,
  2026-11-30).
* **The same layout for d > 32.** With the freeze fixed, the `(d, configs)` layout paid
  for d > 32 too once the sweep stopped `vmap`-ping the problem's functions for many
  parameter sets: their `custom_vmap` rules receive the parameters with the configs
  first, and in the sharded program logging every step XLA kept a transposing copy of
  the parameters for the distance to w* (114 ms of each device's 1 000 steps at
  d = 100). The sweep now calls the least-squares functions for parameter sets held as
  columns directly (`problems.mse_batch_values_minor`, `quadratic_measures_minor`), and
  no parameter changes layout in a step. A/B runs (2026-11-30), final metrics / logging
  every step: d = 100 on one device 263 → 212 / 623 → 441 ms, where the expert took
  246 ms in the same run (1.16× (c), 0.95× before), on two devices 137 → 119 / 303 →
  269 ms; d = 50 on one device 179 → 151 / 338 → 271 ms, on two 86 → 65 / 154 →
  124 ms. (Tried first with the problem's rules under `vmap`: one device gained as
  much, but two devices logging every step lost, 303 → 399 ms at d = 100.) For the
  report's small grids (48 Adam configs × 5 seeds, 1 000 steps logging every 10th, two
  devices) the two layouts are within ±7%: d = 50 74 → 71 ms, d = 100 105 → 109 ms,
  d = 200 225 → 242 ms, d = 1 000 1.055 → 1.005 s.
* **Cores as devices** (`jh.use_cpu_cores()`). XLA:CPU runs a program's kernels one after
  another and hands them between its threads: pinned to one core (`taskset`), the
  one-device d = 100 sweep took 237–247 ms instead of 258–330 ms on both. Presented as two
  CPU devices, the cores each run half of the configs (`shard_map`, the one-device
  program on each share; each config trains the same bit for bit): in an A/B run d = 100 went
  from 257 to 193 ms (2026-11-30); the table's rows *one device* make the same comparison in its run. The
  expert's program, written for one device, does not use them.
* **Logging every step** (d = 5, one device, A/B runs of 2026-11-30: ≈ 60 → 45 ms of program time). The metrics of
  least squares come from `problems.quadratic_measures`, whose rule for many parameter
  sets writes each sum over d out as multiply-adds of rows of 1 024 configs: elementwise
  code that XLA fuses and vectorizes. Under `vmap` they had been `(configs, d, d)`
  products reduced over rows of d entries, or `(configs, d) × (d, d)` products: ≈ 13 ms
  per 1 000 steps, now ≈ 2 ms, and each config's loss is its run's, bit for bit.
  The option that sent products to YNNPACK one by one kept XLA from giving it the sums
  over the batch's 32 rows as well (+6 ms at d = 5): sweeps now use XLA's defaults,
  also faster at d = 100 (logging every step 0.97 → 0.73 s, two devices, same A/B runs).
* **Host work: page faults.** A sweep's logs come back as NumPy arrays (20 MB per
  1 000 steps of 1 024 configs). Sharded over two devices, `np.array` of each metric
  took 12–23 ms of a 55 ms sweep: JAX assembles a sharded array into a fresh host
  array and NumPy copies that again, and each fresh 4 MB array faulted in its ~1 000
  pages one by one, ≈ 2 µs a fault on this VM (≈ 10 000 faults per call, counted with
  `getrusage`). The results now share one host allocation filled from zero-copy
  views of the shards (`sweep._to_host`); NumPy asks for transparent huge pages for
  allocations of 4 MiB or more, so the 20 MB fault in ~10 pages: the copy takes
  ≈ 2 ms, and the medium sweep logging every step on two devices went from 55–58 to
  34–35 ms (A/B runs of 2026-11-30). On one device the copy was already ≈ 2 ms when
  NumPy reused freed memory, and up to 12 ms when it did not. (The program's own
  output buffers fault too, 0–12 000 pages per call on one device, from XLA's
  allocator: not addressed.) Before that, the logs were copied twice after the program
  (to join chunks and static combinations even when there was one of each): once now.
* **Earlier rounds.** Products laid out with the configs on the long axis for d ≤ 32
  (`problems.mse_batch_values`; 51 → 41 ms on the Xeon); the optimizer's step counts
  held once for all configs, so Adam's `1 − βᵗ` is one scalar per step (41 → 33 ms with
  the next); the batch errors summed in the scan's carry instead of stacked (→ 26 ms); the
  divergence guard read off the next step's batch loss instead of an is-finite pass over
  the parameters (d = 100: 311 → ≈ 270 ms). The expert's `jax.random.permutation` per
  epoch sorts n keys (≈ 17 ms at n = 10 000, 79 ms at 150 000); the sweep draws each
  block's rows by a keyed Feistel bijection, O(B) per step.
* **The divergence guard** is not where d = 100 spends its time: with its selects
  removed from the step (a patched `train_step`, A/B in one process, 20 rounds each,
  2026-11-30) the one-device sweep took 270 ms against 266 ms guarded at d = 100, and
  33.4 against 34.0 ms at d = 5. So a scheme tried earlier, unguarded steps with a block
  replayed from its start, guarded, when a config blew up in it, has nothing to win; it
  lost then (89 of the 1 024 configs blew up at d = 100, from the initial point of the
  time, in 16 of the 20 blocks, and the replays doubled the time). At d = 100 the two
  products, 1 024 × 32 × 100 multiply-adds each per step (≈ 150 µs), dominate both
  programs.
* **(a) at (10 000, 5) logging every step** sat at the target on this VM until the page
  faults above were found (274–330× across runs; 429–493× in three runs after the fix).
  What logging every step still costs over the final metrics, from the same A/B
  runs: ≈ 7 µs per step on two devices (program 18 → 25 ms) and ≈ 12 µs on one
  (29 → 41 ms). Tried, with no measurable gain at `log_every` = 1: before the fix,
  measuring recorded parameters after the loop (it did help at `log_every` = 2 and
  10: 41 → 27 and 29 → 23 ms); after it, the five metrics stacked into one write per
  step. The batch error's absolute sum as a product with a vector of ones took 3–5 ms
  off the one-device final-metrics sweep (not kept: it sums in another order than a
  run's batch error, which a sweep's equals bit for bit, tested).
* **(a) at d = 100 logging every step** (missed in every CPU run). Per config-step the
  sweep does 2 × 32 × 100 multiply-adds of training and 100² of metrics
  (`z = Cᵀ(w − w*)`): ≈ 34 GFLOP for 1 024 configs × 1 000 steps, ≥ 0.17 s at the two
  cores' peak (≈ 200 GFLOP/s), while 300× NumPy's 25–41 s (across runs) needs
  0.08–0.14 s. With the final metrics only the floor is ≈ 0.07 s. The metrics took two
  such products per config until 2026-11-30 (the gradient `2Cz` as a product; its norm
  is now `2‖Λ^½z‖`, as `C = QΛ^½` has orthogonal columns): A/B on two devices,
  422 → 311 ms.
* **Not done:** a sufficient-statistics gradient `(2/B)(X_bᵀX_b w − X_bᵀy_b)` measured
  only 16% faster at d = 5 in isolation (slower at d = 100); unrolling the step loop is
  slower here (d = 100: 256 → 268 ms at 2, 339 ms at 4).
"""


WHERE_THE_TIME_GOES_GPU = """Where the time goes on the GPU (`python benchmarks/gpu_unroll.py`, H200, 2026-11-30):
every method is latency-bound here, a handful of small kernels per step at a few µs each,
far from the chip's arithmetic or memory limits. The expert takes ≈ 9 µs per step; the
sweep's compiled program ≈ 16 µs at d = 5 (≈ 21 µs at d = 100), plus ≈ 2.5 ms of host
work per call (argument checks, initial points, the cached lowering and executable
lookups, the result's assembly). Per step the sweep does more than the expert: the
divergence guard's selects over parameters and moments, the batch error summed into the
carry, the full-data metrics at the end. Unrolling the innermost scan by 4 or 16 steps cut a
final-metrics sweep from 18.4 to 15.6 / 15.4 ms at d = 5 and from 23.0 to 19.8 / 17.5 ms
at d = 100, and changed nothing when logging every step: not enough to reach the expert,
and not enabled (`loop._SCAN_UNROLL`). Products run in float32 (`Precision.HIGHEST`,
`problems.core.product`) where XLA's default would round their operands to TF32; with TF32
the sweep took 17.0 / 17.9 / 21.2 ms (the three problems), and the tests' sweeps were up
to 5e-4 away from the matching `jh.run` (≤ 2.1e-6 in float32).
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--write", action="store_true", help="replace the sweep section of docs/benchmarks.md"
    )
    parser.add_argument("--repeats", type=int, default=5, help="repeats for steady-state medians")
    args = parser.parse_args(argv)
    if "JAX_NUM_CPU_DEVICES" not in os.environ:
        import jaxopt_hw as jh

        jh.use_cpu_cores()  # before any JAX computation; no effect on a GPU's programs
    load_before = os.getloadavg()[0]
    rows = measure(args.repeats)
    text = report(rows, (load_before, os.getloadavg()[0]))
    print(text)
    if args.write:
        write_section(text, titled(SECTION))
        print("wrote docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
