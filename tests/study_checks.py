"""Checks every study's output must pass (shared by the study tests and the report test)."""

from __future__ import annotations

import json
import numbers

import pytest

from jaxopt_hw.studies import fmt, numbers_in, write_json

PNG = b"\x89PNG\r\n\x1a\n"


def check_study_output(settings, result, module) -> None:
    """Names, figures (existing PNGs with captions), numeric facts, every number in the
    conclusions and the text one of the facts, and a JSON round trip."""
    assert result.name == module.NAME and result.title == module.TITLE
    assert result.figures and result.tables and result.conclusions
    for name, caption in result.figures:
        path = settings.figure_path(name)
        assert path.exists() and path.stat().st_size > 1000, name
        assert path.read_bytes()[:8] == PNG, name
        assert caption
    for key, value in result.facts.items():
        assert isinstance(value, numbers.Real) and not isinstance(value, bool), (key, value)
    allowed = {fmt(v) for v in result.facts.values()}
    for sentence in result.conclusions + result.details + [result.text]:
        stray = [token for token in numbers_in(sentence) if token not in allowed]
        assert not stray, f"numbers not among the facts: {stray} in {sentence!r}"
    path = settings.results / f"{module.NAME}.json"
    write_json(path, result.to_json())
    loaded = json.loads(
        path.read_text(), parse_constant=_refuse
    )  # strict JSON: no bare Infinity / NaN
    assert {key: float(value) for key, value in loaded["facts"].items()} == pytest.approx(
        result.facts, nan_ok=True
    )
    assert loaded["conclusions"] == result.conclusions
    assert loaded["details"] == result.details


def _refuse(name):
    raise ValueError(f"{name} written as a bare JSON token")


def assert_numbers_are_facts(sentence: str, facts: dict) -> None:
    """Every number in ``sentence`` is ``fmt`` of one of ``facts`` (for text functions fed
    synthetic facts)."""
    allowed = {fmt(v) for v in facts.values()}
    stray = [token for token in numbers_in(sentence) if token not in allowed]
    assert not stray, f"numbers not among the facts: {stray} in {sentence!r}"
