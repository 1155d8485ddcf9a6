"""Reading a sweep's results for a figure: the metric per run, with a seed axis."""

from __future__ import annotations

import numpy as np

from jaxopt_hw.plots.figure import as_float


def check_result(result, name="result"):
    for attribute in ("axes", "diverged", "steps", "curves", "config_names"):
        if not hasattr(result, attribute):
            raise TypeError(f"{name} must be a SweepResult, got {type(result).__name__}")


def metric_values(result, metric: str) -> np.ndarray:
    """Returns ``metric`` of ``result`` as an array ``(*grid shape, n_seeds)``.

    The metric is an attribute such as ``final_loss`` or ``steps_to_tol``, or a curve's
    name (``"dist_to_opt"``), of which the last logged value is taken.
    """
    if isinstance(metric, str) and hasattr(result, metric):
        values = getattr(result, metric)
    elif isinstance(metric, str) and metric in result.curves:
        values = result.curves[metric]
    else:
        raise ValueError(
            f"unknown metric {metric!r}: use an attribute of SweepResult (final_loss, "
            f"final_excess_loss, steps_to_tol, …) or a curve ({', '.join(result.curves)})"
        )
    values = as_float(metric, values)
    if values.shape == tuple(result.shape) + (len(result.steps),):
        values = values[..., -1]
    if values.shape != tuple(result.shape):
        raise ValueError(
            f"metric {metric!r} has shape {values.shape}, "
            f"expected the result's shape {tuple(result.shape)}"
        )
    return values


def with_seed_axis(result, values):
    """``(values, diverged)`` with a trailing seed axis even if ``seed`` was selected away."""
    diverged = np.asarray(result.diverged, dtype=bool)
    if "seed" not in result.axes:
        return values[..., None], diverged[..., None]
    return values, diverged


def seed_count(result) -> int:
    return len(result.axes["seed"]) if "seed" in result.axes else 1
