"""Benchmark: successive halving (``jh.search``) against a full grid (``jh.sweep``).

Both tune Adam's learning rate (log-uniform on [1e-4, 1]) and β1 (uniform on [0.5, 0.99]),
β2 = 0.999 fixed, 1 000 steps with batches of 32, on two problems side by side in one run:
the homework's (10 000, 5) least squares (``jh.linear_regression(10_000, 5)``, ranked by
the final full-data loss) and a tanh MLP with 32 hidden units on scikit-learn's digits
(``models.mlp_classifier``, ranked by the final held-out loss, ``test_loss``).

1. **Grid**: ``jh.sweep`` over 32 × 32 configs (learning rates log-spaced 1e-4…1, β1
   linear 0.5…0.99) × 2 training seeds, logging the final metrics only; its best config
   by the metric's mean over the seeds.
2. **Halving**: ``jh.search(method="halving", eta=3, min_steps=steps // 4, seeds=[0, 1])``
   over ``num_configs`` Sobol points (a quarter of the grid's count by default), once per
   search seed, logging at the end of each rung only. Its config-steps (configs × steps
   trained in each rung, summed over rungs) are read off the ``SearchResult``.
3. **Short first rung**: the same halving with ``min_steps = steps // 16`` (62 steps):
   short rungs favour large learning rates, which look best early and end worse
   (short-horizon bias; why ``jh.search`` defaults to ``steps // 4``).

Every best config is re-scored on fresh training seeds (100, 101, …), one ``jh.sweep`` of
that config alone, and compared with the grid's best re-scored on the same seeds. Wall
times are medians of the grid and the halving timed in turns (one call of each per
search seed, after a first call of each that compiles; its time is shown apart).

Usage::

    python benchmarks/bench_search.py            # print the markdown section
    python benchmarks/bench_search.py --write    # also replace it in docs/benchmarks.md
    python benchmarks/bench_search.py --quick    # 200 steps, 8 × 8 grid, 2 search seeds, 5 re-scoring seeds
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import statistics
import sys

import numpy as np
from bench_loop import machine, timed, titled, write_section

SECTION = "## Search (`jh.search`)"
BATCH, ETA, TRAIN_SEEDS, B2 = 32, 3, [0, 1], 0.999
LR_RANGE, B1_RANGE = (1e-4, 1.0), (0.5, 0.99)
FULL = {"steps": 1_000, "side": 32, "search_seeds": 5, "rescore_seeds": 20}
QUICK = {"steps": 200, "side": 8, "search_seeds": 2, "rescore_seeds": 5}


# --------------------------------------------------------------------------- the problems


def problems():
    """``{label: (problem, metric)}``: the metric ranks configs (lower is better)."""
    import jax

    import jaxopt_hw as jh
    from jaxopt_hw.models import load_digits_split, mlp_classifier

    least_squares = jh.linear_regression(10_000, 5)
    jax.block_until_ready(least_squares.X)
    x_train, y_train, x_test, y_test = load_digits_split()
    mlp = mlp_classifier(x_train, y_train, hidden=32, test_x=x_test, test_y=y_test)
    return {
        "least squares (10,000, 5)": (least_squares, "final_loss"),
        f"digits MLP (32 hidden, {len(y_train):,} rows)": (mlp, "test_loss"),
    }


def space():
    import jaxopt_hw as jh

    return {"learning_rate": jh.log_uniform(*LR_RANGE), "b1": jh.uniform(*B1_RANGE)}


def grid(side):
    return {
        "learning_rate": [float(v) for v in np.geomspace(*LR_RANGE, side)],
        "b1": [float(v) for v in np.linspace(*B1_RANGE, side)],
    }


# --------------------------------------------------------------------------- the methods


def run_grid(prob, metric, side, steps):
    """The grid's sweep (final metrics only) and its best config by ``metric``."""
    import jaxopt_hw as jh

    res = jh.sweep(
        prob,
        jh.adam,
        grid=grid(side),
        fixed={"b2": B2},
        seeds=TRAIN_SEEDS,
        steps=steps,
        batch_size=BATCH,
        log_every=steps,
        progress=False,
    )
    return res.best_config(metric)


def rung_log_every(num_configs, steps, min_steps):
    """The longest log interval that divides every rung's steps: a log at the end of each rung only."""
    from jaxopt_hw.search import halving_rungs

    rungs = halving_rungs(num_configs, steps, min_steps, ETA)
    return math.gcd(*(b.steps - a for a, b in zip([0] + [r.steps for r in rungs], rungs)))


def run_halving(prob, metric, num_configs, steps, min_steps, search_seed):
    import jaxopt_hw as jh

    return jh.search(
        prob,
        jh.adam,
        space(),
        fixed={"b2": B2},
        num_configs=num_configs,
        seeds=TRAIN_SEEDS,
        search_seed=search_seed,
        steps=steps,
        batch_size=BATCH,
        method="halving",
        eta=ETA,
        min_steps=min_steps,
        metric=metric,
        log_every=rung_log_every(num_configs, steps, min_steps),
        progress=False,
    )


def config_steps(found):
    """Configs × steps trained in each rung of a :class:`SearchResult`, summed over rungs (per seed)."""
    starts = [0] + list(found.rung_steps[:-1])
    return sum(
        int((found.rung >= r).sum()) * (end - start)
        for r, (start, end) in enumerate(zip(starts, found.rung_steps))
    )


def rungs_of(found):
    """The rungs of a :class:`SearchResult` as text: configs × the steps each trains up to."""
    return ", ".join(f"{c} to {s}" for c, s in zip(found.meta["rung_configs"], found.rung_steps))


def rescore(prob, metric, config, steps, seeds, cache):
    """``metric`` of ``config`` (mean over ``seeds``, fresh training seeds; inf if one
    diverged): one ``jh.sweep`` of the config alone. Memoized in ``cache``."""
    import jaxopt_hw as jh

    key = (config["learning_rate"], config["b1"])
    if key not in cache:
        res = jh.sweep(
            prob,
            jh.adam,
            grid={"learning_rate": [config["learning_rate"]]},
            fixed={"b1": config["b1"], "b2": B2},
            seeds=seeds,
            steps=steps,
            batch_size=BATCH,
            log_every=steps,
            progress=False,
        )
        try:
            cache[key] = res.best(metric)[metric]
        except ValueError:  # a seed diverged
            cache[key] = float("inf")
    return cache[key]


# --------------------------------------------------------------------------- measurements


def measure(scale, num_configs):
    side, steps = scale["side"], scale["steps"]
    grid_configs = side * side
    num_configs = num_configs or grid_configs // 4
    long_first, short_first = steps // 4, steps // 16
    search_seeds = list(range(scale["search_seeds"]))
    rescore_seeds = list(range(100, 100 + scale["rescore_seeds"]))
    rows = {}
    for label, (prob, metric) in problems().items():
        r = {
            "metric": metric,
            "grid_configs": grid_configs,
            "num_configs": num_configs,
            "steps": steps,
            "long_first": long_first,
            "short_first": short_first,
            "search_seeds": search_seeds,
            "rescore_seeds": rescore_seeds,
        }
        # first calls (tracing and compilation included), then the two timed in turns
        r["grid_first"], grid_best = timed(run_grid, prob, metric, side, steps)
        r["halving_first"], _ = timed(
            run_halving, prob, metric, num_configs, steps, long_first, search_seeds[0]
        )
        grid_times, halving_times, found = [], [], []
        for seed in search_seeds:
            seconds, grid_best = timed(run_grid, prob, metric, side, steps)
            grid_times.append(seconds)
            seconds, result = timed(run_halving, prob, metric, num_configs, steps, long_first, seed)
            halving_times.append(seconds)
            found.append(result)
        r["grid_time"], r["halving_time"] = (
            statistics.median(grid_times),
            statistics.median(halving_times),
        )
        short = [
            run_halving(prob, metric, num_configs, steps, short_first, seed)
            for seed in search_seeds
        ]
        r["grid_config_steps"] = grid_configs * steps
        r["halving_config_steps"] = config_steps(found[0])
        r["short_config_steps"] = config_steps(short[0])
        r["halving_rungs"], r["short_rungs"] = rungs_of(found[0]), rungs_of(short[0])
        cache = {}
        r["grid_best"] = grid_best
        r["grid_score"] = rescore(prob, metric, grid_best, steps, rescore_seeds, cache)
        r["halving_best"] = [f.best_config() for f in found]
        r["halving_scores"] = [
            rescore(prob, metric, c, steps, rescore_seeds, cache) for c in r["halving_best"]
        ]
        r["short_best"] = [f.best_config() for f in short]
        r["short_scores"] = [
            rescore(prob, metric, c, steps, rescore_seeds, cache) for c in r["short_best"]
        ]
        rows[label] = r
        print(
            f"[{label}] done: grid {r['grid_time']:.3g} s, halving {r['halving_time']:.3g} s",
            file=sys.stderr,
        )
    return rows


# --------------------------------------------------------------------------- the report


def _ratio(value):
    return f"{value:.2f}×" if value >= 0.1 else f"{value:.2g}×"


def _met(ok):
    return "met" if ok else "missed"


def _config(config):
    return f"α = {config['learning_rate']:.3g}, β1 = {config['b1']:.3g}"


def report(rows, quick, load):
    first = next(iter(rows.values()))
    steps, n_search, n_rescore = (
        first["steps"],
        len(first["search_seeds"]),
        len(first["rescore_seeds"]),
    )
    seeds = first["rescore_seeds"]
    out = [titled(SECTION), ""]
    out.append(
        f"`python benchmarks/bench_search.py{' --quick' if quick else ''}` ({datetime.date.today().isoformat()}): "
        f"Adam, learning rate in [{LR_RANGE[0]:g}, {LR_RANGE[1]:g}] (log) × β1 in [{B1_RANGE[0]:g}, {B1_RANGE[1]:g}], "
        f"β2 = {B2}, {steps:,} steps, batch {BATCH}, training seeds {TRAIN_SEEDS}; on {machine()}. "
        f"Load average before/after: {load[0]:.2f}/{load[1]:.2f}."
    )
    out.append("")
    out.append(
        f"*Grid*: `jh.sweep` over {first['grid_configs']:,} configs ({math.isqrt(first['grid_configs'])} × "
        f'{math.isqrt(first["grid_configs"])}, learning rates log-spaced). *Halving*: `jh.search(method="halving", num_configs=N, eta={ETA}, '
        f"min_steps=…)`, once for each of {n_search} search seeds. Config-steps: configs × steps trained in each "
        f"rung, summed (per training seed). Wall time: median of the grid and the halving timed in turns, one of "
        f"each per search seed, after a first call of each (tracing and compilation included, shown apart). "
        f"*Re-scored*: each best config trained again on {n_rescore} fresh seeds ({seeds[0]}…{seeds[-1]}), "
        f"the metric's mean over them; the ratio is to the grid's best re-scored on the same seeds (lower is better), "
        f"mean and worst over the search seeds."
    )
    out.append("")
    out.append(
        "| problem, metric | method | configs | config-steps | ratio to grid | first call (s) | wall time (s) "
        "| ratio to grid | re-scored metric | ratio to grid (mean / worst) |"
    )
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, r in rows.items():
        where = f"{label}, `{r['metric']}`"
        grid_steps, grid_score = r["grid_config_steps"], r["grid_score"]
        out.append(
            f"| {where} | grid, best {_config(r['grid_best'])} | {r['grid_configs']:,} | {grid_steps:,} | 1 | "
            f"{r['grid_first']:.2f} | {r['grid_time']:.3g} | 1 | {grid_score:.4g} | 1 |"
        )
        for key, name, time_key in (
            (
                "halving",
                f"halving, min_steps = {r['long_first']} (rungs: {r['halving_rungs']})",
                "halving_time",
            ),
            ("short", f"halving, min_steps = {r['short_first']} (rungs: {r['short_rungs']})", None),
        ):
            scores = np.array(r[f"{key}_scores"])
            ratios = scores / grid_score
            first_call = f"{r['halving_first']:.2f}" if time_key else "–"
            wall = f"{r[time_key]:.3g}" if time_key else "–"
            wall_ratio = _ratio(r[time_key] / r["grid_time"]) if time_key else "–"
            out.append(
                f"| {where} | {name} | {r['num_configs']:,} | {r[f'{key}_config_steps']:,} | "
                f"{_ratio(r[f'{key}_config_steps'] / grid_steps)} | {first_call} | {wall} | {wall_ratio} | "
                f"{np.mean(scores):.4g} | {np.mean(ratios):.3f}× / {np.max(ratios):.3f}× |"
            )
    out.append("")
    for label, r in rows.items():
        grid_score = r["grid_score"]
        steps_ratio = r["halving_config_steps"] / r["grid_config_steps"]
        time_ratio = r["halving_time"] / r["grid_time"]
        ratios = np.array(r["halving_scores"]) / grid_score
        short = np.array(r["short_scores"]) / grid_score
        out.append(
            f"{label}: halving with {r['long_first']}-step first rungs trained {steps_ratio:.3f}× the grid's "
            f"config-steps (budget ≤ 1/4: {_met(steps_ratio <= 1 / 4)}) in {time_ratio:.2f}× its wall time "
            f"(target ≤ 1/3: {_met(time_ratio <= 1 / 3)}); its best "
            f"config re-scored to {np.mean(ratios):.3f}× the grid's best `{r['metric']}` on average over {n_search} "
            f"search seeds and {np.max(ratios):.3f}× at worst (target ≤ 1.10: {_met(np.max(ratios) <= 1.10)}). "
            f"With {r['short_first']}-step first rungs the best re-scored to {np.mean(short):.3f}× the grid's on "
            f"average ({np.max(short):.3f}× at worst), {np.mean(short) / np.mean(ratios):.3f}× the "
            f"{r['long_first']}-step search's; learning rate picked (geometric mean over search seeds) "
            f"{_geo(r['short_best']):.3g} against "
            f"{_geo(r['halving_best']):.3g} ({r['long_first']}-step) and {r['grid_best']['learning_rate']:.3g} (grid)."
        )
        out.append("")
    return "\n".join(out)


def _geo(configs):
    """Geometric mean of the configs' learning rates."""
    return float(np.exp(np.mean([np.log(c["learning_rate"]) for c in configs])))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--write", action="store_true", help="replace the search section of docs/benchmarks.md"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="200 steps, 8 × 8 grid, 2 search seeds, 5 re-scoring seeds",
    )
    parser.add_argument(
        "--num-configs", type=int, default=None, help="halving's configs (default: the grid's // 4)"
    )
    args = parser.parse_args(argv)
    if "JAX_NUM_CPU_DEVICES" not in os.environ:
        import jaxopt_hw as jh

        jh.use_cpu_cores()  # before any JAX computation; no effect on a GPU's programs
    load_before = os.getloadavg()[0]
    rows = measure(QUICK if args.quick else FULL, args.num_configs)
    text = report(rows, args.quick, (load_before, os.getloadavg()[0]))
    print(text)
    if args.write:
        write_section(text, titled(SECTION))
        print("wrote docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
