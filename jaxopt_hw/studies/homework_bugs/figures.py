"""The bugs study's figures: the convergence per variant and the small problem's paths."""

from __future__ import annotations

import numpy as np

from jaxopt_hw import homework_faithful as hf
from jaxopt_hw import plots
from jaxopt_hw.studies import Settings
from jaxopt_hw.studies.homework_bugs.measure import (
    FIGURE_LABELS,
    LABELS,
    LINE_STYLES,
    MAIN,
    NAME,
    OPTIMIZERS,
    VARIANTS,
    Data,
    SizeRun,
    variant_key,
)


def _figure(run: SizeRun, steps: int, path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15.0, 4.4), layout="constrained")
    axes = fig.subplots(1, len(OPTIMIZERS))
    x = np.arange(steps + 1)
    for ax, optimizer in zip(axes, OPTIMIZERS):
        shared = {}  # dynamics -> the variants that have them (Momentum as written = bug 4)
        for variant in VARIANTS:
            if variant == "returns_initial" or (
                variant != "correct"
                and variant != "notebook"
                and variant not in hf.bugs_of(optimizer)
            ):
                continue
            shared.setdefault(variant_key(optimizer, variant), []).append(variant)
        curves, styles = {}, []
        for key, variants in shared.items():
            label = " = ".join(FIGURE_LABELS[variant] for variant in variants)
            curves[label] = np.where(run.diverged[key][:, None], np.nan, run.curves[key])
            styles.append(LINE_STYLES[variants[0]])
        initial = run.curves[variant_key(optimizer, "correct")][:, :1]
        curves[FIGURE_LABELS["returns_initial"]] = np.repeat(initial, steps + 1, axis=1)
        styles.append(LINE_STYLES["returns_initial"])
        plots.convergence(
            curves, x, ax=ax, title=f"{LABELS[optimizer]}", ylabel="excess loss f(w) − f*"
        )
        for line, (style, width) in zip(ax.get_lines(), styles):  # identical curves stay visible
            line.set_linestyle(style)
            line.set_linewidth(width)
        ax.axhline(run.zero_excess, color="black", linestyle=":", linewidth=1.0)
        ax.annotate("w = 0", (x[-1], run.zero_excess), ha="right", va="bottom", fontsize=8)
        ax.legend(fontsize=7, loc="lower left", framealpha=0.85)
    plots.save_figure(fig, path)


def _contour_figure(run: SizeRun, path) -> None:
    """The small (2-D) problem: trajectories of the correct and the written Adam and
    RMSprop, first seed."""
    trajectories = {}
    for optimizer in ("adam", "rmsprop"):
        for variant in ("correct", "notebook"):
            label = f"{LABELS[optimizer]} ({'correct' if variant == 'correct' else 'as written'})"
            trajectories[label] = run.trajectories[variant_key(optimizer, variant)][0]
    plots.contour_trajectories(
        run.prob, trajectories, path=path, title="Small problem: correct vs as written"
    )


def figures(data: Data, contour_caption: str, settings: Settings) -> list:
    """Draws the convergence figure (and the small problem's paths); ``[(name, caption)]``."""
    curves_name = f"{NAME}_convergence.png"
    _figure(data.runs[MAIN], data.steps, settings.figure_path(curves_name))
    figures = [
        (
            curves_name,
            f"Excess loss per step on the {MAIN} problem, correct and with each bug; dotted: w = "
            "0.",
        )
    ]
    if "small" in data.runs:
        contour_name = f"{NAME}_trajectories_small.png"
        _contour_figure(data.runs["small"], settings.figure_path(contour_name))
        figures.append((contour_name, contour_caption))
    return figures
