"""The studies behind the report: one module per question of the homework.

Each study module defines ``NAME``, ``TITLE`` and ``run(settings) -> StudyResult``. A study
computes everything it states: its conclusions are sentences whose every number is one of
its ``facts`` (formatted by :func:`fmt`), so the report never states a number the run did
not produce (``tests/test_report.py`` checks it). Studies use problems, optimizers,
``run``/``sweep``, metrics and plots; they know nothing of the report or the CLI.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from pathlib import Path
from typing import Any

from jaxopt_hw._io import atomic_write

__all__ = [
    "Settings",
    "StudyResult",
    "fmt",
    "formatted",
    "numbers_in",
    "write_json",
    "run_and_show",
    "machine_description",
    "STUDY_NAMES",
]

#: The studies in report order (module names inside this package).
STUDY_NAMES = (
    "comparison",
    "scaling",
    "theory",
    "noise_floor",
    "homework_bugs",
    "parity",
    "real_data",
)


@dataclasses.dataclass(frozen=True)
class Settings:
    """How big a study runs and where its figures go.

    Attributes:
      out: folder for figures (``out / "figures"``) and results (``out / "results"``).
      quick: smaller grids, fewer steps and seeds (the whole report in about a minute).
      seeds: seeds for the studies that report intervals over seeds.
    """

    out: Path
    quick: bool = False
    seeds: tuple = (0, 1, 2, 3, 4)

    @property
    def figures(self) -> Path:
        path = Path(self.out) / "figures"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def results(self) -> Path:
        path = Path(self.out) / "results"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def figure_path(self, name: str) -> Path:
        """Where the figure ``name`` (e.g. ``"comparison_contours.png"``) is written."""
        return self.figures / name


@dataclasses.dataclass
class StudyResult:
    """What a study measured and what it concludes.

    Attributes:
      name: the study's module name.
      title: a section title for the report.
      facts: ``{name: number}``; every number in ``conclusions`` is ``fmt`` of one of these.
      data: any further JSON-able results (curves, grids, tables as lists).
      figures: ``[(file name inside settings.figures, caption)]``.
      tables: markdown tables shown in the report (one, ideally).
      conclusions: short markdown sentences built from ``facts`` with :func:`fmt`.
      text: an optional markdown paragraph describing the setup (numbers in it must be facts too).
      details: the conclusions with their statistics in full (paired ratios, per-seed
        fits, intervals), for ``details.md`` and ``results.json``; numbers are facts too.
      detail_tables: further markdown tables, for ``details.md``.
      summary_figure: the file name of one of ``figures`` that the report shows after its
        Answers, in place of the study's section ("": none).
    """

    name: str
    title: str
    facts: dict = dataclasses.field(default_factory=dict)
    data: dict = dataclasses.field(default_factory=dict)
    figures: list = dataclasses.field(default_factory=list)
    tables: list = dataclasses.field(default_factory=list)
    conclusions: list = dataclasses.field(default_factory=list)
    text: str = ""
    details: list = dataclasses.field(default_factory=list)
    detail_tables: list = dataclasses.field(default_factory=list)
    summary_figure: str = ""

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "facts": self.facts,
            "data": self.data,
            "figures": [list(f) for f in self.figures],
            "tables": self.tables,
            "conclusions": self.conclusions,
            "text": self.text,
            "details": self.details,
            "detail_tables": self.detail_tables,
            "summary_figure": self.summary_figure,
        }


def fmt(value: Any) -> str:
    """The one way a number is written in a conclusion: integers in full, other numbers
    with 3 significant digits (``0.0123`` → ``"0.0123"``, ``12345.6`` → ``"1.23e+04"``)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (
        isinstance(value, float) and value.is_integer() and abs(value) < 1e6
    ):
        return str(int(value))
    if isinstance(value, float) and not math.isfinite(value):
        return "∞" if value > 0 else ("−∞" if value < 0 else "nan")
    return f"{float(value):.3g}"


def formatted(facts: dict) -> dict:
    """Every fact as a conclusion writes it: ``{name: fmt(value)}``."""
    return {name: fmt(value) for name, value in facts.items()}


_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def numbers_in(text: str) -> list:
    """The number tokens of ``text`` (as written), ignoring ones inside words like ``d5``
    or ``β2``, inside inline code or LaTeX-free figure names."""
    text = re.sub(r"`[^`]*`", " ", text)
    return _NUMBER.findall(text)


#: JSON has no numbers for these; they are written as strings that ``float()`` reads back
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def _strict(value):
    """``value`` with NumPy arrays and scalars as lists and numbers, paths as strings, and
    every non-finite float as the string ``"Infinity"``, ``"-Infinity"`` or ``"NaN"``."""
    import numpy as np

    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {key: _strict(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [
            _strict(item) for item in (value.tolist() if isinstance(value, np.ndarray) else value)
        ]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return _NON_FINITE.get(value, "NaN")
    return value


def write_json(path, obj) -> None:
    """Writes ``obj`` as strict JSON to ``path`` atomically (a temp file, then
    ``os.replace``): non-finite numbers (a tolerance never reached, a one-seed interval)
    become the strings ``"Infinity"``, ``"-Infinity"``, ``"NaN"``, which ``float()`` reads,
    so that any JSON parser reads the file."""
    with atomic_write(path) as handle:
        json.dump(_strict(obj), handle, indent=1, allow_nan=False)


def machine_description() -> str:
    """CPU model, cores, JAX backend and versions: where a measurement was taken."""
    import platform

    import jax
    import numpy as np

    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    devices = jax.devices()
    accelerator = (
        "" if devices[0].platform == "cpu" else f"{len(devices)} × {devices[0].device_kind} with "
    )
    return (
        f"{accelerator}{model}, {os.cpu_count()} cores; Python {platform.python_version()}, jax "
        f"{jax.__version__} "
        f"({jax.default_backend()}, {len(devices)} device(s)), NumPy {np.__version__}"
    )


def run_and_show(module, out=None, quick=None) -> tuple:
    """What an ``experiments/`` script does: run the study ``module`` (quick when
    ``$JAXOPT_HW_QUICK=1``), write ``results/<name>/results/<name>.json`` and print its
    setup, tables, conclusions and figure paths. Returns ``(settings, result)``."""
    if quick is None:
        quick = os.environ.get("JAXOPT_HW_QUICK", "0") == "1"
    settings = Settings(out=Path(out or Path("results") / module.NAME), quick=quick)
    result = module.run(settings)
    write_json(settings.results / f"{module.NAME}.json", result.to_json())
    print(f"# {result.title}\n")
    if result.text:
        print(result.text, "\n")
    for table in result.tables:
        print(table, "\n")
    print("Conclusions (every number is one of the study's facts):")
    for sentence in result.conclusions:
        print("-", sentence)
    print("\nfigures:", ", ".join(str(settings.figure_path(name)) for name, _ in result.figures))
    return settings, result
