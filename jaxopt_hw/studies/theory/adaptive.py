"""RMSprop and Adam, full batch on the κ scan, against the two rates they could approach.

* Jacobi-preconditioned GD: GD on ``D^{-1/2} H D^{-1/2}`` (``D = diag(H)``) at its optimal
  step contracts by ``ρ_D = (κ_D − 1)/(κ_D + 1)``, ``κ_D`` that matrix's condition number:
  the diagonal rescaling an adaptive method's per-coordinate step is said to approach.
* Adam's momentum limit ``√β₁``: once its second moment has settled, Adam is heavy ball with
  momentum β₁ and a per-coordinate step; if that step over-damps no direction, every
  direction's iteration matrix has spectral radius ``√β₁``, whatever κ or κ_D.

Each method runs from the study's starts at each constant learning rate of ``LR_GRID``
(default decays and ε) for ``BUDGET_EFOLDS`` e-folds of ``ρ_D`` (at least ``MIN_STEPS``). A
run decays linearly when the slopes of ``log‖w_t − w*‖`` on the two halves of the study's fit
window agree within ``LINEAR_TOL``; a method has a linear rate at κ when some learning rate
decays linearly from every start, and its rate is the smallest such rate (seeds averaged).
"""

from __future__ import annotations

import math

import jax
import numpy as np

import jaxopt_hw as jh
from jaxopt_hw.studies import formatted
from jaxopt_hw.studies.theory.measure import (
    BUDGET_EFOLDS,
    MAX_LOGS,
    design,
    fit_rate,
    fit_window,
)

ADAPTIVE = ("rmsprop", "adam")
ADAPTIVE_LABELS = {"rmsprop": "RMSprop", "adam": "Adam"}
#: the constant learning rates tried, each method at its default decays and ε
LR_GRID = (0.01, 0.03, 0.1)
#: Adam's default first-moment decay, whose square root is its momentum limit
ADAM_B1 = 0.9
#: the fewest steps a run gets: Adam's second moment forgets over ``1/(1 − β₂)`` = 1000
MIN_STEPS = 2000
#: a run decays linearly only when its two half-window slopes agree within this relative error
LINEAR_TOL = 0.2
#: a linear rate is "at" a reference when its ``−log ρ`` is within this relative error of it
REF_TOL = 0.1


def jacobi_reference(X) -> tuple:
    """``(κ_D, ρ_D)`` of GD preconditioned by ``diag(H)``, ``H = 2XᵀX/n``, in float64."""
    X = np.asarray(X, dtype=np.float64)
    hessian = 2.0 * X.T @ X / X.shape[0]
    scale = 1.0 / np.sqrt(np.diag(hessian))
    eigenvalues = np.linalg.eigvalsh(hessian * np.outer(scale, scale))
    kappa_d = float(eigenvalues[-1] / eigenvalues[0])
    return kappa_d, (kappa_d - 1.0) / (kappa_d + 1.0)


def half_slopes(curve, steps) -> tuple:
    """The slopes of ``log curve`` against the step on the two halves of the study's fit
    window (:func:`~jaxopt_hw.studies.theory.measure.fit_window`); NaN with fewer than 4
    points in a half."""
    curve, steps = np.asarray(curve, dtype=float), np.asarray(steps, dtype=float)
    start, stop = fit_window(curve)
    middle = (start + stop) // 2
    if middle - start < 4 or stop - middle < 4:
        return math.nan, math.nan
    return tuple(
        float(np.polyfit(steps[a:b], np.log(curve[a:b]), 1)[0])
        for a, b in ((start, middle), (middle, stop))
    )


def is_linear(first: float, second: float, tol: float = LINEAR_TOL) -> bool:
    """Both halves decay and the second's slope is within ``tol`` of the first's."""
    return bool(first < 0 and second < 0 and abs(second / first - 1) <= tol)


def rebound(curve) -> float:
    """How far ``curve`` climbs after its minimum: its largest later value over the minimum."""
    curve = np.asarray(curve, dtype=float)
    low = int(np.argmin(curve))
    return float(np.max(curve[low:]) / curve[low]) if curve[low] > 0 else math.inf


def _optimizer(method: str, lr: float):
    return jh.rmsprop(lr) if method == "rmsprop" else jh.adam(lr, b1=ADAM_B1)


def _one_run(problem, method: str, lr: float, seed: int, budget: tuple) -> dict:
    """One start's fit, its half-window slopes, final and floor distances and rebound."""
    steps, log_every = budget
    trace = jh.run(problem, _optimizer(method, lr), steps=steps, seed=seed, log_every=log_every)
    distance = np.asarray(trace.dist_to_opt, dtype=float)
    logged = np.asarray(trace.steps)
    start = float(np.linalg.norm(np.asarray(problem.init_params(seed)) - problem.w_star))
    if not np.all(np.isfinite(distance)):
        return {"rate": math.nan, "halves": (math.nan,) * 2, "linear": False, "final": math.inf}
    halves = half_slopes(distance, logged)
    return {
        "rate": fit_rate(distance, logged, polynomial=False)["rate"],
        "halves": halves,
        "linear": is_linear(*halves),
        "final": float(distance[-1] / start),
        "floor": float(np.min(distance) / start),
        "rebound": rebound(distance),
    }


def _measure_method(problem, method: str, seeds, budget: tuple) -> dict:
    """``method`` at every learning rate from the first seed; the other seeds at the fastest
    learning rate that decays linearly from the first; its rate when it decays linearly from
    every seed, else NaN."""
    first = {lr: _one_run(problem, method, lr, int(seeds[0]), budget) for lr in LR_GRID}
    candidates = [lr for lr in LR_GRID if first[lr]["linear"]]
    lr = min(candidates, key=lambda value: first[value]["rate"]) if candidates else math.nan
    chosen = (
        [first[lr], *(_one_run(problem, method, lr, int(s), budget) for s in seeds[1:])]
        if candidates
        else []
    )
    linear = bool(chosen) and all(r["linear"] for r in chosen)
    return {
        "method": method,
        "lr": lr if linear else math.nan,
        "linear": linear,
        "measured": float(np.mean([r["rate"] for r in chosen])) if linear else math.nan,
        "halves_ratio": float(max(r["halves"][1] / r["halves"][0] for r in chosen))
        if linear
        else math.nan,
        # after the floor: the chosen runs', else the worst of the first seed's
        "rebound": max(r["rebound"] for r in (chosen if linear else first.values())),
        "final": {f"{lr:g}": first[lr]["final"] for lr in LR_GRID},
        "runs": {f"{lr:g}": {**first[lr], "halves": list(first[lr]["halves"])} for lr in LR_GRID},
    }


def measure_adaptive(kappas, seeds) -> list:
    """One row per (κ, method), each with its design's Jacobi reference."""
    rows = []
    with jax.enable_x64(True):
        for kappa in kappas:
            problem = design(kappa)
            kappa_d, rho_d = jacobi_reference(problem.X)
            needed = max(MIN_STEPS, math.ceil(BUDGET_EFOLDS / -math.log(rho_d)))
            log_every = max(1, needed // MAX_LOGS)
            budget = (math.ceil(needed / log_every) * log_every, log_every)
            for method in ADAPTIVE:
                row = _measure_method(problem, method, seeds, budget)
                rows.append({"kappa": kappa, "kappa_d": kappa_d, "rho_d": rho_d, **row})
    return rows


def _ratio(rate: float, reference: float) -> float:
    """``−log rate / −log reference``: the rate's e-folds per step in the reference's."""
    return math.log(rate) / math.log(reference) if math.isfinite(rate) else math.nan


def adaptive_facts(rows) -> dict:
    """Per κ the Jacobi reference; per (κ, method) the rate (NaN without a linear one), a 0/1
    linear flag, the ratios of ``−log ρ`` to each reference, the chosen learning rate, the
    rebound after the floor and the final distance at each learning rate; per method the
    counts and ranges the conclusion quotes."""
    rho_b1 = math.sqrt(ADAM_B1)
    out = {"adam_b1": ADAM_B1, "adam_rho_b1": rho_b1, "linear_tol": LINEAR_TOL}
    out.update({"ref_tol": REF_TOL, "adaptive_lr_min": min(LR_GRID)})
    out["adaptive_lr_max"] = max(LR_GRID)
    for r in rows:
        key = f"{r['method']}_k{r['kappa']}"
        out[f"jacobi_k{r['kappa']}_kappa_d"] = r["kappa_d"]
        out[f"jacobi_k{r['kappa']}_rho"] = r["rho_d"]
        out[f"{key}_rate"] = r["measured"]
        out[f"{key}_linear"] = int(r["linear"])
        out[f"{key}_lr"] = r["lr"]
        out[f"{key}_ratio_jacobi"] = _ratio(r["measured"], r["rho_d"])
        out[f"{key}_ratio_b1"] = _ratio(r["measured"], rho_b1)
        out[f"{key}_halves_ratio"] = r["halves_ratio"]
        out[f"{key}_rebound"] = r["rebound"]
        for lr, final in r["final"].items():
            out[f"{key}_final_lr{lr}"] = final
    for method in ADAPTIVE:
        out.update(_method_facts(out, method, [r for r in rows if r["method"] == method]))
    return out


def _method_facts(facts: dict, method: str, rows) -> dict:
    """``method``'s counts of κ with a linear rate and at each reference, the largest κ with
    a linear rate, the ranges of its ratios and its largest final distance."""
    linear = [r for r in rows if r["linear"]]

    def span(name):
        values = [facts[f"{method}_k{r['kappa']}_{name}"] for r in linear]
        return (min(values), max(values)) if values else (math.nan, math.nan)

    out = {f"{method}_linear_count": len(linear)}
    for name in ("ratio_jacobi", "ratio_b1", "rebound"):
        out[f"{method}_{name}_min"], out[f"{method}_{name}_max"] = span(name)
    for name in ("ratio_jacobi", "ratio_b1"):
        out[f"{method}_at_{name[6:]}_count"] = sum(
            abs(facts[f"{method}_k{r['kappa']}_{name}"] - 1) <= REF_TOL for r in linear
        )
    out[f"{method}_linear_kappa_max"] = max((r["kappa"] for r in linear), default=math.nan)
    # 1 when the κ with a linear rate are the smallest ones ("up to κ = …, not above")
    out[f"{method}_linear_prefix"] = int(all(r["linear"] for r in rows[: len(linear)]))
    out[f"{method}_final_max"] = max(max(r["final"].values()) for r in rows)
    out[f"{method}_final_min"] = min(min(r["final"].values()) for r in rows)
    return out


# --------------------------------------------------------------------------- the short text


def _rmsprop_clause(facts: dict, f: dict) -> str:
    """RMSprop's linear rate, or that it has none and where its distance stalls."""
    count, n = facts["rmsprop_linear_count"], facts["n_kappas"]
    if count == 0:
        return (
            f"RMSprop has no linear rate at any κ: ‖w − w*‖ stalls at {f['rmsprop_final_min']}–"
            f"{f['rmsprop_final_max']} of its start"
        )
    where = "every κ" if count == n else f"{count} of {n} κ"
    return f"RMSprop decays linearly at {where}, at {_reference_words(facts, 'rmsprop', f)}"


def _span(f: dict, name: str) -> str:
    """``low–high`` of the formatted ``{name}_min`` and ``{name}_max``, one number if equal."""
    low, high = f[f"{name}_min"], f[f"{name}_max"]
    return low if low == high else f"{low}–{high}"


def _reference_words(facts: dict, method: str, f: dict) -> str:
    """Which reference ``method``'s linear rates sit at, with the range of the ratio."""
    count = facts[f"{method}_linear_count"]
    if facts[f"{method}_at_b1_count"] == count:
        return (
            f"the momentum limit √β₁ = {f['adam_rho_b1']} (`−log ρ` "
            f"{_span(f, f'{method}_ratio_b1')}× it)"
        )
    if facts[f"{method}_at_jacobi_count"] == count:
        return f"the Jacobi rate ρ_D (`−log ρ` {_span(f, f'{method}_ratio_jacobi')}× it)"
    return (
        f"neither reference (`−log ρ` {_span(f, f'{method}_ratio_jacobi')}× ρ_D's, "
        f"{_span(f, f'{method}_ratio_b1')}× √β₁'s)"
    )


def _adam_clause(facts: dict, f: dict) -> str:
    """Adam's linear rate against the two references, or that it has none."""
    count, n = facts["adam_linear_count"], facts["n_kappas"]
    if count == 0:
        return "Adam has no linear rate at any κ"
    if count == n:
        where = "at every κ"
    elif facts["adam_linear_prefix"]:
        where = f"up to κ = {f['adam_linear_kappa_max']}, not above"
    else:
        where = f"at {count} of {n} κ"
    return f"Adam decays linearly {where}, at {_reference_words(facts, 'adam', f)}"


def adaptive_short(facts: dict) -> str:
    """The one conclusion on RMSprop and Adam: each one's linear rate against Jacobi GD's
    ``ρ_D`` and Adam's momentum limit ``√β₁``, or that it has none."""
    f = formatted(facts)
    return f"Full batch, {_rmsprop_clause(facts, f)}; {_adam_clause(facts, f)}."


# --------------------------------------------------------------------------- the details


def adaptive_detail(facts: dict, kappas) -> str:
    """The protocol, the references per κ and each method's rate, ratios and rebound per κ."""
    f = formatted(facts)

    def per(method):
        return "; ".join(
            f"κ = {k}: ρ = {f[f'{method}_k{k}_rate']} at lr {f[f'{method}_k{k}_lr']}, "
            f"`−log ρ` {f[f'{method}_k{k}_ratio_jacobi']}× ρ_D's and "
            f"{f[f'{method}_k{k}_ratio_b1']}× √β₁'s, half-window slopes "
            f"{f[f'{method}_k{k}_halves_ratio']}× apart, rebound ×{f[f'{method}_k{k}_rebound']}"
            if facts[f"{method}_k{k}_linear"]
            else f"κ = {k}: no linear rate, final ‖w − w*‖ "
            f"{f[f'{method}_k{k}_final_lr{min(LR_GRID):g}']} of its start at lr "
            f"{f['adaptive_lr_min']}, {f[f'{method}_k{k}_final_lr{max(LR_GRID):g}']} at "
            f"{f['adaptive_lr_max']}, rebound ×{f[f'{method}_k{k}_rebound']}"
            for k in kappas
        )

    reference = "; ".join(
        f"κ = {k}: κ_D = {f[f'jacobi_k{k}_kappa_d']}, ρ_D = {f[f'jacobi_k{k}_rho']}" for k in kappas
    )
    return (
        f"RMSprop and Adam run full batch at default decays and ε, at constant learning rates "
        f"from {f['adaptive_lr_min']} to {f['adaptive_lr_max']}. A run decays linearly when the "
        f"slopes of `log‖w − w*‖` on the two halves of the fit window agree within "
        f"{f['linear_tol']}; a rate is at a reference when its `−log ρ` is within {f['ref_tol']} "
        f"of it. References: Jacobi-preconditioned GD, `ρ_D = (κ_D − 1)/(κ_D + 1)` ({reference}), "
        f"and Adam's momentum limit √β₁ = {f['adam_rho_b1']}. RMSprop: {per('rmsprop')}. "
        f"Adam: {per('adam')}."
    )
