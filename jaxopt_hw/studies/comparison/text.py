"""The comparison's report text: one paragraph, one table and one short sentence per
conclusion, each branching on the facts (the statistics in full are in :mod:`.details`)."""

from __future__ import annotations

import math

from jaxopt_hw.studies import fmt
from jaxopt_hw.studies.comparison.details import (
    adaptive_leads,
    config_of,
    formatted,
    heldout_order,
    shape_of,
    stability,
)
from jaxopt_hw.studies.comparison.grids import (
    BETA,
    LABELS,
    OPTIMIZERS,
    SWEPT,
    SYMBOL,
    config_text,
    steps_cell,
)


def paragraph(facts: dict, sizes) -> str:
    """What was run, in one short paragraph."""
    f, shape = formatted(facts), shape_of(formatted(facts))
    return (
        f"The homework's least-squares problems {', '.join(shape(s) for s in sizes)} (κ = "
        f"{', '.join(f[f'kappa_{s}'] for s in sizes)}; batch {f['batch_size']}, {f['steps']} "
        f"steps). Each optimizer is tuned on {f['n_seeds']} seeds over a wide grid (lr from "
        f"{f['wide_lr_min']} to {f['wide_lr_max']}, β up to {f['wide_beta_max']}) that contains "
        "the homework's grid; SGD is Momentum at `β = 0`. Its best config (lowest mean final "
        "excess loss) and fastest config (fewest steps to the tolerance, "
        f"{f['tol_percent']}% of the minimal loss) are then re-run on {f['n_holdout']} held-out "
        "seeds, which the table and the rankings use."
    )


def table(facts: dict, sizes) -> str:
    """Per problem and optimizer: the best config and what it and the fastest reach held out."""
    lines = [
        "| problem | optimizer | best config | final excess loss, held out "
        f"({fmt(facts['ci_level'])}%) | fastest config's steps to tol., held out |",
        "|---|---|---|---|---|",
    ]
    for size in sizes:
        shape = f"{fmt(facts[f'n_{size}'])}×{fmt(facts[f'd_{size}'])}"
        for o in OPTIMIZERS:
            key = f"{size}_heldout_{o}_excess_gm"
            excess = f"{fmt(facts[key])} ({fmt(facts[key + '_low'])}–{fmt(facts[key + '_high'])})"
            config = config_text(config_of(facts, f"{size}_wide_{o}", o))
            steps = steps_cell(facts[f"{size}_heldout_{o}_fastest"])
            lines.append(f"| {shape} | {LABELS[o]} | {config} | {excess} | {steps} |")
    return "\n".join(lines)


def conclusions(facts: dict, sizes) -> list:
    """The short conclusions, in the order a reader asks them."""
    return [
        accuracy(facts, sizes),
        speed(facts, sizes),
        adam_claim(facts),
        winners_luck(facts),
        lr_trade(facts),
        betas(facts, sizes),
        stable_lrs(facts, sizes),
        homework_grid(facts, sizes),
        full_batch_gd(facts, sizes),
    ]


def accuracy(facts: dict, sizes) -> str:
    """The held-out leader per problem, and whether the seeds separate it from the next."""
    f, shape = formatted(facts), shape_of(formatted(facts))
    leaders = ", ".join(f"{LABELS[heldout_order(facts, s)[0]]} at {shape(s)}" for s in sizes)
    separated, count = facts["heldout_separated_count"], facts["n_problems"]
    tell = (
        f"the seeds cannot tell the top two apart on any of the {f['n_problems']} problems"
        if separated == 0
        else "the seeds separate the top two on every problem"
        if separated == count
        else f"the seeds separate the top two on {f['heldout_separated_count']} of the "
        f"{f['n_problems']} problems"
    )
    return f"Most accurate on the held-out seeds: {leaders}; {tell}."


def speed(facts: dict, sizes) -> str:
    """The fastest to the tolerance per problem, and whether the adaptive lead grows with κ."""
    f, shape = formatted(facts), shape_of(formatted(facts))
    parts = []
    for size in sizes:
        first = min(OPTIMIZERS, key=lambda o: facts[f"{size}_heldout_{o}_fastest"])
        steps = facts[f"{size}_heldout_{first}_fastest"]
        parts.append(
            f"{LABELS[first]} at {shape(size)} ({f[f'{size}_heldout_{first}_fastest']} steps)"
            if math.isfinite(steps)
            else f"none at {shape(size)}"
        )
    _, growing = adaptive_leads(facts, sizes)
    lead = "grows" if growing else "does not grow steadily"
    return (
        f"Fastest to the tolerance (median held-out steps): {', '.join(parts)}. The lead of "
        f"the faster of RMSprop and Adam over SGD {lead} with κ."
    )


def adam_claim(facts: dict) -> str:
    """The homework's verdict (Adam fastest and most accurate) against the held-out ranking."""
    f = formatted(facts)
    n = facts["n_problems"]
    verdict = "The homework's verdict, Adam fastest and most accurate,"
    if facts["adam_fastest_count"] == facts["adam_accurate_separated_count"] == n:
        return f"{verdict} holds on every problem."
    if facts["adam_fastest_count"] == facts["adam_accurate_count"] == 0:
        return f"{verdict} holds on none of the {f['n_problems']} problems."
    return (
        f"{verdict} holds in part: Adam is the fastest on {f['adam_fastest_count']} and the most "
        f"accurate on {f['adam_accurate_count']} of the {f['n_problems']} problems (separated "
        f"from the runner-up on {f['adam_accurate_separated_count']})."
    )


def winners_luck(facts: dict) -> str:
    """How much worse a best config does on seeds it was not picked on."""
    f = formatted(facts)
    where = f"median over {f['optimism_pairs']} (problem, optimizer) pairs"
    if facts["optimism_median"] > 1:
        return (
            f"A config picked as the best on the tuning seeds ends {f['optimism_median']} times "
            f"higher on the held-out seeds ({where}): the winner's luck, which the held-out "
            "rankings leave out."
        )
    return (
        f"A config picked as the best on the tuning seeds ends no higher on the held-out seeds "
        f"({f['optimism_median']} times, {where})."
    )


def lr_trade(facts: dict) -> str:
    """Whether the fastest config wants a larger lr than the most accurate one."""
    f = formatted(facts)
    if facts["speed_accuracy_larger_lr"]:
        return (
            f"Speed and accuracy ask for different lrs: in {f['speed_accuracy_larger_lr']} of "
            f"{f['speed_accuracy_pairs']} tuned pairs the fastest config uses a larger lr than "
            f"the most accurate and ends {f['speed_accuracy_excess_ratio']} times higher (median)."
        )
    return (
        f"In none of the {f['speed_accuracy_pairs']} tuned pairs does the fastest config use a "
        "larger lr than the most accurate: one lr serves both."
    )


def betas(facts: dict, sizes) -> str:
    """Which of β, γ and β1 (the lr re-tuned) moves the best final loss most, and least."""
    f, shape = formatted(facts), shape_of(formatted(facts))
    spreads = {
        (s, o): facts[f"{s}_{o}_beta_spread"]
        for s in sizes
        for o in SWEPT
        if math.isfinite(facts[f"{s}_{o}_beta_spread"])
    }
    if not spreads:
        return "No value of β, γ or β1 kept all its seeds on the wide grid."

    def named(pair):
        s, o = pair
        return f"×{f[f'{s}_{o}_beta_spread']} ({LABELS[o]}'s {SYMBOL[BETA[o]]} at {shape(s)})"

    most, least = max(spreads, key=spreads.get), min(spreads, key=spreads.get)
    return (
        "With the lr re-tuned for each value, β, γ and β1 move the best final excess loss by "
        f"up to {named(most)} and by as little as {named(least)} (worst value over best)."
    )


def stable_lrs(facts: dict, sizes) -> str:
    """Where SGD and Momentum stop being stable, and whether RMSprop and Adam ever do."""
    f, shape = formatted(facts), shape_of(formatted(facts))
    flags = stability(facts, sizes)
    if flags["set_by_L"]:
        who = "SGD and Momentum diverge" if flags["momentum_diverges"] else "SGD diverges"
        size = sizes[-1]
        first = (
            f"{who} above a step set by the largest curvature L (at {shape(size)} SGD's largest "
            f"stable lr is {f[f'{size}_sgd_lr_max_stable']}, `2/L` "
            f"= {f[f'two_over_L_{size}']})"
        )
    else:
        first = "The largest curvature L does not set where SGD stops being stable on every problem"
    adaptive = (
        "RMSprop and Adam diverge nowhere on the wide grid"
        if flags["adaptive_safe"]
        else "RMSprop and Adam diverge too at the largest lrs"
    )
    return f"{first}; {adaptive}."


def homework_grid(facts: dict, sizes) -> str:
    """Whether the homework grid is too narrow, and how the notebook's picks fare on it."""
    f, shape = formatted(facts), shape_of(formatted(facts))
    size = sizes[-1]
    gains = {(s, o): facts[f"{s}_{o}_gain"] for s in sizes for o in OPTIMIZERS}
    top = max(gains, key=gains.get)
    edges = (
        f"{f[f'{size}_hw_edges']} of its {f['n_optimizers']} best configs lie on its edge"
        if facts[f"{size}_hw_edges"]
        else "none of its best configs lies on its edge"
    )
    gain = (
        f"the wide grid lowers the best final excess loss by up to ×{f[f'{top[0]}_{top[1]}_gain']} "
        f"({LABELS[top[1]]} at {shape(top[0])})"
        if gains[top] > 1
        else "the wide grid lowers no best final excess loss"
    )
    return (
        f"On the homework grid at {shape(size)}, {edges}, and {gain}; "
        f"{f[f'{size}_notebook_picks_held']} of the notebook's {f['notebook_picks']} picks are "
        "the grid's best or not separated from it there."
    )


def full_batch_gd(facts: dict, sizes) -> str:
    """How far below SGD's noise floor full-batch GD ends on each problem."""
    f, shape = formatted(facts), shape_of(formatted(facts))
    parts = [
        f"{f[f'{s}_gd_floor_ratio']} times below it at {shape(s)}"
        if facts[f"{s}_gd_floor_ratio"] > 1
        else f"not below it at {shape(s)}"
        for s in sizes
    ]
    return (
        "Full-batch GD at `α = 2/(L+μ)`, which the homework leaves out, against SGD's noise "
        f"floor: it ends {', '.join(parts)}."
    )


def other_figures(others: list) -> str:
    """A details sentence linking the figures of the problems the report does not show."""
    links = ", ".join(f"[{label}](figures/{name})" for name, label in others)
    return f"The same figures on the other problems: {links}."
