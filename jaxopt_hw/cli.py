"""The ``jaxopt-hw`` command: the report, a quick comparison, a sweep from the shell.

Run ``jaxopt-hw --help`` or ``jaxopt-hw COMMAND --help``. JAX's persistent compilation
cache is switched on (``~/.cache/jaxopt_hw/xla``, or ``$JAXOPT_HW_CACHE``; ``--no-cache``
turns it off), so a second invocation skips most of the XLA compilation.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import textwrap
from pathlib import Path

from jaxopt_hw.studies import STUDY_NAMES

__all__ = ["main", "OPTIMIZERS"]

#: Optimizer names the command line accepts (``optax:NAME`` reaches any optax alias).
OPTIMIZERS = ("sgd", "momentum", "heavy_ball", "rmsprop", "adam", "adamw", "amsgrad", "adagrad")

EPILOG = textwrap.dedent("""
    examples:
      jaxopt-hw report --quick --out /tmp/report      # the whole study in about a minute
      jaxopt-hw report --out docs                      # the full report (docs/report.md), a few minutes
      jaxopt-hw compare --problem small --optimizers momentum,rmsprop,adam --lr 0.05 --out /tmp/cmp
      jaxopt-hw sweep --optimizer adam --grid learning_rate=1e-3,1e-2,1e-1 --grid b1=0.8,0.9 \\
                      --problem medium --seeds 0,1,2 --out /tmp/sweep
      jaxopt-hw search --optimizer adam --space learning_rate=log:1e-5:1 --space b1=0.5:0.999 --out /tmp/search
""")


# --------------------------------------------------------------------------- parsing helpers


def _number(text: str):
    """``"1e-3"`` → 0.001, ``"3"`` → 3, ``"true"`` → True; other text stays text."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text.strip()
    return value if isinstance(value, (int, float)) else text.strip()


def _assignment(text: str) -> tuple:
    """``"b1=0.8,0.9"`` → ``("b1", [0.8, 0.9])``."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE[,VALUE...], got {text!r}")
    name, values = text.split("=", 1)
    parsed = [_number(v) for v in values.split(",") if v.strip()]
    if not name.strip() or not parsed:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE[,VALUE...], got {text!r}")
    return name.strip(), parsed


def _int_list(text: str) -> list:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def optimizer_factory(name: str):
    """The factory for ``name``: one of :data:`OPTIMIZERS` or ``optax:ALIAS``."""
    if name.startswith("optax:"):
        import optax

        factory = getattr(optax, name.split(":", 1)[1], None)
        if not callable(factory):
            raise ValueError(f"optax has no optimizer {name.split(':', 1)[1]!r}")
        return factory
    if name not in OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)} or optax:NAME"
        )
    import jaxopt_hw as jh

    return getattr(jh, name)


def _problem(args):
    """The problem the options name, and a line about it (or ``None``)."""
    import jaxopt_hw as jh

    if args.data is not None:
        if args.target is None:
            raise ValueError("--data needs --target COLUMN (the column to predict)")
        if args.problem is not None or args.n is not None or args.d is not None:
            raise ValueError(
                "--data and --problem/--n/--d both say which problem: give one of them"
            )
        from jaxopt_hw.user_data import table_problem

        return table_problem(
            args.data,
            args.target,
            args.model,
            test_fraction=args.test_fraction,
            seed=args.data_seed,
            l2=args.l2,
        )
    if args.target is not None:
        raise ValueError("--target goes with --data FILE")
    if args.n is not None or args.d is not None:
        if args.n is None or args.d is None:
            raise ValueError("--n and --d go together")
        if args.problem is not None:
            raise ValueError(
                f"--problem {args.problem} and --n/--d both say which problem: give one of them"
            )
        return jh.linear_regression(args.n, args.d, noise=args.noise, seed=args.data_seed), None
    return jh.homework_problem(args.problem or "medium", seed=args.data_seed), None


def _add_problem_options(parser):
    group = parser.add_argument_group("problem (least squares, the homework's recipe)")
    group.add_argument(
        "--problem",
        choices=("small", "medium", "large"),
        help="the homework's sizes: small (500, 2), medium (10 000, 5), large (150 000, 7) "
        "(default: medium)",
    )
    group.add_argument("--n", type=_positive_int, help="rows (with --d, instead of --problem)")
    group.add_argument("--d", type=_positive_int, help="features (with --n)")
    group.add_argument(
        "--noise", type=float, default=1.0, help="noise standard deviation (default 1)"
    )
    group.add_argument(
        "--data-seed",
        type=int,
        default=0,
        help="seed of the data, or of the held-out split with --data (default 0)",
    )
    from jaxopt_hw.user_data import MODELS

    table = parser.add_argument_group("problem on your own table (instead of --problem)")
    table.add_argument(
        "--data", metavar="FILE", help="a .csv with a header line, or an .npz of columns"
    )
    table.add_argument("--target", metavar="COLUMN", help="the column to predict")
    table.add_argument(
        "--model",
        choices=MODELS,
        default="least_squares",
        help="least_squares (default), binary_logistic (labels 0/1) or softmax_regression "
        "(labels 0..C-1); an intercept is fitted and the features standardized",
    )
    table.add_argument(
        "--test-fraction",
        type=float,
        default=0.2,
        help="rows held out for test_loss (and test_accuracy) (default 0.2)",
    )
    table.add_argument(
        "--l2", type=float, default=0.0, help="ridge penalty of the classifiers (default 0)"
    )


def use_cores(count=None) -> None:
    """Presents the CPU cores to JAX as devices (:func:`jaxopt_hw.use_cpu_cores`): ``count``
    of them, or by default all, unless ``JAX_NUM_CPU_DEVICES`` or ``XLA_FLAGS`` already say
    how many, or JAX is already running in this process."""
    import jaxopt_hw as jh

    if count is None and (
        "JAX_NUM_CPU_DEVICES" in os.environ
        or "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", "")
    ):
        return
    try:
        jh.use_cpu_cores(count)
    except RuntimeError:
        if count is not None:
            raise


def enable_compilation_cache(path=None) -> Path:
    """Switches on JAX's persistent compilation cache (every compiled program is kept)."""
    import jax

    path = Path(
        path or os.environ.get("JAXOPT_HW_CACHE") or Path.home() / ".cache" / "jaxopt_hw" / "xla"
    )
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path


# --------------------------------------------------------------------------- commands


def cmd_report(args) -> int:
    from jaxopt_hw.report import build_report

    if args.only is not None and not args.only:
        raise ValueError("--only names no study")
    _output_folder(args.out, create=False)  # build_report makes it once its arguments pass

    command = "jaxopt-hw report" + (" --quick" if args.quick else "") + f" --out {args.out}"
    path = build_report(
        args.out,
        quick=args.quick,
        studies=args.only,
        seeds=args.seeds,
        progress=not args.no_progress,
        command=command,
    ).path
    print(
        f"wrote {path} (figures in {Path(args.out) / 'figures'}, numbers in {Path(args.out) / 'results.json'})"
    )
    return 0


def _output_folder(path, create: bool = True) -> Path:
    """``path`` as a folder to write into (created unless ``create`` is false), refused
    when a file is in the way."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out {path} is a file, not a folder")
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def cmd_compare(args) -> int:
    import math

    import numpy as np

    import jaxopt_hw as jh
    from jaxopt_hw import plots

    if not args.optimizers:
        raise ValueError("--optimizers names none")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise ValueError(f"--lr must be a finite number > 0, got {args.lr}")
    factories = {
        name: optimizer_factory(name) for name in args.optimizers
    }  # unknown names fail first
    problem, about = _problem(args)
    out = _output_folder(args.out, create=False)  # made below, once the sweeps have run
    curves, trajectories, rows = {}, {}, []
    for name, factory in factories.items():
        res = jh.sweep(
            problem,
            factory,
            grid={"learning_rate": [args.lr]},
            seeds=args.seeds,
            steps=args.steps,
            batch_size=args.batch_size,
            log_every=1,
            progress=False,
        )
        known_optimum = problem.min_loss is not None
        curves[name] = (res.excess_loss if known_optimum else res.loss)[0]
        rows.append(_compare_row(name, res.sel(learning_rate=args.lr), known_optimum))
        if problem.X.shape[1] == 2:
            trace = jh.run(
                problem,
                factory(learning_rate=args.lr),
                steps=args.steps,
                batch_size=args.batch_size,
                seed=args.seeds[0],
                record_params=True,
            )
            trajectories[name] = np.asarray(trace.params)
    steps = np.arange(1, args.steps + 1)
    _output_folder(out)
    plots.convergence(
        curves,
        steps,
        path=out / "convergence.png",
        title=f"{problem.name}, lr {args.lr:g}",
        ylabel="excess loss" if known_optimum else "training loss",
    )
    if trajectories:
        plots.contour_trajectories_grid(problem, trajectories, path=out / "trajectories.png")
    statistic = f"mean ± 95%, {len(args.seeds)} seeds" if len(args.seeds) > 1 else "one seed"
    header = [
        "optimizer",
        f"final excess loss ({statistic})" if known_optimum else f"final loss ({statistic})",
    ]
    header += [f"final {metric}" for metric in problem.eval_names]
    header += ["median steps to tol"] if known_optimum else []
    table = "\n".join(
        ["| " + " | ".join(header + ["diverged"]) + " |", "|" + "---|" * (len(header) + 1), *rows]
    )
    setup = (
        f"{problem.name}, learning rate {args.lr:g}, {args.steps} steps, batch {args.batch_size}, "
        f"seeds {', '.join(map(str, args.seeds))}"
    )
    setup += f"; tolerance on the excess loss {float(res.tol):.3g}" if known_optimum else ""
    setup += f"\n\n{about}" if about else ""
    (out / "compare.md").write_text(setup + "\n\n" + table + "\n")
    print(table)
    print(f"figures in {out}")
    return 0


def _compare_row(name: str, res, known_optimum: bool) -> str:
    """One optimizer's row of the comparison: its final loss (excess loss where the optimum
    is known) and held-out metrics over seeds, its median steps to tol, its divergences."""
    import numpy as np

    from jaxopt_hw import metrics

    n_seeds = len(res.axes["seed"])

    def over_seeds(values):
        interval = metrics.mean_interval(np.asarray(values, dtype=float))
        return metrics.interval_text(float(interval.mean), float(interval.half_width), n_seeds)

    cells = [name, over_seeds(res.final_excess_loss if known_optimum else res.final_loss)]
    cells += [
        over_seeds(metrics.final_value(res.curves[metric])) for metric in res.held_out_names()
    ]
    if known_optimum:
        reach = np.median(res.steps_to_tol)
        cells.append("never" if not np.isfinite(reach) else str(int(reach)))
    cells.append(f"{int(res.diverged.sum())}/{n_seeds}")
    return "| " + " | ".join(cells) + " |"


def _by_name(flag: str, assignments) -> dict:
    """``[(name, values), ...]`` of a repeatable ``flag`` as a dict, refusing a name given twice."""
    merged = {}
    for name, values in assignments:
        if name in merged:
            raise ValueError(
                f"{flag} {name} is given twice; list its values once: {flag} {name}=V1,V2,..."
            )
        merged[name] = values
    return merged


def _fixed_values(args, axes_flag: str) -> dict:
    """The ``--fixed NAME=VALUE`` options as ``{name: value}``, refusing a list of values."""
    fixed = _by_name("--fixed", args.fixed or [])
    for name, values in fixed.items():
        if len(values) != 1:
            raise ValueError(
                f"--fixed {name} takes one value, got {values}; put a list in {axes_flag}"
            )
    return {name: values[0] for name, values in fixed.items()}


def _write_best(args, fixed: dict, best: dict) -> None:
    """``OUT/best.json``: the best config and how it was chosen, written atomically;
    ``factory(**fixed, **best)`` rebuilds its optimizer."""
    import json

    from jaxopt_hw._io import atomic_write

    record = {"optimizer": args.optimizer, "fixed": fixed, "best": best, "metric": args.metric,
              "maximize": args.maximize}  # fmt: skip
    with atomic_write(Path(args.out) / "best.json") as file:
        json.dump(record, file, indent=1)


def cmd_sweep(args) -> int:
    import jaxopt_hw as jh
    from jaxopt_hw import plots

    problem, about = _problem(args)
    factory = optimizer_factory(args.optimizer)
    grid = _by_name("--grid", args.grid)
    fixed = _fixed_values(args, "--grid")
    metrics = ("final_loss",) + problem.eval_names
    if args.metric not in metrics:
        raise ValueError(
            f"--metric must be one of {', '.join(metrics)} for {problem.name}, got {args.metric!r}"
        )
    if args.out is not None:
        _output_folder(args.out, create=False)  # jh.sweep makes it once the arguments pass
    if about:
        print(about)
    res = jh.sweep(
        problem,
        factory,
        grid=grid,
        fixed=fixed,
        seeds=args.seeds,
        steps=args.steps,
        batch_size=args.batch_size,
        log_every=args.log_every or (None if args.data else 10),
        out=args.out,
        progress=not args.no_progress,
    )
    print(res.table(args.metric, limit=args.top, maximize=args.maximize))
    best = res.best_config(args.metric, maximize=args.maximize)
    print(f"best: {best}")
    names = res.config_names()
    if len(names) == 2 and args.out is not None:
        heat = (
            args.metric
            if args.metric != "final_loss" or problem.min_loss is None
            else "final_excess_loss"
        )
        plots.heatmap(
            res,
            names[0],
            names[1],
            metric=heat,
            path=Path(args.out) / "heatmap.png",
            title=f"{args.optimizer} on {problem.name}",
        )
    if args.out is not None:
        _write_best(args, fixed, best)
        print(
            f"saved {Path(args.out) / 'result.npz'} (rerun the same command to resume an interrupted sweep) "
            f"and {Path(args.out) / 'best.json'}"
        )
    return 0


def _dimension(text: str) -> tuple:
    """``"learning_rate=log:1e-5:1"`` → ``("learning_rate", jh.log_uniform(1e-5, 1))``;
    ``"b1=0.5:0.999"`` → a uniform; ``"nesterov=true,false"`` → a choice."""
    import jaxopt_hw as jh

    if "=" not in text:
        raise argparse.ArgumentTypeError(
            f"expected NAME=log:LOW:HIGH, NAME=LOW:HIGH or NAME=V1,V2,..., got {text!r}"
        )
    name, spec = (part.strip() for part in text.split("=", 1))
    try:
        if spec.startswith("log:"):
            low, high = (float(v) for v in spec[4:].split(":"))
            return name, jh.log_uniform(low, high)
        if ":" in spec:
            low, high = (float(v) for v in spec.split(":"))
            return name, jh.uniform(low, high)
        return name, jh.choice([_number(v) for v in spec.split(",") if v.strip()])
    except (ValueError, TypeError) as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None


def cmd_search(args) -> int:
    import jaxopt_hw as jh
    from jaxopt_hw import plots

    problem, about = _problem(args)
    factory = optimizer_factory(args.optimizer)
    space = dict(_by_name("--space", [(name, [dimension]) for name, dimension in args.space]))
    space = {name: dimensions[0] for name, dimensions in space.items()}
    fixed = _fixed_values(args, "--space")
    if args.out is not None:
        _output_folder(args.out, create=False)  # jh.search makes it once the arguments pass
    if about:
        print(about)
    found = jh.search(
        problem,
        factory,
        space,
        fixed=fixed,
        num_configs=args.num_configs,
        seeds=args.seeds,
        search_seed=args.search_seed,
        steps=args.steps,
        batch_size=args.batch_size,
        method=args.method,
        eta=args.eta,
        min_steps=args.min_steps,
        metric=args.metric,
        maximize=args.maximize,
        out=args.out,
        progress=not args.no_progress,
    )
    print(found.table(limit=args.top))
    best = found.best_config()
    print(f"best: {best}")
    if args.out is not None:
        _write_best(args, fixed, best)
        (Path(args.out) / "table.md").write_text(found.table(limit=None) + "\n")
        plots.rungs(
            found, path=Path(args.out) / "rungs.png", title=f"{args.optimizer} on {problem.name}"
        )
        print(
            f"saved {Path(args.out) / 'search.npz'}, best.json, table.md and rungs.png "
            "(rerun the same command to resume an interrupted search)"
        )
    return 0


# --------------------------------------------------------------------------- the parser


def _add_tuning_options(parser, steps_help: str) -> None:
    """The options ``sweep`` and ``search`` share: the optimizer, its fixed values, the
    training, what ranks the configs and how much to print."""
    parser.add_argument(
        "--optimizer",
        default="adam",
        help="one of " + ", ".join(OPTIMIZERS) + " or optax:NAME (default: adam)",
    )
    parser.add_argument(
        "--fixed",
        type=_assignment,
        action="append",
        metavar="NAME=VALUE",
        help="a hyperparameter held fixed, e.g. b2=0.999 (repeatable)",
    )
    parser.add_argument("--steps", type=_positive_int, default=1000, help=steps_help)
    parser.add_argument(
        "--batch-size", type=_positive_int, default=32, help="minibatch size (default 32)"
    )
    parser.add_argument(
        "--metric",
        default="final_loss",
        help="what ranks the configs: final_loss (default) or a held-out metric of --data "
        "(test_loss, test_accuracy)",
    )
    parser.add_argument(
        "--maximize", action="store_true", help="the highest --metric is best (test_accuracy)"
    )
    parser.add_argument(
        "--top", type=_positive_int, default=20, help="rows of the table to print (default 20)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _report_command(commands) -> None:
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
        type=_int_list,
        help="seeds, at least two, e.g. 0,1,2,3,4 (default: 5 seeds, 2 with --quick)",
    )
    report.add_argument("--no-progress", action="store_true", help="no progress bar")
    report.set_defaults(run=cmd_report)


def _compare_command(commands) -> None:
    """The ``compare`` command and its options."""
    compare = commands.add_parser(
        "compare",
        help="a few optimizers on one problem: convergence figures and a table",
        description="Train each optimizer with the same learning rate over several seeds and "
        "write OUT/convergence.png (and OUT/trajectories.png when d = 2) and "
        "OUT/compare.md.",
    )
    compare.add_argument(
        "--optimizers",
        type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
        default=["sgd", "momentum", "rmsprop", "adam"],
        help="comma-separated names (default: "
        "sgd,momentum,rmsprop,adam); any of " + ", ".join(OPTIMIZERS) + " or optax:NAME",
    )
    compare.add_argument(
        "--lr", type=float, default=1e-2, help="learning rate for all (default 0.01)"
    )
    compare.add_argument("--steps", type=_positive_int, default=1000, help="steps (default 1000)")
    compare.add_argument(
        "--batch-size", type=_positive_int, default=32, help="minibatch size (default 32)"
    )
    compare.add_argument("--seeds", type=_int_list, default=[0, 1, 2], help="seeds (default 0,1,2)")
    compare.add_argument("--out", default="compare", help="output folder (default ./compare)")
    _add_problem_options(compare)
    compare.set_defaults(run=cmd_compare)


def _sweep_command(commands) -> None:
    """The ``sweep`` command and its options."""
    sweep = commands.add_parser(
        "sweep",
        help="a hyperparameter grid × seeds in one compiled call",
        description="Sweep the Cartesian product of the --grid axes over --seeds; print a table "
        "sorted by final loss; with --out, save OUT/result.npz (resumable) and a "
        "heatmap when the grid has two axes.",
    )
    sweep.add_argument(
        "--grid",
        type=_assignment,
        action="append",
        required=True,
        metavar="NAME=V1,V2,...",
        help="an axis of the grid, e.g. learning_rate=1e-3,1e-2 (repeat for more axes)",
    )
    sweep.add_argument(
        "--log-every",
        type=_positive_int,
        help="log the metrics every k steps (default 10; every four epochs or so with --data)",
    )
    sweep.add_argument("--seeds", type=_int_list, default=[0, 1, 2], help="seeds (default 0,1,2)")
    sweep.add_argument("--out", help="folder for the saved (resumable) result and the heatmap")
    _add_tuning_options(sweep, steps_help="steps (default 1000)")
    _add_problem_options(sweep)
    sweep.set_defaults(run=cmd_sweep)


def _search_command(commands) -> None:
    """The ``search`` command and its options."""
    search = commands.add_parser(
        "search",
        help="random or successive-halving search, a rung a compiled call",
        description="Draw configs from a space (a scrambled Sobol sequence) and run successive "
        "halving over them (or train them all with --method random); print the "
        "table; with --out, save OUT/search.npz (resumable), OUT/best.json, "
        "OUT/table.md and OUT/rungs.png.",
    )
    search.add_argument(
        "--space",
        type=_dimension,
        action="append",
        required=True,
        metavar="NAME=SPEC",
        help="a dimension: NAME=log:LOW:HIGH (log-uniform), NAME=LOW:HIGH (uniform) or "
        "NAME=V1,V2,... (a choice); repeat for more",
    )
    search.add_argument(
        "--num-configs", type=_positive_int, default=81, help="configs drawn (default 81)"
    )
    search.add_argument(
        "--method", choices=("halving", "random"), default="halving", help="(default: halving)"
    )
    search.add_argument(
        "--eta", type=int, default=3, help="1/eta of the configs survive each rung (default 3)"
    )
    search.add_argument(
        "--min-steps", type=_positive_int, help="steps of the first rung (default: steps // 4)"
    )
    search.add_argument(
        "--seeds", type=_int_list, default=[0, 1], help="training seeds (default 0,1)"
    )
    search.add_argument(
        "--search-seed", type=int, default=0, help="seed of the drawn configs (default 0)"
    )
    search.add_argument(
        "--out", help="folder for the saved (resumable) search, best.json, the table and the figure"
    )
    _add_tuning_options(search, steps_help="steps of the last rung (default 1000)")
    _add_problem_options(search)
    search.set_defaults(run=cmd_search)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaxopt-hw",
        description="Compare first-order optimizers (GD, SGD, Momentum, RMSprop, Adam, ...) on least squares, "
        "with whole hyperparameter grids in one compiled JAX call.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="do not use JAX's persistent compilation cache"
    )
    parser.add_argument(
        "--cpu-devices",
        type=_positive_int,
        metavar="N",
        help="CPU cores JAX presents as devices, over which sweeps shard their configs "
        "(default: all cores, unless JAX_NUM_CPU_DEVICES is set; 1: one device)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _report_command(commands)
    _compare_command(commands)
    _sweep_command(commands)
    _search_command(commands)
    return parser


def main(argv=None) -> int:
    """The ``jaxopt-hw`` command; ``argv`` defaults to the command line. Called with an
    ``argv`` (from Python), it leaves JAX's devices as they are unless ``--cpu-devices``
    is given."""
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


if __name__ == "__main__":
    sys.exit(main())
