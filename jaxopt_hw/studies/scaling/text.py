"""The scaling study's report text: what was run, and one short sentence per conclusion.

Each function reads only the facts and branches on them; the sentences with every fit and
interval are in :mod:`jaxopt_hw.studies.scaling.details`.
"""

from __future__ import annotations

from typing import Optional

from jaxopt_hw.studies import formatted
from jaxopt_hw.studies.comparison import LABELS, OPTIMIZERS
from jaxopt_hw.studies.scaling.details import (
    excess_grows_with_d,
    floor_accounts_for_growth,
    lower_at_short_epochs,
    sgd_within_floor,
    steps_grow_at_fixed_kappa,
    time_flat_in_n,
    time_grows_with_d,
)

__all__ = [
    "setup_text",
    "conclusions",
    "kappa_conclusion",
    "adaptive_conclusion",
    "fixed_kappa_conclusion",
    "noise_floor_conclusion",
    "accuracy_conclusion",
    "sample_size_conclusion",
    "wall_time_conclusion",
    "grid_edge_conclusion",
]


def _fmt_all(facts: dict) -> dict:
    return formatted(facts)


def setup_text(facts: dict) -> str:
    """One paragraph: the three scans, the tuning and what the table and figures show."""
    f = _fmt_all(facts)
    return (
        f"The recipe at n = {f['n_fixed']} for d from {f['d_min']} to {f['d_max']} and at "
        f"d = {f['d_fixed']} for n from {f['n_min']} to {f['n_max']}, and designs with κ fixed at "
        f"{f['kappa_fixed']} for d from {f['kappa_d_min']} to {f['kappa_d_max']}; at every size "
        f"each optimizer tuned over lr × β (batch {f['batch_size']}, {f['steps']} steps, "
        f"{f['n_seeds']} seeds). Steps: the fastest config's to {f['tol_percent']}% of the "
        "minimal loss; losses: the best config's final excess loss; both means over seeds "
        f"(bars: {f['ci_level']}% intervals)."
    )


def conclusions(facts: dict) -> list:
    """The section's short conclusions, in order, leaving out those the facts do not support."""
    sentences = [
        kappa_conclusion(facts),
        adaptive_conclusion(facts),
        fixed_kappa_conclusion(facts),
        noise_floor_conclusion(facts),
        accuracy_conclusion(facts),
        sample_size_conclusion(facts),
        wall_time_conclusion(facts),
        grid_edge_conclusion(facts),
    ]
    return [s for s in sentences if s]


def kappa_conclusion(facts: dict) -> str:
    """κ's growth with d on the recipe, and whether SGD's steps follow gradient descent's κ¹."""
    f = _fmt_all(facts)
    lead = f"On the recipe κ grows like d^{f['kappa_d_slope']}"
    if "sgd_steps_kappa_slope" not in facts:
        return f"{lead}; SGD reaches the tolerance at too few d to fit its steps against κ."
    if abs(facts["sgd_steps_kappa_slope"] - 1) > facts["kappa_slope_tol"]:
        return (
            f"{lead}, and SGD's steps to the tolerance like κ^{f['sgd_steps_kappa_slope']}, "
            "not like gradient descent's κ¹."
        )
    seeds = facts.get("sgd_steps_kappa_seed_slope")
    if seeds is None or abs(seeds - 1) <= facts["sgd_steps_kappa_seed_slope_half"]:
        return (
            f"{lead}, and SGD's steps to the tolerance like κ^{f['sgd_steps_kappa_slope']}, "
            "as gradient descent's do."
        )
    return (
        f"{lead}, and SGD's steps to the tolerance nearly like gradient descent's κ¹, though "
        f"{'faster' if seeds > 1 else 'more slowly'}: one fit per seed gives "
        f"κ^({f['sgd_steps_kappa_seed_slope']} ± {f['sgd_steps_kappa_seed_slope_half']})."
    )


def adaptive_conclusion(facts: dict) -> Optional[str]:
    """Whether RMSprop's and Adam's steps grow more slowly with κ than SGD's, seed by seed."""
    adaptive = [o for o in ("rmsprop", "adam") if f"{o}_minus_sgd_kappa_slope" in facts]
    if not adaptive:
        return None
    slower = [
        o
        for o in adaptive
        if facts[f"{o}_minus_sgd_kappa_slope"] + facts[f"{o}_minus_sgd_kappa_slope_half"] < 0
    ]
    if not slower:
        return (
            "The seeds resolve no difference between the exponent of κ of "
            + " or ".join(LABELS[o] for o in adaptive)
            + " and SGD's."
        )
    sentence = (
        " and ".join(LABELS[o] for o in slower)
        + "'s steps grow more slowly with κ than SGD's: a per-coordinate step undoes the "
        "recipe's column scaling"
    )
    unresolved = [LABELS[o] for o in adaptive if o not in slower]
    if unresolved:
        sentence += f" ({' and '.join(unresolved)}'s difference is not resolved by the seeds)"
    return sentence + "."


def fixed_kappa_conclusion(facts: dict) -> str:
    """Whether d slows the optimizers at a fixed κ, and whether RMSprop and Adam lose their edge."""
    f = _fmt_all(facts)
    fitted = [o for o in OPTIMIZERS if f"{o}_steps_d_fixed_kappa_slope" in facts]
    sentence = f"At a fixed κ = {f['kappa_fixed']}"
    if not fitted:
        sentence += " too few d reach the tolerance with every seed to fit the steps against d"
    elif steps_grow_at_fixed_kappa(facts):
        first = fitted[0]
        sentence += (
            " the steps to the tolerance still grow with d "
            f"({LABELS[first]} like d^{f[first + '_steps_d_fixed_kappa_slope']})"
        )
    else:
        sentence += (
            " the steps to the tolerance change with d, but the seeds do not resolve a growth "
            "for every optimizer"
        )
    if facts["fixed_kappa_adaptive_over_gd"] > facts["recipe_adaptive_over_gd"]:
        sentence += (
            "; RMSprop and Adam lose their edge there (random eigenvectors or a lower κ: this "
            "scan does not separate the two)"
        )
    else:
        sentence += (
            "; RMSprop and Adam fare no worse against SGD and Momentum there than on the recipe"
        )
    return sentence + "."


def noise_floor_conclusion(facts: dict) -> Optional[str]:
    """SGD's final excess loss at the fixed κ against constant-step SGD's noise floor."""
    if "sgd_floor_ratio_min" not in facts:
        return None
    f = _fmt_all(facts)
    floor = "its noise floor `lr·σ²·tr(H)/(2B)`, which grows with d"
    if not sgd_within_floor(facts):
        return (
            f"There SGD ends at {f['sgd_floor_ratio_min']} to {f['sgd_floor_ratio_max']} times "
            f"{floor}, not within a factor {f['floor_factor']}: the floor does not account for "
            "SGD's growth with d."
        )
    if floor_accounts_for_growth(facts):
        return (
            f"There SGD ends within a factor {f['floor_factor']} of {floor}: the floor accounts "
            "for its growth."
        )
    return (
        f"There SGD ends within a factor {f['floor_factor']} of {floor}, though its final "
        "excess loss does not grow with d."
    )


def accuracy_conclusion(facts: dict) -> str:
    """Whether the final excess loss grows with d, and which family ends lower at the largest d."""
    f = _fmt_all(facts)
    trend = "grows" if excess_grows_with_d(facts) else "does not grow"
    ratio = facts["dmax_gd_over_adaptive"]
    if ratio > 1:
        ends = f"end {f['dmax_gd_over_adaptive']} times above"
    elif ratio < 1:
        ends = f"end {f['dmax_adaptive_over_gd']} times below"
    else:
        ends = "end level with"
    return (
        f"After {f['steps']} steps the best final excess loss {trend} with d for every "
        f"optimizer; at d = {f['d_max']} SGD and Momentum {ends} RMSprop and Adam."
    )


def sample_size_conclusion(facts: dict) -> str:
    """How little the sample size moves the steps and the final excess loss at d = d_fixed."""
    f = _fmt_all(facts)
    spreads = [o for o in OPTIMIZERS if f"{o}_steps_n_spread" in facts]
    clauses = []
    if len(spreads) == len(OPTIMIZERS):
        widest = max(spreads, key=lambda o: facts[f"{o}_steps_n_spread"])
        clauses.append(f"the steps vary by at most a factor {f[widest + '_steps_n_spread']}")
    else:
        clauses.append("not every optimizer reaches the tolerance at every n")
    if "excess_n_overlaps" in facts:
        resolved = facts["excess_n_overlaps"] == facts["n_optimizers"]
        clauses.append(
            f"{'no' if resolved else 'a'} difference in final accuracy for n ≥ {f['n_fixed']} "
            "is resolved by the seeds"
        )
    if facts["n_min"] < facts["n_fixed"]:
        clauses.append(
            f"at n = {f['n_min']} every optimizer ends lower"
            if lower_at_short_epochs(facts)
            else f"at n = {f['n_min']} not every optimizer ends lower"
        )
    return f"Against n at d = {f['d_fixed']}: " + "; ".join(clauses) + "."


def wall_time_conclusion(facts: dict) -> str:
    """Whether the sweeps' wall time grows with d and with n."""
    f = _fmt_all(facts)
    with_d = (
        f"grows with d (log-log slope {f['run_seconds_d_slope']})"
        if time_grows_with_d(facts)
        else "barely changes with d"
    )
    with_n = (
        f"stays flat in n, as a step touches {f['batch_size']} rows whatever n"
        if time_flat_in_n(facts)
        else "changes with n too"
    )
    return f"The sweeps' wall time {with_d} and {with_n}."


def grid_edge_conclusion(facts: dict) -> str:
    """How many best configs lie on their grid's edge, so that their numbers are bounds."""
    f = _fmt_all(facts)
    if not (facts["beta_edges"] or facts["lr_edges"]):
        return "Every best lr and β lies inside its grid."
    return (
        f"{f['beta_edges']} of the {f['n_beta_tuned']} best β and {f['lr_edges']} of the "
        f"{f['n_tuned']} best lrs lie on their grid's edge: their numbers are bounds, not the "
        "methods' best."
    )
