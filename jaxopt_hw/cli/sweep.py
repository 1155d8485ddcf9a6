"""``jaxopt-hw sweep``: a hyperparameter grid over seeds in one compiled call."""

from __future__ import annotations

from pathlib import Path

from jaxopt_hw.cli.options import (
    add_problem_options,
    add_tuning_options,
    optimizer_factory,
    output_folder,
    problem_from_args,
    write_best,
)
from jaxopt_hw.cli.parsing import assignment, by_name, fixed_values, int_list, positive_int


def cmd_sweep(args) -> int:
    """Runs ``jaxopt-hw sweep``: prints the table and saves the result, best.json, a heatmap."""
    import jaxopt_hw as jh
    from jaxopt_hw import plots

    problem, about = problem_from_args(args)
    factory = optimizer_factory(args.optimizer)
    grid = by_name("--grid", args.grid)
    fixed = fixed_values(args, "--grid")
    metrics = ("final_loss",) + problem.eval_names
    if args.metric not in metrics:
        raise ValueError(
            f"--metric must be one of {', '.join(metrics)} for {problem.name}, got {args.metric!r}"
        )
    if args.out is not None:
        output_folder(args.out, create=False)  # jh.sweep makes it once the arguments pass
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
        write_best(args, fixed, best)
        print(
            f"saved {Path(args.out) / 'result.npz'} "
            "(rerun the same command to resume an interrupted sweep) "
            f"and {Path(args.out) / 'best.json'}"
        )
    return 0


def add_sweep_command(commands) -> None:
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
        type=assignment,
        action="append",
        required=True,
        metavar="NAME=V1,V2,...",
        help="an axis of the grid, e.g. learning_rate=1e-3,1e-2 (repeat for more axes)",
    )
    sweep.add_argument(
        "--log-every",
        type=positive_int,
        help="log the metrics every k steps (default 10; every four epochs or so with --data)",
    )
    sweep.add_argument("--seeds", type=int_list, default=[0, 1, 2], help="seeds (default 0,1,2)")
    sweep.add_argument("--out", help="folder for the saved (resumable) result and the heatmap")
    add_tuning_options(sweep, steps_help="steps (default 1000)")
    add_problem_options(sweep)
    sweep.set_defaults(run=cmd_sweep)
