"""``jaxopt-hw compare``: a few optimizers on one problem, with figures and a table."""

from __future__ import annotations

from jaxopt_hw.cli.options import (
    OPTIMIZERS,
    add_problem_options,
    optimizer_factory,
    output_folder,
    problem_from_args,
)
from jaxopt_hw.cli.parsing import int_list, positive_int


def cmd_compare(args) -> int:
    """Runs ``jaxopt-hw compare``: trains each optimizer, writes the figures and the table."""
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
    problem, about = problem_from_args(args)
    out = output_folder(args.out, create=False)  # made below, once the sweeps have run
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
        rows.append(compare_row(name, res.sel(learning_rate=args.lr), known_optimum))
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
    output_folder(out)
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


def compare_row(name: str, res, known_optimum: bool) -> str:
    """Returns one optimizer's row of the comparison table.

    The row holds its final loss (excess loss where the optimum is known) and held-out
    metrics over seeds, its median steps to tol and its divergences.
    """
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


def add_compare_command(commands) -> None:
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
    compare.add_argument("--steps", type=positive_int, default=1000, help="steps (default 1000)")
    compare.add_argument(
        "--batch-size", type=positive_int, default=32, help="minibatch size (default 32)"
    )
    compare.add_argument("--seeds", type=int_list, default=[0, 1, 2], help="seeds (default 0,1,2)")
    compare.add_argument("--out", default="compare", help="output folder (default ./compare)")
    add_problem_options(compare)
    compare.set_defaults(run=cmd_compare)
