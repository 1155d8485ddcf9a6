"""answers.py: each answer's wording follows its facts (a test per branch, on synthetic facts),
and the quick report opens with them."""

from __future__ import annotations

import json
import re

import pytest
from study_checks import assert_numbers_are_facts

from jaxopt_hw import answers as A
from jaxopt_hw.report import _anchor
from jaxopt_hw.studies import fmt, numbers_in


def scaling(**changes) -> dict:
    facts = {
        "kappa_d_slope": 2.31,
        "sgd_steps_kappa_seed_slope": 1.07,
        "sgd_steps_kappa_seed_slope_half": 0.24,
        "ci_level": 95,
        "kappa_fixed": 100.0,
        "sgd_steps_d_fixed_kappa_seed_slope": 0.37,
        "sgd_steps_d_fixed_kappa_seed_slope_half": 1.04,
        "n_fixed": 10000,
        "d_min": 2,
        "d_max": 10,
        "steps": 2500,
        "dmax_gd_over_adaptive": 5.36,
        "dmax_adaptive_over_gd": 1 / 5.36,
        "n10000_d2_sgd_excess_gm": 8.4e-06,
        "n10000_d2_sgd_excess_gm_low": 2.8e-06,
        "n10000_d2_sgd_excess_gm_high": 2.5e-05,
        "n10000_d10_sgd_excess_gm": 0.0605,
        "n10000_d10_sgd_excess_gm_low": 0.0202,
        "n10000_d10_sgd_excess_gm_high": 0.182,
    }
    return {**facts, **changes}


def comparison(**changes) -> dict:
    facts = {
        "speed_accuracy_larger_lr": 3,
        "speed_accuracy_pairs": 8,
        "speed_accuracy_excess_ratio": 16.0,
        "small_momentum_beta_spread": 3.9,
        "medium_adam_beta_spread": 19.6,
        "medium_rmsprop_beta_spread": 3.1,
        "n_small": 500,
        "d_small": 2,
        "n_medium": 10000,
        "d_medium": 5,
        "heldout_separated_count": 0,
        "n_problems": 2,
        "medium_heldout_rank_ratio": 4.31,
        "medium_heldout_rank_low": 0.948,
        "medium_heldout_rank_high": 19.6,
        "ci_level": 95,
        "adam_accurate_count": 1,
        **{f"medium_heldout_{o}_excess": v for o, v in zip(A.LABELS, (0.04, 0.02, 0.03, 0.01))},
    }
    return {**facts, **changes}


def noise_floor(**changes) -> dict:
    return {
        "slope_alpha_mean": 1.2,
        "slope_alpha_min": 1.08,
        "slope_alpha_max": 1.35,
        "slope_batch_mean": -1.06,
        **changes,
    }


def bugs(**changes) -> dict:
    m = A.BUGS_PROBLEM
    facts = {
        f"{m}.adam.assign_step.mean": 290.0,
        f"{m}.adam.assign_step.gm": 289.0,
        f"{m}.adam.assign_step.gm_low": 285.0,
        f"{m}.adam.assign_step.gm_high": 293.0,
        "confidence": 95,
        "not_failed": 0.01,
        f"{m}.zero_excess": 281.0,
        "bug.assign_step": 1,
    }
    return {**facts, **changes}


def checked(text: str, *facts: dict) -> str:
    assert_numbers_are_facts(
        text, {f"{i}.{k}": v for i, d in enumerate(facts) for k, v in d.items()}
    )
    return text


@pytest.mark.parametrize(
    "slope, half, says",
    [
        (1.6, 0.2, "faster than in proportion to κ"),
        (0.6, 0.2, "more slowly than κ"),
        (1.07, 0.24, "about in proportion to κ"),
        (0.3, 0.5, "do not resolve"),
    ],
)
def test_speed_answer_places_the_kappa_exponent_against_0_and_1(slope, half, says):
    facts = scaling(sgd_steps_kappa_seed_slope=slope, sgd_steps_kappa_seed_slope_half=half)
    assert says in checked(A.speed_answer(facts), facts)


@pytest.mark.parametrize(
    "slope, says",
    [
        (0.37, "resolve no effect of d alone"),
        (2.0, "d alone still slows it"),
        (-2.0, "d alone speeds it up"),
    ],
)
def test_speed_answer_says_what_d_alone_does_at_a_fixed_kappa(slope, says):
    facts = scaling(sgd_steps_d_fixed_kappa_seed_slope=slope)
    assert says in checked(A.speed_answer(facts), facts)
    facts.pop("sgd_steps_d_fixed_kappa_seed_slope")
    assert "fixed κ" not in A.speed_answer(facts)  # no fixed-κ scan reached: nothing said


@pytest.mark.parametrize(
    "d10, low, says",
    [
        (0.0605, 0.0202, "falls as d grows:"),
        (0.0605, 1e-06, "intervals overlap"),
        (1e-06, 1e-07, "does not fall"),
    ],
)
def test_accuracy_answer_follows_the_losses_at_the_smallest_and_largest_d(d10, low, says):
    facts = scaling(n10000_d10_sgd_excess_gm=d10, n10000_d10_sgd_excess_gm_low=low)
    assert says in checked(A.accuracy_answer(facts), facts)


def test_accuracy_answer_without_a_recorded_loss_says_it_cannot_tell():
    facts = scaling()
    facts.pop("n10000_d10_sgd_excess_gm")
    assert "cannot say" in checked(A.accuracy_answer(facts), facts)


def test_accuracy_answer_names_the_better_family_at_the_largest_d():
    assert "SGD and Momentum ends 5.36 times above" in A.accuracy_answer(scaling())
    flipped = scaling(dmax_gd_over_adaptive=0.5, dmax_adaptive_over_gd=2.0)
    assert "RMSprop and Adam ends 2 times above" in checked(A.accuracy_answer(flipped), flipped)


def test_hyperparameter_answer_follows_the_floor_the_trade_off_and_the_betas():
    c, nf = comparison(), noise_floor()
    text = checked(A.hyperparameter_answer(c, nf), c, nf)
    assert (
        "grows with lr" in text
        and "in 3 of 8" in text
        and "β, γ and β1 matter:" in text
        and "×19.6 (Adam's β1)" in text
    )
    assert "does not grow steadily" in A.hyperparameter_answer(c, noise_floor(slope_alpha_min=-0.1))
    assert "in none of the 8" in A.hyperparameter_answer(comparison(speed_accuracy_larger_lr=0), nf)
    calm = comparison(medium_adam_beta_spread=2.0)
    assert "matter less: " in A.hyperparameter_answer(
        calm, nf
    ) and "×3.9 (Momentum's β)" in A.hyperparameter_answer(calm, nf)


@pytest.mark.parametrize(
    "separated, says",
    [
        (0, "any tuned method"),
        (1, "Adam where it leads"),
        (2, "Adam: the seeds separate the two most accurate on all"),
    ],
)
def test_method_answer_says_where_the_seeds_tell_the_methods_apart(separated, says):
    c, s = comparison(heldout_separated_count=separated), scaling()
    text = checked(A.method_answer(c, s), c, s)
    assert says in text and "at (10000, 5) Adam leads" in text


def test_method_answer_says_where_full_batch_gd_beats_the_noise_floor():
    c = comparison(medium_gd_floor_ratio=1.9e7)
    assert "full-batch GD: it ends 1.9e+07 times below it at (10000, 5)" in checked(
        A.method_answer(c, None), c
    )
    assert "GD ends no lower" in A.method_answer(comparison(medium_gd_floor_ratio=0.5), None)
    assert "GD" not in A.method_answer(comparison(), None)


def test_method_answer_follows_the_large_d_comparison():
    c = comparison()
    assert "RMSprop or Adam, which end 5.36 times below" in A.method_answer(c, scaling())
    assert "too, SGD or Momentum" in A.method_answer(c, scaling(dmax_gd_over_adaptive=0.5))
    assert "large-d" not in A.method_answer(c, None)


def real_data(**changes) -> dict:
    finals = {"diabetes": (1.0, 2.0, 3.0, 0.5), "cancer": (0.1, 0.3, 0.2, 0.4)}
    facts = {
        "n_problems": 2,
        "separated_count": 0,
        **{f"{p}_n_train": 100 for p in finals},
        **{
            f"{p}_{o}_final_gm": v for p, values in finals.items() for o, v in zip(A.LABELS, values)
        },
    }
    return {**facts, **changes}


@pytest.mark.parametrize(
    "separated, says",
    [(0, "separate none of them."), (1, "separate 1 of the 2."), (2, "separate all 2.")],
)
def test_method_answer_names_the_real_data_leaders_and_their_separation(separated, says):
    c, r = comparison(), real_data(separated_count=separated)
    text = checked(A.method_answer(c, None, r), c, r)
    assert "the leader is Adam on diabetes, SGD on breast cancer;" in text and says in text
    same = real_data(cancer_adam_final_gm=0.01)
    assert "the leader is Adam on diabetes and breast cancer;" in A.method_answer(c, None, same)


def test_method_answer_without_real_data_says_nothing_of_it():
    assert "scikit-learn" not in A.method_answer(comparison(), scaling(), None)
    assert "scikit-learn" not in A.method_answer(comparison(), scaling(), {})  # skipped
    every = {"comparison": comparison(), "real_data": real_data()}
    assert [a.studies for a in A.answers(every)] == [("comparison", "real_data")]
    assert [a.studies for a in A.answers({"comparison": comparison(), "real_data": {}})] == [
        ("comparison",)
    ]


def test_bugs_answer_says_whether_bug_1_kept_adam_at_the_zero_vector():
    h, c = bugs(), comparison()
    text = checked(A.bugs_answer(h, c), h, c)
    assert (
        "keeps Adam next to the zero vector, ending at 289 (95% 285–293)" in text
        and "on 1 of 2" in text
    )
    m = A.BUGS_PROBLEM
    fine = bugs(**{f"{m}.adam.assign_step.mean": 0.5})
    assert "None of its verdicts on Adam" in A.bugs_answer(fine, None)
    assert A.bugs_answer(fine, None).endswith("281.")


def test_answers_leave_out_questions_whose_studies_did_not_run():
    every = {
        "scaling": scaling(),
        "comparison": comparison(),
        "noise_floor": noise_floor(),
        "homework_bugs": bugs(),
    }
    assert len(A.answers(every)) == 5
    assert [a.studies for a in A.answers({"homework_bugs": bugs()})] == [("homework_bugs",)]
    assert A.answers({}) == []


def test_the_quick_report_opens_with_the_answers(quick_report):
    report = quick_report.path.read_text()
    results = json.loads((quick_report.path.parent / "results.json").read_text())["studies"]
    section = report[report.index("## Answers") : report.index("## Contents")]
    assert report.index("## Answers") < report.index("## Summary")
    assert len(section.split()) <= 400, len(section.split())
    items = re.findall(r"^\d+\. \*\*(.+?)\*\* (.+) Evidence: (.+)\.$", section, flags=re.M)
    assert len(items) == 5
    for question, text, links in items:
        studies = re.findall(r"\]\(#([^)]+)\)", links)
        headings = {_anchor(line[3:]) for line in report.splitlines() if line.startswith("## ")}
        assert studies and set(studies) <= headings, (
            question,
            studies,
        )  # each link leads to a section
        # its numbers are facts of the studies it links to as evidence
        cited = [study for study in results.values() if _anchor(study["title"]) in studies]
        written = {fmt(float(v)) for study in cited for v in study["facts"].values()}
        numbers = numbers_in(text)
        assert numbers, question  # every answer gives a number
        assert set(numbers) <= written, (question, set(numbers) - written)
