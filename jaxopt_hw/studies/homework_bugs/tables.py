"""The bugs study's tables and its protocol paragraph, from its facts."""

from __future__ import annotations

from jaxopt_hw import homework_faithful as hf
from jaxopt_hw import metrics
from jaxopt_hw.problems import HOMEWORK_SIZES
from jaxopt_hw.studies import fmt, formatted
from jaxopt_hw.studies.homework_bugs.measure import (
    CONFIDENCE,
    DROP,
    LABELS,
    MAIN,
    OPTIMIZERS,
    VARIANT_LABELS,
    VARIANTS,
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


def finals_table(facts: dict, size: str) -> str:
    """Final excess loss of every variant on ``size``, and the zero vector's."""
    n, d = HOMEWORK_SIZES[size]
    header = "| variant | " + " | ".join(LABELS[o] for o in OPTIMIZERS) + " |"
    rows = [
        f"Final excess loss on the {size} problem (n = {n}, d = {d}), geometric mean and "
        f"{CONFIDENCE}% interval over "
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


def steps_table(facts: dict) -> str:
    """Median steps to cover ``DROP`` of the drop, every variant on the main problem."""
    rows = [
        f"Steps until the excess loss has covered {int(round(100 * DROP))}% of its drop from the "
        "initial to the final "
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


def protocol(facts: dict, sizes) -> str:
    """The protocol: the problems, settings and variants run."""
    f = formatted(facts)
    return (
        f"The notebook's comparison re-run on the homework problem '{MAIN}' (n = {f[MAIN + '.n']}, "
        f"d = {f[MAIN + '.d']})"
        + ("" if len(sizes) == 1 else " and the others")
        + ": Momentum, RMSprop and Adam at the notebook's hyperparameters as far as its truncated "
        "calls show "
        f"(learning rate {f['learning_rate']}, "
        f"β = γ = β1 = {f['beta']}, β2 = {f['b2']}, ε inside the square root), batch "
        f"{f['batch_size']}, "
        f"{f['steps']} steps, {f['n_seeds']} seeds, with all bugs off, each bug alone, and bugs "
        f"{f['bug.assign_step']}, {f['bug.bias_1_minus_beta']} and {f['bug.grad_over_n']} together "
        "(what the "
        f"notebook's curves show; bug {f['bug.returns_initial']} changes only the returned "
        "weights). Entries are "
        "the final excess loss `f(w) − f*` of the full data, geometric mean and "
        f"{f['confidence']}% interval over seeds. Every "
        f"variant of a seed starts at the same point and sees the same batches."
    )
