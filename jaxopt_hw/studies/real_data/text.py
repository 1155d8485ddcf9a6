"""The real-data study's words: a setup paragraph, one sentence per conclusion (each
branching on the facts), the long-form details, the tables and the figure."""

from __future__ import annotations

import numpy as np

from jaxopt_hw import metrics, plots
from jaxopt_hw.studies import fmt, formatted
from jaxopt_hw.studies.real_data.datasets import INSTALL, SPECS
from jaxopt_hw.studies.real_data.derived import RESOLUTION, problem_keys, ranking
from jaxopt_hw.studies.real_data.runs import METHODS, OPTIMIZERS

__all__ = [
    "setup_text",
    "skipped_text",
    "ranking_conclusion",
    "separation_conclusion",
    "test_conclusion",
    "gd_conclusion",
    "speed_conclusion",
    "details",
    "table",
    "detail_table",
    "figure",
]

LABELS = {"sgd": "SGD", "momentum": "Momentum", "rmsprop": "RMSprop", "adam": "Adam", "gd": "GD"}
NAMES = {spec.key: spec.label for spec in SPECS}
MODELS = {spec.key: spec.model for spec in SPECS}


def _some(facts: dict, key: str) -> str:
    """``"2 of the 4 data sets"``: ``facts[key]`` of the data sets."""
    f = formatted(facts)
    return f"{f[key]} of the {f['n_problems']} data sets"


def skipped_text() -> str:
    """The section's one line where scikit-learn is not installed."""
    return f"Skipped: this section needs scikit-learn, an optional extra (`{INSTALL}`)."


def _data_set(f: dict, p: str) -> str:
    """``"breast cancer (logistic, l2 = 0.001, 455 × 30)"``: rows × features."""
    extra = f", l2 = {f[p + '_l2']}" if f"{p}_l2" in f else ""
    extra += f", {f[p + '_hidden']} hidden units" if f"{p}_hidden" in f else ""
    return f"{NAMES[p]} ({MODELS[p]}{extra}, {f[p + '_n_train']} × {f[p + '_features']})"


def setup_text(facts: dict) -> str:
    """What was run: the data sets, the lr grids, the seeds and the split."""
    f = formatted(facts)
    sets = ", ".join(_data_set(f, p) for p in problem_keys(facts))
    return (
        f"scikit-learn's data sets (training rows × features): {sets}, with {f['test_pct']}% of "
        f"the rows held out. SGD, Momentum (β = {f['momentum_beta']}), RMSprop, Adam (batch "
        f"{f['batch_size']}) and full-batch GD each take the lr ({f['n_lrs']} values, "
        f"{f['lr_min']}–{f['lr_max']}; GD the top {f['n_gd_lrs']}) with the lowest mean final loss "
        f"over {f['n_tuning']} tuning seeds and are scored on {f['n_holdout']} held-out seeds."
    )


def ranking_conclusion(facts: dict) -> str:
    """Which method ends lowest on each data set, and whether one method leads on all."""
    keys = problem_keys(facts)
    leaders = [ranking(facts, p)[0] for p in keys]
    listed = ", ".join(f"{LABELS[o]} on {NAMES[p]}" for o, p in zip(leaders, keys))
    if len(keys) == 1:
        tail = ""
    elif facts["top_leads"] == facts["n_problems"]:
        tail = ": one method leads on every data set"
    else:
        top = max(OPTIMIZERS, key=leaders.count)
        tail = (
            f": the leader changes with the data set ({LABELS[top]} on {_some(facts, 'top_leads')})"
        )
    return f"Lowest final loss on held-out seeds: {listed}{tail}."


def separation_conclusion(facts: dict) -> str:
    """On how many data sets the held-out seeds separate the leader from the runner-up."""
    how = f"(a paired ratio over seeds, its {fmt(facts['ci_level'])}% interval clear of one)"
    if facts["separated_count"] == 0:
        return (
            "On no data set do the held-out seeds separate the leader from the runner-up: the top "
            "of the ranking is within the spread over seeds."
        )
    if facts["separated_count"] == facts["n_problems"]:
        return f"The held-out seeds separate the leader from the runner-up on every data set {how}."
    return (
        "The held-out seeds separate the leader from the runner-up on "
        f"{_some(facts, 'separated_count')} {how}."
    )


def test_conclusion(facts: dict) -> str:
    """Whether the method with the lowest training loss also has the lowest held-out loss."""
    lead = "On the held-out rows the training leader"
    if facts["test_agrees"] == facts["n_problems"]:
        return f"{lead} also has the lowest test loss, on every data set."
    if facts["test_agrees"] == 0:
        return (
            f"{lead} never has the lowest test loss: here a lower training loss does not buy a "
            "lower test loss."
        )
    return (
        f"{lead} also has the lowest test loss on {_some(facts, 'test_agrees')}: a lower training "
        "loss does not always buy a lower test loss."
    )


def gd_conclusion(facts: dict) -> str:
    """Whether full-batch GD, with the same number of steps, ends below the leader."""
    f = formatted(facts)
    lead, cost = (
        "Full-batch GD, tuned the same way,",
        f"each of its steps reads every row (the others {f['batch_size']})",
    )
    if facts["gd_below"] == 0:
        return f"{lead} ends above the leader on every data set, though {cost}."
    where = (
        "every data set" if facts["gd_below"] == facts["n_problems"] else _some(facts, "gd_below")
    )
    return f"{lead} ends below the leader on {where}: no minibatch noise floor, but {cost}."


def _fastest(facts: dict, p: str):
    """The minibatch method with the fewest steps to the tolerance on ``p``, or ``None``."""
    timed = [o for o in OPTIMIZERS if f"{p}_{o}_steps_gm" in facts]
    return min(timed, key=lambda o: facts[f"{p}_{o}_steps_gm"]) if timed else None


def speed_conclusion(facts: dict) -> str:
    """The fastest method to the tolerance on each data set with an exact optimum (nothing
    where none has one)."""
    f = formatted(facts)
    keys = [p for p in problem_keys(facts) if f"{p}_tol" in facts]
    fastest = {p: _fastest(facts, p) for p in keys}
    within = f"within {f['tol_pct']}% of the optimum's loss on every held-out seed"
    if not keys:
        return ""
    if not any(fastest.values()):
        return f"No minibatch method gets {within} in its steps."
    parts = [
        f"{LABELS[o]} on {NAMES[p]} ({f[p + '_' + o + '_steps_gm']} steps)"
        if o
        else f"none on {NAMES[p]}"
        for p, o in fastest.items()
    ]
    return f"Fastest {within}: " + ", ".join(parts) + "."


def _gm(f: dict, key: str) -> str:
    return f"{f[key + '_gm']} ({f['ci_level']}% {f[key + '_low']}–{f[key + '_high']})"


def _problem_detail(facts: dict, p: str) -> str:
    """One data set's ranking in full: each method's final loss with its interval and lr,
    and the paired ratio of the runner-up to the leader."""
    f = formatted(facts)
    what = "final excess loss" if f"{p}_tol" in facts else "final training loss (no known optimum)"
    order = "; ".join(
        f"{LABELS[o]} {_gm(f, f'{p}_{o}_final')} at lr {f[f'{p}_{o}_lr']}"
        for o in ranking(facts, p)
    )
    leader, runner = (LABELS[o] for o in ranking(facts, p)[:2])
    verdict = "separated" if facts[f"{p}_separated"] else "not separated"
    return (
        f"{NAMES[p]}, {what}, geometric mean over the {f['n_holdout']} held-out seeds: {order}; GD "
        f"{_gm(f, f'{p}_gd_final')} at lr {f[f'{p}_gd_lr']}. Paired over the held-out seeds, "
        f"{runner} ends {f[p + '_ratio']} times {leader}'s ({f['ci_level']}% {f[p + '_ratio_low']}–"
        f"{f[p + '_ratio_high']}; higher on {f[p + '_ratio_larger']} of {f['n_holdout']} seeds): "
        f"{verdict}."
    )


def details(facts: dict) -> list:
    """The long-form sentences: each data set's ranking, the protocol and the edge picks."""
    f = formatted(facts)
    out = [_problem_detail(facts, p) for p in problem_keys(facts)]
    out.append(
        "Protocol: one compiled sweep per method and data set runs the lr grid on the tuning and "
        "the held-out seeds together (SGD is Momentum's β = 0 row); the lr is picked on the tuning "
        "seeds alone, so the held-out seeds score it without the tuning's luck. Steps to the "
        f"tolerance ({f['tol_pct']}% of the optimum's loss) are the first logged step below it; a "
        "method has a step count where every held-out seed gets there. Excess losses below "
        "float32's resolution of the optimum's loss are counted at that resolution."
    )
    edges = (
        "No tuned lr lies on the edge of its grid."
        if facts["edge_picks"] == 0
        else f"Tuned lrs on the edge of their grid: {f['edge_picks']} (a wider grid might move "
        "them)."
    )
    return out + [edges]


def _cell(facts: dict, p: str, o: str) -> str:
    """A table cell: the final loss with its interval, then the held-out accuracy or loss."""
    key = f"{p}_{o}"
    final = metrics.log_interval_text(
        facts[key + "_final_gm"], facts[key + "_final_low"], facts[key + "_final_high"]
    )
    held = (
        fmt(facts[key + "_accuracy"])
        if key + "_accuracy" in facts
        else fmt(facts[key + "_test_loss_gm"])
    )
    return f"{final} · {held}"


def table(facts: dict) -> str:
    """Methods by data sets: the final (excess) loss and the held-out accuracy (test MSE)."""
    keys = problem_keys(facts)
    head = "| method | " + " | ".join(NAMES[p] for p in keys) + " |"
    rows = [head, "|---" * (len(keys) + 1) + "|"]
    for o in METHODS:
        rows.append(f"| {LABELS[o]} | " + " | ".join(_cell(facts, p, o) for p in keys) + " |")
    return (
        "Final excess loss (the MLP: final loss), geometric mean over held-out seeds (95% "
        "interval) · held-out accuracy (diabetes: test MSE).\n\n" + "\n".join(rows)
    )


def detail_table(facts: dict) -> str:
    """Every data set and method: tuned lr, final loss, test loss, accuracy, steps."""
    rows = [
        "| data set | method | lr | final (excess) loss | test loss | accuracy | steps to tol "
        "| reached |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in problem_keys(facts):
        for o in METHODS:
            k = f"{p}_{o}"
            interval = lambda q: metrics.log_interval_text(
                facts[f"{k}_{q}_gm"], facts[f"{k}_{q}_low"], facts[f"{k}_{q}_high"]
            )
            steps = interval("steps") if f"{k}_steps_gm" in facts else "—"
            rows.append(
                f"| {NAMES[p]} | {LABELS[o]} | {fmt(facts[k + '_lr'])} | {interval('final')} | "
                f"{interval('test_loss')} | {fmt(facts.get(k + '_accuracy', float('nan')))} | "
                f"{steps} | {fmt(facts.get(k + '_reached', float('nan')))} |"
            )
    return "\n".join(rows).replace("| nan |", "| — |")


def figure(data, path) -> None:
    """One panel per data set: each method's tuned curve over the held-out seeds (the mean,
    the range over seeds as a band)."""
    from matplotlib.figure import Figure

    problems = list(data.problems.values())
    fig = Figure(figsize=(4.2 * len(problems), 3.6), layout="constrained")
    axes = fig.subplots(1, len(problems), squeeze=False)[0]
    for ax, problem in zip(axes, problems):
        floor = 0.0 if problem.min_loss is None else RESOLUTION * problem.min_loss
        curves = {
            f"{LABELS[o]} (lr {fmt(t.lr)})": np.maximum(t.curve, floor)
            for o, t in problem.methods.items()
        }
        ylabel = "loss" if problem.min_loss is None else "excess loss"
        plots.convergence(
            curves, problem.steps, ax=ax, title=problem.spec.label, ylabel=ylabel, band="minmax"
        )
        ax.legend(fontsize=6.5)
    plots.save_figure(fig, path)
