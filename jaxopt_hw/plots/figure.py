"""What every figure shares: a fresh Figure, its colours and labels, and saving it as a PNG."""

from __future__ import annotations

import math
import numbers
import os
import sys

import numpy as np
from matplotlib.figure import Figure

DPI = 110
DIVERGED_MARK = "×"
COLORS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
)


def save_figure(fig: Figure, path=None) -> Figure:
    """Writes ``fig`` to ``path`` as a PNG when ``path`` is given, and returns ``fig``.

    The PNG has ``dpi=110``; a figure without a layout engine (one of yours, passed in
    through ``ax=``) is cropped to a tight box. A written figure is then closed (in pyplot,
    if pyplot manages it).

    Args:
      fig: the figure.
      path: where to write it (its folder is created), or ``None``.

    Returns:
      ``fig``.
    """
    if path is not None:
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        # a constrained layout already fits the canvas; a tight box would draw it twice
        tight = None if fig.get_layout_engine() is not None else "tight"
        fig.savefig(path, dpi=DPI, bbox_inches=tight, format="png")
        close(fig)
    return fig


def close(fig: Figure) -> None:
    """Closes ``fig`` in pyplot when pyplot manages it, as one passed in through ``ax=``.

    The figures made here are never registered with pyplot.
    """
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)


def new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def grid_figure(count: int, ncols: int, panel: tuple) -> tuple:
    """A figure with ``count`` panels on ``ncols`` columns; unused slots removed."""
    if count < 1:
        raise ValueError("nothing to plot: the dict is empty")
    if not isinstance(ncols, numbers.Integral) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    ncols = min(int(ncols), count)
    nrows = math.ceil(count / ncols)
    fig = new_figure(panel[0] * ncols, panel[1] * nrows)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes[count:]:
        fig.delaxes(ax)
    return fig, list(axes[:count])


def figure_and_axes(ax, size):
    if ax is None:
        fig = new_figure(*size)
        return fig, fig.add_subplot()
    return ax.figure, ax


def color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def tick_label(value) -> str:
    """An axis value as a short tick label (``%g`` for numbers: ``0.001``, ``1e+03``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    return f"{value:g}"


def positive_floor(*arrays) -> float:
    """Returns a tenth of the smallest positive finite value among ``arrays``.

    It is the bottom to which intervals that reach ≤ 0 are drawn on a log axis; 1e-300 when
    there is no such value.
    """
    smallest = math.inf
    for array in arrays:
        array = np.asarray(array, dtype=float)
        positive = array[np.isfinite(array) & (array > 0)]
        if positive.size:
            smallest = min(smallest, float(positive.min()))
    return smallest / 10 if math.isfinite(smallest) else 1e-300


def as_float(name: str, value) -> np.ndarray:
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be an array of numbers, got {type(value).__name__}"
        ) from error


def drawable(half_width):
    """Half-widths as error bars: an unbounded one (a single seed) draws no bar."""
    half_width = np.asarray(half_width, dtype=float)
    return np.where(np.isfinite(half_width), half_width, np.nan)
