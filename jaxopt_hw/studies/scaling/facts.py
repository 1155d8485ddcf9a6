"""The scaling study's facts: every number its text states, derived from the measured sizes."""

from __future__ import annotations

import inspect
import math

import numpy as np

import jaxopt_hw as jh
from jaxopt_hw import metrics
from jaxopt_hw.studies.comparison import OPTIMIZERS
from jaxopt_hw.studies.scaling.fits import (
    MIN_FIT_POINTS,
    loglog_slope,
    per_seed_slopes,
    seed_slope_facts,
)
from jaxopt_hw.studies.scaling.measure import (
    BATCH_SIZE,
    BETAS,
    D_FIXED,
    KAPPA_FIXED,
    LOG_EVERY,
    N_FIXED,
    TOL_REL,
    ScalingData,
    Size,
)

__all__ = ["CI_LEVEL", "FLOOR_FACTOR", "KAPPA_SLOPE_TOL", "facts", "sgd_noise_floor"]

CI_LEVEL = 95
#: "the floor accounts for SGD's growth with d" is said only when SGD's final excess loss is
#: within this factor of the predicted noise floor at every size of the fixed-κ scan
FLOOR_FACTOR = 2.0
#: "SGD's steps follow κ¹, as gradient descent's do" is said only when the fitted exponent
#: of SGD's steps against κ is within this of 1
KAPPA_SLOPE_TOL = 0.2


def facts(data: ScalingData) -> dict:
    """The study's facts: the setup, every size's measures and the fitted slopes."""
    out = _setup_facts(data)
    for key, row in _keyed_rows(data).items():
        out.update(_size_facts(key, row))
    out.update(_fixed_kappa_facts(data))
    out.update(_designs_facts(data))
    for name in OPTIMIZERS:
        out.update(_recipe_facts(data, name))
    out.update(_adaptive_minus_sgd_facts(data))
    if all(f"{o}_excess_n_overlap" in out for o in OPTIMIZERS):
        out["excess_n_overlaps"] = sum(out[f"{o}_excess_n_overlap"] for o in OPTIMIZERS)
    out["n_optimizers"] = len(OPTIMIZERS)
    out["dmax_adaptive_over_gd"] = _adaptive_over_gd(data.d_rows[-1])
    out["dmax_gd_over_adaptive"] = 1.0 / out["dmax_adaptive_over_gd"]
    out["kappa_slope_tol"] = KAPPA_SLOPE_TOL
    out.update(_time_and_grid_facts(data, out))
    return out


def sgd_noise_floor(row: Size) -> float:
    r"""The stationary excess loss of constant-step SGD near the optimum, for ``row``'s best SGD.

    :math:`\eta \sigma^2 \operatorname{tr}(H) / (2B)`, from the minibatch gradient's
    covariance :math:`\approx 2\sigma^2 H / B` at the optimum, with :math:`\sigma^2`
    estimated by the minimal loss.
    """
    trace = row.trace_ratio * row.mu
    return row.tuned["sgd"].config["learning_rate"] * row.min_loss * trace / (2 * BATCH_SIZE)


def _keyed_rows(data: ScalingData) -> dict:
    """Every size under the prefix its facts carry (``n10000_d5``, ``kappa100_d5``)."""
    return {
        **{f"n{n}_d{d}": row for (n, d), row in data.rows.items()},
        **{f"kappa{KAPPA_FIXED:g}_d{d}": row for d, row in data.kappa_rows.items()},
    }


def _setup_facts(data: ScalingData) -> dict:
    """The scans, the budget and the protocol, and κ's growth with d on the recipe."""
    ds, ns, kappa_ds = data.ds, data.ns, data.kappa_ds
    fixed = list(data.kappa_rows.values())
    return {
        "n_fixed": N_FIXED,
        "d_fixed": D_FIXED,
        "d_min": ds[0],
        "d_max": ds[-1],
        "n_min": ns[0],
        "n_max": ns[-1],
        "n_ds": len(ds),
        "n_ns": len(ns),
        "steps": data.steps,
        "log_every": LOG_EVERY,
        "batch_size": BATCH_SIZE,
        "n_seeds": len(data.seeds),
        "ci_level": CI_LEVEL,
        "tol_percent": 100 * TOL_REL,
        "min_fit_points": MIN_FIT_POINTS,
        "samples_seen": data.steps * BATCH_SIZE,
        "kappa_d_slope": loglog_slope(ds, data.kappas, min_points=2),
        "kappa_fixed": KAPPA_FIXED,
        "kappa_d_min": kappa_ds[0],
        "kappa_d_max": kappa_ds[-1],
        "trace_d_fixed_kappa_slope": loglog_slope(
            kappa_ds, [r.trace_ratio for r in fixed], min_points=2
        ),
        "kappa_d_min_trace_ratio": fixed[0].trace_ratio,
        "kappa_d_max_trace_ratio": fixed[-1].trace_ratio,
    }


_TUNED_QUANTITIES = (
    "excess",
    "excess_half",
    "excess_gm",
    "excess_gm_low",
    "excess_gm_high",
    "relative_excess",
    "dist",
    "dist_half",
    "steps",
    "steps_half",
    "steps_median",
    "reached",
)


def _size_facts(key: str, row: Size) -> dict:
    """The facts of one size, under names that start with ``key``."""
    out = {f"{key}_n": row.n, f"{key}_d": row.d}
    for quantity in ("kappa", "L", "mu", "trace_ratio", "min_loss", "tol", "build_seconds"):
        out[f"{key}_{quantity}"] = getattr(row, quantity)
    swept = [row.tuned[o] for o in ("momentum", "rmsprop", "adam")]  # SGD rides on Momentum's
    out[f"{key}_run_seconds"] = sum(t.run_seconds for t in swept)
    out[f"{key}_compile_seconds"] = sum(t.compile_seconds for t in swept)
    for name in OPTIMIZERS:
        tuned = row.tuned[name]
        for quantity in _TUNED_QUANTITIES:
            if math.isfinite(getattr(tuned, quantity)):
                out[f"{key}_{name}_{quantity}"] = getattr(tuned, quantity)
        for hyper, value in tuned.config.items():
            out[f"{key}_{name}_{hyper}"] = float(value)
        out[f"{key}_{name}_lr_edge"] = int(tuned.lr_edge)
        out[f"{key}_{name}_beta_edge"] = int(tuned.beta_edge)
    return out


def _fixed_kappa_facts(data: ScalingData) -> dict:
    """Per optimizer on the fixed-κ scan: the largest d reached, the slopes against d and tr(H)."""
    out = {}
    kappa_ds = data.kappa_ds
    rows = [data.kappa_rows[d] for d in kappa_ds]
    traces = [r.trace_ratio for r in rows]
    for name in OPTIMIZERS:
        steps = [r.tuned[name].steps for r in rows]
        reached = [d for d, s in zip(kappa_ds, steps) if math.isfinite(s)]
        if reached:
            out[f"{name}_reach_d_max_fixed_kappa"] = max(reached)
        for label, x, y in (
            ("steps_d", kappa_ds, steps),
            ("steps_trace", traces, steps),
            ("excess_d", kappa_ds, [r.tuned[name].excess for r in rows]),
        ):
            slope = loglog_slope(x, y)
            if math.isfinite(slope):
                out[f"{name}_{label}_fixed_kappa_slope"] = slope
        if f"{name}_steps_d_fixed_kappa_slope" in out:
            per_seed = [r.tuned[name].steps_per_seed for r in rows]
            out.update(
                seed_slope_facts(f"{name}_steps_d_fixed_kappa", per_seed_slopes(kappa_ds, per_seed))
            )
    return out


def _designs_facts(data: ScalingData) -> dict:
    """The two designs at the largest d both d-scans have, and SGD against its noise floor."""
    d_common = max(set(data.ds) & set(data.kappa_ds))
    recipe = data.rows[(N_FIXED, d_common)]
    out = {
        "d_common": d_common,
        "recipe_adaptive_over_gd": _adaptive_over_gd(recipe),
        "fixed_kappa_adaptive_over_gd": _adaptive_over_gd(data.kappa_rows[d_common]),
        "recipe_kappa_d_common": recipe.kappa,
    }
    ratios = [r.tuned["sgd"].excess / sgd_noise_floor(r) for r in data.kappa_rows.values()]
    if all(math.isfinite(r) and r > 0 for r in ratios):
        out["sgd_floor_ratio_min"], out["sgd_floor_ratio_max"] = min(ratios), max(ratios)
        out["floor_factor"] = FLOOR_FACTOR
    return out


def _recipe_facts(data: ScalingData, name: str) -> dict:
    """One optimizer on the recipe: how far it reaches, its slopes and its spread across n."""
    out = {}
    d_rows, n_rows, ds, ns = data.d_rows, data.n_rows, data.ds, data.ns
    steps_d = [r.tuned[name].steps for r in d_rows]
    out[f"{name}_reach_count_d"] = int(np.sum(np.isfinite(steps_d)))
    reached_d = [d for d, s in zip(ds, steps_d) if math.isfinite(s)]
    if reached_d:
        out[f"{name}_reach_d_max"] = max(reached_d)
    for label, x, y in (
        ("steps_kappa", data.kappas, steps_d),
        ("excess_d", ds, [r.tuned[name].excess for r in d_rows]),
        ("dist_d", ds, [r.tuned[name].dist for r in d_rows]),
        ("excess_n", ns, [r.tuned[name].excess for r in n_rows]),
        ("steps_n", ns, [r.tuned[name].steps for r in n_rows]),
    ):
        slope = loglog_slope(x, y)
        if math.isfinite(slope):
            out[f"{name}_{label}_slope"] = slope
    if f"{name}_steps_kappa_slope" in out:
        per_seed = [r.tuned[name].steps_per_seed for r in d_rows]
        out.update(seed_slope_facts(f"{name}_steps_kappa", per_seed_slopes(data.kappas, per_seed)))
    large = [r.tuned[name] for r in n_rows if r.n >= N_FIXED]  # epochs of ≥ N_FIXED / B steps
    if len(large) > 1:
        out[f"{name}_excess_n_spread"] = max(t.excess for t in large) / min(t.excess for t in large)
        low = max(t.excess - t.excess_half for t in large)
        high = min(t.excess + t.excess_half for t in large)
        out[f"{name}_excess_n_overlap"] = int(low <= high)
    if ns[0] < N_FIXED:
        at_fixed = data.rows[(N_FIXED, D_FIXED)].tuned[name].excess
        out[f"{name}_excess_nmin_ratio"] = n_rows[0].tuned[name].excess / at_fixed
    steps_n = [r.tuned[name].steps for r in n_rows]
    if all(math.isfinite(v) for v in steps_n):
        out[f"{name}_steps_n_spread"] = max(steps_n) / min(steps_n)
    return out


def _adaptive_minus_sgd_facts(data: ScalingData) -> dict:
    """RMSprop's and Adam's exponent of κ minus SGD's, seed by seed, over the sizes all reach."""
    d_rows, kappas = data.d_rows, data.kappas
    common = [
        i
        for i, r in enumerate(d_rows)
        if all(r.tuned[o].steps_per_seed is not None for o in OPTIMIZERS)
    ]
    if len(common) < MIN_FIT_POINTS:
        return {}
    out = {"kappa_common_max": kappas[common[-1]]}
    x = [kappas[i] for i in common]
    sgd = per_seed_slopes(x, [d_rows[i].tuned["sgd"].steps_per_seed for i in common])
    for name in ("rmsprop", "adam"):
        slopes = per_seed_slopes(x, [d_rows[i].tuned[name].steps_per_seed for i in common])
        interval = metrics.mean_interval(slopes - sgd)
        if np.isfinite(interval.half_width):
            out[f"{name}_minus_sgd_kappa_slope"] = float(interval.mean)
            out[f"{name}_minus_sgd_kappa_slope_half"] = float(interval.half_width)
    return out


def _time_and_grid_facts(data: ScalingData, so_far: dict) -> dict:
    """The sweeps' wall time against d and n, and the best configs on their grid's edge."""
    keys = list(_keyed_rows(data))
    with_beta = [o for o in OPTIMIZERS if o in BETAS]  # SGD has no β
    run_d = [so_far[f"n{N_FIXED}_d{d}_run_seconds"] for d in data.ds]
    run_n = [so_far[f"n{n}_d{D_FIXED}_run_seconds"] for n in data.ns]
    return {
        "run_seconds_d_slope": loglog_slope(data.ds, run_d, min_points=2),
        "run_seconds_n_slope": loglog_slope(data.ns, run_n, min_points=2),
        "lr_edges": sum(so_far[f"{key}_{o}_lr_edge"] for key in keys for o in OPTIMIZERS),
        "n_tuned": len(keys) * len(OPTIMIZERS),
        "beta_edges": sum(so_far[f"{key}_{o}_beta_edge"] for key in keys for o in with_beta),
        "n_beta_tuned": len(keys) * len(with_beta),
        "n_beta_values": len(BETAS["momentum"]),
        "adam_b2": inspect.signature(jh.adam).parameters["b2"].default,
        "sweeps": 3 * len(keys),
    }


def _adaptive_over_gd(row: Size) -> float:
    """The better final excess loss of RMSprop and Adam over the better of SGD and Momentum."""
    best = lambda names: min(row.tuned[o].excess for o in names)  # noqa: E731
    return best(("rmsprop", "adam")) / best(("sgd", "momentum"))
