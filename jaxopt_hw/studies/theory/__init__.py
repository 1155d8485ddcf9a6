"""Linear convergence rates on quadratics: measured against the classical predictions.

On least-squares designs whose Hessian ``H = 2XᵀX/n`` has condition number exactly κ
(``jh.linear_regression(..., condition_number=κ)``, eigenvalues geometric in ``[μ, L]``),
in float64, three full-batch methods run with their textbook-optimal constants:

* gradient descent (``jh.sgd``, full batch) at ``α = 2/(L+μ)``: every eigen-direction
  contracts by ``|1 − αλ|``, largest at both ends of the spectrum, so
  ``‖w_t − w*‖ ∝ ρ^t`` with ``ρ = (κ−1)/(κ+1)``;
* Polyak's heavy ball (``jh.heavy_ball``) at ``α = 4/(√L+√μ)²``, ``β = ((√κ−1)/(√κ+1))²``:
  every eigen-direction's 2×2 iteration matrix has spectral radius ``√β = (√κ−1)/(√κ+1)``,
  with a double (defective) root at both ends, so ``‖w_t − w*‖ ∝ t·ρ^t`` asymptotically;
* Nesterov's method (``jh.heavy_ball(..., nesterov=True)``) at ``α = 1/L``,
  ``β = (√κ−1)/(√κ+1)``: a double root ``1 − 1/√κ`` at ``λ = μ`` and smaller moduli
  elsewhere, so ``‖w_t − w*‖ ∝ t·(1 − 1/√κ)^t`` asymptotically.

The rate is measured from ``dist_to_opt`` on the window where the distance has fallen
below ``FIT_UPPER`` times its initial value (the transient of the fast directions is
gone) and is still ``FIT_FLOOR`` times above its final float64 round-off floor. GD is
fitted by a line through ``log‖w_t − w*‖``; the momentum methods by
``log‖w_t − w*‖ = a + t·log ρ + p·log t`` (the polynomial factor of the defective root,
with ``p`` fitted, not imposed). The plain log-linear fit of the momentum methods is
reported too: on the same window its slope is biased by about ``p/t``.
"""

from __future__ import annotations

import time

import numpy as np

from jaxopt_hw import metrics
from jaxopt_hw.studies import Settings, StudyResult, fmt, formatted
from jaxopt_hw.studies.theory.adaptive import (
    adaptive_detail,
    adaptive_facts,
    adaptive_short,
    measure_adaptive,
)
from jaxopt_hw.studies.theory.figures import curves_figure, rates_figure
from jaxopt_hw.studies.theory.measure import (
    FIT_FLOOR,
    FIT_UPPER,
    KAPPAS_FULL,
    KAPPAS_QUICK,
    LABELS,
    METHODS,
    N_FEATURES,
    N_SAMPLES,
    POLY_TOL,
    RATE_TOL,
    TARGET,
    Data,
    fit_rate,
    fit_window,
    measure,
)

__all__ = [
    "NAME",
    "TITLE",
    "run",
    "measure",
    "facts",
    "Data",
    "fit_rate",
    "fit_window",
    "KAPPAS_FULL",
    "KAPPAS_QUICK",
    "METHODS",
    "RATE_TOL",
    "POLY_TOL",
]

NAME = "theory"
TITLE = "Linear rates on quadratics: GD and heavy ball against theory"


def _per_kappa(f: dict, method: str, kappas) -> str:
    """``1 − ρ`` measured and predicted at each κ, and the largest relative errors (``f``: the
    formatted facts)."""
    gaps = "; ".join(
        f"κ = {f[f'kappa_{k}']}: {f[f'{method}_k{k}_gap_measured']} measured, "
        f"{f[f'{method}_k{k}_gap_predicted']} predicted"
        for k in kappas
    )
    return (
        f"`1 − ρ` per step: {gaps}; largest relative error of a single start's ρ "
        f"{f[f'{method}_max_rel_error']}, of its `1 − ρ` {f[f'{method}_max_gap_error']}"
    )


#: each method's constants and predicted rate, and how it is said to converge at that rate
_RATE_CLAIMS = {
    "gd": (
        "Gradient descent at `α = 2/(L+μ)`",
        "contracts ‖w − w*‖ by",
        "`ρ = (κ−1)/(κ+1)` per step",
    ),
    "hb": (
        "Heavy ball at `α = 4/(√L+√μ)²`, `β = ((√κ−1)/(√κ+1))²`",
        "converges at",
        "`ρ = (√κ−1)/(√κ+1)`",
    ),
    "nag": (
        "Nesterov's method at `α = 1/L`, `β = (√κ−1)/(√κ+1)`",
        "converges at",
        "`ρ = 1 − 1/√κ`",
    ),
}


def _nag_exponent_clause(facts: dict, f: dict) -> str:
    """Where Nesterov's fitted exponents p of ``t^p`` lie (``f``: the formatted facts): "as
    the factor `t` of its double root predicts" when every κ's p is within
    ``facts["poly_tol"]`` of 1; "between a simple root's constant factor and a double root's
    `t`" when every p lies strictly between 0 and 1; else that they lie outside that range."""
    low, high = facts["nag_poly_exponent_min"], facts["nag_poly_exponent_max"]
    clause = (
        f"; its fitted exponent p of `t^p` lies between {f['nag_poly_exponent_min']} and "
        f"{f['nag_poly_exponent_max']}"
    )
    if max(abs(low - 1), abs(high - 1)) <= facts["poly_tol"]:
        return clause + ", as the factor `t` of its double root at `λ = μ` predicts"
    if 0 < low and high < 1:
        return clause + (
            ", between a simple root's constant factor and a double root's `t`, so the fit window "
            "may still hold a transient"
        )
    return clause + (
        f", farther than {f['poly_tol']} from its double root's factor `t` (`p = 1`) and not all "
        f"between that and a simple root's constant factor (`p = 0`)"
    )


def _rate_conclusion(facts: dict, method: str, kappas) -> str:
    """The sentence on ``method``'s rate: "… the predicted ρ" only when the relative error of
    ``1 − ρ`` of its rate averaged over the starting points is at most ``facts["rate_tol"]``
    at every κ (``facts[f"{method}_mean_gap_error"]``), else that the measured rate differs;
    where it is slower than predicted at most κ, how much; for heavy ball also its fitted
    polynomial exponent, "as the defective root's factor `t` predicts" only when every p is
    within ``facts["poly_tol"]`` of 1."""
    f = formatted(facts)
    who, verb, rho = _RATE_CLAIMS[method]
    slower = facts[f"{method}_slower_count"] * 2 > len(kappas)
    if facts[f"{method}_mean_gap_error"] <= facts["rate_tol"]:
        sentence = (
            f"{who} {verb} the predicted {rho}, its `1 − ρ`, averaged over the starting points, "
            f"within a relative {f['rate_tol']} of the predicted at every κ "
            f"({_per_kappa(f, method, kappas)})"
        )
        if slower:
            sentence += (
                f"; the measured rate is slightly slower at {f[f'{method}_slower_count']} of the "
                f"{f['n_kappas']} κ, its `1 − ρ` off by at most {f[f'{method}_mean_gap_error']} "
                f"averaged over the starting points"
            )
    else:
        side = (
            f"more slowly than the predicted {rho} at {f[f'{method}_slower_count']} of the "
            f"{f['n_kappas']} κ"
            if slower
            else f"at a rate off the predicted {rho}"
        )
        sentence = (
            f"{who} converges {side}: averaged over the starting points, the relative error of "
            f"`1 − ρ` reaches {f[f'{method}_mean_gap_error']}, above {f['rate_tol']} "
            f"({_per_kappa(f, method, kappas)})"
        )
    if method == "nag":  # its fit: the same polynomial factor as heavy ball's is fitted
        sentence += _nag_exponent_clause(facts, f)
    if method != "hb":
        return sentence + "."
    exponents = (
        f"the fitted exponent p of `t^p` lies between {f['hb_poly_exponent_min']} and "
        f"{f['hb_poly_exponent_max']}"
    )
    if (
        max(abs(facts["hb_poly_exponent_min"] - 1), abs(facts["hb_poly_exponent_max"] - 1))
        <= facts["poly_tol"]
    ):
        return sentence + (
            f", once the polynomial factor of its double root is fitted: {exponents}, as the "
            f"defective root's factor `t` predicts."
        )
    return sentence + (
        f", with the polynomial factor of its double root fitted: {exponents}, farther than "
        f"{f['poly_tol']} from the defective root's factor `t` (`p = 1`)."
    )


def _slope(x, y) -> float:
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def facts(data: Data) -> dict:
    """The study's facts: per (κ, method) the predicted and measured rates, their errors and
    the steps to ``TARGET``; per method the worst errors and the steps' growth with κ."""
    kappas, rows = data.kappas, data.rows
    out = {
        "n": N_SAMPLES,
        "d": N_FEATURES,
        "n_seeds": len(data.seeds),
        "n_kappas": len(kappas),
        "kappa_min": kappas[0],
        "kappa_max": kappas[-1],
        "fit_upper": FIT_UPPER,
        "fit_floor": FIT_FLOOR,
        "target": TARGET,
        "rate_tol": RATE_TOL,
        "poly_tol": POLY_TOL,
    }
    for r in rows:
        out.update(_row_facts(r))
    for method in METHODS:
        chosen = [r for r in rows if r["method"] == method]
        out[f"{method}_max_rel_error"] = max(r["rel_error"] for r in chosen)
        out[f"{method}_max_gap_error"] = max(r["gap_error"] for r in chosen)
        # the worst κ, seeds averaged
        out[f"{method}_mean_gap_error"] = max(r["mean_gap_error"] for r in chosen)
    out["max_rel_error"] = max(r["rel_error"] for r in rows)
    out["max_exponent_error"] = max(r["exponent_error"] for r in rows)
    out["max_loglinear_exponent_error"] = max(
        r["loglinear_exponent_error"] for r in rows if r["method"] != "gd"
    )
    out["hb_poly_exponent_min"] = min(r["poly_exponent"] for r in rows if r["method"] == "hb")
    out["hb_poly_exponent_max"] = max(r["poly_exponent"] for r in rows if r["method"] == "hb")
    for method in METHODS:  # on which side of the prediction the measured gaps fall
        out[f"{method}_slower_count"] = sum(
            r["measured"] > r["predicted"] for r in rows if r["method"] == method
        )
    out["nag_poly_exponent_min"] = min(r["poly_exponent"] for r in rows if r["method"] == "nag")
    out["nag_poly_exponent_max"] = max(r["poly_exponent"] for r in rows if r["method"] == "nag")
    for method in METHODS:
        out[f"{method}_steps_slope"] = _slope(
            kappas, [data.row(k, method)["mean_steps_to_target"] for k in kappas]
        )
    kmax = kappas[-1]
    out["speedup_hb_kmax"] = (
        data.row(kmax, "gd")["mean_steps_to_target"] / data.row(kmax, "hb")["mean_steps_to_target"]
    )
    return out


def _row_facts(r: dict) -> dict:
    """One (κ, method)'s facts, keyed ``{method}_k{κ}_…``; its steps also as a geometric
    mean with its 95% interval (steps are positive and skewed over starts)."""
    key = f"{r['method']}_k{r['kappa']}"
    out = {
        f"kappa_{r['kappa']}": r["kappa"],
        f"{key}_predicted": r["predicted"],
        f"{key}_measured": r["measured"],
        f"{key}_rel_error": r["rel_error"],
        f"{key}_exponent_error": r["exponent_error"],
        f"{key}_gap_predicted": 1 - r["predicted"],
        f"{key}_gap_measured": 1 - r["measured"],
        f"{key}_gap_error": r["gap_error"],
        f"{key}_steps": r["mean_steps_to_target"],
    }
    if r["method"] != "gd":
        out[f"{key}_poly_exponent"] = r["poly_exponent"]
        out[f"{key}_loglinear"] = r["loglinear"]
        out[f"{key}_loglinear_rel_error"] = r["loglinear_rel_error"]
        out[f"{key}_loglinear_exponent_error"] = r["loglinear_exponent_error"]
    steps = metrics.log_interval(np.asarray(r["steps_to_target"], dtype=float))
    out[f"{key}_steps_gm"] = float(steps.center)
    out[f"{key}_steps_gm_low"] = float(steps.low)
    out[f"{key}_steps_gm_high"] = float(steps.high)
    return out


# --------------------------------------------------------------------------- the short text


#: how each method is named in the short conclusions, and its predicted rate
_SHORT_CLAIMS = {
    "gd": ("GD", "`ρ = (κ−1)/(κ+1)`"),
    "hb": ("Heavy ball", "`ρ = (√κ−1)/(√κ+1)`"),
    "nag": ("Nesterov", "`ρ = 1 − 1/√κ`"),
}


def rate_short(facts: dict, method: str) -> str:
    """``method`` "converges at its predicted ρ" only when the seed-averaged ``1 − ρ`` is
    within ``facts["rate_tol"]`` of the predicted at every κ; for the momentum methods also
    where the fitted exponent p of ``t^p`` lies (the same gates as :func:`_rate_conclusion`)."""
    f = formatted(facts)
    who, rho = _SHORT_CLAIMS[method]
    error = f[f"{method}_mean_gap_error"]
    if facts[f"{method}_mean_gap_error"] <= facts["rate_tol"]:
        sentence = f"{who} converges at its predicted {rho}: `1 − ρ` within {error} of it"
    elif facts[f"{method}_slower_count"] * 2 > facts["n_kappas"]:
        sentence = f"{who} converges more slowly than its predicted {rho}: `1 − ρ` off by {error}"
    else:
        sentence = f"{who} converges at a rate off its predicted {rho}: `1 − ρ` off by {error}"
    if method == "gd":
        return sentence + "."
    low, high = facts[f"{method}_poly_exponent_min"], facts[f"{method}_poly_exponent_max"]
    span = f"p = {f[f'{method}_poly_exponent_min']}–{f[f'{method}_poly_exponent_max']}"
    if max(abs(low - 1), abs(high - 1)) <= facts["poly_tol"]:
        return sentence + f", with the factor `t` of its double root (fitted `t^p`: {span})."
    if method == "nag" and 0 < low and high < 1:
        return sentence + f"; its fitted `t^p` ({span}) lies between a simple and a double root's."
    return sentence + f"; its fitted `t^p` ({span}) is not the double root's `t`."


def steps_short(facts: dict) -> str:
    """How the steps to the target grow with κ, and heavy ball's saving at the largest κ
    ("times fewer" only when heavy ball needs fewer than GD)."""
    f = formatted(facts)
    growth = (
        f"The steps to shrink ‖w − w*‖ by {f['target']} grow like κ^{f['gd_steps_slope']} for GD "
        f"and κ^{f['hb_steps_slope']} for heavy ball"
    )
    if facts["speedup_hb_kmax"] > 1:
        return growth + (
            f": at κ = {f['kappa_max']} heavy ball needs {f['speedup_hb_kmax']} times fewer."
        )
    return growth + f": at κ = {f['kappa_max']} heavy ball saves no steps on GD."


def text(facts: dict) -> str:
    """What was run, in one paragraph."""
    f = formatted(facts)
    return (
        f"GD, heavy ball and Nesterov at their textbook-optimal constants, full batch in float64, "
        f"on least squares with n = {f['n']}, d = {f['d']} and condition number κ from "
        f"{f['kappa_min']} to {f['kappa_max']}, from {f['n_seeds']} starting points each; ρ is "
        f"fitted to `‖w_t − w*‖`."
    )


# --------------------------------------------------------------------------- the details


def errors_detail(facts: dict) -> str:
    """The largest errors of the measured rates and exponents, over every κ and start."""
    f = formatted(facts)
    return (
        f"Over all {f['n_kappas']} condition numbers and the {f['n_seeds']} starting points, the "
        f"largest relative error of a measured rate is {f['max_rel_error']} and the largest "
        f"relative error of the exponent `−log ρ` (steps per e-fold) is {f['max_exponent_error']}; "
        f"a plain log-linear fit of the momentum methods on the same window, which ignores the "
        f"`t` factor, errs in the exponent by up to {f['max_loglinear_exponent_error']}."
    )


def steps_detail(facts: dict) -> str:
    """The steps' growth with κ for the three methods, and the counts at the largest κ."""
    f = formatted(facts)
    kmax = facts["kappa_max"]
    return (
        f"The steps needed to shrink ‖w − w*‖ by {f['target']} grow like κ^{f['gd_steps_slope']} "
        f"for GD and κ^{f['hb_steps_slope']} for heavy ball (κ^{f['nag_steps_slope']} for "
        f"Nesterov); at κ = {f['kappa_max']} GD needs {f[f'gd_k{kmax}_steps']} steps and heavy "
        f"ball {f[f'hb_k{kmax}_steps']}, {f['speedup_hb_kmax']} times fewer."
    )


def protocol_detail(facts: dict) -> str:
    """The protocol: the designs, the starts and the fit window."""
    f = formatted(facts)
    return (
        f"Full-batch runs in float64 on least-squares designs with n = {f['n']} samples and "
        f"d = {f['d']} features whose Hessian has eigenvalues spaced geometrically from μ to "
        f"L = κμ, for κ from {f['kappa_min']} to {f['kappa_max']}, from {f['n_seeds']} random "
        f"starting points each. The rate is the slope of `log‖w_t − w*‖` on the window where the "
        f"distance is below {f['fit_upper']} of its start and above {f['fit_floor']} times its "
        f"round-off floor."
    )


def table(data: Data) -> str:
    """Per κ: each method's measured (predicted) ``1 − ρ``, and its geometric-mean steps."""
    rows = [
        "| κ | 1 − ρ: GD | heavy ball | Nesterov | steps to 1e-8: GD / heavy ball / Nesterov |",
        "|---|---|---|---|---|",
    ]
    for kappa in data.kappas:
        chosen = [data.row(kappa, method) for method in METHODS]
        gaps = " | ".join(f"{fmt(1 - r['measured'])} ({fmt(1 - r['predicted'])})" for r in chosen)
        steps = " / ".join(
            fmt(float(metrics.log_interval(np.asarray(r["steps_to_target"])).center))
            for r in chosen
        )
        rows.append(f"| {kappa:g} | {gaps} | {steps} |")
    return "\n".join(rows)


def detail_table(data: Data) -> str:
    """Every (κ, method): constants, rates, errors, fitted exponent and steps."""
    header = (
        "| κ | method | α | β | predicted ρ | measured ρ | rel. error ρ | rel. error −log ρ "
        "| fitted p | log-linear ρ | steps to 1e-8 (geometric mean, 95%) |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [header]
    for r in data.rows:
        steps = metrics.log_interval(np.asarray(r["steps_to_target"], dtype=float))
        lines.append(
            f"| {r['kappa']:g} | {LABELS[r['method']]} | {r['alpha']:.4g} | {r['beta']:.4g} "
            f"| {r['predicted']:.6f} | {r['measured']:.6f} | {r['rel_error']:.2e} "
            f"| {r['exponent_error']:.2e} | {r['poly_exponent']:.3f} | {r['loglinear']:.6f} "
            f"| {metrics.log_interval_text(steps.center, steps.low, steps.high)} |"
        )
    return "\n".join(lines)


def _figures(data: Data, settings: Settings) -> list:
    """Draws the curves and rates figures; ``[(file name, caption)]``."""
    curves_name, rates_name = "theory_curves.png", "theory_rates.png"
    curves_figure(data.rows, data.kappas, settings.figure_path(curves_name))
    rates_figure(data.rows, data.kappas, settings.figure_path(rates_name))
    return [
        (curves_name, "Distance to w* per step; shaded: the fit window; dashed: predicted ρ^t."),
        (rates_name, "1 − ρ against κ: measured (markers) and predicted (lines)."),
    ]


def run(settings: Settings) -> StudyResult:
    """Measures, derives the facts, draws the figures and writes the text."""
    started = time.perf_counter()
    data = measure(settings)
    found = facts(data)
    adaptive = measure_adaptive(data.kappas, data.seeds)  # RMSprop and Adam, after the fits
    found.update(adaptive_facts(adaptive))
    figures = _figures(data, settings)
    found["seconds"] = round(time.perf_counter() - started, 1)  # measurement, fits and figures
    return StudyResult(
        name=NAME,
        title=TITLE,
        facts=found,
        data={**data.to_json(), "adaptive": adaptive},
        figures=figures,
        tables=[table(data)],
        conclusions=[
            *(rate_short(found, m) for m in METHODS),
            steps_short(found),
            adaptive_short(found),
        ],
        text=text(found),
        details=[
            *(_rate_conclusion(found, m, data.kappas) for m in METHODS),
            errors_detail(found),
            steps_detail(found),
            protocol_detail(found),
            adaptive_detail(found, data.kappas),
        ],
        detail_tables=[detail_table(data)],
    )
