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
after the learning rate's first digit:
:data:`~jaxopt_hw.homework_faithful.NOTEBOOK_HYPERPARAMETERS`)
with all bugs off, each bug alone, and bugs 1, 2 and 4 together (what the notebook's
curves show; bug 3 changes only what is returned), over ``settings.seeds``. With the step
assigned, RMSprop and Adam also run at the notebook's other learning rates (1e-3, 1e-4).

All variants of one problem and seed run as one compiled ``jh.run`` (see
:func:`jaxopt_hw.studies.parity.side_by_side`): the same initial point, the same batches.
A run that diverges freezes every copy, so then each variant is re-run on its own.
"""

from __future__ import annotations

import math

from jaxopt_hw.studies import Settings, StudyResult, fmt, formatted
from jaxopt_hw.studies.homework_bugs.facts import facts
from jaxopt_hw.studies.homework_bugs.figures import figures
from jaxopt_hw.studies.homework_bugs.measure import (
    BUG_NUMBER,
    LABELS,
    LR_SPREAD,
    MAIN,
    NAME,
    NEAR_ZERO,
    NOT_FAILED,
    OPTIMIZERS,
    TITLE,
    Data,
    distances,
    measure,
)
from jaxopt_hw.studies.homework_bugs.tables import finals_table, protocol, steps_table

__all__ = [
    "NAME",
    "TITLE",
    "run",
    "measure",
    "facts",
    "Data",
    "distances",
    "MAIN",
    "OPTIMIZERS",
    "BUG_NUMBER",
    "NEAR_ZERO",
    "NOT_FAILED",
    "LR_SPREAD",
]


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
            "Small problem: Adam and RMSprop as written jump to near 0 and stay there (after the "
            "first step "
            f"‖w‖ ≤ {fmt(norm)}‖w*‖, every seed)."
        )
    return (
        "Small problem: Adam and RMSprop, correct and as written (first seed); as written, ‖w‖ "
        "reaches "
        f"{fmt(norm)}‖w*‖ after the first step."
    )


def _interval(facts: dict, prefix: str) -> str:
    """A final excess loss over seeds: the geometric mean with its 95% interval, or the mean
    alone where no seed gives a finite positive value (every seed diverged: ∞)."""
    if prefix + ".gm" not in facts:
        return fmt(facts[prefix + ".mean"])
    return (
        f"{fmt(facts[prefix + '.gm'])} ({fmt(facts['confidence'])}% "
        f"{fmt(facts[prefix + '.gm_low'])}–"
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
        f"The `1-beta` bias correction (bug {f['bug.bias_1_minus_beta']}) alone takes Adam's final "
        "excess loss from "
        f"{_interval(facts, a + '.correct')} to {_interval(facts, a + '.bias_1_minus_beta')} "
        f"({verdict}): once `t` is large it multiplies Adam's step by "
        f"`sqrt(1-beta2)/(1-beta1)` = {f['bias_factor']}, a {'smaller' if smaller else 'larger'} "
        "learning rate"
        + (
            " rather than a failure. "
            if smaller and converged
            else f", with which Adam ends at {f[a + '.bias_1_minus_beta.mean']} against the zero "
            f"vector's "
            f"{f[m + '.zero_excess']}. "
        )
    )
    norms = (
        f"{f[a + '.assign_step.max_norm_ratio']}‖w*‖ with the `1-beta**t` correction and "
        f"{f[a + '.notebook.max_norm_ratio']}‖w*‖ with `1-beta`, as written"
    )
    if _near_zero(facts, f"{a}.assign_step") and _near_zero(facts, f"{a}.notebook"):
        return sentence + (
            f"None of the notebook's conclusions rests on it: with bug {f['bug.assign_step']} also "
            "on, "
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
    f = formatted(facts)
    rmsprop, adam = (f"{fmt(a)}, {fmt(b)} and {fmt(c)}" for a, b, c in finals.values())
    ends = (
        f"at learning rates {f['learning_rate']}, {f['sweep_lr.1']} and {f['sweep_lr.2']} RMSprop "
        "ends at "
        f"{rmsprop} and Adam at {adam}, all within "
        f"{f[m + '.assign_step.sweep_max_percent_from_zero']}% of the "
        f"zero vector's {f[m + '.zero_excess']}."
    )
    if facts[f"{m}.assign_step.lr_spread_max_percent"] <= facts["lr_spread_percent"]:
        return (
            f"With the step assigned the learning rate hardly matters: {ends} The notebook's "
            "learning-rate and β "
            f"comparisons for RMSprop and Adam rank curves of this kind."
        )
    return (
        f"With the step assigned the learning rate still moves the final excess loss, by up to "
        f"{f[m + '.assign_step.lr_spread_max_percent']}% (more than {f['lr_spread_percent']}%): "
        f"{ends}"
    )


def _formatted(facts: dict) -> tuple:
    """``(f, g, v)``: the formatted facts, and a formatted and a raw getter of
    ``{MAIN}.{optimizer}.{variant}.{what}``."""
    f = formatted(facts)
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
        f"With the step assigned instead of subtracted (bug {f['bug.assign_step']}), RMSprop's "
        "final excess loss is "
        f"{g('rmsprop', 'assign_step')} and Adam's {g('adam', 'assign_step')}, against "
        f"{g('rmsprop', 'correct')} and "
        f"{g('adam', 'correct')} when the step is subtracted and {f[m + '.zero_excess']} at the "
        "zero vector: after the "
        f"first step no weight exceeds {max_w} in absolute value (for RMSprop `|w| ≤ α/sqrt(1-γ)` "
        "= "
        f"{f['assign_bound']})"
        + (
            f", so the weights stay next to 0 and never approach the optimum (‖w‖ ≤ {norm}‖w*‖ and "
            f"‖w − w*‖ ≥ {dist}‖w*‖ throughout, every seed). "
            if stuck
            else f"; ‖w‖ reaches {norm}‖w*‖ and ‖w − w*‖ falls to {dist}‖w*‖. "
        )
        + "In the notebook's own error (mean absolute error) the written Adam ends at "
        f"{g('adam', 'notebook', 'mae')}, "
        f"the zero vector's is {f[m + '.mae_zero']} and the optimum's {f[m + '.mae_opt']}."
    )
    flat = max(
        v("adam", "assign_step", "early_over_final"),
        v("rmsprop", "assign_step", "early_over_final"),
    )
    if stuck and flat < 1.5 and v("adam", "correct", "early_over_final") > 10:
        out.append(
            f"Such a curve is flat at once: after {f['early_step']} steps the excess loss of the "
            "assigned-step Adam "
            f"is already {g('adam', 'assign_step', 'early_over_final')} times its final value "
            "(RMSprop: "
            f"{g('rmsprop', 'assign_step', 'early_over_final')}), that of the correct Adam "
            f"{g('adam', 'correct', 'early_over_final')} times (medians over seeds). On a plot of "
            "error against "
            'iteration this reads as the fastest, steadiest, "non-looping" convergence — the '
            "notebook's verdict on "
            f"Adam — while it is the weights jumping next to 0 and staying there."
        )
    else:
        out.append(
            f"After {f['early_step']} steps the excess loss of the assigned-step Adam is "
            f"{g('adam', 'assign_step', 'early_over_final')} times its final value, that of the "
            "correct Adam "
            f"{g('adam', 'correct', 'early_over_final')} times (medians over seeds)."
        )
    return out


def _grad_over_n_conclusion(facts: dict, sizes) -> str:
    """Bug 4's sentence: Momentum's smaller step on each problem of ``sizes``; RMSprop and
    Adam divide the scale out."""
    f, g, _ = _formatted(facts)
    m = MAIN
    text = (
        f"Dividing the minibatch gradient by n instead of B (bug {f['bug.grad_over_n']}) "
        "multiplies it by `B/n` = "
        f"{f[m + '.grad_scale']} on this problem ({f['large.grad_scale']} on the large one). For "
        "Momentum, whose step "
        f"is proportional to the gradient, that is a learning rate `B/n` times smaller: it needs "
        f"{g('momentum', 'grad_over_n', 'steps_to_drop')} steps to cover {f['drop_percent']}% of "
        "its drop instead of "
        f"{g('momentum', 'correct', 'steps_to_drop')}, and ends at "
        f"{_interval(facts, m + '.momentum.grad_over_n')} "
        f"against {_interval(facts, m + '.momentum.correct')}. "
        f"RMSprop and Adam divide the scale out (final {g('rmsprop', 'grad_over_n')} and "
        f"{g('adam', 'grad_over_n')} "
        f"against {g('rmsprop', 'correct')} and {g('adam', 'correct')})."
    )
    if "small" in sizes:
        sm = lambda variant, what="mean": f[f"small.momentum.{variant}.{what}"]  # noqa: E731
        text += (
            f" On the small problem (`B/n` = {f['small.grad_scale']}) the smaller step even helps "
            "Momentum, "
            f"{sm('grad_over_n')} against {sm('correct')} (separated at {f['confidence']}%, paired "
            "over the seeds): "
            f"a smaller step averages out more of the minibatch noise."
            if facts["small.momentum.grad_over_n.lower_separated"]
            else " On the small problem Momentum ends at "
            f"{_interval(facts, 'small.momentum.grad_over_n')} with the "
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
            f"{f['large.initial_excess']} to {lm('grad_over_n')} — the notebook's "
            '"Momentum does not converge"'
        )
        if facts["large.momentum.correct.diverged"]:
            text += (
                f" — while the correctly scaled Momentum at this learning rate diverges in "
                f"{f['large.momentum.correct.diverged']} of {f['n_seeds']} seeds: that learning "
                "rate was only "
                f"usable because the bug shrank the gradient."
            )
        else:
            text += f" — while the correctly scaled Momentum ends at {lm('correct')}."
    else:
        text += (
            " The notebook's verdict that Momentum does not converge on the large problem fits "
            "this bug: there "
            "the gradient is scaled down a further "
            f"{fmt(facts[m + '.grad_scale'] / facts['large.grad_scale'])} times."
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
    listing = lambda order, variant: ", ".join(f"{LABELS[o]} {g(o, variant)}" for o in order)
    sentence = (
        f"Correctly implemented, the final excess losses rank {listing(right, 'correct')}; as "
        "written (bugs "
        f"{f['bug.assign_step']}, {f['bug.bias_1_minus_beta']} and {f['bug.grad_over_n']}) they "
        "rank "
        f"{listing(written, 'notebook')}."
    )
    stuck = [o for o in OPTIMIZERS if v(o, "notebook") >= 0.5 * facts[f"{m}.zero_excess"]]
    if right[0] == "adam" and written[0] != "adam" and set(stuck) == {"rmsprop", "adam"}:
        sentence += (
            (
                " So Adam is indeed the best of the three at these settings (separated from the "
                "next at "
                f"{f['confidence']}%, paired over the seeds), but the notebook's code cannot show "
                "it"
                if facts[f"{m}.correct_top_separated"]
                else " Adam ends lowest of the three at these settings, though not separated "
                "from the next at "
                f"{f['confidence']}% over these seeds; the notebook's code cannot show even that"
            )
            + ": as written, RMSprop and Adam stay at the zero vector's level and only "
            f"{LABELS[written[0]]} "
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
        f"{f[m + '.initial_excess']} (the starting point's) for every optimizer. The notebook "
        "never uses the returned "
        "weights — its plots read `w_history` and the error history — so none of its conclusions "
        "depends on this "
        "bug. A related quirk: Momentum's `w_history[0]` is the array that `w_cur -= alpha * v` "
        "keeps updating in "
        f"place, so its trajectory plots start at the final point."
    )
    out.append(_grad_over_n_conclusion(facts, sizes))
    out.append(_ranking_conclusion(facts))
    return out


# --------------------------------------------------------------------------- the short text


def _center(facts: dict, prefix: str) -> str:
    """A final excess loss over seeds in short: its geometric mean, or the mean without one."""
    return fmt(facts.get(prefix + ".gm", facts[prefix + ".mean"]))


def assign_short(facts: dict) -> str:
    """Bug 1 "keeps RMSprop and Adam next to w = 0" only when :func:`_near_zero` holds for
    both on the main problem."""
    m = MAIN
    f = formatted(facts)
    r, a = (_center(facts, f"{m}.{o}.assign_step") for o in ("rmsprop", "adam"))
    rc, ac = (_center(facts, f"{m}.{o}.correct") for o in ("rmsprop", "adam"))
    if _near_zero(facts, f"{m}.rmsprop.assign_step") and _near_zero(facts, f"{m}.adam.assign_step"):
        return (
            f"Bug {f['bug.assign_step']} (the step assigned, not subtracted) keeps RMSprop and "
            f"Adam next to w = 0: they end at {r} and {a}, the zero vector's "
            f"{f[m + '.zero_excess']}, against {rc} and {ac} correct."
        )
    return (
        f"Bug {f['bug.assign_step']} (the step assigned, not subtracted) leaves RMSprop at {r} "
        f"and Adam at {a}, against {rc} and {ac} correct."
    )


def flat_short(facts: dict) -> str:
    """The assigned-step curves read as fast, steady convergence only under the gate of
    :func:`_assign_conclusions`: stuck next to 0, flat after ``early_step`` steps, while the
    correct Adam's is not."""
    m = MAIN
    f = formatted(facts)
    stuck = _near_zero(facts, f"{m}.rmsprop.assign_step") and _near_zero(
        facts, f"{m}.adam.assign_step"
    )
    flat = max(facts[f"{m}.{o}.assign_step.early_over_final"] for o in ("adam", "rmsprop"))
    if stuck and flat < 1.5 and facts[f"{m}.adam.correct.early_over_final"] > 10:
        return (
            "Such curves are flat from the first steps: the fast, steady convergence the "
            "notebook credits to Adam."
        )
    return (
        f"After {f['early_step']} steps the assigned-step Adam is at "
        f"{f[m + '.adam.assign_step.early_over_final']} times its final excess loss."
    )


def lr_short(facts: dict) -> str:
    """With bug 1 the learning rate "hardly matters" only when the swept finals differ by at
    most ``facts["lr_spread_percent"]``% (needs the spread :func:`_lr_conclusion` adds)."""
    f = formatted(facts)
    spread = f[f"{MAIN}.assign_step.lr_spread_max_percent"]
    if facts[f"{MAIN}.assign_step.lr_spread_max_percent"] <= facts["lr_spread_percent"]:
        return (
            f"With it the learning rate hardly matters: from {f['learning_rate']} to "
            f"{f['sweep_lr.2']} the final losses differ by at most {spread}%."
        )
    return f"With it the learning rate still moves the final loss, by up to {spread}%."


def bias_short(facts: dict) -> str:
    """Bug 2 is "a smaller step, not a failure" only when its factor is below 1 and Adam with
    it (no seed diverged) ends at most ``facts["not_failed"]`` times the zero vector's."""
    a = f"{MAIN}.adam"
    f = formatted(facts)
    bias = facts[f"{a}.bias_1_minus_beta.mean"]
    converged = (
        not facts[f"{a}.bias_1_minus_beta.diverged"]
        and bias <= facts["not_failed"] * facts[f"{MAIN}.zero_excess"]
    )
    name = f"Bug {f['bug.bias_1_minus_beta']} (Adam's `1-beta` bias correction)"
    if facts["bias_factor"] < 1 and converged:
        return (
            f"{name} is a smaller step (× {f['bias_factor']}), not a failure: Adam ends at "
            f"{_interval(facts, a + '.bias_1_minus_beta')}."
        )
    return (
        f"{name} scales Adam's step by {f['bias_factor']}; Adam ends at "
        f"{_center(facts, a + '.bias_1_minus_beta')} against the zero vector's "
        f"{f[MAIN + '.zero_excess']}."
    )


def returns_short(facts: dict) -> str:
    """Bug 3 changes only the returned weights, which the notebook never uses."""
    return (
        f"Bug {fmt(facts['bug.returns_initial'])} (the initial weights returned) changes no "
        f"conclusion: the notebook never uses the returned weights."
    )


def grad_short(facts: dict, sizes) -> str:
    """Bug 4 shrinks Momentum's step by ``B/n``; on the large problem, where it was run, "only
    usable because of the bug" only when the correctly scaled Momentum diverged there."""
    f = formatted(facts)
    sentence = (
        f"Bug {f['bug.grad_over_n']} (the gradient divided by n) shrinks Momentum's step by "
        f"`B/n` = {f[MAIN + '.grad_scale']}"
    )
    if "large" not in sizes:
        return sentence + "; RMSprop and Adam divide it out."
    if facts["large.momentum.correct.diverged"]:
        return sentence + (
            f"; on the large problem the notebook's learning rate diverges without it "
            f"({f['large.momentum.correct.diverged']} of {f['n_seeds']} seeds), and crawls with it."
        )
    return sentence + (
        f"; on the large problem Momentum ends at {_center(facts, 'large.momentum.grad_over_n')} "
        f"with it and {_center(facts, 'large.momentum.correct')} without."
    )


def ranking_short(facts: dict) -> str:
    """Which optimizer ends lowest, correct and as written; Adam's lead "separated" only when
    the paired ratio over seeds is (``facts[f"{MAIN}.correct_top_separated"]``)."""
    _, _, v = _formatted(facts)
    right = sorted(OPTIMIZERS, key=lambda o: v(o, "correct"))
    written = sorted(OPTIMIZERS, key=lambda o: v(o, "notebook"))
    separated = (
        "separated from the next"
        if facts[f"{MAIN}.correct_top_separated"]
        else "not separated from the next"
    )
    return (
        f"Correctly implemented, {LABELS[right[0]]} ends lowest ({separated}); as "
        f"written, {LABELS[written[0]]} does."
    )


def text(facts: dict) -> str:
    """What was run, in one paragraph."""
    f = formatted(facts)
    return (
        f"The notebook's Momentum, RMSprop and Adam at its settings (learning rate "
        f"{f['learning_rate']}, β = {f['beta']}, batch {f['batch_size']}, {f['steps']} steps, "
        f"{f['n_seeds']} seeds) on the homework problems: all bugs off, each bug alone, and as "
        f"written."
    )


def run(settings: Settings) -> StudyResult:
    """Measures, derives the facts, draws the figures and writes the text."""
    data = measure(settings)
    found = facts(data)
    details = _conclusions(found, data.sizes)  # adds the derived facts the sentences state
    conclusions = [
        assign_short(found),
        flat_short(found),
        lr_short(found),
        bias_short(found),
        returns_short(found),
        grad_short(found, data.sizes),
        ranking_short(found),
    ]
    caption = _contour_caption(found) if "small" in data.runs else ""
    drawn = figures(data, caption, settings)
    tables = [finals_table(found, size) for size in data.sizes] + [steps_table(found)]
    # NaN facts (a ratio over seeds that all diverged) would not survive a JSON round trip equal
    found = {k: v for k, v in found.items() if not (isinstance(v, float) and math.isnan(v))}
    return StudyResult(
        name=NAME,
        title=TITLE,
        facts=found,
        data=data.to_json(),
        figures=drawn,
        tables=[tables[data.sizes.index(MAIN)]],
        conclusions=conclusions,
        text=text(found),
        details=[*details, protocol(found, data.sizes)],
        detail_tables=[t for t in tables if t is not tables[data.sizes.index(MAIN)]],
    )
