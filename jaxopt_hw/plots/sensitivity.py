"""Sensitivity: each optimizer's best result as a function of one hyperparameter."""

from __future__ import annotations

from typing import Mapping, Optional

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from jaxopt_hw import metrics as metrics_lib
from jaxopt_hw.plots.figure import (
    as_float,
    color,
    drawable,
    figure_and_axes,
    positive_floor,
    save_figure,
)
from jaxopt_hw.plots.results import check_result, metric_values, with_seed_axis


def _best_along(result, axis: str, metric: str) -> tuple:
    """Returns the best mean of ``metric`` at each value of ``axis``, with its half-width.

    The best is the lowest mean over seeds among the configs of the other hyperparameters
    that no seed diverged in, with its 95% half-width. Returns ``(values of axis, best
    mean, half-width)``, NaN where every config diverged.
    """
    if axis not in result.config_names():
        raise ValueError(
            f"{axis!r} is not an axis of the result; its axes are {result.config_names()}"
        )
    values, diverged = with_seed_axis(result, metric_values(result, metric))
    position = result.config_names().index(axis)
    n_axis, n_seeds = values.shape[position], values.shape[-1]
    values = np.moveaxis(values, position, 0).reshape(n_axis, -1, n_seeds)
    diverged = np.moveaxis(diverged, position, 0).reshape(n_axis, -1, n_seeds).any(axis=-1)
    with np.errstate(invalid="ignore", over="ignore"):
        mean = values.mean(axis=-1)
    half = metrics_lib.mean_interval(values, axis=-1).half_width
    candidates = np.where(diverged | np.isnan(mean), np.inf, mean)
    choice = np.argmin(candidates, axis=1)
    rows = np.arange(n_axis)
    best = candidates[rows, choice]
    best_half = half[rows, choice]
    none_left = ~np.isfinite(best) & (diverged.all(axis=1) | np.isnan(mean).all(axis=1))
    best = np.where(none_left, np.nan, best)
    return np.asarray(result.axes[axis]), best, np.where(np.isfinite(best), best_half, np.nan)


def sensitivity(
    results: dict,
    *,
    axis: str = "learning_rate",
    metric: str = "final_excess_loss",
    path=None,
    title: Optional[str] = None,
) -> Figure:
    """Each optimizer's best ``metric`` as a function of one hyperparameter.

    For every value of ``axis``, the point is the lowest mean over seeds of ``metric``
    among the settings of the other hyperparameters in which no seed diverged, with the
    95% interval over seeds of that config as error bars. Where every config diverged, an
    ``×`` sits at the top of the axes. Both axes are logarithmic (when positive).

    Args:
      results: ``{optimizer label: SweepResult}``, each with the axis ``axis``.
      axis: the hyperparameter along x.
      metric: as in :func:`heatmap`.
      path: where to save the PNG, or ``None``.
      title: the title.

    Returns:
      The :class:`matplotlib.figure.Figure`; the line labelled by each key holds the best
      values (NaN where all diverged).

    Example::

      fig = plots.sensitivity({"Momentum": res_m, "RMSprop": res_r, "Adam": res_a},
                              axis="learning_rate", path="sensitivity.png")
    """
    if not isinstance(results, Mapping) or not results:
        raise ValueError("results must be a non-empty dict {label: SweepResult}")
    curves = {}
    for label, result in results.items():
        check_result(result, f"results[{label!r}]")
        curves[str(label)] = _best_along(result, axis, metric)
    all_x = np.concatenate([as_float(axis, c[0]) for c in curves.values()])
    all_y = np.concatenate([c[1] for c in curves.values()])
    logx = bool(np.all(all_x > 0))
    finite_y = all_y[np.isfinite(all_y)]
    logy = bool(finite_y.size and np.all(finite_y > 0))
    floor = positive_floor(all_y) if logy else None
    fig, ax = figure_and_axes(None, (6.4, 4.4))
    any_diverged = False
    for i, (label, (xs, best, half)) in enumerate(curves.items()):
        xs = as_float(axis, xs)
        _draw_best(ax, label, xs, best, half, color(i), floor)
        gone = np.isnan(best)
        if gone.any():
            any_diverged = True
            _mark_all_diverged(ax, label, xs[gone], color(i))
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    _legend(ax, any_diverged)
    ax.set_xlabel(axis)
    ax.set_ylabel(f"{metric} (best over other hyperparameters)")
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(f"sensitivity to {axis}" if title is None else title)
    return save_figure(fig, path)


def _draw_best(ax, label, xs, best, half, color, floor) -> None:
    """Draws one optimizer's best values with their error bars (down to ``floor`` on log y)."""
    ax.plot(xs, best, color=color, marker="o", markersize=5, linewidth=1.5, label=label)
    half = drawable(half)
    lower = half.copy()
    if floor is not None:
        lower = np.where(best - half <= 0, best - floor, half)
    ax.errorbar(
        xs,
        best,
        yerr=np.vstack([lower, half]),
        fmt="none",
        ecolor=color,
        elinewidth=1.0,
        capsize=3,
    )


def _mark_all_diverged(ax, label, xs, color) -> None:
    """Puts an ``×`` at the top of the axes above each value where every config diverged."""
    ax.plot(
        xs,
        np.full(len(xs), 0.96),
        transform=ax.get_xaxis_transform(),
        linestyle="none",
        marker="x",
        markersize=9,
        markeredgewidth=2.2,
        color=color,
        clip_on=False,
        label=f"_{label} diverged",
        gid="diverged",
    )


def _legend(ax, any_diverged: bool) -> None:
    """The legend, with an entry for the ``×`` marks when there are any."""
    handles, labels = ax.get_legend_handles_labels()
    if any_diverged:
        handles.append(Line2D([], [], color="k", marker="x", linestyle="none", markeredgewidth=2.0))
        labels.append("all configs diverged")
    ax.legend(handles, labels, fontsize=8)
