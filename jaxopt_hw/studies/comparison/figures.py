"""The comparison's figures: the summary, trajectories, convergence, heatmaps and lr
sensitivity."""

from __future__ import annotations

import numpy as np

from jaxopt_hw import plots
from jaxopt_hw.plots.figure import positive_floor
from jaxopt_hw.studies import Settings
from jaxopt_hw.studies.comparison.grids import (
    BETA,
    FIGURE_SIZES_FULL,
    FIGURE_SIZES_QUICK,
    GRID_LABELS,
    GRIDS,
    HW_BETAS,
    HW_LRS,
    LABELS,
    OPTIMIZERS,
    SHOWN_SIZE,
    STEPS,
    config_text,
)
from jaxopt_hw.studies.comparison.measure import Measured
from jaxopt_hw.studies.comparison.sweeps import positions


def convergence_figure(problems, summaries, steps, path) -> None:
    """Rows: homework grid, wide grid; columns: problems. Mean excess loss over seeds of
    each optimizer's best config, with the range over seeds as a band."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2 * len(problems), 7.6), layout="constrained")
    axes = fig.subplots(2, len(problems), squeeze=False, sharey="col")
    for j, (size, problem) in enumerate(problems.items()):
        for i, grid in enumerate(GRIDS):
            curves = {}
            for name in OPTIMIZERS:
                s = summaries[size][grid][name]
                curves[f"{LABELS[name]}: {config_text(s['config'])}"] = s["curve"]
            title = f"{problem.n}×{problem.X.shape[1]}, {GRID_LABELS[grid]}"
            plots.convergence(
                curves,
                steps,
                ax=axes[i][j],
                title=title,
                ylabel="excess loss (best config)",
                band="minmax",
            )
            axes[i][j].legend(fontsize=6.5)
    plots.save_figure(fig, path)


#: the report shows this figure after its Answers, not in the comparison's section
SUMMARY_FIGURE = "comparison_summary.png"


def summary_figure(runs: dict, steps, path) -> None:
    """One panel per problem: each optimizer at its wide-grid best config on the held-out
    seeds (mean, range over seeds as a band) and full-batch GD dashed in black."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.6 * len(runs), 3.8), layout="constrained")
    axes = fig.subplots(1, len(runs), squeeze=False)[0]
    for ax, r in zip(axes, runs.values()):
        curves = {LABELS[name]: r.heldout[name]["curve"] for name in OPTIMIZERS}
        title = f"{r.problem.n} × {r.problem.X.shape[1]}"
        plots.convergence(curves, steps, ax=ax, title=title, band="minmax")
        gd = r.gd["curve"]
        floor = positive_floor(gd, *curves.values())
        low, high = (np.maximum(f(gd, axis=0), floor) for f in (np.min, np.max))
        ax.plot(steps, np.maximum(gd.mean(axis=0), floor), "k--", linewidth=1.4, label="GD")
        ax.fill_between(steps, low, high, color="k", alpha=0.12, linewidth=0)
        ax.set_ylim(bottom=floor)
        ax.legend(fontsize=7)
    plots.save_figure(fig, path)


def wide_heatmaps(results, path, title) -> None:
    """Wide-grid heatmaps (Adam at its best β2), the homework grid's span outlined."""
    from matplotlib.patches import Rectangle

    shown, xs, ys = {}, {}, {}
    for name in ("momentum", "rmsprop", "adam"):
        result = results[name]
        label = LABELS[name]
        if "b2" in result.axes:
            b2 = result.best("final_excess_loss")["b2"]
            result = result.sel(b2=b2)
            label = f"Adam (β2 = {b2:g})"
        shown[label], xs[label], ys[label] = result, "learning_rate", BETA[name]
    fig = plots.heatmaps(shown, xs, ys, metric="final_excess_loss", ncols=1, title=title)
    for ax, (label, result) in zip(fig.axes, shown.items()):
        columns = positions("learning_rate", result.axes["learning_rate"], HW_LRS)
        rows = positions(ys[label], result.axes[ys[label]], HW_BETAS)
        ax.add_patch(
            Rectangle(
                (columns[0] - 0.5, rows[0] - 0.5),
                columns[-1] - columns[0] + 1,
                rows[-1] - rows[0] + 1,
                fill=False,
                edgecolor="white",
                linestyle="--",
                linewidth=2.0,
                zorder=5,
            )
        )
    plots.save_figure(fig, path)


def homework_heatmaps(results, path, title) -> None:
    """The homework grid exactly: Momentum lr × β, RMSprop lr × γ, Adam β1 × β2 per lr."""
    shown, xs, ys = {}, {}, {}
    for name in ("momentum", "rmsprop"):
        shown[LABELS[name]], xs[LABELS[name]], ys[LABELS[name]] = (
            results[name],
            "learning_rate",
            BETA[name],
        )
    for lr in HW_LRS:
        label = f"Adam, lr = {lr:g}"
        shown[label], xs[label], ys[label] = results["adam"].sel(learning_rate=lr), "b1", "b2"
    plots.heatmaps(shown, xs, ys, metric="final_excess_loss", ncols=5, title=title, path=path)


def sensitivity_figure(results, path, title) -> None:
    """Best final excess loss against lr per optimizer, the homework's lr range shaded."""
    fig = plots.sensitivity(
        {LABELS[n]: results[n] for n in OPTIMIZERS},
        axis="learning_rate",
        metric="final_excess_loss",
        title=title,
    )
    ax = fig.axes[0]
    legend = ax.get_legend()
    handles, labels = list(legend.legend_handles), [t.get_text() for t in legend.get_texts()]
    handles.append(ax.axvspan(min(HW_LRS), max(HW_LRS), color="0.85", zorder=0))
    labels.append("the homework's lr range")
    ax.legend(handles, labels, fontsize=8)
    plots.save_figure(fig, path)


def draw(data: Measured, settings: Settings, shape) -> tuple:
    """Draws every figure; returns the report's ``[(file, caption)]`` and the other
    problems' ``[(file, label)]`` (``shape(size) -> "(n, d)"``)."""
    small = data.runs["small"].problem
    t = data.trajectories
    trajectories = {f"{LABELS[n]} ({config_text(t.configs[n])})": t.params[n] for n in OPTIMIZERS}
    shown, others = [], []
    summary_figure(data.runs, data.logged_steps, settings.figure_path(SUMMARY_FIGURE))
    shown.append(
        (
            SUMMARY_FIGURE,
            "Tuned on the wide grid, scored on held-out seeds (band: their range); GD dashed.",
        )
    )
    name = "comparison_trajectories.png"
    plots.contour_trajectories_grid(
        small,
        trajectories,
        ncols=4,
        path=settings.figure_path(name),
        title=f"{small.name}: tuned optimizers, first seed, {STEPS} steps",
    )
    shown.append((name, f"Tuned trajectories on the {shape('small')} problem (first seed)."))
    name = "comparison_convergence.png"
    convergence_figure(
        {size: runs.problem for size, runs in data.runs.items()},
        {size: runs.summaries for size, runs in data.runs.items()},
        data.logged_steps,
        settings.figure_path(name),
    )
    shown.append(
        (
            name,
            "Excess loss of each best config (band: range over seeds); "
            "top: homework grid, bottom: wide grid.",
        )
    )
    sizes = FIGURE_SIZES_QUICK if data.quick else FIGURE_SIZES_FULL
    heatmaps = {
        "hw": ("homework grid", "× diverged, red box: best", homework_heatmaps),
        "wide": ("wide grid", "dashed: the homework grid", wide_heatmaps),
    }
    for size in sizes:
        p = data.runs[size].problem
        for grid in ("hw", "wide"):
            label, legend, plot = heatmaps[grid]
            name = f"comparison_heatmaps_{grid}_{size}.png"
            title = f"{p.n}×{p.X.shape[1]}, {label}: final excess loss (mean over seeds)"
            plot(data.runs[size].sweeps[grid], settings.figure_path(name), title)
            caption = f"Final excess loss on the {label} at {shape(size)} ({legend})."
            (shown if size == SHOWN_SIZE else others).append(
                (name, caption if size == SHOWN_SIZE else f"{label} at {shape(size)}")
            )
    for size in sizes:
        p = data.runs[size].problem
        name = f"comparison_sensitivity_{size}.png"
        title = f"{p.n}×{p.X.shape[1]}: best final excess loss against lr"
        sensitivity_figure(data.runs[size].sweeps["wide"], settings.figure_path(name), title)
        caption = f"Best final excess loss against lr at {shape(size)} (shaded: the homework's)."
        (shown if size == SHOWN_SIZE else others).append(
            (name, caption if size == SHOWN_SIZE else f"lr sensitivity at {shape(size)}")
        )
    return shown, others
