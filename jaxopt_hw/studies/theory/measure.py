"""The theory study's runs: the textbook constants, the runs from each start and the rate fits."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

import jaxopt_hw as jh
from jaxopt_hw import metrics
from jaxopt_hw.studies import Settings

KAPPAS_QUICK = (10, 100, 1000)
KAPPAS_FULL = (10, 30, 100, 300, 1000, 3000, 10000)
N_SAMPLES, N_FEATURES = 500, 10
DESIGN_SEED = 0
#: the fit window starts once ‖w − w*‖ is below this fraction of its initial value …
FIT_UPPER = 1e-2
#: … and stops once it is within this factor of its floor (float64 round-off)
FIT_FLOOR = 1e4
#: the steps a run gets: this many e-folds of the predicted rate (well past round-off)
BUDGET_EFOLDS = 40.0
#: the reduction of ‖w − w*‖ whose step count is reported
TARGET = 1e-8
MAX_LOGS = 2000
CURVE_POINTS = 400
#: a method "converges at the predicted ρ" only when, at every κ, the contraction gap
#: ``1 − ρ`` of its rate averaged over the starting points is within this relative error of
#: the predicted one; a single start's fit may be off by more (its window can still hold
#: some of the transient), and the largest such error is reported beside the claim
RATE_TOL = 0.05
#: heavy ball's fitted exponent p of ``t^p`` is "as the defective root's factor t predicts"
#: only when every κ's p is within this of 1
POLY_TOL = 0.2

METHODS = ("gd", "hb", "nag")
LABELS = {"gd": "GD", "hb": "heavy ball", "nag": "Nesterov"}


def _constants(method: str, L: float, mu: float) -> tuple:
    """``(optimizer, hyperparameters, predicted rate)`` of ``method`` on ``[mu, L]``."""
    kappa = L / mu
    root = math.sqrt(kappa)
    if method == "gd":
        return (
            jh.sgd(2.0 / (L + mu)),
            {"alpha": 2.0 / (L + mu), "beta": 0.0},
            (kappa - 1) / (kappa + 1),
        )
    if method == "hb":
        alpha = 4.0 / (math.sqrt(L) + math.sqrt(mu)) ** 2
        beta = ((root - 1) / (root + 1)) ** 2
        return (
            jh.heavy_ball(alpha, beta=beta),
            {"alpha": alpha, "beta": beta},
            (root - 1) / (root + 1),
        )
    if method == "nag":
        alpha, beta = 1.0 / L, (root - 1) / (root + 1)
        return (
            jh.heavy_ball(alpha, beta=beta, nesterov=True),
            {"alpha": alpha, "beta": beta},
            1 - 1 / root,
        )
    raise ValueError(f"unknown method {method!r}")


def fit_window(curve, upper: float = FIT_UPPER, floor: float = FIT_FLOOR) -> tuple:
    """``(start, stop)``: the logged entries from the first one at or below ``upper`` times
    the first value to (excluding) the first one at or below ``floor`` times the minimum."""
    curve = np.asarray(curve, dtype=float)
    below_upper = curve <= upper * curve[0]
    start = int(np.argmax(below_upper)) if below_upper.any() else 0
    near_floor = curve <= floor * np.min(curve[curve > 0])
    stop = int(np.argmax(near_floor)) if near_floor.any() else len(curve)
    return start, max(stop, start)


def fit_rate(
    curve, steps, polynomial: bool, upper: float = FIT_UPPER, floor: float = FIT_FLOOR
) -> dict:
    r"""The per-step contraction ρ of ``curve`` on its fit window (see :func:`fit_window`):
    least squares of :math:`\log c_t = a + t\log\rho` (+ :math:`p\log t` when ``polynomial``).

    Returns ``{"rate", "exponent" (p, 0 without the term), "start", "stop"}`` (the window's
    first and last logged step); the rate is NaN with fewer than 4 points in the window."""
    curve = np.asarray(curve, dtype=float)
    steps = np.asarray(steps, dtype=float)
    start, stop = fit_window(curve, upper, floor)
    if stop - start < 4:
        return {"rate": math.nan, "exponent": math.nan, "start": math.nan, "stop": math.nan}
    t, values = steps[start:stop], np.log(curve[start:stop])
    columns = [np.ones_like(t), t] + ([np.log(t)] if polynomial else [])
    coefficients = np.linalg.lstsq(np.stack(columns, axis=1), values, rcond=None)[0]
    return {
        "rate": float(math.exp(coefficients[1])),
        "exponent": float(coefficients[2]) if polynomial else 0.0,
        "start": float(t[0]),
        "stop": float(t[-1]),
    }


def _budget(rate: float) -> tuple:
    """``(steps, log_every)``: ``BUDGET_EFOLDS`` e-folds of ``rate``, at most ``MAX_LOGS`` logs."""
    needed = math.ceil(BUDGET_EFOLDS / -math.log(rate))
    log_every = max(1, needed // MAX_LOGS)
    return math.ceil(needed / log_every) * log_every, log_every


def _thin(curve, steps, points: int = CURVE_POINTS) -> tuple:
    index = np.unique(np.linspace(0, len(curve) - 1, points).round().astype(int))
    return np.asarray(steps)[index], np.asarray(curve)[index]


def design(kappa) -> jh.Problem:
    """The study's float64 least-squares design of condition number ``kappa`` (call it under
    ``jax.enable_x64``)."""
    return jh.linear_regression(
        N_SAMPLES, N_FEATURES, seed=DESIGN_SEED, condition_number=float(kappa), dtype=jnp.float64
    )


def _measure(kappas, seeds) -> list:
    """One row per (κ, method): constants, prediction, per-seed fits and the seed-0 curve."""
    rows = []
    with jax.enable_x64(True):
        for kappa in kappas:
            problem = design(kappa)
            for method in METHODS:
                rows.append(_measure_method(problem, kappa, method, seeds))
    for row in rows:
        _summarize(row)
    return rows


def _measure_method(problem, kappa, method: str, seeds) -> dict:
    """``method``'s row on ``problem``: one run per seed, its fits and the seed-0 curve."""
    tx, hyper, predicted = _constants(method, problem.L, problem.mu)
    steps, log_every = _budget(predicted)
    fits, naive, reach, curve = [], [], [], None
    for seed in seeds:  # the same optimizer object: one compile per (κ, method)
        trace = jh.run(problem, tx, steps=steps, seed=int(seed), log_every=log_every)
        distance = np.asarray(trace.dist_to_opt, dtype=float)
        logged = np.asarray(trace.steps)
        start = float(
            np.linalg.norm(np.asarray(problem.init_params(int(seed))) - np.asarray(problem.w_star))
        )
        fits.append(fit_rate(distance, logged, polynomial=method != "gd"))
        naive.append(fit_rate(distance, logged, polynomial=False))
        reach.append(float(metrics.steps_to_tolerance(distance, logged, TARGET * start)))
        if curve is None:
            curve = _thin(
                np.concatenate([[start], distance]) / start, np.concatenate([[0], logged])
            )
    return {
        "kappa": kappa,
        "kappa_exact": float(problem.kappa),
        "method": method,
        **hyper,
        "steps": steps,
        "log_every": log_every,
        "predicted": predicted,
        "fits": fits,
        "naive": naive,
        "steps_to_target": reach,
        "curve": curve,
    }


def _summarize(row: dict) -> None:
    """Adds the seed summaries to ``row``: the mean rate and the largest relative errors."""
    rates = np.array([f["rate"] for f in row["fits"]])
    row["measured"] = float(np.mean(rates))
    row["rel_error"] = float(np.max(np.abs(rates / row["predicted"] - 1)))
    # the error in the exponent −log ρ, i.e. in the number of steps per e-fold
    row["exponent_error"] = float(np.max(np.abs(np.log(rates) / math.log(row["predicted"]) - 1)))
    row["gap_error"] = float(np.max(np.abs((1 - rates) / (1 - row["predicted"]) - 1)))
    row["mean_gap_error"] = abs((1 - row["measured"]) / (1 - row["predicted"]) - 1)
    row["poly_exponent"] = float(np.mean([f["exponent"] for f in row["fits"]]))
    naive_rates = np.array([f["rate"] for f in row["naive"]])
    row["loglinear"] = float(np.mean(naive_rates))
    row["loglinear_rel_error"] = float(np.max(np.abs(naive_rates / row["predicted"] - 1)))
    row["loglinear_exponent_error"] = float(
        np.max(np.abs(np.log(naive_rates) / math.log(row["predicted"]) - 1))
    )
    row["mean_steps_to_target"] = float(np.mean(row["steps_to_target"]))


@dataclasses.dataclass
class Data:
    """The κ and seeds run, and one row per (κ, method) (see :func:`_measure`)."""

    kappas: tuple
    seeds: tuple
    rows: list

    def row(self, kappa, method: str) -> dict:
        return next(r for r in self.rows if r["kappa"] == kappa and r["method"] == method)

    def to_json(self) -> dict:
        def plain(row):
            steps, distance = row["curve"]
            return {**row, "curve": {"steps": steps.tolist(), "distance": distance.tolist()}}

        return {
            "kappas": list(self.kappas),
            "seeds": list(self.seeds),
            "rows": [plain(r) for r in self.rows],
        }


def measure(settings: Settings) -> Data:
    """Runs every method at every κ of ``settings`` from each seed."""
    kappas = KAPPAS_QUICK if settings.quick else KAPPAS_FULL
    seeds = tuple(settings.seeds)
    return Data(kappas, seeds, _measure(kappas, seeds))
