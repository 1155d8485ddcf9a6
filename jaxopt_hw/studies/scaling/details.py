"""The scaling study's conclusions in full: every fit, spread and interval behind the short ones."""

from __future__ import annotations

import math

from jaxopt_hw.studies import formatted
from jaxopt_hw.studies.comparison import LABELS, OPTIMIZERS

__all__ = [
    "setup_details",
    "kappa_details",
    "sgd_kappa_clause",
    "gd_vs_adaptive_clause",
    "fixed_kappa_details",
    "noise_floor_details",
    "accuracy_details",
    "sample_size_details",
    "wall_time_details",
    "grid_edge_details",
]


def _fmt_all(facts: dict) -> dict:
    return formatted(facts)


def _key(n, d) -> str:
    return f"n{n}_d{d}"


def setup_details(facts: dict) -> str:
    """The scans, the budget, the tuning and the protocol, in full."""
    f = _fmt_all(facts)
    return (
        f"The homework's recipe `jh.linear_regression(n, d)` at n = {f['n_fixed']} for d from "
        f"{f['d_min']} to {f['d_max']} ({f['n_ds']} sizes), and at d = {f['d_fixed']} for n from "
        f"{f['n_min']} to {f['n_max']} ({f['n_ns']} sizes); designs with a fixed "
        f"κ = {f['kappa_fixed']} at n = {f['n_fixed']} for d from {f['kappa_d_min']} to "
        f"{f['kappa_d_max']}; batch {f['batch_size']}, {f['steps']} steps "
        f"({f['samples_seen']} samples seen), {f['n_seeds']} seeds. At every size each optimizer "
        "is tuned by one sweep over lr (a log grid: relative to `1/L` for SGD and Momentum, "
        "absolute for RMSprop and Adam) × its β; SGD is Momentum at `β = 0`. The tolerance is "
        f"{f['tol_percent']}% of the minimal loss; steps to it are logged every "
        f"{f['log_every']} steps and reported for each optimizer's fastest config when every seed "
        f"reaches it; intervals are {f['ci_level']}% over seeds. Slopes are log-log "
        f"least-squares fits over at least {f['min_fit_points']} finite points; the ± after a "
        f"slope of steps is the {f['ci_level']}% half-width over one fit per seed."
    )


def seed_slope_text(f: dict, prefix: str) -> str:
    """`` (one fit per seed: m ± h)`` for a slope whose per-seed fits are known, else ``""``."""
    if f"{prefix}_seed_slope" not in f:
        return ""
    return f" (one fit per seed: {f[prefix + '_seed_slope']} ± {f[prefix + '_seed_slope_half']})"


def kappa_details(facts: dict, ds) -> str:
    """κ's growth with d on the recipe, how far each optimizer reaches, its steps against κ."""
    f = _fmt_all(facts)
    n_fixed = facts["n_fixed"]
    kappa_list = ", ".join(
        f"{f[_key(n_fixed, d) + '_kappa']} (d = {f[_key(n_fixed, d) + '_d']})" for d in ds
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
            f" with steps ∝ κ^{slope}" + seed_slope_text(f, f"{name}_steps_kappa") if slope else ""
        )
        parts.append(f"{LABELS[name]} {reach}{fit}")
    sentence = (
        f"The recipe's column scaling makes κ grow with d like d^{f['kappa_d_slope']} "
        f"(κ = {kappa_list}), and within {f['steps']} steps " + "; ".join(parts) + "."
    )
    sgd_steps = [
        f[_key(n_fixed, d) + "_sgd_steps"] for d in ds if _key(n_fixed, d) + "_sgd_steps" in f
    ]
    if "sgd_steps_kappa_slope" in f:
        sentence += sgd_kappa_clause(facts, sgd_steps)
        sentence += (
            " (d and κ grow together in this scan, so it cannot tell their effects apart; the "
            "fixed-κ scan below varies d alone, the theory study κ alone.)"
        )
    return sentence + _adaptive_kappa_clause(facts)


def _adaptive_kappa_clause(facts: dict) -> str:
    """RMSprop's and Adam's exponent of κ minus SGD's, and whether the seeds resolve it."""
    f = _fmt_all(facts)
    adaptive = [o for o in ("rmsprop", "adam") if f"{o}_minus_sgd_kappa_slope" in facts]
    if not adaptive:
        return ""
    slower = [
        o
        for o in adaptive
        if facts[f"{o}_minus_sgd_kappa_slope"] + facts[f"{o}_minus_sgd_kappa_slope_half"] < 0
    ]
    if slower:
        verdict = (
            " and ".join(LABELS[o] for o in slower)
            + "'s steps grow more slowly with κ than SGD's, consistent with a per-coordinate step "
            "undoing the column scaling that makes κ large"
        )
        if len(slower) < len(adaptive):
            verdict += (
                "; "
                + " and ".join(LABELS[o] for o in adaptive if o not in slower)
                + "'s difference is not resolved by these seeds"
            )
    else:
        verdict = "no difference is resolved by these seeds"
    return (
        f" Seed by seed, over the sizes every optimizer reaches (κ up to "
        f"{f['kappa_common_max']}), the exponent minus SGD's is "
        + ", ".join(
            f"{LABELS[o]} {f[o + '_minus_sgd_kappa_slope']} ± "
            f"{f[o + '_minus_sgd_kappa_slope_half']}"
            for o in adaptive
        )
        + ": "
        + verdict
        + "."
    )


def sgd_kappa_clause(facts: dict, sgd_steps: list) -> str:
    """The sentence on SGD's steps against κ, with the fitted exponent and its per-seed fits.

    "They follow κ¹, as gradient descent's steps to a fixed accuracy do" only when the fitted
    exponent ``facts["sgd_steps_kappa_slope"]`` is within ``facts["kappa_slope_tol"]`` of 1
    and the 95% interval of its per-seed fits (``facts["sgd_steps_kappa_seed_slope"]`` ±
    ``…_half``, when known) holds 1; "nearly κ¹" when only the first holds; else the fitted
    exponent and that it is not close.
    """
    f = _fmt_all(facts)
    lead = f" SGD's fastest config needs {', '.join(sgd_steps)} steps as d grows:"
    slope = facts["sgd_steps_kappa_slope"]
    if abs(slope - 1) <= facts["kappa_slope_tol"]:
        seeds = facts.get("sgd_steps_kappa_seed_slope")
        if seeds is None or abs(seeds - 1) <= facts["sgd_steps_kappa_seed_slope_half"]:
            return f"{lead} they follow κ¹, as gradient descent's steps to a fixed accuracy do."
        direction = "faster" if seeds > 1 else "more slowly"
        return (
            f"{lead} nearly like κ¹, as gradient descent's steps to a fixed accuracy, though "
            f"{direction} than κ¹: the {f['ci_level']}% interval of one fit per seed, "
            f"{f['sgd_steps_kappa_seed_slope']} ± {f['sgd_steps_kappa_seed_slope_half']}, "
            "leaves out 1."
        )
    return (
        f"{lead} its fitted exponent of κ, {f['sgd_steps_kappa_slope']}, lies farther than "
        f"{f['kappa_slope_tol']} from the κ¹ that sets gradient descent's speed at a fixed "
        "accuracy."
    )


def gd_vs_adaptive_clause(facts: dict) -> str:
    """How SGD and Momentum end against RMSprop and Adam at the largest d (the better of each).

    "… times above" or "… times below", whichever the ratio ``facts["dmax_gd_over_adaptive"]``
    (its inverse ``facts["dmax_adaptive_over_gd"]``) says.
    """
    f = _fmt_all(facts)
    lead = f"at d = {f['d_max']} the better of SGD and Momentum ends"
    ratio = facts["dmax_gd_over_adaptive"]
    if ratio > 1:
        return f"{lead} {f['dmax_gd_over_adaptive']} times above the better of RMSprop and Adam"
    if ratio < 1:
        return f"{lead} {f['dmax_adaptive_over_gd']} times below the better of RMSprop and Adam"
    return f"{lead} level with the better of RMSprop and Adam"


def fixed_kappa_details(facts: dict) -> str:
    """What the fixed-κ scan shows about d alone, with SGD's noise floor and the lost edge."""
    f = _fmt_all(facts)
    sentence = (
        f"At a fixed κ = {f['kappa_fixed']} (`condition_number={f['kappa_fixed']}`: the "
        "eigenvalues of XᵀX/n spread geometrically up to κ times the smallest; "
        f"n = {f['n_fixed']}, d from {f['kappa_d_min']} to {f['kappa_d_max']})"
        + _fixed_kappa_steps_clause(facts)
    )
    excess = [o for o in OPTIMIZERS if f"{o}_excess_d_fixed_kappa_slope" in facts]
    if excess:
        sentence += "; the best config's final excess loss like " + ", ".join(
            f"{LABELS[o]} d^{f[o + '_excess_d_fixed_kappa_slope']}" for o in excess
        )
    sentence += "."
    if "sgd_floor_ratio_min" in facts:
        sentence += noise_floor_details(facts)
    if facts["fixed_kappa_adaptive_over_gd"] > facts["recipe_adaptive_over_gd"]:
        sentence += (
            f" Per-coordinate steps lose their edge here: at d = {f['d_common']} the better of "
            f"RMSprop and Adam ends at {f['fixed_kappa_adaptive_over_gd']} times the final "
            "excess loss of the better of SGD and Momentum, against "
            f"{f['recipe_adaptive_over_gd']} times on the recipe. The designs differ in two "
            "ways: `condition_number` turns the eigenvectors of XᵀX/n into random directions, "
            "while the recipe's curvature lies along the coordinates, and the recipe's κ at this "
            f"d is {f['recipe_kappa_d_common']} against {f['kappa_fixed']}; this scan does not "
            "separate the two, though only the first is one a per-coordinate step can undo."
        )
    return sentence


def steps_grow_at_fixed_kappa(facts: dict) -> bool:
    """Whether the 95% interval of every fitted optimizer's per-seed d-exponent lies above 0."""
    fitted = [o for o in OPTIMIZERS if f"{o}_steps_d_fixed_kappa_slope" in facts]
    return bool(fitted) and all(
        facts.get(f"{o}_steps_d_fixed_kappa_seed_slope", -math.inf)
        - facts.get(f"{o}_steps_d_fixed_kappa_seed_slope_half", math.inf)
        > 0
        for o in fitted
    )


def _fixed_kappa_steps_clause(facts: dict) -> str:
    """The fixed-κ scan's steps against d: each optimizer's exponent and its per-seed fits."""
    f = _fmt_all(facts)
    fitted = [o for o in OPTIMIZERS if f"{o}_steps_d_fixed_kappa_slope" in facts]
    if not fitted:
        return " too few sizes reach the tolerance with every seed to fit the steps against d"
    grow = steps_grow_at_fixed_kappa(facts)
    return (
        f" the fastest config's steps to the tolerance {'still grow' if grow else 'change'} with d"
        + ("" if grow else " (not every exponent's 95% interval lies above 0)")
        + ", like "
        + ", ".join(
            f"{LABELS[o]} d^{f[o + '_steps_d_fixed_kappa_slope']}"
            + seed_slope_text(f, f"{o}_steps_d_fixed_kappa")
            + f" (up to d = {f[o + '_reach_d_max_fixed_kappa']})"
            for o in fitted
        )
        + " (fitted where every seed reaches it)"
    )


def sgd_within_floor(facts: dict) -> bool:
    """Whether SGD ends within ``facts["floor_factor"]`` of its noise floor at every fixed-κ d."""
    return (
        facts["sgd_floor_ratio_min"] >= 1 / facts["floor_factor"]
        and facts["sgd_floor_ratio_max"] <= facts["floor_factor"]
    )


def floor_accounts_for_growth(facts: dict) -> bool:
    """Whether SGD ends within the factor of its noise floor and its excess grows with d."""
    return sgd_within_floor(facts) and facts.get("sgd_excess_d_fixed_kappa_slope", 0) > 0


def noise_floor_details(facts: dict) -> str:
    """SGD's final excess loss on the fixed-κ scan against constant-step SGD's noise floor."""
    f = _fmt_all(facts)
    text = (
        f" κ stays put, but tr(H)/μ grows like d^{f['trace_d_fixed_kappa_slope']} (from "
        f"{f['kappa_d_min_trace_ratio']} to {f['kappa_d_max_trace_ratio']}). A minibatch "
        "gradient's covariance at the optimum is about `2σ²H/B`, so constant-step SGD settles at "
        "an excess loss of about `lr·σ²·tr(H)/(2B)`, which grows with tr(H): SGD's best configs "
        f"end at {f['sgd_floor_ratio_min']} to {f['sgd_floor_ratio_max']} times that floor "
        "across these d"
    )
    if floor_accounts_for_growth(facts):
        text += (
            f" (within a factor {f['floor_factor']}: the floor accounts for SGD's growth with d)"
        )
    text += (
        ". The initial excess loss grows with tr(H) too (the initial point and w_true are both "
        "standard normal), but costs only logarithmically many steps; no full-batch run at this "
        "κ was made."
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


def excess_grows_with_d(facts: dict) -> bool:
    """Whether every optimizer's final excess loss has a positive fitted slope against d."""
    return all(facts.get(f"{o}_excess_d_slope", 0) > 0 for o in OPTIMIZERS)


def accuracy_details(facts: dict) -> str:
    """The best config's final excess loss and distance at the smallest and largest d."""
    f = _fmt_all(facts)
    first, last = _key(facts["n_fixed"], facts["d_min"]), _key(facts["n_fixed"], facts["d_max"])
    parts = [
        f"{LABELS[o]} from {f[f'{first}_{o}_excess']} to {f[f'{last}_{o}_excess']} "
        f"(slope {f[o + '_excess_d_slope']})"
        for o in OPTIMIZERS
    ]
    trend = (
        "tends to grow with d for every optimizer (a positive fitted slope)"
        if excess_grows_with_d(facts)
        else "against d"
    )
    return (
        f"Final accuracy after {f['steps']} steps, best config: the excess loss {trend}, "
        + "; ".join(parts)
        + f" for d from {f['d_min']} to {f['d_max']}; {gd_vs_adaptive_clause(facts)}. The "
        "distance ‖w − w*‖ follows: "
        + ", ".join(
            f"{LABELS[o]} {f[f'{first}_{o}_dist']} → {f[f'{last}_{o}_dist']}" for o in OPTIMIZERS
        )
        + "."
    )


def sample_size_details(facts: dict, ns) -> str:
    """The n-scan: the spread of the steps and of the final excess loss across n."""
    f = _fmt_all(facts)
    d_fixed = facts["d_fixed"]
    clauses = []
    spreads = [o for o in OPTIMIZERS if f"{o}_steps_n_spread" in facts]
    if spreads:
        clauses.append(
            "the steps to the tolerance vary across n by the factors (largest over smallest) "
            + ", ".join(f"{LABELS[o]} {f[o + '_steps_n_spread']}" for o in spreads)
            + " ("
            + "; ".join(
                f"{LABELS[o]} " + ", ".join(f[_key(n, d_fixed) + f"_{o}_steps"] for n in ns)
                for o in spreads
            )
            + " for n = "
            + ", ".join(f[_key(n, d_fixed) + "_n"] for n in ns)
            + ")"
        )
    if "excess_n_overlaps" in facts:
        clauses.append(_excess_across_n_clause(facts))
    sentence = (
        f"Against n at d = {f['d_fixed']} (κ from {f[_key(ns[0], d_fixed) + '_kappa']} to "
        f"{f[_key(ns[-1], d_fixed) + '_kappa']}, {f['samples_seen']} samples seen): "
        + "; ".join(clauses)
        + "."
    )
    if ns[0] < facts["n_fixed"]:
        sentence += _short_epochs_clause(facts)
    return sentence


def _excess_across_n_clause(facts: dict) -> str:
    """The final excess loss's spread for n ≥ n_fixed and whether its intervals overlap."""
    f = _fmt_all(facts)
    resolved = (
        ": no difference in final accuracy across n is resolved by these seeds, consistent with "
        "the curvature, not the sample size, setting it"
        if facts["excess_n_overlaps"] == len(OPTIMIZERS)
        else ""
    )
    return (
        f"the final excess loss for n from {f['n_fixed']} to {f['n_max']} by "
        + ", ".join(f"{LABELS[o]} {f[o + '_excess_n_spread']}" for o in OPTIMIZERS)
        + f" ({f['ci_level']}% intervals overlapping across these n for "
        f"{f['excess_n_overlaps']} of the {f['n_optimizers']} optimizers)" + resolved
    )


def lower_at_short_epochs(facts: dict) -> bool:
    """Whether every optimizer ends lower at the smallest n than at ``n_fixed``."""
    return all(facts[f"{o}_excess_nmin_ratio"] < 1 for o in OPTIMIZERS)


def _short_epochs_clause(facts: dict) -> str:
    """The final excess loss at the smallest n over the one at ``n_fixed``, and a possible cause."""
    f = _fmt_all(facts)
    cause = (
        ": lower for every optimizer. An epoch is short there, and sampling without replacement "
        "cancels part of the noise within an epoch, a possible cause this scan does not test "
        "(the noise-floor study measures the effect of the batch size)."
        if lower_at_short_epochs(facts)
        else "."
    )
    return (
        f" At n = {f['n_min']} the final excess loss is "
        + ", ".join(f"{LABELS[o]} {f[o + '_excess_nmin_ratio']}" for o in OPTIMIZERS)
        + f" times the one at n = {f['n_fixed']}"
        + cause
    )


def time_grows_with_d(facts: dict) -> bool:
    """Whether the sweeps' wall time has a log-log slope above 0.2 against d."""
    return facts["run_seconds_d_slope"] > 0.2


def time_flat_in_n(facts: dict) -> bool:
    """Whether the sweeps' wall time has a log-log slope within 0.2 of 0 against n."""
    return abs(facts["run_seconds_n_slope"]) < 0.2


def wall_time_details(facts: dict) -> str:
    """The sweeps' wall time and compile time against d and n, and the largest design's build."""
    f = _fmt_all(facts)
    n_fixed, d_fixed = facts["n_fixed"], facts["d_fixed"]
    first, last = _key(n_fixed, facts["d_min"]), _key(n_fixed, facts["d_max"])
    smallest, largest = _key(facts["n_min"], d_fixed), _key(facts["n_max"], d_fixed)
    with_d = "grows with d" if time_grows_with_d(facts) else "barely changes with d"
    why = (
        f": it {with_d} and not with n, as a step touches {f['batch_size']} rows whatever n and "
        "the full loss is read off a d × d factor C of XᵀX/n = CCᵀ. "
        if time_flat_in_n(facts)
        else f": it {with_d} and changes with n too. "
    )
    return (
        "The wall time of a size's three compiled sweeps (all configs × seeds) goes from "
        f"{f[first + '_run_seconds']} s at d = {f['d_min']} to {f[last + '_run_seconds']} s at "
        f"d = {f['d_max']} (log-log slope {f['run_seconds_d_slope']}) and from "
        f"{f[smallest + '_run_seconds']} s at n = {f['n_min']} to "
        f"{f[largest + '_run_seconds']} s at n = {f['n_max']} (slope {f['run_seconds_n_slope']})"
        + why
        + f"Compiling takes {f[first + '_compile_seconds']} s and "
        f"{f[last + '_compile_seconds']} s for the same d; building the design with "
        f"d = {f['d_max']} takes {f[last + '_build_seconds']} s."
    )


def grid_edge_details(facts: dict) -> str:
    """How many best configs have their lr or their β on the edge of its grid."""
    f = _fmt_all(facts)
    lr = (
        " (the lr grid is wide enough)"
        if facts["lr_edges"] == 0
        else " (there the best lr may lie outside the grid)"
    )
    bounds = (
        ": those optima may lie outside the grid, so their numbers are bounds, not the method's "
        "best."
        if facts["beta_edges"] or facts["lr_edges"]
        else "."
    )
    return (
        f"Of the {f['n_tuned']} tuned (design, optimizer) pairs, {f['lr_edges']} have their best "
        f"lr on the edge of the lr grid{lr}; of the {f['n_beta_tuned']} pairs tuned over the "
        f"momentum or averaging parameter (β, γ or β1, {f['n_beta_values']} values each; Adam's "
        f"β2 stays at its default {f['adam_b2']}), {f['beta_edges']} have it on the edge of its "
        f"grid{bounds}"
    )
