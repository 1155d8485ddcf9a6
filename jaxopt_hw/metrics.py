"""Summaries of training curves: steps to a tolerance, intervals over seeds, rates.

Pure NumPy functions over arrays whose last axis is the logged step (curves) or whose
``axis`` is the seed axis (intervals). They know nothing of how the curves were made.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple, Optional

import numpy as np

__all__ = [
    "steps_to_tolerance",
    "final_value",
    "mean_interval",
    "Interval",
    "paired_ratio",
    "Ratio",
    "fitted_rate",
    "t_quantile_975",
    "log_interval",
    "LogInterval",
    "log_interval_text",
    "performance_profile",
]


@functools.lru_cache(maxsize=None)  # SciPy's ppf is slow, and intervals ask it per cell
def t_quantile_975(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom (SciPy's, exact
    for every ``df``).

    Example:
      >>> round(t_quantile_975(2), 3)
      4.303
    """
    if df < 1:
        raise ValueError(f"df must be >= 1, got {df}")
    from scipy import stats  # SciPy comes with JAX; imported here to keep `import metrics` light

    return float(stats.t.ppf(0.975, df))


def steps_to_tolerance(curve, steps, tol) -> np.ndarray:
    r"""The first logged step at which ``curve ≤ tol``, :math:`\min\{s_k : c_k \le \tau\}`,
    or ``inf`` where it never gets there.

    Args:
      curve: array ``(..., T)``, e.g. excess loss per logged step.
      steps: the ``T`` step numbers that were logged.
      tol: the tolerance :math:`\tau` (a scalar or an array broadcasting to ``curve[..., 0]``).

    Returns:
      A float array of shape ``curve.shape[:-1]``.

    Example:
      >>> steps_to_tolerance(np.array([4.0, 2.0, 0.5, 0.1]), np.array([10, 20, 30, 40]), 1.0)
      array(30.)
    """
    curve = np.asarray(curve, dtype=float)
    steps = np.asarray(steps, dtype=float)
    reached = curve <= np.asarray(tol, dtype=float)[..., None]
    first = np.argmax(reached, axis=-1)
    return np.where(reached.any(axis=-1), steps[first], np.inf)


def final_value(curve) -> np.ndarray:
    """The last logged value of each curve, ``curve[..., -1]``."""
    return np.asarray(curve)[..., -1]


class Interval(NamedTuple):
    """Mean over seeds and the half-width of its 95% confidence interval."""

    mean: np.ndarray
    half_width: np.ndarray

    @property
    def low(self):
        return self.mean - self.half_width

    @property
    def high(self):
        return self.mean + self.half_width


def mean_interval(values, axis: int = -1) -> Interval:
    r"""Mean and 95% Student-t interval over ``axis``:
    :math:`\bar x \pm t_{0.975, k-1}\, s / \sqrt k` (non-finite entries are ignored). One
    seed bounds nothing: its half-width is ``inf`` (:math:`t_{0.975, 0} = \infty`), so no
    comparison calls it separated from another; no finite seed gives NaN.

    Example:
      >>> iv = mean_interval(np.array([1.0, 2.0, 3.0]))
      >>> float(iv.mean), round(float(iv.half_width), 3)
      (2.0, 2.484)
    """
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    count = finite.sum(axis=axis)
    safe = np.where(finite, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = safe.sum(axis=axis) / count
        deviations = np.where(finite, values - np.expand_dims(mean, axis), 0.0)
        variance = (deviations**2).sum(axis=axis) / np.maximum(count - 1, 1)
        quantile = np.vectorize(
            lambda k: t_quantile_975(int(k) - 1) if k >= 2 else 0.0, otypes=[float]
        )(count)
        half = np.where(
            count >= 2,
            quantile * np.sqrt(variance / np.maximum(count, 1)),
            np.where(count == 1, np.inf, np.nan),
        )
    return Interval(mean=mean, half_width=half)


class LogInterval(NamedTuple):
    """A geometric mean over seeds and its 95% interval ``(low, high)``, all positive."""

    center: np.ndarray
    low: np.ndarray
    high: np.ndarray


def log_interval(values, axis: int = -1) -> LogInterval:
    r"""Geometric mean and 95% interval over ``axis`` for positive, skewed quantities (steps
    to a tolerance, final losses): the Student-t interval of the mean of :math:`\log x`,
    exponentiated, :math:`e^{\bar\ell \pm t_{0.975, k-1} s_\ell / \sqrt k}`. It never
    reaches zero and is as asymmetric as the spread over seeds. Entries that are not finite
    and positive are left out; one seed gives ``(0, ∞)``, none gives NaN.

    Example:
      >>> iv = log_interval(np.array([1.0, 10.0, 100.0]))
      >>> round(float(iv.center), 6), round(float(iv.low), 3), round(float(iv.high), 1)
      (10.0, 0.033, 3048.9)
    """
    values = np.asarray(values, dtype=float)
    usable = np.isfinite(values) & (values > 0)
    logs = np.log(np.where(usable, values, 1.0))
    interval = mean_interval(np.where(usable, logs, np.nan), axis=axis)
    with np.errstate(
        over="ignore", invalid="ignore"
    ):  # an interval too wide for a float ends at inf
        center = np.exp(interval.mean)
        low = np.where(
            np.isinf(interval.half_width), 0.0, np.exp(interval.mean - interval.half_width)
        )
        high = np.exp(interval.mean + interval.half_width)
    return LogInterval(center=center, low=low, high=high)


def log_interval_text(center: float, low: float, high: float) -> str:
    """``"318 (95% 120–840)"`` (3 and 2 significant digits), or the center alone where the
    interval is unbounded (one seed).

    Example:
      >>> log_interval_text(318.2, 120.4, 841.0), log_interval_text(5.0, 0.0, float("inf"))
      ('318 (95% 120–840)', '5')
    """
    if not (math.isfinite(high) and low > 0):
        return f"{center:.3g}"
    return f"{center:.3g} (95% {_two_digits(low)}–{_two_digits(high)})"


def _two_digits(x: float) -> str:
    """``x`` to 2 significant digits, without an exponent where ``:g`` needs none (840, not 8.4e+02)."""
    return f"{float(f'{x:.2g}'):g}"


class Ratio(NamedTuple):
    """A paired ratio over seeds: its geometric mean, the 95% interval of that mean, and
    on how many of the ``count`` seeds the numerator was the larger."""

    ratio: float
    low: float
    high: float
    larger: int
    count: int

    @property
    def separated(self) -> bool:
        """Whether the 95% interval excludes 1 (the two differ at that level)."""
        return self.low > 1.0 or self.high < 1.0


def paired_ratio(numerator, denominator) -> Ratio:
    r"""How many times ``numerator`` exceeds ``denominator`` when both were measured on the
    same seeds (a paired design: a seed fixes the initial point and the batch order), for
    positive, skewed quantities such as final excess losses.

    With :math:`r_i = \log(a_i / b_i)` over the :math:`k` seeds where both are finite and
    positive, the ratio is :math:`e^{\bar r}` and its 95% interval
    :math:`e^{\bar r \pm t_{0.975, k-1} s_r / \sqrt k}`: a Student-t interval on the log
    scale, which stays positive and is asymmetric as such ratios are. With one seed the
    interval is :math:`(0, \infty)`; with none, everything is NaN.

    Args:
      numerator, denominator: 1-D arrays over the same seeds, in the same order.

    Returns:
      A :class:`Ratio`; ``Ratio.separated`` tells whether the interval excludes 1.

    Example:
      >>> r = paired_ratio(np.array([2.0, 4.0, 8.0]), np.array([1.0, 2.0, 4.0]))
      >>> round(r.ratio, 6), round(r.low, 6), round(r.high, 6), r.larger, r.separated
      (2.0, 2.0, 2.0, 3, True)
    """
    a = np.asarray(numerator, dtype=float)
    b = np.asarray(denominator, dtype=float)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(
            f"numerator and denominator must be 1-D over seeds, got shapes {a.shape} and {b.shape}"
        )
    if a.shape != b.shape:
        raise ValueError(
            f"numerator and denominator must have the same number of seeds, got {a.size} and "
            f"{b.size}"
        )
    usable = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    logs = np.log(a[usable]) - np.log(b[usable])  # not log(a / b), which under- or overflows
    k = int(logs.size)
    if k == 0:
        return Ratio(math.nan, math.nan, math.nan, 0, 0)
    center = float(np.mean(logs))
    half = (
        t_quantile_975(k - 1) * float(np.std(logs, ddof=1)) / math.sqrt(k) if k >= 2 else math.inf
    )
    with np.errstate(over="ignore"):  # an interval too wide for a float ends at inf
        low, ratio, high = (float(np.exp(x)) for x in (center - half, center, center + half))
    return Ratio(ratio, low, high, int(np.sum(logs > 0)), k)


def interval_text(mean: float, half_width: float, n_seeds: int) -> str:
    """``"mean ± half-width"`` (4 and 2 significant digits), or the mean alone from one seed,
    which has no interval (its half-width is ``inf``).

    Example:
      >>> interval_text(2.0, 2.484, 3), interval_text(2.0, float("inf"), 1)
      ('2 ± 2.5', '2')
    """
    return f"{mean:.4g} ± {half_width:.2g}" if n_seeds > 1 else f"{mean:.4g}"


def fitted_rate(
    curve, steps, lower: Optional[float] = None, upper: Optional[float] = None
) -> float:
    r"""Empirical linear-convergence rate :math:`\rho` of a curve :math:`c_k \approx C\rho^{s_k}`,
    from a least-squares line through :math:`(s_k, \log c_k)`.

    Only the points with ``lower < c_k ≤ upper`` enter the fit (default: from 1e-2 of
    the first value down to 1e3 times the smallest positive value, cutting the transient
    and the floor set by rounding or noise). When fewer than 3 points fall in that default
    band (a curve that drops by less than 1e5), the points above 10 times the smallest
    value are fitted: the floor is still left out.

    Args:
      curve: a positive 1-D curve, e.g. ``‖w_k − w*‖``.
      steps: the step numbers of its entries.
      lower, upper: the band of values used for the fit.

    Returns:
      :math:`\rho` per step (``nan`` when fewer than 3 points fall in the band).

    Example:
      >>> s = np.arange(1, 50)
      >>> round(fitted_rate(3.0 * 0.9**s, s), 6)
      0.9
    """
    curve = np.asarray(curve, dtype=float)
    steps = np.asarray(steps, dtype=float)
    positive = np.isfinite(curve) & (curve > 0)
    if positive.sum() < 3:
        return math.nan
    values = curve[positive]
    upper = values[0] * 1e-2 if upper is None else upper
    lower = values.min() * 1e3 if lower is None else lower
    band = positive & (curve > lower) & (curve <= upper)
    if band.sum() < 3:  # too short a band (a drop of < 1e5): the points above the floor's scale
        band = positive & (curve > 10 * values.min())
    if band.sum() < 3:
        band = positive
    slope = np.polyfit(steps[band], np.log(curve[band]), 1)[0]
    return float(np.exp(slope))


def performance_profile(steps, taus) -> np.ndarray:
    r"""Dolan–Moré performance profiles: for each solver :math:`s`, the fraction of problems
    it solves within a factor :math:`\tau` of the best solver's cost,
    :math:`\rho_s(\tau) = |\{p : t_{p,s} \le \tau \min_{s'} t_{p,s'}\}| / P`.

    Args:
      steps: ``(P, S)`` costs (e.g. steps to a tolerance) of ``S`` solvers on ``P``
        problems, ``inf`` (or NaN) where a solver never solved the problem; a problem no
        solver solves counts as unsolved by all.
      taus: the factors :math:`\tau \ge 1` to evaluate.

    Returns:
      ``(len(taus), S)`` fractions in ``[0, 1]``.

    Example:
      >>> performance_profile(np.array([[10.0, 20.0], [40.0, 20.0], [5.0, np.inf]]), [1.0, 2.0])
      array([[0.66666667, 0.33333333],
             [1.        , 0.66666667]])
    """
    steps = np.asarray(steps, dtype=float)
    if steps.ndim != 2 or steps.shape[0] == 0:
        raise ValueError(
            f"steps must be (problems, solvers) with at least one problem, got shape {steps.shape}"
        )
    solved = np.isfinite(steps) & (steps > 0)
    cost = np.where(solved, steps, np.inf)
    best = cost.min(axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):  # inf / inf on a problem nobody solves: unsolved
        ratio = np.where(solved, cost / best, np.inf)
    taus = np.asarray(taus, dtype=float)
    return (ratio[None, :, :] <= taus[:, None, None]).mean(axis=1)
