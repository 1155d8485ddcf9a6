r"""How convergence scales with the dimension d, the sample size n and the condition number κ.

The homework asks how the speed and accuracy of convergence depend on the dimension. On
the homework's recipe (``jh.linear_regression(n, d)``: ``X ~ U(−5, 5)``, column ``j``
scaled by ``2j+1``) the Hessian ``H = 2XᵀX/n`` is nearly diagonal with entries
``≈ (50/3)(2j+1)²``, so κ grows like ``(2d−1)²``: the dimension acts mostly through κ.
Three scans:

* **d** at ``n = N_FIXED`` (``d`` from 2 to 1000 in the full run), where κ grows with d;
* **d at a fixed κ** (``jh.linear_regression(N_FIXED, d, condition_number=KAPPA_FIXED)``,
  the eigenvalues of ``XᵀX/n`` geometric from 1 to κ; ``d`` from 2 to 100 in the full
  run), which tells d's own effect from κ's;
* **n** at ``d = D_FIXED`` (``n`` from 500 to 10⁶ in the full run).

At every size each optimizer is tuned by one :func:`jaxopt_hw.sweep` over ``lr`` (a log
grid) × its β (a few values) × ``settings.seeds`` (SGD is Momentum's ``β = 0`` row, see
:func:`jaxopt_hw.studies.comparison.tuned_sweeps`), batch 32. SGD and Momentum get lrs
relative to ``1/L`` (their stable range moves with L, which grows like d²); RMSprop and Adam,
whose step per coordinate is about lr whatever the gradient's scale, get absolute lrs.
Reported per optimizer and size:

* the **best config** (lowest mean final excess loss, no seed diverged): its final excess
  loss and ``‖w − w*‖`` with 95% intervals over seeds;
* the **fastest config** (lowest median steps to the tolerance, 1% of ``min_loss``): its
  steps to the tolerance, mean and 95% interval over seeds when every seed reaches it;
* the wall time of the sweep's compiled run (``res.meta["run_seconds"]``) and of its
  compilation.

Log-log slopes of steps against κ (theory for gradient descent: steps ∝ κ at a fixed
accuracy) and of the final excess loss against d on the recipe, of the steps and the final
excess loss against d at the fixed κ, and against n, are fitted over the sizes where the
quantity is finite; at the fixed κ SGD's final excess loss is compared with the noise floor
of constant-step SGD, ``lr·σ²·tr(H)/(2B)``. The full run takes 5000 steps at
d ∈ {2, 5, 10, 20, 50, 100, 1000}, d ∈ {2, 5, 10, 20, 50, 100} at κ = 100 and
n ∈ {500, 10⁴, 10⁵, 10⁶}; the quick run 2500 steps at d ∈ {2, 5, 10} (both d-scans) and
n ∈ {500, 10⁴} (every sweep compiles once, and compiling dominates the quick run's time).
"""

from __future__ import annotations

import inspect
import math
import time

import numpy as np

import jaxopt_hw as jh
from jaxopt_hw import metrics, plots
from jaxopt_hw.studies import Settings, StudyResult, fmt
from jaxopt_hw.studies.comparison import LABELS, OPTIMIZERS, SYMBOL, summarize, tuned_sweeps

__all__ = ["NAME", "TITLE", "run", "loglog_slope"]

NAME = "scaling"
TITLE = "Scaling with the dimension, the sample size and the condition number"

N_FIXED, D_FIXED = 10_000, 5
DS_FULL = (2, 5, 10, 20, 50, 100, 1000)
DS_QUICK = (2, 5, 10)
KAPPA_FIXED = 100.0
#: "the floor accounts for SGD's growth with d" is said only when SGD's final excess loss is
#: within this factor of the predicted noise floor at every size of the fixed-κ scan
FLOOR_FACTOR = 2.0
DS_KAPPA_FULL = (2, 5, 10, 20, 50, 100)
DS_KAPPA_QUICK = (2, 5, 10)
NS_FULL = (500, 10_000, 100_000, 1_000_000)
NS_QUICK = (500, 10_000)
STEPS_FULL, STEPS_QUICK = 5000, 2500
LOG_EVERY = 10
BATCH_SIZE = 32
DESIGN_SEED = 0
TOL_REL = 0.01
CI_LEVEL = 95
#: SGD and Momentum: lr = c / L for these c (3 per decade; 2 in the quick run)
LR_L_FULL = tuple(float(f"{10 ** (k / 3):.3g}") for k in range(-9, 7))  # 1e-3 … 100
LR_L_QUICK = tuple(float(f"{10 ** (k / 2):.3g}") for k in range(-6, 5))
#: RMSprop and Adam: absolute lrs
LR_FULL = tuple(float(f"{10 ** (k / 3):.3g}") for k in range(-15, 1))  # 1e-5 … 1
LR_QUICK = tuple(float(f"{10 ** (k / 2):.3g}") for k in range(-10, 1))
BETAS = {"momentum": (0.5, 0.9, 0.99), "rmsprop": (0.9, 0.99, 0.999), "adam": (0.5, 0.9, 0.99)}
#: the fewest finite points a fitted slope needs
MIN_FIT_POINTS = 3
#: "SGD's steps follow κ¹, as gradient descent's do" is said only when the fitted exponent
#: of SGD's steps against κ is within this of 1
KAPPA_SLOPE_TOL = 0.2


def loglog_slope(x, y, min_points: int = MIN_FIT_POINTS) -> float:
    """The least-squares slope of ``log y`` against ``log x`` over the points where both
    are finite and positive; NaN with fewer than ``min_points`` such points."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if keep.sum() < min_points:
        return math.nan
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])


def per_seed_slopes(x, per_seed_rows) -> np.ndarray:
    """One log-log slope per seed (:func:`loglog_slope`; NaN where a seed has too few
    points): ``per_seed_rows`` holds, for each point of ``x``, the seeds' values, or
    ``None`` where not every seed has one."""
    lengths = {len(row) for row in per_seed_rows if row is not None}
    if len(lengths) > 1:
        raise ValueError(
            f"per_seed_rows must hold the same seeds at every point, got lengths {sorted(lengths)}"
        )
    n_seeds = lengths.pop() if lengths else 0
    return np.array(
        [
            loglog_slope(x, [row[seed] if row is not None else math.nan for row in per_seed_rows])
            for seed in range(n_seeds)
        ]
    )


def _seed_slope_facts(prefix: str, slopes) -> dict:
    """The mean of per-seed slopes and its 95% half-width, as ``{prefix}_seed_slope(_half)``,
    when at least two seeds give a slope."""
    slopes = np.asarray(slopes, dtype=float)
    slopes = slopes[np.isfinite(slopes)]
    if len(slopes) < 2:
        return {}
    interval = metrics.mean_interval(slopes)
    return {
        f"{prefix}_seed_slope": float(interval.mean),
        f"{prefix}_seed_slope_half": float(interval.half_width),
    }


def _seed_slope_text(f: dict, prefix: str) -> str:
    """`` (one fit per seed: m ± h)`` for a slope whose per-seed fits are known, else ``""``."""
    if f"{prefix}_seed_slope" not in f:
        return ""
    return f" (one fit per seed: {f[prefix + '_seed_slope']} ± {f[prefix + '_seed_slope_half']})"


def _sgd_kappa_clause(facts: dict, sgd_steps: list) -> str:
    """The sentence on SGD's steps against κ: "they follow κ¹, as gradient descent's
    steps to a fixed accuracy do" only when the fitted exponent ``facts["sgd_steps_kappa_slope"]`` is within
    ``facts["kappa_slope_tol"]`` of 1 and the 95% interval of its per-seed fits
    (``facts["sgd_steps_kappa_seed_slope"]`` ± ``…_half``, when known) holds 1; "nearly κ¹"
    when only the first holds; else the fitted exponent and that it is not close."""
    f = {k: fmt(v) for k, v in facts.items()}
    steps = ", ".join(sgd_steps)
    slope = facts["sgd_steps_kappa_slope"]
    if abs(slope - 1) <= facts["kappa_slope_tol"]:
        seeds = facts.get("sgd_steps_kappa_seed_slope")
        if seeds is None or abs(seeds - 1) <= facts["sgd_steps_kappa_seed_slope_half"]:
            return (
                f" SGD's fastest config needs {steps} steps as d grows: they follow κ¹, as gradient descent's "
                f"steps to a fixed accuracy do."
            )
        direction = "faster" if seeds > 1 else "more slowly"
        return (
            f" SGD's fastest config needs {steps} steps as d grows: nearly like κ¹, as gradient descent's "
            f"steps to a fixed accuracy, though {direction} than κ¹: the {f['ci_level']}% interval of one fit "
            f"per seed, {f['sgd_steps_kappa_seed_slope']} ± {f['sgd_steps_kappa_seed_slope_half']}, "
            f"leaves out 1."
        )
    return (
        f" SGD's fastest config needs {steps} steps as d grows: its fitted exponent of κ, "
        f"{f['sgd_steps_kappa_slope']}, lies farther than {f['kappa_slope_tol']} from the κ¹ that sets gradient "
        f"descent's speed at a fixed accuracy."
    )


def _gd_vs_adaptive_clause(facts: dict) -> str:
    """How the better of SGD and Momentum ends against the better of RMSprop and Adam at the
    largest d: "… times above" or "… times below", whichever the ratio
    ``facts["dmax_gd_over_adaptive"]`` (its inverse ``facts["dmax_adaptive_over_gd"]``) says."""
    f = {k: fmt(v) for k, v in facts.items()}
    lead = f"at d = {f['d_max']} the better of SGD and Momentum ends"
    ratio = facts["dmax_gd_over_adaptive"]
    if ratio > 1:
        return f"{lead} {f['dmax_gd_over_adaptive']} times above the better of RMSprop and Adam"
    if ratio < 1:
        return f"{lead} {f['dmax_adaptive_over_gd']} times below the better of RMSprop and Adam"
    return f"{lead} level with the better of RMSprop and Adam"


def _measure(problem, seeds, steps, quick) -> dict:
    """Every optimizer's best and fastest config on ``problem``, and the sweeps' timings."""
    L = float(problem.L)
    lrs = {
        "momentum": [c / L for c in (LR_L_QUICK if quick else LR_L_FULL)],
        "rmsprop": list(LR_QUICK if quick else LR_FULL),
        "adam": list(LR_QUICK if quick else LR_FULL),
    }
    results, timing = tuned_sweeps(
        problem,
        lrs,
        BETAS,
        None,
        seeds,
        steps=steps,
        log_every=LOG_EVERY,
        batch_size=BATCH_SIZE,
        tol=TOL_REL * problem.min_loss,
    )
    out = {}
    for name in OPTIMIZERS:
        result = results[name]
        s = summarize(result)
        # the fastest config: the lowest mean steps to the tolerance among the configs
        # where every seed reaches it (then the interval over seeds is meaningful)
        reach_all = np.asarray(result.steps_to_tol, dtype=float)  # (*grid, seeds)
        mean_steps = np.where(np.isfinite(reach_all).all(axis=-1), reach_all.mean(axis=-1), np.inf)
        index = np.unravel_index(int(np.argmin(mean_steps)), mean_steps.shape)
        everyone = bool(np.isfinite(mean_steps[index]))
        fastest = {h: result.axes[h][i] for h, i in zip(result.config_names(), index)}
        reach = reach_all[index]
        interval = metrics.mean_interval(reach)
        initial = np.asarray(result.initial_loss, dtype=float) - problem.min_loss
        relative = s["per_seed"] / initial
        out[name] = {
            "config": s["config"],
            "excess": s["excess"],
            "excess_half": s["excess_half"],
            "excess_gm": s["excess_gm"],
            "excess_gm_low": s["excess_gm_low"],
            "excess_gm_high": s["excess_gm_high"],
            "excess_text": metrics.log_interval_text(
                s["excess_gm"], s["excess_gm_low"], s["excess_gm_high"]
            ),
            "relative_excess": float(np.mean(relative)),
            "dist": s["dist"],
            "dist_half": s["dist_half"],
            "fastest_config": fastest if everyone else None,
            "steps": float(interval.mean) if everyone else math.inf,
            "steps_half": float(interval.half_width) if everyone else math.inf,
            "steps_text": metrics.log_interval_text(
                *(float(v) for v in metrics.log_interval(reach))
            )
            if everyone
            else "",
            "steps_per_seed": [float(v) for v in reach] if everyone else None,
            "steps_median": s["fastest"],  # the lowest median over seeds, any config
            "reached": int(
                np.max(np.sum(np.isfinite(reach_all), axis=-1))
            ),  # most seeds reaching, any config
            "run_seconds": timing[name]["run_seconds"],
            "compile_seconds": timing[name]["compile_seconds"],
            "lr_edge": _on_edge(result, s["config"], "learning_rate"),
            "beta_edge": any(
                _on_edge(result, s["config"], h) for h in s["config"] if h != "learning_rate"
            ),
        }
    return out


def _measured_row(build, seeds, steps, quick) -> dict:
    """:func:`_measure` on the problem ``build()`` makes, with its size, curvature, minimal
    loss, tolerance and the seconds it took to build."""
    built = time.perf_counter()
    problem = build()
    build_seconds = time.perf_counter() - built
    n, d = problem.data["X"].shape
    row = _measure(problem, seeds, steps, quick)
    row.update(
        _curvature(problem),
        n=n,
        d=d,
        min_loss=float(problem.min_loss),
        tol=TOL_REL * float(problem.min_loss),
        build_seconds=build_seconds,
    )
    return row  # the problem goes with the call (the largest designs are 40 MB)


def _sgd_noise_floor(row: dict) -> float:
    r"""The stationary excess loss of constant-step SGD near the optimum, for the best SGD
    config of ``row``: :math:`\eta \sigma^2 \operatorname{tr}(H) / (2B)`, from the minibatch
    gradient's covariance :math:`\approx 2\sigma^2 H / B` at the optimum, with
    :math:`\sigma^2` estimated by the minimal loss."""
    trace = row["trace_ratio"] * row["mu"]
    return row["sgd"]["config"]["learning_rate"] * row["min_loss"] * trace / (2 * BATCH_SIZE)


def _adaptive_over_gd(row: dict) -> float:
    """The better final excess loss of RMSprop and Adam over the better of SGD and Momentum."""
    best = lambda names: min(row[o]["excess"] for o in names)  # noqa: E731
    return best(("rmsprop", "adam")) / best(("sgd", "momentum"))


def _row_facts(key: str, row: dict) -> dict:
    """The facts of one size, under names that start with ``key``."""
    facts = {f"{key}_n": row["n"], f"{key}_d": row["d"]}
    for quantity in ("kappa", "L", "mu", "trace_ratio", "min_loss", "tol", "build_seconds"):
        facts[f"{key}_{quantity}"] = row[quantity]
    facts[f"{key}_run_seconds"] = sum(
        row[o]["run_seconds"] for o in ("momentum", "rmsprop", "adam")
    )
    facts[f"{key}_compile_seconds"] = sum(
        row[o]["compile_seconds"] for o in ("momentum", "rmsprop", "adam")
    )
    for name in OPTIMIZERS:
        r = row[name]
        for quantity in (
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
        ):
            if math.isfinite(r[quantity]):
                facts[f"{key}_{name}_{quantity}"] = r[quantity]
        for hyper, value in r["config"].items():
            facts[f"{key}_{name}_{hyper}"] = float(value)
        facts[f"{key}_{name}_lr_edge"] = int(r["lr_edge"])
        facts[f"{key}_{name}_beta_edge"] = int(r["beta_edge"])
    return facts


def _table(caption: str, rows: list, n_seeds: int) -> str:
    """One line per size and optimizer: the best config, its final excess loss and distance,
    the fastest config's steps to the tolerance, and the sweeps' seconds; under a caption."""
    header = (
        f"*{caption}*\n\n| n | d | κ | optimizer | best config | final excess loss (geometric mean, {CI_LEVEL}%) | ‖w − w*‖ (± {CI_LEVEL}%) | "
        f"steps to tol, fastest config (geometric mean, {CI_LEVEL}%) | run s / compile s (sweep) |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = [header]
    for row in rows:
        for name in OPTIMIZERS:
            r = row[name]
            config = ", ".join(f"{SYMBOL.get(h, h)} = {v:.3g}" for h, v in r["config"].items())
            if math.isfinite(r["steps"]):
                reach = r["steps_text"]
            elif math.isfinite(r["steps_median"]):
                reach = f"median {r['steps_median']:.0f} ({r['reached']}/{n_seeds} seeds)"
            else:
                reach = "never"
            lines.append(
                f"| {row['n']} | {row['d']} | {row['kappa']:.3g} | {LABELS[name]} | {config} | {r['excess_text']} | "
                f"{r['dist']:.3g} ± {r['dist_half']:.2g} | {reach} | "
                f"{r['run_seconds']:.2f} / {r['compile_seconds']:.2f} |"
            )
    return "\n".join(lines)


def _fixed_kappa_sentence(facts: dict) -> str:
    """What the fixed-κ scan shows about d alone, from its fitted slopes, and how SGD's final
    excess loss compares with the noise floor of constant-step SGD."""
    f = {k: fmt(v) for k, v in facts.items()}
    fitted = [o for o in OPTIMIZERS if f"{o}_steps_d_fixed_kappa_slope" in facts]
    excess = [o for o in OPTIMIZERS if f"{o}_excess_d_fixed_kappa_slope" in facts]
    # "still grow" only where the 95% interval of each exponent's per-seed fits lies above 0
    steps_grow = bool(fitted) and all(
        facts.get(f"{o}_steps_d_fixed_kappa_seed_slope", -math.inf)
        - facts.get(f"{o}_steps_d_fixed_kappa_seed_slope_half", math.inf)
        > 0
        for o in fitted
    )
    sentence = (
        f"At a fixed κ = {f['kappa_fixed']} (`condition_number={f['kappa_fixed']}`: the eigenvalues of XᵀX/n "
        f"spread geometrically up to κ times the smallest; n = {f['n_fixed']}, d from {f['kappa_d_min']} to "
        f"{f['kappa_d_max']})"
    )
    if fitted:
        sentence += (
            f" the fastest config's steps to the tolerance {'still grow' if steps_grow else 'change'} with d"
            + ("" if steps_grow else " (not every exponent's 95% interval lies above 0)")
            + ", like "
            + ", ".join(
                f"{LABELS[o]} d^{f[o + '_steps_d_fixed_kappa_slope']}"
                + _seed_slope_text(f, f"{o}_steps_d_fixed_kappa")
                + f" (up to d = {f[o + '_reach_d_max_fixed_kappa']})"
                for o in fitted
            )
            + " (fitted where every seed reaches it)"
        )
    else:
        sentence += " too few sizes reach the tolerance with every seed to fit the steps against d"
    if excess:
        sentence += "; the best config's final excess loss like " + ", ".join(
            f"{LABELS[o]} d^{f[o + '_excess_d_fixed_kappa_slope']}" for o in excess
        )
    sentence += "."
    if "sgd_floor_ratio_min" in facts:
        sentence += _noise_floor_clauses(facts)
    if facts["fixed_kappa_adaptive_over_gd"] > facts["recipe_adaptive_over_gd"]:
        sentence += (
            " Per-coordinate steps lose their edge here: at d = "
            f"{f['d_common']} the better of RMSprop and Adam ends at {f['fixed_kappa_adaptive_over_gd']} times the "
            f"final excess loss of the better of SGD and Momentum, against {f['recipe_adaptive_over_gd']} times on the "
            "recipe. The designs differ in two ways: `condition_number` turns the eigenvectors of XᵀX/n into random "
            "directions, while the recipe's curvature lies along the coordinates, and the recipe's κ at this d is "
            f"{f['recipe_kappa_d_common']} against {f['kappa_fixed']}; this scan does not separate the two, though "
            "only the first is one a per-coordinate step can undo."
        )
    return sentence


def _noise_floor_clauses(facts: dict) -> str:
    """SGD's final excess loss on the fixed-κ scan against the noise floor of constant-step
    SGD, and the adaptive methods' steps that grow faster than that floor's tr(H)."""
    f = {k: fmt(v) for k, v in facts.items()}
    text = (
        f" κ stays put, but tr(H)/μ grows like d^{f['trace_d_fixed_kappa_slope']} (from "
        f"{f['kappa_d_min_trace_ratio']} to {f['kappa_d_max_trace_ratio']}). A minibatch gradient's covariance "
        "at the optimum is about `2σ²H/B`, so constant-step SGD settles at an excess loss of about "
        "`lr·σ²·tr(H)/(2B)`, which grows with tr(H): SGD's best configs end at "
        f"{f['sgd_floor_ratio_min']} to {f['sgd_floor_ratio_max']} times that floor across these d"
    )
    within = (
        facts["sgd_floor_ratio_min"] >= 1 / FLOOR_FACTOR
        and facts["sgd_floor_ratio_max"] <= FLOOR_FACTOR
    )
    if within and facts.get("sgd_excess_d_fixed_kappa_slope", 0) > 0:
        text += (
            f" (within a factor {f['floor_factor']}: the floor accounts for SGD's growth with d)"
        )
    text += (
        ". The initial excess loss grows with tr(H) too (the initial point and w_true are both standard normal), "
        "but costs only logarithmically many steps; no full-batch run at this κ was made."
    )
    faster = [
        o for o in ("rmsprop", "adam") if facts.get(f"{o}_steps_trace_fixed_kappa_slope", 0) > 1
    ]
    if faster:
        text += (
            " The steps of "
            + " and ".join(LABELS[o] for o in faster)
            + " grow faster than tr(H)/μ (slopes "
            + ", ".join(f"{f[o + '_steps_trace_fixed_kappa_slope']}" for o in faster)
            + " against it), which this floor, SGD's, does not explain."
        )
    return text


def _on_edge(result, config, name: str) -> bool:
    """Whether the best config's ``name`` is the first or last value of its grid axis."""
    values = result.axes[name]
    return math.isclose(config[name], values[0]) or math.isclose(config[name], values[-1])


def _curvature(problem) -> dict:
    """κ = L/μ, L, μ and ``tr(H)/μ`` (the summed curvature over the smallest)."""
    chol = np.asarray(problem.aux["chol"], dtype=np.float64)  # C Cᵀ = XᵀX/n, H = 2 C Cᵀ
    trace = 2.0 * float(np.sum(chol**2))
    return {
        "kappa": float(problem.kappa),
        "L": float(problem.L),
        "mu": float(problem.mu),
        "trace_ratio": trace / problem.mu,
    }


def _series(rows, key, half=None) -> dict:
    """``{label: (means, half-widths)}`` for :func:`plots.scaling`, NaN where infinite."""
    series = {}
    for name in OPTIMIZERS:
        mean = np.array([r[name][key] for r in rows], dtype=float)
        width = None if half is None else np.array([r[name][half] for r in rows], dtype=float)
        mean = np.where(np.isfinite(mean), mean, np.nan)
        if width is not None:
            width = np.where(np.isfinite(width), width, np.nan)
        series[LABELS[name]] = (mean, width)
    return series


def run(settings: Settings) -> StudyResult:
    started = time.perf_counter()
    quick = settings.quick
    seeds = [int(s) for s in settings.seeds]
    ds = DS_QUICK if quick else DS_FULL
    ns = NS_QUICK if quick else NS_FULL
    steps = STEPS_QUICK if quick else STEPS_FULL
    sizes = [(N_FIXED, d) for d in ds] + [
        (n, D_FIXED) for n in ns if (n, D_FIXED) not in [(N_FIXED, d) for d in ds]
    ]

    kappa_ds = DS_KAPPA_QUICK if quick else DS_KAPPA_FULL

    rows = {
        (n, d): _measured_row(
            lambda: jh.linear_regression(n, d, seed=DESIGN_SEED), seeds, steps, quick
        )
        for n, d in sizes
    }
    kappa_rows = {
        d: _measured_row(
            lambda: jh.linear_regression(
                N_FIXED, d, condition_number=KAPPA_FIXED, seed=DESIGN_SEED
            ),
            seeds,
            steps,
            quick,
        )
        for d in kappa_ds
    }
    d_rows = [rows[(N_FIXED, d)] for d in ds]
    n_rows = [rows[(n, D_FIXED)] for n in ns]
    kappas = np.array([r["kappa"] for r in d_rows])

    # ------------------------------------------------------------------ facts
    facts = {
        "n_fixed": N_FIXED,
        "d_fixed": D_FIXED,
        "d_min": ds[0],
        "d_max": ds[-1],
        "n_min": ns[0],
        "n_max": ns[-1],
        "n_ds": len(ds),
        "n_ns": len(ns),
        "steps": steps,
        "log_every": LOG_EVERY,
        "batch_size": BATCH_SIZE,
        "n_seeds": len(seeds),
        "ci_level": CI_LEVEL,
        "tol_percent": 100 * TOL_REL,
        "min_fit_points": MIN_FIT_POINTS,
        "samples_seen": steps * BATCH_SIZE,
        "kappa_d_slope": loglog_slope(ds, kappas, min_points=2),
        "kappa_fixed": KAPPA_FIXED,
        "kappa_d_min": kappa_ds[0],
        "kappa_d_max": kappa_ds[-1],
        "trace_d_fixed_kappa_slope": loglog_slope(
            kappa_ds, [r["trace_ratio"] for r in kappa_rows.values()], min_points=2
        ),
        "kappa_d_min_trace_ratio": kappa_rows[kappa_ds[0]]["trace_ratio"],
        "kappa_d_max_trace_ratio": kappa_rows[kappa_ds[-1]]["trace_ratio"],
    }
    keyed_rows = {
        **{f"n{n}_d{d}": row for (n, d), row in rows.items()},
        **{f"kappa{KAPPA_FIXED:g}_d{d}": row for d, row in kappa_rows.items()},
    }
    for key, row in keyed_rows.items():
        facts.update(_row_facts(key, row))
    for name in OPTIMIZERS:
        steps_kappa_fixed = [kappa_rows[d][name]["steps"] for d in kappa_ds]
        reached = [d for d, s in zip(kappa_ds, steps_kappa_fixed) if math.isfinite(s)]
        if reached:
            facts[f"{name}_reach_d_max_fixed_kappa"] = max(reached)
        traces = [kappa_rows[d]["trace_ratio"] for d in kappa_ds]
        for label, x, y in (
            ("steps_d", kappa_ds, steps_kappa_fixed),
            ("steps_trace", traces, steps_kappa_fixed),
            ("excess_d", kappa_ds, [kappa_rows[d][name]["excess"] for d in kappa_ds]),
        ):
            slope = loglog_slope(x, y)
            if math.isfinite(slope):
                facts[f"{name}_{label}_fixed_kappa_slope"] = slope
        if f"{name}_steps_d_fixed_kappa_slope" in facts:
            facts.update(
                _seed_slope_facts(
                    f"{name}_steps_d_fixed_kappa",
                    per_seed_slopes(
                        kappa_ds, [kappa_rows[d][name]["steps_per_seed"] for d in kappa_ds]
                    ),
                )
            )
    d_common = max(set(ds) & set(kappa_ds))  # the largest d both d-scans have
    facts["d_common"] = d_common
    facts["recipe_adaptive_over_gd"] = _adaptive_over_gd(rows[(N_FIXED, d_common)])
    facts["fixed_kappa_adaptive_over_gd"] = _adaptive_over_gd(kappa_rows[d_common])
    facts["recipe_kappa_d_common"] = rows[(N_FIXED, d_common)]["kappa"]
    floor_ratios = [row["sgd"]["excess"] / _sgd_noise_floor(row) for row in kappa_rows.values()]
    if all(math.isfinite(r) and r > 0 for r in floor_ratios):
        facts["sgd_floor_ratio_min"], facts["sgd_floor_ratio_max"] = (
            min(floor_ratios),
            max(floor_ratios),
        )
        facts["floor_factor"] = FLOOR_FACTOR
    for name in OPTIMIZERS:
        steps_d = [r[name]["steps"] for r in d_rows]
        facts[f"{name}_reach_count_d"] = int(np.sum(np.isfinite(steps_d)))
        reached_d = [d for d, s in zip(ds, steps_d) if math.isfinite(s)]
        if reached_d:
            facts[f"{name}_reach_d_max"] = max(reached_d)
        for label, x, y in (
            ("steps_kappa", kappas, steps_d),
            ("excess_d", ds, [r[name]["excess"] for r in d_rows]),
            ("dist_d", ds, [r[name]["dist"] for r in d_rows]),
            ("excess_n", ns, [r[name]["excess"] for r in n_rows]),
            ("steps_n", ns, [r[name]["steps"] for r in n_rows]),
        ):
            slope = loglog_slope(x, y)
            if math.isfinite(slope):
                facts[f"{name}_{label}_slope"] = slope
        if f"{name}_steps_kappa_slope" in facts:
            facts.update(
                _seed_slope_facts(
                    f"{name}_steps_kappa",
                    per_seed_slopes(kappas, [r[name]["steps_per_seed"] for r in d_rows]),
                )
            )
        large = [
            r[name] for r in n_rows if r["n"] >= N_FIXED
        ]  # epochs of at least N_FIXED / B steps
        if len(large) > 1:
            facts[f"{name}_excess_n_spread"] = max(r["excess"] for r in large) / min(
                r["excess"] for r in large
            )
            low = max(r["excess"] - r["excess_half"] for r in large)
            high = min(r["excess"] + r["excess_half"] for r in large)
            facts[f"{name}_excess_n_overlap"] = int(low <= high)
        if ns[0] < N_FIXED:
            facts[f"{name}_excess_nmin_ratio"] = (
                n_rows[0][name]["excess"] / rows[(N_FIXED, D_FIXED)][name]["excess"]
            )
        steps_n = [r[name]["steps"] for r in n_rows]
        if all(math.isfinite(v) for v in steps_n):
            facts[f"{name}_steps_n_spread"] = max(steps_n) / min(steps_n)
    # the adaptive methods against SGD, seed by seed, over the sizes every optimizer reaches
    common = [
        i
        for i, r in enumerate(d_rows)
        if all(r[o]["steps_per_seed"] is not None for o in OPTIMIZERS)
    ]
    if len(common) >= MIN_FIT_POINTS:
        facts["kappa_common_max"] = kappas[common[-1]]
        sgd_slopes = per_seed_slopes(
            [kappas[i] for i in common], [d_rows[i]["sgd"]["steps_per_seed"] for i in common]
        )
        for name in ("rmsprop", "adam"):
            slopes = per_seed_slopes(
                [kappas[i] for i in common], [d_rows[i][name]["steps_per_seed"] for i in common]
            )
            interval = metrics.mean_interval(slopes - sgd_slopes)
            if np.isfinite(interval.half_width):
                facts[f"{name}_minus_sgd_kappa_slope"] = float(interval.mean)
                facts[f"{name}_minus_sgd_kappa_slope_half"] = float(interval.half_width)
    if all(f"{o}_excess_n_overlap" in facts for o in OPTIMIZERS):
        facts["excess_n_overlaps"] = sum(facts[f"{o}_excess_n_overlap"] for o in OPTIMIZERS)
    facts["n_optimizers"] = len(OPTIMIZERS)
    facts["dmax_adaptive_over_gd"] = _adaptive_over_gd(d_rows[-1])
    facts["dmax_gd_over_adaptive"] = 1.0 / facts["dmax_adaptive_over_gd"]
    facts["kappa_slope_tol"] = KAPPA_SLOPE_TOL
    facts["run_seconds_d_slope"] = loglog_slope(
        ds, [facts[f"n{N_FIXED}_d{d}_run_seconds"] for d in ds], min_points=2
    )
    facts["run_seconds_n_slope"] = loglog_slope(
        ns, [facts[f"n{n}_d{D_FIXED}_run_seconds"] for n in ns], min_points=2
    )
    facts["lr_edges"] = sum(facts[f"{key}_{o}_lr_edge"] for key in keyed_rows for o in OPTIMIZERS)
    facts["n_tuned"] = len(keyed_rows) * len(OPTIMIZERS)
    with_beta = [o for o in OPTIMIZERS if o in BETAS]  # SGD has no β
    facts["beta_edges"] = sum(
        facts[f"{key}_{o}_beta_edge"] for key in keyed_rows for o in with_beta
    )
    facts["n_beta_tuned"] = len(keyed_rows) * len(with_beta)
    facts["n_beta_values"] = len(BETAS["momentum"])
    facts["adam_b2"] = inspect.signature(jh.adam).parameters["b2"].default
    facts["sweeps"] = 3 * len(keyed_rows)
    f = {k: fmt(v) for k, v in facts.items()}

    def k(n, d):
        return f"n{n}_d{d}"

    # ------------------------------------------------------------------ text
    text = (
        f"The homework's recipe `jh.linear_regression(n, d)` at n = {f['n_fixed']} for d from {f['d_min']} to "
        f"{f['d_max']} ({f['n_ds']} sizes), and at d = {f['d_fixed']} for n from {f['n_min']} to {f['n_max']} "
        f"({f['n_ns']} sizes); designs with a fixed κ = {f['kappa_fixed']} at n = {f['n_fixed']} for d from "
        f"{f['kappa_d_min']} to {f['kappa_d_max']}; batch {f['batch_size']}, {f['steps']} steps ({f['samples_seen']} samples seen), "
        f"{f['n_seeds']} seeds. At every size each optimizer is tuned by one sweep over lr (a log grid: relative "
        f"to `1/L` for SGD and Momentum, absolute for RMSprop and Adam) × its β; SGD is Momentum at `β = 0`. The "
        f"tolerance is {f['tol_percent']}% of the minimal loss; steps to it are logged every {f['log_every']} steps "
        f"and reported for each optimizer's fastest config when every seed reaches it; intervals are "
        f"{f['ci_level']}% over seeds. Slopes are log-log least-squares fits over at least {f['min_fit_points']} "
        f"finite points; the ± after a slope of steps is the {f['ci_level']}% half-width over one fit per seed."
    )

    conclusions = []
    kappa_list = ", ".join(
        f"{f[k(N_FIXED, d) + '_kappa']} (d = {f[k(N_FIXED, d) + '_d']})" for d in ds
    )
    parts = []
    for name in OPTIMIZERS:
        slope = f.get(f"{name}_steps_kappa_slope")
        reach = (
            f"reaches the tolerance up to d = {f[name + '_reach_d_max']}"
            if f"{name}_reach_d_max" in f
            else "never reaches the tolerance"
        )
        fit = (
            f" with steps ∝ κ^{slope}" + _seed_slope_text(f, f"{name}_steps_kappa") if slope else ""
        )
        parts.append(f"{LABELS[name]} {reach}{fit}")
    sentence = (
        f"The recipe's column scaling makes κ grow with d like d^{f['kappa_d_slope']} (κ = {kappa_list}), and "
        f"within {f['steps']} steps " + "; ".join(parts) + "."
    )
    sgd_steps = [f[k(N_FIXED, d) + "_sgd_steps"] for d in ds if k(N_FIXED, d) + "_sgd_steps" in f]
    if "sgd_steps_kappa_slope" in f:
        sentence += _sgd_kappa_clause(facts, sgd_steps)
        sentence += (
            " (d and κ grow together in this scan, so it cannot tell their effects apart; the fixed-κ "
            "scan below varies d alone, the theory study κ alone.)"
        )
    adaptive = [o for o in ("rmsprop", "adam") if f"{o}_minus_sgd_kappa_slope" in facts]
    if adaptive:
        slower = [
            o
            for o in adaptive
            if facts[f"{o}_minus_sgd_kappa_slope"] + facts[f"{o}_minus_sgd_kappa_slope_half"] < 0
        ]
        sentence += (
            f" Seed by seed, over the sizes every optimizer reaches (κ up to {f['kappa_common_max']}), the exponent "
            "minus SGD's is "
            + ", ".join(
                f"{LABELS[o]} {f[o + '_minus_sgd_kappa_slope']} ± "
                f"{f[o + '_minus_sgd_kappa_slope_half']}"
                for o in adaptive
            )
            + ": "
            + (
                " and ".join(LABELS[o] for o in slower)
                + "'s steps grow more slowly with κ than SGD's, consistent "
                "with a per-coordinate step undoing the column scaling that makes κ large"
                + (
                    ""
                    if len(slower) == len(adaptive)
                    else "; "
                    + " and ".join(LABELS[o] for o in adaptive if o not in slower)
                    + "'s difference is not "
                    "resolved by these seeds"
                )
                if slower
                else "no difference is resolved by these seeds"
            )
            + "."
        )
    conclusions.append(sentence)
    conclusions.append(_fixed_kappa_sentence(facts))
    dmin, dmax = ds[0], ds[-1]
    parts = []
    for name in OPTIMIZERS:
        a, b = k(N_FIXED, dmin) + f"_{name}_excess", k(N_FIXED, dmax) + f"_{name}_excess"
        parts.append(f"{LABELS[name]} from {f[a]} to {f[b]} (slope {f[name + '_excess_d_slope']})")
    grows = all(facts.get(f"{o}_excess_d_slope", 0) > 0 for o in OPTIMIZERS)
    conclusions.append(
        f"Final accuracy after {f['steps']} steps, best config: the excess loss "
        f"{'tends to grow with d for every optimizer (a positive fitted slope)' if grows else 'against d'}, "
        + "; ".join(parts)
        + f" for d from {f['d_min']} to {f['d_max']}; {_gd_vs_adaptive_clause(facts)}. The "
        f"distance ‖w − w*‖ follows: "
        + ", ".join(
            f"{LABELS[o]} {f[k(N_FIXED, dmin) + '_' + o + '_dist']} → {f[k(N_FIXED, dmax) + '_' + o + '_dist']}"
            for o in OPTIMIZERS
        )
        + "."
    )
    nmin, nmax = ns[0], ns[-1]
    clauses = []
    spreads = [o for o in OPTIMIZERS if f"{o}_steps_n_spread" in facts]
    if spreads:
        clauses.append(
            "the steps to the tolerance vary across n by the factors (largest over smallest) "
            + ", ".join(f"{LABELS[o]} {f[o + '_steps_n_spread']}" for o in spreads)
            + " ("
            + "; ".join(
                f"{LABELS[o]} " + ", ".join(f[k(n, D_FIXED) + f"_{o}_steps"] for n in ns)
                for o in spreads
            )
            + " for n = "
            + ", ".join(f[k(n, D_FIXED) + "_n"] for n in ns)
            + ")"
        )
    if "excess_n_overlaps" in facts:
        clauses.append(
            f"the final excess loss for n from {f['n_fixed']} to {f['n_max']} by "
            + ", ".join(f"{LABELS[o]} {f[o + '_excess_n_spread']}" for o in OPTIMIZERS)
            + f" ({f['ci_level']}% intervals overlapping across these n for {f['excess_n_overlaps']} of the "
            + f"{f['n_optimizers']} optimizers)"
            + (
                ": no difference in final accuracy across n is resolved by these seeds, consistent with the "
                "curvature, not the sample size, setting it"
                if facts["excess_n_overlaps"] == len(OPTIMIZERS)
                else ""
            )
        )
    sentence = (
        f"Against n at d = {f['d_fixed']} (κ from {f[k(nmin, D_FIXED) + '_kappa']} to "
        f"{f[k(nmax, D_FIXED) + '_kappa']}, {f['samples_seen']} samples seen): "
        + "; ".join(clauses)
        + "."
    )
    if nmin < N_FIXED:
        lower = [o for o in OPTIMIZERS if facts[f"{o}_excess_nmin_ratio"] < 1]
        sentence += (
            f" At n = {f['n_min']} the final excess loss is "
            + ", ".join(f"{LABELS[o]} {f[o + '_excess_nmin_ratio']}" for o in OPTIMIZERS)
            + f" times the one at n = {f['n_fixed']}"
            + (
                ": lower for every optimizer. An epoch is short there, and sampling without replacement cancels "
                "part of the noise within an epoch, a possible cause this scan does not test (the noise-floor study "
                "measures the effect of the batch size)."
                if len(lower) == len(OPTIMIZERS)
                else "."
            )
        )
    conclusions.append(sentence)
    d_grows = facts["run_seconds_d_slope"] > 0.2
    n_flat = abs(facts["run_seconds_n_slope"]) < 0.2
    conclusions.append(
        f"The wall time of a size's three compiled sweeps (all configs × seeds) goes from "
        f"{f[k(N_FIXED, dmin) + '_run_seconds']} s at d = {f['d_min']} to {f[k(N_FIXED, dmax) + '_run_seconds']} s at "
        f"d = {f['d_max']} (log-log slope {f['run_seconds_d_slope']}) and from "
        f"{f[k(nmin, D_FIXED) + '_run_seconds']} s at n = {f['n_min']} to {f[k(nmax, D_FIXED) + '_run_seconds']} s at "
        f"n = {f['n_max']} (slope {f['run_seconds_n_slope']})"
        + (
            f": it {'grows with d' if d_grows else 'barely changes with d'} and not with n, as a step touches "
            f"{f['batch_size']} rows whatever n and the full loss is read off a d × d factor C of XᵀX/n = CCᵀ. "
            if n_flat
            else f": it {'grows with d' if d_grows else 'barely changes with d'} and changes with n too. "
        )
        + f"Compiling takes {f[k(N_FIXED, dmin) + '_compile_seconds']} s and {f[k(N_FIXED, dmax) + '_compile_seconds']} s "
        f"for the same d; building the design with d = {f['d_max']} takes {f[k(N_FIXED, dmax) + '_build_seconds']} s."
    )
    conclusions.append(
        f"Of the {f['n_tuned']} tuned (design, optimizer) pairs, {f['lr_edges']} have their best lr on the edge of "
        f"the lr grid"
        + (
            " (the lr grid is wide enough)"
            if facts["lr_edges"] == 0
            else " (there the best lr may lie outside the grid)"
        )
        + f"; of the {f['n_beta_tuned']} pairs tuned over the momentum or averaging parameter (β, γ or β1, "
        f"{f['n_beta_values']} values each; Adam's β2 stays at its default {f['adam_b2']}), "
        + f"{f['beta_edges']} have it on the edge of its grid"
        + (
            ": those optima may lie outside the grid, so their numbers are bounds, not the method's best."
            if facts["beta_edges"] or facts["lr_edges"]
            else "."
        )
    )

    # ------------------------------------------------------------------ table
    tables = [
        _table(
            "The homework's recipe (κ grows with d): the d-scan and the n-scan.",
            list(rows.values()),
            len(seeds),
        ),
        _table(
            f"At a fixed κ = {KAPPA_FIXED:g} (`condition_number={KAPPA_FIXED:g}`): the fixed-κ d-scan (a compile "
            "time of 0 is a sweep that reused the program compiled for the same shapes in the recipe's d-scan).",
            list(kappa_rows.values()),
            len(seeds),
        ),
    ]

    # ------------------------------------------------------------------ figures
    figures = []

    def figure(name, x, series, caption, **labels):
        plots.scaling(np.asarray(x, float), series, path=settings.figure_path(name), **labels)
        figures.append((name, caption))

    steps_label = f"steps to excess loss ≤ {TOL_REL:g}·min_loss"
    excess_label = f"final excess loss after {steps} steps"
    budget = f"the budget: {steps} steps"
    steps_series = _series(d_rows, "steps", "steps_half")
    anchor = next(
        ((kap, s) for kap, s in zip(kappas, steps_series["SGD"][0]) if np.isfinite(s)), None
    )
    theory = {} if anchor is None else {"∝ κ (gradient descent)": anchor[1] * kappas / anchor[0]}
    theory[budget] = np.full(len(kappas), float(steps))
    figure(
        "scaling_steps_vs_kappa.png",
        kappas,
        steps_series,
        f"Steps to the tolerance against κ on the d-scan, fastest config of each optimizer, {CI_LEVEL}% intervals "
        "over seeds (missing: not reached by every seed); dashed: κ¹ through SGD's first point, and the step budget.",
        theory=theory,
        xlabel="condition number κ (d-scan)",
        ylabel=steps_label,
        title=f"steps to the tolerance, fastest config (n = {N_FIXED}, d = {ds[0]}…{ds[-1]})",
    )
    figure(
        "scaling_excess_vs_d.png",
        ds,
        _series(d_rows, "excess", "excess_half"),
        f"Final excess loss of each optimizer's best config against d, {CI_LEVEL}% intervals over seeds; dashed: "
        "the tolerance.",
        theory={"tolerance": np.array([r["tol"] for r in d_rows])},
        xlabel=f"dimension d (n = {N_FIXED})",
        ylabel=excess_label,
        title="final excess loss against d, best config",
    )
    figure(
        "scaling_dist_vs_d.png",
        ds,
        _series(d_rows, "dist", "dist_half"),
        f"Final ‖w − w*‖ of each optimizer's best config against d, {CI_LEVEL}% intervals.",
        xlabel=f"dimension d (n = {N_FIXED})",
        ylabel="final ‖w − w*‖",
        title="distance to the optimum against d, best config",
    )
    figure(
        "scaling_excess_vs_n.png",
        ns,
        _series(n_rows, "excess", "excess_half"),
        f"Final excess loss against n at d = {D_FIXED}, {CI_LEVEL}% intervals; dashed: the tolerance.",
        theory={"tolerance": np.array([r["tol"] for r in n_rows])},
        xlabel=f"sample size n (d = {D_FIXED})",
        ylabel=excess_label,
        title="final excess loss against n, best config",
    )
    figure(
        "scaling_steps_vs_n.png",
        ns,
        _series(n_rows, "steps", "steps_half"),
        f"Steps to the tolerance against n at d = {D_FIXED}, fastest config, {CI_LEVEL}% intervals.",
        xlabel=f"sample size n (d = {D_FIXED})",
        ylabel=steps_label,
        title="steps to the tolerance against n, fastest config",
    )
    fixed = list(kappa_rows.values())
    fixed_axis = f"dimension d (n = {N_FIXED}, κ = {KAPPA_FIXED:g})"
    figure(
        "scaling_fixed_kappa_steps.png",
        kappa_ds,
        _series(fixed, "steps", "steps_half"),
        f"Steps to the tolerance against d at a fixed κ = {KAPPA_FIXED:g}, fastest config of each optimizer, "
        f"{CI_LEVEL}% intervals over seeds (missing: not reached by every seed).",
        theory={budget: np.full(len(kappa_ds), float(steps))},
        xlabel=fixed_axis,
        ylabel=steps_label,
        title=f"steps to the tolerance against d at a fixed κ = {KAPPA_FIXED:g}, fastest config",
    )
    figure(
        "scaling_fixed_kappa_excess.png",
        kappa_ds,
        _series(fixed, "excess", "excess_half"),
        f"Final excess loss against d at a fixed κ = {KAPPA_FIXED:g}, best config of each optimizer, "
        f"{CI_LEVEL}% intervals over seeds; dashed: the tolerance.",
        theory={"tolerance": np.array([r["tol"] for r in fixed])},
        xlabel=fixed_axis,
        ylabel=excess_label,
        title=f"final excess loss against d at a fixed κ = {KAPPA_FIXED:g}, best config",
    )
    figure(
        "scaling_time.png",
        ds,
        {
            f"run, d-scan (n = {N_FIXED})": (
                np.array([facts[f"{k(N_FIXED, d)}_run_seconds"] for d in ds]),
                None,
            )
        },
        "Wall time of a size's three compiled sweeps (Momentum with SGD, RMSprop, Adam) against d.",
        xlabel="dimension d",
        ylabel="seconds (three sweeps, all configs × seeds)",
        title="wall time of the compiled sweeps against d",
    )

    # ------------------------------------------------------------------ data
    data = {
        "seeds": seeds,
        "ds": list(ds),
        "kappa_fixed": KAPPA_FIXED,
        "kappa_ds": list(kappa_ds),
        "ns": list(ns),
        "grids": {
            "lr_times_L": list(LR_L_QUICK if quick else LR_L_FULL),
            "lr": list(LR_QUICK if quick else LR_FULL),
            "betas": {k_: list(v) for k_, v in BETAS.items()},
        },
        "rows": list(rows.values()),
        "kappa_rows": list(kappa_rows.values()),
    }
    facts["seconds"] = round(time.perf_counter() - started, 1)
    return StudyResult(
        name=NAME,
        title=TITLE,
        facts=facts,
        data=data,
        figures=figures,
        tables=tables,
        conclusions=conclusions,
        text=text,
    )
