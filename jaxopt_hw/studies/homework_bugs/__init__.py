"""The homework notebook's four bugs, each switched on alone: which conclusions they make.

The notebook compares Momentum, RMSprop and Adam on the homework's least-squares problems
(batch 32, 1000 iterations, learning rate 1e-2, β = 0.9) and concludes that Adam converges
fastest along the steadiest trajectory and that Momentum does not converge on the large
problem. Its code has four bugs (:mod:`jaxopt_hw.homework_faithful`):

1. RMSprop and Adam *assign* the step to the weights (``w_cur = step``);
2. Adam's bias correction divides by ``1 - beta`` instead of ``1 - beta**t``;
3. the functions return the initial weights;
4. minibatch gradients are divided by ``n`` instead of the batch size ``B``.

Here the comparison is re-run with the notebook's hyperparameters (its calls are cut off
after the learning rate's first digit: :data:`~jaxopt_hw.homework_faithful.NOTEBOOK_HYPERPARAMETERS`)
with all bugs off, each bug alone, and bugs 1, 2 and 4 together (what the notebook's
curves show; bug 3 changes only what is returned), over ``settings.seeds``. With the step
assigned, RMSprop and Adam also run at the notebook's other learning rates (1e-3, 1e-4).

All variants of one problem and seed run as one compiled ``jh.run`` (see
:func:`jaxopt_hw.studies.parity.side_by_side`): the same initial point, the same batches.
A run that diverges freezes every copy, so then each variant is re-run on its own.
"""

from __future__ import annotations

import math

import numpy as np

import jaxopt_hw as jh
from jaxopt_hw import homework_faithful as hf
from jaxopt_hw import metrics, plots
from jaxopt_hw.problems import HOMEWORK_SIZES
from jaxopt_hw.studies import Settings, StudyResult, fmt
from jaxopt_hw.studies.parity import excess_loss, parallel, side_by_side

__all__ = ["NAME", "TITLE", "run"]

NAME = "homework_bugs"
TITLE = "The homework notebook's bugs, one at a time"

OPTIMIZERS = ("momentum", "rmsprop", "adam")
LABELS = {"momentum": "Momentum", "rmsprop": "RMSprop", "adam": "Adam"}
VARIANTS = (
    "correct",
    "assign_step",
    "bias_1_minus_beta",
    "returns_initial",
    "grad_over_n",
    "notebook",
)
#: the bugs switched on in each variant ("notebook": all four; bug 3 only changes what
#: is returned, so the notebook's curves are those of bugs 1, 2 and 4)
VARIANT_BUGS = {
    "correct": (),
    "assign_step": ("assign_step",),
    "bias_1_minus_beta": ("bias_1_minus_beta",),
    "returns_initial": ("returns_initial",),
    "grad_over_n": ("grad_over_n",),
    "notebook": tuple(hf.BUGS),
}
BUG_NUMBER = {"assign_step": 1, "bias_1_minus_beta": 2, "returns_initial": 3, "grad_over_n": 4}
VARIANT_LABELS = {
    "correct": "correct",
    "assign_step": "bug 1: step assigned, `w = step`",
    "bias_1_minus_beta": "bug 2: `m / (1 - beta)`",
    "returns_initial": "bug 3: initial weights returned",
    "grad_over_n": "bug 4: gradient `/ n`",
    "notebook": "as written (its curves: bugs 1, 2, 4)",
}
#: shorter labels and line styles for the figure
FIGURE_LABELS = {
    "correct": "correct",
    "assign_step": "bug 1: w = step",
    "bias_1_minus_beta": "bug 2: m / (1 - beta)",
    "returns_initial": "bug 3: returned weights",
    "grad_over_n": "bug 4: gradient / n",
    "notebook": "as written (1, 2, 4)",
}
LINE_STYLES = {
    "correct": ("-", 2.6),
    "assign_step": ("--", 1.8),
    "bias_1_minus_beta": ("-.", 1.6),
    "returns_initial": ((0, (1, 2)), 1.6),
    "grad_over_n": ((0, (2, 1)), 1.4),
    "notebook": ((0, (6, 2, 1, 2)), 1.4),
}
#: the notebook's other learning rates, run with the step assigned (RMSprop and Adam)
SWEEP_LRS = (1e-3, 1e-4)
BATCH_SIZE = 32
STEPS = 1000
SIZES_QUICK = ("medium",)
SIZES_FULL = ("small", "medium", "large")
MAIN = "medium"
#: "steps to cover this fraction of the drop from the initial to the final excess loss"
DROP = 0.95
CONFIDENCE = 95
#: "excess loss after this many steps, as a multiple of the final one": how soon a curve is flat
EARLY_STEP = 10
#: weights "stay next to 0 and never approach the optimum" only when after the first step
#: ‖w‖ stays at most this fraction of ‖w*‖ and ‖w − w*‖ at least 1 minus it (every seed)
NEAR_ZERO = 0.3
#: a bug is "not a failure" only when the final excess loss with it (no seed diverged) is
#: at most this fraction of the zero vector's
NOT_FAILED = 0.01
#: with the step assigned, the learning rate "hardly matters" only when, for RMSprop and for
#: Adam, the final excess losses at the swept learning rates (two decades) differ by at most
#: this fraction of the smallest
LR_SPREAD = 0.1


def _key(optimizer: str, variant: str) -> str:
    """The dynamics of ``variant`` for ``optimizer``: the bugs its function has that change
    the trajectory (variants with the same dynamics share one run)."""
    bugs = sorted(set(VARIANT_BUGS[variant]) & set(hf.bugs_of(optimizer)) - {"returns_initial"})
    return f"{optimizer}:{'+'.join(bugs) or 'correct'}"


def _optimizers(n: int, with_sweep: bool) -> dict:
    txs = {}
    for optimizer in OPTIMIZERS:
        for variant in VARIANTS:
            key = _key(optimizer, variant)
            if key not in txs:
                bugs = key.split(":")[1].split("+") if not key.endswith(":correct") else ()
                txs[key] = hf.notebook_optimizer(optimizer, bugs=bugs, n=n, batch_size=BATCH_SIZE)
        if with_sweep and optimizer != "momentum":
            for lr in SWEEP_LRS:
                txs[f"{optimizer}:assign_step@{lr:g}"] = hf.notebook_optimizer(
                    optimizer, bugs=["assign_step"], learning_rate=lr
                )
    return txs


def _simulate(prob, txs: dict, seeds, steps: int):
    """``{key: trajectories (n_seeds, steps+1, d)}`` and ``{key: diverged (n_seeds,)}``."""
    names = list(txs)
    combined, tx = side_by_side(prob, names), parallel(txs)
    runs = []
    for seed in seeds:
        trace = jh.run(
            combined, tx, steps=steps, batch_size=BATCH_SIZE, seed=int(seed), record_params=True
        )
        if bool(trace.diverged):
            break
        runs.append(trace.params)
    else:
        trajectories = {k: np.stack([np.asarray(r[k], np.float64) for r in runs]) for k in names}
        return trajectories, {k: np.zeros(len(runs), bool) for k in names}
    # one copy blew up and froze them all: one run per variant, each with its own guard
    trajectories, diverged = {}, {}
    for k in names:
        traces = [
            jh.run(
                prob, txs[k], steps=steps, batch_size=BATCH_SIZE, seed=int(s), record_params=True
            )
            for s in seeds
        ]
        trajectories[k] = np.stack([np.asarray(t.params, np.float64) for t in traces])
        diverged[k] = np.array([bool(t.diverged) for t in traces])
    return trajectories, diverged


def _steps_to_drop(curves: np.ndarray) -> np.ndarray:
    """Per seed, the first step at which the excess loss is within ``1 - DROP`` of the way
    from its initial to its final value (``|e_t − e_T| ≤ (1−DROP)·|e_0 − e_T|``)."""
    final, initial = curves[:, -1:], curves[:, :1]
    close = np.abs(curves - final) <= (1 - DROP) * np.abs(initial - final)
    # the first step from which the curve stays close
    stays = np.flip(np.cumprod(np.flip(close, axis=1), axis=1), axis=1).astype(bool)
    return np.argmax(stays, axis=1).astype(float)


def _mae(prob, params) -> np.ndarray:
    """The notebook's error, the mean absolute error ``mean|Xw − y|``, over all rows."""
    X = np.asarray(prob.X, np.float64)
    y = np.asarray(prob.y, np.float64)
    return np.mean(np.abs(np.atleast_2d(params) @ X.T - y), axis=-1)


def _measure(size: str, seeds, steps: int, with_sweep: bool) -> dict:
    prob = jh.homework_problem(size)
    txs = _optimizers(prob.n, with_sweep)
    trajectories, diverged = _simulate(prob, txs, seeds, steps)
    curves = {k: excess_loss(prob, t) for k, t in trajectories.items()}  # (n_seeds, steps+1)
    d = prob.X.shape[1]
    w_star = np.asarray(prob.aux["w_star"], np.float64)
    return {
        "prob": prob,
        "trajectories": trajectories,
        "curves": curves,
        "diverged": diverged,
        "w_star": w_star,
        "zero_excess": float(excess_loss(prob, np.zeros(d))),
        "mae_zero": float(_mae(prob, np.zeros(d))[0]),
        "mae_opt": float(_mae(prob, w_star)[0]),
    }


def _values(run: dict, optimizer: str, variant: str) -> tuple:
    """Per seed: the final excess loss (what each variant reports), the steps to the drop,
    the excess loss after ``EARLY_STEP`` steps over the final one, and divergence."""
    key = _key(optimizer, variant)
    curves, diverged = run["curves"][key], run["diverged"][key]
    if variant == "returns_initial":
        nan = np.full(len(curves), np.nan)
        return curves[:, 0], nan, nan, np.zeros(len(curves), bool)
    final = np.where(diverged, np.inf, curves[:, -1])
    return final, _steps_to_drop(curves), curves[:, EARLY_STEP] / curves[:, -1], diverged


def _distances(trajectories: np.ndarray, w_star: np.ndarray) -> dict:
    """After the first step, over every seed and step: the largest ``‖w‖`` and the smallest
    ``‖w − w*‖``, both over ``‖w*‖`` (the zero vector's distance to the optimum)."""
    after = np.asarray(trajectories, np.float64)[:, 1:]
    scale = float(np.linalg.norm(w_star))
    return {
        "max_norm_ratio": float(np.max(np.linalg.norm(after, axis=-1))) / scale,
        "min_dist_ratio": float(np.min(np.linalg.norm(after - w_star, axis=-1))) / scale,
    }


def _near_zero(facts: dict, prefix: str) -> bool:
    """Whether the weights of ``prefix`` (``"{size}.{optimizer}.{variant}"``) stayed next to 0
    and away from the optimum after the first step (see :data:`NEAR_ZERO`)."""
    near = facts["near_zero"]
    norm, dist = (
        facts.get(prefix + ".max_norm_ratio", math.inf),
        facts.get(prefix + ".min_dist_ratio", 0.0),
    )
    return norm <= near and dist >= 1 - near


def _contour_caption(facts: dict) -> str:
    """The small problem's trajectory figure: "as written … jump to near 0 and stay there"
    only when :func:`_near_zero` holds for both RMSprop and Adam as written."""
    norm = max(
        facts["small.rmsprop.notebook.max_norm_ratio"], facts["small.adam.notebook.max_norm_ratio"]
    )
    if _near_zero(facts, "small.rmsprop.notebook") and _near_zero(facts, "small.adam.notebook"):
        return (
            f"Small problem: Adam and RMSprop as written jump to near 0 and stay there (after the first step "
            f"‖w‖ ≤ {fmt(norm)}‖w*‖, every seed)."
        )
    return (
        f"Small problem: Adam and RMSprop, correct and as written (first seed); as written, ‖w‖ reaches "
        f"{fmt(norm)}‖w*‖ after the first step."
    )


def _cell(facts: dict, prefix: str) -> str:
    diverged = facts.get(prefix + ".diverged", 0)
    if diverged == facts["n_seeds"]:
        return f"diverged ({fmt(diverged)} of {fmt(facts['n_seeds'])} seeds)"
    if prefix + ".gm" in facts:
        text = metrics.log_interval_text(
            facts[prefix + ".gm"], facts[prefix + ".gm_low"], facts[prefix + ".gm_high"]
        )
    else:
        text = f"{fmt(facts[prefix + '.mean'])} ± {fmt(facts[prefix + '.half'])}"
    if diverged:
        text += f" ({fmt(diverged)} of {fmt(facts['n_seeds'])} seeds diverged)"
    return text


def _figure(run: dict, steps: int, path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15.0, 4.4), layout="constrained")
    axes = fig.subplots(1, len(OPTIMIZERS))
    x = np.arange(steps + 1)
    for ax, optimizer in zip(axes, OPTIMIZERS):
        shared = {}  # dynamics -> the variants that have them (Momentum as written = bug 4)
        for variant in VARIANTS:
            if variant == "returns_initial" or (
                variant != "correct"
                and variant != "notebook"
                and variant not in hf.bugs_of(optimizer)
            ):
                continue
            shared.setdefault(_key(optimizer, variant), []).append(variant)
        curves, styles = {}, []
        for key, variants in shared.items():
            label = " = ".join(FIGURE_LABELS[variant] for variant in variants)
            curves[label] = np.where(run["diverged"][key][:, None], np.nan, run["curves"][key])
            styles.append(LINE_STYLES[variants[0]])
        initial = run["curves"][_key(optimizer, "correct")][:, :1]
        curves[FIGURE_LABELS["returns_initial"]] = np.repeat(initial, steps + 1, axis=1)
        styles.append(LINE_STYLES["returns_initial"])
        plots.convergence(
            curves, x, ax=ax, title=f"{LABELS[optimizer]}", ylabel="excess loss f(w) − f*"
        )
        for line, (style, width) in zip(ax.get_lines(), styles):  # identical curves stay visible
            line.set_linestyle(style)
            line.set_linewidth(width)
        ax.axhline(run["zero_excess"], color="black", linestyle=":", linewidth=1.0)
        ax.annotate("w = 0", (x[-1], run["zero_excess"]), ha="right", va="bottom", fontsize=8)
        ax.legend(fontsize=7, loc="lower left", framealpha=0.85)
    plots.save_figure(fig, path)


def _contour_figure(run: dict, path) -> None:
    """The small (2-D) problem: trajectories of the correct and the written Adam and
    RMSprop, first seed."""
    trajectories = {}
    for optimizer in ("adam", "rmsprop"):
        for variant in ("correct", "notebook"):
            label = f"{LABELS[optimizer]} ({'correct' if variant == 'correct' else 'as written'})"
            trajectories[label] = run["trajectories"][_key(optimizer, variant)][0]
    plots.contour_trajectories(
        run["prob"], trajectories, path=path, title="Small problem: correct vs as written"
    )


def _setup_facts(seeds) -> dict:
    """The facts every problem shares: the notebook's settings, the bugs' numbers, the lr sweep."""
    hyper = hf.NOTEBOOK_HYPERPARAMETERS
    facts: dict = {
        "steps": STEPS,
        "batch_size": BATCH_SIZE,
        "n_seeds": len(seeds),
        "confidence": CONFIDENCE,
        "drop_percent": int(round(100 * DROP)),
        "early_step": EARLY_STEP,
        "learning_rate": hyper["adam"]["learning_rate"],
        "beta": hyper["momentum"]["beta"],
        "b2": hyper["adam"]["b2"],
        "assign_bound": hyper["rmsprop"]["learning_rate"]
        / math.sqrt(1 - hyper["rmsprop"]["decay"]),
        "bias_factor": math.sqrt(1 - hyper["adam"]["b2"]) / (1 - hyper["adam"]["b1"]),
        "near_zero": NEAR_ZERO,
        "not_failed": NOT_FAILED,
        "lr_spread_percent": 100 * LR_SPREAD,
    }
    for bug, number in BUG_NUMBER.items():
        facts[f"bug.{bug}"] = number
    for i, lr in enumerate(SWEEP_LRS, start=1):
        facts[f"sweep_lr.{i}"] = lr
    for size, (n, d) in HOMEWORK_SIZES.items():
        facts[f"{size}.grad_scale"] = BATCH_SIZE / n
    return facts


def _size_facts(facts: dict, size: str, measured: dict) -> None:
    """Adds the facts of ``size``'s runs (``measured``: :func:`_measure`'s) to ``facts``."""
    n, d = HOMEWORK_SIZES[size]
    facts[f"{size}.n"], facts[f"{size}.d"] = n, d
    facts[f"{size}.zero_excess"] = measured["zero_excess"]
    facts[f"{size}.mae_zero"] = measured["mae_zero"]
    facts[f"{size}.mae_opt"] = measured["mae_opt"]
    finals = {}
    for optimizer in OPTIMIZERS:
        for variant in VARIANTS:
            final, to_drop, early, diverged = _values(measured, optimizer, variant)
            finals[optimizer, variant] = final
            interval = metrics.mean_interval(final)
            prefix = f"{size}.{optimizer}.{variant}"
            every_seed_diverged = bool(diverged.all())  # no finite value: the loss "is" infinite
            facts[prefix + ".mean"] = math.inf if every_seed_diverged else float(interval.mean)
            facts[prefix + ".half"] = (
                math.inf if every_seed_diverged else float(interval.half_width)
            )
            if (
                not every_seed_diverged
            ):  # the geometric mean and its interval: positive, as the loss is
                geometric = metrics.log_interval(final)
                facts[prefix + ".gm"], facts[prefix + ".gm_low"] = (
                    float(geometric.center),
                    float(geometric.low),
                )
                facts[prefix + ".gm_high"] = float(geometric.high)
            facts[prefix + ".diverged"] = int(diverged.sum())
            if variant != "returns_initial":  # medians over the seeds that did not diverge
                ok = ~diverged
                facts[prefix + ".steps_to_drop"] = (
                    float(np.median(to_drop[ok])) if ok.any() else math.inf
                )
                facts[prefix + ".early_over_final"] = (
                    float(np.median(early[ok])) if ok.any() else math.nan
                )
        for variant in ("correct", "notebook"):
            final_w = measured["trajectories"][_key(optimizer, variant)][:, -1]
            facts[f"{size}.{optimizer}.{variant}.mae"] = float(
                np.mean(_mae(measured["prob"], final_w))
            )
    # differences claimed below only when paired over the seeds they are separated at 95%
    shrunk = metrics.paired_ratio(finals["momentum", "correct"], finals["momentum", "grad_over_n"])
    facts[f"{size}.momentum.grad_over_n.lower_separated"] = int(
        shrunk.low > 1.0
    )  # the bug's run ends lower
    first, second = sorted(OPTIMIZERS, key=lambda o: facts[f"{size}.{o}.correct.mean"])[:2]
    facts[f"{size}.correct_top_separated"] = int(
        metrics.paired_ratio(finals[second, "correct"], finals[first, "correct"]).low > 1.0
    )
    for optimizer in ("rmsprop", "adam"):
        trajectory = measured["trajectories"][_key(optimizer, "assign_step")]
        facts[f"{size}.{optimizer}.assign_step.max_abs_w"] = float(
            np.max(np.abs(trajectory[:, 1:]))
        )
        for variant in ("assign_step", "notebook"):
            distances = _distances(
                measured["trajectories"][_key(optimizer, variant)], measured["w_star"]
            )
            for what, value in distances.items():
                facts[f"{size}.{optimizer}.{variant}.{what}"] = value
    facts[f"{size}.initial_excess"] = facts[f"{size}.momentum.returns_initial.mean"]
    if size == MAIN:
        for optimizer in ("rmsprop", "adam"):
            for i, lr in enumerate(SWEEP_LRS, start=1):
                final = measured["curves"][f"{optimizer}:assign_step@{lr:g}"][:, -1]
                facts[f"{size}.{optimizer}.assign_step.lr{i}.mean"] = float(np.mean(final))


def _finals_table(facts: dict, size: str) -> str:
    """Final excess loss of every variant on ``size``, and the zero vector's."""
    n, d = HOMEWORK_SIZES[size]
    header = "| variant | " + " | ".join(LABELS[o] for o in OPTIMIZERS) + " |"
    rows = [
        f"Final excess loss on the {size} problem (n = {n}, d = {d}), geometric mean and {CONFIDENCE}% interval over "
        f"{facts['n_seeds']} seeds.",
        "",
        header,
        "|" + " --- |" * (len(OPTIMIZERS) + 1),
    ]
    for variant in VARIANTS:
        cells = []
        for optimizer in OPTIMIZERS:
            applies = variant in ("correct", "notebook") or variant in hf.bugs_of(optimizer)
            cells.append(
                _cell(facts, f"{size}.{optimizer}.{variant}") if applies else "— (no such bug)"
            )
        rows.append(f"| {VARIANT_LABELS[variant]} | " + " | ".join(cells) + " |")
    rows.append(
        "| zero vector `w = 0` | "
        + " | ".join(fmt(facts[f"{size}.zero_excess"]) for _ in OPTIMIZERS)
        + " |"
    )
    return "\n".join(rows)


def _steps_table(facts: dict) -> str:
    """Median steps to cover ``DROP`` of the drop, every variant on the main problem."""
    rows = [
        f"Steps until the excess loss has covered {int(round(100 * DROP))}% of its drop from the initial to the final "
        f"value ({MAIN} problem, median over seeds).",
        "",
        "| variant | " + " | ".join(LABELS[o] for o in OPTIMIZERS) + " |",
        "|" + " --- |" * (len(OPTIMIZERS) + 1),
    ]
    for variant in VARIANTS:
        if variant == "returns_initial":
            continue
        cells = []
        for optimizer in OPTIMIZERS:
            applies = variant in ("correct", "notebook") or variant in hf.bugs_of(optimizer)
            cells.append(
                fmt(facts[f"{MAIN}.{optimizer}.{variant}.steps_to_drop"]) if applies else "—"
            )
        rows.append(f"| {VARIANT_LABELS[variant]} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _text(facts: dict, sizes) -> str:
    f = {k: fmt(v) for k, v in facts.items()}
    return (
        f"The notebook's comparison re-run on the homework problem '{MAIN}' (n = {f[MAIN + '.n']}, "
        f"d = {f[MAIN + '.d']})"
        + ("" if len(sizes) == 1 else " and the others")
        + f": Momentum, RMSprop and Adam at the notebook's hyperparameters as far as its truncated calls show "
        f"(learning rate {f['learning_rate']}, "
        f"β = γ = β1 = {f['beta']}, β2 = {f['b2']}, ε inside the square root), batch {f['batch_size']}, "
        f"{f['steps']} steps, {f['n_seeds']} seeds, with all bugs off, each bug alone, and bugs "
        f"{f['bug.assign_step']}, {f['bug.bias_1_minus_beta']} and {f['bug.grad_over_n']} together (what the "
        f"notebook's curves show; bug {f['bug.returns_initial']} changes only the returned weights). Entries are "
        f"the final excess loss `f(w) − f*` of the full data, mean ± {f['confidence']}% interval over seeds. Every "
        f"variant of a seed starts at the same point and sees the same batches."
    )


def _figures(runs: dict, facts: dict, settings: Settings) -> list:
    """Draws the convergence figure (and, with the small problem, its trajectories); ``[(name, caption)]``."""
    curves_name = f"{NAME}_convergence.png"
    _figure(runs[MAIN], facts["steps"], settings.figure_path(curves_name))
    figures = [
        (
            curves_name,
            f"Excess loss per step on the {MAIN} problem: correct vs each bug (mean over seeds, "
            f"95% band); dotted: the zero vector.",
        )
    ]
    if "small" in runs:
        contour_name = f"{NAME}_trajectories_small.png"
        _contour_figure(runs["small"], settings.figure_path(contour_name))
        figures.append((contour_name, _contour_caption(facts)))
    return figures


def run(settings: Settings) -> StudyResult:
    sizes = SIZES_QUICK if settings.quick else SIZES_FULL
    seeds = tuple(int(s) for s in settings.seeds)
    steps = STEPS
    facts = _setup_facts(seeds)
    runs = {}
    for size in sizes:
        runs[size] = _measure(size, seeds, steps, with_sweep=size == MAIN)
        _size_facts(facts, size, runs[size])
    tables = [_finals_table(facts, size) for size in sizes] + [_steps_table(facts)]
    conclusions = _conclusions(facts, sizes)
    text = _text(facts, sizes)
    figures = _figures(runs, facts, settings)
    data = {
        "sizes": list(sizes),
        "seeds": list(seeds),
        "curves": {
            f"{size}.{key}": np.mean(
                np.where(runs[size]["diverged"][key][:, None], np.nan, c), axis=0
            )[:: max(1, steps // 200)].tolist()
            for size in sizes
            for key, c in runs[size]["curves"].items()
        },
    }
    # NaN facts (a ratio over seeds that all diverged) would not survive a JSON round trip equal
    facts = {k: v for k, v in facts.items() if not (isinstance(v, float) and math.isnan(v))}
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


def _interval(facts: dict, prefix: str) -> str:
    """A final excess loss over seeds: the geometric mean with its 95% interval, or the mean
    ± half-width where no seed gives a finite positive value (every seed diverged)."""
    if prefix + ".gm" not in facts:
        return f"{fmt(facts[prefix + '.mean'])} ± {fmt(facts[prefix + '.half'])}"
    return (
        f"{fmt(facts[prefix + '.gm'])} ({fmt(facts['confidence'])}% {fmt(facts[prefix + '.gm_low'])}–"
        f"{fmt(facts[prefix + '.gm_high'])})"
    )


def _bias_verdict(facts: dict) -> str:
    """Whether bug 2 moves Adam's final excess loss: overlapping 95% intervals (geometric
    where recorded), lower or higher."""
    a = f"{MAIN}.adam"
    correct, bias = facts[a + ".correct.mean"], facts[a + ".bias_1_minus_beta.mean"]
    if a + ".correct.gm" in facts and a + ".bias_1_minus_beta.gm" in facts:
        correct, bias = facts[a + ".correct.gm"], facts[a + ".bias_1_minus_beta.gm"]
        overlap = (
            facts[a + ".bias_1_minus_beta.gm_low"] <= facts[a + ".correct.gm_high"]
            and facts[a + ".correct.gm_low"] <= facts[a + ".bias_1_minus_beta.gm_high"]
        )
    else:
        overlap = (
            abs(correct - bias) <= facts[a + ".correct.half"] + facts[a + ".bias_1_minus_beta.half"]
        )
    if overlap:
        return "the two intervals overlap"
    if bias < correct:
        return "lower, because the smaller late steps average out more of the minibatch noise"
    return "higher"


def _bias_conclusion(facts: dict, verdict: str) -> str:
    """Bug 2 on the main problem. "A smaller learning rate rather than a failure" only when
    the bias factor is below 1 and the final excess loss with the bug (no seed diverged) is
    at most ``facts["not_failed"]`` times the zero vector's; "none of the notebook's
    conclusions rests on it" only when Adam's weights stay next to 0 (:func:`_near_zero`)
    with bug 1 on, with either correction."""
    f = {k: fmt(val) for k, val in facts.items()}
    m = MAIN
    a = f"{m}.adam"
    smaller = facts["bias_factor"] < 1
    bias, zero = facts[f"{a}.bias_1_minus_beta.mean"], facts[f"{m}.zero_excess"]
    converged = not facts[f"{a}.bias_1_minus_beta.diverged"] and bias <= facts["not_failed"] * zero
    sentence = (
        f"The `1-beta` bias correction (bug {f['bug.bias_1_minus_beta']}) alone takes Adam's final excess loss from "
        f"{_interval(facts, a + '.correct')} to {_interval(facts, a + '.bias_1_minus_beta')} ({verdict}): once `t` is large it multiplies Adam's step by "
        f"`sqrt(1-beta2)/(1-beta1)` = {f['bias_factor']}, a {'smaller' if smaller else 'larger'} learning rate"
        + (
            " rather than a failure. "
            if smaller and converged
            else f", with which Adam ends at {f[a + '.bias_1_minus_beta.mean']} against the zero vector's "
            f"{f[m + '.zero_excess']}. "
        )
    )
    norms = (
        f"{f[a + '.assign_step.max_norm_ratio']}‖w*‖ with the `1-beta**t` correction and "
        f"{f[a + '.notebook.max_norm_ratio']}‖w*‖ with `1-beta`, as written"
    )
    if _near_zero(facts, f"{a}.assign_step") and _near_zero(facts, f"{a}.notebook"):
        return sentence + (
            f"None of the notebook's conclusions rests on it: with bug {f['bug.assign_step']} also on, "
            f"Adam's weights stay next to 0 whatever the correction (‖w‖ ≤ {norms})."
        )
    return sentence + f"With bug {f['bug.assign_step']} also on, Adam's ‖w‖ reaches {norms}."


def _lr_conclusion(facts: dict) -> str:
    """The sentence on the learning rate with the step assigned: it "hardly matters" only
    when, for RMSprop and for Adam, the final excess losses at the swept learning rates differ
    by at most ``facts["lr_spread_percent"]``% of the smallest. Adds the derived facts it
    states (the spread, and the largest distance from the zero vector's excess loss)."""
    m = MAIN
    zero = facts[f"{m}.zero_excess"]
    finals = {
        o: [facts[f"{m}.{o}.assign_step.mean"]]
        + [facts[f"{m}.{o}.assign_step.lr{i}.mean"] for i in (1, 2)]
        for o in ("rmsprop", "adam")
    }
    facts[f"{m}.assign_step.sweep_max_percent_from_zero"] = (
        max(abs(x / zero - 1) for values in finals.values() for x in values) * 100
    )
    facts[f"{m}.assign_step.lr_spread_max_percent"] = max(
        (max(values) / min(values) - 1) * 100 for values in finals.values()
    )
    f = {k: fmt(v) for k, v in facts.items()}
    rmsprop, adam = (f"{fmt(a)}, {fmt(b)} and {fmt(c)}" for a, b, c in finals.values())
    ends = (
        f"at learning rates {f['learning_rate']}, {f['sweep_lr.1']} and {f['sweep_lr.2']} RMSprop ends at "
        f"{rmsprop} and Adam at {adam}, all within {f[m + '.assign_step.sweep_max_percent_from_zero']}% of the "
        f"zero vector's {f[m + '.zero_excess']}."
    )
    if facts[f"{m}.assign_step.lr_spread_max_percent"] <= facts["lr_spread_percent"]:
        return (
            f"With the step assigned the learning rate hardly matters: {ends} The notebook's learning-rate and β "
            f"comparisons for RMSprop and Adam rank curves of this kind."
        )
    return (
        f"With the step assigned the learning rate still moves the final excess loss, by up to "
        f"{f[m + '.assign_step.lr_spread_max_percent']}% (more than {f['lr_spread_percent']}%): {ends}"
    )


def _formatted(facts: dict) -> tuple:
    """``(f, g, v)``: the formatted facts, and a formatted and a raw getter of
    ``{MAIN}.{optimizer}.{variant}.{what}``."""
    f = {k: fmt(v) for k, v in facts.items()}
    return (
        f,
        lambda optimizer, variant, what="mean": f[f"{MAIN}.{optimizer}.{variant}.{what}"],
        lambda optimizer, variant, what="mean": facts[f"{MAIN}.{optimizer}.{variant}.{what}"],
    )


def _assign_conclusions(facts: dict) -> list:
    """Bug 1's two sentences: where the weights go with the step assigned, and how its curve
    looks ("flat at once" only when both adaptive methods stay next to 0 and their curves are
    flat after ``EARLY_STEP`` steps while the correct Adam's is not). Adds the derived facts
    it states."""
    f, g, v = _formatted(facts)
    m = MAIN

    def derived(key, value):  # a number computed here, stated below: a fact too
        facts[key] = value
        f[key] = fmt(value)
        return f[key]

    out = []
    max_w = derived(
        f"{m}.assign_step.max_abs_w",
        max(facts[f"{m}.rmsprop.assign_step.max_abs_w"], facts[f"{m}.adam.assign_step.max_abs_w"]),
    )
    adaptive = ("rmsprop", "adam")
    norm = derived(
        f"{m}.assign_step.max_norm_ratio",
        max(v(o, "assign_step", "max_norm_ratio") for o in adaptive),
    )
    dist = derived(
        f"{m}.assign_step.min_dist_ratio",
        min(v(o, "assign_step", "min_dist_ratio") for o in adaptive),
    )
    stuck = _near_zero(facts, f"{m}.rmsprop.assign_step") and _near_zero(
        facts, f"{m}.adam.assign_step"
    )
    out.append(
        f"With the step assigned instead of subtracted (bug {f['bug.assign_step']}), RMSprop's final excess loss is "
        f"{g('rmsprop', 'assign_step')} and Adam's {g('adam', 'assign_step')}, against {g('rmsprop', 'correct')} and "
        f"{g('adam', 'correct')} when the step is subtracted and {f[m + '.zero_excess']} at the zero vector: after the "
        f"first step no weight exceeds {max_w} in absolute value (for RMSprop `|w| ≤ α/sqrt(1-γ)` = "
        f"{f['assign_bound']})"
        + (
            f", so the weights stay next to 0 and never approach the optimum (‖w‖ ≤ {norm}‖w*‖ and "
            f"‖w − w*‖ ≥ {dist}‖w*‖ throughout, every seed). "
            if stuck
            else f"; ‖w‖ reaches {norm}‖w*‖ and ‖w − w*‖ falls to {dist}‖w*‖. "
        )
        + f"In the notebook's own error (mean absolute error) the written Adam ends at {g('adam', 'notebook', 'mae')}, "
        f"the zero vector's is {f[m + '.mae_zero']} and the optimum's {f[m + '.mae_opt']}."
    )
    flat = max(
        v("adam", "assign_step", "early_over_final"),
        v("rmsprop", "assign_step", "early_over_final"),
    )
    if stuck and flat < 1.5 and v("adam", "correct", "early_over_final") > 10:
        out.append(
            f"Such a curve is flat at once: after {f['early_step']} steps the excess loss of the assigned-step Adam "
            f"is already {g('adam', 'assign_step', 'early_over_final')} times its final value (RMSprop: "
            f"{g('rmsprop', 'assign_step', 'early_over_final')}), that of the correct Adam "
            f"{g('adam', 'correct', 'early_over_final')} times (medians over seeds). On a plot of error against "
            f'iteration this reads as the fastest, steadiest, "non-looping" convergence — the notebook\'s verdict on '
            f"Adam — while it is the weights jumping next to 0 and staying there."
        )
    else:
        out.append(
            f"After {f['early_step']} steps the excess loss of the assigned-step Adam is "
            f"{g('adam', 'assign_step', 'early_over_final')} times its final value, that of the correct Adam "
            f"{g('adam', 'correct', 'early_over_final')} times (medians over seeds)."
        )
    return out


def _grad_over_n_conclusion(facts: dict, sizes) -> str:
    """Bug 4's sentence: Momentum's smaller step on each problem of ``sizes``; RMSprop and
    Adam divide the scale out."""
    f, g, _ = _formatted(facts)
    m = MAIN
    text = (
        f"Dividing the minibatch gradient by n instead of B (bug {f['bug.grad_over_n']}) multiplies it by `B/n` = "
        f"{f[m + '.grad_scale']} on this problem ({f['large.grad_scale']} on the large one). For Momentum, whose step "
        f"is proportional to the gradient, that is a learning rate `B/n` times smaller: it needs "
        f"{g('momentum', 'grad_over_n', 'steps_to_drop')} steps to cover {f['drop_percent']}% of its drop instead of "
        f"{g('momentum', 'correct', 'steps_to_drop')}, and ends at {_interval(facts, m + '.momentum.grad_over_n')} "
        f"against {_interval(facts, m + '.momentum.correct')}. "
        f"RMSprop and Adam divide the scale out (final {g('rmsprop', 'grad_over_n')} and {g('adam', 'grad_over_n')} "
        f"against {g('rmsprop', 'correct')} and {g('adam', 'correct')})."
    )
    if "small" in sizes:
        sm = lambda variant, what="mean": f[f"small.momentum.{variant}.{what}"]  # noqa: E731
        text += (
            f" On the small problem (`B/n` = {f['small.grad_scale']}) the smaller step even helps Momentum, "
            f"{sm('grad_over_n')} against {sm('correct')} (separated at {f['confidence']}%, paired over the seeds): "
            f"a smaller step averages out more of the minibatch noise."
            if facts["small.momentum.grad_over_n.lower_separated"]
            else f" On the small problem Momentum ends at {_interval(facts, 'small.momentum.grad_over_n')} with the "
            f"bug, {_interval(facts, 'small.momentum.correct')} without"
            + (
                f" (lower with the bug, but not separated at {f['confidence']}% over these seeds)."
                if facts["small.momentum.grad_over_n.mean"] < facts["small.momentum.correct.mean"]
                else "."
            )
        )
    if "large" in sizes:
        lm = lambda variant, what="mean": f[f"large.momentum.{variant}.{what}"]  # noqa: E731
        text += (
            f" On the large problem Momentum with the bug crawls from an initial excess loss of "
            f'{f["large.initial_excess"]} to {lm("grad_over_n")} — the notebook\'s "Momentum does not converge"'
        )
        if facts["large.momentum.correct.diverged"]:
            text += (
                f" — while the correctly scaled Momentum at this learning rate diverges in "
                f"{f['large.momentum.correct.diverged']} of {f['n_seeds']} seeds: that learning rate was only "
                f"usable because the bug shrank the gradient."
            )
        else:
            text += f" — while the correctly scaled Momentum ends at {lm('correct')}."
    else:
        text += (
            f" The notebook's verdict that Momentum does not converge on the large problem fits this bug: there "
            f"the gradient is scaled down a further {fmt(facts[m + '.grad_scale'] / facts['large.grad_scale'])} times."
        )
    facts["grad_scale.medium_over_large"] = facts[m + ".grad_scale"] / facts["large.grad_scale"]
    return text


def _ranking_conclusion(facts: dict) -> str:
    """The final excess losses ranked, correct and as written, and what that says of the
    notebook's verdict on Adam."""
    f, g, v = _formatted(facts)
    m = MAIN
    ranked = lambda variant: sorted(OPTIMIZERS, key=lambda o: v(o, variant))  # noqa: E731
    right, written = ranked("correct"), ranked("notebook")
    listing = lambda order, variant: ", ".join(f"{LABELS[o]} {g(o, variant)}" for o in order)  # noqa: E731
    sentence = (
        f"Correctly implemented, the final excess losses rank {listing(right, 'correct')}; as written (bugs "
        f"{f['bug.assign_step']}, {f['bug.bias_1_minus_beta']} and {f['bug.grad_over_n']}) they rank "
        f"{listing(written, 'notebook')}."
    )
    stuck = [o for o in OPTIMIZERS if v(o, "notebook") >= 0.5 * facts[f"{m}.zero_excess"]]
    if right[0] == "adam" and written[0] != "adam" and set(stuck) == {"rmsprop", "adam"}:
        sentence += (
            (
                " So Adam is indeed the best of the three at these settings (separated from the next at "
                f"{f['confidence']}%, paired over the seeds), but the notebook's code cannot show it"
                if facts[f"{m}.correct_top_separated"]
                else " Adam ends lowest of the three at these settings, though not separated from the next at "
                f"{f['confidence']}% over these seeds; the notebook's code cannot show even that"
            )
            + f": as written, RMSprop and Adam stay at the zero vector's level and only {LABELS[written[0]]} "
            "approaches the optimum."
        )
    return sentence


def _conclusions(facts: dict, sizes) -> list:
    f, _, v = _formatted(facts)
    m = MAIN
    out = _assign_conclusions(facts)
    out.append(_lr_conclusion(facts))
    # bug 2
    out.append(_bias_conclusion(facts, _bias_verdict(facts)))
    # bug 3
    out.append(
        f"Returning the initial weights (bug {f['bug.returns_initial']}) reports an excess loss of "
        f"{f[m + '.initial_excess']} (the starting point's) for every optimizer. The notebook never uses the returned "
        f"weights — its plots read `w_history` and the error history — so none of its conclusions depends on this "
        f"bug. A related quirk: Momentum's `w_history[0]` is the array that `w_cur -= alpha * v` keeps updating in "
        f"place, so its trajectory plots start at the final point."
    )
    out.append(_grad_over_n_conclusion(facts, sizes))
    out.append(_ranking_conclusion(facts))
    return out
