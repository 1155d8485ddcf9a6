"""Curves against steps: training curves with their bands, and performance profiles."""

from __future__ import annotations

import warnings
from typing import Mapping, Optional

import numpy as np
from matplotlib.figure import Figure

from jaxopt_hw import metrics as metrics_lib
from jaxopt_hw.plots.figure import as_float, color, figure_and_axes, positive_floor, save_figure


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

      res = jh.sweep(prob, jh.adam, grid={"learning_rate": [1e-2, 1e-1]}, seeds=[0, 1, 2],
                     steps=200)
      fig = plots.convergence({f"lr={lr:g}": res.sel(learning_rate=lr).excess_loss
                               for lr in res.axes["learning_rate"]}, res.steps, path="curves.png")
    """
    if band not in ("ci95", "minmax", None):
        raise ValueError(f"band must be 'ci95', 'minmax' or None, got {band!r}")
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty dict {label: array (n_seeds, n_steps)}")
    steps = as_float("steps", steps).ravel()
    prepared = {str(label): _curve(label, values, steps, band) for label, values in curves.items()}
    floor = positive_floor(*[p[0] for p in prepared.values()]) if logy else None
    fig, ax = figure_and_axes(ax, (6.4, 4.2))
    for i, (label, curve) in enumerate(prepared.items()):
        _draw_curve(ax, steps, label, curve, color(i), floor)
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


def _curve(label, values, steps, band) -> tuple:
    """Returns one curve's ``(center, low, high, n_seeds)``: the mean and its band."""
    values = as_float(f"curves[{label!r}]", values)
    if values.ndim == 1:
        values = values[None]
    if values.ndim != 2 or values.shape[1] != len(steps):
        raise ValueError(
            f"curves[{label!r}] must have shape (n_seeds, {len(steps)}), got {values.shape}"
        )
    interval = metrics_lib.mean_interval(values, axis=0)
    if band == "ci95":
        low, high = interval.low, interval.high
    elif band == "minmax":
        finite = np.where(np.isfinite(values), values, np.nan)
        with warnings.catch_warnings():  # an all-NaN column stays NaN, silently
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = np.nanmin(finite, axis=0), np.nanmax(finite, axis=0)
    else:
        low = high = None
    return interval.mean, low, high, values.shape[0]


def _draw_curve(ax, steps, label, curve, color, floor) -> None:
    """Draws one curve and, over several seeds, its band (clipped at ``floor`` on a log axis)."""
    center, low, high, n = curve
    ax.plot(
        steps, center, color=color, linewidth=1.6, label=label if n == 1 else f"{label} (n={n})"
    )
    if low is not None and n > 1:
        if floor is not None:
            low = np.where(np.isfinite(low) & (low <= floor), floor, low)
        ax.fill_between(steps, low, high, color=color, alpha=0.2, linewidth=0)


def performance_profile(
    steps, labels, *, path=None, tau_max: float = 16.0, title: Optional[str] = None
) -> Figure:
    """Dolan–Moré performance profiles (:func:`jaxopt_hw.metrics.performance_profile`).

    For each solver, the fraction of problems it solves within ``τ`` times the best solver's
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
    steps = as_float("steps", steps)
    if steps.ndim != 2 or steps.shape[1] != len(labels):
        raise ValueError(
            f"steps must be (problems, {len(labels)} solvers), got shape {steps.shape}"
        )
    taus = np.geomspace(1.0, tau_max, 400)
    profile = metrics_lib.performance_profile(steps, taus)
    fig, ax = figure_and_axes(None, (6.4, 4.2))
    for i, label in enumerate(labels):
        ax.step(taus, profile[:, i], where="post", color=color(i), linewidth=1.8, label=str(label))
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("τ: steps within τ × the best optimizer's")
    ax.set_ylabel(f"fraction of the {steps.shape[0]} problems")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    if title is not None:
        ax.set_title(title)
    return save_figure(fig, path)
