"""The report's first page: the homework's questions, each answered in a sentence or two.

Each answer is a small function of facts the studies already computed (``{study: facts}``),
branching on them, so that its wording follows the numbers; every number it writes is one
of those facts, written by :func:`~jaxopt_hw.studies.fmt`. An answer whose studies did not
run (``jaxopt-hw report --only``) is left out.

Example:
  >>> from jaxopt_hw.answers import answers                     # doctest: +SKIP
  >>> [a.question for a in answers({name: r.facts for name, r in results.items()})]  # doctest: +SKIP
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from jaxopt_hw.studies import fmt, formatted
from jaxopt_hw.studies.real_data.derived import problem_keys, ranking
from jaxopt_hw.studies.real_data.text import NAMES as DATA_SETS

__all__ = [
    "Answer",
    "answers",
    "speed_answer",
    "accuracy_answer",
    "hyperparameter_answer",
    "method_answer",
    "bugs_answer",
]

#: Adam's facts in the bugs study are those of this homework problem (homework_bugs.MAIN)
BUGS_PROBLEM = "medium"
LABELS = {"sgd": "SGD", "momentum": "Momentum", "rmsprop": "RMSprop", "adam": "Adam"}
BETA_LABELS = {"momentum": "Momentum's β", "rmsprop": "RMSprop's γ", "adam": "Adam's β1"}
#: a factor a parameter must move the final loss by to be called one that matters
MATTERS = 10.0


class Answer(NamedTuple):
    """A question of the homework, its answer, and the studies (evidence) it rests on."""

    question: str
    text: str
    studies: tuple


def _exponent_verdict(slope: float, half: float, what: str) -> str:
    """Where a slope's 95% interval lies against 0 and 1 (the slope of ``what``)."""
    if slope - half > 1:
        return f"faster than in proportion to {what}"
    if slope + half < 1 and slope - half > 0:
        return f"more slowly than {what}"
    if slope - half > 0:
        return f"about in proportion to {what}"
    return "a growth these seeds do not resolve"


def speed_answer(s: dict) -> str:
    """How the steps to the tolerance grow with κ (tied to d by the recipe) and with d alone,
    from the scaling study's facts ``s``."""
    f = formatted(s)
    slope, half = s["sgd_steps_kappa_seed_slope"], s["sgd_steps_kappa_seed_slope_half"]
    text = (
        f"Through κ: the recipe makes κ grow like d^{f['kappa_d_slope']}, and SGD's steps to the "
        "tolerance grow "
        f"like κ^{f['sgd_steps_kappa_seed_slope']} ± {f['sgd_steps_kappa_seed_slope_half']} "
        f"({f['ci_level']}%, "
        f"one fit per seed): {_exponent_verdict(slope, half, 'κ')}."
    )
    if "sgd_steps_d_fixed_kappa_seed_slope" not in s:
        return text
    d_slope, d_half = (
        s["sgd_steps_d_fixed_kappa_seed_slope"],
        s["sgd_steps_d_fixed_kappa_seed_slope_half"],
    )
    effect = (
        "d alone still slows it"
        if d_slope - d_half > 0
        else "d alone speeds it up"
        if d_slope + d_half < 0
        else "the seeds resolve no effect of d alone"
    )
    return text + (
        f" At a fixed κ = {f['kappa_fixed']} {effect} "
        f"(d^{f['sgd_steps_d_fixed_kappa_seed_slope']} ± "
        f"{f['sgd_steps_d_fixed_kappa_seed_slope_half']})."
    )


def accuracy_answer(s: dict) -> str:
    """How SGD's final excess loss changes from the smallest to the largest d of the recipe's
    scan (geometric means over seeds), and the adaptive methods against it at the largest."""
    f = formatted(s)
    lo, hi = f"n{s['n_fixed']}_d{s['d_min']}_sgd", f"n{s['n_fixed']}_d{s['d_max']}_sgd"
    if (
        f"{lo}_excess_gm" not in s or f"{hi}_excess_gm" not in s
    ):  # a row with no finite loss records none
        return f"SGD records no final loss at d = {f['d_min']} or d = {f['d_max']}, so this run cannot say."
    if s[f"{hi}_excess_gm_low"] > s[f"{lo}_excess_gm_high"]:
        trend = "falls as d grows"
    elif s[f"{hi}_excess_gm"] > s[f"{lo}_excess_gm"]:
        trend = "tends to fall as d grows (the intervals overlap)"
    else:
        trend = "does not fall as d grows"
    ratio = s["dmax_gd_over_adaptive"]
    versus = (
        f"at d = {f['d_max']} the better of SGD and Momentum ends {f['dmax_gd_over_adaptive']} "
        "times above "
        f"the better of RMSprop and Adam"
        if ratio > 1
        else f"at d = {f['d_max']} the better of RMSprop and Adam ends {f['dmax_adaptive_over_gd']} times above "
        f"the better of SGD and Momentum"
    )
    return (
        f"Accuracy after {f['steps']} steps {trend}: SGD's final excess loss goes from "
        f"{f[lo + '_excess_gm']} "
        f"({f['ci_level']}% {f[lo + '_excess_gm_low']}–{f[lo + '_excess_gm_high']}) at d = "
        f"{f['d_min']} to "
        f"{f[hi + '_excess_gm']} ({f[hi + '_excess_gm_low']}–{f[hi + '_excess_gm_high']}) at d = "
        f"{f['d_max']}; "
        f"{versus}."
    )


def _largest_beta_spread(c: dict) -> tuple:
    """``(fact name, optimizer)`` of the largest factor a momentum or averaging parameter
    moves the best final loss by, over problems."""
    keys = [
        (key, name) for key in c for name in BETA_LABELS if key.endswith(f"_{name}_beta_spread")
    ]
    return max(keys, key=lambda pair: c[pair[0]])


def hyperparameter_answer(c: dict, nf: dict) -> str:
    """What lr (and the batch) and β, γ, β1 do to speed and accuracy, from the comparison
    facts ``c`` and the noise-floor facts ``nf``."""
    f, g = formatted(c), formatted(nf)
    floor = "grows with lr" if nf["slope_alpha_min"] > 0 else "does not grow steadily with lr"
    trade = (
        f"in {f['speed_accuracy_larger_lr']} of {f['speed_accuracy_pairs']} tuned pairs the "
        "fastest lr is larger "
        f"than the most accurate and ends {f['speed_accuracy_excess_ratio']} times higher"
        if c["speed_accuracy_larger_lr"]
        else f"in none of the {f['speed_accuracy_pairs']} tuned pairs is the fastest lr larger than the most accurate"
    )
    key, name = _largest_beta_spread(c)
    beta = "matter" if c[key] >= MATTERS else "matter less"
    return (
        f"lr trades speed for accuracy: SGD's noise floor {floor}, like α^{g['slope_alpha_mean']} "
        "(from "
        f"{g['slope_alpha_min']} to {g['slope_alpha_max']} over batch sizes; like "
        f"B^{g['slope_batch_mean']} in the "
        f"batch), and {trade}. β, γ and β1 {beta}: with lr re-tuned they move the best final loss "
        "by at most "
        f"×{f[key]} ({BETA_LABELS[name]})."
    )


def _sizes(c: dict) -> list:
    return [size for size in ("small", "medium", "large") if f"n_{size}" in c]


def _leader(c: dict, size: str) -> str:
    """The optimizer with the lowest mean held-out final excess loss on ``size``."""
    return min(LABELS, key=lambda o: c[f"{size}_heldout_{o}_excess"])


def method_answer(c: dict, s: dict, r: Optional[dict] = None) -> str:
    """Which method to use: the held-out ranking on the homework problems (comparison facts
    ``c``), the adaptive methods at the scaling scan's largest d (facts ``s``) and the
    leaders on scikit-learn's data sets (real-data facts ``r``, where that study ran)."""
    f = formatted(c)
    size = _sizes(c)[-1]
    key = f"{size}_heldout_rank"
    shape = f"({f['n_' + size]}, {f['d_' + size]})"
    separated, count = c["heldout_separated_count"], c["n_problems"]
    leader = LABELS[_leader(c, size)]
    pick = (
        "any tuned method: the seeds cannot tell the two most accurate apart on any of them"
        if separated == 0
        else f"{leader} where it leads: the seeds separate the two most accurate on {f['heldout_separated_count']} of "
        f"{f['n_problems']}"
        if separated < count
        else f"{leader}: the seeds separate the two most accurate on all"
    )
    scaled = (
        "; on the ill-conditioned large-d problems RMSprop or Adam, which end "
        f"{fmt(s['dmax_gd_over_adaptive'])} "
        "times below SGD and Momentum"
        if s and s["dmax_gd_over_adaptive"] > 1
        else "; on the large-d problems too, SGD or Momentum"
        if s
        else ""
    )
    return (
        f"On the homework problems, {pick} (at {shape} {leader} leads; the runner-up's loss over "
        "the leader's is "
        f"{f[key + '_ratio']}, {f['ci_level']}% "
        f"{f[key + '_low']}–{f[key + '_high']}){scaled}.{_gd_clause(c, size)}"
        f"{_real_data_clause(r)}"
    )


def _real_data_clause(r: Optional[dict]) -> str:
    """The leader on each of scikit-learn's data sets and on how many the held-out seeds
    separate it from the runner-up (nothing where the real-data study did not run)."""
    if not r:
        return ""
    by_leader = {}
    for p in problem_keys(r):
        by_leader.setdefault(ranking(r, p)[0], []).append(DATA_SETS[p])
    leads = ", ".join(f"{LABELS[o]} on {' and '.join(sets)}" for o, sets in by_leader.items())
    separated, count = r["separated_count"], r["n_problems"]
    how = (
        "none of them"
        if separated == 0
        else f"all {fmt(count)}"
        if separated == count
        else f"{fmt(separated)} of the {fmt(count)}"
    )
    return f" On scikit-learn's data sets the leader is {leads}; the seeds separate {how}."


def _gd_clause(c: dict, size: str) -> str:
    """Full-batch GD against SGD's noise floor on ``size``, where the comparison ran it."""
    key = f"{size}_gd_floor_ratio"
    if key not in c:
        return ""
    if c[key] > 1:
        return (
            f" For accuracy below SGD's noise floor, full-batch GD: it ends {fmt(c[key])} times "
            "below it at "
            f"({fmt(c['n_' + size])}, {fmt(c['d_' + size])})."
        )
    return " Full-batch GD ends no lower than SGD's noise floor."


def bugs_answer(h: dict, c: dict) -> str:
    """Which of the notebook's conclusions its bugs produced, from the bugs study's facts
    ``h`` (and the comparison's ``c``, where it ran)."""
    g, m = formatted(h), BUGS_PROBLEM
    a = f"{m}.adam.assign_step"
    stuck = h[f"{a}.mean"] > h["not_failed"] * h[f"{m}.zero_excess"]
    ends = (
        f"{g[a + '.gm']} ({g['confidence']}% {g[a + '.gm_low']}–{g[a + '.gm_high']})"
        if f"{a}.gm" in h
        else g[a + ".mean"]
    )
    lead = (
        f"Its verdict that Adam converges fastest and most accurately: bug {g['bug.assign_step']} "
        "(the step "
        "assigned, not subtracted) "
        f"keeps Adam next to the zero vector, ending at {ends} against the zero vector's "
        f"{g[m + '.zero_excess']}"
        if stuck
        else f"None of its verdicts on Adam: with bug {g['bug.assign_step']} Adam still ends at {ends}, below the zero vector's "
        f"{g[m + '.zero_excess']}"
    )
    if not c:
        return lead + "."
    f = formatted(c)
    return (
        lead + f"; tuned and correct, Adam is the most accurate on {f['adam_accurate_count']} of "
        f"{f['n_problems']} homework problems."
    )


def answers(facts: dict) -> list:
    """The homework's questions and their answers from ``{study: facts}``, leaving out those
    whose studies are missing."""
    s, c, nf, h, r = (
        facts.get(name)
        for name in ("scaling", "comparison", "noise_floor", "homework_bugs", "real_data")
    )
    out = []
    if s:
        out.append(
            Answer(
                "How does the speed of convergence depend on the dimension?",
                speed_answer(s),
                ("scaling",),
            )
        )
        out.append(
            Answer(
                "How does the accuracy depend on the dimension?", accuracy_answer(s), ("scaling",)
            )
        )
    if c and nf:
        out.append(
            Answer(
                "How do the hyperparameters move speed and accuracy?",
                hyperparameter_answer(c, nf),
                ("comparison", "noise_floor"),
            )
        )
    if c:
        out.append(
            Answer(
                "Which method on which problem?",
                method_answer(c, s, r),
                ("comparison",) + (("scaling",) if s else ()) + (("real_data",) if r else ()),
            )
        )
    if h:
        out.append(
            Answer(
                "Which of the notebook's conclusions did its bugs produce?",
                bugs_answer(h, c),
                ("homework_bugs",) + (("comparison",) if c else ()),
            )
        )
    return out
