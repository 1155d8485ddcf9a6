r"""The homework's comparison, done right: SGD, Momentum, RMSprop and Adam, tuned, over seeds.

The homework compares Momentum (EMA form, eq. 1–2), RMSprop (eq. 3–4) and Adam on its
synthetic least-squares problems (``jh.linear_regression``: ``X ~ U(−5, 5)``, column ``j``
scaled by ``2j+1``) of sizes (500, 2), (10 000, 5) and (150 000, 7), with batch 32 and
1 000 steps, and tunes them on the grids ``β, γ ∈ {0.7, 0.8, 0.9}`` × ``lr ∈ {1e-2, 1e-3,
1e-4}`` (Adam: ``lr × β1 × β2``). Here, on each problem:

* every optimizer runs as one :func:`jaxopt_hw.sweep` over a **wide grid** (``lr``
  log-spaced over five decades, ``β`` up to 0.999) × ``settings.seeds``; the **homework
  grid** is an exact sub-grid of it (the same runs: configs that share a seed share the
  initial point and the batch order), so "homework grid against wide grid" compares the
  minimum over a subset with the minimum over the whole;
* SGD is Momentum at ``β = 0`` (``v = g``, ``w ← w − αg``: the same arithmetic as
  ``jh.sgd``), the ``β = 0`` row of Momentum's sweep;
* the best config of a grid is the one with the lowest mean final excess loss over seeds
  among those where no seed diverged (:meth:`SweepResult.best`); for it we report the mean
  final excess loss with its 95% Student-t interval over seeds, ``‖w − w*‖`` and the median
  over seeds of the steps to reach the tolerance (1% of ``min_loss``, the noise-floor
  scale); the *fastest* config is the one with the lowest median steps to the tolerance
  among those whose median seed ends below it;
* a config picked as the best of hundreds on the same seeds it is scored on looks better
  than it is (the winner's luck): each optimizer's best and fastest configs are rerun on
  **held-out seeds** (new initial points and batch orders, ``HOLDOUT_FULL`` of them), and
  the accuracy and speed rankings are the held-out ones; the top two are compared by their
  paired ratio over the held-out seeds (common random numbers make it a paired design:
  :func:`jaxopt_hw.metrics.paired_ratio`, a Student-t interval on the log scale);
* the sensitivity to ``lr`` is the width, in decades, of the ``lr`` range whose best
  final excess loss (over the other hyperparameters) is within ``SENSITIVITY_FACTOR`` of
  the optimizer's best.

On (500, 2) the four tuned optimizers are also run side by side in one compiled ``jh.run``
(:func:`jaxopt_hw.studies.parity.side_by_side`: the same initial point and batches as the
sweeps' first seed) with ``record_params=True`` for a contour-and-trajectory picture; the
path length of each trajectory over the initial distance to ``w*`` measures the homework's
"looping". The quick run leaves out the (150 000, 7) problem, uses smaller wide grids and
draws the heatmaps and sensitivity curves of (10 000, 5) only.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

import jaxopt_hw as jh
from jaxopt_hw import metrics, plots
from jaxopt_hw.studies import Settings, StudyResult, fmt
from jaxopt_hw.studies.parity import excess_loss, parallel, side_by_side

__all__ = [
    "NAME",
    "TITLE",
    "run",
    "subset",
    "tuned_sweeps",
    "summarize",
    "lr_profile",
    "beta_profile",
    "make_optimizer",
    "NOTEBOOK_PICKS",
]

NAME = "comparison"
TITLE = "SGD, Momentum, RMSprop and Adam on the homework's problems: tuned, over seeds"

#: (key, n, d): the homework's three problems (the quick run leaves out the largest)
SIZES_FULL = (("small", 500, 2), ("medium", 10_000, 5), ("large", 150_000, 7))
SIZES_QUICK = SIZES_FULL[:2]
DESIGN_SEED = 0
BATCH_SIZE, STEPS, LOG_EVERY = 32, 1000, 5
#: tolerance on the excess loss, relative to min_loss
TOL_REL = 0.01
#: the homework's grids
HW_LRS = (1e-4, 1e-3, 1e-2)
HW_BETAS = (0.7, 0.8, 0.9)
#: the wide grids (they contain the homework's values exactly)
WIDE_LRS_FULL = tuple(
    float(f"{10 ** (k / 3):.3g}") for k in range(-15, 1)
)  # 1e-5 … 1, 3 per decade
WIDE_LRS_QUICK = tuple(
    float(f"{10 ** (k / 2):.3g}") for k in range(-10, 1)
)  # 1e-5 … 1, 2 per decade
WIDE_BETAS_FULL = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999)
WIDE_BETAS_QUICK = (0.7, 0.8, 0.9, 0.99)
WIDE_B2_FULL = (0.7, 0.8, 0.9, 0.99, 0.999)
WIDE_B2_QUICK = (0.7, 0.8, 0.9, 0.999)
#: The notebook's tuned picks, each "faster and more accurate" in its text (homework11.txt:
#: Momentum β = 0.7 "on the large sample" with lr = 1e-3; RMSprop γ = 0.8 with lr = 1e-2;
#: Adam β1 = 0.8, β2 = 0.7 with lr = 1e-2), read off its buggy curves; all on the homework grid.
NOTEBOOK_PICKS = {
    "momentum": {"learning_rate": 1e-3, "beta": 0.7},
    "rmsprop": {"learning_rate": 1e-2, "decay": 0.8},
    "adam": {"learning_rate": 1e-2, "b1": 0.8, "b2": 0.7},
}
#: the lr window: best final excess loss within this factor of the optimizer's best
SENSITIVITY_FACTOR = 10.0
#: held-out seeds on which the tuned configs are scored (after the tuning seeds)
HOLDOUT_FULL = 10
HOLDOUT_QUICK = 4
#: the problems that get heatmaps and sensitivity figures (the quick run draws fewer)
FIGURE_SIZES_FULL = ("small", "medium", "large")
FIGURE_SIZES_QUICK = ("medium",)
CI_LEVEL = 95
CURVE_POINTS = 200
#: the trajectories' part after the tolerance is "jitter at the noise floor" only when every
#: tuned run's mean excess loss there is at most this many tolerances …
FLOOR_FACTOR = 1.0
#: … and the part before it "bent" only when every approach is longer than the straight
#: line from the start to where it first reaches the tolerance by more than this factor
BEND_MIN = 1.1

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
LABELS = {"sgd": "SGD", "momentum": "Momentum", "rmsprop": "RMSprop", "adam": "Adam"}
#: each optimizer's momentum-like hyperparameter (the homework's β, γ, β1)
BETA = {"sgd": None, "momentum": "beta", "rmsprop": "decay", "adam": "b1"}
SYMBOL = {"learning_rate": "lr", "beta": "β", "decay": "γ", "b1": "β1", "b2": "β2"}
GRIDS = ("hw", "wide")
GRID_LABELS = {"hw": "homework grid", "wide": "wide grid"}


# --------------------------------------------------------------------------- sweeps and summaries


def _positions(name, axis_values, wanted) -> list:
    positions = []
    for value in wanted:
        found = [
            i
            for i, v in enumerate(axis_values)
            if math.isclose(float(v), float(value), rel_tol=1e-9, abs_tol=0.0)
        ]
        if not found:
            raise ValueError(f"{name}={value!r} is not on the axis {list(axis_values)}")
        positions.append(found[0])
    return sorted(positions)


def subset(result: jh.SweepResult, **values) -> jh.SweepResult:
    """The sub-grid of ``result`` at the listed values of some axes (the axes are kept).

    Example: ``subset(res, learning_rate=[1e-3, 1e-2], beta=[0.9])`` has the axes of ``res``
    with 2 and 1 values on those two. Values are matched up to rounding (``rel_tol=1e-9``)."""
    curves = dict(result.curves)
    diverged, initial_loss = result.diverged, result.initial_loss
    axes = {}
    for k, (name, axis_values) in enumerate(result.axes.items()):
        if name not in values:
            axes[name] = list(axis_values)
            continue
        index = _positions(name, axis_values, values.pop(name))
        axes[name] = [axis_values[i] for i in index]
        curves = {key: np.take(array, index, axis=k) for key, array in curves.items()}
        diverged = np.take(diverged, index, axis=k)
        if name == "seed":
            initial_loss = np.take(initial_loss, index)
    if values:
        raise ValueError(f"unknown axes {sorted(values)}; the axes are {list(result.axes)}")
    return dataclasses.replace(
        result, axes=axes, curves=curves, diverged=diverged, initial_loss=initial_loss
    )


FACTORIES = {"sgd": jh.sgd, "momentum": jh.momentum, "rmsprop": jh.rmsprop, "adam": jh.adam}


def make_optimizer(name: str, config: dict):
    """The GradientTransformation of ``name`` (``sgd``, ``momentum``, ``rmsprop``, ``adam``)
    at ``config``, e.g. ``make_optimizer("adam", {"learning_rate": 0.01, "b1": 0.9})``."""
    return FACTORIES[name](**{key: float(value) for key, value in config.items()})


def _per_optimizer(values, name) -> list:
    """``values[name]`` when ``values`` is a dict keyed by optimizer, else ``values``."""
    chosen = values[name] if isinstance(values, dict) else values
    return [float(v) for v in chosen]


def tuned_sweeps(
    problem,
    lrs,
    betas,
    b2s,
    seeds,
    *,
    steps: int,
    log_every: int,
    batch_size: int = BATCH_SIZE,
    tol=None,
) -> tuple:
    """The four optimizers' sweeps on ``problem``: three compiled sweeps (SGD is the
    ``β = 0`` row of Momentum's).

    Args:
      problem: the problem.
      lrs, betas: lists of values, or dicts ``{"momentum": …, "rmsprop": …, "adam": …}``
        of lists (SGD uses Momentum's lrs); ``betas`` are β, γ and β1 respectively.
      b2s: Adam's β2 values, or ``None`` for its default 0.999 (no ``b2`` axis).
      seeds, steps, log_every, batch_size, tol: as in :func:`jaxopt_hw.sweep`.

    Returns:
      ``({optimizer: SweepResult}, {optimizer: {"compile_seconds", "run_seconds"}})``;
      Momentum's result is its ``β ∈ betas`` part, SGD's has the axis ``learning_rate`` only.
    """
    common = dict(
        seeds=list(seeds),
        steps=steps,
        batch_size=batch_size,
        log_every=log_every,
        progress=False,
        tol=tol,
    )
    momentum_betas = _per_optimizer(betas, "momentum")
    mom = jh.sweep(
        problem,
        jh.momentum,
        grid={"learning_rate": _per_optimizer(lrs, "momentum"), "beta": [0.0] + momentum_betas},
        **common,
    )
    rms = jh.sweep(
        problem,
        jh.rmsprop,
        grid={
            "learning_rate": _per_optimizer(lrs, "rmsprop"),
            "decay": _per_optimizer(betas, "rmsprop"),
        },
        **common,
    )
    adam_grid = {"learning_rate": _per_optimizer(lrs, "adam"), "b1": _per_optimizer(betas, "adam")}
    if b2s is not None:
        adam_grid["b2"] = [float(v) for v in b2s]
    adam = jh.sweep(problem, jh.adam, grid=adam_grid, **common)
    results = {
        "sgd": mom.sel(beta=0.0),
        "momentum": subset(mom, beta=momentum_betas),
        "rmsprop": rms,
        "adam": adam,
    }
    timing = {
        name: {"compile_seconds": r.meta["compile_seconds"], "run_seconds": r.meta["run_seconds"]}
        for name, r in (("momentum", mom), ("rmsprop", rms), ("adam", adam))
    }
    timing["sgd"] = timing["momentum"]  # the same sweep
    return results, timing


def _median_steps(result) -> np.ndarray:
    """Median over seeds of the steps to the tolerance, ``inf`` where a seed diverged or
    the median seed ends above the tolerance: a config that passes the tolerance on its
    way and ends above it has not converged to it, however early it passed."""
    reach = np.median(result.steps_to_tol, axis=-1)
    ended_above = np.median(np.asarray(result.final_excess_loss, dtype=float), axis=-1) > float(
        result.tol
    )
    return np.where(result.diverged.any(axis=-1) | ended_above, np.inf, reach)


def summarize(result) -> dict:
    """The best config of a sweep (lowest mean final excess loss, no seed diverged) and
    what it reaches, the fastest config (lowest median steps to the tolerance among
    those whose median seed ends below it), and the diverged share of the grid."""
    best = result.best("final_excess_loss")
    config = {k: v for k, v in best.items() if k != "final_excess_loss"}
    at = result.sel(**config)
    final = np.asarray(at.final_excess_loss, dtype=float)
    interval = metrics.mean_interval(final)
    distance = np.asarray(at.curves["dist_to_opt"][..., -1], dtype=float)
    reach = np.asarray(at.steps_to_tol, dtype=float)
    median = _median_steps(result)
    fastest_index = np.unravel_index(int(np.argmin(median)), median.shape)
    fastest = {n: result.axes[n][i] for n, i in zip(result.config_names(), fastest_index)}
    fastest_final = np.asarray(result.sel(**fastest).final_excess_loss, dtype=float)
    return {
        "config": config,
        "excess": float(interval.mean),
        "excess_half": float(interval.half_width),
        "per_seed": final,
        **_geometric(final),
        "dist": float(np.mean(distance)),
        "dist_half": float(metrics.mean_interval(distance).half_width),
        "steps": float(np.median(reach)),
        "steps_per_seed": reach,
        "fastest": float(np.min(median)),
        "fastest_config": fastest,
        "fastest_excess": float(np.mean(fastest_final)),  # the fastest config's final excess loss
        "diverged_pct": 100.0 * float(np.mean(result.diverged.any(axis=-1))),
        "n_configs": int(np.prod(result.shape[:-1])),
        "curve": np.asarray(at.excess_loss, dtype=float),  # (seeds, logs)
    }


def holdout_seeds(seeds, count: int) -> list:
    """``count`` seeds that follow the tuning ``seeds``: none of them was tuned on."""
    first = max(int(s) for s in seeds) + 1
    return list(range(first, first + count))


def rerun(problem, picks: dict, seeds, *, steps: int, log_every: int, tol) -> dict:
    """Each optimizer's picked configs rerun on ``seeds``, through the same three compiled
    sweeps as :func:`tuned_sweeps` on the union of the picks' values (so SGD is again
    Momentum at ``β = 0``).

    Args:
      problem: the problem.
      picks: ``{optimizer: [config, ...]}`` for the four optimizers.
      seeds, steps, log_every, tol: as in :func:`jaxopt_hw.sweep`.

    Returns:
      ``({optimizer: [SweepResult over seeds alone, one per config]}, timing)``, the
      timing as in :func:`tuned_sweeps`.
    """

    def values(names, hyper):
        return sorted({float(config[hyper]) for name in names for config in picks[name]})

    lrs = {
        "momentum": values(("sgd", "momentum"), "learning_rate"),
        "rmsprop": values(("rmsprop",), "learning_rate"),
        "adam": values(("adam",), "learning_rate"),
    }
    betas = {name: values((name,), BETA[name]) for name in ("momentum", "rmsprop", "adam")}
    b2s = values(("adam",), "b2") if all("b2" in config for config in picks["adam"]) else None
    results, timing = tuned_sweeps(
        problem, lrs, betas, b2s, seeds, steps=steps, log_every=log_every, tol=tol
    )
    return {
        name: [results[name].sel(**config) for config in picks[name]] for name in OPTIMIZERS
    }, timing


def _heldout_summary(best, fastest) -> dict:
    """What a best config (and a fastest one, or ``None``) reach on held-out seeds: the
    final excess loss per seed with its mean and 95% interval, and the fastest config's
    median steps to the tolerance (``inf`` unless its median seed ends below the
    tolerance, the rule it was picked by) and how many seeds end below it."""
    final = np.asarray(best.final_excess_loss, dtype=float)
    interval = metrics.mean_interval(final)
    summary = {
        "per_seed": final,
        "excess": float(interval.mean),
        "excess_half": float(interval.half_width),
        **_geometric(final),
        "diverged": int(np.sum(best.diverged)),
        "fastest": math.inf,
        "fastest_below": 0,
    }
    if fastest is not None:  # the rule that picked it: its median seed ends below the tolerance
        ends = np.where(
            np.asarray(fastest.diverged), np.inf, np.asarray(fastest.final_excess_loss, dtype=float)
        )
        steps = float(np.median(np.asarray(fastest.steps_to_tol, dtype=float)))
        summary.update(
            fastest=steps if np.median(ends) <= float(fastest.tol) else math.inf,
            fastest_below=int(np.sum(ends <= float(fastest.tol))),
        )
    return summary


def full_batch_gd(problem, seeds, *, steps: int, log_every: int, tol: float) -> dict:
    """Full-batch GD at ``α = 2/(L+μ)``, the fastest constant step on a quadratic, from each
    seed's initial point: per seed, the steps to ``tol`` and the final excess loss."""
    lr = 2.0 / (float(problem.L) + float(problem.mu))
    traces = [
        jh.run(
            problem, jh.sgd(lr), steps=steps, batch_size=None, seed=int(seed), log_every=log_every
        )
        for seed in seeds
    ]  # one compile: the seed only moves the initial point
    excess = np.stack([np.asarray(t.excess_loss, dtype=float) for t in traces])
    reach = metrics.steps_to_tolerance(excess, np.asarray(traces[0].steps), tol)
    return {"lr": lr, "steps_per_seed": reach, "final": excess[:, -1]}


def gd_facts(size: str, gd: dict, n: int, sgd_final_gm: float, sgd_fastest: float) -> dict:
    """GD's facts on ``size``: its step, steps to the tolerance and final excess loss
    (geometric means and 95% intervals over seeds), how far below SGD's held-out final
    excess loss (its noise floor) it ends, and the rows it reads to the tolerance over
    SGD's fastest config's (``nan`` where either never gets there)."""
    reach, final = metrics.log_interval(gd["steps_per_seed"]), metrics.log_interval(gd["final"])
    key = f"{size}_gd"
    facts = {
        f"{key}_lr": gd["lr"],
        f"{key}_reached": int(np.sum(np.isfinite(gd["steps_per_seed"]))),
    }
    for name, interval in (("steps", reach), ("excess", final)):
        facts[f"{key}_{name}_gm"], facts[f"{key}_{name}_low"] = (
            float(interval.center),
            float(interval.low),
        )
        facts[f"{key}_{name}_high"] = float(interval.high)
    facts[f"{key}_floor_ratio"] = sgd_final_gm / facts[f"{key}_excess_gm"]
    if np.all(np.isfinite(gd["steps_per_seed"])) and math.isfinite(sgd_fastest):
        facts[f"{key}_rows_ratio"] = facts[f"{key}_steps_gm"] * n / (sgd_fastest * BATCH_SIZE)
    return facts


def gd_conclusion(facts: dict, sizes) -> str:
    """The sentence on full-batch GD against SGD on each homework problem of ``sizes``."""
    f = {k: fmt(v) for k, v in facts.items()}
    parts = []
    for size in sizes:
        key, shape = f"{size}_gd", f"({f['n_' + size]}, {f['d_' + size]})"
        reach = (
            f"reaches the tolerance in {f[key + '_steps_gm']} steps ({f['ci_level']}% {f[key + '_steps_low']}–"
            f"{f[key + '_steps_high']})"
            if facts[f"{key}_reached"] == facts["n_holdout"]
            else f"reaches the tolerance on {f[key + '_reached']} of {f['n_holdout']} seeds"
        )
        floor = facts[f"{key}_floor_ratio"]
        end = (
            f"ends at {f[key + '_excess_gm']}, {f[key + '_floor_ratio']} times below SGD's noise floor"
            if floor > 1
            else f"ends at {f[key + '_excess_gm']}, not below SGD's noise floor"
        )
        rows = facts.get(f"{key}_rows_ratio")
        work = (
            ""
            if rows is None
            else f", reading {f[key + '_rows_ratio']} times the rows SGD's fastest config reads to the tolerance"
            if rows >= 1
            else f", reading {fmt(1 / rows)} times fewer rows than SGD's fastest config"
        )
        parts.append(f"at {shape} it {reach} and {end}{work}")
    return (
        "Full-batch GD at `α = 2/(L+μ)`, which the homework leaves out (held-out seeds, same tolerance): "
        + "; ".join(parts)
        + "."
    )


def _geometric(final) -> dict:
    """The geometric mean of positive final excess losses over seeds and its 95% interval
    (a mean ± half-width of such skewed values reaches below zero)."""
    interval = metrics.log_interval(np.asarray(final, dtype=float))
    return {
        "excess_gm": float(interval.center),
        "excess_gm_low": float(interval.low),
        "excess_gm_high": float(interval.high),
    }


def _geometric_text(f: dict, key: str) -> str:
    """``"g (95% low–high)"`` from the formatted facts ``key + "_excess_gm"`` and its bounds."""
    return f"{f[key + '_excess_gm']} ({f['ci_level']}% {f[key + '_excess_gm_low']}–{f[key + '_excess_gm_high']})"


def _geometric_cell(summary: dict) -> str:
    """A table cell: ``"3.1e-05 (95% 1e-05–8.4e-05)"``."""
    return metrics.log_interval_text(
        summary["excess_gm"], summary["excess_gm_low"], summary["excess_gm_high"]
    )


def _mean_final_excess(result) -> np.ndarray:
    """Mean final excess loss over seeds per config, ``inf`` where a seed diverged."""
    mean = np.mean(np.asarray(result.final_excess_loss, dtype=float), axis=-1)
    return np.where(result.diverged.any(axis=-1) | ~np.isfinite(mean), np.inf, mean)


def _best_per_value(result, name: str, per_config=None) -> tuple:
    """The values of the axis ``name`` and, for each, the lowest of ``per_config`` (an array
    over the configs; default: the mean final excess loss, ``inf`` where a seed diverged)
    over the other axes (``inf`` if none is finite)."""
    values = np.asarray(result.axes[name], dtype=float)
    position = result.config_names().index(name)
    per_config = _mean_final_excess(result) if per_config is None else per_config
    return values, np.moveaxis(per_config, position, 0).reshape(len(values), -1).min(axis=1)


def lr_profile(result, *, initial_excess: float, factor: float = SENSITIVITY_FACTOR) -> dict:
    """For each lr of ``result``: the lowest mean final excess loss over the other
    hyperparameters among configs where no seed diverged (``inf`` if all diverged), and
    the window of lrs within ``factor`` of the best. An lr is *stable* when such a best
    ends below ``initial_excess`` (the mean excess loss at the initial points): a run that
    ends above where it started has not diverged past the guard's bound, but has not
    converged either."""
    lrs, per_lr = _best_per_value(result, "learning_rate")
    good = per_lr <= factor * per_lr.min()
    stable = lrs[per_lr < initial_excess]
    return {
        "lrs": lrs,
        "best": per_lr,
        "lo": float(lrs[good].min()),
        "hi": float(lrs[good].max()),
        "decades": float(np.log10(lrs[good].max() / lrs[good].min())),
        "lr_max_stable": float(stable.max()) if stable.size else math.nan,
        "none_diverged": bool(
            np.isfinite(per_lr).all()
        ),  # at every lr some config kept all its seeds
    }


def beta_profile(result, name: str) -> dict:
    """For each value of ``name`` (β, γ or β1): the lowest mean final excess loss over the
    lrs and the other axes, among configs where no seed diverged (the lr re-tuned for
    each value); the value with the lowest, the spread ``worst / best`` over the values
    where some config kept all its seeds, and how many values had none. The same for
    speed: the lowest median steps to the tolerance (:func:`_median_steps`), the value
    with the fewest, their spread and how many values never get there."""
    values, per_value = _best_per_value(result, name)
    finite = per_value[np.isfinite(per_value)]
    _, steps = _best_per_value(
        result, name, _median_steps(result)
    )  # speed: the fastest config per value
    reached = steps[np.isfinite(steps)]
    return {
        "values": values,
        "best": per_value,
        "best_value": float(values[np.argmin(per_value)]),
        "spread": float(finite.max() / finite.min()) if finite.size else math.nan,
        "n_all_diverged": int(len(values) - finite.size),
        "steps": steps,
        "fastest_value": float(values[np.argmin(steps)]) if reached.size else math.nan,
        "steps_spread": float(reached.max() / reached.min()) if reached.size else math.nan,
        "n_never": int(len(values) - reached.size),
    }


def _on_edge(name: str, config: dict) -> bool:
    """Whether a homework-grid config sits on the grid's boundary in some hyperparameter."""
    edges = {
        "learning_rate": HW_LRS,
        "beta": HW_BETAS,
        "decay": HW_BETAS,
        "b1": HW_BETAS,
        "b2": HW_BETAS,
    }
    return any(
        math.isclose(float(v), min(edges[k])) or math.isclose(float(v), max(edges[k]))
        for k, v in config.items()
    )


def _notebook_picks_conclusion(facts: dict, sizes, shape) -> str:
    """The notebook's tuned picks (:data:`NOTEBOOK_PICKS`) against the best config of the
    homework grid, trained without the notebook's bugs: in detail on the last of ``sizes``,
    as counts on the others. A pick *holds* when it did not diverge and is the best or not
    separated from it: the 95% interval of its paired ratio to the best over the seeds
    (:func:`jaxopt_hw.metrics.paired_ratio`) reaches 1. (The best was picked on these
    seeds, which favours it.)"""
    held = {}
    for size in sizes:
        held[size] = 0
        for name in NOTEBOOK_PICKS:
            key = f"{size}_{name}_pick"
            held[size] += not facts[f"{key}_diverged"] and bool(
                facts[f"{key}_is_best"] or not facts[f"{key}_above_best"]
            )
        facts[f"{size}_notebook_picks_held"] = held[size]
    facts["notebook_picks"] = len(NOTEBOOK_PICKS)
    f = {k: fmt(v) for k, v in facts.items()}
    size = sizes[-1]
    parts = []
    for name, pick in NOTEBOOK_PICKS.items():
        key = f"{size}_{name}_pick"
        if facts[f"{key}_diverged"]:
            verdict = f"it diverged on {f[key + '_diverged']} of {f['n_seeds']} seeds"
        elif facts[f"{key}_is_best"]:
            verdict = "it is the grid's best"
        else:
            verdict = (
                f"{f[key + '_ratio']} times the best ({f['ci_level']}% interval {f[key + '_ratio_low']}–"
                f"{f[key + '_ratio_high']}, paired over the seeds): "
                + (
                    "above the best"
                    if facts[f"{key}_above_best"]
                    else "not separated from the best"
                )
            )
        parts.append(
            f"{LABELS[name]} {_config_text(pick)} ends at {_geometric_text(f, key)}: {verdict}"
        )
    others = [
        f"{f[f'{s}_notebook_picks_held']} of {f['notebook_picks']} at {shape(s)}"
        for s in sizes[:-1]
    ]
    return (
        f"The notebook tuned each method on its buggy curves and picked the settings below as fastest and most "
        f"accurate; their accuracy, trained without the bugs on {shape(size)}, on the homework grid: "
        + "; ".join(parts)
        + f". {f[f'{size}_notebook_picks_held']} of the {f['notebook_picks']} picks are the grid's best or not "
        f"separated from it on these seeds (the best was picked on them, which favours it)"
        + (f"; on the other problems {', '.join(others)}." if others else ".")
    )


def _speed_accuracy_conclusion(facts: dict, sizes, shape) -> str:
    """Whether the fastest config to the tolerance and the most accurate one want
    different learning rates, from the wide grid's facts."""
    pairs = [
        (size, o)
        for size, _, _ in sizes
        for o in OPTIMIZERS
        if f"{size}_wide_{o}_fastest_lr" in facts
    ]
    larger = [
        (size, o)
        for size, o in pairs
        if facts[f"{size}_wide_{o}_fastest_lr"]
        > facts[f"{size}_wide_{o}_learning_rate"] * (1 + 1e-9)
    ]
    facts["speed_accuracy_pairs"] = len(pairs)
    facts["speed_accuracy_larger_lr"] = len(larger)
    if larger:
        facts["speed_accuracy_excess_ratio"] = float(
            np.median(
                [
                    facts[f"{size}_wide_{o}_fastest_excess"] / facts[f"{size}_wide_{o}_excess"]
                    for size, o in larger
                ]
            )
        )
    f = {k: fmt(v) for k, v in facts.items()}
    text = (
        f"In {f['speed_accuracy_larger_lr']} of the {f['speed_accuracy_pairs']} (problem, optimizer) pairs "
        "on the wide grid that reach the tolerance, the fastest config to it uses a larger lr than the most "
        "accurate one"
    )
    if not larger:
        return text + "."
    text = "Speed and accuracy ask for different learning rates: " + text[0].lower() + text[1:]
    size, o = max(
        larger,
        key=lambda pair: (
            facts[f"{pair[0]}_wide_{pair[1]}_fastest_excess"]
            / facts[f"{pair[0]}_wide_{pair[1]}_excess"]
        ),
    )
    key = f"{size}_wide_{o}"
    return (
        text
        + f", and ends {f['speed_accuracy_excess_ratio']} times higher (median over those pairs): e.g. "
        f"{LABELS[o]} at {shape(size)} reaches the tolerance in a median {f[key + '_fastest']} steps with lr = "
        f"{f[key + '_fastest_lr']} and ends at {f[key + '_fastest_excess']}, while lr = "
        f"{f[key + '_learning_rate']} ends at {f[key + '_excess']}, "
        + (
            f"reaching the tolerance after {f[key + '_steps']} steps (median over seeds)"
            if math.isfinite(facts[key + "_steps"])
            else "with the median seed never reaching the tolerance"
        )
        + ". A large step gets near the optimum fast; a small one settles lower in the SGD noise."
    )


def _divergence_conclusion(facts: dict, sizes, shape) -> str:
    """Where SGD and Momentum stop being stable, from the wide grid's facts. SGD "diverges
    above a step set by the largest curvature L" only when, at every problem, some SGD config
    diverged and its largest stable lr is the last grid value at or below `2/L` (Momentum is
    named with it when it diverges somewhere at every problem too); "Momentum's is larger"
    only when it is at every problem; RMSprop and Adam "diverge nowhere" only when none of
    their configs diverged."""
    f = {k: fmt(v) for k, v in facts.items()}
    spacing = (facts["wide_lr_max"] / facts["wide_lr_min"]) ** (
        1 / (facts["n_wide_lrs"] - 1)
    )  # log-spaced grid
    stable = {
        (s, o): facts.get(f"{s}_{o}_lr_max_stable", math.nan)
        for s in sizes
        for o in ("sgd", "momentum")
    }
    set_by_L = all(
        facts[f"{s}_wide_sgd_diverged_pct"] > 0
        and stable[s, "sgd"] <= facts[f"two_over_L_{s}"] < stable[s, "sgd"] * spacing
        for s in sizes
    )
    momentum_diverges = all(facts[f"{s}_wide_momentum_diverged_pct"] > 0 for s in sizes)
    sgd = ", ".join(
        f"{f.get(f'{s}_sgd_lr_max_stable', 'none')} at {shape(s)} (`2/L` = {f[f'two_over_L_{s}']})"
        for s in sizes
    )
    sgd = f"SGD's largest stable lr on the grid (its best config ends below the initial excess loss) is {sgd}"
    if set_by_L:
        who = "SGD and Momentum diverge" if momentum_diverges else "SGD diverges"
        sentence = f"{who} above a step set by the largest curvature L: {sgd}"
    else:
        sentence = f"On this grid the largest curvature L does not set where SGD stops being stable everywhere: {sgd}"
    momentum = ", ".join(f.get(f"{s}_momentum_lr_max_stable", "none") for s in sizes)
    if all(stable[s, "momentum"] > stable[s, "sgd"] for s in sizes):
        sentence += (
            f"; Momentum's is larger ({momentum}) because the EMA form is heavy ball with the step "
        )
        sentence += "`lr·(1 − β)`. "
    else:
        sentence += f"; Momentum's is {momentum}, not larger than SGD's at every problem. "
    adaptive_safe = all(
        facts[f"{s}_wide_{o}_diverged_pct"] == 0 for s in sizes for o in ("rmsprop", "adam")
    )
    return sentence + (
        "RMSprop and Adam, whose step per coordinate is about lr whatever the gradient's scale, "
        "diverge nowhere on the wide grid."
        if adaptive_safe
        else "RMSprop and Adam diverge too at the largest lrs (percentages above)."
    )


def _config_text(config: dict) -> str:
    return ", ".join(f"{SYMBOL.get(k, k)} = {fmt(float(v))}" for k, v in config.items())


def _path_ratio(params, w_star) -> float:
    """Length of a trajectory over the initial distance to ``w*``."""
    params = np.asarray(params, dtype=float)
    length = float(np.sum(np.linalg.norm(np.diff(params, axis=0), axis=1)))
    return length / float(np.linalg.norm(params[0] - np.asarray(w_star, dtype=float)))


def _jitter_share(params, excess, tol) -> float:
    """The share of a trajectory's length travelled after its excess loss first reaches
    ``tol`` (``params[k + 1]`` follows step ``k``, whose excess loss is ``excess[k]``)."""
    params = np.asarray(params, dtype=float)
    pieces = np.linalg.norm(np.diff(params, axis=0), axis=1)
    reached = np.asarray(excess, dtype=float) <= tol
    if not reached.any():
        return 0.0
    first = int(np.argmax(reached))
    return float(pieces[first + 1 :].sum() / pieces.sum())


def _approach(params, excess, tol) -> dict:
    """How a trajectory first reaches ``tol`` (``params[k + 1]`` follows step ``k``, whose
    excess loss is ``excess[k]``): the steps it takes (``approach_steps``), its path length
    over the straight distance from the start to that point (``bend``: 1 for a straight
    approach) and the mean excess loss from there on over ``tol`` (``floor``). Empty when
    the run never reaches ``tol``."""
    params, excess = np.asarray(params, dtype=float), np.asarray(excess, dtype=float)
    reached = excess <= tol
    if not reached.any():
        return {}
    first = int(np.argmax(reached))
    length = float(np.sum(np.linalg.norm(np.diff(params[: first + 2], axis=0), axis=1)))
    straight = float(np.linalg.norm(params[first + 1] - params[0]))
    return {
        "approach_steps": first + 1,
        "bend": length / straight if straight > 0 else 1.0,
        "floor": float(np.mean(excess[first:]) / tol),
    }


def _trajectory_conclusion(facts: dict, names=OPTIMIZERS) -> str:
    """The sentence on the small problem's trajectories. "Jitter at the noise floor" only
    when every run's mean excess loss after first reaching the tolerance is at most
    ``facts["floor_factor"]`` tolerances; "the approach, bent by the elongated contours"
    only when every approach is longer than the straight line by a factor above
    ``facts["bend_min"]``; else the measured quantities alone."""
    f = {k: fmt(v) for k, v in facts.items()}

    def listed(what):
        return ", ".join(f.get(f"small_{o}_{what}", "never") for o in names)

    ratios = {o: facts[f"small_{o}_path_ratio"] for o in names}
    longest, straightest = max(names, key=ratios.get), min(names, key=ratios.get)

    def extreme(which, name, separated):
        verdict = "separated from the next" if facts[separated] else "not separated from the next"
        return f"{which}: {LABELS[name]}, {verdict} at {f['ci_level']}%"

    reached = all(f"small_{o}_bend" in facts for o in names)
    at_floor = reached and all(facts[f"small_{o}_floor"] <= facts["floor_factor"] for o in names)
    bent = reached and all(facts[f"small_{o}_bend"] > facts["bend_min"] for o in names)
    after = (
        f", jitter at the noise floor (mean excess loss there over the tolerance: {listed('floor')})"
        if at_floor
        else f" (mean excess loss there over the tolerance: {listed('floor')})"
    )
    bend = f"its length over the straight line from the start to where it first reaches the tolerance: {listed('bend')}"
    before = (
        f"the rest is the approach, bent by the elongated contours (κ = {f['kappa_small']}; {bend})"
        if bent
        else f"the rest is the approach (steps to the tolerance: {listed('approach_steps')}; {bend})"
    )
    return (
        f"Trajectories on ({f['n_small']}, {f['d_small']}) (best configs): the path length over the initial "
        f"distance to w*, mean ± {f['ci_level']}% over the {f['n_seeds']} tuning seeds, is "
        + ", ".join(
            f"{LABELS[o]} {f[f'small_{o}_path_ratio']} ± {f[f'small_{o}_path_ratio_half']}"
            for o in names
        )
        + f" ({extreme('the longest', longest, 'path_longest_separated')}; "
        f"{extreme('the straightest', straightest, 'path_straightest_separated')}, paired over the seeds). On the "
        f"first seed (the figure) a share of "
        + listed("jitter_share")
        + " (same order) of the path is travelled after the run first reaches the tolerance"
        + after
        + "; "
        + before
        + ". "
        f"The single runs and the sweeps agree to a relative {f['trajectory_gap']} in the final excess "
        f"loss (SGD: `jh.sgd` against Momentum at `β = 0`)."
    )


def _thin(steps, curve, points: int = CURVE_POINTS):
    index = np.unique(np.linspace(0, len(steps) - 1, points).round().astype(int))
    return np.asarray(steps)[index], np.asarray(curve)[..., index]


# --------------------------------------------------------------------------- figures


def _convergence_figure(problems, summaries, steps, path) -> None:
    """Rows: homework grid, wide grid; columns: problems. Mean excess loss over seeds of
    each optimizer's best config, with the range over seeds as a band."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2 * len(problems), 7.6), layout="constrained")
    axes = fig.subplots(2, len(problems), squeeze=False, sharey="col")
    for j, (size, problem) in enumerate(problems.items()):
        for i, grid in enumerate(GRIDS):
            curves = {}
            for name in OPTIMIZERS:
                s = summaries[size][grid][name]
                curves[f"{LABELS[name]}: {_config_text(s['config'])}"] = s["curve"]
            title = f"{problem.n}×{problem.X.shape[1]}, {GRID_LABELS[grid]}"
            plots.convergence(
                curves,
                steps,
                ax=axes[i][j],
                title=title,
                ylabel="excess loss (best config)",
                band="minmax",
            )
            axes[i][j].legend(fontsize=6.5)
    plots.save_figure(fig, path)


def _wide_heatmaps(results, path, title) -> None:
    """Wide-grid heatmaps (Adam at its best β2), the homework grid's span outlined."""
    from matplotlib.patches import Rectangle

    shown, xs, ys = {}, {}, {}
    for name in ("momentum", "rmsprop", "adam"):
        result = results[name]
        label = LABELS[name]
        if "b2" in result.axes:
            b2 = result.best("final_excess_loss")["b2"]
            result = result.sel(b2=b2)
            label = f"Adam (β2 = {b2:g})"
        shown[label], xs[label], ys[label] = result, "learning_rate", BETA[name]
    fig = plots.heatmaps(shown, xs, ys, metric="final_excess_loss", ncols=1, title=title)
    for ax, (label, result) in zip(fig.axes, shown.items()):
        columns = _positions("learning_rate", result.axes["learning_rate"], HW_LRS)
        rows = _positions(ys[label], result.axes[ys[label]], HW_BETAS)
        ax.add_patch(
            Rectangle(
                (columns[0] - 0.5, rows[0] - 0.5),
                columns[-1] - columns[0] + 1,
                rows[-1] - rows[0] + 1,
                fill=False,
                edgecolor="white",
                linestyle="--",
                linewidth=2.0,
                zorder=5,
            )
        )
    plots.save_figure(fig, path)


def _homework_heatmaps(results, path, title) -> None:
    """The homework grid exactly: Momentum lr × β, RMSprop lr × γ, Adam β1 × β2 per lr."""
    shown, xs, ys = {}, {}, {}
    for name in ("momentum", "rmsprop"):
        shown[LABELS[name]], xs[LABELS[name]], ys[LABELS[name]] = (
            results[name],
            "learning_rate",
            BETA[name],
        )
    for lr in HW_LRS:
        label = f"Adam, lr = {lr:g}"
        shown[label], xs[label], ys[label] = results["adam"].sel(learning_rate=lr), "b1", "b2"
    plots.heatmaps(shown, xs, ys, metric="final_excess_loss", ncols=5, title=title, path=path)


def _sensitivity_figure(results, path, title) -> None:
    fig = plots.sensitivity(
        {LABELS[n]: results[n] for n in OPTIMIZERS},
        axis="learning_rate",
        metric="final_excess_loss",
        title=title,
    )
    ax = fig.axes[0]
    legend = ax.get_legend()
    handles, labels = list(legend.legend_handles), [t.get_text() for t in legend.get_texts()]
    handles.append(ax.axvspan(min(HW_LRS), max(HW_LRS), color="0.85", zorder=0))
    labels.append("the homework's lr range")
    ax.legend(handles, labels, fontsize=8)
    plots.save_figure(fig, path)


# --------------------------------------------------------------------------- the study


def run(settings: Settings) -> StudyResult:
    started = time.perf_counter()
    quick = settings.quick
    seeds = [int(s) for s in settings.seeds]
    lrs = WIDE_LRS_QUICK if quick else WIDE_LRS_FULL
    betas = WIDE_BETAS_QUICK if quick else WIDE_BETAS_FULL
    b2s = WIDE_B2_QUICK if quick else WIDE_B2_FULL
    sizes = SIZES_QUICK if quick else SIZES_FULL
    for value in HW_LRS:
        assert any(math.isclose(value, v) for v in lrs), value
    for value in HW_BETAS:
        assert any(math.isclose(value, v) for v in betas) and any(
            math.isclose(value, v) for v in b2s
        ), value

    holdout = holdout_seeds(seeds, HOLDOUT_QUICK if quick else HOLDOUT_FULL)
    problems, sweeps, summaries, profiles, timing, heldout, gd = {}, {}, {}, {}, {}, {}, {}
    compile_seconds = run_seconds = 0.0
    for size, n, d in sizes:
        problem = jh.linear_regression(n, d, seed=DESIGN_SEED)
        problems[size] = problem
        wide, timing[size] = tuned_sweeps(
            problem,
            lrs,
            betas,
            b2s,
            seeds,
            steps=STEPS,
            log_every=LOG_EVERY,
            tol=TOL_REL * problem.min_loss,
        )
        hw = {
            "sgd": subset(wide["sgd"], learning_rate=HW_LRS),
            "momentum": subset(wide["momentum"], learning_rate=HW_LRS, beta=HW_BETAS),
            "rmsprop": subset(wide["rmsprop"], learning_rate=HW_LRS, decay=HW_BETAS),
            "adam": subset(wide["adam"], learning_rate=HW_LRS, b1=HW_BETAS, b2=HW_BETAS),
        }
        sweeps[size] = {"hw": hw, "wide": wide}
        summaries[size] = {
            grid: {name: summarize(sweeps[size][grid][name]) for name in OPTIMIZERS}
            for grid in GRIDS
        }
        initial_excess = (
            float(np.mean(wide["sgd"].initial_loss)) - problem.min_loss
        )  # the seeds' starts
        profiles[size] = {
            name: lr_profile(wide[name], initial_excess=initial_excess) for name in OPTIMIZERS
        }
        # the wide grid's best and fastest configs, scored again on seeds they were not picked on
        tuned = summaries[size]["wide"]
        picks = {
            name: [tuned[name]["config"]]
            + ([tuned[name]["fastest_config"]] if math.isfinite(tuned[name]["fastest"]) else [])
            for name in OPTIMIZERS
        }
        again, again_timing = rerun(
            problem,
            picks,
            holdout,
            steps=STEPS,
            log_every=LOG_EVERY,
            tol=TOL_REL * problem.min_loss,
        )
        heldout[size] = {
            name: _heldout_summary(again[name][0], again[name][1] if len(again[name]) > 1 else None)
            for name in OPTIMIZERS
        }
        gd[size] = full_batch_gd(
            problem, holdout, steps=STEPS, log_every=LOG_EVERY, tol=TOL_REL * problem.min_loss
        )
        for name in ("momentum", "rmsprop", "adam"):
            compile_seconds += (
                timing[size][name]["compile_seconds"] + again_timing[name]["compile_seconds"]
            )
            run_seconds += timing[size][name]["run_seconds"] + again_timing[name]["run_seconds"]
    logged_steps = sweeps["small"]["wide"]["sgd"].steps

    # (a) the small problem: the four tuned optimizers side by side in one compiled run
    # (same initial point, same batches: the first seed's), their trajectories recorded
    small = problems["small"]
    tuned = {name: summaries["small"]["wide"][name]["config"] for name in OPTIMIZERS}
    side, together = (
        side_by_side(small, OPTIMIZERS),
        parallel({n: make_optimizer(n, tuned[n]) for n in OPTIMIZERS}),
    )
    traces = [
        jh.run(side, together, steps=STEPS, batch_size=BATCH_SIZE, seed=seed, record_params=True)
        for seed in seeds
    ]  # one compile: the seed only moves the initial point and the batch order
    if any(bool(t.diverged) for t in traces):
        raise RuntimeError("a tuned optimizer diverged on the small problem")
    trace = traces[0]
    # path lengths over every tuning seed; the picture and the approach on the first
    path_ratios = {
        name: np.array(
            [_path_ratio(np.asarray(t.params[name], dtype=float), small.w_star) for t in traces]
        )
        for name in OPTIMIZERS
    }
    trajectories, jitter, approach, trajectory_gap = {}, {}, {}, 0.0
    for name in OPTIMIZERS:
        params = np.asarray(trace.params[name], dtype=float)
        trajectories[f"{LABELS[name]} ({_config_text(tuned[name])})"] = params
        excess = excess_loss(small, params[1:])
        jitter[name] = _jitter_share(params, excess, TOL_REL * small.min_loss)
        approach[name] = _approach(params, excess, TOL_REL * small.min_loss)
        # the run and the sweep are the same computation (SGD: jh.sgd against Momentum at β = 0)
        swept = summaries["small"]["wide"][name]["per_seed"][0]
        trajectory_gap = max(
            trajectory_gap, abs(float(excess[-1]) - swept) / max(abs(swept), 1e-30)
        )

    # ------------------------------------------------------------------ facts
    facts = {
        "batch_size": BATCH_SIZE,
        "steps": STEPS,
        "log_every": LOG_EVERY,
        "n_seeds": len(seeds),
        "ci_level": CI_LEVEL,
        "tol_percent": 100 * TOL_REL,
        "hw_lr_min": min(HW_LRS),
        "hw_lr_max": max(HW_LRS),
        "hw_beta_min": min(HW_BETAS),
        "hw_beta_max": max(HW_BETAS),
        "wide_lr_min": min(lrs),
        "wide_lr_max": max(lrs),
        "n_wide_lrs": len(lrs),
        "wide_beta_min": min(betas),
        "wide_beta_max": max(betas),
        "n_betas": len(betas),
        "wide_b2_min": min(b2s),
        "wide_b2_max": max(b2s),
        "sensitivity_factor": SENSITIVITY_FACTOR,
        "floor_factor": FLOOR_FACTOR,
        "bend_min": BEND_MIN,
        "trajectory_gap": trajectory_gap,
        "n_problems": len(sizes),
        "n_optimizers": len(OPTIMIZERS),
    }
    for size, problem in problems.items():
        facts[f"n_{size}"] = problem.n
        facts[f"d_{size}"] = int(problem.X.shape[1])
        facts[f"kappa_{size}"] = float(problem.kappa)
        facts[f"L_{size}"] = float(problem.L)
        facts[f"two_over_L_{size}"] = 2.0 / float(problem.L)
        facts[f"min_loss_{size}"] = float(problem.min_loss)
        facts[f"tol_{size}"] = TOL_REL * float(problem.min_loss)
        for grid in GRIDS:
            for name in OPTIMIZERS:
                s = summaries[size][grid][name]
                key = f"{size}_{grid}_{name}"
                facts[f"{key}_excess"] = s["excess"]
                facts[f"{key}_excess_half"] = s["excess_half"]
                for part in ("gm", "gm_low", "gm_high"):
                    facts[f"{key}_excess_{part}"] = s[f"excess_{part}"]
                facts[f"{key}_dist"] = s["dist"]
                facts[f"{key}_steps"] = s["steps"]
                facts[f"{key}_fastest"] = s["fastest"]
                facts[f"{key}_diverged_pct"] = s["diverged_pct"]
                facts[f"{key}_n_configs"] = s["n_configs"]
                for hyper, value in s["config"].items():
                    facts[f"{key}_{hyper}"] = float(value)
                if math.isfinite(
                    s["fastest"]
                ):  # speed against accuracy: the fastest config's lr and end
                    facts[f"{key}_fastest_lr"] = float(s["fastest_config"]["learning_rate"])
                    facts[f"{key}_fastest_excess"] = s["fastest_excess"]
        edges = 0
        for name in OPTIMIZERS:
            hw, wide = summaries[size]["hw"][name], summaries[size]["wide"][name]
            edge = int(_on_edge(name, hw["config"]))
            edges += edge
            facts[f"{size}_hw_{name}_edge"] = edge
            facts[f"{size}_{name}_gain"] = hw["excess"] / wide["excess"]
            if math.isfinite(wide["fastest"]):  # the homework grid's fastest over the wide grid's
                facts[f"{size}_{name}_speedup"] = hw["fastest"] / wide["fastest"]
            p = profiles[size][name]
            facts[f"{size}_{name}_lr_lo"] = p["lo"]
            facts[f"{size}_{name}_lr_hi"] = p["hi"]
            facts[f"{size}_{name}_lr_decades"] = p["decades"]
            if math.isfinite(p["lr_max_stable"]):
                facts[f"{size}_{name}_lr_max_stable"] = p["lr_max_stable"]
        facts[f"{size}_hw_edges"] = edges
        for (
            name,
            pick,
        ) in NOTEBOOK_PICKS.items():  # the notebook's picks against the homework grid's best
            at_pick = sweeps[size]["hw"][name].sel(**pick)
            final = np.asarray(at_pick.final_excess_loss, dtype=float)
            interval = metrics.mean_interval(final)
            best = summaries[size]["hw"][name]
            key = f"{size}_{name}_pick"
            facts[f"{key}_excess"] = float(interval.mean)
            facts[f"{key}_excess_half"] = float(interval.half_width)
            for part, value in _geometric(final).items():
                facts[f"{key}_{part}"] = value
            facts[f"{key}_is_best"] = int(
                all(math.isclose(float(pick[h]), float(best["config"][h])) for h in pick)
            )
            facts[f"{key}_diverged"] = int(at_pick.diverged.sum())
            ratio = metrics.paired_ratio(
                final, best["per_seed"]
            )  # the same seeds: a paired comparison
            facts[f"{key}_ratio"], facts[f"{key}_ratio_low"], facts[f"{key}_ratio_high"] = (
                ratio.ratio,
                ratio.low,
                ratio.high,
            )
            facts[f"{key}_above_best"] = int(ratio.low > 1.0)
        for name in ("momentum", "rmsprop", "adam"):
            beta = beta_profile(sweeps[size]["wide"][name], BETA[name])
            facts[f"{size}_{name}_beta_best"] = beta["best_value"]
            facts[f"{size}_{name}_beta_spread"] = beta["spread"]
            if math.isfinite(beta["fastest_value"]):
                facts[f"{size}_{name}_beta_fastest"] = beta["fastest_value"]
                facts[f"{size}_{name}_beta_steps_spread"] = beta["steps_spread"]
                facts[f"{size}_{name}_beta_never"] = beta["n_never"]
        # the ranking on the tuning seeds, and on the held-out seeds: the one the conclusions rest on
        order = sorted(OPTIMIZERS, key=lambda o: summaries[size]["wide"][o]["excess"])
        held = heldout[size]
        for name in OPTIMIZERS:
            key = f"{size}_heldout_{name}"
            facts[f"{key}_excess"] = held[name]["excess"]
            facts[f"{key}_excess_half"] = held[name]["excess_half"]
            for part in ("gm", "gm_low", "gm_high"):
                facts[f"{key}_excess_{part}"] = held[name][f"excess_{part}"]
            facts[f"{key}_diverged"] = held[name]["diverged"]
            # medians over seeds: one seed that blows up moves a mean by orders of magnitude
            facts[f"{key}_optimism"] = float(np.median(held[name]["per_seed"])) / float(
                np.median(summaries[size]["wide"][name]["per_seed"])
            )
            facts[f"{key}_fastest"] = held[name]["fastest"]
            facts[f"{key}_fastest_below"] = held[name]["fastest_below"]
        heldout_order = sorted(OPTIMIZERS, key=lambda o: held[o]["excess"])
        ratio = metrics.paired_ratio(
            held[heldout_order[1]]["per_seed"], held[heldout_order[0]]["per_seed"]
        )
        facts[f"{size}_heldout_rank_ratio"] = ratio.ratio
        facts[f"{size}_heldout_rank_low"] = ratio.low
        facts[f"{size}_heldout_rank_high"] = ratio.high
        facts[f"{size}_heldout_rank_wins"] = ratio.larger  # seeds where the leader ends lower
        facts[f"{size}_heldout_rank_count"] = ratio.count
        facts[f"{size}_heldout_rank_separated"] = int(ratio.separated)
        facts[f"{size}_heldout_rank_leader_lower"] = int(
            ratio.low > 1.0
        )  # separated, and the leader lower
        facts[f"{size}_heldout_same_top"] = int(heldout_order[0] == order[0])
        facts.update(
            gd_facts(
                size, gd[size], problems[size].n, held["sgd"]["excess_gm"], held["sgd"]["fastest"]
            )
        )
        speed = sorted(OPTIMIZERS, key=lambda o: held[o]["fastest"])
        adaptive = min(held[o]["fastest"] for o in ("rmsprop", "adam"))
        if math.isfinite(adaptive) and math.isfinite(held["sgd"]["fastest"]):
            facts[f"{size}_adaptive_speedup"] = held["sgd"]["fastest"] / adaptive
        (
            summaries[size]["order"],
            summaries[size]["heldout_order"],
            summaries[size]["speed_order"],
        ) = (order, heldout_order, speed)
    for name in OPTIMIZERS:
        interval = metrics.mean_interval(path_ratios[name])
        facts[f"small_{name}_path_ratio"] = float(interval.mean)
        facts[f"small_{name}_path_ratio_half"] = float(interval.half_width)
    by_length = sorted(OPTIMIZERS, key=lambda o: facts[f"small_{o}_path_ratio"])
    facts["path_longest_separated"] = int(
        metrics.paired_ratio(path_ratios[by_length[-1]], path_ratios[by_length[-2]]).low > 1.0
    )
    facts["path_straightest_separated"] = int(
        metrics.paired_ratio(path_ratios[by_length[1]], path_ratios[by_length[0]]).low > 1.0
    )
    for name in OPTIMIZERS:
        facts[f"small_{name}_jitter_share"] = jitter[name]
        for what, value in approach[name].items():  # none when the run never reaches the tolerance
            facts[f"small_{name}_{what}"] = value
    facts["adam_b2_above_hw"] = sum(
        summaries[s]["wide"]["adam"]["config"]["b2"] > max(HW_BETAS) for s, _, _ in sizes
    )
    facts["rmsprop_decay_above_hw"] = sum(
        summaries[s]["wide"]["rmsprop"]["config"]["decay"] > max(HW_BETAS) for s, _, _ in sizes
    )
    facts["n_holdout"] = len(holdout)
    facts["holdout_first"], facts["holdout_last"] = holdout[0], holdout[-1]
    facts["heldout_separated_count"] = sum(
        facts[f"{s}_heldout_rank_separated"] for s, _, _ in sizes
    )
    facts["heldout_same_top_count"] = sum(facts[f"{s}_heldout_same_top"] for s, _, _ in sizes)
    optimism = {(s, o): facts[f"{s}_heldout_{o}_optimism"] for s, _, _ in sizes for o in OPTIMIZERS}
    facts["optimism_median"] = float(np.median(list(optimism.values())))
    for name in OPTIMIZERS:
        facts[f"{name}_optimism_median"] = float(
            np.median([optimism[s, name] for s, _, _ in sizes])
        )
    worst = max(optimism, key=optimism.get)
    facts["optimism_max"] = optimism[worst]
    facts["optimism_min"] = min(optimism.values())
    optimism_worst = worst
    facts["optimism_pairs"] = len(optimism)
    fastest_at = {s: min(heldout[s][o]["fastest"] for o in OPTIMIZERS) for s, _, _ in sizes}
    facts["adam_fastest_count"] = sum(
        math.isfinite(fastest_at[s]) and heldout[s]["adam"]["fastest"] == fastest_at[s]
        for s, _, _ in sizes
    )
    facts["adam_accurate_count"] = sum(
        summaries[s]["heldout_order"][0] == "adam" for s, _, _ in sizes
    )
    facts["adam_accurate_separated_count"] = sum(
        summaries[s]["heldout_order"][0] == "adam" and facts[f"{s}_heldout_rank_leader_lower"]
        for s, _, _ in sizes
    )
    facts["sweeps"] = 3 * len(sizes)
    facts["compile_seconds"] = compile_seconds
    facts["run_seconds"] = run_seconds
    f = {k: fmt(v) for k, v in facts.items()}

    # ------------------------------------------------------------------ text
    def shape(size):
        return f"({f[f'n_{size}']}, {f[f'd_{size}']})"

    def excess(size, grid, name):
        return _geometric_text(f, f"{size}_{grid}_{name}")

    text = (
        f"The homework's least-squares problems {', '.join(shape(s) for s, _, _ in sizes)} "
        f"(`jh.linear_regression`, condition numbers κ = {', '.join(f[f'kappa_{s}'] for s, _, _ in sizes)}), batch "
        f"{f['batch_size']}, {f['steps']} steps, {f['n_seeds']} seeds (each seed: an initial point and a batch order "
        f"shared by all configs). Each optimizer is swept over a wide grid, lr from {f['wide_lr_min']} to "
        f"{f['wide_lr_max']} ({f['n_wide_lrs']} values, log-spaced) × β from {f['wide_beta_min']} to "
        f"{f['wide_beta_max']} (Adam also β2 from {f['wide_b2_min']} to {f['wide_b2_max']}); the homework grid, lr "
        f"from {f['hw_lr_min']} to {f['hw_lr_max']} × β, γ, β1, β2 from {f['hw_beta_min']} to {f['hw_beta_max']}, is "
        f"its exact sub-grid. SGD is Momentum at `β = 0`. Best config: lowest mean final excess loss with no seed "
        f"diverged; intervals are {f['ci_level']}% over seeds; the tolerance is {f['tol_percent']}% of the minimal "
        f"loss (the noise-floor scale), and steps to it are logged every {f['log_every']} steps. The rankings are "
        f"scored on {f['n_holdout']} held-out seeds, which the tuning never saw: each optimizer's best and fastest "
        f"configs are rerun on them (second table)."
    )

    def heldout_excess(size, name):
        key = f"{size}_heldout_{name}"
        return (
            f"mean {f[key + '_excess']}; geometric mean {f[key + '_excess_gm']}, {f['ci_level']}% "
            f"{f[key + '_excess_gm_low']}–{f[key + '_excess_gm_high']}"
        )

    conclusions = []
    parts = []
    for size, _, _ in sizes:
        first, second = summaries[size]["heldout_order"][:2]
        key = f"{size}_heldout_rank"
        parts.append(
            f"at {shape(size)} {LABELS[first]} ({heldout_excess(size, first)}) ahead of {LABELS[second]} "
            f"({heldout_excess(size, second)}); paired over the held-out seeds, the runner-up's final excess loss is "
            f"{f[key + '_ratio']} times the leader's (geometric mean, {f['ci_level']}% interval {f[key + '_low']}–"
            f"{f[key + '_high']}; the leader lower on {f[key + '_wins']} of {f[key + '_count']} seeds"
            + (
                ""
                if facts[f"{key}_ratio"] >= 1
                else "; the geometric mean orders the two the other way"
            )
            + "): "
            + (
                "separated, the leader lower"
                if facts[f"{key}_leader_lower"]
                else "separated, the runner-up lower by the geometric mean"
                if facts[f"{key}_separated"]
                else "not separated"
            )
        )
    conclusions.append(
        f"Tuned on the wide grid over the {f['n_seeds']} tuning seeds and scored on {f['n_holdout']} held-out seeds "
        f"({f['holdout_first']}–{f['holdout_last']}: new initial points and batch orders), the most accurate method "
        f"(lowest mean final excess loss after {f['steps']} steps) is "
        + "; ".join(parts)
        + f". The top two are "
        f"separated at {f['ci_level']}% on {f['heldout_separated_count']} of the {f['n_problems']} problems; the "
        f"tuning seeds had put the same method first on {f['heldout_same_top_count']}."
    )
    n_configs = ", ".join(
        f"{LABELS[o]} {summaries[sizes[0][0]]['wide'][o]['n_configs']}" for o in OPTIMIZERS
    )
    per_optimizer = ", ".join(f"{LABELS[o]} {f[f'{o}_optimism_median']}" for o in OPTIMIZERS)
    conclusions.append(
        f"Scored again on the held-out seeds, a best config's median final excess loss is {f['optimism_median']} "
        f"times its median over the tuning seeds it was picked on (median over the {f['optimism_pairs']} (problem, "
        f"optimizer) pairs, from {f['optimism_min']} to {f['optimism_max']}, the largest {LABELS[optimism_worst[1]]} "
        f"at {shape(optimism_worst[0])}; per optimizer, median over problems: {per_optimizer}; picked from grids of "
        f"{n_configs} configs). The held-out seeds never took part in picking a config, so the rankings above rest "
        "on them."
    )
    parts = []
    for size, _, _ in sizes:
        speed = summaries[size]["speed_order"]
        items = ", ".join(
            f"{LABELS[o]} {f[f'{size}_heldout_{o}_fastest']} ({f[f'{size}_heldout_{o}_fastest_below']}/{f['n_holdout']})"
            if math.isfinite(facts[f"{size}_heldout_{o}_fastest"])
            else f"{LABELS[o]} never"
            for o in speed
        )
        parts.append(f"at {shape(size)}: {items}")
    leads, cells = [], []  # SGD's steps over the faster adaptive method's, per problem
    for size, _, _ in sizes:
        adaptive = min(facts[f"{size}_heldout_{o}_fastest"] for o in ("rmsprop", "adam"))
        sgd_reaches = math.isfinite(facts[f"{size}_heldout_sgd_fastest"])
        if f"{size}_adaptive_speedup" in facts:
            leads.append(facts[f"{size}_adaptive_speedup"])
            cells.append(f"{f[f'{size}_adaptive_speedup']} (κ = {f[f'kappa_{size}']})")
        elif math.isfinite(adaptive) and not sgd_reaches:
            leads.append(math.inf)
            cells.append(f"SGD never gets there (κ = {f[f'kappa_{size}']})")
        else:
            leads.append(math.nan)
            cells.append(f"no adaptive method gets there (κ = {f[f'kappa_{size}']})")
    growing = not any(math.isnan(v) for v in leads) and all(b > a for a, b in zip(leads, leads[1:]))
    conclusions.append(
        "Fastest to the tolerance (each optimizer's fastest config among those whose median tuning seed ends below "
        "the tolerance; the median steps to it over the held-out seeds, where the median held-out seed ends below "
        "it too, and in brackets the held-out seeds that end below it): "
        + "; ".join(parts)
        + ". SGD's steps over those of the faster adaptive method (RMSprop or Adam), as κ grows: "
        + ", ".join(cells)
        + ": "
        + (
            "the adaptive methods' lead grows with κ, consistent with their per-coordinate step undoing the "
            "recipe's column scaling, which is what sets κ."
            if growing
            else "the lead does not grow monotonically with κ on these seeds."
        )
    )
    conclusions.append(_speed_accuracy_conclusion(facts, sizes, shape))
    conclusions.append(_notebook_picks_conclusion(facts, [size for size, _, _ in sizes], shape))
    for size, _, _ in sizes[1:]:
        gains = ", ".join(f"{LABELS[o]} {f[f'{size}_{o}_gain']}" for o in OPTIMIZERS)
        edge_names = [LABELS[o] for o in OPTIMIZERS if facts[f"{size}_hw_{o}_edge"]]
        edges = ", ".join(edge_names) if edge_names else "none"
        conclusions.append(
            f"On the homework grid at {shape(size)}, the best configs are "
            + "; ".join(
                f"{LABELS[o]} {_config_text(summaries[size]['hw'][o]['config'])} "
                f"({excess(size, 'hw', o)})"
                for o in OPTIMIZERS
            )
            + f"; {f[f'{size}_hw_edges']} of the {f['n_optimizers']} lie on the grid's edge ({edges}). The wide "
            f"grid lowers the best final excess loss by the factors {gains}, with best configs "
            + "; ".join(
                f"{LABELS[o]} {_config_text(summaries[size]['wide'][o]['config'])}"
                for o in OPTIMIZERS
            )
            + "."
        )
    conclusions.append(
        f"The homework grid stops below the adaptive methods' best second-moment decay: the wide grid's best β2 "
        f"for Adam lies above the homework's largest value {f['hw_beta_max']} on {f['adam_b2_above_hw']} of the "
        f"{f['n_problems']} problems, and RMSprop's best γ on {f['rmsprop_decay_above_hw']} (a plausible reason, not "
        f"measured here: a slowly decaying average of g² gives a steadier per-coordinate step once the gradient is "
        f"mostly noise)."
        if facts["adam_b2_above_hw"] + facts["rmsprop_decay_above_hw"] > len(sizes)
        else f"The wide grid's best β2 for Adam lies above the homework's largest value {f['hw_beta_max']} on "
        f"{f['adam_b2_above_hw']} of the {f['n_problems']} problems, and RMSprop's best γ on "
        f"{f['rmsprop_decay_above_hw']}."
    )
    parts = []
    for size, _, _ in sizes:
        items = ", ".join(f"{LABELS[o]} {f[f'{size}_{o}_lr_decades']}" for o in OPTIMIZERS)
        diverged = ", ".join(
            f"{LABELS[o]} {f[f'{size}_wide_{o}_diverged_pct']}%" for o in OPTIMIZERS
        )
        parts.append(f"at {shape(size)} {items} (configs diverged: {diverged})")
    conclusions.append(
        f"Sensitivity to lr, as the width in decades of the lr window whose best final excess loss is within a "
        f"factor {f['sensitivity_factor']} of the optimizer's best: " + "; ".join(parts) + "."
    )
    parts = []
    for size, _, _ in sizes:
        items = ", ".join(
            f"{LABELS[o]}'s {SYMBOL[BETA[o]]} ×{f[f'{size}_{o}_beta_spread']} (best "
            f"{f[f'{size}_{o}_beta_best']})"
            for o in ("momentum", "rmsprop", "adam")
        )
        parts.append(f"at {shape(size)} {items}")

    def beta_speed_item(size, o):
        key, symbol = f"{size}_{o}", SYMBOL[BETA[o]]
        if f"{key}_beta_fastest" not in facts:
            return f"{LABELS[o]}: no value of {symbol} gets there"
        if facts[f"{key}_beta_never"] == facts["n_betas"] - 1:
            return f"{LABELS[o]}: only {symbol} = {f[key + '_beta_fastest']} gets there"
        never = (
            f"; values that never get there: {f[key + '_beta_never']}"
            if facts[f"{key}_beta_never"]
            else ""
        )
        return f"{LABELS[o]}'s {symbol} ×{f[key + '_beta_steps_spread']} (fastest {f[key + '_beta_fastest']}{never})"

    speed_parts = [
        f"at {shape(size)} "
        + ", ".join(beta_speed_item(size, o) for o in ("momentum", "rmsprop", "adam"))
        for size, _, _ in sizes
    ]
    # the fastest and the most accurate value, where more than one value gets to the tolerance
    compared = [
        (size, o)
        for size, _, _ in sizes
        for o in ("momentum", "rmsprop", "adam")
        if f"{size}_{o}_beta_fastest" in facts
        and facts[f"{size}_{o}_beta_never"] < facts["n_betas"] - 1
    ]
    facts["beta_same_for_speed_and_accuracy"] = sum(
        math.isclose(facts[f"{size}_{o}_beta_fastest"], facts[f"{size}_{o}_beta_best"])
        for size, o in compared
    )
    facts["beta_pairs"] = len(compared)
    f = {k: fmt(v) for k, v in facts.items()}
    conclusions.append(
        "The momentum and averaging parameters, each value with its lr re-tuned, move the best final excess loss "
        "by these factors (worst value over best, on the wide grid's "
        + f"{f['n_betas']} values): "
        + "; ".join(parts)
        + ". They move the fewest (median) steps to the tolerance, among configs whose median "
        "seed ends below it, by these factors: "
        + "; ".join(speed_parts)
        + f". Where more than one value gets "
        f"there, the fastest and the most accurate value coincide in {f['beta_same_for_speed_and_accuracy']} of the "
        f"{f['beta_pairs']} (problem, optimizer) pairs (on the tuning seeds)."
    )
    conclusions.append(_divergence_conclusion(facts, [s for s, _, _ in sizes], shape))
    conclusions.append(_trajectory_conclusion(facts))
    conclusions.append(
        f"The homework concluded that Adam converges fastest and most accurately; tuned, and scored on held-out "
        f"seeds, Adam is the fastest to the tolerance (or tied) at {f['adam_fastest_count']} and the most accurate "
        f"at {f['adam_accurate_count']} of the {f['n_problems']} problems, separated from the runner-up at "
        f"{f['adam_accurate_separated_count']} of them."
    )
    conclusions.append(gd_conclusion(facts, [s for s, _, _ in sizes]))

    # ------------------------------------------------------------------ tables
    header = (
        f"| problem | grid | optimizer | best config | final excess loss (geometric mean, {CI_LEVEL}%) | ‖w − w*‖ | median steps to "
        f"tol (best config) | median steps (fastest config) | diverged configs |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = [header]
    for size, _, _ in sizes:
        for grid in GRIDS:
            for name in OPTIMIZERS:
                s = summaries[size][grid][name]
                lines.append(
                    f"| {problems[size].n}×{problems[size].X.shape[1]} | {GRID_LABELS[grid]} | {LABELS[name]} | "
                    f"{_config_text(s['config'])} | {_geometric_cell(s)} | {s['dist']:.3g} | "
                    f"{_steps_cell(s['steps'])} | {_steps_cell(s['fastest'])} | {s['diverged_pct']:.0f}% of {s['n_configs']} |"
                )
    table = "\n".join(lines)
    header = (
        f"| problem | optimizer | best config | final excess loss, tuning seeds (geometric mean, {CI_LEVEL}%) | held-out seeds "
        f"(geometric mean, {CI_LEVEL}%) | held-out / tuning | fastest config | median steps to tol, held-out | held-out seeds "
        "ending below tol |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = [header]
    for size, _, _ in sizes:
        for name in OPTIMIZERS:
            picked, h = summaries[size]["wide"][name], heldout[size][name]
            found = math.isfinite(picked["fastest"])
            below = f"{h['fastest_below']} of {len(holdout)}" if found else "–"
            lines.append(
                f"| {problems[size].n}×{problems[size].X.shape[1]} | {LABELS[name]} | {_config_text(picked['config'])} | "
                f"{_geometric_cell(picked)} | {_geometric_cell(h)} | "
                f"{h['excess'] / picked['excess']:.3g} | {_config_text(picked['fastest_config']) if found else '–'} | "
                f"{_steps_cell(h['fastest'])} | {below} |"
            )
    heldout_table = "\n".join(lines)
    header = (
        f"| problem | optimizer | lr window (best within ×{SENSITIVITY_FACTOR:g}) | decades | largest stable lr | "
        "gain of the wide grid |\n|---|---|---|---|---|---|"
    )
    lines = [header]
    for size, _, _ in sizes:
        for name in OPTIMIZERS:
            p = profiles[size][name]
            lines.append(
                f"| {problems[size].n}×{problems[size].X.shape[1]} | {LABELS[name]} | {p['lo']:.3g} – {p['hi']:.3g} | "
                f"{p['decades']:.2f} | {p['lr_max_stable']:.3g} | {facts[f'{size}_{name}_gain']:.3g}× |"
            )
    sensitivity_table = "\n".join(lines)

    # ------------------------------------------------------------------ figures
    figures = []
    name = "comparison_trajectories.png"
    plots.contour_trajectories_grid(
        small,
        trajectories,
        ncols=4,
        path=settings.figure_path(name),
        title=f"{small.name}: tuned optimizers, first seed, {STEPS} steps",
    )
    figures.append(
        (
            name,
            "The (500, 2) problem's loss contours with the trajectory of each tuned optimizer "
            "(first seed; circle: start, cross: end, star: w*).",
        )
    )
    name = "comparison_convergence.png"
    _convergence_figure(problems, summaries, logged_steps, settings.figure_path(name))
    figures.append(
        (
            name,
            "Excess loss of each optimizer's best config, mean over seeds, band: the range over seeds; "
            "top: best on the homework grid, bottom: best on the wide grid.",
        )
    )
    figure_sizes = FIGURE_SIZES_QUICK if quick else FIGURE_SIZES_FULL
    for size in figure_sizes:
        p = problems[size]
        name = f"comparison_heatmaps_hw_{size}.png"
        _homework_heatmaps(
            sweeps[size]["hw"],
            settings.figure_path(name),
            f"{p.n}×{p.X.shape[1]}, homework grid: final excess loss (mean over seeds)",
        )
        figures.append(
            (
                name,
                f"The homework grid on the {p.n}×{p.X.shape[1]} problem: final excess loss (mean over seeds); "
                "× and hatching: a seed diverged; red box: the best cell.",
            )
        )
        name = f"comparison_heatmaps_wide_{size}.png"
        _wide_heatmaps(
            sweeps[size]["wide"],
            settings.figure_path(name),
            f"{p.n}×{p.X.shape[1]}, wide grid: final excess loss (mean over seeds)",
        )
        figures.append(
            (
                name,
                f"The wide grid on the {p.n}×{p.X.shape[1]} problem (Adam at its best β2); dashed white: the "
                "span of the homework grid.",
            )
        )
    for size in figure_sizes:
        p = problems[size]
        name = f"comparison_sensitivity_{size}.png"
        _sensitivity_figure(
            sweeps[size]["wide"],
            settings.figure_path(name),
            f"{p.n}×{p.X.shape[1]}: best final excess loss against lr",
        )
        figures.append(
            (
                name,
                f"Sensitivity to lr on the {p.n}×{p.X.shape[1]} problem: for each lr the best final excess "
                f"loss over the other hyperparameters, {CI_LEVEL}% intervals over seeds; shaded: the "
                "homework's lr range.",
            )
        )

    # ------------------------------------------------------------------ data
    thin_steps, _ = _thin(logged_steps, logged_steps)
    data = {
        "seeds": seeds,
        "sizes": {size: [p.n, int(p.X.shape[1])] for size, p in problems.items()},
        "grids": {
            "hw": {"lr": list(HW_LRS), "beta": list(HW_BETAS)},
            "wide": {"lr": list(lrs), "beta": list(betas), "b2": list(b2s)},
        },
        "curve_steps": thin_steps,
        "summaries": {
            size: {
                grid: {
                    name: {
                        k: (v if k != "curve" else _thin(logged_steps, v)[1].mean(axis=0))
                        for k, v in summaries[size][grid][name].items()
                    }
                    for name in OPTIMIZERS
                }
                for grid in GRIDS
            }
            for size in problems
        },
        "holdout_seeds": holdout,
        "heldout": {
            size: {name: dict(heldout[size][name]) for name in OPTIMIZERS} for size in problems
        },
        "order": {size: summaries[size]["order"] for size in problems},
        "heldout_order": {size: summaries[size]["heldout_order"] for size in problems},
        "speed_order": {size: summaries[size]["speed_order"] for size in problems},
        "lr_profiles": {
            size: {name: {k: v for k, v in profiles[size][name].items()} for name in OPTIMIZERS}
            for size in problems
        },
        "timing": timing,
    }
    facts["seconds"] = round(time.perf_counter() - started, 1)
    return StudyResult(
        name=NAME,
        title=TITLE,
        facts=facts,
        data=data,
        figures=figures,
        tables=[table, heldout_table, sensitivity_table],
        conclusions=conclusions,
        text=text,
    )


def _steps_cell(value: float) -> str:
    return "never" if not math.isfinite(value) else f"{value:.4g}"
