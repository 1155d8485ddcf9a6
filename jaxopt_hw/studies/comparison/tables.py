"""The comparison's further tables for ``details.md``: both grids' best configs, the
held-out re-runs, and the lr windows."""

from __future__ import annotations

import math

from jaxopt_hw import metrics
from jaxopt_hw.studies.comparison.grids import (
    CI_LEVEL,
    GRID_LABELS,
    GRIDS,
    LABELS,
    OPTIMIZERS,
    SENSITIVITY_FACTOR,
    config_text,
    steps_cell,
)
from jaxopt_hw.studies.comparison.measure import Measured


def detail_tables(data: Measured, facts: dict) -> list:
    """The three tables, in the order the details cite them."""
    return [grid_table(data), heldout_table(data), sensitivity_table(data, facts)]


def geometric_cell(summary: dict) -> str:
    """A table cell: ``"3.1e-05 (95% 1e-05–8.4e-05)"``."""
    return metrics.log_interval_text(
        summary["excess_gm"], summary["excess_gm_low"], summary["excess_gm_high"]
    )


def _shape(runs) -> str:
    return f"{runs.problem.n}×{runs.problem.X.shape[1]}"


def grid_table(data: Measured) -> str:
    """Each grid's best config per problem and optimizer, and how fast it and the fastest get
    to the tolerance."""
    lines = [
        f"| problem | grid | optimizer | best config | final excess loss (geometric mean, "
        f"{CI_LEVEL}%) | ‖w − w*‖ | median steps to tol (best config) | median steps (fastest "
        "config) | diverged configs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for runs in data.runs.values():
        for grid in GRIDS:
            for name in OPTIMIZERS:
                s = runs.summaries[grid][name]
                lines.append(
                    f"| {_shape(runs)} | {GRID_LABELS[grid]} | {LABELS[name]} | "
                    f"{config_text(s['config'])} | {geometric_cell(s)} | {s['dist']:.3g} | "
                    f"{steps_cell(s['steps'])} | {steps_cell(s['fastest'])} | "
                    f"{s['diverged_pct']:.0f}% of {s['n_configs']} |"
                )
    return "\n".join(lines)


def heldout_table(data: Measured) -> str:
    """The wide grid's best and fastest configs on the tuning and the held-out seeds."""
    lines = [
        f"| problem | optimizer | best config | final excess loss, tuning seeds (geometric "
        f"mean, {CI_LEVEL}%) | held-out seeds (geometric mean, {CI_LEVEL}%) | held-out / tuning "
        "| fastest config | median steps to tol, held-out | held-out seeds ending below tol |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for runs in data.runs.values():
        for name in OPTIMIZERS:
            picked, h = runs.summaries["wide"][name], runs.heldout[name]
            found = math.isfinite(picked["fastest"])
            below = f"{h['fastest_below']} of {len(data.holdout)}" if found else "–"
            fastest = config_text(picked["fastest_config"]) if found else "–"
            lines.append(
                f"| {_shape(runs)} | {LABELS[name]} | {config_text(picked['config'])} | "
                f"{geometric_cell(picked)} | {geometric_cell(h)} | "
                f"{h['excess'] / picked['excess']:.3g} | {fastest} | "
                f"{steps_cell(h['fastest'])} | {below} |"
            )
    return "\n".join(lines)


def sensitivity_table(data: Measured, facts: dict) -> str:
    """Each optimizer's good lr window, its largest stable lr and the wide grid's gain."""
    lines = [
        f"| problem | optimizer | lr window (best within ×{SENSITIVITY_FACTOR:g}) | decades | "
        "largest stable lr | gain of the wide grid |",
        "|---|---|---|---|---|---|",
    ]
    for size, runs in data.runs.items():
        for name in OPTIMIZERS:
            p = runs.profiles[name]
            lines.append(
                f"| {_shape(runs)} | {LABELS[name]} | {p['lo']:.3g} – {p['hi']:.3g} | "
                f"{p['decades']:.2f} | {p['lr_max_stable']:.3g} | "
                f"{facts[f'{size}_{name}_gain']:.3g}× |"
            )
    return "\n".join(lines)
