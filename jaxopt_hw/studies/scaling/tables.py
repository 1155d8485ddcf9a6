"""The scaling study's tables: one compact table of facts, and every size in full."""

from __future__ import annotations

import math

from jaxopt_hw.studies import fmt
from jaxopt_hw.studies.comparison import LABELS, OPTIMIZERS, SYMBOL
from jaxopt_hw.studies.scaling.facts import CI_LEVEL
from jaxopt_hw.studies.scaling.measure import D_FIXED, KAPPA_FIXED, N_FIXED

__all__ = ["summary_table", "size_table"]


def summary_table(facts: dict, ds, kappa_ds, ns) -> str:
    """One line per size of the three scans: κ, each optimizer's steps and final excess loss.

    Every number is one of ``facts``; "—" marks a tolerance not reached by every seed.
    """
    names = " · ".join(LABELS[o] for o in OPTIMIZERS)
    lines = [
        f"| scan | n | d | κ | steps to tol ({names}) | final excess loss (same order) |",
        "|---|---|---|---|---|---|",
    ]
    recipe = [(N_FIXED, d) for d in ds]
    scans = [("d", f"n{n}_d{d}") for n, d in recipe]
    scans += [("n", f"n{n}_d{D_FIXED}") for n in ns if (n, D_FIXED) not in recipe]
    scans += [(f"κ = {fmt(KAPPA_FIXED)}", f"kappa{KAPPA_FIXED:g}_d{d}") for d in kappa_ds]
    for scan, key in scans:
        steps = " · ".join(fmt(facts.get(f"{key}_{o}_steps", math.inf)) for o in OPTIMIZERS)
        excess = " · ".join(fmt(facts[f"{key}_{o}_excess"]) for o in OPTIMIZERS)
        lines.append(
            f"| {scan} | {fmt(facts[key + '_n'])} | {fmt(facts[key + '_d'])} | "
            f"{fmt(facts[key + '_kappa'])} | {steps.replace('∞', '—')} | {excess} |"
        )
    return "\n".join(lines)


def size_table(caption: str, rows: list, n_seeds: int) -> str:
    """One line per size and optimizer, under a caption.

    The best config, its final excess loss and distance, the fastest config's steps to the
    tolerance, and the sweeps' seconds.
    """
    header = (
        f"*{caption}*\n\n| n | d | κ | optimizer | best config | final excess loss (geometric "
        f"mean, {CI_LEVEL}%) | ‖w − w*‖ (± {CI_LEVEL}%) | steps to tol, fastest config "
        f"(geometric mean, {CI_LEVEL}%) | run s / compile s (sweep) |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    lines = [header]
    for row in rows:
        for name in OPTIMIZERS:
            r = row.tuned[name]
            config = ", ".join(f"{SYMBOL.get(h, h)} = {v:.3g}" for h, v in r.config.items())
            if math.isfinite(r.steps):
                reach = r.steps_text
            elif math.isfinite(r.steps_median):
                reach = f"median {r.steps_median:.0f} ({r.reached}/{n_seeds} seeds)"
            else:
                reach = "never"
            lines.append(
                f"| {row.n} | {row.d} | {row.kappa:.3g} | {LABELS[name]} | {config} | "
                f"{r.excess_text} | {r.dist:.3g} ± {r.dist_half:.2g} | {reach} | "
                f"{r.run_seconds:.2f} / {r.compile_seconds:.2f} |"
            )
    return "\n".join(lines)
