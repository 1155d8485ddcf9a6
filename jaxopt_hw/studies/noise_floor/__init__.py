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

import dataclasses
import math
import time

import numpy as np

import jaxopt_hw as jh
from jaxopt_hw import metrics, plots
from jaxopt_hw.problems import ConstantInit
from jaxopt_hw.studies import Settings, StudyResult, fmt

NAME = "noise_floor"
TITLE = "The noise floor of constant-step SGD against batch size and step size"

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


# --------------------------------------------------------------------------- theory


def noise_moments(X, y, w_star) -> dict:
    """What the predictions need, in float64: the Hessian ``H = 2XᵀX/n``, the per-sample
    gradient covariance at the optimum ``C = (1/n) Σ g_i g_iᵀ`` with ``g_i = 2x_i(x_iᵀw* − y_i)``,
    and the fourth moment ``F = (1/n) Σ A_i ⊗ A_i`` with ``A_i = 2x_i x_iᵀ`` (``d² × d²``)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w_star = np.asarray(w_star, dtype=np.float64)
    n, d = X.shape
    residual = X @ w_star - y
    gradients = 2.0 * X * residual[:, None]
    outer = (X[:, :, None] * X[:, None, :]).reshape(n, d * d)
    return {
        "n": n,
        "H": 2.0 * X.T @ X / n,
        "C": gradients.T @ gradients / n,
        "F": 4.0 * outer.T @ outer / n,
    }


def iid_covariance(
    moments: dict, alpha: float, batch_size: int, multiplicative: bool = True
) -> np.ndarray:
    r"""The stationary ``Σ = E[(w − w*)(w − w*)ᵀ]`` of SGD with batches drawn with replacement:
    the solution of :math:`Σ = (I-αH)Σ(I-αH) + \frac{α^2}{B}[C + F(Σ) - HΣH]` (without the
    bracket's last two terms when ``multiplicative=False``). ``inf`` everywhere when the
    second moment has no stationary solution (the linear map has spectral radius ≥ 1)."""
    H, C = moments["H"], moments["C"]
    d = H.shape[0]
    contraction = np.eye(d) - alpha * H
    operator = np.kron(contraction, contraction)
    if multiplicative:
        operator = operator + alpha**2 / batch_size * (moments["F"] - np.kron(H, H))
    if np.max(np.abs(np.linalg.eigvals(operator))) >= 1.0:
        return np.full((d, d), np.inf)
    vec = np.linalg.solve(np.eye(d * d) - operator, (alpha**2 / batch_size * C).reshape(-1))
    sigma = vec.reshape(d, d)
    return 0.5 * (sigma + sigma.T)


def iid_excess_loss(
    moments: dict, alpha: float, batch_size: int, multiplicative: bool = True
) -> float:
    """``½ tr(HΣ)`` for :func:`iid_covariance`: the mean stationary excess loss."""
    sigma = iid_covariance(moments, alpha, batch_size, multiplicative)
    return float(0.5 * np.trace(moments["H"] @ sigma))


def reshuffling_factor(moments: dict, alpha: float, batch_size: int, steps) -> float:
    r"""Additive-noise floor with a fresh permutation per epoch over the one with
    replacement, averaged over the logged ``steps`` (each the number of steps taken).

    In the eigenbasis of ``H`` (eigenvalues λ_a, contraction m_a = 1 − αλ_a, noise
    variance c_a = (UᵀCU)_aa), within an epoch of M = n/B batches the batch means have
    variance c_a(n−B)/(B(n−1)) and covariance −c_a/(n−1) between two batches of the same
    epoch (none across epochs). After p steps into an epoch, with S(k) = Σ_{s<k} m_a^s,

        E[e_a²] = α² c_a [ (n−B)/(B(n−1)(1−m_a²)) − (S(p)² + m_a^{2p} S(M)²/(1−m_a^{2M}) − 1/(1−m_a²))/(n−1) ].

    Requires ``batch_size`` to divide ``n`` (epochs then align with batches)."""
    n = moments["n"]
    if n % batch_size:
        raise ValueError(f"batch_size {batch_size} must divide n = {n}")
    epoch = n // batch_size
    lam, vectors = np.linalg.eigh(moments["H"])
    noise = np.diag(vectors.T @ moments["C"] @ vectors)
    m = 1.0 - alpha * lam
    q = m * m
    position = (np.asarray(steps, dtype=np.int64) % epoch)[:, None]
    partial = lambda k: (1.0 - m**k) / (1.0 - m)  # noqa: E731
    fpc = (n - batch_size) / (n - 1)
    within = (
        partial(position) ** 2
        + q**position * partial(epoch) ** 2 / (1.0 - q**epoch)
        - 1.0 / (1.0 - q)
    )
    variance = alpha**2 * noise * (fpc / (batch_size * (1.0 - q)) - within / (n - 1))
    reshuffled = 0.5 * np.mean(np.sum(lam * variance, axis=1))
    with_replacement = 0.5 * np.sum(lam * alpha**2 * noise / (batch_size * (1.0 - q)))
    return float(reshuffled / with_replacement)


# --------------------------------------------------------------------------- measurement


def _problem():
    problem = jh.linear_regression(
        N_SAMPLES, N_FEATURES, noise=NOISE, seed=DESIGN_SEED, condition_number=CONDITION_NUMBER
    )
    start = tuple(float(v) for v in np.asarray(problem.w_star))
    # every run starts at the optimum: only the stationary fluctuations are measured
    return dataclasses.replace(
        problem, initial_params=ConstantInit(start, np.dtype(problem.X.dtype).name)
    )


def _slopes(x, y, axis: int) -> np.ndarray:
    """Least-squares slopes of log y against log x along ``axis`` of ``y`` (2-D)."""
    y = np.moveaxis(np.log(np.asarray(y, dtype=float)), axis, 0)
    return np.polyfit(np.log(np.asarray(x, dtype=float)), y, 1)[0]


def _floor_conclusion(facts: dict) -> str:
    """The sentence on how the floor scales with α and B, each claim only when the fitted
    slopes back it: "grows with the step size" when every slope against α is positive,
    "shrinks with the batch size" when every one against B is negative, "close to ∝ α/B"
    when all lie within ``facts["alpha_b_slope_tol"]`` of ±1, "the slope against α
    exceeds one, as predicted" when every measured one and the predicted mean do, and its
    causes only when the predictions show them (the with-replacement prediction's slope
    above one; reshuffling lowering the floor more at the smallest step than at the
    largest, at the largest batch)."""
    f = {k: fmt(v) for k, v in facts.items()}
    trends = [
        what
        for what, holds in (
            ("grows with the step size", facts["slope_alpha_min"] > 0),
            ("shrinks with the batch size", facts["slope_batch_max"] < 0),
        )
        if holds
    ]
    sentence = (
        f"The floor {' and '.join(trends) + ', spanning' if trends else 'spans'} a factor {f['floor_spread']} "
        f"from {f['floor_min']} to {f['floor_max']}: the log-log slope against α is {f['slope_alpha_mean']} on "
        f"average over batch sizes ({f['slope_alpha_min']} to {f['slope_alpha_max']}; predicted "
        f"{f['pred_slope_alpha_mean']}) and against B is {f['slope_batch_mean']} on average over step sizes "
        f"({f['slope_batch_min']} to {f['slope_batch_max']}; predicted {f['pred_slope_batch_mean']})"
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
            f"B = {f['b_max']} its factor is {f['rr_factor_bmax_amin']} at α = {f['alphaL_min']}/L and "
            f"{f['rr_factor_bmax_amax']} at α = {f['alphaL_max']}/L)"
        )
    because = ", " + " and, ".join(causes) if causes else ""
    return sentence + "; the slope against α exceeds one, as predicted" + because + "."


def _prediction_conclusion(facts: dict) -> str:
    """The full prediction "predicts the floors" only when every measured over predicted lies
    within ``facts["floor_tol"]`` of 1, else how many cells lie farther."""
    f = {k: fmt(v) for k, v in facts.items()}
    model = (
        "The stationary second-moment equation with the exact gradient covariance at w*, the state-dependent "
        "part of the minibatch noise and the reshuffling correction"
    )
    if facts["n_ratio_off"] == 0:
        sentence = (
            f"{model} predicts the {f['n_cells']} (B, α) floors: measured over predicted lies between "
            f"{f['ratio_min']} and {f['ratio_max']}, within {f['floor_tol']} of one"
        )
    else:
        sentence = (
            f"{model} misses {f['n_ratio_off']} of the {f['n_cells']} (B, α) floors by more than "
            f"{f['floor_tol']}: measured over predicted lies between {f['ratio_min']} and {f['ratio_max']}"
        )
    return sentence + (
        f", and the prediction lies inside the measured floor's {f['ci_level']}% interval over seeds in "
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
    f = {k: fmt(v) for k, v in facts.items()}
    equation = "The additive-noise Lyapunov equation `Σ = (I−αH)Σ(I−αH) + α²C/B`"
    where = (
        f"at B = {f['b_min']} and α = {f['alphaL_max']}/L the measured floor is {f['additive_ratio_b1_amax']} "
        f"times its prediction (the full equation "
        f"{'raises' if facts['multiplicative_share_b1_amax'] > 1 else 'lowers'} the prediction by the factor "
        f"{f['multiplicative_share_b1_amax']}); measured over additive ranges from {f['additive_ratio_min']} to "
        f"{f['additive_ratio_max']}."
    )
    if abs(facts["additive_ratio_b1_amax"] - 1) > facts["floor_tol"]:
        return f"{equation} alone misses the state-dependent noise `(α²/B)(E[AΣA] − HΣH)`: {where}"
    return (
        f"{equation} alone comes within {f['floor_tol']} of the floor even where the state-dependent noise "
        f"`(α²/B)(E[AΣA] − HΣH)` is largest: {where}"
    )


def _reshuffling_conclusion(facts: dict) -> str:
    """ "Sampling without replacement lowers the floor" only when, at the largest batch and
    smallest step, both the measured floor over the with-replacement prediction and the
    predicted reshuffling factor lie below ``1 − facts["floor_tol"]``."""
    f = {k: fmt(v) for k, v in facts.items()}
    numbers = (
        f"at B = {f['b_max']} an epoch is {f['epoch_steps_bmax']} steps, {f['epoch_over_relaxation_bmax']} "
        f"times the {f['relaxation_steps']} steps in which the slowest direction relaxes at α = "
        f"{f['alphaL_min']}/L, and the reshuffled noise, whose sum over an epoch is zero, gives a predicted "
        f"floor {f['rr_factor_bmax_amin']} times the with-replacement one (measured over the with-replacement "
        f"prediction: {f['no_rr_ratio_bmax_amin']}); at B = {f['b_min']} the factor is {f['rr_factor_b1_amin']}."
    )
    lowered = 1 - facts["floor_tol"]
    if facts["rr_factor_bmax_amin"] < lowered and facts["no_rr_ratio_bmax_amin"] < lowered:
        return (
            "Sampling without replacement lowers the floor where an epoch is not much longer than the "
            f"relaxation time: {numbers}"
        )
    return (
        f"Sampling without replacement does not lower the floor by more than {f['floor_tol']} in both the "
        f"measurement and the prediction: {numbers}"
    )


def _ratio_figure(batches, steps_l, ratio, additive_ratio, path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    for i, a in enumerate(steps_l):
        color = f"C{i}"
        ax.plot(
            batches, ratio[:, i], marker="o", color=color, label=f"α = {a:g}/L: full prediction"
        )
        ax.plot(
            batches,
            additive_ratio[:, i],
            marker="o",
            markerfacecolor="none",
            linestyle=":",
            color=color,
            label=f"α = {a:g}/L: additive Lyapunov (with replacement)",
        )
    ax.axhline(1.0, color="k", linewidth=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(batches), [str(b) for b in batches])
    ax.set_xlabel("batch size B")
    ax.set_ylabel("measured / predicted floor")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("noise floor: measured over predicted")
    plots.save_figure(fig, path)


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


def _facts(data: dict, *, steps: int, burn_in: int, relaxation: float) -> dict:
    """The study's facts from :func:`run`'s ``data`` (measurements, predictions, slopes)."""
    batches, steps_l = data["batches"], data["steps_l"]
    mean, predicted, ratio = data["measured"], data["predicted"], data["ratio"]
    full_iid, additive, factor = (
        data["predicted_with_replacement"],
        data["predicted_additive"],
        data["reshuffling_factor"],
    )
    slope_alpha, slope_batch = data["slope_alpha"], data["slope_batch"]
    facts = {
        "n": N_SAMPLES,
        "d": N_FEATURES,
        "kappa": CONDITION_NUMBER,
        "noise": NOISE,
        "steps": steps,
        "burn_in": burn_in,
        "burn_relaxations": BURN_RELAXATIONS,
        "window": steps - burn_in,
        "n_seeds": len(data["seeds"]),
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
        "pred_slope_alpha_mean": float(np.mean(_slopes(data["alphas"], predicted, axis=1))),
        "pred_slope_batch_mean": float(np.mean(_slopes(batches, predicted, axis=0))),
        # without the reshuffling factor
        "pred_iid_slope_alpha_mean": float(np.mean(_slopes(data["alphas"], full_iid, axis=1))),
        "alpha_b_slope_tol": ALPHA_B_SLOPE_TOL,
        "floor_tol": FLOOR_TOL,
        "n_ratio_off": int(np.sum(np.abs(ratio - 1) > FLOOR_TOL)),
        "ratio_min": float(np.min(ratio)),
        "ratio_max": float(np.max(ratio)),
        # the prediction within the measured 95% interval
        "n_inside": int(np.sum(np.abs(mean - predicted) <= data["half_width"])),
        "ci_level": 95,  # metrics.mean_interval's
        "epoch_over_relaxation_bmax": (N_SAMPLES // batches[-1]) / relaxation,
        "additive_ratio_min": float(np.min(data["additive_ratio"])),
        "additive_ratio_max": float(np.max(data["additive_ratio"])),
        "additive_ratio_b1_amax": float(data["additive_ratio"][0, -1]),
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
        facts[f"batch_{batch}"] = batch
        for j in range(len(steps_l)):
            key = f"b{batch}_a{j}"
            facts[f"{key}_measured"] = float(mean[i, j])
            facts[f"{key}_predicted"] = float(predicted[i, j])
            facts[f"{key}_ratio"] = float(ratio[i, j])
    for j, a in enumerate(steps_l):
        facts[f"alphaL_{j}"] = a
    return facts


def _table(data: dict) -> str:
    header = (
        "| B | α·L | measured floor (95% CI over seeds) | predicted | measured / predicted "
        "| additive Lyapunov | measured / additive | reshuffling factor |\n|---|---|---|---|---|---|---|---|"
    )
    lines = [header]
    for i, batch in enumerate(data["batches"]):
        for j, a in enumerate(data["steps_l"]):
            cell = {
                key: data[key][i, j]
                for key in (
                    "measured",
                    "half_width",
                    "predicted",
                    "ratio",
                    "predicted_additive",
                    "additive_ratio",
                    "reshuffling_factor",
                )
            }
            lines.append(
                f"| {batch} | {a:g} | {cell['measured']:.3e} ± {cell['half_width']:.1e} | {cell['predicted']:.3e} "
                f"| {cell['ratio']:.3f} | {cell['predicted_additive']:.3e} | {cell['additive_ratio']:.3f} "
                f"| {cell['reshuffling_factor']:.3f} |"
            )
    return "\n".join(lines)


def _figures(data: dict, settings: Settings) -> list:
    """Draws the study's three figures; ``[(file name, caption)]``."""
    batches, steps_l = data["batches"], data["steps_l"]
    mean, half, predicted = data["measured"], data["half_width"], data["predicted"]
    alpha_name, batch_name, ratio_name = (
        "noise_floor_vs_alpha.png",
        "noise_floor_vs_batch.png",
        "noise_floor_ratio.png",
    )
    plots.scaling(
        np.asarray(steps_l),
        {f"B = {b}": (mean[i], half[i]) for i, b in enumerate(batches)},
        theory={f"B = {b}": predicted[i] for i, b in enumerate(batches)},
        xlabel="step size α·L",
        ylabel="stationary excess loss",
        path=settings.figure_path(alpha_name),
        title="SGD noise floor against the step size (dashed: theory)",
    )
    plots.scaling(
        np.asarray(batches, dtype=float),
        {f"α = {a:g}/L": (mean[:, j], half[:, j]) for j, a in enumerate(steps_l)},
        theory={f"α = {a:g}/L": predicted[:, j] for j, a in enumerate(steps_l)},
        xlabel="batch size B",
        ylabel="stationary excess loss",
        path=settings.figure_path(batch_name),
        title="SGD noise floor against the batch size (dashed: theory)",
    )
    _ratio_figure(
        batches, steps_l, data["ratio"], data["additive_ratio"], settings.figure_path(ratio_name)
    )
    return [
        (
            alpha_name,
            "Stationary excess loss of constant-step SGD against α for each batch size; error bars: "
            "95% intervals over seeds; dashed: the predicted floor.",
        ),
        (batch_name, "The same floors against the batch size, one line per step size."),
        (
            ratio_name,
            "Measured over predicted floor: full prediction (filled) and additive-noise Lyapunov "
            "equation with replacement (hollow).",
        ),
    ]


def run(settings: Settings) -> StudyResult:
    started = time.perf_counter()
    quick = settings.quick
    batches = BATCHES_QUICK if quick else BATCHES_FULL
    steps_l = STEPS_L_QUICK if quick else STEPS_L_FULL
    steps = STEPS_QUICK if quick else STEPS_FULL
    log_every = LOG_EVERY_QUICK if quick else LOG_EVERY_FULL
    seeds = [int(s) for s in settings.seeds]

    problem = _problem()
    alphas = [a / problem.L for a in steps_l]
    relaxation = 1.0 / (
        2.0 * min(alphas) * problem.mu
    )  # steps for the slowest direction's excess loss
    burn_logs = math.ceil(BURN_RELAXATIONS * relaxation / log_every)
    data = {
        "batches": list(batches),
        "steps_l": list(steps_l),
        "alphas": alphas,
        "seeds": seeds,
        "L": problem.L,
        "mu": problem.mu,
        **_measure(
            problem, batches, alphas, seeds, steps=steps, log_every=log_every, burn_logs=burn_logs
        ),
    }
    data["ratio"] = data["measured"] / data["predicted"]
    data["additive_ratio"] = data["measured"] / data["predicted_additive"]
    data["slope_alpha"] = _slopes(alphas, data["measured"], axis=1)  # one per batch size
    data["slope_batch"] = _slopes(batches, data["measured"], axis=0)  # one per step size
    facts = _facts(data, steps=steps, burn_in=burn_logs * log_every, relaxation=relaxation)
    f = {k: fmt(v) for k, v in facts.items()}

    text = (
        f"Constant-step SGD on a least-squares design with n = {f['n']} Gaussian samples, d = {f['d']} features, "
        f"a Hessian of condition number {f['kappa']} and label noise of standard deviation {f['noise']}, for batch "
        f"sizes from {f['b_min']} to {f['b_max']} and step sizes α from {f['alphaL_min']}/L to {f['alphaL_max']}/L. "
        f"Each run starts at w*, takes {f['steps']} steps, discards the first {f['burn_in']} ({f['burn_relaxations']} relaxation "
        f"times of the slowest direction at the smallest step) and averages the excess loss over the remaining "
        f"{f['window']}; the floor is the mean of that average over {f['n_seeds']} seeds (batch orders)."
    )
    conclusions = [
        _floor_conclusion(facts),
        _prediction_conclusion(facts),
        _additive_conclusion(facts),
        _reshuffling_conclusion(facts),
    ]
    figures = _figures(data, settings)
    facts["seconds"] = round(time.perf_counter() - started, 1)  # measurement, fits and figures
    return StudyResult(
        name=NAME,
        title=TITLE,
        facts=facts,
        data=data,
        figures=figures,
        tables=[_table(data)],
        conclusions=conclusions,
        text=text,
    )
