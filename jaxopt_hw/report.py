"""The report: runs the studies and writes ``report.md`` (with its figures) and ``details.md``.

Every study returns a :class:`~jaxopt_hw.studies.StudyResult`; the report writes each to
``OUT/results/<study>.json`` and all of them to ``OUT/results.json``, copies their
conclusions verbatim (each number in them is one of the study's facts) and links their
figures from ``OUT/figures``.

Example:
  >>> from jaxopt_hw.report import build_report             # doctest: +SKIP
  >>> build_report("docs", quick=True).path                  # doctest: +SKIP
  PosixPath('docs/report.md')
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib
import os
import time
from pathlib import Path
from typing import Optional, Sequence

from jaxopt_hw._io import atomic_write
from jaxopt_hw.answers import answers
from jaxopt_hw.profiles import FIGURE
from jaxopt_hw.profiles import profile as performance_profile
from jaxopt_hw.studies import STUDY_NAMES, Settings, StudyResult, machine_description, write_json
from jaxopt_hw.summary import summaries

__all__ = ["build_report", "render", "render_details", "run_studies", "Report"]


@dataclasses.dataclass
class Report:
    """A written report: ``path`` of ``report.md``, the studies' results and the run's metadata."""

    path: Path
    settings: Settings
    results: dict
    meta: dict


def _study_module(name: str):
    if name not in STUDY_NAMES:
        raise ValueError(f"unknown study {name!r}; the studies are: {', '.join(STUDY_NAMES)}")
    return importlib.import_module(f"jaxopt_hw.studies.{name}")


def run_studies(
    settings: Settings, names: Sequence[str] = STUDY_NAMES, progress: bool = True
) -> dict:
    """Runs the studies ``names`` in order, writing each result's JSON as it finishes.

    Returns:
      ``{name: StudyResult}``.
    """
    modules = [(name, _study_module(name)) for name in names]  # unknown names fail first
    from tqdm.auto import tqdm

    results = {}
    bar = tqdm(modules, desc="studies", unit="study", disable=not progress)
    for name, module in bar:
        bar.set_postfix_str(name)
        started = time.perf_counter()
        result = module.run(settings)
        result.data.setdefault("wall_seconds", time.perf_counter() - started)
        write_json(settings.results / f"{name}.json", result.to_json())
        results[name] = result
    return results


def _figure(file_name: str, caption: str, alt: str = "") -> list:
    return [f"![{alt or caption}](figures/{file_name})", "", f"*{caption}*", ""]


def _summary_figures(results: dict) -> list:
    """The figures the studies mark as their summary, for the report's first page."""
    return [
        line
        for result in results.values()
        for file_name, caption in result.figures
        if file_name == result.summary_figure
        for line in _figure(file_name, caption, alt="summary")
    ]


def _section(result: StudyResult) -> str:
    lines = [f"## {result.title}", ""]
    if result.text:
        lines += [result.text.strip(), ""]
    for file_name, caption in result.figures:
        if file_name != result.summary_figure:  # shown after the Answers
            lines += _figure(file_name, caption)
    for table in result.tables:
        lines += [table.strip(), ""]
    if result.conclusions and not result.facts:  # a study that could not run: its note alone
        lines += [*result.conclusions, ""]
    elif result.conclusions:
        lines += ["**Conclusions** (every number below was computed by this run):", ""]
        lines += [f"- {sentence.strip()}" for sentence in result.conclusions]
        lines.append("")
    if result.details or result.detail_tables:
        lines += [f"The statistics behind these: [details]({DETAILS}#{_anchor(result.title)}).", ""]
    return "\n".join(lines)


#: The companion of ``report.md`` holding each study's conclusions in full and its further tables.
DETAILS = "details.md"


def render_details(results: dict) -> str:
    """The markdown of ``details.md``: per study, its conclusions with their statistics in
    full and its further tables, which the report leaves out to stay one read long."""
    lines = [
        "# The report's details",
        "",
        "Each study's conclusions with their statistics in full, and its further tables. "
        "Generated with [`report.md`](report.md) by the same command; the numbers are in "
        "[`results.json`](results.json).",
        "",
    ]
    for result in results.values():
        if not (result.details or result.detail_tables):
            continue
        lines += [f"## {result.title}", ""]
        lines += [f"- {sentence.strip()}" for sentence in result.details]
        lines.append("")
        for table in result.detail_tables:
            lines += [table.strip(), ""]
    return "\n".join(lines).rstrip() + "\n"


#: The homework's text, beside the repository (``../shared`` in a checkout).
HOMEWORK_TEXT = Path(__file__).resolve().parents[2] / "shared" / "seed" / "homework11.txt"


def _homework_reference(out) -> str:
    """The homework as a link relative to the report's folder ``out``, or by name where
    the file is not beside this checkout (an installed package)."""
    if out is None or not HOMEWORK_TEXT.is_file():
        return "`homework11.txt`"
    return f"[`homework11.txt`]({Path(os.path.relpath(HOMEWORK_TEXT, Path(out).resolve())).as_posix()})"


#: The appendix on how the numbers are computed: the statistics the sections' sentences use.
METHOD = [
    "## Method: how to read the numbers",
    "",
    "Losses and steps to a tolerance are positive and skewed over seeds (one unlucky seed can end "
    "orders of "
    "magnitude higher), so the tables and the answers give them as a geometric mean with the 95% "
    "interval of "
    "the mean of their logarithms, exponentiated, written `g (95% low–high)`: it stays above zero "
    "and is as "
    "asymmetric as the seeds. `a ± h` is a mean over seeds with the half-width of its 95% "
    "Student-t interval, "
    "a statement about the mean, used for slopes, rates and ratios, which can take either sign. A "
    "fitted "
    'exponent\'s "one fit per seed: m ± h" is the mean of one log-log fit per seed with its 95% interval, next '
    "to the exponent fitted to the means. The rankings of the first study and the differences the "
    "bugs study "
    "names compare seed by seed: a paired ratio over the same seeds with a 95% interval on the "
    "log scale, "
    "called separated when that interval excludes 1. Other ratios in the text compare the "
    "statistics their "
    "sentence names (means unless it says medians), not seed by seed. The first study tunes on "
    "some seeds and "
    "scores on held-out seeds that the tuning never saw, so its rankings are not the tuning's "
    "luck.",
    "",
]


def render(results: dict, meta: dict, out=None, profile: Optional[dict] = None) -> str:
    """The markdown of the report for ``{name: StudyResult}`` and the run's metadata, to
    be written into the folder ``out`` (for the link to the homework), with the
    performance profile of :func:`jaxopt_hw.profiles.profile` where there is one."""
    mode = "quick (smaller grids, fewer steps)" if meta["quick"] else "full"
    lines = [
        "# Comparing first-order optimizers on least squares: the report",
        "",
        f"Generated by `{meta['command']}` on {meta['date']} ({mode}, {meta['seconds']:.0f} s) on "
        f"{meta['machine']}; "
        f"JAX's persistent compilation cache {meta.get('compilation_cache', 'unknown')}. Do not "
        "edit by hand: rerun the command. The numbers behind every sentence are in "
        "[`results.json`](results.json).",
        "",
        f"The homework ({_homework_reference(out)}) asks to implement Momentum, RMSprop "
        "and Adam, compare them with GD/SGD on synthetic least squares of several sizes and "
        "conclude how the "
        "speed and accuracy of convergence depend on the dimension and the hyperparameters. Each "
        "section below "
        "is one study (`jaxopt_hw/studies/`, also runnable as a notebook in `experiments/`).",
        "",
        *_answers_section(results),
        *_summary_figures(results),
        "## Contents",
        "",
    ]
    lines += [f"{i}. [{r.title}](#{_anchor(r.title)})" for i, r in enumerate(results.values(), 1)]
    lines.append(f"{len(results) + 1}. [{METHOD[0][3:]}](#{_anchor(METHOD[0][3:])})")
    if profile:
        lines.insert(-len(results) - 1, f"0. [{PROFILE_TITLE}](#{_anchor(PROFILE_TITLE)})")
    lines += ["", "## Summary of the conclusions", ""]
    short = summaries({name: result.facts for name, result in results.items()})
    for name, result in results.items():
        if name in short:  # the study's conclusions in brief; the section gives them in full
            lines.append(
                f"- **{result.title}.** {short[name]} [Details](#{_anchor(result.title)})."
            )
    lines.append("")
    lines += _profile_section(profile)
    lines += [_section(result) for result in results.values()]
    lines += METHOD
    return "\n".join(lines).rstrip() + "\n"


PROFILE_TITLE = "Performance profiles: which optimizer is fast on how many problems"


def _profile_section(profile: Optional[dict]) -> list:
    """The performance profile's figure and sentence (nothing where there is none)."""
    if not profile:
        return []
    caption = (
        "Dolan–Moré performance profiles over the homework problems, the scaling scans and the "
        "real "
        "data sets with a known optimum: the fraction of problems each optimizer reaches the "
        "tolerance on within τ times the fastest optimizer's median steps."
    )
    return [
        f"## {PROFILE_TITLE}",
        "",
        f"![{caption}](figures/{profile['figure']})",
        "",
        f"*{caption}*",
        "",
        profile["text"],
        "",
    ]


def _answers_section(results: dict) -> list:
    """The homework's questions, each answered from the studies' facts with a link to the
    section holding the evidence (no lines where no answer's studies ran)."""
    found = answers({name: result.facts for name, result in results.items()})
    if not found:
        return []
    lines = [
        "## Answers",
        "",
        "The homework's questions, answered from this run's numbers (intervals: 95% over seeds):",
        "",
    ]
    for i, answer in enumerate(found, 1):
        links = ", ".join(
            f"[{name.replace('_', ' ')}](#{_anchor(results[name].title)})"
            for name in answer.studies
        )
        lines.append(f"{i}. **{answer.question}** {answer.text} Evidence: {links}.")
    return lines + [""]


def _anchor(title: str) -> str:
    keep = "".join(c for c in title.lower() if c.isalnum() or c in " -_")
    return keep.strip().replace(" ", "-")


def compilation_cache_state(folder: Optional[str]) -> str:
    """Whether JAX's persistent compilation cache (``folder``, ``None`` when off) is on and,
    if so, whether it held anything: then the compile times a study reports may be reads
    from it."""
    if not folder:
        return "off"
    held = (
        sum(1 for entry in Path(folder).glob("*") if entry.is_file())
        if Path(folder).is_dir()
        else 0
    )
    if not held:
        return "on, empty at the start (every compile time is a compilation)"
    return f"on, holding {held} files at the start (compile times may be reads from it)"


def build_report(
    out,
    quick: bool = False,
    studies: Optional[Sequence[str]] = None,
    seeds: Optional[Sequence[int]] = None,
    progress: bool = True,
    command: Optional[str] = None,
) -> Report:
    """Runs the studies and writes ``out/report.md``, ``out/details.md``, ``out/results.json``,
    ``out/results/<study>.json`` and ``out/figures/*.png``.

    Args:
      out: the output folder (created if missing).
      quick: smaller grids and fewer steps (about a minute on a 2-core CPU).
      studies: the study names to run (default: all, in report order).
      seeds: the seeds for studies that average over seeds, at least two (default 5 seeds;
        2 if quick).
      progress: show a progress bar over the studies.
      command: the command line to cite in the report.

    Returns:
      A :class:`Report` (``.path`` is ``out/report.md``).
    """
    out = Path(out)
    if seeds is None:
        seeds = (0, 1) if quick else (0, 1, 2, 3, 4)
    seeds = tuple(int(s) for s in seeds)
    if len(seeds) < 2 or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ValueError(
            f"seeds must be distinct non-negative integers, at least two (the report's conclusions "
            f"rest on 95% intervals over seeds, which one seed cannot give), got {list(seeds)}"
        )
    for name in studies or ():
        _study_module(name)  # an unknown name fails before anything is written
    out.mkdir(parents=True, exist_ok=True)
    settings = Settings(out=out, quick=quick, seeds=seeds)
    import jax

    cache = compilation_cache_state(jax.config.jax_compilation_cache_dir)
    started = time.perf_counter()
    results = run_studies(settings, tuple(studies or STUDY_NAMES), progress=progress)
    meta = {
        "compilation_cache": cache,
        "command": command or f"jaxopt-hw report{' --quick' if quick else ''} --out {out}",
        "date": datetime.date.today().isoformat(),
        "quick": quick,
        "seeds": list(settings.seeds),
        "seconds": time.perf_counter() - started,
        "machine": machine_description(),
    }
    profile = performance_profile(
        {name: r.facts for name, r in results.items()}, settings.figure_path(FIGURE)
    )
    write_json(
        out / "results.json",
        {
            "meta": meta,
            "studies": {name: r.to_json() for name, r in results.items()},
            "performance_profile": profile,
        },
    )
    with atomic_write(out / DETAILS) as file:
        file.write(render_details(results))
    path = out / "report.md"
    with atomic_write(path) as file:
        file.write(render(results, meta, out, profile))
    return Report(path=path, settings=settings, results=results, meta=meta)
