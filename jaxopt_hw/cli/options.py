"""What the subcommands share: the optimizer and problem options, the output folder."""

from __future__ import annotations

from pathlib import Path

from jaxopt_hw.cli.parsing import assignment, positive_int

__all__ = [
    "OPTIMIZERS",
    "optimizer_factory",
    "problem_from_args",
    "add_problem_options",
    "add_tuning_options",
    "output_folder",
    "write_best",
]


#: Optimizer names the command line accepts (``optax:NAME`` reaches any optax alias).
OPTIMIZERS = ("sgd", "momentum", "heavy_ball", "rmsprop", "adam", "adamw", "amsgrad", "adagrad")


def optimizer_factory(name: str):
    """Returns the factory ``name`` names: one of :data:`OPTIMIZERS` or ``optax:ALIAS``."""
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


def problem_from_args(args):
    """Returns the problem the options name, and a line about it (or ``None``)."""
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


def add_problem_options(parser):
    """Adds the options that name the problem: the homework's sizes or the user's table."""
    group = parser.add_argument_group("problem (least squares, the homework's recipe)")
    group.add_argument(
        "--problem",
        choices=("small", "medium", "large"),
        help="the homework's sizes: small (500, 2), medium (10 000, 5), large (150 000, 7) "
        "(default: medium)",
    )
    group.add_argument("--n", type=positive_int, help="rows (with --d, instead of --problem)")
    group.add_argument("--d", type=positive_int, help="features (with --n)")
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


def add_tuning_options(parser, steps_help: str) -> None:
    """Adds the options ``sweep`` and ``search`` share.

    They name the optimizer, its fixed values, the training, what ranks the configs and
    how much to print.
    """
    parser.add_argument(
        "--optimizer",
        default="adam",
        help="one of " + ", ".join(OPTIMIZERS) + " or optax:NAME (default: adam)",
    )
    parser.add_argument(
        "--fixed",
        type=assignment,
        action="append",
        metavar="NAME=VALUE",
        help="a hyperparameter held fixed, e.g. b2=0.999 (repeatable)",
    )
    parser.add_argument("--steps", type=positive_int, default=1000, help=steps_help)
    parser.add_argument(
        "--batch-size", type=positive_int, default=32, help="minibatch size (default 32)"
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
        "--top", type=positive_int, default=20, help="rows of the table to print (default 20)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def output_folder(path, create: bool = True) -> Path:
    """Returns ``path`` as a folder to write into, refused when a file is in the way.

    The folder is created unless ``create`` is false.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out {path} is a file, not a folder")
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def write_best(args, fixed: dict, best: dict) -> None:
    """Writes ``OUT/best.json`` atomically: the best config and how it was chosen.

    ``factory(**fixed, **best)`` rebuilds its optimizer.
    """
    import json

    from jaxopt_hw._io import atomic_write

    record = {"optimizer": args.optimizer, "fixed": fixed, "best": best, "metric": args.metric,
              "maximize": args.maximize}  # fmt: skip
    with atomic_write(Path(args.out) / "best.json") as file:
        json.dump(record, file, indent=1)
