"""Shared fixtures. The quick report runs once per session: the report test checks what it
wrote and each study's tests check that study's result from the same run."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def quick_report(tmp_path_factory):
    """``build_report(quick=True, seeds=(0, 1))`` into a temp folder: a ``Report``."""
    from jaxopt_hw.report import build_report

    return build_report(
        tmp_path_factory.mktemp("report"),
        quick=True,
        seeds=(0, 1),
        progress=False,
        command="jaxopt-hw report --quick",
    )


@pytest.fixture(scope="session")
def quick_study(quick_report):
    """``quick_study(name) -> (settings, StudyResult)`` from the session's quick report."""
    return lambda name: (quick_report.settings, quick_report.results[name])
