"""Shared fixtures. The quick report runs once per session: the report test checks what it
wrote and each study's tests check that study's result from the same run (under
``pytest -n N``, on one worker)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

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


@pytest.hookimpl(optionalhook=True)  # xdist's hook: the suite also runs without xdist
def pytest_xdist_make_scheduler(config, log):
    """Under ``-n N``: each test function its own unit of work, its parametrized cases
    together (they share compiled programs and cached runs), except that the files reading
    the quick report go whole to one worker, which builds the report once (and first:
    xdist queues the units largest first, and theirs is the largest)."""
    from xdist.scheduler import LoadScopeScheduling

    class QuickReportOnOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            file = nodeid.split("::", 1)[0]
            if file in _quick_report_files(config.rootpath):
                return "quick report"
            return nodeid.split("[", 1)[0]

    return QuickReportOnOneWorker(config, log)


@functools.lru_cache(maxsize=None)
def _quick_report_files(root) -> frozenset:
    """The test files (relative to ``root``) that name the quick report's fixtures."""
    uses = re.compile(r"\bquick_(report|study)\b")
    return frozenset(
        str(path.relative_to(root))
        for path in Path(root, "tests").glob("test_*.py")
        if uses.search(path.read_text())
    )
