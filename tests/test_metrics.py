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
    np.testing.assert_array_equal(
        metrics.steps_to_tolerance(curves, steps, np.array([0.5, 2.0, 0.1])), [15, 10, np.inf]
    )
    assert np.isinf(metrics.steps_to_tolerance(np.array([np.nan, np.nan]), np.array([1, 2]), 1.0))


def test_mean_interval_is_the_student_t_interval():
    values = np.array([[1.0, 2.0, 3.0, 6.0], [2.0, 2.0, 2.0, 2.0]])
    interval = metrics.mean_interval(values, axis=-1)
    np.testing.assert_allclose(interval.mean, [3.0, 2.0])
    np.testing.assert_allclose(
        interval.half_width, [metrics.t_quantile_975(3) * np.std(values[0], ddof=1) / 2, 0.0]
    )
    np.testing.assert_allclose(interval.low, interval.mean - interval.half_width)
    one_seed = metrics.mean_interval(np.array([[4.0]]), axis=-1)
    assert one_seed.mean[0] == 4.0 and one_seed.half_width[0] == np.inf  # one seed bounds nothing
    assert np.isnan(metrics.mean_interval(np.array([np.nan, np.inf])).half_width)  # no finite seed
    # non-finite seeds are left out of both the mean and the count
    partial = metrics.mean_interval(np.array([1.0, 3.0, np.nan, np.inf]))
    assert float(partial.mean) == 2.0 and float(partial.half_width) == pytest.approx(
        12.706, abs=5e-4
    )  # t(1) · √2 / √2


@pytest.mark.parametrize("seeds", [3, 5, 20])
def test_mean_interval_covers_the_true_mean_95_percent_of_the_time(seeds):
    rng = np.random.default_rng(seeds)
    samples = rng.standard_normal((20_000, seeds)) * 2.0 + 1.0
    interval = metrics.mean_interval(samples, axis=-1)
    covered = np.mean((interval.low <= 1.0) & (1.0 <= interval.high))
    assert 0.94 < covered < 0.96  # 1.96 in place of t would cover 88% with 3 seeds


def test_t_quantiles_are_scipys():
    from scipy import stats

    for df in (1, 2, 4, 9, 30, 31, 100, 1000):
        assert metrics.t_quantile_975(df) == pytest.approx(stats.t.ppf(0.975, df), rel=1e-12)
    assert metrics.t_quantile_975(1) == pytest.approx(12.706, abs=5e-4)  # the printed tables
    with pytest.raises(ValueError, match="df"):
        metrics.t_quantile_975(0)


def test_log_interval_is_the_t_interval_of_the_logs_exponentiated():
    from scipy import stats

    values = np.array([[318.0, 120.0, 2000.0, 55.0], [3.0, 3.0, 3.0, 3.0]])
    got = metrics.log_interval(values, axis=-1)
    logs = np.log(values)
    half = stats.t.ppf(0.975, 3) * logs.std(axis=-1, ddof=1) / 2.0  # a NumPy reference
    np.testing.assert_allclose(got.center, np.exp(logs.mean(axis=-1)))
    np.testing.assert_allclose(got.low, np.exp(logs.mean(axis=-1) - half))
    np.testing.assert_allclose(got.high, np.exp(logs.mean(axis=-1) + half))
    # non-finite or non-positive seeds are left out
    partial = metrics.log_interval(np.array([10.0, 1000.0, np.inf, 0.0, np.nan]))
    assert float(partial.center) == pytest.approx(100.0)
    one = metrics.log_interval(np.array([7.0, np.inf]))
    assert (
        float(one.center) == pytest.approx(7.0)
        and float(one.low) == 0.0
        and float(one.high) == np.inf
    )


def test_log_interval_never_goes_below_zero_where_the_t_interval_does():
    rng = np.random.default_rng(0)
    samples = np.exp(2.0 * rng.standard_normal((2000, 3)))  # log-normal, heavily skewed
    assert np.any(metrics.mean_interval(samples, axis=-1).low < 0)
    got = metrics.log_interval(samples, axis=-1)
    assert np.all(got.low > 0) and np.all(got.low <= got.center) and np.all(got.center <= got.high)


def test_log_interval_text():
    assert metrics.log_interval_text(318.2, 120.4, 841.0) == "318 (95% 120–840)"
    assert metrics.log_interval_text(0.00357, 1.2e-05, 0.0841) == "0.00357 (95% 1.2e-05–0.084)"
    assert metrics.log_interval_text(5.0, 0.0, np.inf) == "5"


def test_fitted_rate_recovers_a_geometric_rate_above_a_floor():
    steps = np.arange(1, 201)
    rng = np.random.default_rng(0)
    curve = (
        5.0 * 0.95**steps * np.exp(0.01 * rng.standard_normal(steps.size)) + 1e-12
    )  # a rounding floor
    assert metrics.fitted_rate(curve, steps) == pytest.approx(0.95, abs=1e-3)
    assert metrics.fitted_rate(np.full(50, 2.0), np.arange(50)) == pytest.approx(1.0)  # no progress
    assert np.isnan(
        metrics.fitted_rate(np.array([1.0, np.nan, 0.0, -1.0]), np.arange(4))
    )  # < 3 usable points
    halving = 0.5 ** np.arange(0, 20, 2.0)  # logged every 2nd step: the rate is per step
    assert metrics.fitted_rate(halving, np.arange(0, 20, 2)) == pytest.approx(0.5, rel=1e-9)
    # a drop of only 1e3 to a noise floor: the default band is empty, the floor still left out
    steps = np.arange(500.0)
    assert metrics.fitted_rate(np.maximum(0.9**steps, 1e-3), steps) == pytest.approx(0.9, rel=1e-6)


def test_final_value_is_the_last_logged_entry():
    np.testing.assert_array_equal(
        metrics.final_value(np.arange(12.0).reshape(2, 2, 3)), [[2.0, 5.0], [8.0, 11.0]]
    )


def test_paired_ratio_is_the_geometric_mean_of_the_per_seed_ratios():
    a, b = np.array([2.0, 9.0, 1.0, 4.0]), np.array([1.0, 3.0, 2.0, 1.0])
    ratio = metrics.paired_ratio(a, b)
    logs = np.log(a / b)
    half = metrics.t_quantile_975(3) * np.std(logs, ddof=1) / 2
    assert ratio.ratio == pytest.approx(np.exp(logs.mean()))
    assert (ratio.low, ratio.high) == pytest.approx(
        (np.exp(logs.mean() - half), np.exp(logs.mean() + half))
    )
    assert (ratio.larger, ratio.count) == (
        3,
        4,
    ) and not ratio.separated  # 3 of 4 seeds decide nothing here
    assert metrics.paired_ratio([2.0, 4.0, 8.0], [1.0, 2.0, 4.1]).separated
    # seeds where either value is not finite and positive are left out
    assert metrics.paired_ratio([2.0, np.inf, 0.0, 4.0], [1.0, 1.0, 1.0, 2.0]).count == 2
    one = metrics.paired_ratio([3.0], [1.0])
    assert (
        one.ratio == pytest.approx(3.0)
        and (one.low, one.high) == (0.0, np.inf)
        and not one.separated
    )
    assert np.isnan(metrics.paired_ratio([np.nan], [1.0]).ratio)
    with pytest.raises(ValueError, match="same number of seeds"):
        metrics.paired_ratio([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="1-D over seeds"):
        metrics.paired_ratio(
            np.ones((2, 3)), np.ones((2, 3))
        )  # configs and seeds are not to be mixed
    # ratios and intervals beyond a float's range: inf and 0, not an error
    wide = metrics.paired_ratio([1e-25, 1e25], [1.0, 1.0])
    assert wide.ratio == pytest.approx(1.0) and wide.low < 1e-300 and wide.high == np.inf
    tiny = metrics.paired_ratio([1e-310, 1.0], [1e300, 1.0])
    assert 0 < tiny.ratio < 1e-300 and tiny.low == 0.0 and tiny.count == 2


@pytest.mark.parametrize("seeds", [3, 10])
def test_paired_ratio_interval_covers_the_true_ratio_95_percent_of_the_time(seeds):
    rng = np.random.default_rng(seeds)
    shared = rng.lognormal(0.0, 2.0, (4_000, seeds))  # the seed's own luck, common to both
    a = 3.0 * shared * rng.lognormal(0.0, 0.5, (4_000, seeds))
    b = shared * rng.lognormal(0.0, 0.5, (4_000, seeds))
    covered = np.mean([r.low <= 3.0 <= r.high for r in map(metrics.paired_ratio, a, b)])
    assert 0.93 < covered < 0.97


def test_performance_profile_equals_a_numpy_reference_on_recorded_steps():
    # the quick report's steps to the tolerance (homework problems, then the scaling scans)
    inf = np.inf
    steps = np.array(
        [
            [180.0, 72.5, 385.0, 137.5],
            [612.5, 595.0, inf, 442.5],
            [105.0, 75.0, 30.0, 100.0],
            [inf, 950.0, inf, 1415.0],
            [inf, inf, inf, inf],
            [inf, 845.0, 420.0, 475.0],
        ]
    )
    taus = np.array([1.0, 1.5, 2.0, 4.0, 100.0])
    reference = np.zeros((taus.size, 4))
    for i, tau in enumerate(
        taus
    ):  # ρ_s(τ) = share of problems with t_ps ≤ τ · min_s t_ps, loop by loop
        for s in range(4):
            hits = 0
            for p in range(steps.shape[0]):
                best = min(steps[p])
                hits += bool(np.isfinite(steps[p, s]) and steps[p, s] <= tau * best)
            reference[i, s] = hits / steps.shape[0]
    np.testing.assert_allclose(metrics.performance_profile(steps, taus), reference)
    assert metrics.performance_profile(steps, [1.0])[0].sum() == pytest.approx(
        5 / 6
    )  # one problem nobody solves
    with pytest.raises(ValueError, match="problems"):
        metrics.performance_profile(np.zeros((0, 4)), [1.0])
