"""The comparison's sweeps and what is read off them: sub-grids, best and fastest configs,
held-out re-runs, full-batch GD, and the lr and β profiles."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

import jaxopt_hw as jh
from jaxopt_hw import metrics
from jaxopt_hw.studies.comparison.grids import (
    BATCH_SIZE,
    BETA,
    OPTIMIZERS,
    SENSITIVITY_FACTOR,
)


def positions(name, axis_values, wanted) -> list:
    """The sorted indices of the values ``wanted`` on an axis (matched up to rounding)."""
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
        index = positions(name, axis_values, values.pop(name))
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


def median_steps(result) -> np.ndarray:
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
    median = median_steps(result)
    fastest_index = np.unravel_index(int(np.argmin(median)), median.shape)
    fastest = {n: result.axes[n][i] for n, i in zip(result.config_names(), fastest_index)}
    fastest_final = np.asarray(result.sel(**fastest).final_excess_loss, dtype=float)
    return {
        "config": config,
        "excess": float(interval.mean),
        "excess_half": float(interval.half_width),
        "per_seed": final,
        **geometric(final),
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


def rerun(problem, picks: dict, seeds, *, steps: int, log_every: int, tol, group: int) -> dict:
    """Each optimizer's picked configs rerun on ``seeds``, through the same three compiled
    sweeps as :func:`tuned_sweeps` on the union of the picks' values (so SGD is again
    Momentum at ``β = 0``), ``group`` seeds a call.

    A sweep's shapes include its number of seeds: with ``group`` the tuning's seed count,
    the calls reuse the tuning's compiled programs. Each seed trains on its own, so the
    results are those of one call over all ``seeds``.

    Args:
      problem: the problem.
      picks: ``{optimizer: [config, ...]}`` for the four optimizers.
      seeds, steps, log_every, tol: as in :func:`jaxopt_hw.sweep`.
      group: the number of seeds a call trains (the last call may train fewer).

    Returns:
      ``({optimizer: [SweepResult over seeds alone, one per config]}, timing)``, the
      timing as in :func:`tuned_sweeps`, summed over the calls.
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
    seeds = list(seeds)
    calls = [
        tuned_sweeps(
            problem,
            lrs,
            betas,
            b2s,
            seeds[i : i + group],
            steps=steps,
            log_every=log_every,
            tol=tol,
        )
        for i in range(0, len(seeds), group)
    ]
    results = {name: joined_seeds([r[name] for r, _ in calls]) for name in OPTIMIZERS}
    timing = {
        name: {key: sum(t[name][key] for _, t in calls) for key in calls[0][1][name]}
        for name in OPTIMIZERS
    }
    return {
        name: [results[name].sel(**config) for config in picks[name]] for name in OPTIMIZERS
    }, timing


def joined_seeds(results: list) -> jh.SweepResult:
    """Sweeps of one grid over successive groups of seeds, as one sweep over all of them
    (the first one's ``meta``; sweeps without kept parameters, as the studies run them)."""
    first = results[0]
    return dataclasses.replace(
        first,
        axes={**first.axes, "seed": [seed for r in results for seed in r.axes["seed"]]},
        curves={k: np.concatenate([r.curves[k] for r in results], axis=-2) for k in first.curves},
        diverged=np.concatenate([r.diverged for r in results], axis=-1),
        initial_loss=np.concatenate([r.initial_loss for r in results]),
    )


def heldout_summary(best, fastest) -> dict:
    """What a best config (and a fastest one, or ``None``) reach on held-out seeds: the
    final excess loss per seed with its mean and 95% interval, its excess-loss curve per
    seed (``curve``), and the fastest config's median steps to the tolerance (``inf``
    unless its median seed ends below the tolerance, the rule it was picked by) and how
    many seeds end below it."""
    final = np.asarray(best.final_excess_loss, dtype=float)
    interval = metrics.mean_interval(final)
    summary = {
        "per_seed": final,
        "excess": float(interval.mean),
        "excess_half": float(interval.half_width),
        **geometric(final),
        "diverged": int(np.sum(best.diverged)),
        "curve": np.asarray(best.excess_loss, dtype=float),  # (seeds, logs): the summary figure
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
    seed's initial point: per seed, the steps to ``tol``, the final excess loss and the
    excess-loss curve (``curve``: seeds × logs)."""
    lr = 2.0 / (float(problem.L) + float(problem.mu))
    traces = [
        jh.run(
            problem, jh.sgd(lr), steps=steps, batch_size=None, seed=int(seed), log_every=log_every
        )
        for seed in seeds
    ]  # one compile: the seed only moves the initial point
    excess = np.stack([np.asarray(t.excess_loss, dtype=float) for t in traces])
    reach = metrics.steps_to_tolerance(excess, np.asarray(traces[0].steps), tol)
    return {"lr": lr, "steps_per_seed": reach, "final": excess[:, -1], "curve": excess}


def geometric(final) -> dict:
    """The geometric mean of positive final excess losses over seeds and its 95% interval
    (a mean ± half-width of such skewed values reaches below zero)."""
    interval = metrics.log_interval(np.asarray(final, dtype=float))
    return {
        "excess_gm": float(interval.center),
        "excess_gm_low": float(interval.low),
        "excess_gm_high": float(interval.high),
    }


def mean_final_excess(result) -> np.ndarray:
    """Mean final excess loss over seeds per config, ``inf`` where a seed diverged."""
    mean = np.mean(np.asarray(result.final_excess_loss, dtype=float), axis=-1)
    return np.where(result.diverged.any(axis=-1) | ~np.isfinite(mean), np.inf, mean)


def best_per_value(result, name: str, per_config=None) -> tuple:
    """The values of the axis ``name`` and, for each, the lowest of ``per_config`` (an array
    over the configs; default: the mean final excess loss, ``inf`` where a seed diverged)
    over the other axes (``inf`` if none is finite)."""
    values = np.asarray(result.axes[name], dtype=float)
    position = result.config_names().index(name)
    per_config = mean_final_excess(result) if per_config is None else per_config
    return values, np.moveaxis(per_config, position, 0).reshape(len(values), -1).min(axis=1)


def lr_profile(result, *, initial_excess: float, factor: float = SENSITIVITY_FACTOR) -> dict:
    """For each lr of ``result``: the lowest mean final excess loss over the other
    hyperparameters among configs where no seed diverged (``inf`` if all diverged), and
    the window of lrs within ``factor`` of the best. An lr is *stable* when such a best
    ends below ``initial_excess`` (the mean excess loss at the initial points): a run that
    ends above where it started has not diverged past the guard's bound, but has not
    converged either."""
    lrs, per_lr = best_per_value(result, "learning_rate")
    good = per_lr <= factor * per_lr.min()
    stable = lrs[per_lr < initial_excess]
    return {
        "lrs": lrs,
        "best": per_lr,
        "lo": float(lrs[good].min()),
        "hi": float(lrs[good].max()),
        "decades": float(np.log10(lrs[good].max() / lrs[good].min())),
        "lr_max_stable": float(stable.max()) if stable.size else math.nan,
        # at every lr some config kept all its seeds
        "none_diverged": bool(np.isfinite(per_lr).all()),
    }


def beta_profile(result, name: str) -> dict:
    """For each value of ``name`` (β, γ or β1): the lowest mean final excess loss over the
    lrs and the other axes, among configs where no seed diverged (the lr re-tuned for
    each value); the value with the lowest, the spread ``worst / best`` over the values
    where some config kept all its seeds, and how many values had none. The same for
    speed: the lowest median steps to the tolerance (:func:`median_steps`), the value
    with the fewest, their spread and how many values never get there."""
    values, per_value = best_per_value(result, name)
    finite = per_value[np.isfinite(per_value)]
    _, steps = best_per_value(result, name, median_steps(result))  # the fastest per value
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
