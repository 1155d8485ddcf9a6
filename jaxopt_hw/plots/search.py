"""A successive-halving search drawn rung by rung."""

from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from jaxopt_hw.plots.figure import figure_and_axes, save_figure


def rungs(result, *, path=None, title: Optional[str] = None, logy: bool = True, ax=None) -> Figure:
    """A successive-halving search's metric against steps, one line per config.

    Each line (the mean over seeds of a :class:`~jaxopt_hw.search.SearchResult`'s config)
    runs up to the rung it reached; the final rung's configs are highlighted and the rung
    boundaries dotted.

    Args:
      result: a search result.
      path: where to save the PNG, or ``None``.
      title: the title (default: the metric and the configs per rung).
      logy: a logarithmic y axis (where the values are positive).
      ax: draw into this axes instead of a new figure.

    Returns:
      The :class:`matplotlib.figure.Figure`.

    Example::

      found = jh.search(prob, jh.adam, {"learning_rate": jh.log_uniform(1e-4, 1.0)},
                        num_configs=81, steps=1000)
      fig = plots.rungs(found, path="rungs.png")
    """
    curve_name = "loss" if result.metric == "final_loss" else result.metric
    with warnings.catch_warnings():  # steps past a config's last rung are NaN on every seed
        warnings.simplefilter("ignore", RuntimeWarning)
        values = np.nanmean(np.asarray(result.curves[curve_name], float), axis=1)  # over seeds
    fig, ax = figure_and_axes(ax, (7.0, 4.2))
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
