"""Matplotlib figures for the study: landscapes with trajectories, convergence curves,
hyperparameter heatmaps, sensitivity to one hyperparameter, scaling laws and rates.

Every function builds a fresh :class:`matplotlib.figure.Figure` (never through pyplot's
global state, so it is safe under any backend, in threads and without a display),
returns it and, when ``path`` is given, writes it there as a PNG (``dpi=110``, tight
bounding box). In a notebook the returned figure displays itself.

The functions read only the public attributes of a :class:`~jaxopt_hw.SweepResult`
(``axes``, ``diverged``, ``steps``, ``final_loss``, ``curves``, …) and plain arrays.
Conventions shared by all of them:

* **mean over seeds** is the arithmetic mean; **error bars and bands** are the 95%
  Student-t interval of that mean (:func:`jaxopt_hw.metrics.mean_interval`);
* a config counts as **diverged** when *any* of its seeds diverged: it is shown as such
  and never chosen as "best";
* on a log axis, an interval reaching zero or below is drawn down to the bottom of the
  axis rather than dropped.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
import warnings
from typing import Mapping, Optional

import jax
import jax.numpy as jnp
import matplotlib
import matplotlib.colors as mcolors
import matplotlib.patheffects as patheffects
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from jaxopt_hw import metrics as metrics_lib
from jaxopt_hw.loop import Trace
from jaxopt_hw.problems import Problem

__all__ = [
    "contour_trajectories",
    "contour_trajectories_grid",
    "convergence",
    "heatmap",
    "heatmaps",
    "sensitivity",
    "scaling",
    "rates_table_plot",
    "performance_profile",
    "rungs",
    "save_figure",
]

DPI = 110
DIVERGED_MARK = "×"
_COLORS = (
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


# --------------------------------------------------------------------------- shared helpers


def save_figure(fig: Figure, path=None) -> Figure:
    """Writes ``fig`` to ``path`` as a PNG (``dpi=110``, tight box) when ``path`` is given,
    then closes it (in pyplot, if pyplot manages it); returns ``fig`` either way.

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
        fig.savefig(path, dpi=DPI, bbox_inches="tight", format="png")
        _close(fig)
    return fig


def _close(fig: Figure) -> None:
    """Closes ``fig`` in pyplot when pyplot manages it (a figure passed in through
    ``ax=``); the figures made here are never registered with pyplot."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _grid_figure(count: int, ncols: int, panel: tuple) -> tuple:
    """A figure with ``count`` panels on ``ncols`` columns; unused slots removed."""
    if count < 1:
        raise ValueError("nothing to plot: the dict is empty")
    if not isinstance(ncols, numbers.Integral) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    ncols = min(int(ncols), count)
    nrows = math.ceil(count / ncols)
    fig = _new_figure(panel[0] * ncols, panel[1] * nrows)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes[count:]:
        fig.delaxes(ax)
    return fig, list(axes[:count])


def _color(i: int) -> str:
    return _COLORS[i % len(_COLORS)]


def _fmt(value) -> str:
    """An axis value as a short tick label (``%g`` for numbers: ``0.001``, ``1e+03``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    return f"{value:g}"


def _positive_floor(*arrays) -> float:
    """A tenth of the smallest positive finite value among ``arrays`` (the bottom to which
    intervals that reach ≤ 0 are drawn on a log axis); 1e-300 when there is none."""
    smallest = math.inf
    for array in arrays:
        array = np.asarray(array, dtype=float)
        positive = array[np.isfinite(array) & (array > 0)]
        if positive.size:
            smallest = min(smallest, float(positive.min()))
    return smallest / 10 if math.isfinite(smallest) else 1e-300


def _as_float(name: str, value) -> np.ndarray:
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be an array of numbers, got {type(value).__name__}"
        ) from error


# --------------------------------------------------------------------------- landscapes


def _trajectory_array(name, value) -> np.ndarray:
    if isinstance(value, Trace):
        if value.params is None:
            raise ValueError(
                f"trajectory {name!r} is a Trace without params: run with record_params=True"
            )
        value = value.params
    array = _as_float(f"trajectory {name!r}", value)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"trajectory {name!r} must have shape (steps+1, 2), got {array.shape}")
    return array


def _check_2d_problem(problem) -> np.dtype:
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a jaxopt_hw Problem, got {type(problem).__name__}")
    leaves = jax.tree.leaves(problem.init_params(0))
    if len(leaves) != 1 or tuple(leaves[0].shape) != (2,):
        shapes = [tuple(leaf.shape) for leaf in leaves]
        raise ValueError(
            f"contour plots need a problem whose parameters are one vector of length 2; {problem.name} has {shapes}"
        )
    return leaves[0].dtype


def _bounds(trajectories: dict, w_star, margin: float) -> tuple:
    """``((x0, x1), (y0, y1))`` around every finite trajectory point and ``w_star``."""
    points = [t[np.all(np.isfinite(t), axis=1)] for t in trajectories.values()]
    if w_star is not None:
        points.append(np.asarray(w_star, dtype=float).reshape(1, 2))
    points = np.concatenate(points) if points else np.zeros((0, 2))
    if not len(points):
        raise ValueError("no finite point to frame: give trajectories or a problem with w_star")
    low, high = points.min(axis=0), points.max(axis=0)
    span = high - low
    pad = np.where(span > 0, margin * span, np.maximum(0.5 * np.abs(low), 1.0))
    return tuple(zip(low - pad, high + pad))


def _loss_grid(problem, bounds, resolution: int, dtype) -> tuple:
    """``(U, V, Z)``: the full-data loss on a ``resolution²`` grid, by a jitted ``vmap`` of
    ``problem.loss`` in equal chunks (≈ 4M data rows touched per chunk)."""
    (x0, x1), (y0, y1) = bounds
    U, V = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    points = np.stack([U.ravel(), V.ravel()], axis=1)
    chunk = int(np.clip(2**22 // max(problem.n, 1), 64, len(points)))
    count = math.ceil(len(points) / chunk)
    padded = np.concatenate([points, np.repeat(points[-1:], count * chunk - len(points), axis=0)])
    evaluate = jax.jit(jax.vmap(lambda w: problem.loss(w)))
    values = [np.asarray(evaluate(jnp.asarray(block, dtype))) for block in np.split(padded, count)]
    Z = np.concatenate(values)[: len(points)].astype(float).reshape(U.shape)
    return U, V, Z


def _contour_levels(Z, count: int, log_levels: bool, min_loss) -> np.ndarray:
    """Level values: log-spaced in the excess over the minimum (dense near the optimum)
    when ``log_levels``, else evenly spaced."""
    finite = Z[np.isfinite(Z)]
    if not finite.size:
        raise ValueError("the loss is not finite anywhere on the grid")
    low, high = float(finite.min()), float(finite.max())
    if not high > low:
        return (
            np.array([low - 0.5, low + 0.5])
            if count < 2
            else np.linspace(low - 0.5, high + 0.5, count)
        )
    if not log_levels:
        return np.linspace(low, high, count)
    floor = min(float(min_loss), low) if min_loss is not None and math.isfinite(min_loss) else low
    top = high - floor
    bottom = max(low - floor, top * 1e-6)
    levels = floor + np.geomspace(bottom, top, count)
    return np.unique(np.concatenate([[low], levels]))


def _landscape(problem, trajectories, margin, resolution, levels, log_levels):
    """What the contour plots share: the trajectories as arrays, the grid and the levels."""
    if not isinstance(trajectories, Mapping):
        raise TypeError("trajectories must be a dict {label: array (steps+1, 2)}")
    if not isinstance(levels, numbers.Integral) or not 2 <= levels <= 250:
        raise ValueError(f"levels must be an integer in [2, 250], got {levels!r}")
    if not isinstance(resolution, numbers.Integral) or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution!r}")
    if not (isinstance(margin, numbers.Real) and margin >= 0):
        raise ValueError(f"margin must be a number >= 0, got {margin!r}")
    dtype = _check_2d_problem(problem)
    arrays = {str(k): _trajectory_array(k, v) for k, v in trajectories.items()}
    w_star = None if problem.w_star is None else np.asarray(problem.w_star, dtype=float)
    bounds = _bounds(arrays, w_star, float(margin))
    U, V, Z = _loss_grid(problem, bounds, int(resolution), dtype)
    level_values = _contour_levels(Z, int(levels), log_levels, problem.min_loss)
    return arrays, w_star, bounds, (U, V, Z), level_values


def _draw_landscape(ax, grid, level_values, bounds, w_star, cmap="viridis"):
    U, V, Z = grid
    norm = mcolors.BoundaryNorm(level_values, ncolors=256, extend="both")
    filled = ax.contourf(
        U, V, Z, levels=level_values, cmap=cmap, norm=norm, extend="both", alpha=0.75
    )
    ax.contour(U, V, Z, levels=level_values, colors="k", linewidths=0.35, alpha=0.35)
    if w_star is not None:
        ax.plot(
            *w_star,
            marker="*",
            markersize=16,
            color="gold",
            markeredgecolor="k",
            linestyle="none",
            label="$w^*$",
            zorder=5,
        )
    ax.set_xlim(*bounds[0])
    ax.set_ylim(*bounds[1])
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    return filled


def _draw_trajectory(ax, label, points, color):
    outline = [patheffects.withStroke(linewidth=3.2, foreground="white")]
    every = max(1, (len(points) - 1) // 15)
    ax.plot(
        points[:, 0],
        points[:, 1],
        color=color,
        linewidth=1.6,
        marker="o",
        markersize=3.2,
        markevery=every,
        label=label,
        path_effects=outline,
        zorder=3,
    )
    ax.plot(
        *points[0],
        marker="o",
        markersize=7,
        color=color,
        markeredgecolor="k",
        linestyle="none",
        zorder=4,
    )
    ax.plot(
        *points[-1],
        marker="X",
        markersize=8,
        color=color,
        markeredgecolor="k",
        linestyle="none",
        zorder=4,
    )


def _level_colorbar(fig, filled, level_values, ax):
    bar = fig.colorbar(filled, ax=ax, shrink=0.9)
    step = max(1, len(level_values) // 6)
    bar.set_ticks(level_values[::step])
    bar.set_ticklabels([f"{v:.3g}" for v in level_values[::step]])
    bar.minorticks_off()
    bar.set_label("loss")
    return bar


def contour_trajectories(
    problem,
    trajectories: dict,
    *,
    path=None,
    title: Optional[str] = None,
    levels: int = 30,
    margin: float = 0.3,
    log_levels: bool = True,
    resolution: int = 160,
) -> Figure:
    """Contours of a 2-parameter problem's full-data loss with optimizer trajectories on top.

    The frame holds every trajectory point and ``problem.w_star`` (a gold star) with
    ``margin`` times the span added on each side. Each trajectory is a line with a few
    markers, a circle at its start and a cross at its end.

    Args:
      problem: a :class:`~jaxopt_hw.Problem` whose parameters are a vector of length 2,
        e.g. ``jh.linear_regression(500, 2)`` or ``jh.rosenbrock()``.
      trajectories: ``{label: array (steps+1, 2)}``, e.g. ``jh.run(...,
        record_params=True).params`` (a :class:`~jaxopt_hw.Trace` is also accepted).
      path: where to save the PNG, or ``None``.
      title: the title (default: the problem's name).
      levels: number of contour levels.
      margin: the padding around the points, as a fraction of their span.
      log_levels: space the levels logarithmically in the loss above its minimum
        (dense near the optimum) rather than evenly.
      resolution: grid points per side.

    Returns:
      The :class:`matplotlib.figure.Figure`.

    Example:
      >>> import jaxopt_hw as jh
      >>> from jaxopt_hw import plots
      >>> prob = jh.linear_regression(500, 2)
      >>> path = jh.run(prob, jh.adam(0.1), steps=100, batch_size=16, record_params=True).params
      >>> fig = plots.contour_trajectories(prob, {"Adam": path})
    """
    arrays, w_star, bounds, grid, level_values = _landscape(
        problem, trajectories, margin, resolution, levels, log_levels
    )
    fig = _new_figure(6.4, 5.0)
    ax = fig.add_subplot()
    filled = _draw_landscape(ax, grid, level_values, bounds, w_star)
    for i, (label, points) in enumerate(arrays.items()):
        _draw_trajectory(ax, label, points, _color(i))
    _level_colorbar(fig, filled, level_values, ax)
    ax.legend(loc="best", fontsize=8, framealpha=0.85)
    ax.set_title(problem.name if title is None else title)
    return save_figure(fig, path)


def contour_trajectories_grid(
    problem,
    trajectories: dict,
    *,
    path=None,
    ncols: int = 3,
    title: Optional[str] = None,
    levels: int = 30,
    margin: float = 0.3,
    log_levels: bool = True,
    resolution: int = 160,
) -> Figure:
    """One panel per trajectory on the same landscape, frame and colour scale (e.g. one
    picture each for Momentum, RMSprop and Adam).

    Args:
      problem: a 2-parameter :class:`~jaxopt_hw.Problem` (see :func:`contour_trajectories`).
      trajectories: ``{label: array (steps+1, 2)}``; the label titles its panel.
      path: where to save the PNG, or ``None``.
      ncols: panels per row.
      title: the figure's title (default: the problem's name).
      levels, margin, log_levels, resolution: as in :func:`contour_trajectories`; the
        frame holds all trajectories.

    Returns:
      The :class:`matplotlib.figure.Figure`.

    Example::

      paths = {name: jh.run(prob, tx, steps=100, batch_size=16, record_params=True).params
               for name, tx in [("Momentum", jh.momentum(0.05)), ("RMSprop", jh.rmsprop(0.05)),
                                ("Adam", jh.adam(0.1))]}
      fig = plots.contour_trajectories_grid(prob, paths, path="landscape.png")
    """
    arrays, w_star, bounds, grid, level_values = _landscape(
        problem, trajectories, margin, resolution, levels, log_levels
    )
    fig, axes = _grid_figure(len(arrays), ncols, (4.6, 4.0))
    filled = None
    for i, (ax, (label, points)) in enumerate(zip(axes, arrays.items())):
        filled = _draw_landscape(ax, grid, level_values, bounds, w_star)
        _draw_trajectory(ax, label, points, _color(i))
        ax.set_title(label)
    _level_colorbar(fig, filled, level_values, axes)
    fig.suptitle(problem.name if title is None else title)
    return save_figure(fig, path)


# --------------------------------------------------------------------------- curves


def convergence(
    curves: dict,
    steps,
    *,
    path=None,
    ylabel: str = "excess loss",
    title: Optional[str] = None,
    logy: bool = True,
    band: Optional[str] = "ci95",
    xlabel: str = "step",
    ax=None,
) -> Figure:
    """Training curves: the mean over seeds of each curve, with a band.

    Args:
      curves: ``{label: array (n_seeds, n_steps)}`` (or ``(n_steps,)`` for one run), e.g.
        ``res.sel(learning_rate=0.1).excess_loss`` for a result with one other axis.
      steps: the ``n_steps`` logged step numbers (``res.steps``, ``trace.steps``).
      path: where to save the PNG, or ``None``.
      ylabel, xlabel, title: labels.
      logy: a logarithmic y axis.
      band: ``"ci95"`` (95% Student-t interval of the mean over seeds), ``"minmax"``
        (the range over seeds) or ``None``.
      ax: draw into this axes instead of a new figure.

    Returns:
      The :class:`matplotlib.figure.Figure`.

    Example::

      res = jh.sweep(prob, jh.adam, grid={"learning_rate": [1e-2, 1e-1]}, seeds=[0, 1, 2], steps=200)
      fig = plots.convergence({f"lr={lr:g}": res.sel(learning_rate=lr).excess_loss
                               for lr in res.axes["learning_rate"]}, res.steps, path="curves.png")
    """
    if band not in ("ci95", "minmax", None):
        raise ValueError(f"band must be 'ci95', 'minmax' or None, got {band!r}")
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty dict {label: array (n_seeds, n_steps)}")
    steps = _as_float("steps", steps).ravel()
    prepared = {}
    for label, values in curves.items():
        values = _as_float(f"curves[{label!r}]", values)
        if values.ndim == 1:
            values = values[None]
        if values.ndim != 2 or values.shape[1] != len(steps):
            raise ValueError(
                f"curves[{label!r}] must have shape (n_seeds, {len(steps)}), got {values.shape}"
            )
        interval = metrics_lib.mean_interval(values, axis=0)
        center = interval.mean
        if band == "ci95":
            low, high = interval.low, interval.high
        elif band == "minmax":
            finite = np.where(np.isfinite(values), values, np.nan)
            with warnings.catch_warnings():  # an all-NaN column stays NaN, silently
                warnings.simplefilter("ignore", RuntimeWarning)
                low, high = np.nanmin(finite, axis=0), np.nanmax(finite, axis=0)
        else:
            low = high = None
        prepared[str(label)] = (center, low, high, values.shape[0])
    floor = _positive_floor(*[p[0] for p in prepared.values()]) if logy else None
    fig, ax = _figure_and_axes(ax, (6.4, 4.2))
    for i, (label, (center, low, high, n)) in enumerate(prepared.items()):
        color = _color(i)
        ax.plot(
            steps, center, color=color, linewidth=1.6, label=label if n == 1 else f"{label} (n={n})"
        )
        if low is not None and n > 1:
            if logy:
                low = np.where(np.isfinite(low) & (low <= floor), floor, low)
            ax.fill_between(steps, low, high, color=color, alpha=0.2, linewidth=0)
    if logy:
        ax.set_yscale("log")
        ax.set_ylim(bottom=max(floor, ax.get_ylim()[0]))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def _figure_and_axes(ax, size):
    if ax is None:
        fig = _new_figure(*size)
        return fig, fig.add_subplot()
    return ax.figure, ax


# --------------------------------------------------------------------------- sweeps


def _metric_values(result, metric: str) -> np.ndarray:
    """``metric`` of ``result`` as ``(*grid shape, n_seeds)``: an attribute such as
    ``final_loss`` or ``steps_to_tol``, or the last logged value of a curve (``"dist_to_opt"``)."""
    if isinstance(metric, str) and hasattr(result, metric):
        values = getattr(result, metric)
    elif isinstance(metric, str) and metric in result.curves:
        values = result.curves[metric]
    else:
        raise ValueError(
            f"unknown metric {metric!r}: use an attribute of SweepResult (final_loss, "
            f"final_excess_loss, steps_to_tol, …) or a curve ({', '.join(result.curves)})"
        )
    values = _as_float(metric, values)
    if values.shape == tuple(result.shape) + (len(result.steps),):
        values = values[..., -1]
    if values.shape != tuple(result.shape):
        raise ValueError(
            f"metric {metric!r} has shape {values.shape}, expected the result's shape {tuple(result.shape)}"
        )
    return values


def _with_seed_axis(result, values):
    """``(values, diverged)`` with a trailing seed axis even if ``seed`` was selected away."""
    diverged = np.asarray(result.diverged, dtype=bool)
    if "seed" not in result.axes:
        return values[..., None], diverged[..., None]
    return values, diverged


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
    values, diverged = _with_seed_axis(result, _metric_values(result, metric))
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
            elif finite_good[i, j]:
                red, green, blue, _ = cmap(norm(mean[i, j]))
                dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
                ax.text(
                    j,
                    i,
                    f"{mean[i, j]:.2g}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                    zorder=3,
                )
            else:
                ax.text(
                    j,
                    i,
                    "∞" if mean[i, j] == math.inf else "n/a",
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="0.3",
                    zorder=3,
                )
    if finite_good.any():
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
    ax.set_xticks(range(nx))
    ax.set_xticklabels([_fmt(v) for v in result.axes[x]], rotation=45 if nx > 6 else 0)
    ax.set_yticks(range(ny))
    ax.set_yticklabels([_fmt(v) for v in result.axes[y]])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    return image


def _seed_count(result) -> int:
    return len(result.axes["seed"]) if "seed" in result.axes else 1


def _check_result(result, name="result"):
    for attribute in ("axes", "diverged", "steps", "curves", "config_names"):
        if not hasattr(result, attribute):
            raise TypeError(f"{name} must be a SweepResult, got {type(result).__name__}")


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
    _check_result(result)
    mean, _, bad = _cells(result, x, y, metric)
    norm = _heatmap_norm([(mean, bad)], log)
    fig, ax = _figure_and_axes(
        ax, (max(4.0, 0.85 * mean.shape[1] + 2.4), max(3.0, 0.5 * mean.shape[0] + 1.8))
    )
    image = _draw_heatmap(ax, result, x, y, mean, bad, norm)
    fig.colorbar(image, ax=ax, label=f"{metric} (mean of {_seed_count(result)} seeds)")
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
        _check_result(result, f"results[{label!r}]")
        xs[label], ys[label] = name_for(x, label, "x"), name_for(y, label, "y")
        cells[label] = _cells(result, xs[label], ys[label], metric)
    norm = _heatmap_norm([(mean, bad) for mean, _, bad in cells.values()], log)
    widest = max(mean.shape[1] for mean, _, _ in cells.values())
    tallest = max(mean.shape[0] for mean, _, _ in cells.values())
    fig, axes = _grid_figure(
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


def _best_along(result, axis: str, metric: str) -> tuple:
    """For each value of ``axis``: the lowest mean over seeds of ``metric`` among the
    configs of the other hyperparameters that no seed diverged in, and its 95% half-width.
    Returns ``(values of axis, best mean, half-width)``, NaN where every config diverged."""
    if axis not in result.config_names():
        raise ValueError(
            f"{axis!r} is not an axis of the result; its axes are {result.config_names()}"
        )
    values, diverged = _with_seed_axis(result, _metric_values(result, metric))
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


def _drawable(half_width):
    """Half-widths as error bars: an unbounded one (a single seed) draws no bar."""
    half_width = np.asarray(half_width, dtype=float)
    return np.where(np.isfinite(half_width), half_width, np.nan)


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
        _check_result(result, f"results[{label!r}]")
        curves[str(label)] = _best_along(result, axis, metric)
    all_x = np.concatenate([_as_float(axis, c[0]) for c in curves.values()])
    all_y = np.concatenate([c[1] for c in curves.values()])
    logx = bool(np.all(all_x > 0))
    finite_y = all_y[np.isfinite(all_y)]
    logy = bool(finite_y.size and np.all(finite_y > 0))
    floor = _positive_floor(all_y) if logy else None
    fig, ax = _figure_and_axes(None, (6.4, 4.4))
    any_diverged = False
    for i, (label, (xs, best, half)) in enumerate(curves.items()):
        color = _color(i)
        xs = _as_float(axis, xs)
        ax.plot(xs, best, color=color, marker="o", markersize=5, linewidth=1.5, label=label)
        half = _drawable(half)
        lower = half.copy()
        if logy:
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
        gone = np.isnan(best)
        if gone.any():
            any_diverged = True
            ax.plot(
                xs[gone],
                np.full(gone.sum(), 0.96),
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
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    handles, labels = ax.get_legend_handles_labels()
    if any_diverged:
        handles.append(Line2D([], [], color="k", marker="x", linestyle="none", markeredgewidth=2.0))
        labels.append("all configs diverged")
    ax.legend(handles, labels, fontsize=8)
    ax.set_xlabel(axis)
    ax.set_ylabel(f"{metric} (best over other hyperparameters)")
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(f"sensitivity to {axis}" if title is None else title)
    return save_figure(fig, path)


# --------------------------------------------------------------------------- laws


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
    """Measured quantities against a size (steps, batch size, n, d, κ…) with error bars,
    and theoretical curves dashed.

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
    x = _as_float("x", x).ravel()
    theory = dict(theory or {})
    if not series and not theory:
        raise ValueError("nothing to plot: series and theory are empty")
    colors = {
        label: _color(i) for i, label in enumerate(dict.fromkeys(list(series) + list(theory)))
    }
    fig, ax = _figure_and_axes(None, (6.4, 4.4))
    for label, pair in series.items():
        if isinstance(pair, np.ndarray) or not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"series[{label!r}] must be a pair (mean, half_width)")
        mean = _as_float(f"series[{label!r}] mean", pair[0]).ravel()
        half = (
            np.zeros_like(mean)
            if pair[1] is None
            else _drawable(_as_float(f"series[{label!r}] half_width", pair[1]).ravel())
        )
        if mean.shape != x.shape or half.shape != x.shape:
            raise ValueError(
                f"series[{label!r}] must have {len(x)} means and half-widths, got {mean.shape}, {half.shape}"
            )
        lower = half
        if logy:
            floor = _positive_floor(mean)
            lower = np.where(mean - half <= 0, mean - floor, half)
        ax.errorbar(
            x,
            mean,
            yerr=np.vstack([lower, half]),
            color=colors[label],
            marker="o",
            markersize=5,
            linewidth=1.5,
            capsize=3,
            label=str(label),
        )
    for label, curve in theory.items():
        curve = _as_float(f"theory[{label!r}]", curve).ravel()
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
    return save_figure(fig, path)


def rates_table_plot(
    kappas,
    measured: dict,
    predicted: dict,
    *,
    path=None,
    title: Optional[str] = None,
    ylabel: str = "linear rate ρ per step",
) -> Figure:
    """Measured against predicted linear convergence rates as functions of the condition
    number κ: markers for the measurements, lines for the theory, one colour per method.

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
    kappas = _as_float("kappas", kappas).ravel()
    measured, predicted = dict(measured or {}), dict(predicted or {})
    if not measured and not predicted:
        raise ValueError("nothing to plot: measured and predicted are empty")
    colors = {
        label: _color(i) for i, label in enumerate(dict.fromkeys(list(measured) + list(predicted)))
    }
    fig, ax = _figure_and_axes(None, (6.4, 4.4))
    for kind, table in (("measured", measured), ("predicted", predicted)):
        for label, rates in table.items():
            rates = _as_float(f"{kind}[{label!r}]", rates).ravel()
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


def rungs(result, *, path=None, title: Optional[str] = None, logy: bool = True, ax=None) -> Figure:
    """A successive-halving search (:class:`~jaxopt_hw.search.SearchResult`): its metric
    against steps, one line per config (mean over seeds) up to the rung it reached, the
    final rung's configs highlighted, the rung boundaries dotted.

    Args:
      result: a search result.
      path: where to save the PNG, or ``None``.
      title: the title (default: the metric and the configs per rung).
      logy: a logarithmic y axis (where the values are positive).
      ax: draw into this axes instead of a new figure.

    Returns:
      The :class:`matplotlib.figure.Figure`.

    Example::

      found = jh.search(prob, jh.adam, {"learning_rate": jh.log_uniform(1e-4, 1.0)}, num_configs=81, steps=1000)
      fig = plots.rungs(found, path="rungs.png")
    """
    curve_name = "loss" if result.metric == "final_loss" else result.metric
    with warnings.catch_warnings():  # steps past a config's last rung are NaN on every seed
        warnings.simplefilter("ignore", RuntimeWarning)
        values = np.nanmean(np.asarray(result.curves[curve_name], float), axis=1)  # over seeds
    fig, ax = _figure_and_axes(ax, (7.0, 4.2))
    final = result.rung == max(result.rung)
    for index in np.argsort(final, kind="stable"):  # the survivors drawn last, on top
        curve = values[index]
        ax.plot(
            result.steps,
            curve,
            color="#d62728" if final[index] else "#7f7f7f",
            lw=1.6 if final[index] else 0.6,
            alpha=1.0 if final[index] else 0.35,
        )
    for boundary in result.rung_steps[:-1]:
        ax.axvline(boundary, color="k", ls=":", lw=0.8)
    if logy and np.nanmin(values) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(f"{curve_name} (mean over seeds)")
    counts = np.bincount(result.rung, minlength=len(result.rung_steps))[::-1].cumsum()[::-1]
    ax.set_title(
        title or f"{result.metric}: {' → '.join(str(int(c)) for c in counts)} configs per rung"
    )
    ax.legend(
        handles=[
            Line2D([], [], color="#d62728", lw=1.6, label="last rung"),
            Line2D([], [], color="#7f7f7f", lw=0.6, label="stopped earlier"),
        ],
        loc="best",
    )
    return save_figure(fig, path)


def performance_profile(
    steps, labels, *, path=None, tau_max: float = 16.0, title: Optional[str] = None
) -> Figure:
    """Dolan–Moré performance profiles (:func:`jaxopt_hw.metrics.performance_profile`): for
    each solver, the fraction of problems it solves within ``τ`` times the best solver's
    steps, against ``τ`` on a log axis (a step function, as the fraction is).

    Args:
      steps: ``(P, S)`` steps to the tolerance, ``inf`` where never reached.
      labels: the ``S`` solvers' names.
      path: where to save the PNG, or ``None``.
      tau_max: the largest factor drawn.
      title: the title.

    Returns:
      The :class:`matplotlib.figure.Figure`.

    Example:
      >>> import numpy as np
      >>> from jaxopt_hw import plots
      >>> fig = plots.performance_profile(np.array([[10.0, 20.0], [40.0, np.inf]]), ["SGD", "Adam"])
    """
    steps = _as_float("steps", steps)
    if steps.ndim != 2 or steps.shape[1] != len(labels):
        raise ValueError(
            f"steps must be (problems, {len(labels)} solvers), got shape {steps.shape}"
        )
    taus = np.geomspace(1.0, tau_max, 400)
    profile = metrics_lib.performance_profile(steps, taus)
    fig, ax = _figure_and_axes(None, (6.4, 4.2))
    for i, label in enumerate(labels):
        ax.step(taus, profile[:, i], where="post", color=_color(i), linewidth=1.8, label=str(label))
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("τ: steps within τ × the best optimizer's")
    ax.set_ylabel(f"fraction of the {steps.shape[0]} problems")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    if title is not None:
        ax.set_title(title)
    return save_figure(fig, path)
