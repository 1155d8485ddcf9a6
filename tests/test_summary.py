"""summary.py: each study's short summary follows its facts (a test per branch, on synthetic
facts), and the quick report's summary covers every study."""

from __future__ import annotations

import json

import pytest
from study_checks import assert_numbers_are_facts
from test_answers import bugs, comparison, scaling

from jaxopt_hw import summary as S


def checked(text: str, facts: dict) -> str:
    assert_numbers_are_facts(text, facts)
    return text


@pytest.mark.parametrize(
    "separated, says",
    [(0, "no leader is separated"), (1, "separated from the runner-up on 1 of 2")],
)
def test_comparison_summary_names_the_leaders_and_whether_they_are_separated(separated, says):
    c = comparison(
        heldout_separated_count=separated,
        **{f"small_heldout_{o}_excess": v for o, v in zip(S.LABELS, (0.1, 0.2, 0.3, 0.4))},
    )
    text = checked(S.comparison(c), c)
    assert (
        says in text and "SGD at (500, 2), Adam at (10000, 5)" in text and "in 3 of 8 pairs" in text
    )


def test_scaling_summary_names_the_family_that_ends_lower():
    s = scaling(sgd_steps_kappa_slope=1.07, adam_steps_kappa_slope=0.75)
    assert "SGD κ^1.07, Adam κ^0.75. At d = 10 RMSprop and Adam end 5.36 times lower" in checked(
        S.scaling(s), s
    )
    flipped = scaling(dmax_gd_over_adaptive=0.5, dmax_adaptive_over_gd=2.0)
    assert "no optimizer reaches it" in S.scaling(
        flipped
    ) and "SGD and Momentum end 2 times lower" in S.scaling(flipped)


@pytest.mark.parametrize("error, says", [(0.0085, "match"), (0.2, "miss")])
def test_theory_summary_says_whether_the_rates_match(error, says):
    t = {"max_rel_error": error, "rate_tol": 0.05, "gd_steps_slope": 1.0, "hb_steps_slope": 0.521}
    assert f"Nesterov {says} their predicted" in checked(S.theory(t), t)


@pytest.mark.parametrize(
    "off, says", [(0, "predicts every measured floor"), (2, "misses 2 of the 9 floors")]
)
def test_noise_floor_summary_says_whether_the_prediction_holds(off, says):
    nf = {
        "slope_alpha_mean": 1.2,
        "slope_batch_mean": -1.06,
        "n_ratio_off": off,
        "n_cells": 9,
        "ratio_min": 0.951,
        "ratio_max": 1.04,
    }
    assert says in checked(S.noise_floor(nf), nf)


def test_bugs_summary_says_whether_bug_1_keeps_adam_at_the_zero_vector():
    h = bugs(**{"medium.adam.correct.mean": 0.00187})
    assert "at the zero vector's 281" in checked(S.homework_bugs(h), h)
    assert "below the zero vector's" in S.homework_bugs({**h, "medium.adam.assign_step.mean": 0.5})


@pytest.mark.parametrize(
    "diff, says", [(0.0, "exactly in float64"), (1e-15, "within 1e-15 in float64")]
)
def test_parity_summary_says_whether_float64_is_exact(diff, says):
    p = {"float32.max_rel_diff": 9.73e-06, "float64.max_rel_diff": diff}
    assert says in checked(S.parity(p), p)


def test_the_quick_report_summarizes_every_study(quick_report):
    report = quick_report.path.read_text()
    results = json.loads((quick_report.path.parent / "results.json").read_text())["studies"]
    block = report[report.index("## Summary of the conclusions") :]
    block = block[: block.index("\n## ", 1)]
    for name, study in results.items():
        line = next(
            line for line in block.splitlines() if line.startswith(f"- **{study['title']}.**")
        )
        assert S.summaries({name: {k: float(v) for k, v in study["facts"].items()}})[name] in line
    assert report.rstrip().endswith(report[report.index("## Method") :].rstrip())  # the method last
