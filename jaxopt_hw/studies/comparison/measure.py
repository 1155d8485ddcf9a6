"""What the comparison runs: the sweeps on each homework problem, the re-runs on held-out
seeds, full-batch GD, and the tuned optimizers' trajectories on the small problem."""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np

import jaxopt_hw as jh
from jaxopt_hw.studies import Settings
from jaxopt_hw.studies.comparison.grids import (
    BATCH_SIZE,
    BETA,
    CURVE_POINTS,
    DESIGN_SEED,
    GRIDS,
    HOLDOUT_FULL,
    HOLDOUT_QUICK,
    HW_BETAS,
    HW_LRS,
    LOG_EVERY,
    OPTIMIZERS,
    SIZES_FULL,
    SIZES_QUICK,
    STEPS,
    SWEPT,
    TOL_REL,
    WIDE_B2_FULL,
    WIDE_B2_QUICK,
    WIDE_BETAS_FULL,
    WIDE_BETAS_QUICK,
    WIDE_LRS_FULL,
    WIDE_LRS_QUICK,
)
from jaxopt_hw.studies.comparison.sweeps import (
    beta_profile,
    full_batch_gd,
    heldout_summary,
    holdout_seeds,
    lr_profile,
    make_optimizer,
    rerun,
    subset,
    summarize,
    tuned_sweeps,
)
from jaxopt_hw.studies.parity import excess_loss, parallel, side_by_side


@dataclasses.dataclass
class ProblemRuns:
    """Everything measured on one homework problem.

    Attributes:
      problem: the least-squares problem.
      sweeps: ``{"hw" | "wide": {optimizer: SweepResult}}``; the homework grid is a sub-grid.
      summaries: ``{"hw" | "wide": {optimizer: summarize(...)}}``.
      profiles: ``{optimizer: lr_profile(...)}`` on the wide grid.
      betas: ``{optimizer: beta_profile(...)}`` on the wide grid (Momentum, RMSprop, Adam).
      heldout: ``{optimizer: heldout_summary(...)}``: the best and fastest configs re-run.
      gd: full-batch GD on the held-out seeds (:func:`full_batch_gd`).
      timing, rerun_timing: compile and run seconds of the tuning and held-out sweeps.
    """

    problem: Any
    sweeps: dict
    summaries: dict
    profiles: dict
    betas: dict
    heldout: dict
    gd: dict
    timing: dict
    rerun_timing: dict


@dataclasses.dataclass
class Trajectories:
    """The tuned optimizers side by side on the small problem, one compiled run per seed.

    Attributes:
      configs: ``{optimizer: config}``, the wide grid's best.
      params: ``{optimizer: (steps + 1, d) array}`` on the first seed (the figure).
      path_ratios: ``{optimizer: per-seed path length over the initial distance to w*}``.
      jitter: ``{optimizer: share of the path after first reaching the tolerance}``.
      approach: ``{optimizer: approach(...)}`` on the first seed (empty: never reached).
      gap: the largest relative gap between a run's and its sweep's final excess loss.
    """

    configs: dict
    params: dict
    path_ratios: dict
    jitter: dict
    approach: dict
    gap: float


@dataclasses.dataclass
class Measured:
    """The comparison's measurements: the grids, the seeds, the runs per problem."""

    quick: bool
    seeds: list
    holdout: list
    lrs: tuple
    betas: tuple
    b2s: tuple
    runs: dict  # {size: ProblemRuns}, in the order of the sizes
    trajectories: Trajectories
    started: float  # time.perf_counter() when the measurement began

    @property
    def sizes(self) -> list:
        return list(self.runs)

    @property
    def logged_steps(self) -> np.ndarray:
        return self.runs["small"].sweeps["wide"]["sgd"].steps


def measure(settings: Settings) -> Measured:
    """Runs the comparison at the size ``settings`` asks for."""
    started = time.perf_counter()
    quick = settings.quick
    seeds = [int(s) for s in settings.seeds]
    lrs = WIDE_LRS_QUICK if quick else WIDE_LRS_FULL
    betas = WIDE_BETAS_QUICK if quick else WIDE_BETAS_FULL
    b2s = WIDE_B2_QUICK if quick else WIDE_B2_FULL
    for value in HW_LRS:
        assert any(math.isclose(value, v) for v in lrs), value
    for value in HW_BETAS:
        assert any(math.isclose(value, v) for v in betas), value
        assert any(math.isclose(value, v) for v in b2s), value
    holdout = holdout_seeds(seeds, HOLDOUT_QUICK if quick else HOLDOUT_FULL)
    runs = {
        size: measure_problem(
            jh.linear_regression(n, d, seed=DESIGN_SEED), (lrs, betas, b2s), seeds, holdout
        )
        for size, n, d in (SIZES_QUICK if quick else SIZES_FULL)
    }
    small = runs["small"]
    tuned = {name: small.summaries["wide"][name] for name in OPTIMIZERS}
    return Measured(
        quick=quick,
        seeds=seeds,
        holdout=holdout,
        lrs=lrs,
        betas=betas,
        b2s=b2s,
        runs=runs,
        trajectories=trajectories(small.problem, tuned, seeds),
        started=started,
    )


def orders(runs: ProblemRuns) -> dict:
    """The optimizers by tuning-seed accuracy, held-out accuracy and held-out speed."""
    tuned, held = runs.summaries["wide"], runs.heldout
    return {
        "order": sorted(OPTIMIZERS, key=lambda o: tuned[o]["excess"]),
        "heldout_order": sorted(OPTIMIZERS, key=lambda o: held[o]["excess"]),
        "speed_order": sorted(OPTIMIZERS, key=lambda o: held[o]["fastest"]),
    }


def homework_part(wide: dict) -> dict:
    """The homework grid inside the wide grid's sweeps: the same runs."""
    return {
        "sgd": subset(wide["sgd"], learning_rate=HW_LRS),
        "momentum": subset(wide["momentum"], learning_rate=HW_LRS, beta=HW_BETAS),
        "rmsprop": subset(wide["rmsprop"], learning_rate=HW_LRS, decay=HW_BETAS),
        "adam": subset(wide["adam"], learning_rate=HW_LRS, b1=HW_BETAS, b2=HW_BETAS),
    }


def measure_problem(problem, grid: tuple, seeds, holdout) -> ProblemRuns:
    """The wide grid's sweeps on ``problem`` (``grid``: lrs, betas, b2s) over ``seeds``, its
    best and fastest configs re-run on ``holdout``, and full-batch GD on ``holdout``."""
    tol = TOL_REL * problem.min_loss
    lrs, betas, b2s = grid
    wide, timing = tuned_sweeps(
        problem, lrs, betas, b2s, seeds, steps=STEPS, log_every=LOG_EVERY, tol=tol
    )
    sweeps = {"hw": homework_part(wide), "wide": wide}
    summaries = {
        grid: {name: summarize(sweeps[grid][name]) for name in OPTIMIZERS} for grid in GRIDS
    }
    initial_excess = float(np.mean(wide["sgd"].initial_loss)) - problem.min_loss
    profiles = {name: lr_profile(wide[name], initial_excess=initial_excess) for name in OPTIMIZERS}
    # the wide grid's best and fastest configs, scored again on seeds they were not picked on
    tuned = summaries["wide"]
    picks = {
        name: [tuned[name]["config"]]
        + ([tuned[name]["fastest_config"]] if math.isfinite(tuned[name]["fastest"]) else [])
        for name in OPTIMIZERS
    }
    again, rerun_timing = rerun(
        problem, picks, holdout, steps=STEPS, log_every=LOG_EVERY, tol=tol, group=len(seeds)
    )
    heldout = {
        name: heldout_summary(again[name][0], again[name][1] if len(again[name]) > 1 else None)
        for name in OPTIMIZERS
    }
    return ProblemRuns(
        problem=problem,
        sweeps=sweeps,
        summaries=summaries,
        profiles=profiles,
        betas={name: beta_profile(wide[name], BETA[name]) for name in SWEPT},
        heldout=heldout,
        gd=full_batch_gd(problem, holdout, steps=STEPS, log_every=LOG_EVERY, tol=tol),
        timing=timing,
        rerun_timing=rerun_timing,
    )


def trajectories(small, tuned: dict, seeds) -> Trajectories:
    """The tuned optimizers side by side on ``small`` in one compiled run per seed (same
    initial point and batches as the sweeps' seed), their parameters recorded."""
    configs = {name: tuned[name]["config"] for name in OPTIMIZERS}
    side = side_by_side(small, OPTIMIZERS)
    together = parallel({n: make_optimizer(n, configs[n]) for n in OPTIMIZERS})
    traces = [
        jh.run(side, together, steps=STEPS, batch_size=BATCH_SIZE, seed=seed, record_params=True)
        for seed in seeds
    ]  # one compile: the seed only moves the initial point and the batch order
    if any(bool(t.diverged) for t in traces):
        raise RuntimeError("a tuned optimizer diverged on the small problem")
    path_ratios = {
        name: np.array(
            [path_ratio(np.asarray(t.params[name], dtype=float), small.w_star) for t in traces]
        )
        for name in OPTIMIZERS
    }
    tol = TOL_REL * small.min_loss
    params, jitter, approaches, gap = {}, {}, {}, 0.0
    for name in OPTIMIZERS:
        params[name] = np.asarray(traces[0].params[name], dtype=float)
        excess = excess_loss(small, params[name][1:])
        jitter[name] = jitter_share(params[name], excess, tol)
        approaches[name] = approach(params[name], excess, tol)
        # the run and the sweep are the same computation (SGD: jh.sgd against Momentum at β = 0)
        swept = tuned[name]["per_seed"][0]
        gap = max(gap, abs(float(excess[-1]) - swept) / max(abs(swept), 1e-30))
    return Trajectories(configs, params, path_ratios, jitter, approaches, gap)


def path_ratio(params, w_star) -> float:
    """Length of a trajectory over the initial distance to ``w*``."""
    params = np.asarray(params, dtype=float)
    length = float(np.sum(np.linalg.norm(np.diff(params, axis=0), axis=1)))
    return length / float(np.linalg.norm(params[0] - np.asarray(w_star, dtype=float)))


def jitter_share(params, excess, tol) -> float:
    """The share of a trajectory's length travelled after its excess loss first reaches
    ``tol`` (``params[k + 1]`` follows step ``k``, whose excess loss is ``excess[k]``)."""
    params = np.asarray(params, dtype=float)
    pieces = np.linalg.norm(np.diff(params, axis=0), axis=1)
    reached = np.asarray(excess, dtype=float) <= tol
    if not reached.any():
        return 0.0
    first = int(np.argmax(reached))
    return float(pieces[first + 1 :].sum() / pieces.sum())


def approach(params, excess, tol) -> dict:
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


def thin(steps, curve, points: int = CURVE_POINTS):
    """``steps`` and ``curve`` (last axis) at about ``points`` evenly spread logs."""
    index = np.unique(np.linspace(0, len(steps) - 1, points).round().astype(int))
    return np.asarray(steps)[index], np.asarray(curve)[..., index]


def seed_band(steps, curve) -> dict:
    """A curve over seeds (seeds × logs) as its mean and range over seeds, thinned."""
    _, thinned = thin(steps, curve)
    return {"mean": thinned.mean(axis=0), "min": thinned.min(axis=0), "max": thinned.max(axis=0)}


def results_data(data: Measured) -> dict:
    """The measurements as JSON-able data for ``results.json`` (curves thinned)."""
    runs, steps = data.runs, data.logged_steps
    thin_steps, _ = thin(steps, steps)
    return {
        "seeds": data.seeds,
        "sizes": {size: [r.problem.n, int(r.problem.X.shape[1])] for size, r in runs.items()},
        "grids": {
            "hw": {"lr": list(HW_LRS), "beta": list(HW_BETAS)},
            "wide": {"lr": list(data.lrs), "beta": list(data.betas), "b2": list(data.b2s)},
        },
        "curve_steps": thin_steps,
        "summaries": {
            size: {
                grid: {
                    name: {
                        k: (v if k != "curve" else thin(steps, v)[1].mean(axis=0))
                        for k, v in r.summaries[grid][name].items()
                    }
                    for name in OPTIMIZERS
                }
                for grid in GRIDS
            }
            for size, r in runs.items()
        },
        "holdout_seeds": data.holdout,
        "heldout": {
            size: {
                name: {
                    k: (v if k != "curve" else seed_band(steps, v))
                    for k, v in r.heldout[name].items()
                }
                for name in OPTIMIZERS
            }
            for size, r in runs.items()
        },
        "gd": {
            size: {"lr": r.gd["lr"], "curve": seed_band(steps, r.gd["curve"])}
            for size, r in runs.items()
        },
        **{
            key: {size: orders(r)[key] for size, r in runs.items()}
            for key in ("order", "heldout_order", "speed_order")
        },
        "lr_profiles": {
            size: {name: dict(r.profiles[name]) for name in OPTIMIZERS} for size, r in runs.items()
        },
        "timing": {size: r.timing for size, r in runs.items()},
    }
