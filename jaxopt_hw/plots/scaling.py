"""Laws: measured quantities against a size with theory dashed, and rates against κ."""

from __future__ import annotations

from typing import Optional

import numpy as np
from matplotlib.figure import Figure

from jaxopt_hw.plots.figure import (
    as_float,
    color,
    drawable,
    figure_and_axes,
    positive_floor,
    save_figure,
)


def scaling(
    x,
    series: dict,
    *,
    xlabel: str,
    ylabel: str,
    path=None,
    theory: Optional[dict] = None,
    logx: bool = True,
    logy: bool = True,
    title: Optional[str] = None,
) -> Figure:
    """Measured quantities against a size with error bars, and theoretical curves dashed.

    The size may be steps, a batch size, n, d, κ…

    Args:
      x: the ``m`` abscissae.
      series: ``{label: (mean, half_width)}``, two arrays of length ``m`` (e.g. a
        :class:`~jaxopt_hw.metrics.Interval`); ``half_width`` may be ``None``.
      xlabel, ylabel: axis labels.
      path: where to save the PNG, or ``None``.
      theory: ``{label: array of length m}``, drawn dashed (same colour as a series of
        the same label).
      logx, logy: logarithmic axes.
      title: the title.

    Returns:
      The :class:`matplotlib.figure.Figure`.

    Example:
      >>> import numpy as np
      >>> from jaxopt_hw import plots
      >>> b = np.array([8, 32, 128])
      >>> fig = plots.scaling(b, {"SGD": (np.array([4.0, 1.1, 0.3]), np.array([0.4, 0.1, 0.05]))},
      ...                     xlabel="batch size", ylabel="excess loss", theory={"1/B": 32 / b})
    """
    x = as_float("x", x).ravel()
    theory = dict(theory or {})
    if not series and not theory:
        raise ValueError("nothing to plot: series and theory are empty")
    colors = {label: color(i) for i, label in enumerate(dict.fromkeys(list(series) + list(theory)))}
    fig, ax = figure_and_axes(None, (6.4, 4.4))
    for label, pair in series.items():
        mean, half = _series(label, pair, x)
        _draw_series(ax, x, label, mean, half, colors[label], logy)
    for label, curve in theory.items():
        curve = as_float(f"theory[{label!r}]", curve).ravel()
        if curve.shape != x.shape:
            raise ValueError(f"theory[{label!r}] must have {len(x)} values, got {curve.shape}")
        ax.plot(
            x,
            curve,
            linestyle="--",
            linewidth=1.4,
            color=colors[label],
            label=f"{label} (theory)" if label in series else str(label),
        )
    _finish(ax, xlabel, ylabel, title, logx, logy)
    return save_figure(fig, path)


def _series(label, pair, x) -> tuple:
    """Returns a series' ``(mean, half_width)`` as arrays shaped like ``x``."""
    if isinstance(pair, np.ndarray) or not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise ValueError(f"series[{label!r}] must be a pair (mean, half_width)")
    mean = as_float(f"series[{label!r}] mean", pair[0]).ravel()
    half = (
        np.zeros_like(mean)
        if pair[1] is None
        else drawable(as_float(f"series[{label!r}] half_width", pair[1]).ravel())
    )
    if mean.shape != x.shape or half.shape != x.shape:
        raise ValueError(
            f"series[{label!r}] must have {len(x)} means and half-widths, "
            f"got {mean.shape}, {half.shape}"
        )
    return mean, half


def _draw_series(ax, x, label, mean, half, color, logy: bool) -> None:
    """Draws a series with error bars, the lower ones cut above zero on a log axis."""
    lower = half
    if logy:
        floor = positive_floor(mean)
        lower = np.where(mean - half <= 0, mean - floor, half)
    ax.errorbar(
        x,
        mean,
        yerr=np.vstack([lower, half]),
        color=color,
        marker="o",
        markersize=5,
        linewidth=1.5,
        capsize=3,
        label=str(label),
    )


def _finish(ax, xlabel, ylabel, title, logx: bool, logy: bool) -> None:
    """Sets the scales, labels, grid, legend and title of a scaling figure."""
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    if title is not None:
        ax.set_title(title)


def rates_table_plot(
    kappas,
    measured: dict,
    predicted: dict,
    *,
    path=None,
    title: Optional[str] = None,
    ylabel: str = "linear rate ρ per step",
) -> Figure:
    """Measured against predicted linear convergence rates, as functions of the condition number κ.

    Markers show the measurements, lines the theory, one colour per method.

    Args:
      kappas: the ``m`` condition numbers (log x axis).
      measured: ``{method: array of m rates}`` (e.g. :func:`jaxopt_hw.metrics.fitted_rate`).
      predicted: ``{method: array of m rates}`` from theory, e.g. ``(κ−1)/(κ+1)`` for
        GD with step ``2/(L+μ)``.
      path: where to save the PNG, or ``None``.
      title, ylabel: labels.

    Returns:
      The :class:`matplotlib.figure.Figure`.

    Example:
      >>> import numpy as np
      >>> from jaxopt_hw import plots
      >>> k = np.array([1.0, 10.0, 100.0])
      >>> fig = plots.rates_table_plot(k, {"GD": [0.01, 0.82, 0.98]}, {"GD": (k - 1) / (k + 1)})
    """
    kappas = as_float("kappas", kappas).ravel()
    measured, predicted = dict(measured or {}), dict(predicted or {})
    if not measured and not predicted:
        raise ValueError("nothing to plot: measured and predicted are empty")
    colors = {
        label: color(i) for i, label in enumerate(dict.fromkeys(list(measured) + list(predicted)))
    }
    fig, ax = figure_and_axes(None, (6.4, 4.4))
    for kind, table in (("measured", measured), ("predicted", predicted)):
        for label, rates in table.items():
            rates = as_float(f"{kind}[{label!r}]", rates).ravel()
            if rates.shape != kappas.shape:
                raise ValueError(
                    f"{kind}[{label!r}] must have {len(kappas)} rates, got {rates.shape}"
                )
            if kind == "measured":
                ax.plot(
                    kappas,
                    rates,
                    linestyle="none",
                    marker="o",
                    markersize=6,
                    color=colors[label],
                    label=f"{label} (measured)",
                )
            else:
                ax.plot(
                    kappas,
                    rates,
                    linestyle="-",
                    linewidth=1.5,
                    color=colors[label],
                    label=f"{label} (predicted)",
                )
    if np.all(kappas > 0):
        ax.set_xscale("log")
    ax.set_xlabel("condition number κ")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    if title is not None:
        ax.set_title(title)
    return save_figure(fig, path)
