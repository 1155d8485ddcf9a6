"""The quick report end to end, and the command line."""

from __future__ import annotations

import json
import re

import pytest
from study_checks import PNG

from jaxopt_hw import cli
from jaxopt_hw.studies import STUDY_NAMES, fmt, numbers_in


def _facts_as_written(facts: dict) -> set:
    return {
        fmt(v) for v in facts.values() if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def test_quick_report_writes_every_study_figure_and_number(quick_report):
    out = quick_report.path.parent  # the session's quick report (tests/conftest.py)
    report = quick_report.path.read_text()
    results = json.loads((out / "results.json").read_text())
    assert list(results["studies"]) == list(STUDY_NAMES)
    for name, study in results["studies"].items():
        assert f"## {study['title']}" in report
        assert study["conclusions"], name
        # every figure the study lists exists, is a PNG and is linked from the report
        for file_name, _caption in study["figures"]:
            path = out / "figures" / file_name
            assert path.read_bytes()[:8] == PNG, path
            assert f"(figures/{file_name})" in report
        # every number in the conclusions and the setup text is one of the study's facts
        written = _facts_as_written(study["facts"])
        for sentence in study["conclusions"] + [study["text"]]:
            for token in numbers_in(sentence):
                assert token in written, (name, token, sentence)  # written as fmt writes the fact
            assert sentence.strip() in report
        details = (out / "details.md").read_text()
        for sentence in study["details"]:
            assert [t for t in numbers_in(sentence) if t not in written] == [], (name, sentence)
            assert sentence.strip() in details
        for table in study["detail_tables"]:
            assert table.strip() in details
        # and the per-study JSON is the same result
        alone = json.loads((out / "results" / f"{name}.json").read_text())
        assert alone["facts"] == study["facts"]
    linked = set(re.findall(r"\(figures/([^)]+)\)", report))
    assert linked == {p.name for p in (out / "figures").glob("*.png")}


def test_the_summary_figure_follows_the_answers_once(quick_report):
    report = quick_report.path.read_text()
    link = "(figures/comparison_summary.png)"
    assert report.count(link) == 1
    assert report.index("## Answers") < report.index(link) < report.index("## Contents")


def test_the_report_links_the_homework_from_wherever_it_is_written(quick_report):
    from jaxopt_hw.report import HOMEWORK_TEXT

    links = re.findall(r"\[`homework11.txt`\]\(([^)]+)\)", quick_report.path.read_text())
    if not HOMEWORK_TEXT.is_file():  # an installed package without ../shared: named, not linked
        assert not links
        return
    assert len(links) == 1
    assert (quick_report.path.parent / links[0]).resolve() == HOMEWORK_TEXT.resolve()


def test_the_report_records_how_long_its_studies_took(quick_report):
    # the minute the quick report may take is a quiet machine's wall time, which workers
    # sharing the cores cannot show: benchmarks/bench_report.py measures it
    seconds = quick_report.meta["seconds"]
    per_study = [result.data["wall_seconds"] for result in quick_report.results.values()]
    assert all(s > 0 for s in per_study) and sum(per_study) <= seconds


def test_cli_report_passes_its_options_to_build_report(monkeypatch, tmp_path, capsys):
    import jaxopt_hw.report as report_module

    seen = {}

    def fake_build_report(out, **kwargs):
        seen.update(out=out, **kwargs)
        return report_module.Report(path=tmp_path / "report.md", settings=None, results={}, meta={})

    monkeypatch.setattr(report_module, "build_report", fake_build_report)
    assert (
        cli.main(
            [
                "--no-cache",
                "report",
                "--quick",
                "--out",
                str(tmp_path),
                "--only",
                "theory,parity",
                "--seeds",
                "3,4",
                "--no-progress",
            ]
        )
        == 0
    )
    assert (
        seen["out"] == str(tmp_path) and seen["quick"] and seen["studies"] == ["theory", "parity"]
    )
    assert seen["seeds"] == [3, 4] and seen["progress"] is False
    assert "report.md" in capsys.readouterr().out


def test_numbers_in_finds_what_a_reader_reads():
    assert numbers_in("Adam: 1.23e-03 after 120 steps, β2 = 0.999, `lr=5` and d5") == [
        "1.23e-03",
        "120",
        "0.999",
    ]
    assert fmt(120.0) == "120" and fmt(0.012345) == "0.0123" and fmt(float("inf")) == "∞"


# --------------------------------------------------------------------------- the CLI


def test_cli_sweep_saves_table_result_and_heatmap(tmp_path, capsys):
    out = tmp_path / "sweep"
    code = cli.main(
        [
            "--no-cache",
            "sweep",
            "--optimizer",
            "momentum",
            "--grid",
            "learning_rate=1e-4,1e-3",
            "--grid",
            "beta=0.5,0.9",
            "--n",
            "300",
            "--d",
            "3",
            "--steps",
            "50",
            "--log-every",
            "5",
            "--seeds",
            "0,1",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "| learning_rate | beta |" in printed and "best:" in printed
    assert (out / "heatmap.png").read_bytes()[:8] == PNG
    import jaxopt_hw as jh

    res = jh.SweepResult.load(out / "result.npz")
    assert res.loss.shape == (2, 2, 2, 10)


def test_cli_compare_on_a_2d_problem_draws_trajectories(tmp_path, capsys):
    code = cli.main(
        [
            "--no-cache",
            "compare",
            "--problem",
            "small",
            "--optimizers",
            "sgd,optax:adam",
            "--lr",
            "0.01",
            "--steps",
            "40",
            "--seeds",
            "0,1",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    assert (tmp_path / "trajectories.png").read_bytes()[:8] == PNG
    text = (tmp_path / "compare.md").read_text()
    assert "optax:adam" in text and "(mean ± 95%, 2 seeds)" in text and " ± inf" not in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            [
                "sweep",
                "--optimizer",
                "adam",
                "--grid",
                "learning_rat=0.1",
                "--n",
                "100",
                "--d",
                "2",
            ],
            "learning_rate",
        ),
        (["sweep", "--optimizer", "nadam", "--grid", "learning_rate=0.1"], "unknown optimizer"),
        (["sweep", "--grid", "learning_rate"], "NAME=VALUE"),
        (["sweep", "--grid", "learning_rate=0.1", "--fixed", "b1=0.8,0.9"], "one value"),
        (["compare", "--steps", "0"], "positive"),
        (["report", "--only", "nonsense", "--out", "/tmp/x"], "unknown study"),
        (["sweep", "--grid", "learning_rate=1e-3", "--grid", "learning_rate=1e-2"], "given twice"),
        (["compare", "--problem", "small", "--n", "200", "--d", "3"], "give one of them"),
        (["compare", "--lr", "-0.1"], "--lr"),
        (
            ["sweep", "--grid", "learning_rate=1e-3,nan"],
            "grid['learning_rate'] contains a non-finite value nan",
        ),
        (["compare", "--optimizers", ","], "--optimizers"),
    ],
)
def test_cli_rejects_bad_input_with_a_clear_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--no-cache", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["compare", "--problem", "small", "--steps", "5"],
        ["sweep", "--grid", "learning_rate=0.1", "--problem", "small", "--steps", "5"],
        ["report", "--quick", "--only", "parity"],
    ],
)
def test_cli_refuses_an_output_path_that_is_a_file(argv, tmp_path, capsys):
    in_the_way = tmp_path / "a_file"
    in_the_way.write_text("")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--no-cache", *argv, "--out", str(in_the_way)])
    assert exit_info.value.code == 2
    assert "is a file" in capsys.readouterr().err


def test_cli_makes_no_output_folder_for_a_refused_run(tmp_path, capsys):
    for argv in (
        ["compare", "--lr", "nan"],
        ["report", "--only", "nonsense"],
        ["report", "--only", ","],
        ["report", "--quick", "--only", "parity", "--seeds", "0,0"],
        ["report", "--quick", "--seeds", "3"],
        ["compare", "--seeds", "0,0"],
        ["sweep", "--grid", "learning_rat=0.1", "--problem", "small"],
    ):
        with pytest.raises(SystemExit):
            cli.main(["--no-cache", *argv, "--out", str(tmp_path / argv[0])])
        assert not (tmp_path / argv[0]).exists()
    assert "at least two" in capsys.readouterr().err  # the one-seed report: intervals need two


def test_cli_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    for command in ("report", "compare", "sweep", "examples:"):
        assert command in text


def test_the_report_says_whether_compile_times_may_come_from_the_cache(tmp_path):
    from jaxopt_hw.report import compilation_cache_state

    assert compilation_cache_state(None) == "off"
    assert "empty" in compilation_cache_state(str(tmp_path / "missing"))
    assert "empty" in compilation_cache_state(str(tmp_path))
    (tmp_path / "jit_program-abc").write_bytes(b"x")
    assert "may be reads" in compilation_cache_state(str(tmp_path))
