"""The scaling study's tables: every size of a scan, one line per optimizer."""

from __future__ import annotations

import math

from jaxopt_hw.studies.comparison import LABELS, OPTIMIZERS, SYMBOL
from jaxopt_hw.studies.scaling.facts import CI_LEVEL

__all__ = ["size_table"]


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
