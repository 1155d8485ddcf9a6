"""The real-data study's runs: per data set and method, one sweep over a learning-rate grid
and all the seeds; the lr is picked on the tuning seeds and scored on the held-out ones.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

import jaxopt_hw as jh
from jaxopt_hw.studies import Settings
from jaxopt_hw.studies.real_data.datasets import SPECS, Spec, available, build

__all__ = [
    "Plan",
    "plan",
    "Tuned",
    "ProblemData",
    "Data",
    "measure",
    "measure_problem",
    "tune",
    "METHODS",
]

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
#: the four minibatch methods, then full-batch GD
METHODS = OPTIMIZERS + ("gd",)
BATCH_SIZE = 32
MOMENTUM_BETA = 0.9
#: steps to the tolerance count until the excess loss is within this share of the optimum's loss
TOL_REL = 0.01
LRS_FULL = tuple(float(v) for v in np.logspace(-3, 1, 9))
LRS_QUICK = tuple(float(v) for v in np.logspace(-3, 1, 5))
#: GD's lr grid: the grid's top (a full-batch step is costly, and noise-free it can be large)
GD_LRS_FULL = LRS_FULL[4:8]
STEPS_QUICK = 400
#: logged points per run
LOGS = 40
HOLDOUT_FULL, HOLDOUT_QUICK = 5, 2
#: at most this many of the settings' seeds tune: one lr axis needs few, and every seed costs
TUNING_MAX = 3
#: the quick run keeps one data set (its cost is the four sweeps' compiles), the cheapest
QUICK_KEYS = ("diabetes",)


@dataclasses.dataclass(frozen=True)
class Plan:
    """What the study runs: data sets, lr grids, steps and seeds."""

    specs: tuple
    lrs: tuple
    gd_lrs: tuple
    quick: bool
    tuning: tuple
    heldout: tuple

    def steps(self, spec: Spec) -> int:
        return STEPS_QUICK if self.quick else spec.steps


def plan(settings: Settings) -> Plan:
    """The full or quick plan; the held-out seeds follow the tuning seeds."""
    tuning = tuple(int(s) for s in settings.seeds)[:TUNING_MAX]
    first, count = max(tuning) + 1, HOLDOUT_QUICK if settings.quick else HOLDOUT_FULL
    heldout = tuple(range(first, first + count))
    if settings.quick:
        specs = tuple(s for s in SPECS if s.key in QUICK_KEYS)
        return Plan(specs, LRS_QUICK, LRS_QUICK[2:], True, tuning, heldout)
    return Plan(SPECS, LRS_FULL, GD_LRS_FULL, False, tuning, heldout)


@dataclasses.dataclass
class Tuned:
    """One method on one data set: the lr picked on the tuning seeds and what it reaches on
    the held-out seeds (arrays over the held-out seeds; curves ``(seeds, logs)``)."""

    lr: float
    lrs: tuple
    tuning_final: np.ndarray
    final: np.ndarray
    test_loss: np.ndarray
    accuracy: Optional[np.ndarray]
    steps_to_tol: Optional[np.ndarray]
    diverged: int
    curve: np.ndarray


@dataclasses.dataclass
class ProblemData:
    """One data set: its split, its optimum where known, and each method tuned."""

    spec: Spec
    n_train: int
    n_test: int
    features: int
    min_loss: Optional[float]
    tol: Optional[float]
    steps: np.ndarray
    methods: dict


@dataclasses.dataclass
class Data:
    """Every data set's measurements (empty where scikit-learn is missing)."""

    plan: Plan
    problems: dict
    sklearn: bool = True


def _sweeps(problem, p: Plan, steps: int, tol) -> dict:
    """``{method: SweepResult over (learning_rate, seed)}``: four compiled sweeps, SGD
    being the ``β = 0`` row of Momentum's (the same arithmetic as ``jh.sgd``)."""
    seeds = list(p.tuning + p.heldout)
    common = dict(seeds=seeds, steps=steps, log_every=steps // LOGS, tol=tol, progress=False)
    lrs = list(p.lrs)
    grid = {"learning_rate": lrs, "beta": [0.0, MOMENTUM_BETA]}
    mom = jh.sweep(problem, jh.momentum, grid, batch_size=BATCH_SIZE, **common)
    return {
        "sgd": mom.sel(beta=0.0),
        "momentum": mom.sel(beta=MOMENTUM_BETA),
        "rmsprop": jh.sweep(
            problem, jh.rmsprop, {"learning_rate": lrs}, batch_size=BATCH_SIZE, **common
        ),
        "adam": jh.sweep(problem, jh.adam, {"learning_rate": lrs}, batch_size=BATCH_SIZE, **common),
        "gd": jh.sweep(
            problem, jh.sgd, {"learning_rate": list(p.gd_lrs)}, batch_size=None, **common
        ),
    }


def tune(result, n_tuning: int, known_optimum: bool) -> Tuned:
    """The lr with the lowest mean final loss over the first ``n_tuning`` seeds (none of
    them diverged), and its runs on the other seeds."""
    curve = np.asarray(result.excess_loss if known_optimum else result.loss, dtype=float)
    final = curve[..., -1]
    tuning = np.where(result.diverged[:, :n_tuning], np.inf, final[:, :n_tuning]).mean(axis=1)
    pick = int(np.argmin(np.where(np.isfinite(tuning), tuning, np.inf)))
    held = slice(n_tuning, None)
    curves = result.curves
    return Tuned(
        lr=float(result.axes["learning_rate"][pick]),
        lrs=tuple(float(v) for v in result.axes["learning_rate"]),
        tuning_final=tuning,
        final=final[pick, held],
        test_loss=np.asarray(curves["test_loss"][pick, held, -1], dtype=float),
        accuracy=(
            np.asarray(curves["accuracy"][pick, held, -1], dtype=float)
            if "accuracy" in curves
            else None
        ),
        steps_to_tol=(
            np.asarray(result.steps_to_tol[pick, held], dtype=float) if known_optimum else None
        ),
        diverged=int(np.sum(result.diverged[pick, held])),
        curve=curve[pick, held],
    )


def measure_problem(spec: Spec, p: Plan) -> ProblemData:
    """Builds ``spec``'s problem and tunes every method on it."""
    built = build(spec)
    min_loss = built.problem.min_loss
    tol = None if min_loss is None else TOL_REL * float(min_loss)
    sweeps = _sweeps(built.problem, p, p.steps(spec), tol)
    return ProblemData(
        spec=spec,
        n_train=built.n_train,
        n_test=built.n_test,
        features=built.features,
        min_loss=None if min_loss is None else float(min_loss),
        tol=tol,
        steps=np.asarray(sweeps["adam"].steps),
        methods={
            name: tune(result, len(p.tuning), min_loss is not None)
            for name, result in sweeps.items()
        },
    )


def measure(settings: Settings) -> Data:
    """Every data set of the plan, or none where scikit-learn is not installed."""
    p = plan(settings)
    if not available():
        return Data(plan=p, problems={}, sklearn=False)
    return Data(plan=p, problems={s.key: measure_problem(s, p) for s in p.specs})
