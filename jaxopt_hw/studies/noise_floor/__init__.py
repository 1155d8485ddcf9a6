r"""The noise floor of constant-step SGD on least squares: measured against theory.

SGD with a constant step ``α`` and batch size ``B`` does not converge: it settles into a
stationary distribution around ``w*`` whose mean excess loss is the *noise floor*. On
``f(w) = mean((xᵀw − y)²)`` the per-sample gradient is ``g_i(w) = 2x_i(x_iᵀw − y_i) =
g_i(w*) + A_i e`` with ``A_i = 2x_i x_iᵀ`` and ``e = w − w*``, so one step is

    e ← (I − αH) e − α ξ,   ξ = mean over the batch of [g_i(w*) + (A_i − H) e],

with ``H = 2XᵀX/n``. For batches drawn with replacement, ``E[ξ | e] = 0`` and the second
moment ``Σ = E[eeᵀ]`` obeys, exactly,

    Σ = (I − αH) Σ (I − αH) + (α²/B) [C + E_i(A_i Σ A_i) − HΣH],
    C = (1/n) Σ_i g_i(w*) g_i(w*)ᵀ            (the gradient covariance at the optimum),

a linear (d² × d²) system solved here by a Kronecker solve; the floor is
``f − f* = eᵀ(H/2)e``, so ``E[f − f*] = ½ tr(HΣ)``. Dropping the state-dependent
(multiplicative) term gives the additive-noise Lyapunov equation
``Σ = (I−αH)Σ(I−αH) + α²C/B``, whose small-α solution is ``½tr(HΣ) ≈ α tr(C)/(4B)``:
the floor ∝ α/B.

Our loop samples *without* replacement (a fresh permutation per epoch), so the noise of
the ``n/B`` batches of an epoch sums to zero. For the additive part this is solved
exactly as well (:func:`reshuffling_factor`: the stationary variance of the linear
recursion driven by that epoch-correlated noise, averaged over the logged positions); it
lowers the floor when an epoch is not much longer than the relaxation time ``1/(2αμ)``.
The prediction compared with the measurements is the with-replacement solution times
that factor.

Each run starts at ``w*`` (only the stationary fluctuations are measured), discards a
burn-in of ``BURN_RELAXATIONS`` relaxation times of the slowest direction at the smallest
step, and averages the logged excess loss over the rest, then over seeds.
"""

from __future__ import annotations

import time

import numpy as np

from jaxopt_hw import metrics
from jaxopt_hw.studies import Settings, StudyResult, fmt, formatted
from jaxopt_hw.studies.noise_floor.figures import figures
from jaxopt_hw.studies.noise_floor.measure import (
    ALPHA_B_SLOPE_TOL,
    BATCHES_FULL,
    BATCHES_QUICK,
    BURN_RELAXATIONS,
    CONDITION_NUMBER,
    FLOOR_TOL,
    N_FEATURES,
    N_SAMPLES,
    NOISE,
    STEPS_L_FULL,
    STEPS_L_QUICK,
    Data,
    measure,
    slopes,
)
from jaxopt_hw.studies.noise_floor.prediction import (
    iid_covariance,
    iid_excess_loss,
    noise_moments,
    reshuffling_factor,
)

__all__ = [
    "NAME",
    "TITLE",
    "run",
    "measure",
    "facts",
    "Data",
    "noise_moments",
    "iid_covariance",
    "iid_excess_loss",
    "reshuffling_factor",
    "BATCHES_FULL",
    "BATCHES_QUICK",
    "STEPS_L_FULL",
    "STEPS_L_QUICK",
    "ALPHA_B_SLOPE_TOL",
    "FLOOR_TOL",
]

NAME = "noise_floor"
TITLE = "The noise floor of constant-step SGD against batch size and step size"


def _floor_conclusion(facts: dict) -> str:
    """The sentence on how the floor scales with α and B, each claim only when the fitted
    slopes back it: "grows with the step size" when every slope against α is positive,
    "shrinks with the batch size" when every one against B is negative, "close to ∝ α/B"
    when all lie within ``facts["alpha_b_slope_tol"]`` of ±1, "the slope against α
    exceeds one, as predicted" when every measured one and the predicted mean do, and its
    causes only when the predictions show them (the with-replacement prediction's slope
    above one; reshuffling lowering the floor more at the smallest step than at the
    largest, at the largest batch)."""
    f = formatted(facts)
    trends = [
        what
        for what, holds in (
            ("grows with the step size", facts["slope_alpha_min"] > 0),
            ("shrinks with the batch size", facts["slope_batch_max"] < 0),
        )
        if holds
    ]
    sentence = (
        f"The floor {' and '.join(trends) + ', spanning' if trends else 'spans'} a factor "
        f"{f['floor_spread']} "
        f"from {f['floor_min']} to {f['floor_max']}: the log-log slope against α is "
        f"{f['slope_alpha_mean']} on "
        f"average over batch sizes ({f['slope_alpha_min']} to {f['slope_alpha_max']}; predicted "
        f"{f['pred_slope_alpha_mean']}) and against B is {f['slope_batch_mean']} on average over "
        "step sizes "
        f"({f['slope_batch_min']} to {f['slope_batch_max']}; predicted "
        f"{f['pred_slope_batch_mean']})"
    )
    off = max(
        abs(facts["slope_alpha_min"] - 1),
        abs(facts["slope_alpha_max"] - 1),
        abs(facts["slope_batch_min"] + 1),
        abs(facts["slope_batch_max"] + 1),
    )
    if off <= facts["alpha_b_slope_tol"]:
        sentence += ", so the floor is close to `∝ α/B`"
    else:
        sentence += (
            f"; these slopes lie farther than {f['alpha_b_slope_tol']} from those of `∝ α/B`"
        )
    if facts["pred_slope_alpha_mean"] <= 1:
        return (
            sentence
            + f"; the predicted slope against α, {f['pred_slope_alpha_mean']}, does not exceed one."
        )
    if facts["slope_alpha_min"] <= 1:
        return sentence + (
            f"; the predicted slope against α exceeds one, the measured ones not all (down to "
            f"{f['slope_alpha_min']})."
        )
    causes = []
    if facts["pred_iid_slope_alpha_mean"] > 1:
        causes.append(
            f"through the higher-order terms in α (with replacement the predicted slope is "
            f"{f['pred_iid_slope_alpha_mean']})"
        )
    if facts["rr_factor_bmax_amin"] < facts["rr_factor_bmax_amax"]:
        causes.append(
            f"at large batches, through reshuffling, which removes more noise at small steps (at "
            f"B = {f['b_max']} its factor is {f['rr_factor_bmax_amin']} at α = {f['alphaL_min']}/L "
            "and "
            f"{f['rr_factor_bmax_amax']} at α = {f['alphaL_max']}/L)"
        )
    because = ", " + " and, ".join(causes) if causes else ""
    return sentence + "; the slope against α exceeds one, as predicted" + because + "."


def _prediction_conclusion(facts: dict) -> str:
    """The full prediction "predicts the floors" only when every measured over predicted lies
    within ``facts["floor_tol"]`` of 1, else how many cells lie farther."""
    f = formatted(facts)
    model = (
        "The stationary second-moment equation with the exact gradient covariance at w*, the "
        "state-dependent "
        "part of the minibatch noise and the reshuffling correction"
    )
    if facts["n_ratio_off"] == 0:
        sentence = (
            f"{model} predicts the {f['n_cells']} (B, α) floors: measured over predicted lies "
            "between "
            f"{f['ratio_min']} and {f['ratio_max']}, within {f['floor_tol']} of one"
        )
    else:
        sentence = (
            f"{model} misses {f['n_ratio_off']} of the {f['n_cells']} (B, α) floors by more than "
            f"{f['floor_tol']}: measured over predicted lies between {f['ratio_min']} and "
            f"{f['ratio_max']}"
        )
    return sentence + (
        f", and the prediction lies inside the measured floor's {f['ci_level']}% interval over "
        "seeds in "
        f"{f['n_inside']} of the {f['n_cells']} "
        + (
            "cells."
            if facts["n_inside"] == facts["n_cells"]
            else "cells (in the others the measurement resolves a difference within that range)."
        )
    )


def _additive_conclusion(facts: dict) -> str:
    """The additive-noise equation "alone misses the state-dependent noise" only when, where
    that noise is largest (B = b_min, the largest α), the measured floor is farther than
    ``facts["floor_tol"]`` from its prediction."""
    f = formatted(facts)
    equation = "The additive-noise Lyapunov equation `Σ = (I−αH)Σ(I−αH) + α²C/B`"
    where = (
        f"at B = {f['b_min']} and α = {f['alphaL_max']}/L the measured floor is "
        f"{f['additive_ratio_b1_amax']} "
        f"times its prediction (the full equation "
        f"{'raises' if facts['multiplicative_share_b1_amax'] > 1 else 'lowers'} the prediction by "
        "the factor "
        f"{f['multiplicative_share_b1_amax']}); measured over additive ranges from "
        f"{f['additive_ratio_min']} to "
        f"{f['additive_ratio_max']}."
    )
    if abs(facts["additive_ratio_b1_amax"] - 1) > facts["floor_tol"]:
        return f"{equation} alone misses the state-dependent noise `(α²/B)(E[AΣA] − HΣH)`: {where}"
    return (
        f"{equation} alone comes within {f['floor_tol']} of the floor even where the "
        "state-dependent noise "
        f"`(α²/B)(E[AΣA] − HΣH)` is largest: {where}"
    )


def _reshuffling_conclusion(facts: dict) -> str:
    """ "Sampling without replacement lowers the floor" only when, at the largest batch and
    smallest step, both the measured floor over the with-replacement prediction and the
    predicted reshuffling factor lie below ``1 − facts["floor_tol"]``."""
    f = formatted(facts)
    numbers = (
        f"at B = {f['b_max']} an epoch is {f['epoch_steps_bmax']} steps, "
        f"{f['epoch_over_relaxation_bmax']} "
        f"times the {f['relaxation_steps']} steps in which the slowest direction relaxes at α = "
        f"{f['alphaL_min']}/L, and the reshuffled noise, whose sum over an epoch is zero, gives a "
        "predicted "
        f"floor {f['rr_factor_bmax_amin']} times the with-replacement one (measured over the "
        "with-replacement "
        f"prediction: {f['no_rr_ratio_bmax_amin']}); at B = {f['b_min']} the factor is "
        f"{f['rr_factor_b1_amin']}."
    )
    lowered = 1 - facts["floor_tol"]
    if facts["rr_factor_bmax_amin"] < lowered and facts["no_rr_ratio_bmax_amin"] < lowered:
        return (
            "Sampling without replacement lowers the floor where an epoch is not much longer than "
            "the "
            f"relaxation time: {numbers}"
        )
    return (
        f"Sampling without replacement does not lower the floor by more than {f['floor_tol']} in "
        "both the "
        f"measurement and the prediction: {numbers}"
    )


def facts(data: Data) -> dict:
    """The study's facts: the floors, their predictions and ratios, and the fitted slopes."""
    steps, burn_in, relaxation = data.steps, data.burn_in, data.relaxation
    batches, steps_l = data.batches, data.steps_l
    mean, predicted, ratio = data.measured, data.predicted, data.ratio
    full_iid, additive, factor = (
        data.predicted_with_replacement,
        data.predicted_additive,
        data.reshuffling_factor,
    )
    slope_alpha, slope_batch = data.slope_alpha, data.slope_batch
    out = {
        "n": N_SAMPLES,
        "d": N_FEATURES,
        "kappa": CONDITION_NUMBER,
        "noise": NOISE,
        "steps": steps,
        "burn_in": burn_in,
        "burn_relaxations": BURN_RELAXATIONS,
        "window": steps - burn_in,
        "n_seeds": len(data.seeds),
        "n_cells": len(batches) * len(steps_l),
        "b_min": batches[0],
        "b_max": batches[-1],
        "alphaL_min": steps_l[0],
        "alphaL_max": steps_l[-1],
        "relaxation_steps": relaxation,
        "epoch_steps_bmax": N_SAMPLES // batches[-1],
        "slope_alpha_mean": float(np.mean(slope_alpha)),
        "slope_alpha_min": float(np.min(slope_alpha)),
        "slope_alpha_max": float(np.max(slope_alpha)),
        "slope_batch_mean": float(np.mean(slope_batch)),
        "slope_batch_min": float(np.min(slope_batch)),
        "slope_batch_max": float(np.max(slope_batch)),
        "pred_slope_alpha_mean": float(np.mean(slopes(data.alphas, predicted, axis=1))),
        "pred_slope_batch_mean": float(np.mean(slopes(batches, predicted, axis=0))),
        # without the reshuffling factor
        "pred_iid_slope_alpha_mean": float(np.mean(slopes(data.alphas, full_iid, axis=1))),
        "alpha_b_slope_tol": ALPHA_B_SLOPE_TOL,
        "floor_tol": FLOOR_TOL,
        "n_ratio_off": int(np.sum(np.abs(ratio - 1) > FLOOR_TOL)),
        "ratio_min": float(np.min(ratio)),
        "ratio_max": float(np.max(ratio)),
        # the prediction within the measured 95% interval
        "n_inside": int(np.sum(np.abs(mean - predicted) <= data.half_width)),
        "ci_level": 95,  # metrics.mean_interval's
        "epoch_over_relaxation_bmax": (N_SAMPLES // batches[-1]) / relaxation,
        "additive_ratio_min": float(np.min(data.additive_ratio)),
        "additive_ratio_max": float(np.max(data.additive_ratio)),
        "additive_ratio_b1_amax": float(data.additive_ratio[0, -1]),
        "multiplicative_share_b1_amax": float(full_iid[0, -1] / additive[0, -1]),
        "rr_factor_min": float(np.min(factor)),
        "rr_factor_bmax_amin": float(factor[-1, 0]),
        "rr_factor_bmax_amax": float(factor[-1, -1]),
        "rr_factor_b1_amin": float(factor[0, 0]),
        "no_rr_ratio_bmax_amin": float(mean[-1, 0] / full_iid[-1, 0]),
        "floor_max": float(mean.max()),
        "floor_min": float(mean.min()),
        "floor_spread": float(mean.max() / mean.min()),
    }
    for i, batch in enumerate(batches):
        out[f"batch_{batch}"] = batch
        for j in range(len(steps_l)):
            key = f"b{batch}_a{j}"
            out[f"{key}_measured"] = float(mean[i, j])
            out[f"{key}_predicted"] = float(predicted[i, j])
            out[f"{key}_ratio"] = float(ratio[i, j])
    for j, a in enumerate(steps_l):
        out[f"alphaL_{j}"] = a
    out.update(_cell_facts(data))
    return out


def _cell_facts(data: Data) -> dict:
    """Each cell's floor over seeds as a geometric mean with its 95% interval (a floor is
    positive and skewed over seeds), keyed ``b{B}_a{j}_gm``, ``…_gm_low``, ``…_gm_high``."""
    out = {}
    for i, batch in enumerate(data.batches):
        for j in range(len(data.steps_l)):
            floor = metrics.log_interval(data.per_seed[i, j])
            out[f"b{batch}_a{j}_gm"] = float(floor.center)
            out[f"b{batch}_a{j}_gm_low"] = float(floor.low)
            out[f"b{batch}_a{j}_gm_high"] = float(floor.high)
    return out


# --------------------------------------------------------------------------- the short text


def floor_short(facts: dict) -> str:
    """How the floor moves with α and B: each trend only when every slope has its sign,
    "close to `∝ α/B`" only when every slope lies within ``facts["alpha_b_slope_tol"]`` of ±1
    (the gates of :func:`_floor_conclusion`)."""
    f = formatted(facts)
    trends = [
        what
        for what, holds in (
            ("grows with α", facts["slope_alpha_min"] > 0),
            ("shrinks with B", facts["slope_batch_max"] < 0),
        )
        if holds
    ]
    sentence = f"The floor {' and '.join(trends) if trends else 'has no common trend in α and B'}"
    off = max(
        abs(facts["slope_alpha_min"] - 1),
        abs(facts["slope_alpha_max"] - 1),
        abs(facts["slope_batch_min"] + 1),
        abs(facts["slope_batch_max"] + 1),
    )
    if off <= facts["alpha_b_slope_tol"]:
        sentence += ", close to `∝ α/B`"
    else:
        sentence += f", farther than {f['alpha_b_slope_tol']} in slope from `∝ α/B`"
    return sentence + (
        f": mean log-log slopes {f['slope_alpha_mean']} against α and {f['slope_batch_mean']} "
        f"against B."
    )


def prediction_short(facts: dict) -> str:
    """The full prediction "predicts" the floors only when every measured over predicted lies
    within ``facts["floor_tol"]`` of 1."""
    f = formatted(facts)
    model = "The second-moment equation (state-dependent noise and reshuffling included)"
    if facts["n_ratio_off"] == 0:
        return (
            f"{model} predicts all {f['n_cells']} floors within {f['floor_tol']}: measured over "
            f"predicted {f['ratio_min']}–{f['ratio_max']}."
        )
    return (
        f"{model} misses {f['n_ratio_off']} of the {f['n_cells']} floors by more than "
        f"{f['floor_tol']}: measured over predicted {f['ratio_min']}–{f['ratio_max']}."
    )


def additive_short(facts: dict) -> str:
    """Additive noise alone "misses" only when, at the smallest batch and largest step, the
    measured floor is farther than ``facts["floor_tol"]`` from its prediction."""
    f = formatted(facts)
    where = f"at B = {f['b_min']} and α = {f['alphaL_max']}/L"
    if abs(facts["additive_ratio_b1_amax"] - 1) > facts["floor_tol"]:
        return (
            f"Without the state-dependent noise the prediction misses: {where} the floor is "
            f"{f['additive_ratio_b1_amax']} times it."
        )
    return (
        f"Without the state-dependent noise the prediction still comes within {f['floor_tol']}, "
        f"even {where}."
    )


def reshuffling_short(facts: dict) -> str:
    """Sampling without replacement "lowers the floor" only when, at the largest batch and
    smallest step, both the measured floor over the with-replacement prediction and the
    predicted factor lie below ``1 − facts["floor_tol"]``."""
    f = formatted(facts)
    where = f"at B = {f['b_max']} and α = {f['alphaL_min']}/L"
    lowered = 1 - facts["floor_tol"]
    if facts["rr_factor_bmax_amin"] < lowered and facts["no_rr_ratio_bmax_amin"] < lowered:
        return (
            f"Sampling without replacement lowers the floor {where} to "
            f"{f['no_rr_ratio_bmax_amin']} of the with-replacement prediction "
            f"({f['rr_factor_bmax_amin']} predicted)."
        )
    return (
        f"Sampling without replacement does not lower the floor by more than {f['floor_tol']} "
        f"{where}: measured {f['no_rr_ratio_bmax_amin']}, predicted {f['rr_factor_bmax_amin']} "
        f"of the with-replacement floor."
    )


def text(facts: dict) -> str:
    """What was run, in one paragraph."""
    f = formatted(facts)
    return (
        f"Constant-step SGD started at w* on one least-squares design (n = {f['n']}, d = {f['d']}, "
        f"κ = {f['kappa']}), batch sizes {f['b_min']} to {f['b_max']}, steps {f['alphaL_min']}/L "
        f"to {f['alphaL_max']}/L, {f['n_seeds']} seeds; the floor is the excess loss averaged "
        f"after a burn-in."
    )


def protocol_detail(facts: dict) -> str:
    """The protocol: the design, the grid, the burn-in and the averages."""
    f = formatted(facts)
    return (
        f"Constant-step SGD on a least-squares design with n = {f['n']} Gaussian samples, "
        f"d = {f['d']} features, a Hessian of condition number {f['kappa']} and label noise of "
        f"standard deviation {f['noise']}, for batch sizes from {f['b_min']} to {f['b_max']} and "
        f"step sizes α from {f['alphaL_min']}/L to {f['alphaL_max']}/L. Each run starts at w*, "
        f"takes {f['steps']} steps, discards the first {f['burn_in']} ({f['burn_relaxations']} "
        f"relaxation times of the slowest direction at the smallest step) and averages the excess "
        f"loss over the remaining {f['window']}; the floor is the mean of that average over "
        f"{f['n_seeds']} seeds (batch orders), the quantity the prediction is of; the tables give "
        f"it as a geometric mean with its {f['ci_level']}% interval."
    )


def table(data: Data) -> str:
    """The floors on the (B, α) grid: geometric mean over seeds (measured over predicted)."""
    rows = [
        "| B | " + " | ".join(f"α = {a:g}/L" for a in data.steps_l) + " |",
        "|---" * (len(data.steps_l) + 1) + "|",
    ]
    for i, batch in enumerate(data.batches):
        cells = [
            f"{fmt(float(metrics.log_interval(data.per_seed[i, j]).center))} "
            f"({data.ratio[i, j]:.2f})"
            for j in range(len(data.steps_l))
        ]
        rows.append(f"| {batch} | " + " | ".join(cells) + " |")
    return "Floor: geometric mean over seeds (measured mean over predicted).\n\n" + "\n".join(rows)


def detail_table(data: Data) -> str:
    """Every cell: the floor with its interval, the predictions and their ratios."""
    header = (
        "| B | α·L | floor, geometric mean (95% over seeds) | mean | predicted | mean / predicted "
        "| additive Lyapunov | mean / additive | reshuffling factor |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    lines = [header]
    for i, batch in enumerate(data.batches):
        for j, a in enumerate(data.steps_l):
            floor = metrics.log_interval(data.per_seed[i, j])
            lines.append(
                f"| {batch} | {a:g} | "
                f"{metrics.log_interval_text(floor.center, floor.low, floor.high)} "
                f"| {data.measured[i, j]:.3e} | {data.predicted[i, j]:.3e} "
                f"| {data.ratio[i, j]:.3f} | {data.predicted_additive[i, j]:.3e} "
                f"| {data.additive_ratio[i, j]:.3f} | {data.reshuffling_factor[i, j]:.3f} |"
            )
    return "\n".join(lines)


def run(settings: Settings) -> StudyResult:
    """Measures, derives the facts, draws the figures and writes the text."""
    started = time.perf_counter()
    data = measure(settings)
    found = facts(data)
    drawn = figures(data, settings)
    found["seconds"] = round(time.perf_counter() - started, 1)  # measurement, fits and figures
    return StudyResult(
        name=NAME,
        title=TITLE,
        facts=found,
        data=data.to_json(),
        figures=drawn,
        tables=[table(data)],
        conclusions=[
            floor_short(found),
            prediction_short(found),
            additive_short(found),
            reshuffling_short(found),
        ],
        text=text(found),
        details=[
            _floor_conclusion(found),
            _prediction_conclusion(found),
            _additive_conclusion(found),
            _reshuffling_conclusion(found),
            protocol_detail(found),
        ],
        detail_tables=[detail_table(data)],
    )
