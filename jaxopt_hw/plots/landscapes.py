"""Loss landscapes of 2-parameter problems with optimizer trajectories drawn on them."""

from __future__ import annotations

import math
import numbers
from typing import Mapping, Optional

import jax
import jax.numpy as jnp
import matplotlib.colors as mcolors
import matplotlib.patheffects as patheffects
import numpy as np
from matplotlib.figure import Figure

from jaxopt_hw.loop import Trace
from jaxopt_hw.plots.figure import as_float, color, grid_figure, new_figure, save_figure
from jaxopt_hw.problems import Problem


def _trajectory_array(name, value) -> np.ndarray:
    if isinstance(value, Trace):
        if value.params is None:
            raise ValueError(
                f"trajectory {name!r} is a Trace without params: run with record_params=True"
            )
        value = value.params
    array = as_float(f"trajectory {name!r}", value)
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
            "contour plots need a problem whose parameters are one vector of length 2; "
            f"{problem.name} has {shapes}"
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
    """Returns ``(U, V, Z)``, the full-data loss on a ``resolution²`` grid.

    The loss is a jitted ``vmap`` of ``problem.loss`` over equal chunks of the grid, each
    touching about 4M data rows.
    """
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
    """Returns the contour levels, evenly spaced or, with ``log_levels``, dense near the optimum.

    Log levels are log-spaced in the excess of the loss over its minimum.
    """
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
    fig = new_figure(6.4, 5.0)
    ax = fig.add_subplot()
    filled = _draw_landscape(ax, grid, level_values, bounds, w_star)
    for i, (label, points) in enumerate(arrays.items()):
        _draw_trajectory(ax, label, points, color(i))
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
    """One panel per trajectory on the same landscape, frame and colour scale.

    For example one picture each for Momentum, RMSprop and Adam.

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
    fig, axes = grid_figure(len(arrays), ncols, (4.6, 4.0))
    filled = None
    for i, (ax, (label, points)) in enumerate(zip(axes, arrays.items())):
        filled = _draw_landscape(ax, grid, level_values, bounds, w_star)
        _draw_trajectory(ax, label, points, color(i))
        ax.set_title(label)
    _level_colorbar(fig, filled, level_values, axes)
    fig.suptitle(problem.name if title is None else title)
    return save_figure(fig, path)
