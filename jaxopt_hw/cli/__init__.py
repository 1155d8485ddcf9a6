"""The ``jaxopt-hw`` command: the report, a quick comparison, a sweep from the shell.

Run ``jaxopt-hw --help`` or ``jaxopt-hw COMMAND --help``. JAX's persistent compilation
cache is switched on (``~/.cache/jaxopt_hw/xla``, or ``$JAXOPT_HW_CACHE``; ``--no-cache``
turns it off), so a second invocation skips most of the XLA compilation.

Each subcommand has its module (``report``, ``compare``, ``sweep``, ``search``); ``options``
and ``parsing`` hold what they share, ``environment`` how JAX is set up.
"""

from __future__ import annotations

import argparse
import textwrap

from jaxopt_hw.cli.compare import add_compare_command
from jaxopt_hw.cli.compare import cmd_compare as cmd_compare
from jaxopt_hw.cli.environment import enable_compilation_cache, use_cores
from jaxopt_hw.cli.options import OPTIMIZERS
from jaxopt_hw.cli.options import optimizer_factory as optimizer_factory
from jaxopt_hw.cli.parsing import positive_int
from jaxopt_hw.cli.report import add_report_command
from jaxopt_hw.cli.report import cmd_report as cmd_report
from jaxopt_hw.cli.search import add_search_command
from jaxopt_hw.cli.search import cmd_search as cmd_search
from jaxopt_hw.cli.sweep import add_sweep_command
from jaxopt_hw.cli.sweep import cmd_sweep as cmd_sweep

__all__ = ["main", "OPTIMIZERS"]


EPILOG = textwrap.dedent("""
    examples:
      jaxopt-hw report --quick --out /tmp/report      # the whole study in about a minute
      jaxopt-hw report --out docs                      # the full report (docs/report.md), a few minutes
      jaxopt-hw compare --problem small --optimizers momentum,rmsprop,adam --lr 0.05 --out /tmp/cmp
      jaxopt-hw sweep --optimizer adam --grid learning_rate=1e-3,1e-2,1e-1 --grid b1=0.8,0.9 \\
                      --problem medium --seeds 0,1,2 --out /tmp/sweep
      jaxopt-hw search --optimizer adam --space learning_rate=log:1e-5:1 --space b1=0.5:0.999 --out /tmp/search
""")


def build_parser() -> argparse.ArgumentParser:
    """Returns the parser of the ``jaxopt-hw`` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="jaxopt-hw",
        description="Compare first-order optimizers (GD, SGD, Momentum, RMSprop, Adam, ...) "
        "on least squares, with whole hyperparameter grids in one compiled JAX call.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="do not use JAX's persistent compilation cache"
    )
    parser.add_argument(
        "--cpu-devices",
        type=positive_int,
        metavar="N",
        help="CPU cores JAX presents as devices, over which sweeps shard their configs "
        "(default: all cores, unless JAX_NUM_CPU_DEVICES is set; 1: one device)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_report_command(commands)
    add_compare_command(commands)
    add_sweep_command(commands)
    add_search_command(commands)
    return parser


def main(argv=None) -> int:
    """Runs the ``jaxopt-hw`` command; ``argv`` defaults to the command line.

    Called with an ``argv`` (from Python), it leaves JAX's devices as they are unless
    ``--cpu-devices`` is given.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if argv is None or args.cpu_devices is not None:
        use_cores(args.cpu_devices)
    if not args.no_cache:
        enable_compilation_cache()
    try:
        return args.run(args)
    except (ValueError, TypeError, OSError) as error:  # bad input or a path that cannot be written
        parser.exit(2, f"jaxopt-hw {args.command}: error: {error}\n")
