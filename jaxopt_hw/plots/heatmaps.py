"""Heatmaps of two-hyperparameter sweeps, the diverged cells marked and the best boxed."""

from __future__ import annotations

import math
from typing import Mapping, Optional

import matplotlib
import matplotlib.colors as mcolors
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from jaxopt_hw import metrics as metrics_lib
from jaxopt_hw.plots.figure import (
    DIVERGED_MARK,
    figure_and_axes,
    grid_figure,
    save_figure,
    tick_label,
)
from jaxopt_hw.plots.results import check_result, metric_values, seed_count, with_seed_axis


def _cells(result, x: str, y: str, metric: str) -> tuple:
    """The heatmap's ``(mean, half_width, diverged)`` as ``(len(y), len(x))`` arrays."""
    names = list(result.config_names())
    if x == y or sorted(names) != sorted([x, y]):
        others = [n for n in names if n not in (x, y)]
        hint = (
            f"select the others first, e.g. result.sel({others[0]}=...)"
            if others
            else "check the axis names"
        )
        raise ValueError(
            f"heatmap needs a result with exactly the axes {x!r} and {y!r} (plus 'seed'); "
            f"it has {names}: {hint}"
        )
    values, diverged = with_seed_axis(result, metric_values(result, metric))
    with np.errstate(invalid="ignore", over="ignore"):
        mean = values.mean(axis=-1)
    half = metrics_lib.mean_interval(values, axis=-1).half_width
    bad = diverged.any(axis=-1)
    if names.index(x) == 0:  # stored (x, y): rows must be y
        mean, half, bad = mean.T, half.T, bad.T
    return mean, half, bad


def _heatmap_norm(means_and_flags, log: bool):
    """A shared colour norm over the finite, non-diverged cells of every map."""
    good = (
        np.concatenate([m[np.isfinite(m) & ~b].ravel() for m, b in means_and_flags])
        if means_and_flags
        else np.zeros(0)
    )
    if not good.size:
        return mcolors.Normalize(0.0, 1.0)
    low, high = float(good.min()), float(good.max())
    if log and low > 0:
        if high <= low:
            low, high = low / 1.5, high * 1.5
        return mcolors.LogNorm(low, high)
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return mcolors.Normalize(low, high)


def _draw_heatmap(ax, result, x, y, mean, bad, norm, cmap="viridis_r"):
    """Draws one heatmap: the cells, their labels, the best cell's box and the ticks."""
    cmap = matplotlib.colormaps[cmap].with_extremes(bad="white")
    shown = np.ma.masked_array(mean, mask=bad | ~np.isfinite(mean))
    image = ax.imshow(
        shown, origin="lower", cmap=cmap, norm=norm, aspect="auto", interpolation="nearest"
    )
    ny, nx = mean.shape
    finite_good = np.isfinite(mean) & ~bad
    for i in range(ny):
        for j in range(nx):
            if bad[i, j]:
                _mark_diverged(ax, i, j)
            elif finite_good[i, j]:
                _label_value(ax, i, j, mean[i, j], cmap(norm(mean[i, j])))
            else:
                _label_missing(ax, i, j, mean[i, j])
    if finite_good.any():
        _box_best(ax, mean, finite_good)
    ax.set_xticks(range(nx))
    ax.set_xticklabels([tick_label(v) for v in result.axes[x]], rotation=45 if nx > 6 else 0)
    ax.set_yticks(range(ny))
    ax.set_yticklabels([tick_label(v) for v in result.axes[y]])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    return image


def _mark_diverged(ax, i, j) -> None:
    """Hatches the cell in row ``i``, column ``j`` and marks it with the diverged sign."""
    ax.add_patch(
        Rectangle(
            (j - 0.5, i - 0.5),
            1,
            1,
            facecolor="0.88",
            edgecolor="0.55",
            hatch="///",
            linewidth=0.0,
            gid="diverged",
            zorder=2,
        )
    )
    ax.text(
        j,
        i,
        DIVERGED_MARK,
        ha="center",
        va="center",
        color="#c00000",
        fontsize=16,
        fontweight="bold",
        gid="diverged",
        zorder=3,
    )


def _label_value(ax, i, j, value, rgba) -> None:
    """Writes a cell's value, in white on a dark colour and in black on a light one."""
    red, green, blue, _ = rgba
    dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
    ax.text(
        j,
        i,
        f"{value:.2g}",
        ha="center",
        va="center",
        fontsize=8,
        color="white" if dark else "black",
        zorder=3,
    )


def _label_missing(ax, i, j, value) -> None:
    """Writes ``∞`` or ``n/a`` in a cell without a finite value that did not diverge."""
    ax.text(
        j,
        i,
        "∞" if value == math.inf else "n/a",
        ha="center",
        va="center",
        fontsize=9,
        color="0.3",
        zorder=3,
    )


def _box_best(ax, mean, finite_good) -> None:
    """Boxes in red the lowest of the finite, non-diverged cells."""
    best = np.unravel_index(int(np.argmin(np.where(finite_good, mean, np.inf))), mean.shape)
    ax.add_patch(
        Rectangle(
            (best[1] - 0.5, best[0] - 0.5),
            1,
            1,
            fill=False,
            edgecolor="#ff2a2a",
            linewidth=2.8,
            gid="best",
            zorder=4,
            clip_on=False,
        )
    )


def heatmap(
    result,
    x: str,
    y: str,
    *,
    metric: str = "final_loss",
    path=None,
    title: Optional[str] = None,
    log: bool = True,
    ax=None,
) -> Figure:
    """A two-hyperparameter sweep as a heatmap of the mean over seeds of ``metric``.

    Cells where any seed diverged are hatched, marked with ``×`` and left out of the colour
    scale; every other cell is annotated with its value (2 significant digits); the best
    (lowest) non-diverged cell is boxed in red.

    Args:
      result: a :class:`~jaxopt_hw.SweepResult` with exactly the axes ``x`` and ``y``
        (plus ``"seed"``); select the others away first with ``result.sel(...)``.
      x, y: the axes along the columns and the rows.
      metric: an attribute of the result with one value per run (``"final_loss"``,
        ``"final_excess_loss"``, ``"steps_to_tol"``, …) or a curve's name (its last value).
      path: where to save the PNG, or ``None``.
      title: the title (default: the optimizer and the metric).
      log: a logarithmic colour scale (when the values are positive).
      ax: draw into this axes instead of a new figure.

    Returns:
      The :class:`matplotlib.figure.Figure`.

    Raises:
      ValueError: if the result has other axes than ``x``, ``y`` and ``"seed"``.

    Example::

      res = jh.sweep(prob, jh.adam, grid={"learning_rate": [1e-2, 1e-1, 1.0], "b1": [0.8, 0.9]},
                     seeds=[0, 1], steps=200, batch_size=16)
      fig = plots.heatmap(res, "learning_rate", "b1", metric="final_excess_loss", path="adam.png")
    """
    check_result(result)
    mean, _, bad = _cells(result, x, y, metric)
    norm = _heatmap_norm([(mean, bad)], log)
    fig, ax = figure_and_axes(
        ax, (max(4.0, 0.85 * mean.shape[1] + 2.4), max(3.0, 0.5 * mean.shape[0] + 1.8))
    )
    image = _draw_heatmap(ax, result, x, y, mean, bad, norm)
    fig.colorbar(image, ax=ax, label=f"{metric} (mean of {seed_count(result)} seeds)")
    if title is None:
        title = f"{result.meta.get('optimizer', '')}: {metric}".lstrip(": ")
    ax.set_title(title)
    return save_figure(fig, path)


def heatmaps(
    results: dict,
    x,
    y,
    *,
    metric: str = "final_loss",
    path=None,
    ncols: int = 3,
    title: Optional[str] = None,
    log: bool = True,
) -> Figure:
    """Several heatmaps (see :func:`heatmap`) side by side with one shared colour scale.

    Args:
      results: ``{label: SweepResult}``, each with exactly the axes ``x`` and ``y`` (plus
        ``"seed"``); the label titles its panel.
      x, y: the axes along the columns and the rows: a name, or ``{label: name}`` when
        the optimizers name them differently (``beta``, ``decay``, ``b1``).
      metric: as in :func:`heatmap`.
      path: where to save the PNG, or ``None``.
      ncols: panels per row.
      title: the figure's title (default: the metric).
      log: a logarithmic colour scale (when the values are positive).

    Returns:
      The :class:`matplotlib.figure.Figure`.

    Example::

      # res_m swept learning_rate × beta, res_a learning_rate × b1 (each with its seeds)
      fig = plots.heatmaps({"Momentum": res_m, "Adam": res_a}, "learning_rate",
                           {"Momentum": "beta", "Adam": "b1"}, metric="final_excess_loss")
    """
    if not isinstance(results, Mapping) or not results:
        raise ValueError("results must be a non-empty dict {label: SweepResult}")

    def name_for(names, label, which):
        if isinstance(names, Mapping):
            if label not in names:
                raise ValueError(f"{which} has no axis name for {label!r}")
            return names[label]
        return names

    cells, xs, ys = {}, {}, {}
    for label, result in results.items():
        check_result(result, f"results[{label!r}]")
        xs[label], ys[label] = name_for(x, label, "x"), name_for(y, label, "y")
        cells[label] = _cells(result, xs[label], ys[label], metric)
    norm = _heatmap_norm([(mean, bad) for mean, _, bad in cells.values()], log)
    widest = max(mean.shape[1] for mean, _, _ in cells.values())
    tallest = max(mean.shape[0] for mean, _, _ in cells.values())
    fig, axes = grid_figure(
        len(results), ncols, (max(3.6, 0.85 * widest + 1.6), max(3.0, 0.5 * tallest + 1.8))
    )
    image = None
    for ax, (label, result) in zip(axes, results.items()):
        mean, _, bad = cells[label]
        image = _draw_heatmap(ax, result, xs[label], ys[label], mean, bad, norm)
        ax.set_title(str(label))
    fig.colorbar(image, ax=axes, label=f"{metric} (mean over seeds)", shrink=0.9)
    fig.suptitle(metric if title is None else title)
    return save_figure(fig, path)
