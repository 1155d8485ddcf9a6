"""Matplotlib figures for the study, each built on a fresh Figure.

The figures: landscapes with trajectories, convergence curves, hyperparameter heatmaps,
sensitivity to one hyperparameter, scaling laws and rates, search rungs.

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

Modules by kind of figure: ``landscapes``, ``curves``, ``heatmaps``, ``sensitivity``,
``scaling``, ``search``; ``figure`` and ``results`` hold what they share.
"""

from jaxopt_hw.plots.curves import convergence, performance_profile
from jaxopt_hw.plots.figure import COLORS as COLORS
from jaxopt_hw.plots.figure import DIVERGED_MARK as DIVERGED_MARK
from jaxopt_hw.plots.figure import DPI as DPI
from jaxopt_hw.plots.figure import color, save_figure
from jaxopt_hw.plots.heatmaps import heatmap, heatmaps
from jaxopt_hw.plots.landscapes import contour_trajectories, contour_trajectories_grid
from jaxopt_hw.plots.scaling import rates_table_plot, scaling
from jaxopt_hw.plots.search import rungs
from jaxopt_hw.plots.sensitivity import sensitivity

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
    "color",
]
