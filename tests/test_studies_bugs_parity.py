"""The ``homework_bugs`` and ``parity`` studies, quick versions (each run once per module).

Checked: figures are PNG files that exist, every number in the conclusions and the text
is ``fmt`` of a fact, the results round-trip through JSON, and the measurements say
what they must (bugs that break the optimizer do break it, the harmless ones do not;
our optimizers match optax to round-off).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from study_checks import assert_numbers_are_facts, check_study_output

import jaxopt_hw as jh
from jaxopt_hw.studies import fmt, homework_bugs, parity


@pytest.fixture(scope="module")
def bugs(quick_study):
    return quick_study("homework_bugs")  # the quick report's run (tests/conftest.py)


@pytest.fixture(scope="module")
def parity_result(quick_study):
    return quick_study("parity")  # the quick report's run (tests/conftest.py)


def test_homework_bugs_report(bugs):
    settings, result = bugs
    check_study_output(settings, result, homework_bugs)
    assert len(result.conclusions) >= 6


def test_homework_bugs_measurements(bugs):
    _, result = bugs
    f = result.facts
    m = homework_bugs.MAIN
    zero = f[f"{m}.zero_excess"]
    for optimizer in ("rmsprop", "adam"):
        correct, assigned = (
            f[f"{m}.{optimizer}.correct.mean"],
            f[f"{m}.{optimizer}.assign_step.mean"],
        )
        # bug 1 breaks the method: stuck next to the zero vector, far above the correct run
        assert correct < 1e-2 * assigned
        assert abs(assigned / zero - 1) < 0.2
        assert f[f"{m}.{optimizer}.assign_step.max_abs_w"] <= f["assign_bound"] * (1 + 1e-5)
        # bug 4 is divided out by the adaptive methods (up to ε)
        assert f[f"{m}.{optimizer}.grad_over_n.mean"] == pytest.approx(correct, rel=1e-2)
        # the notebook as written: stuck too
        assert f[f"{m}.{optimizer}.notebook.mean"] > 0.5 * zero
    # bug 3 reports the starting point, whatever the optimizer
    assert f[f"{m}.momentum.returns_initial.mean"] == f[f"{m}.adam.returns_initial.mean"] > zero
    # Momentum has neither bug 1 nor bug 2; its "as written" is bug 4
    assert f[f"{m}.momentum.notebook.mean"] == f[f"{m}.momentum.grad_over_n.mean"]
    assert f[f"{m}.momentum.assign_step.mean"] == f[f"{m}.momentum.correct.mean"]
    # the correct Adam converges (the homework problem's noise floor is far below 1)
    assert f[f"{m}.adam.correct.mean"] < 0.05
    assert f["bias_factor"] == pytest.approx(math.sqrt(1 - 0.999) / (1 - 0.9))
    assert f[f"{m}.grad_scale"] == 32 / 10_000


def test_parity_report(parity_result):
    settings, result = parity_result
    check_study_output(settings, result, parity)


def test_parity_measurements(parity_result):
    _, result = parity_result
    f = result.facts
    # round-off, measured on the quick run (XLA:CPU): float64 0 and 4.2e-16 (momentum), float32
    # 9.7e-06 (AdamW) and 6.5e-07 (momentum); the bounds are a few times those
    assert f["float64.max_rel_diff"] <= 4 * f["float64.eps"]
    assert f["float64.momentum.max_rel_diff"] <= 8 * f["float64.eps"]
    assert f["float32.max_rel_diff"] < 3e-5
    assert f["float32.momentum.max_rel_diff"] < 2e-6
    for name in parity.PAIRS:  # the runs did train: the excess loss fell from ~1e3
        assert f[f"medium.float32.{name}.final_excess"] < 50, name
    # the speed ratios are those of the timings they come from (their size depends on the load)
    rates = {
        side: [f[f"medium.{name}.{side}.steps_per_s"] for name in parity.TIMED_QUICK]
        for side in ("ours", "optax")
    }
    assert all(math.isfinite(rate) and rate > 0 for side in rates.values() for rate in side), rates
    ratios = [ours / theirs for ours, theirs in zip(rates["ours"], rates["optax"])]
    assert f["speed.n_timed"] == len(parity.TIMED_QUICK)
    assert f["speed_ratio.median"] == pytest.approx(float(np.median(ratios)), rel=1e-12)
    assert (f["speed_ratio.min"], f["speed_ratio.max"]) == pytest.approx(
        (min(ratios), max(ratios)), rel=1e-12
    )


def test_side_by_side_equals_separate_runs():
    """A copy in a side-by-side run follows the same trajectory as a run of its own."""
    prob = jh.homework_problem("small")
    txs = {"adam": jh.adam(0.05), "momentum": jh.momentum(0.01)}
    combined = jh.run(
        parity.side_by_side(prob, list(txs)),
        parity.parallel(txs),
        steps=100,
        batch_size=32,
        seed=3,
        record_params=True,
    )
    for name, tx in txs.items():
        alone = jh.run(prob, tx, steps=100, batch_size=32, seed=3, record_params=True)
        np.testing.assert_allclose(
            np.asarray(combined.params[name]), np.asarray(alone.params), rtol=1e-5, atol=1e-6
        )
        assert float(parity.excess_loss(prob, np.asarray(alone.params[-1]))) == pytest.approx(
            float(alone.excess_loss[-1]), rel=1e-3, abs=1e-5
        )
    with pytest.raises(ValueError):
        parity.side_by_side(prob, ["a", "a"])


# --------------------------------------------------------------------------- gated text (synthetic facts)


def _bug_facts(**overrides):
    """Facts shaped like the study's on its main problem (values near the full report's)."""
    m = homework_bugs.MAIN
    facts = {
        "n_seeds": 2,
        "early_step": 10,
        "drop_percent": 95,
        "learning_rate": 0.01,
        "sweep_lr.1": 0.001,
        "sweep_lr.2": 0.0001,
        "assign_bound": 0.0316,
        "bias_factor": 0.316,
        "near_zero": homework_bugs.NEAR_ZERO,
        "not_failed": homework_bugs.NOT_FAILED,
        "lr_spread_percent": 100 * homework_bugs.LR_SPREAD,
        f"{m}.zero_excess": 281.0,
        f"{m}.mae_zero": 13.8,
        f"{m}.mae_opt": 0.79,
        f"{m}.initial_excess": 2125.0,
        f"{m}.grad_scale": 0.0032,
        "large.grad_scale": 0.000213,
    }
    facts.update({f"bug.{bug}": number for bug, number in homework_bugs.BUG_NUMBER.items()})
    finals = {
        "correct": 0.05,
        "assign_step": 290.0,
        "bias_1_minus_beta": 0.0117,
        "returns_initial": 2125.0,
        "grad_over_n": 0.06,
        "notebook": 285.0,
    }
    for optimizer in homework_bugs.OPTIMIZERS:
        for variant, final in finals.items():
            prefix = f"{m}.{optimizer}.{variant}"
            facts.update(
                {
                    prefix + ".mean": final,
                    prefix + ".half": final / 10,
                    prefix + ".diverged": 0,
                    prefix + ".steps_to_drop": 100.0,
                    prefix + ".early_over_final": 1.0,
                    prefix + ".mae": 13.9,
                }
            )
        facts[f"{m}.{optimizer}.correct.early_over_final"] = 1.27e5
        facts[f"{m}.{optimizer}.assign_step.max_abs_w"] = 0.0316
        for i in (1, 2):
            facts[f"{m}.{optimizer}.assign_step.lr{i}.mean"] = 282.0
        for variant in ("assign_step", "notebook"):
            for size in (m, "small"):
                facts[f"{size}.{optimizer}.{variant}.max_norm_ratio"] = 0.08
                facts[f"{size}.{optimizer}.{variant}.min_dist_ratio"] = 0.95
    facts[f"{m}.momentum.notebook.mean"] = 0.06  # Momentum as written is bug 4 alone
    facts.update(overrides)
    return facts


def test_assigned_step_is_said_to_stay_next_to_0_only_when_measured():
    m = homework_bugs.MAIN
    facts = _bug_facts()
    out = homework_bugs._conclusions(facts, ("medium",))
    assert "so the weights stay next to 0 and never approach the optimum (‖w‖ ≤ 0.08‖w*‖" in out[0]
    assert out[1].startswith("Such a curve is flat at once")
    for sentence in out:
        assert_numbers_are_facts(sentence, facts)
    # Adam's weights wander halfway to the optimum: neither claim
    moved = _bug_facts(
        **{f"{m}.adam.assign_step.max_norm_ratio": 0.5, f"{m}.adam.assign_step.min_dist_ratio": 0.6}
    )
    out = homework_bugs._conclusions(moved, ("medium",))
    assert "next to 0" not in out[0] and "never approach" not in out[0]
    assert "‖w‖ reaches 0.5‖w*‖ and ‖w − w*‖ falls to 0.6‖w*‖" in out[0]
    assert not out[1].startswith("Such a curve") and "next to 0" not in out[1]
    for sentence in out:
        assert_numbers_are_facts(sentence, moved)


def test_learning_rate_is_said_to_hardly_matter_only_when_measured():
    m = homework_bugs.MAIN
    facts = _bug_facts()  # 290, 282, 282 at the three learning rates: 2.84% apart
    sentence = homework_bugs._lr_conclusion(facts)
    assert sentence.startswith(
        "With the step assigned the learning rate hardly matters: at learning rates 0.01"
    )
    assert (
        "rank curves of this kind" in sentence
        and "all within 3.2% of the zero vector's 281" in sentence
    )
    assert facts[f"{m}.assign_step.lr_spread_max_percent"] == pytest.approx(100 * (290 / 282 - 1))
    assert_numbers_are_facts(sentence, facts)
    # Adam ends at 200 at the smallest learning rate: 45% below its 290 at the largest
    moved = _bug_facts(**{f"{m}.adam.assign_step.lr2.mean": 200.0})
    sentence = homework_bugs._lr_conclusion(moved)
    assert "hardly" not in sentence and "rank curves" not in sentence
    assert sentence.startswith(
        "With the step assigned the learning rate still moves the final excess loss, by up "
        "to 45% (more than 10%): at learning rates 0.01"
    )
    assert "Adam at 290, 282 and 200" in sentence
    assert_numbers_are_facts(sentence, moved)


def test_bias_correction_is_called_harmless_only_when_measured():
    m = homework_bugs.MAIN
    facts = _bug_facts()
    sentence = homework_bugs._bias_conclusion(facts, "the two intervals overlap")
    assert "a smaller learning rate rather than a failure" in sentence
    assert (
        "None of the notebook's conclusions rests on it" in sentence
        and "whatever the correction" in sentence
    )
    assert_numbers_are_facts(sentence, facts)
    # bug 2 ends above 1% of the zero vector's excess loss, or a seed diverges: no "rather than a failure"
    for failed in (
        _bug_facts(**{f"{m}.adam.bias_1_minus_beta.mean": 0.02 * 281.0}),
        _bug_facts(**{f"{m}.adam.bias_1_minus_beta.diverged": 1}),
    ):
        sentence = homework_bugs._bias_conclusion(failed, "higher")
        assert "failure" not in sentence and "against the zero vector's 281" in sentence
        assert_numbers_are_facts(sentence, failed)
    # as written, Adam's weights leave 0: the notebook's conclusions may rest on bug 2
    moved = _bug_facts(
        **{f"{m}.adam.notebook.max_norm_ratio": 0.9, f"{m}.adam.notebook.min_dist_ratio": 0.2}
    )
    sentence = homework_bugs._bias_conclusion(moved, "higher")
    assert "None of the notebook's conclusions" not in sentence and "next to 0" not in sentence
    assert (
        "Adam's ‖w‖ reaches 0.08‖w*‖ with the `1-beta**t` correction and 0.9‖w*‖ with `1-beta`"
        in sentence
    )
    assert_numbers_are_facts(sentence, moved)


def test_contour_caption_says_near_0_only_when_measured():
    caption = homework_bugs._contour_caption(_bug_facts())
    assert "jump to near 0 and stay there (after the first step ‖w‖ ≤ 0.08‖w*‖" in caption
    moved = _bug_facts(
        **{
            "small.rmsprop.notebook.max_norm_ratio": 0.7,
            "small.rmsprop.notebook.min_dist_ratio": 0.4,
        }
    )
    caption = homework_bugs._contour_caption(moved)
    assert "near 0" not in caption and "‖w‖ reaches 0.7‖w*‖" in caption


def test_distances_over_the_optimum_norm():
    w_star = np.array([3.0, 4.0])  # ‖w*‖ = 5
    trajectories = np.array(
        [[[30.0, 40.0], [0.3, 0.4], [0.0, 0.5]], [[-9.0, 0.0], [0.6, 0.8], [0.0, 0.0]]]
    )
    distances = homework_bugs.distances(trajectories, w_star)  # the start (index 0) is left out
    assert distances["max_norm_ratio"] == pytest.approx(0.2)
    assert distances["min_dist_ratio"] == pytest.approx(0.8)
    assert homework_bugs._near_zero(
        {"near_zero": 0.3, "x.max_norm_ratio": 0.2, "x.min_dist_ratio": 0.8}, "x"
    )
    assert not homework_bugs._near_zero(
        {"near_zero": 0.3, "x.max_norm_ratio": 0.2, "x.min_dist_ratio": 0.6}, "x"
    )
    assert not homework_bugs._near_zero({"near_zero": 0.3}, "x")  # not measured: not claimed


def _with_geometric(facts: dict, variant: str, gm: float, low: float, high: float) -> dict:
    prefix = f"{homework_bugs.MAIN}.adam.{variant}"
    return {
        **facts,
        prefix + ".gm": gm,
        prefix + ".gm_low": low,
        prefix + ".gm_high": high,
        "confidence": 95,
    }


@pytest.mark.parametrize(
    "bias, says",
    [
        ((0.012, 0.004, 0.03), "the two intervals overlap"),
        ((0.001, 0.0005, 0.002), "lower, because"),
        ((0.5, 0.3, 0.9), "higher"),
    ],
)
def test_bias_verdict_compares_the_geometric_intervals(bias, says):
    facts = _with_geometric(
        _with_geometric(_bug_facts(), "correct", 0.05, 0.02, 0.1), "bias_1_minus_beta", *bias
    )
    assert homework_bugs._bias_verdict(facts).startswith(says)
    sentence = homework_bugs._bias_conclusion(facts, homework_bugs._bias_verdict(facts))
    assert (
        f"from 0.05 (95% 0.02–0.1) to {fmt(bias[0])} (95% {fmt(bias[1])}–{fmt(bias[2])})"
        in sentence
    )
    assert_numbers_are_facts(sentence, facts)


def test_bias_verdict_without_geometric_means_uses_the_t_intervals():
    assert homework_bugs._bias_verdict(_bug_facts()).startswith(
        "lower"
    )  # 0.05 ± 0.005 against 0.0117 ± 0.00117
    wide = _bug_facts(**{f"{homework_bugs.MAIN}.adam.correct.half": 0.05})
    assert homework_bugs._bias_verdict(wide) == "the two intervals overlap"


# --------------------------------------------------------------------------- short conclusions (synthetic facts)


def _short_bug_facts(**overrides):
    """``_bug_facts`` with the derived facts the long sentences add, and the gates' inputs."""
    facts = {"medium.correct_top_separated": 1, "confidence": 95, **_bug_facts(**overrides)}
    homework_bugs._conclusions(facts, ("medium",))
    facts.update(overrides)
    return facts


def test_short_bug_sentences_follow_their_gates():
    m = homework_bugs.MAIN
    facts = _short_bug_facts(**{f"{m}.adam.correct.mean": 0.001})
    assert "keeps RMSprop and Adam next to w = 0" in homework_bugs.assign_short(facts)
    assert homework_bugs.flat_short(facts).startswith("Such curves are flat")
    assert "hardly matters" in homework_bugs.lr_short(facts)
    assert "not a failure" in homework_bugs.bias_short(facts)
    assert "RMSprop and Adam divide it out" in homework_bugs.grad_short(facts, ("medium",))
    assert homework_bugs.ranking_short(facts).startswith(
        "Correctly implemented, Adam ends lowest (separated from the next); as written, Momentum"
    )
    moved = _short_bug_facts(
        **{
            f"{m}.adam.assign_step.max_norm_ratio": 0.5,
            f"{m}.adam.assign_step.min_dist_ratio": 0.6,
            f"{m}.adam.assign_step.lr2.mean": 200.0,
            f"{m}.adam.bias_1_minus_beta.diverged": 1,
            f"{m}.correct_top_separated": 0,
        }
    )
    assert "next to w = 0" not in homework_bugs.assign_short(moved)
    assert homework_bugs.flat_short(moved).startswith("After 10 steps")
    assert "still moves the final loss" in homework_bugs.lr_short(moved)
    assert "failure" not in homework_bugs.bias_short(moved)
    assert "(not separated from the next)" in homework_bugs.ranking_short(moved)
    for facts_ in (facts, moved):
        for sentence in (
            homework_bugs.assign_short(facts_),
            homework_bugs.flat_short(facts_),
            homework_bugs.lr_short(facts_),
            homework_bugs.bias_short(facts_),
            homework_bugs.returns_short(facts_),
            homework_bugs.grad_short(facts_, ("medium",)),
            homework_bugs.ranking_short(facts_),
        ):
            assert_numbers_are_facts(sentence, facts_)


@pytest.mark.parametrize("diverged, says", [(5, "diverges without it"), (0, "ends at")])
def test_short_grad_sentence_on_the_large_problem(diverged, says):
    facts = _short_bug_facts(
        **{
            "n_seeds": 5,
            "large.momentum.correct.diverged": diverged,
            "large.momentum.correct.mean": 3.0,
            "large.momentum.grad_over_n.mean": 80.0,
        }
    )
    sentence = homework_bugs.grad_short(facts, ("medium", "large"))
    assert says in sentence and "divide it out" not in sentence
    assert_numbers_are_facts(sentence, facts)


def _parity_facts(**overrides):
    facts = {
        "float32.max_rel_diff": 2.11e-05,
        "float64.max_rel_diff": 0.0,
        "float64.eps": 2.22e-16,
        "same_algorithm": parity.SAME_ALGORITHM,
        "speed_ratio.median": 0.983,
        "speed_ratio.min": 0.897,
        "speed_ratio.max": 1.09,
        "speed_ratio.max_off": 0.05,
        "timing_spread_percent": 3.31,
        "speed_tol": parity.SPEED_TOL,
    }
    facts.update(overrides)
    return facts


def test_parity_short_sentences_follow_their_gates():
    facts = _parity_facts()
    assert "to round-off" in parity.roundoff_conclusion(facts)
    assert "equally fast" in parity.speed_conclusion(facts)
    apart = _parity_facts(**{"float64.max_rel_diff": 1e-6, "speed_ratio.max_off": 0.5})
    assert "more than round-off" in parity.roundoff_conclusion(apart)
    assert "beyond the timing noise" in parity.speed_conclusion(apart)
    assert "differs in more than its arithmetic" in parity.float64_detail(apart)
    for facts_ in (facts, apart):
        for sentence in (parity.roundoff_conclusion(facts_), parity.speed_conclusion(facts_)):
            assert_numbers_are_facts(sentence, facts_)
