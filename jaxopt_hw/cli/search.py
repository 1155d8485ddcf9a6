"""``jaxopt-hw search``: random or successive-halving search over a space of configs."""

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
from jaxopt_hw.cli.parsing import by_name, dimension, fixed_values, int_list, positive_int


def cmd_search(args) -> int:
    """Runs ``jaxopt-hw search``: prints the table and saves the search, best.json, a figure."""
    import jaxopt_hw as jh
    from jaxopt_hw import plots

    problem, about = problem_from_args(args)
    factory = optimizer_factory(args.optimizer)
    space = dict(by_name("--space", [(name, [dimension]) for name, dimension in args.space]))
    space = {name: dimensions[0] for name, dimensions in space.items()}
    fixed = fixed_values(args, "--space")
    if args.out is not None:
        output_folder(args.out, create=False)  # jh.search makes it once the arguments pass
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
        write_best(args, fixed, best)
        (Path(args.out) / "table.md").write_text(found.table(limit=None) + "\n")
        plots.rungs(
            found, path=Path(args.out) / "rungs.png", title=f"{args.optimizer} on {problem.name}"
        )
        print(
            f"saved {Path(args.out) / 'search.npz'}, best.json, table.md and rungs.png "
            "(rerun the same command to resume an interrupted search)"
        )
    return 0


def add_search_command(commands) -> None:
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
        type=dimension,
        action="append",
        required=True,
        metavar="NAME=SPEC",
        help="a dimension: NAME=log:LOW:HIGH (log-uniform), NAME=LOW:HIGH (uniform) or "
        "NAME=V1,V2,... (a choice); repeat for more",
    )
    search.add_argument(
        "--num-configs", type=positive_int, default=81, help="configs drawn (default 81)"
    )
    search.add_argument(
        "--method", choices=("halving", "random"), default="halving", help="(default: halving)"
    )
    search.add_argument(
        "--eta", type=int, default=3, help="1/eta of the configs survive each rung (default 3)"
    )
    search.add_argument(
        "--min-steps", type=positive_int, help="steps of the first rung (default: steps // 4)"
    )
    search.add_argument(
        "--seeds", type=int_list, default=[0, 1], help="training seeds (default 0,1)"
    )
    search.add_argument(
        "--search-seed", type=int, default=0, help="seed of the drawn configs (default 0)"
    )
    search.add_argument(
        "--out", help="folder for the saved (resumable) search, best.json, the table and the figure"
    )
    add_tuning_options(search, steps_help="steps of the last rung (default 1000)")
    add_problem_options(search)
    search.set_defaults(run=cmd_search)
