"""The comparison's long-form sentences for ``details.md``: each conclusion with its
statistics in full (intervals, paired ratios, per-problem lists) and the protocol."""

from __future__ import annotations

import math

from jaxopt_hw.studies import fmt, formatted
from jaxopt_hw.studies.comparison.facts import (
    larger_lr_pairs,
    notebook_picks_held,
    speed_accuracy_facts,
)
from jaxopt_hw.studies.comparison.grids import (
    ADAPTIVE,
    BETA,
    LABELS,
    NOTEBOOK_PICKS,
    OPTIMIZERS,
    SWEPT,
    SYMBOL,
    config_text,
)


def shape_of(f: dict):
    """``shape(size) -> "(n, d)"`` from the formatted facts ``f``."""
    return lambda size: f"({f[f'n_{size}']}, {f[f'd_{size}']})"


def config_of(facts: dict, key: str, name: str) -> dict:
    """A best config from its facts ``{key}_{hyper}`` (``key``: ``{size}_{grid}_{name}``)."""
    hypers = ("learning_rate", BETA[name], "b2")
    return {h: facts[f"{key}_{h}"] for h in hypers if h and f"{key}_{h}" in facts}


def geometric_text(f: dict, key: str) -> str:
    """``"g (95% low–high)"`` from the formatted facts ``key + "_excess_gm"`` and its bounds."""
    return (
        f"{f[key + '_excess_gm']} ({f['ci_level']}% {f[key + '_excess_gm_low']}–"
        f"{f[key + '_excess_gm_high']})"
    )


def heldout_order(facts: dict, size: str) -> list:
    """The optimizers by mean final excess loss on the held-out seeds."""
    return sorted(OPTIMIZERS, key=lambda o: facts[f"{size}_heldout_{o}_excess"])


def speed_order(facts: dict, size: str) -> list:
    """The optimizers by median held-out steps to the tolerance (fastest config)."""
    return sorted(OPTIMIZERS, key=lambda o: facts[f"{size}_heldout_{o}_fastest"])


def details(facts: dict, sizes) -> list:
    """The long-form sentences, in the report's order of old."""
    f, shape = formatted(facts), shape_of(formatted(facts))
    triples = [(s, facts[f"n_{s}"], facts[f"d_{s}"]) for s in sizes]
    return [
        protocol(facts, sizes),
        accuracy_detail(facts, sizes),
        optimism_detail(facts, sizes),
        speed_detail(facts, sizes),
        speed_accuracy_conclusion(facts, triples, shape),
        notebook_picks_conclusion(facts, list(sizes), shape),
        *[homework_grid_detail(facts, size) for size in sizes[1:]],
        decay_detail(f, facts, len(sizes)),
        lr_sensitivity_detail(facts, sizes),
        beta_detail(facts, sizes),
        divergence_conclusion(facts, list(sizes), shape),
        trajectory_conclusion(facts),
        (
            f"The homework concluded that Adam converges fastest and most accurately; tuned, and "
            f"scored on held-out seeds, Adam is the fastest to the tolerance (or tied) at "
            f"{f['adam_fastest_count']} and the most accurate at {f['adam_accurate_count']} of the "
            f"{f['n_problems']} problems, separated from the runner-up at "
            f"{f['adam_accurate_separated_count']} of them."
        ),
        gd_conclusion(facts, sizes),
    ]


def protocol(facts: dict, sizes) -> str:
    """What was run, in full: problems, budget, grids, picking rules, held-out seeds."""
    f = formatted(facts)
    shape = shape_of(f)
    return (
        f"The homework's least-squares problems {', '.join(shape(s) for s in sizes)} "
        f"(`jh.linear_regression`, condition numbers κ = "
        f"{', '.join(f[f'kappa_{s}'] for s in sizes)}), batch "
        f"{f['batch_size']}, {f['steps']} steps, {f['n_seeds']} seeds (each seed: an initial "
        f"point and a batch order shared by all configs). Each optimizer is swept over a wide "
        f"grid, lr from {f['wide_lr_min']} to {f['wide_lr_max']} ({f['n_wide_lrs']} values, "
        f"log-spaced) × β from {f['wide_beta_min']} to {f['wide_beta_max']} (Adam also β2 from "
        f"{f['wide_b2_min']} to {f['wide_b2_max']}); the homework grid, lr from {f['hw_lr_min']} "
        f"to {f['hw_lr_max']} × β, γ, β1, β2 from {f['hw_beta_min']} to {f['hw_beta_max']}, is "
        f"its exact sub-grid. SGD is Momentum at `β = 0`. Best config: lowest mean final excess "
        f"loss with no seed diverged; intervals are {f['ci_level']}% over seeds; the tolerance is "
        f"{f['tol_percent']}% of the minimal loss (the noise-floor scale), and steps to it are "
        f"logged every {f['log_every']} steps. The rankings are scored on {f['n_holdout']} "
        f"held-out seeds, which the tuning never saw: each optimizer's best and fastest configs "
        f"are rerun on them (second table)."
    )


def _rank_part(facts: dict, f: dict, size: str) -> str:
    """One problem's held-out leader and runner-up, paired over the held-out seeds."""
    first, second = heldout_order(facts, size)[:2]
    key = f"{size}_heldout_rank"

    def excess(name):
        k = f"{size}_heldout_{name}"
        return (
            f"mean {f[k + '_excess']}; geometric mean {f[k + '_excess_gm']}, {f['ci_level']}% "
            f"{f[k + '_excess_gm_low']}–{f[k + '_excess_gm_high']}"
        )

    reversed_ = (
        "" if facts[f"{key}_ratio"] >= 1 else "; the geometric mean orders the two the other way"
    )
    verdict = (
        "separated, the leader lower"
        if facts[f"{key}_leader_lower"]
        else "separated, the runner-up lower by the geometric mean"
        if facts[f"{key}_separated"]
        else "not separated"
    )
    return (
        f"at {shape_of(f)(size)} {LABELS[first]} ({excess(first)}) ahead of {LABELS[second]} "
        f"({excess(second)}); paired over the held-out seeds, the runner-up's final excess loss "
        f"is {f[key + '_ratio']} times the leader's (geometric mean, {f['ci_level']}% interval "
        f"{f[key + '_low']}–{f[key + '_high']}; the leader lower on {f[key + '_wins']} of "
        f"{f[key + '_count']} seeds{reversed_}): {verdict}"
    )


def accuracy_detail(facts: dict, sizes) -> str:
    """The held-out accuracy ranking, with each problem's top two paired."""
    f = formatted(facts)
    return (
        f"Tuned on the wide grid over the {f['n_seeds']} tuning seeds and scored on "
        f"{f['n_holdout']} held-out seeds ({f['holdout_first']}–{f['holdout_last']}: new initial "
        f"points and batch orders), the most accurate method (lowest mean final excess loss after "
        f"{f['steps']} steps) is "
        + "; ".join(_rank_part(facts, f, size) for size in sizes)
        + f". The top two are separated at {f['ci_level']}% on {f['heldout_separated_count']} of "
        f"the {f['n_problems']} problems; the tuning seeds had put the same method first on "
        f"{f['heldout_same_top_count']}."
    )


def optimism_detail(facts: dict, sizes) -> str:
    """The winner's luck: held-out over tuning medians of the best configs."""
    f, shape = formatted(facts), shape_of(formatted(facts))
    optimism = {(s, o): facts[f"{s}_heldout_{o}_optimism"] for s in sizes for o in OPTIMIZERS}
    worst = max(optimism, key=optimism.get)
    n_configs = ", ".join(f"{LABELS[o]} {f[f'{sizes[0]}_wide_{o}_n_configs']}" for o in OPTIMIZERS)
    per_optimizer = ", ".join(f"{LABELS[o]} {f[f'{o}_optimism_median']}" for o in OPTIMIZERS)
    return (
        f"Scored again on the held-out seeds, a best config's median final excess loss is "
        f"{f['optimism_median']} times its median over the tuning seeds it was picked on (median "
        f"over the {f['optimism_pairs']} (problem, optimizer) pairs, from {f['optimism_min']} to "
        f"{f['optimism_max']}, the largest {LABELS[worst[1]]} at {shape(worst[0])}; per optimizer, "
        f"median over problems: {per_optimizer}; picked from grids of {n_configs} configs). The "
        "held-out seeds never took part in picking a config, so the rankings above rest on them."
    )


def adaptive_leads(facts: dict, sizes) -> tuple:
    """SGD's held-out steps over the faster adaptive method's per problem (``inf``: SGD never
    gets there, ``nan``: no adaptive method does), and whether that lead grows with κ."""
    leads = []
    for size in sizes:
        adaptive = min(facts[f"{size}_heldout_{o}_fastest"] for o in ADAPTIVE)
        if f"{size}_adaptive_speedup" in facts:
            leads.append(facts[f"{size}_adaptive_speedup"])
        elif math.isfinite(adaptive) and not math.isfinite(facts[f"{size}_heldout_sgd_fastest"]):
            leads.append(math.inf)
        else:
            leads.append(math.nan)
    growing = not any(math.isnan(v) for v in leads) and all(b > a for a, b in zip(leads, leads[1:]))
    return leads, growing


def speed_detail(facts: dict, sizes) -> str:
    """The held-out speed ranking per problem and the adaptive methods' lead against κ."""
    f, shape = formatted(facts), shape_of(formatted(facts))
    parts = []
    for size in sizes:
        items = ", ".join(
            f"{LABELS[o]} {f[f'{size}_heldout_{o}_fastest']} "
            f"({f[f'{size}_heldout_{o}_fastest_below']}/{f['n_holdout']})"
            if math.isfinite(facts[f"{size}_heldout_{o}_fastest"])
            else f"{LABELS[o]} never"
            for o in speed_order(facts, size)
        )
        parts.append(f"at {shape(size)}: {items}")
    leads, growing = adaptive_leads(facts, sizes)
    cells = [
        f"{f[f'{size}_adaptive_speedup']} (κ = {f[f'kappa_{size}']})"
        if f"{size}_adaptive_speedup" in facts
        else f"SGD never gets there (κ = {f[f'kappa_{size}']})"
        if lead == math.inf
        else f"no adaptive method gets there (κ = {f[f'kappa_{size}']})"
        for size, lead in zip(sizes, leads)
    ]
    return (
        "Fastest to the tolerance (each optimizer's fastest config among those whose median "
        "tuning seed ends below the tolerance; the median steps to it over the held-out seeds, "
        "where the median held-out seed ends below it too, and in brackets the held-out seeds "
        "that end below it): "
        + "; ".join(parts)
        + ". SGD's steps over those of the faster adaptive method (RMSprop or Adam), as κ grows: "
        + ", ".join(cells)
        + ": "
        + (
            "the adaptive methods' lead grows with κ, consistent with their per-coordinate step "
            "undoing the recipe's column scaling, which is what sets κ."
            if growing
            else "the lead does not grow monotonically with κ on these seeds."
        )
    )


def speed_accuracy_conclusion(facts: dict, sizes, shape) -> str:
    """Whether the fastest config to the tolerance and the most accurate one want different
    learning rates, from the wide grid's facts (``sizes``: ``(size, n, d)`` triples)."""
    facts.update(speed_accuracy_facts(facts, [size for size, _, _ in sizes]))
    f = formatted(facts)
    text = (
        f"In {f['speed_accuracy_larger_lr']} of the {f['speed_accuracy_pairs']} (problem, "
        "optimizer) pairs on the wide grid that reach the tolerance, the fastest config to it "
        "uses a larger lr than the most accurate one"
    )
    pairs = [(s, o) for s, _, _ in sizes for o in OPTIMIZERS if f"{s}_wide_{o}_fastest_lr" in facts]
    larger = larger_lr_pairs(facts, pairs)
    if not larger:
        return text + "."
    text = "Speed and accuracy ask for different learning rates: " + text[0].lower() + text[1:]
    size, o = max(
        larger,
        key=lambda pair: (
            facts[f"{pair[0]}_wide_{pair[1]}_fastest_excess"]
            / facts[f"{pair[0]}_wide_{pair[1]}_excess"]
        ),
    )
    key = f"{size}_wide_{o}"
    return (
        text + f", and ends {f['speed_accuracy_excess_ratio']} times higher (median over those "
        f"pairs): e.g. {LABELS[o]} at {shape(size)} reaches the tolerance in a median "
        f"{f[key + '_fastest']} steps with lr = {f[key + '_fastest_lr']} and ends at "
        f"{f[key + '_fastest_excess']}, while lr = {f[key + '_learning_rate']} ends at "
        f"{f[key + '_excess']}, "
        + (
            f"reaching the tolerance after {f[key + '_steps']} steps (median over seeds)"
            if math.isfinite(facts[key + "_steps"])
            else "with the median seed never reaching the tolerance"
        )
        + ". A large step gets near the optimum fast; a small one settles lower in the SGD noise."
    )


def notebook_picks_conclusion(facts: dict, sizes, shape) -> str:
    """The notebook's tuned picks against the homework grid's best config, trained without
    the notebook's bugs: in detail on the last of ``sizes``, as counts on the others.

    A pick *holds* when it did not diverge and is the best or not separated from it: the
    95% interval of its paired ratio to the best over the seeds reaches 1. (The best was
    picked on these seeds, which favours it.) Adds the counts to ``facts``.
    """
    facts.update(notebook_picks_held(facts, sizes))
    f = formatted(facts)
    size = sizes[-1]
    parts = []
    for name, pick in NOTEBOOK_PICKS.items():
        key = f"{size}_{name}_pick"
        if facts[f"{key}_diverged"]:
            verdict = f"it diverged on {f[key + '_diverged']} of {f['n_seeds']} seeds"
        elif facts[f"{key}_is_best"]:
            verdict = "it is the grid's best"
        else:
            verdict = (
                f"{f[key + '_ratio']} times the best ({f['ci_level']}% interval "
                f"{f[key + '_ratio_low']}–{f[key + '_ratio_high']}, paired over the seeds): "
                + (
                    "above the best"
                    if facts[f"{key}_above_best"]
                    else "not separated from the best"
                )
            )
        parts.append(
            f"{LABELS[name]} {config_text(pick)} ends at {geometric_text(f, key)}: {verdict}"
        )
    others = [
        f"{f[f'{s}_notebook_picks_held']} of {f['notebook_picks']} at {shape(s)}"
        for s in sizes[:-1]
    ]
    return (
        "The notebook tuned each method on its buggy curves and picked the settings below as "
        "fastest and most accurate; their accuracy, trained without the bugs on "
        f"{shape(size)}, on the homework grid: "
        + "; ".join(parts)
        + f". {f[f'{size}_notebook_picks_held']} of the {f['notebook_picks']} picks are the "
        "grid's best or not separated from it on these seeds (the best was picked on them, "
        "which favours it)" + (f"; on the other problems {', '.join(others)}." if others else ".")
    )


def homework_grid_detail(facts: dict, size: str) -> str:
    """The homework grid's best configs at ``size``, its edges, and the wide grid's gains."""
    f = formatted(facts)
    gains = ", ".join(f"{LABELS[o]} {f[f'{size}_{o}_gain']}" for o in OPTIMIZERS)
    edge_names = [LABELS[o] for o in OPTIMIZERS if facts[f"{size}_hw_{o}_edge"]]
    edges = ", ".join(edge_names) if edge_names else "none"
    hw = "; ".join(
        f"{LABELS[o]} {config_text(config_of(facts, f'{size}_hw_{o}', o))} "
        f"({geometric_text(f, f'{size}_hw_{o}')})"
        for o in OPTIMIZERS
    )
    wide = "; ".join(
        f"{LABELS[o]} {config_text(config_of(facts, f'{size}_wide_{o}', o))}" for o in OPTIMIZERS
    )
    return (
        f"On the homework grid at {shape_of(f)(size)}, the best configs are {hw}; "
        f"{f[f'{size}_hw_edges']} of the {f['n_optimizers']} lie on the grid's edge ({edges}). "
        f"The wide grid lowers the best final excess loss by the factors {gains}, with best "
        f"configs {wide}."
    )


def decay_detail(f: dict, facts: dict, n_sizes: int) -> str:
    """Where the wide grid's best second-moment decays lie against the homework grid."""
    if facts["adam_b2_above_hw"] + facts["rmsprop_decay_above_hw"] > n_sizes:
        return (
            "The homework grid stops below the adaptive methods' best second-moment decay: the "
            f"wide grid's best β2 for Adam lies above the homework's largest value "
            f"{f['hw_beta_max']} on {f['adam_b2_above_hw']} of the {f['n_problems']} problems, "
            f"and RMSprop's best γ on {f['rmsprop_decay_above_hw']} (a plausible reason, not "
            "measured here: a slowly decaying average of g² gives a steadier per-coordinate "
            "step once the gradient is mostly noise)."
        )
    return (
        f"The wide grid's best β2 for Adam lies above the homework's largest value "
        f"{f['hw_beta_max']} on {f['adam_b2_above_hw']} of the {f['n_problems']} problems, and "
        f"RMSprop's best γ on {f['rmsprop_decay_above_hw']}."
    )


def lr_sensitivity_detail(facts: dict, sizes) -> str:
    """The width of each optimizer's good lr window, and the share of configs diverged."""
    f, shape = formatted(facts), shape_of(formatted(facts))
    parts = []
    for size in sizes:
        items = ", ".join(f"{LABELS[o]} {f[f'{size}_{o}_lr_decades']}" for o in OPTIMIZERS)
        diverged = ", ".join(
            f"{LABELS[o]} {f[f'{size}_wide_{o}_diverged_pct']}%" for o in OPTIMIZERS
        )
        parts.append(f"at {shape(size)} {items} (configs diverged: {diverged})")
    return (
        "Sensitivity to lr, as the width in decades of the lr window whose best final excess "
        f"loss is within a factor {f['sensitivity_factor']} of the optimizer's best: "
        + "; ".join(parts)
        + "."
    )


def _beta_speed_item(facts: dict, f: dict, size: str, o: str) -> str:
    """How much one optimizer's β, γ or β1 moves the fewest steps to the tolerance."""
    key, symbol = f"{size}_{o}", SYMBOL[BETA[o]]
    if f"{key}_beta_fastest" not in facts:
        return f"{LABELS[o]}: no value of {symbol} gets there"
    if facts[f"{key}_beta_never"] == facts["n_betas"] - 1:
        return f"{LABELS[o]}: only {symbol} = {f[key + '_beta_fastest']} gets there"
    never = (
        f"; values that never get there: {f[key + '_beta_never']}"
        if facts[f"{key}_beta_never"]
        else ""
    )
    return (
        f"{LABELS[o]}'s {symbol} ×{f[key + '_beta_steps_spread']} "
        f"(fastest {f[key + '_beta_fastest']}{never})"
    )


def beta_detail(facts: dict, sizes) -> str:
    """How much β, γ and β1 (the lr re-tuned) move the best final loss and the fewest steps."""
    f, shape = formatted(facts), shape_of(formatted(facts))
    parts = [
        f"at {shape(size)} "
        + ", ".join(
            f"{LABELS[o]}'s {SYMBOL[BETA[o]]} ×{f[f'{size}_{o}_beta_spread']} (best "
            f"{f[f'{size}_{o}_beta_best']})"
            for o in SWEPT
        )
        for size in sizes
    ]
    speed_parts = [
        f"at {shape(size)} " + ", ".join(_beta_speed_item(facts, f, size, o) for o in SWEPT)
        for size in sizes
    ]
    return (
        "The momentum and averaging parameters, each value with its lr re-tuned, move the best "
        "final excess loss by these factors (worst value over best, on the wide grid's "
        f"{f['n_betas']} values): "
        + "; ".join(parts)
        + ". They move the fewest (median) steps to the tolerance, among configs whose median "
        "seed ends below it, by these factors: "
        + "; ".join(speed_parts)
        + ". Where more than one value gets there, the fastest and the most accurate value "
        f"coincide in {f['beta_same_for_speed_and_accuracy']} of the {f['beta_pairs']} "
        "(problem, optimizer) pairs (on the tuning seeds)."
    )


def stability(facts: dict, sizes) -> dict:
    """Where SGD and Momentum stop being stable on the wide grid, as flags.

    ``set_by_L``: at every problem some SGD config diverged and SGD's largest stable lr is
    the last grid value at or below ``2/L``; ``momentum_diverges``: Momentum diverged
    somewhere at every problem; ``momentum_larger``: Momentum's largest stable lr is above
    SGD's at every problem; ``adaptive_safe``: no RMSprop or Adam config diverged.
    """
    spacing = (facts["wide_lr_max"] / facts["wide_lr_min"]) ** (1 / (facts["n_wide_lrs"] - 1))
    stable = {
        (s, o): facts.get(f"{s}_{o}_lr_max_stable", math.nan)
        for s in sizes
        for o in ("sgd", "momentum")
    }
    return {
        "set_by_L": all(
            facts[f"{s}_wide_sgd_diverged_pct"] > 0
            and stable[s, "sgd"] <= facts[f"two_over_L_{s}"] < stable[s, "sgd"] * spacing
            for s in sizes
        ),
        "momentum_diverges": all(facts[f"{s}_wide_momentum_diverged_pct"] > 0 for s in sizes),
        "momentum_larger": all(stable[s, "momentum"] > stable[s, "sgd"] for s in sizes),
        "adaptive_safe": all(
            facts[f"{s}_wide_{o}_diverged_pct"] == 0 for s in sizes for o in ADAPTIVE
        ),
    }


def divergence_conclusion(facts: dict, sizes, shape) -> str:
    """Where SGD and Momentum stop being stable, and whether RMSprop and Adam ever diverge,
    each claim made only where :func:`stability` finds it."""
    f = formatted(facts)
    flags = stability(facts, sizes)
    sgd = ", ".join(
        f"{f.get(f'{s}_sgd_lr_max_stable', 'none')} at {shape(s)} (`2/L` = {f[f'two_over_L_{s}']})"
        for s in sizes
    )
    sgd = (
        "SGD's largest stable lr on the grid (its best config ends below the initial excess "
        f"loss) is {sgd}"
    )
    if flags["set_by_L"]:
        who = "SGD and Momentum diverge" if flags["momentum_diverges"] else "SGD diverges"
        sentence = f"{who} above a step set by the largest curvature L: {sgd}"
    else:
        sentence = (
            "On this grid the largest curvature L does not set where SGD stops being stable "
            f"everywhere: {sgd}"
        )
    momentum = ", ".join(f.get(f"{s}_momentum_lr_max_stable", "none") for s in sizes)
    if flags["momentum_larger"]:
        sentence += (
            f"; Momentum's is larger ({momentum}) because the EMA form is heavy ball with the "
            "step `lr·(1 − β)`. "
        )
    else:
        sentence += f"; Momentum's is {momentum}, not larger than SGD's at every problem. "
    return sentence + (
        "RMSprop and Adam, whose step per coordinate is about lr whatever the gradient's scale, "
        "diverge nowhere on the wide grid."
        if flags["adaptive_safe"]
        else "RMSprop and Adam diverge too at the largest lrs (percentages above)."
    )


def trajectory_conclusion(facts: dict, names=OPTIMIZERS) -> str:
    """The sentence on the small problem's trajectories.

    "Jitter at the noise floor" only when every run's mean excess loss after first reaching
    the tolerance is at most ``facts["floor_factor"]`` tolerances; "the approach, bent by
    the elongated contours" only when every approach is longer than the straight line by a
    factor above ``facts["bend_min"]``; else the measured quantities alone.
    """
    f = formatted(facts)

    def listed(what):
        return ", ".join(f.get(f"small_{o}_{what}", "never") for o in names)

    ratios = {o: facts[f"small_{o}_path_ratio"] for o in names}
    longest, straightest = max(names, key=ratios.get), min(names, key=ratios.get)

    def extreme(which, name, separated):
        verdict = "separated from the next" if facts[separated] else "not separated from the next"
        return f"{which}: {LABELS[name]}, {verdict} at {f['ci_level']}%"

    reached = all(f"small_{o}_bend" in facts for o in names)
    at_floor = reached and all(facts[f"small_{o}_floor"] <= facts["floor_factor"] for o in names)
    bent = reached and all(facts[f"small_{o}_bend"] > facts["bend_min"] for o in names)
    floor = f"(mean excess loss there over the tolerance: {listed('floor')})"
    after = f", jitter at the noise floor {floor}" if at_floor else f" {floor}"
    bend = (
        "its length over the straight line from the start to where it first reaches the "
        f"tolerance: {listed('bend')}"
    )
    before = (
        f"the rest is the approach, bent by the elongated contours (κ = {f['kappa_small']}; {bend})"
        if bent
        else "the rest is the approach (steps to the tolerance: "
        f"{listed('approach_steps')}; {bend})"
    )
    paths = ", ".join(
        f"{LABELS[o]} {f[f'small_{o}_path_ratio']} ± {f[f'small_{o}_path_ratio_half']}"
        for o in names
    )
    return (
        f"Trajectories on ({f['n_small']}, {f['d_small']}) (best configs): the path length over "
        f"the initial distance to w*, mean ± {f['ci_level']}% over the {f['n_seeds']} tuning "
        f"seeds, is {paths} ({extreme('the longest', longest, 'path_longest_separated')}; "
        f"{extreme('the straightest', straightest, 'path_straightest_separated')}, paired over "
        f"the seeds). On the first seed (the figure) a share of {listed('jitter_share')} (same "
        "order) of the path is travelled after the run first reaches the tolerance"
        f"{after}; {before}. The single runs and the sweeps agree to a relative "
        f"{f['trajectory_gap']} in the final excess loss (SGD: `jh.sgd` against Momentum at "
        "`β = 0`)."
    )


def gd_conclusion(facts: dict, sizes) -> str:
    """The sentence on full-batch GD against SGD on each homework problem of ``sizes``."""
    f = formatted(facts)
    parts = []
    for size in sizes:
        key, shape = f"{size}_gd", f"({f['n_' + size]}, {f['d_' + size]})"
        reach = (
            f"reaches the tolerance in {f[key + '_steps_gm']} steps ({f['ci_level']}% "
            f"{f[key + '_steps_low']}–{f[key + '_steps_high']})"
            if facts[f"{key}_reached"] == facts["n_holdout"]
            else f"reaches the tolerance on {f[key + '_reached']} of {f['n_holdout']} seeds"
        )
        end = (
            f"ends at {f[key + '_excess_gm']}, {f[key + '_floor_ratio']} times below SGD's "
            "noise floor"
            if facts[f"{key}_floor_ratio"] > 1
            else f"ends at {f[key + '_excess_gm']}, not below SGD's noise floor"
        )
        rows = facts.get(f"{key}_rows_ratio")
        work = (
            ""
            if rows is None
            else f", reading {f[key + '_rows_ratio']} times the rows SGD's fastest config reads "
            "to the tolerance"
            if rows >= 1
            else f", reading {fmt(1 / rows)} times fewer rows than SGD's fastest config"
        )
        parts.append(f"at {shape} it {reach} and {end}{work}")
    return (
        "Full-batch GD at `α = 2/(L+μ)`, which the homework leaves out (held-out seeds, same "
        "tolerance): " + "; ".join(parts) + "."
    )
