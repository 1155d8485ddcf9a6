"""metrics.py: steps to a tolerance, intervals over seeds (their coverage), fitted rates."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from jaxopt_hw import metrics


def test_docstring_examples():
    results = doctest.testmod(metrics, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert results.attempted >= 3 and results.failed == 0


def test_steps_to_tolerance_is_the_first_logged_step_at_or_below_it():
    steps = np.array([5, 10, 15, 20])
    curves = np.array([[3.0, 1.0, 0.5, 0.7], [3.0, 2.0, 2.0, 2.0], [0.5, 9.0, 9.0, 9.0]])
    np.testing.assert_array_equal(metrics.steps_to_tolerance(curves, steps, 1.0), [10, np.inf, 5])
    # a tolerance per curve
    np.testing.assert_array_equal(metrics.steps_to_tolerance(curves, steps, np.array([0.5, 2.0, 0.1])), [15, 10, np.inf])
    assert np.isinf(metrics.steps_to_tolerance(np.array([np.nan, np.nan]), np.array([1, 2]), 1.0))


def test_mean_interval_is_the_student_t_interval():
    values = np.array([[1.0, 2.0, 3.0, 6.0], [2.0, 2.0, 2.0, 2.0]])
    interval = metrics.mean_interval(values, axis=-1)
    np.testing.assert_allclose(interval.mean, [3.0, 2.0])
    np.testing.assert_allclose(interval.half_width, [3.182 * np.std(values[0], ddof=1) / 2, 0.0])
    np.testing.assert_allclose(interval.low, interval.mean - interval.half_width)
    one_seed = metrics.mean_interval(np.array([[4.0]]), axis=-1)
    assert one_seed.mean[0] == 4.0 and one_seed.half_width[0] == np.inf  # one seed bounds nothing
    assert np.isnan(metrics.mean_interval(np.array([np.nan, np.inf])).half_width)  # no finite seed
    # non-finite seeds are left out of both the mean and the count
    partial = metrics.mean_interval(np.array([1.0, 3.0, np.nan, np.inf]))
    assert float(partial.mean) == 2.0 and float(partial.half_width) == pytest.approx(12.706)  # t(1) · √2 / √2


@pytest.mark.parametrize("seeds", [3, 5, 20])
def test_mean_interval_covers_the_true_mean_95_percent_of_the_time(seeds):
    rng = np.random.default_rng(seeds)
    samples = rng.standard_normal((20_000, seeds)) * 2.0 + 1.0
    interval = metrics.mean_interval(samples, axis=-1)
    covered = np.mean((interval.low <= 1.0) & (1.0 <= interval.high))
    assert 0.94 < covered < 0.96  # 1.96 in place of t would cover 88% with 3 seeds


def test_t_quantiles():
    assert metrics.t_quantile_975(1) == 12.706 and metrics.t_quantile_975(30) == 2.042
    assert 1.96 < metrics.t_quantile_975(100) < 2.0
    with pytest.raises(ValueError, match="df"):
        metrics.t_quantile_975(0)


def test_fitted_rate_recovers_a_geometric_rate_above_a_floor():
    steps = np.arange(1, 201)
    rng = np.random.default_rng(0)
    curve = 5.0 * 0.95**steps * np.exp(0.01 * rng.standard_normal(steps.size)) + 1e-12  # a rounding floor
    assert metrics.fitted_rate(curve, steps) == pytest.approx(0.95, abs=1e-3)
    assert metrics.fitted_rate(np.full(50, 2.0), np.arange(50)) == pytest.approx(1.0)  # no progress
    assert np.isnan(metrics.fitted_rate(np.array([1.0, np.nan, 0.0, -1.0]), np.arange(4)))  # < 3 usable points
    halving = 0.5 ** np.arange(0, 20, 2.0)  # logged every 2nd step: the rate is per step
    assert metrics.fitted_rate(halving, np.arange(0, 20, 2)) == pytest.approx(0.5, rel=1e-9)


def test_final_value_is_the_last_logged_entry():
    np.testing.assert_array_equal(metrics.final_value(np.arange(12.0).reshape(2, 2, 3)), [[2.0, 5.0], [8.0, 11.0]])
