"""The theory study's figures: the distance curves and the rates against κ."""

from __future__ import annotations

import math

import numpy as np

from jaxopt_hw import plots
from jaxopt_hw.studies.theory.measure import LABELS, METHODS


def curves_figure(rows, kappas, path) -> None:
    """Rows: methods; columns: κ. ‖w_t − w*‖/‖w_0 − w*‖ on a log scale, the fit window
    shaded and the predicted slope ρ^t drawn through the end of the window."""
    from matplotlib.figure import Figure

    shown = [k for k in kappas if k in (10, 100, 1000, 10000)] or list(kappas)[:4]
    fig = Figure(figsize=(3.6 * len(shown), 2.8 * len(METHODS)), layout="constrained")
    axes = fig.subplots(len(METHODS), len(shown), squeeze=False)
    for i, method in enumerate(METHODS):
        for j, kappa in enumerate(shown):
            ax = axes[i][j]
            row = next(r for r in rows if r["kappa"] == kappa and r["method"] == method)
            steps, curve = row["curve"]
            ax.semilogy(steps, curve, color="C0", linewidth=1.4, label="measured (first seed)")
            fit = row["fits"][0]
            if math.isfinite(fit["stop"]):
                ax.axvspan(fit["start"], fit["stop"], color="0.85", zorder=0, label="fit window")
                anchor_step = fit["stop"]
                anchor = np.interp(anchor_step, steps, curve)
                grid = np.linspace(0, steps[-1], 200)
                theory = anchor * row["predicted"] ** (grid - anchor_step)
                keep = (theory >= curve[curve > 0].min() * 0.1) & (theory <= 10.0)
                ax.semilogy(
                    grid[keep],
                    theory[keep],
                    "--",
                    color="C3",
                    linewidth=1.2,
                    label="predicted slope ρ^t",
                )
            ax.set_title(f"{LABELS[method]}, κ = {kappa:g}", fontsize=9)
            ax.grid(True, which="major", alpha=0.3)
            if j == 0:
                ax.set_ylabel("‖w − w*‖ / ‖w₀ − w*‖")
            if i == len(METHODS) - 1:
                ax.set_xlabel("step")
            if i == 0 and j == 0:
                ax.legend(fontsize=7)
    plots.save_figure(fig, path)


def rates_figure(rows, kappas, path) -> None:
    """``1 − ρ`` measured (markers) and predicted (lines) against κ, log–log."""
    measured, predicted = {}, {}
    for method in METHODS:
        chosen = [
            next(r for r in rows if r["kappa"] == k and r["method"] == method) for k in kappas
        ]
        measured[LABELS[method]] = np.array([1 - r["measured"] for r in chosen])
        predicted[LABELS[method]] = np.array([1 - r["predicted"] for r in chosen])
    fig = plots.rates_table_plot(
        np.asarray(kappas, dtype=float),
        measured,
        predicted,
        ylabel="1 − ρ (contraction gap per step)",
        title="linear rate of ‖w − w*‖ against κ",
    )
    fig.axes[0].set_yscale("log")
    plots.save_figure(fig, path)
