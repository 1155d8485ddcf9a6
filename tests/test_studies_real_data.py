"""The real-data study: its quick output, its facts derived from synthetic measurements, each
conclusion's branches on synthetic facts, its summary, and the path without scikit-learn."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from study_checks import assert_numbers_are_facts, check_study_output

from jaxopt_hw import summary
from jaxopt_hw.studies import Settings, real_data
from jaxopt_hw.studies.real_data import derived, text
from jaxopt_hw.studies.real_data.datasets import SPECS
from jaxopt_hw.studies.real_data.runs import Data, Plan, ProblemData, Tuned

SPEC = {spec.key: spec for spec in SPECS}


def _tuned(final, *, steps=None, test=0.1, accuracy=0.95, lr=0.1) -> Tuned:
    final = np.asarray(final, dtype=float)
    return Tuned(
        lr=lr,
        lrs=(0.01, 0.1, 1.0),
        tuning_final=np.array([1.0, 0.5, 2.0]),
        final=final,
        test_loss=np.full(final.shape, test),
        accuracy=np.full(final.shape, accuracy),
        steps_to_tol=None if steps is None else np.asarray(steps, dtype=float),
        diverged=0,
        curve=np.ones((final.size, 3)),
    )


def _problem(key: str, methods: dict, min_loss=0.5) -> ProblemData:
    return ProblemData(
        spec=SPEC[key],
        n_train=400,
        n_test=100,
        features=30,
        min_loss=min_loss,
        tol=None if min_loss is None else 0.01 * min_loss,
        steps=np.array([0, 100, 200]),
        methods=methods,
    )


def _data() -> Data:
    """Breast cancer (an optimum; SGD leads, clearly; Adam misses the tolerance on a seed)
    and the digits MLP (no optimum; Adam leads, narrowly; GD ends above it)."""
    cancer = {
        "sgd": _tuned([0.010, 0.011, 0.012], steps=[100, 120, 140], test=0.06),
        "momentum": _tuned([0.030, 0.033, 0.036], steps=[80, 90, 100], test=0.05),
        "rmsprop": _tuned([0.100, 0.110, 0.090], steps=[200, 200, 200], test=0.07),
        "adam": _tuned([0.050, 0.060, 0.040], steps=[150, np.inf, 150], test=0.08),
        "gd": _tuned([0.0, 1e-12, 1e-6], steps=[20, 20, 20], lr=1.0),
    }
    mlp = {
        "sgd": _tuned([0.30, 0.20, 0.40], test=0.10),
        "momentum": _tuned([0.20, 0.30, 0.25], test=0.09),
        "rmsprop": _tuned([0.50, 0.60, 0.55], test=0.12),
        "adam": _tuned([0.25, 0.18, 0.20], test=0.08, lr=0.01),
        "gd": _tuned([0.90, 0.80, 0.85], test=0.20),
    }
    plan = Plan(SPECS, (0.01, 0.1, 1.0), (0.1, 1.0), False, (0, 1, 2), (3, 4, 5))
    return Data(
        plan,
        {"cancer": _problem("cancer", cancer), "digits_mlp": _problem("digits_mlp", mlp, None)},
    )


@pytest.fixture(scope="module")
def facts() -> dict:
    return derived.facts(_data())


def checked(sentence: str, facts: dict) -> str:
    assert_numbers_are_facts(sentence, facts)
    return sentence


# ------------------------------------------------------------------ the quick report's run


@pytest.fixture(scope="module")
def quick(quick_study):
    pytest.importorskip("sklearn", reason="the real-data study needs the examples extra")
    return quick_study("real_data")  # the quick report's run (tests/conftest.py)


def test_quick_output_passes_the_study_checks(quick):
    settings, result = quick
    check_study_output(settings, result, real_data)
    assert len(result.tables) == 1 and len(result.figures) == 1
    assert result.facts["n_problems"] == len(real_data.plan(settings).specs)


def test_quick_words_are_the_facts_words(quick):
    _, result = quick
    f = result.facts
    assert result.conclusions == real_data.conclusions(f)
    assert result.text == text.setup_text(f) and result.details == text.details(f)
    assert result.tables == [text.table(f)]


# ------------------------------------------------------------------ facts from the data


def test_facts_rank_the_methods_and_pair_the_top_two(facts):
    assert derived.problem_keys(facts) == ["cancer", "digits_mlp"]
    assert derived.ranking(facts, "cancer")[:2] == ["sgd", "momentum"]
    assert derived.ranking(facts, "digits_mlp")[:2] == ["adam", "momentum"]
    assert facts["cancer_separated"] == 1 and facts["cancer_ratio"] == pytest.approx(3.0)
    assert facts["digits_mlp_separated"] == 0
    assert facts["separated_count"] == 1 and facts["top_leads"] == 1
    assert facts["n_problems"] == 2 and facts["n_with_optimum"] == 1


def test_steps_are_facts_only_where_every_held_out_seed_gets_there(facts):
    assert facts["cancer_adam_reached"] == 2 and "cancer_adam_steps_gm" not in facts
    assert facts["cancer_momentum_steps_gm"] == pytest.approx(
        np.exp(np.mean(np.log([80, 90, 100])))
    )
    assert "digits_mlp_tol" not in facts and "digits_mlp_sgd_reached" not in facts


def test_an_excess_loss_below_float32_resolution_counts_at_it(facts):
    floor = derived.RESOLUTION * 0.5
    assert facts["cancer_gd_final_low"] > 0
    assert facts["cancer_gd_final_gm"] == pytest.approx(
        np.exp(np.mean(np.log([floor, floor, 1e-6])))
    )


def test_counts_compare_test_losses_and_gd_with_the_leader(facts):
    # cancer: SGD leads, Momentum has the lowest test loss; the MLP: Adam leads both
    assert facts["test_agrees"] == 1
    assert facts["gd_below"] == 1  # below SGD on cancer, above Adam on the MLP
    assert facts["edge_picks"] == 2  # the MLP's Adam at 0.01, cancer's GD at 1
    assert facts["cancer_sgd_accuracy"] == pytest.approx(0.95)


def test_no_scikit_learn_no_facts():
    assert derived.facts(Data(_data().plan, {}, sklearn=False)) == {}


# ------------------------------------------------------------------ each conclusion's branches


def test_ranking_names_each_leader_and_whether_one_leads_everywhere(facts):
    assert checked(text.ranking_conclusion(facts), facts) == (
        "Lowest final loss on held-out seeds: SGD on breast cancer, Adam on digits MLP: "
        "the leader changes with the data set (SGD on 1 of the 2 data sets)."
    )
    same = {**facts, "top_leads": 2, "digits_mlp_sgd_final_gm": 0.01}
    assert text.ranking_conclusion(same).endswith("one method leads on every data set.")
    one = {k: v for k, v in facts.items() if not k.startswith("digits_mlp")}
    assert (
        text.ranking_conclusion(one) == "Lowest final loss on held-out seeds: SGD on breast cancer."
    )


@pytest.mark.parametrize(
    "count, says",
    [
        (0, "On no data set do the held-out seeds separate"),
        (1, "runner-up on 1 of the 2 data sets (a paired ratio over seeds, its 95% interval"),
        (2, "runner-up on every data set (a paired ratio"),
    ],
)
def test_separation_counts_the_separated_leaders(facts, count, says):
    f = {**facts, "separated_count": count}
    assert says in checked(text.separation_conclusion(f), f)


@pytest.mark.parametrize(
    "count, says",
    [
        (0, "never has the lowest test loss"),
        (1, "lowest test loss on 1 of the 2 data sets: a lower training loss does not always"),
        (2, "also has the lowest test loss, on every data set."),
    ],
)
def test_held_out_rows_agree_or_not_with_the_training_leader(facts, count, says):
    f = {**facts, "test_agrees": count}
    assert says in checked(text.test_conclusion(f), f)


@pytest.mark.parametrize(
    "count, says",
    [
        (0, "ends above the leader on every data set, though each of its steps reads every row"),
        (1, "ends below the leader on 1 of the 2 data sets: no minibatch noise floor"),
        (2, "ends below the leader on every data set: no minibatch noise floor"),
    ],
)
def test_gd_against_the_leader(facts, count, says):
    f = {**facts, "gd_below": count}
    assert says in checked(text.gd_conclusion(f), f)


def test_speed_names_the_fastest_or_says_none_gets_there(facts):
    assert checked(text.speed_conclusion(facts), facts) == (
        "Fastest within 1% of the optimum's loss on every held-out seed: "
        "Momentum on breast cancer (89.6 steps)."
    )
    slow = {k: v for k, v in facts.items() if not k.endswith("_steps_gm") or "_gd_" in k}
    assert text.speed_conclusion(slow).startswith("No minibatch method gets within 1%")
    both = {**facts, "digits_tol": 0.01, "digits_n_train": 1437}
    assert text.speed_conclusion(both).endswith("(89.6 steps), none on digits.")
    no_optimum = {k: v for k, v in facts.items() if not k.startswith("cancer")}
    assert text.speed_conclusion(no_optimum) == ""


def test_details_give_each_ranking_in_full_and_the_edge_picks(facts):
    details = text.details(facts)
    for sentence in details:
        checked(sentence, facts)
    assert "Momentum ends 3 times SGD's (95%" in details[0] and details[0].endswith(": separated.")
    assert details[1].endswith(": not separated.")
    assert details[-1].startswith("Tuned lrs on the edge of their grid: 2")
    assert (
        text.details({**facts, "edge_picks": 0})[-1] == "No tuned lr lies on the edge of its grid."
    )


def test_the_table_has_a_row_per_method_and_a_column_per_data_set(facts):
    rows = [line for line in text.table(facts).splitlines() if line.startswith("| ")]
    assert rows[0] == "| method | breast cancer | digits MLP |"
    assert [row.split(" | ")[0] for row in rows[1:]] == [
        "| SGD",
        "| Momentum",
        "| RMSprop",
        "| Adam",
        "| GD",
    ]
    assert "| 0.011 (95% 0.0087–0.014) · 0.95 |" in rows[1]


# ------------------------------------------------------------------ summary


def test_summary_names_the_leaders_and_whether_the_seeds_separate_them(facts):
    says = checked(summary.real_data(facts), facts)
    assert "goes to SGD on breast cancer, Adam on digits MLP; the seeds separate 1 of 2" in says
    assert "separate none of them" in summary.real_data({**facts, "separated_count": 0})
    assert summary.real_data({}).startswith("Not run: the data sets come with scikit-learn")


# ------------------------------------------------------------------ without scikit-learn


@pytest.fixture
def no_sklearn(monkeypatch):
    """``import sklearn`` fails, as where the examples extra is not installed."""
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)


def test_without_scikit_learn_the_study_returns_how_to_get_it(no_sklearn, tmp_path):
    result = real_data.run(Settings(out=tmp_path, quick=True, seeds=(0, 1)))
    assert result.facts == {} and not result.figures and not result.tables
    assert result.conclusions == [text.skipped_text()]
    assert 'pip install -e ".[examples]"' in result.conclusions[0]


def test_without_scikit_learn_the_report_builds_with_the_note(no_sklearn, tmp_path):
    from jaxopt_hw.report import build_report

    built = build_report(tmp_path, quick=True, studies=["real_data"], progress=False)
    report = built.path.read_text()
    section = report[report.index(f"## {real_data.TITLE}") :]
    assert section.split("\n\n")[1] == text.skipped_text()  # the note alone, no "Conclusions"
    assert "Not run: the data sets come with scikit-learn" in report
    stored = json.loads((tmp_path / "results.json").read_text())
    assert stored["studies"]["real_data"]["facts"] == {} and stored["performance_profile"] is None


def test_without_scikit_learn_the_other_sections_still_render(no_sklearn, quick_report, tmp_path):
    from jaxopt_hw.report import render

    skipped = real_data.run(Settings(out=tmp_path, quick=True, seeds=(0, 1)))
    results = {**quick_report.results, "real_data": skipped}
    report = render(results, quick_report.meta, tmp_path)
    for result in results.values():
        assert f"## {result.title}" in report
    assert text.skipped_text() in report
