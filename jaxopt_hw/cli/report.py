"""``jaxopt-hw report``: run the studies and write the report with its figures."""

from __future__ import annotations

from pathlib import Path

from jaxopt_hw.cli.options import output_folder
from jaxopt_hw.cli.parsing import int_list
from jaxopt_hw.studies import STUDY_NAMES


def cmd_report(args) -> int:
    """Runs ``jaxopt-hw report``: the studies, then report.md, its figures and numbers."""
    from jaxopt_hw.report import build_report

    if args.only is not None and not args.only:
        raise ValueError("--only names no study")
    output_folder(args.out, create=False)  # build_report makes it once its arguments pass

    command = "jaxopt-hw report" + (" --quick" if args.quick else "") + f" --out {args.out}"
    path = build_report(
        args.out,
        quick=args.quick,
        studies=args.only,
        seeds=args.seeds,
        progress=not args.no_progress,
        command=command,
    ).path
    figures, numbers = Path(args.out) / "figures", Path(args.out) / "results.json"
    print(f"wrote {path} (figures in {figures}, numbers in {numbers})")
    return 0


def add_report_command(commands) -> None:
    """The ``report`` command and its options."""
    report = commands.add_parser(
        "report",
        help="run all studies and write report.md with figures",
        description="Run the studies (comparison, scaling, theory, noise floor, the homework's "
        "bugs, parity with optax) and write OUT/report.md, OUT/figures/*.png and "
        "OUT/results.json.",
    )
    report.add_argument(
        "--quick", action="store_true", help="smaller grids and fewer steps (about a minute)"
    )
    report.add_argument(
        "--out", default="report", help="output folder (default: ./report; the docs use docs/)"
    )
    report.add_argument(
        "--only",
        type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
        help="comma-separated study names to run (default: all): " + ", ".join(STUDY_NAMES),
    )
    report.add_argument(
        "--seeds",
        type=int_list,
        help="seeds, at least two, e.g. 0,1,2,3,4 (default: 5 seeds, 2 with --quick)",
    )
    report.add_argument("--no-progress", action="store_true", help="no progress bar")
    report.set_defaults(run=cmd_report)
