"""The noise-floor study's runs: SGD started at w* on one design, per batch and step size."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

import jaxopt_hw as jh
from jaxopt_hw import metrics
from jaxopt_hw.problems import ConstantInit
from jaxopt_hw.studies import Settings
from jaxopt_hw.studies.noise_floor.prediction import (
    iid_excess_loss,
    noise_moments,
    reshuffling_factor,
)

N_SAMPLES, N_FEATURES, CONDITION_NUMBER, NOISE = 65_536, 5, 4.0, 1.0
DESIGN_SEED = 0
BATCHES_FULL = (1, 4, 16, 64, 256)
BATCHES_QUICK = (1, 16, 256)
#: step sizes as multiples of 1/L
STEPS_L_FULL = (0.025, 0.05, 0.1, 0.2)
STEPS_L_QUICK = (0.05, 0.1, 0.2)
STEPS_FULL, STEPS_QUICK = 32_768, 8_192
LOG_EVERY_FULL, LOG_EVERY_QUICK = 4, 2
BURN_RELAXATIONS = 8
#: "the floor is close to ∝ α/B" only when every fitted slope against α is within this of
#: 1 and every one against B within this of −1
ALPHA_B_SLOPE_TOL = 0.25
#: a prediction "predicts" the floors when every measured floor is within this relative
#: error of it, and "misses" one (or reshuffling "lowers" it) when farther than this
FLOOR_TOL = 0.1


def problem():
    """The study's design, every run starting at its optimum."""
    design = jh.linear_regression(
        N_SAMPLES, N_FEATURES, noise=NOISE, seed=DESIGN_SEED, condition_number=CONDITION_NUMBER
    )
    start = tuple(float(v) for v in np.asarray(design.w_star))
    # every run starts at the optimum: only the stationary fluctuations are measured
    return dataclasses.replace(
        design, initial_params=ConstantInit(start, np.dtype(design.X.dtype).name)
    )


def slopes(x, y, axis: int) -> np.ndarray:
    """Least-squares slopes of log y against log x along ``axis`` of ``y`` (2-D)."""
    y = np.moveaxis(np.log(np.asarray(y, dtype=float)), axis, 0)
    return np.polyfit(np.log(np.asarray(x, dtype=float)), y, 1)[0]


def _measure(
    problem, batches, alphas, seeds, *, steps: int, log_every: int, burn_logs: int
) -> dict:
    """Per (batch size, step size): the measured floor (the excess loss averaged over the
    logs after ``burn_logs``, per seed, then its mean and 95% half-width over seeds) and the
    predictions: with replacement, additive only, the reshuffling factor, and the full one
    (with replacement times the factor)."""
    moments = noise_moments(problem.X, problem.y, problem.w_star)
    shape = (len(batches), len(alphas))
    mean, half = np.zeros(shape), np.zeros(shape)
    predicted, additive, full_iid, factor = (np.zeros(shape) for _ in range(4))
    per_seed = np.zeros(shape + (len(seeds),))
    for i, batch in enumerate(batches):  # one compile per batch size; the step sizes are vmapped
        result = jh.sweep(
            problem,
            jh.sgd,
            grid={"learning_rate": alphas},
            seeds=seeds,
            steps=steps,
            batch_size=batch,
            log_every=log_every,
            progress=False,
        )
        if result.diverged.any():
            raise RuntimeError(f"SGD diverged at batch size {batch}")
        window = result.excess_loss[..., burn_logs:]  # (alphas, seeds, logs)
        per_seed[i] = window.mean(axis=-1)
        interval = metrics.mean_interval(per_seed[i], axis=-1)
        mean[i], half[i] = interval.mean, interval.half_width
        logged = result.steps[burn_logs:]
        for j, alpha in enumerate(alphas):
            full_iid[i, j] = iid_excess_loss(moments, alpha, batch, multiplicative=True)
            additive[i, j] = iid_excess_loss(moments, alpha, batch, multiplicative=False)
            factor[i, j] = reshuffling_factor(moments, alpha, batch, logged)
            predicted[i, j] = full_iid[i, j] * factor[i, j]
    return {
        "measured": mean,
        "half_width": half,
        "per_seed": per_seed,
        "predicted": predicted,
        "predicted_with_replacement": full_iid,
        "predicted_additive": additive,
        "reshuffling_factor": factor,
    }


@dataclasses.dataclass
class Data:
    """The grid run, the measured floors and the predictions, ``(batches, step sizes)`` each
    (``per_seed`` has a seed axis last), and the run's length and burn-in."""

    batches: list
    steps_l: list
    alphas: list
    seeds: list
    L: float
    mu: float
    measured: np.ndarray
    half_width: np.ndarray
    per_seed: np.ndarray
    predicted: np.ndarray
    predicted_with_replacement: np.ndarray
    predicted_additive: np.ndarray
    reshuffling_factor: np.ndarray
    steps: int
    burn_in: int
    relaxation: float

    @property
    def ratio(self) -> np.ndarray:
        return self.measured / self.predicted

    @property
    def additive_ratio(self) -> np.ndarray:
        return self.measured / self.predicted_additive

    @property
    def slope_alpha(self) -> np.ndarray:
        """The log-log slope of the floor against α, one per batch size."""
        return slopes(self.alphas, self.measured, axis=1)

    @property
    def slope_batch(self) -> np.ndarray:
        """The log-log slope of the floor against B, one per step size."""
        return slopes(self.batches, self.measured, axis=0)

    def to_json(self) -> dict:
        out = {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name not in ("steps", "burn_in", "relaxation")
        }
        for name in ("ratio", "additive_ratio", "slope_alpha", "slope_batch"):
            out[name] = getattr(self, name)
        return out


def measure(settings: Settings) -> Data:
    """Runs SGD from w* at every (batch size, step size) of ``settings`` over its seeds."""
    quick = settings.quick
    batches = BATCHES_QUICK if quick else BATCHES_FULL
    steps_l = STEPS_L_QUICK if quick else STEPS_L_FULL
    steps = STEPS_QUICK if quick else STEPS_FULL
    log_every = LOG_EVERY_QUICK if quick else LOG_EVERY_FULL
    seeds = [int(s) for s in settings.seeds]
    design = problem()
    alphas = [a / design.L for a in steps_l]
    # steps for the slowest direction's excess loss to relax at the smallest step
    relaxation = 1.0 / (2.0 * min(alphas) * design.mu)
    burn_logs = math.ceil(BURN_RELAXATIONS * relaxation / log_every)
    cells = _measure(
        design, batches, alphas, seeds, steps=steps, log_every=log_every, burn_logs=burn_logs
    )
    return Data(
        batches=list(batches),
        steps_l=list(steps_l),
        alphas=alphas,
        seeds=seeds,
        L=design.L,
        mu=design.mu,
        **cells,
        steps=steps,
        burn_in=burn_logs * log_every,
        relaxation=relaxation,
    )
