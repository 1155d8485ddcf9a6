"""Log-log slopes: one over the seeds' means, and one per seed with its interval."""

from __future__ import annotations

import math

import numpy as np

from jaxopt_hw import metrics

__all__ = ["MIN_FIT_POINTS", "loglog_slope", "per_seed_slopes", "seed_slope_facts"]

#: the fewest finite points a fitted slope needs
MIN_FIT_POINTS = 3


def loglog_slope(x, y, min_points: int = MIN_FIT_POINTS) -> float:
    """The least-squares slope of ``log y`` against ``log x``.

    Only the points where both are finite and positive count; with fewer than
    ``min_points`` of them the slope is NaN.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if keep.sum() < min_points:
        return math.nan
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])


def per_seed_slopes(x, per_seed_rows) -> np.ndarray:
    """One log-log slope per seed (:func:`loglog_slope`; NaN where a seed has too few points).

    ``per_seed_rows`` holds, for each point of ``x``, the seeds' values, or ``None`` where
    not every seed has one.
    """
    lengths = {len(row) for row in per_seed_rows if row is not None}
    if len(lengths) > 1:
        raise ValueError(
            f"per_seed_rows must hold the same seeds at every point, got lengths {sorted(lengths)}"
        )
    n_seeds = lengths.pop() if lengths else 0
    return np.array(
        [
            loglog_slope(x, [row[seed] if row is not None else math.nan for row in per_seed_rows])
            for seed in range(n_seeds)
        ]
    )


def seed_slope_facts(prefix: str, slopes) -> dict:
    """The mean of per-seed slopes and its 95% half-width, as ``{prefix}_seed_slope(_half)``.

    Empty when fewer than two seeds give a slope.
    """
    slopes = np.asarray(slopes, dtype=float)
    slopes = slopes[np.isfinite(slopes)]
    if len(slopes) < 2:
        return {}
    interval = metrics.mean_interval(slopes)
    return {
        f"{prefix}_seed_slope": float(interval.mean),
        f"{prefix}_seed_slope_half": float(interval.half_width),
    }
