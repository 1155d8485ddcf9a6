"""The noise-floor study's figures: the floors against α and B, and measured over predicted."""

from __future__ import annotations

import numpy as np

from jaxopt_hw import plots
from jaxopt_hw.studies import Settings
from jaxopt_hw.studies.noise_floor.measure import Data


def _ratio_figure(batches, steps_l, ratio, additive_ratio, path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    for i, a in enumerate(steps_l):
        color = f"C{i}"
        ax.plot(
            batches, ratio[:, i], marker="o", color=color, label=f"α = {a:g}/L: full prediction"
        )
        ax.plot(
            batches,
            additive_ratio[:, i],
            marker="o",
            markerfacecolor="none",
            linestyle=":",
            color=color,
            label=f"α = {a:g}/L: additive Lyapunov (with replacement)",
        )
    ax.axhline(1.0, color="k", linewidth=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(batches), [str(b) for b in batches])
    ax.set_xlabel("batch size B")
    ax.set_ylabel("measured / predicted floor")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("noise floor: measured over predicted")
    plots.save_figure(fig, path)


def figures(data: Data, settings: Settings) -> list:
    """Draws the study's three figures; ``[(file name, caption)]``."""
    batches, steps_l = data.batches, data.steps_l
    mean, half, predicted = data.measured, data.half_width, data.predicted
    alpha_name, batch_name, ratio_name = (
        "noise_floor_vs_alpha.png",
        "noise_floor_vs_batch.png",
        "noise_floor_ratio.png",
    )
    plots.scaling(
        np.asarray(steps_l),
        {f"B = {b}": (mean[i], half[i]) for i, b in enumerate(batches)},
        theory={f"B = {b}": predicted[i] for i, b in enumerate(batches)},
        xlabel="step size α·L",
        ylabel="stationary excess loss",
        path=settings.figure_path(alpha_name),
        title="SGD noise floor against the step size (dashed: theory)",
    )
    plots.scaling(
        np.asarray(batches, dtype=float),
        {f"α = {a:g}/L": (mean[:, j], half[:, j]) for j, a in enumerate(steps_l)},
        theory={f"α = {a:g}/L": predicted[:, j] for j, a in enumerate(steps_l)},
        xlabel="batch size B",
        ylabel="stationary excess loss",
        path=settings.figure_path(batch_name),
        title="SGD noise floor against the batch size (dashed: theory)",
    )
    _ratio_figure(
        batches, steps_l, data.ratio, data.additive_ratio, settings.figure_path(ratio_name)
    )
    return [
        (
            alpha_name,
            "The floor against α per batch size; bars: 95% over seeds; dashed: predicted.",
        ),
        (batch_name, "The same floors against the batch size, one line per step size."),
        (ratio_name, "Measured over predicted: full prediction (filled), additive noise (hollow)."),
    ]
