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

import math
import time

import jax
import jax.numpy as jnp
import numpy as np

import jaxopt_hw as jh
from jaxopt_hw import metrics, plots
from jaxopt_hw.studies import Settings, StudyResult, fmt

NAME = "theory"
TITLE = "Linear rates on quadratics: GD and heavy ball against theory"

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
    """``(optimizer, hyperparameters, predicted rate)`` of ``method`` for the spectrum ``[mu, L]``."""
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


def _measure(kappas, seeds) -> list:
    """One row per (κ, method): constants, prediction, per-seed fits and the seed-0 curve."""
    rows = []
    with jax.enable_x64(True):
        for kappa in kappas:
            problem = jh.linear_regression(
                N_SAMPLES,
                N_FEATURES,
                seed=DESIGN_SEED,
                condition_number=float(kappa),
                dtype=jnp.float64,
            )
            for method in METHODS:
                tx, hyper, predicted = _constants(method, problem.L, problem.mu)
                steps, log_every = _budget(predicted)
                fits, naive, reach, curve = [], [], [], None
                for seed in seeds:  # the same optimizer object: one compile per (κ, method)
                    trace = jh.run(problem, tx, steps=steps, seed=int(seed), log_every=log_every)
                    distance = np.asarray(trace.dist_to_opt, dtype=float)
                    logged = np.asarray(trace.steps)
                    start = float(
                        np.linalg.norm(
                            np.asarray(problem.init_params(int(seed))) - np.asarray(problem.w_star)
                        )
                    )
                    fits.append(fit_rate(distance, logged, polynomial=method != "gd"))
                    naive.append(fit_rate(distance, logged, polynomial=False))
                    reach.append(
                        float(metrics.steps_to_tolerance(distance, logged, TARGET * start))
                    )
                    if curve is None:
                        curve = _thin(
                            np.concatenate([[start], distance]) / start,
                            np.concatenate([[0], logged]),
                        )
                rows.append(
                    {
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
                )
    for row in rows:
        rates = np.array([f["rate"] for f in row["fits"]])
        row["measured"] = float(np.mean(rates))
        row["rel_error"] = float(np.max(np.abs(rates / row["predicted"] - 1)))
        # the error in the exponent −log ρ, i.e. in the number of steps per e-fold
        row["exponent_error"] = float(
            np.max(np.abs(np.log(rates) / math.log(row["predicted"]) - 1))
        )
        row["gap_error"] = float(np.max(np.abs((1 - rates) / (1 - row["predicted"]) - 1)))
        row["mean_gap_error"] = abs(
            (1 - row["measured"]) / (1 - row["predicted"]) - 1
        )  # of the mean rate
        row["poly_exponent"] = float(np.mean([f["exponent"] for f in row["fits"]]))
        naive_rates = np.array([f["rate"] for f in row["naive"]])
        row["loglinear"] = float(np.mean(naive_rates))
        row["loglinear_rel_error"] = float(np.max(np.abs(naive_rates / row["predicted"] - 1)))
        row["loglinear_exponent_error"] = float(
            np.max(np.abs(np.log(naive_rates) / math.log(row["predicted"]) - 1))
        )
        row["mean_steps_to_target"] = float(np.mean(row["steps_to_target"]))
    return rows


def _curves_figure(rows, kappas, path) -> None:
    """Rows: methods; columns: κ. ‖w_t − w*‖/‖w_0 − w*‖ on a log scale, the fit window
    shaded and the predicted slope ρ^t drawn through the end of the window."""
    from matplotlib.figure import Figure

    shown = [k for k in kappas if k in (10, 100, 1000, 10000)] or list(kappas)[:4]
    fig = Figure(figsize=(3.6 * len(shown), 2.8 * len(METHODS)), layout="constrained")
    axes = fig.subplots(len(METHODS), len(shown), squeeze=False)
    for i, method in enumerate(METHODS):
        for j, kappa in enumerate(shown):
            ax = axes[i][j]
            row = next(r for r in rows if r["kappa"] == kappa and r["method"] == method)
            steps, curve = row["curve"]
            ax.semilogy(steps, curve, color="C0", linewidth=1.4, label="measured (first seed)")
            fit = row["fits"][0]
            if math.isfinite(fit["stop"]):
                ax.axvspan(fit["start"], fit["stop"], color="0.85", zorder=0, label="fit window")
                anchor_step = fit["stop"]
                anchor = np.interp(anchor_step, steps, curve)
                grid = np.linspace(0, steps[-1], 200)
                theory = anchor * row["predicted"] ** (grid - anchor_step)
                keep = (theory >= curve[curve > 0].min() * 0.1) & (theory <= 10.0)
                ax.semilogy(
                    grid[keep],
                    theory[keep],
                    "--",
                    color="C3",
                    linewidth=1.2,
                    label="predicted slope ρ^t",
                )
            ax.set_title(f"{LABELS[method]}, κ = {kappa:g}", fontsize=9)
            ax.grid(True, which="major", alpha=0.3)
            if j == 0:
                ax.set_ylabel("‖w − w*‖ / ‖w₀ − w*‖")
            if i == len(METHODS) - 1:
                ax.set_xlabel("step")
            if i == 0 and j == 0:
                ax.legend(fontsize=7)
    plots.save_figure(fig, path)


def _rates_figure(rows, kappas, path) -> None:
    """``1 − ρ`` measured (markers) and predicted (lines) against κ, log–log."""
    measured, predicted = {}, {}
    for method in METHODS:
        chosen = [
            next(r for r in rows if r["kappa"] == k and r["method"] == method) for k in kappas
        ]
        measured[LABELS[method]] = np.array([1 - r["measured"] for r in chosen])
        predicted[LABELS[method]] = np.array([1 - r["predicted"] for r in chosen])
    fig = plots.rates_table_plot(
        np.asarray(kappas, dtype=float),
        measured,
        predicted,
        ylabel="1 − ρ (contraction gap per step)",
        title="linear rate of ‖w − w*‖ against κ",
    )
    fig.axes[0].set_yscale("log")
    plots.save_figure(fig, path)


def _per_kappa(f: dict, method: str, kappas) -> str:
    """``1 − ρ`` measured and predicted at each κ, and the largest relative errors (``f``: the
    formatted facts)."""
    gaps = "; ".join(
        f"κ = {f[f'kappa_{k}']}: {f[f'{method}_k{k}_gap_measured']} measured, "
        f"{f[f'{method}_k{k}_gap_predicted']} predicted"
        for k in kappas
    )
    return (
        f"`1 − ρ` per step: {gaps}; largest relative error of a single start's ρ {f[f'{method}_max_rel_error']}, "
        f"of its `1 − ρ` {f[f'{method}_max_gap_error']}"
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
    clause = f"; its fitted exponent p of `t^p` lies between {f['nag_poly_exponent_min']} and {f['nag_poly_exponent_max']}"
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
    f = {k: fmt(v) for k, v in facts.items()}
    who, verb, rho = _RATE_CLAIMS[method]
    slower = facts[f"{method}_slower_count"] * 2 > len(kappas)
    if facts[f"{method}_mean_gap_error"] <= facts["rate_tol"]:
        sentence = (
            f"{who} {verb} the predicted {rho}, its `1 − ρ`, averaged over the starting points, within a "
            f"relative {f['rate_tol']} of the predicted at every κ ({_per_kappa(f, method, kappas)})"
        )
        if slower:
            sentence += (
                f"; the measured rate is slightly slower at {f[f'{method}_slower_count']} of the "
                f"{f['n_kappas']} κ, its `1 − ρ` off by at most {f[f'{method}_mean_gap_error']} averaged "
                f"over the starting points"
            )
    else:
        side = (
            f"more slowly than the predicted {rho} at {f[f'{method}_slower_count']} of the {f['n_kappas']} κ"
            if slower
            else f"at a rate off the predicted {rho}"
        )
        sentence = (
            f"{who} converges {side}: averaged over the starting points, the relative error of `1 − ρ` "
            f"reaches {f[f'{method}_mean_gap_error']}, above {f['rate_tol']} "
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
            f", once the polynomial factor of its double root is fitted: {exponents}, as the defective "
            f"root's factor `t` predicts."
        )
    return sentence + (
        f", with the polynomial factor of its double root fitted: {exponents}, farther than "
        f"{f['poly_tol']} from the defective root's factor `t` (`p = 1`)."
    )


def _slope(x, y) -> float:
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def run(settings: Settings) -> StudyResult:
    started = time.perf_counter()
    kappas = KAPPAS_QUICK if settings.quick else KAPPAS_FULL
    seeds = tuple(settings.seeds)
    rows = _measure(kappas, seeds)
    by = {(r["kappa"], r["method"]): r for r in rows}

    facts = {
        "n": N_SAMPLES,
        "d": N_FEATURES,
        "n_seeds": len(seeds),
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
        key = f"{r['method']}_k{r['kappa']}"
        facts[f"kappa_{r['kappa']}"] = r["kappa"]
        facts[f"{key}_predicted"] = r["predicted"]
        facts[f"{key}_measured"] = r["measured"]
        facts[f"{key}_rel_error"] = r["rel_error"]
        facts[f"{key}_exponent_error"] = r["exponent_error"]
        facts[f"{key}_gap_predicted"] = 1 - r["predicted"]
        facts[f"{key}_gap_measured"] = 1 - r["measured"]
        facts[f"{key}_gap_error"] = r["gap_error"]
        facts[f"{key}_steps"] = r["mean_steps_to_target"]
        if r["method"] != "gd":
            facts[f"{key}_poly_exponent"] = r["poly_exponent"]
            facts[f"{key}_loglinear"] = r["loglinear"]
            facts[f"{key}_loglinear_rel_error"] = r["loglinear_rel_error"]
            facts[f"{key}_loglinear_exponent_error"] = r["loglinear_exponent_error"]
    for method in METHODS:
        chosen = [r for r in rows if r["method"] == method]
        facts[f"{method}_max_rel_error"] = max(r["rel_error"] for r in chosen)
        facts[f"{method}_max_gap_error"] = max(r["gap_error"] for r in chosen)
        facts[f"{method}_mean_gap_error"] = max(
            r["mean_gap_error"] for r in chosen
        )  # the worst κ, seeds averaged
    facts["max_rel_error"] = max(r["rel_error"] for r in rows)
    facts["max_exponent_error"] = max(r["exponent_error"] for r in rows)
    momentum_rows = [r for r in rows if r["method"] != "gd"]
    facts["max_loglinear_exponent_error"] = max(
        r["loglinear_exponent_error"] for r in momentum_rows
    )
    hb_rows = [r for r in rows if r["method"] == "hb"]
    facts["hb_poly_exponent_min"] = min(r["poly_exponent"] for r in hb_rows)
    facts["hb_poly_exponent_max"] = max(r["poly_exponent"] for r in hb_rows)
    for method in METHODS:  # on which side of the prediction the measured gaps fall
        facts[f"{method}_slower_count"] = sum(
            r["measured"] > r["predicted"] for r in rows if r["method"] == method
        )
    nag_rows = [r for r in rows if r["method"] == "nag"]
    facts["nag_poly_exponent_min"] = min(r["poly_exponent"] for r in nag_rows)
    facts["nag_poly_exponent_max"] = max(r["poly_exponent"] for r in nag_rows)
    for method in METHODS:
        facts[f"{method}_steps_slope"] = _slope(
            kappas, [by[(k, method)]["mean_steps_to_target"] for k in kappas]
        )
    kmax = kappas[-1]
    facts["speedup_hb_kmax"] = (
        by[(kmax, "gd")]["mean_steps_to_target"] / by[(kmax, "hb")]["mean_steps_to_target"]
    )

    f = {k: fmt(v) for k, v in facts.items()}

    conclusions = [
        *(_rate_conclusion(facts, method, kappas) for method in METHODS),
        f"Over all {f['n_kappas']} condition numbers and the {f['n_seeds']} starting points, the largest relative "
        f"error of a measured rate is {f['max_rel_error']} and the largest relative error of the exponent "
        f"`−log ρ` (steps per e-fold) is {f['max_exponent_error']}; a plain log-linear fit of the momentum "
        f"methods on the same window, which ignores the `t` factor, errs in the exponent by up to "
        f"{f['max_loglinear_exponent_error']}.",
        f"The steps needed to shrink ‖w − w*‖ by {f['target']} grow like κ^{f['gd_steps_slope']} for GD and "
        f"κ^{f['hb_steps_slope']} for heavy ball (κ^{f['nag_steps_slope']} for Nesterov); at κ = {f['kappa_max']} "
        f"GD needs {f[f'gd_k{kmax}_steps']} steps and heavy ball {f[f'hb_k{kmax}_steps']}, "
        f"{f['speedup_hb_kmax']} times fewer.",
    ]
    text = (
        f"Full-batch runs in float64 on least-squares designs with n = {f['n']} samples and d = {f['d']} features "
        f"whose Hessian has eigenvalues spaced geometrically from μ to L = κμ, for κ from {f['kappa_min']} to "
        f"{f['kappa_max']}, from {f['n_seeds']} random starting points each. The rate is the slope of "
        f"`log‖w_t − w*‖` on the window where the distance is below {f['fit_upper']} of its start and above "
        f"{f['fit_floor']} times its round-off floor."
    )

    header = (
        "| κ | method | α | β | predicted ρ | measured ρ | rel. error ρ | rel. error −log ρ | fitted p "
        "| log-linear ρ | steps to 1e-8 |\n|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [header]
    for r in rows:
        lines.append(
            f"| {r['kappa']:g} | {LABELS[r['method']]} | {r['alpha']:.4g} | {r['beta']:.4g} | {r['predicted']:.6f} "
            f"| {r['measured']:.6f} | {r['rel_error']:.2e} | {r['exponent_error']:.2e} | "
            f"{r['poly_exponent']:.3f} | {r['loglinear']:.6f} | {r['mean_steps_to_target']:.0f} |"
        )
    table = "\n".join(lines)

    curves_name, rates_name = "theory_curves.png", "theory_rates.png"
    _curves_figure(rows, kappas, settings.figure_path(curves_name))
    _rates_figure(rows, kappas, settings.figure_path(rates_name))

    data = {
        "kappas": list(kappas),
        "seeds": list(seeds),
        "rows": [
            {
                key: (
                    value
                    if key != "curve"
                    else {"steps": value[0].tolist(), "distance": value[1].tolist()}
                )
                for key, value in r.items()
            }
            for r in rows
        ],
    }
    facts["seconds"] = round(time.perf_counter() - started, 1)  # measurement, fits and figures
    return StudyResult(
        name=NAME,
        title=TITLE,
        facts=facts,
        data=data,
        figures=[
            (
                curves_name,
                "‖w_t − w*‖ (relative to the start) for GD, heavy ball and Nesterov at their optimal "
                "constants; shaded: the fit window; dashed: the predicted slope ρ^t.",
            ),
            (rates_name, "1 − ρ against κ: measured (markers) and predicted (lines)."),
        ],
        tables=[table],
        conclusions=conclusions,
        text=text,
    )
