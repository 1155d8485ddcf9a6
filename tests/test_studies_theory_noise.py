"""The theory and noise-floor studies: measured rates and floors against their predictions."""

import math

import numpy as np
import pytest
from study_checks import assert_numbers_are_facts, check_study_output

from jaxopt_hw.studies import fmt, noise_floor, theory


@pytest.fixture(scope="module")
def theory_run(quick_study):
    return quick_study("theory")  # the quick report's run (tests/conftest.py)


@pytest.fixture(scope="module")
def noise_run(quick_study):
    return quick_study("noise_floor")  # the quick report's run (tests/conftest.py)


# --------------------------------------------------------------------------- theory


#: per starting point, the relative errors of the contraction gap ``1 − ρ`` and of the
#: exponent ``−log ρ`` (steps per e-fold): a few times the worst measured on the quick run
#: (seeds 0 and 1, κ = 10, 100, 1000): GD 8.7e-05 and 9.7e-05, heavy ball 4.7e-03 and
#: 6.6e-03, Nesterov 1.8e-02 and 2.2e-02. (ρ itself is within 0.1 of any rate near 1.)
GAP_TOL = {"gd": 3e-4, "hb": 1.5e-2, "nag": 5e-2}
EXPONENT_TOL = {"gd": 3e-4, "hb": 1.5e-2, "nag": 5e-2}


def test_theory_contraction_gaps_match_predictions(theory_run):
    _, result = theory_run
    rows = result.data["rows"]
    assert sorted({r["kappa"] for r in rows}) == [10, 100, 1000]
    for kappa in (10, 100, 1000):
        for method in ("gd", "hb", "nag"):
            (row,) = [r for r in rows if r["kappa"] == kappa and r["method"] == method]
            root = math.sqrt(kappa)
            expected = {
                "gd": (kappa - 1) / (kappa + 1),
                "hb": (root - 1) / (root + 1),
                "nag": 1 - 1 / root,
            }[method]
            assert row["predicted"] == pytest.approx(expected, rel=1e-9)
            for fit in row["fits"]:  # every seed, not only the mean
                assert abs((1 - fit["rate"]) / (1 - expected) - 1) < GAP_TOL[method], (
                    kappa,
                    method,
                    fit,
                )
                assert abs(math.log(fit["rate"]) / math.log(expected) - 1) < EXPONENT_TOL[method], (
                    kappa,
                    method,
                    fit,
                )
            # the report's claim: the rate averaged over the seeds within RATE_TOL of 1 − ρ
            measured = result.facts[f"{method}_k{kappa}_measured"]
            assert abs((1 - measured) / (1 - expected) - 1) <= theory.RATE_TOL


def test_theory_heavy_ball_transient_has_a_linear_polynomial_factor(theory_run):
    _, result = theory_run
    for row in result.data["rows"]:
        if row["method"] == "hb":
            assert 0.7 < row["poly_exponent"] < 1.2
    # GD needs about κ times more steps per decade of accuracy, heavy ball about √κ
    assert result.facts["gd_steps_slope"] == pytest.approx(1.0, abs=0.1)
    assert result.facts["hb_steps_slope"] == pytest.approx(0.5, abs=0.1)


def test_theory_figures_and_facts(theory_run, tmp_path):
    settings, result = theory_run
    check_study_output(settings, result, theory)
    for method in theory.METHODS:  # the facts are the worst of the rows checked above
        assert result.facts[f"{method}_max_gap_error"] < GAP_TOL[method]
        assert result.facts[f"{method}_mean_gap_error"] <= min(theory.RATE_TOL, GAP_TOL[method])
    assert result.facts["max_exponent_error"] < max(EXPONENT_TOL.values())


def test_theory_adaptive_methods_against_their_references(theory_run):
    _, result = theory_run
    f = result.facts
    # measured on the quick run: RMSprop stalls (no linear rate at any κ); Adam decays
    # linearly at κ = 10 only, at √β₁ (ratio 1.01), far from Jacobi GD's ρ_D (ratio 0.214)
    assert f["rmsprop_linear_count"] == 0
    assert f["adam_k10_linear"] == 1
    assert abs(f["adam_k10_ratio_b1"] - 1) <= f["ref_tol"]
    assert f["jacobi_k1000_kappa_d"] > 100  # rotated designs: diagonal scaling barely helps
    assert math.isnan(f["rmsprop_k10_rate"])
    assert len(result.data["adaptive"]) == 6


def test_fit_rate_recovers_rates_with_and_without_polynomial_factor():
    steps = np.arange(1, 400)
    pure = 3.0 * 0.95**steps
    fit = theory.fit_rate(pure, steps, polynomial=False)
    assert fit["rate"] == pytest.approx(0.95, rel=1e-10)
    defective = 2.0 * steps * 0.9**steps + 1e-14  # t·ρ^t above a round-off floor
    with_factor = theory.fit_rate(defective, steps, polynomial=True)
    assert with_factor["rate"] == pytest.approx(0.9, rel=1e-3)
    assert with_factor["exponent"] == pytest.approx(1.0, abs=0.05)
    assert theory.fit_rate(defective, steps, polynomial=False)["rate"] > 0.9 * 1.005  # biased slow


# --------------------------------------------------------------------------- noise floor


def test_noise_floor_decreases_with_batch_and_increases_with_step(noise_run):
    _, result = noise_run
    measured = np.asarray(result.data["measured"])  # (batches, step sizes)
    assert measured.shape == (len(noise_floor.BATCHES_QUICK), len(noise_floor.STEPS_L_QUICK))
    assert np.all(np.diff(measured, axis=0) < 0), measured
    assert np.all(np.diff(measured, axis=1) > 0), measured
    assert -1.3 < result.facts["slope_batch_mean"] < -0.8
    assert 0.8 < result.facts["slope_alpha_mean"] < 1.4


def test_noise_floor_matches_prediction(noise_run):
    _, result = noise_run
    ratio = np.asarray(result.data["ratio"])
    # the report's "predicts": every cell within FLOOR_TOL (measured on the quick run: 0.951 to 1.04)
    assert np.all(np.abs(ratio - 1) <= noise_floor.FLOOR_TOL), ratio
    assert result.facts["n_ratio_off"] == 0
    # the additive-noise Lyapunov equation misses the state-dependent noise at B = 1, large α (1.6)
    assert result.facts["additive_ratio_b1_amax"] > 1.3
    # reshuffling lowers the floor at the largest batch, smallest step: predicted 0.774, measured 0.804
    assert result.facts["rr_factor_bmax_amin"] < 1 - noise_floor.FLOOR_TOL
    assert result.facts["no_rr_ratio_bmax_amin"] < 1 - noise_floor.FLOOR_TOL


def test_noise_floor_figures_and_facts(noise_run, tmp_path):
    settings, result = noise_run
    check_study_output(settings, result, noise_floor)


def test_stationary_excess_loss_in_one_dimension_is_the_closed_form():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4096, 1))
    y = 0.7 * x[:, 0] + rng.standard_normal(4096)
    w_star = np.linalg.lstsq(x, y, rcond=None)[0]
    moments = noise_floor.noise_moments(x, y, w_star)
    h, c = moments["H"][0, 0], moments["C"][0, 0]
    alpha, batch = 0.05, 4
    sigma = alpha**2 * c / (batch * (1 - (1 - alpha * h) ** 2))
    assert noise_floor.iid_excess_loss(
        moments, alpha, batch, multiplicative=False
    ) == pytest.approx(0.5 * h * sigma)
    # with the state-dependent term: Σ(1 − (1−αh)² − α²(F − h²)/B) = α²c/B
    f = moments["F"][0, 0]
    sigma_full = alpha**2 * c / batch / (1 - (1 - alpha * h) ** 2 - alpha**2 * (f - h**2) / batch)
    assert noise_floor.iid_excess_loss(moments, alpha, batch) == pytest.approx(0.5 * h * sigma_full)
    # no stationary second moment past the stability edge
    assert noise_floor.iid_excess_loss(moments, 3.0 / h, 1) == math.inf


def test_reshuffling_factor_limits():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4096, 3))
    y = x @ np.ones(3) + rng.standard_normal(4096)
    moments = noise_floor.noise_moments(x, y, np.linalg.lstsq(x, y, rcond=None)[0])
    steps = np.arange(200, 2000)
    # long epochs against the relaxation time: as with replacement
    assert noise_floor.reshuffling_factor(moments, 0.1, 1, steps) == pytest.approx(1.0, abs=0.01)
    # one batch per epoch (B = n): every step sees the full gradient, no noise at all
    assert noise_floor.reshuffling_factor(moments, 0.1, 4096, steps) == pytest.approx(
        0.0, abs=1e-12
    )
    # short epochs lower the floor
    assert noise_floor.reshuffling_factor(moments, 0.01, 256, steps) < 0.8
    with pytest.raises(ValueError, match="divide"):
        noise_floor.reshuffling_factor(moments, 0.1, 3000, steps)


# --------------------------------------------------------------------------- gated text (synthetic facts)


def _theory_facts(gap_error=0.005, poly=(0.86, 0.97)):
    kappas = (10, 100)
    facts = {
        "rate_tol": theory.RATE_TOL,
        "poly_tol": theory.POLY_TOL,
        "n_kappas": 2,
        "hb_poly_exponent_min": poly[0],
        "hb_poly_exponent_max": poly[1],
        "nag_poly_exponent_min": 0.62,
        "nag_poly_exponent_max": 0.7,
    }
    for k in kappas:
        facts[f"kappa_{k}"] = k
        for method in theory.METHODS:
            facts[f"{method}_k{k}_gap_predicted"] = 1 / k
            facts[f"{method}_k{k}_gap_measured"] = (1 + gap_error) / k
    for method in theory.METHODS:
        facts[f"{method}_max_rel_error"] = gap_error / 10
        facts[f"{method}_max_gap_error"] = 2 * gap_error  # one starting point's fit is off by more
        facts[f"{method}_mean_gap_error"] = gap_error
        facts[f"{method}_slower_count"] = 0  # the measured gaps are above the predicted: faster
    return facts, kappas


@pytest.mark.parametrize("method", theory.METHODS)
def test_rate_conclusion_claims_the_predicted_rate_only_within_the_tolerance(method):
    # the gate is the error of the rate averaged over the starting points; one start may be off by more
    facts, kappas = _theory_facts(gap_error=0.5 * theory.RATE_TOL)
    close = theory._rate_conclusion(facts, method, kappas)
    assert (
        "the predicted `ρ" in close
        and "off the predicted" not in close
        and "slightly slower" not in close
    )
    assert (
        f"averaged over the starting points, within a relative {fmt(theory.RATE_TOL)} of the predicted at every κ"
        in close
    )
    # a single start off by more than the tolerance (the average within it) is reported, not gated on
    one_start_off, _ = _theory_facts(gap_error=0.8 * theory.RATE_TOL)
    sentence = theory._rate_conclusion(one_start_off, method, kappas)
    assert (
        one_start_off[f"{method}_max_gap_error"] > theory.RATE_TOL
        and "the predicted `ρ" in sentence
    )
    assert f"of its `1 − ρ` {fmt(one_start_off[f'{method}_max_gap_error'])}" in sentence
    facts_slower = {**facts, f"{method}_slower_count": 2}
    close_slower = theory._rate_conclusion(facts_slower, method, kappas)
    assert "the predicted `ρ" in close_slower and "slightly slower at 2 of the 2 κ" in close_slower
    assert_numbers_are_facts(close_slower, facts_slower)
    far_facts, _ = _theory_facts(gap_error=3 * theory.RATE_TOL)
    far = theory._rate_conclusion(far_facts, method, kappas)
    assert "at a rate off the predicted `ρ" in far and f"above {fmt(theory.RATE_TOL)}" in far
    far_facts[f"{method}_slower_count"] = 2  # measured gaps below the predicted at both κ: slower
    slower = theory._rate_conclusion(far_facts, method, kappas)
    assert "converges more slowly than the predicted `ρ" in slower and "at 2 of the 2 κ" in slower
    assert_numbers_are_facts(slower, far_facts)
    assert (
        "contracts ‖w − w*‖ by the predicted" not in far and "converges at the predicted" not in far
    )
    for facts_, sentence in ((facts, close), (far_facts, far)):
        assert_numbers_are_facts(sentence, facts_)


def test_heavy_ball_polynomial_factor_is_claimed_only_near_one():
    facts, kappas = _theory_facts(poly=(0.86, 0.97))
    assert "as the defective root's factor `t` predicts" in theory._rate_conclusion(
        facts, "hb", kappas
    )
    for poly in ((0.5, 0.9), (1.0, 1.0 + 2 * theory.POLY_TOL)):
        facts, kappas = _theory_facts(poly=poly)
        sentence = theory._rate_conclusion(facts, "hb", kappas)
        assert "predicts" not in sentence and f"farther than {fmt(theory.POLY_TOL)}" in sentence
        assert_numbers_are_facts(sentence, facts)


_PLACES = {
    "between": "between a simple root's constant factor and a double root's `t`, so the fit window may still",
    "predicted": "as the factor `t` of its double root at `λ = μ` predicts",
    "outside": f"farther than {fmt(theory.POLY_TOL)} from its double root's factor `t` (`p = 1`) and not all between",
}


@pytest.mark.parametrize(
    "exponents, place",
    [
        ((0.62, 0.7), "between"),
        ((0.9, 1.05), "predicted"),
        ((0.5, 1.3), "outside"),
        ((-0.1, 0.5), "outside"),
    ],
)
def test_nesterov_exponent_is_placed_where_the_fits_put_it(exponents, place):
    facts, kappas = _theory_facts()
    facts["nag_poly_exponent_min"], facts["nag_poly_exponent_max"] = exponents
    sentence = theory._rate_conclusion(facts, "nag", kappas)
    assert f"lies between {fmt(exponents[0])} and {fmt(exponents[1])}" in sentence
    assert [name for name, words in _PLACES.items() if words in sentence] == [place], sentence
    assert_numbers_are_facts(sentence, facts)


def _noise_facts(**overrides):
    facts = {
        "floor_spread": 5440.0,
        "floor_min": 8.87e-05,
        "floor_max": 0.483,
        "slope_alpha_mean": 1.13,
        "slope_alpha_min": 1.05,
        "slope_alpha_max": 1.23,
        "pred_slope_alpha_mean": 1.14,
        "slope_batch_mean": -1.07,
        "slope_batch_min": -1.08,
        "slope_batch_max": -1.05,
        "pred_slope_batch_mean": -1.07,
        "pred_iid_slope_alpha_mean": 1.08,
        "alpha_b_slope_tol": noise_floor.ALPHA_B_SLOPE_TOL,
        "rr_factor_bmax_amin": 0.6,
        "rr_factor_bmax_amax": 0.9,
        "b_max": 256,
        "alphaL_min": 0.025,
        "alphaL_max": 0.2,
        "floor_tol": noise_floor.FLOOR_TOL,
        "n_cells": 20,
        "n_ratio_off": 0,
        "ratio_min": 0.991,
        "ratio_max": 1.03,
        "n_inside": 18,
        "ci_level": 95,
        "b_min": 1,
        "additive_ratio_b1_amax": 1.6,
        "multiplicative_share_b1_amax": 1.61,
        "additive_ratio_min": 0.64,
        "additive_ratio_max": 1.6,
        "epoch_steps_bmax": 256,
        "epoch_over_relaxation_bmax": 3.2,
        "relaxation_steps": 80.0,
        "no_rr_ratio_bmax_amin": 0.64,
        "rr_factor_b1_amin": 0.998,
    }
    facts.update(overrides)
    return facts


def test_floor_conclusion_claims_only_what_the_slopes_show():
    facts = _noise_facts()
    full = noise_floor._floor_conclusion(facts)
    for claim in (
        "grows with the step size and shrinks with the batch size",
        "close to `∝ α/B`",
        "exceeds one, as predicted",
        "through the higher-order terms in α",
        "and, at large batches, through reshuffling",
    ):
        assert claim in full, claim
    # slopes far from ±1: no α/B; a measured slope below one: no "exceeds one, as predicted"
    flat = _noise_facts(slope_alpha_mean=0.5, slope_alpha_min=0.4, slope_alpha_max=0.6)
    sentence = noise_floor._floor_conclusion(flat)
    assert (
        "close to" not in sentence
        and "as predicted" not in sentence
        and "grows with the step size" in sentence
    )
    assert (
        f"farther than {fmt(noise_floor.ALPHA_B_SLOPE_TOL)}" in sentence
        and "down to 0.4" in sentence
    )
    # no trend at all
    none = _noise_facts(slope_alpha_min=-0.1, slope_batch_max=0.1)
    sentence = noise_floor._floor_conclusion(none)
    assert (
        sentence.startswith("The floor spans a factor")
        and "grows" not in sentence
        and "shrinks" not in sentence
    )
    # the causes only when the predictions show them
    uncaused = _noise_facts(pred_iid_slope_alpha_mean=0.99, rr_factor_bmax_amax=0.5)
    sentence = noise_floor._floor_conclusion(uncaused)
    assert sentence.endswith("exceeds one, as predicted.") and "through" not in sentence
    reshuffling_only = noise_floor._floor_conclusion(_noise_facts(pred_iid_slope_alpha_mean=0.99))
    assert "as predicted, at large batches, through reshuffling" in reshuffling_only
    not_predicted = noise_floor._floor_conclusion(_noise_facts(pred_slope_alpha_mean=0.98))
    assert "as predicted" not in not_predicted and "does not exceed one" in not_predicted
    for facts_ in (facts, flat, none, uncaused):
        assert_numbers_are_facts(noise_floor._floor_conclusion(facts_), facts_)


def test_prediction_is_said_to_predict_the_floors_only_within_the_tolerance():
    facts = _noise_facts()
    sentence = noise_floor._prediction_conclusion(facts)
    assert "predicts the 20 (B, α) floors" in sentence and "misses" not in sentence
    assert f"within {fmt(noise_floor.FLOOR_TOL)} of one" in sentence and sentence.endswith(
        "within that range)."
    )
    off = _noise_facts(n_ratio_off=3, ratio_max=1.4, n_inside=20)
    missed = noise_floor._prediction_conclusion(off)
    assert "predicts" not in missed
    assert f"misses 3 of the 20 (B, α) floors by more than {fmt(noise_floor.FLOOR_TOL)}:" in missed
    assert missed.endswith("in 20 of the 20 cells.")
    for facts_, sentence_ in ((facts, sentence), (off, missed)):
        assert_numbers_are_facts(sentence_, facts_)


def test_additive_equation_is_said_to_miss_only_when_it_does():
    facts = _noise_facts()
    sentence = noise_floor._additive_conclusion(facts)
    assert (
        "alone misses the state-dependent noise" in sentence
        and "raises the prediction by the factor 1.61" in sentence
    )
    close = _noise_facts(
        additive_ratio_b1_amax=1.05, multiplicative_share_b1_amax=1.04, additive_ratio_max=1.05
    )
    within = noise_floor._additive_conclusion(close)
    assert (
        "misses" not in within
        and f"alone comes within {fmt(noise_floor.FLOOR_TOL)} of the floor" in within
    )
    for facts_, sentence_ in ((facts, sentence), (close, within)):
        assert_numbers_are_facts(sentence_, facts_)


@pytest.mark.parametrize("factor, measured", [(0.95, 0.64), (0.6, 0.95), (0.97, 1.01)])
def test_reshuffling_is_said_to_lower_the_floor_only_when_measured_and_predicted(factor, measured):
    facts = _noise_facts()
    sentence = noise_floor._reshuffling_conclusion(facts)
    assert sentence.startswith("Sampling without replacement lowers the floor where an epoch")
    same = _noise_facts(rr_factor_bmax_amin=factor, no_rr_ratio_bmax_amin=measured)
    unchanged = noise_floor._reshuffling_conclusion(same)
    assert "lowers" not in unchanged
    assert unchanged.startswith(
        f"Sampling without replacement does not lower the floor by more than "
        f"{fmt(noise_floor.FLOOR_TOL)} in both the measurement and the prediction"
    )
    for facts_, sentence_ in ((facts, sentence), (same, unchanged)):
        assert_numbers_are_facts(sentence_, facts_)


# --------------------------------------------------------------------------- short conclusions (synthetic facts)


@pytest.mark.parametrize("method", theory.METHODS)
def test_short_rate_sentence_follows_the_tolerance(method):
    facts, _ = _theory_facts(gap_error=0.5 * theory.RATE_TOL)
    assert "converges at its predicted" in theory.rate_short(facts, method)
    far, _ = _theory_facts(gap_error=3 * theory.RATE_TOL)
    assert "converges at a rate off its predicted" in theory.rate_short(far, method)
    far[f"{method}_slower_count"] = 2
    assert "converges more slowly than its predicted" in theory.rate_short(far, method)
    for facts_ in (facts, far):
        assert_numbers_are_facts(theory.rate_short(facts_, method), facts_)


@pytest.mark.parametrize(
    "method, exponents, says",
    [
        ("hb", (0.86, 0.97), "with the factor `t` of its double root"),
        ("hb", (0.5, 0.9), "is not the double root's `t`"),
        ("nag", (0.62, 0.7), "lies between a simple and a double root's"),
        ("nag", (0.9, 1.05), "with the factor `t` of its double root"),
        ("nag", (-0.1, 0.5), "is not the double root's `t`"),
    ],
)
def test_short_rate_sentence_places_the_fitted_exponent(method, exponents, says):
    facts, _ = _theory_facts()
    facts[f"{method}_poly_exponent_min"], facts[f"{method}_poly_exponent_max"] = exponents
    sentence = theory.rate_short(facts, method)
    assert says in sentence
    assert_numbers_are_facts(sentence, facts)


@pytest.mark.parametrize("speedup, says", [(76.1, "76.1 times fewer"), (0.9, "saves no steps")])
def test_short_steps_sentence_says_fewer_only_when_fewer(speedup, says):
    facts = {
        "target": 1e-8,
        "gd_steps_slope": 1.0,
        "hb_steps_slope": 0.517,
        "kappa_max": 10000,
        "speedup_hb_kmax": speedup,
    }
    sentence = theory.steps_short(facts)
    assert says in sentence
    assert_numbers_are_facts(sentence, facts)


def test_short_noise_sentences_follow_their_gates():
    facts = _noise_facts()
    assert "grows with α and shrinks with B, close to `∝ α/B`" in noise_floor.floor_short(facts)
    assert "predicts all 20 floors" in noise_floor.prediction_short(facts)
    assert "the prediction misses" in noise_floor.additive_short(facts)
    assert "lowers the floor" in noise_floor.reshuffling_short(facts)
    other = _noise_facts(
        slope_alpha_min=-0.1,
        slope_batch_max=0.1,
        n_ratio_off=3,
        additive_ratio_b1_amax=1.05,
        rr_factor_bmax_amin=0.95,
    )
    assert noise_floor.floor_short(other).startswith("The floor has no common trend")
    assert "farther than" in noise_floor.floor_short(other)
    assert "misses 3 of the 20 floors" in noise_floor.prediction_short(other)
    assert "still comes within" in noise_floor.additive_short(other)
    assert "does not lower the floor" in noise_floor.reshuffling_short(other)
    for facts_ in (facts, other):
        for sentence in (
            noise_floor.floor_short(facts_),
            noise_floor.prediction_short(facts_),
            noise_floor.additive_short(facts_),
            noise_floor.reshuffling_short(facts_),
        ):
            assert_numbers_are_facts(sentence, facts_)
