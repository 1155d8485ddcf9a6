"""profiles.py: the problems it gathers from the studies' facts, its sentence's branches,
and the quick report's profile section."""

from __future__ import annotations

import json
import math

import numpy as np
from study_checks import PNG, assert_numbers_are_facts

from jaxopt_hw import profiles as P


def test_problems_gather_the_homework_problems_and_every_scaling_row():
    facts = {
        "comparison": {
            "n_small": 500,
            "d_small": 2,
            "small_heldout_sgd_fastest": 180.0,
            "small_heldout_momentum_fastest": math.inf,
            "small_heldout_rmsprop_fastest": 40.0,
            "small_heldout_adam_fastest": 60.0,
        },
        "scaling": {
            "n500_d5_n": 500,
            "n500_d5_adam_steps_median": 30.0,
            "kappa100_d2_n": 10000,
            "kappa100_d2_sgd_steps_median": 7.0,
            "sgd_steps_kappa_slope": 1.0,
        },
    }
    names, steps = P.problems(facts)
    assert names == ["homework (500, 2)", "scaling n500_d5", "scaling kappa100_d2"]
    np.testing.assert_array_equal(
        steps,
        [
            [180.0, np.inf, 40.0, 60.0],
            [np.inf, np.inf, np.inf, 30.0],
            [7.0, np.inf, np.inf, np.inf],
        ],
    )  # a missing count: never reached
    assert P.problems({})[0] == []


def test_real_data_sets_with_an_optimum_join_the_problems():
    facts = {
        "real_data": {
            "cancer_n_train": 455,
            "cancer_tol": 0.0006,
            "cancer_sgd_steps_gm": 120.0,
            "cancer_adam_steps_gm": 90.0,
            "cancer_gd_steps_gm": 20.0,  # full-batch GD is not one of the profiled optimizers
            "digits_mlp_n_train": 1437,  # no optimum, no tolerance: not a problem here
            "tol_pct": 1,
            "n_with_optimum": 1,
        }
    }
    names, steps = P.problems(facts)
    assert names == ["real data cancer"]
    np.testing.assert_array_equal(steps, [[120.0, np.inf, np.inf, 90.0]])
    assert P.problems({"real_data": {}})[0] == []


def _facts(first: dict, last: dict) -> dict:
    facts = {"n_problems": 9, **{f"tau_{i}": t for i, t in enumerate(P.TAUS)}}
    for name in P.OPTIMIZERS:
        for tau in P.TAUS:
            facts[f"{name}_tau{tau}"] = (
                first if tau == P.TAUS[0] else last if tau == P.TAUS[-1] else {}
            ).get(name, 0.1)
    return facts


def test_profile_text_when_the_fastest_also_solves_the_most():
    facts = _facts({"momentum": 0.556}, {"momentum": 0.889})
    text = P.profile_text(facts)
    assert_numbers_are_facts(text, facts)
    assert (
        "Momentum is the fastest on the largest share (0.556) and" in text
        and "still solves the most (0.889)" in text
    )


def test_profile_text_when_another_optimizer_solves_the_most():
    facts = _facts({"momentum": 0.556}, {"adam": 0.889, "momentum": 0.667})
    text = P.profile_text(facts)
    assert_numbers_are_facts(text, facts)
    assert "but within τ = 4 times the fastest Adam solves the most (0.889, Momentum 0.667)" in text


def test_the_quick_report_shows_the_profile(quick_report):
    out = quick_report.path.parent
    report = quick_report.path.read_text()
    profile = json.loads((out / "results.json").read_text())["performance_profile"]
    assert (
        f"(figures/{P.FIGURE})" in report and (out / "figures" / P.FIGURE).read_bytes()[:8] == PNG
    )
    assert profile["text"] in report
    assert_numbers_are_facts(profile["text"], profile["facts"])
    steps = np.array([[float(v) for v in row] for row in profile["steps"]])
    assert len(profile["problems"]) == steps.shape[0] >= 3
    assert profile["facts"]["adam_tau1"] == P.metrics.performance_profile(steps, [1.0])[0, 3]
