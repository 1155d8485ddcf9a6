"""Times ``jaxopt-hw report --quick`` as a user runs it: a fresh process, an empty folder.

The quick report's promise (at most a minute on a 2-core CPU) is a wall-clock figure of a
quiet machine, so it is measured here rather than in the test suite, whose workers share the
cores. Each run starts with an empty compilation cache (a first run: every program
compiles), then runs again on the cache it filled (the command's rerun). Study times come
from the report's own ``results.json``; the exit status is 1 when the median first run's
study time passes the limit.

  python benchmarks/bench_report.py --write            # 3 runs, docs/benchmarks.md
  python benchmarks/bench_report.py --runs 1
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_loop import machine, titled, write_section

SECTION = "## Quick report (`jaxopt-hw report --quick`)"
#: seconds the studies of a quick report may take: a minute on a CPU (issue #22); a GPU runs
#: its hundreds of small programs at launch latency and compiles each more slowly (76-93 s
#: on an H200, with test workers beside it)
LIMIT_S = {"cpu": 60.0, "gpu": 120.0}


def one_run(cache: str) -> dict:
    """Runs the quick report in a fresh process on the compilation cache ``cache``; its
    wall time and its studies' times."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "jaxopt_hw.cli", "report", "--quick", "--out", out]
        env = {**os.environ, "JAXOPT_HW_CACHE": cache}
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
        wall = time.perf_counter() - started
        results = json.loads(Path(out, "results.json").read_text())
    studies = {
        name: study["data"].get("wall_seconds", float("nan"))
        for name, study in results["studies"].items()
    }
    return {"wall": wall, "studies_s": results["meta"]["seconds"], "per_study": studies}


def report(runs: list, backend: str) -> tuple:
    """The section's Markdown and whether the median first run kept to the limit."""
    median = statistics.median(r["studies_s"] for r in runs if r["cache"] == "empty")
    rerun = statistics.median(r["studies_s"] for r in runs if r["cache"] != "empty")
    limit = LIMIT_S.get(backend)
    kept = limit is None or median <= limit
    names = list(runs[0]["per_study"])
    lines = [
        titled(SECTION),
        "",
        f"{datetime.date.today().isoformat()}, {machine()}; "
        f"`python benchmarks/bench_report.py --write`: {len(runs) // 2} first runs, each on an "
        "empty compilation cache, and each followed by a rerun on the cache it filled, all in "
        "fresh processes.",
        "",
        "| run | cache | process wall (s) | studies (s) | "
        + " | ".join(f"{n} (s)" for n in names)
        + " |",
        "|---" * (4 + len(names)) + "|",
    ]
    for i, r in enumerate(runs):
        cells = " | ".join(f"{r['per_study'][n]:.1f}" for n in names)
        lines.append(
            f"| {i // 2 + 1} | {r['cache']} | {r['wall']:.1f} | {r['studies_s']:.1f} | {cells} |"
        )
    verdict = (
        f"within the {limit:.0f} s limit" if limit and kept else f"over the {limit:.0f} s limit"
    )
    lines += [
        "",
        f"Median study time {median:.1f} s on an empty cache: "
        + (verdict if limit else "no limit set for this backend")
        + f"; {rerun:.1f} s rerun on a filled one (the process wall adds the imports and "
        "writing the report).",
        "",
    ]
    return "\n".join(lines), kept


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh-process runs (default 3)")
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    import jax

    runs = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as cache:
            for state in ("empty", "filled"):
                runs.append({"cache": state, **one_run(cache)})
                print(f"run {i + 1}, {state} cache: studies {runs[-1]['studies_s']:.1f} s")
    text, kept = report(runs, jax.default_backend())
    print(text)
    if args.write:
        write_section(text, titled(SECTION))
    return 0 if kept else 1


if __name__ == "__main__":
    sys.exit(main())
