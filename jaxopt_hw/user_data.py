"""A user's table (``.csv`` or ``.npz``) as a problem with held-out rows, for the command line.

``table_problem(path, target, model)`` reads the feature columns and the ``target`` column,
holds out a seeded fraction of the rows, standardizes the features by the training rows'
mean and spread, and builds :func:`~jaxopt_hw.problems.least_squares`,
:func:`~jaxopt_hw.problems.binary_logistic` or :func:`~jaxopt_hw.problems.softmax_regression`
on the training rows, with its loss (and, for the classifiers, its accuracy) on the
held-out rows logged beside it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from jaxopt_hw import problems
from jaxopt_hw.user_problem import with_held_out

__all__ = ["MODELS", "read_table", "split_rows", "table_problem"]

#: Models the command line fits to a table.
MODELS = ("least_squares", "binary_logistic", "softmax_regression")


def _csv_columns(path: Path) -> dict:
    with open(path, newline="") as file:
        rows = [row for row in csv.reader(file) if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise ValueError(f"--data {path} has no rows under a header line")
    header, body = [name.strip() for name in rows[0]], rows[1:]
    values = np.empty((len(body), len(header)))
    for i, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(
                f"--data {path}: line {i} has {len(row)} values, the header {len(header)}"
            )
        for j, cell in enumerate(row):
            try:
                values[i - 2, j] = float(cell)
            except ValueError:
                raise ValueError(
                    f"--data {path}: line {i}, column {header[j]!r} holds {cell!r}, not a number"
                ) from None
    return {name: values[:, j] for j, name in enumerate(header)}


def _npz_columns(path: Path) -> dict:
    columns = {}
    with np.load(path, allow_pickle=False) as stored:
        for key in stored.files:
            array = stored[key]
            if not (
                np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
            ) or array.ndim not in (1, 2):
                raise ValueError(
                    f"--data {path}: array {key!r} must be 1-D or 2-D numbers, got {array.dtype} "
                    f"{array.shape}"
                )
            if array.ndim == 1:
                columns[key] = array.astype(np.float64)
            else:
                columns.update(
                    {f"{key}[{j}]": array[:, j].astype(np.float64) for j in range(array.shape[1])}
                )
    if not columns or not min(len(column) for column in columns.values()):
        raise ValueError(f"--data {path} holds no rows")
    return columns


def read_table(path, target: str) -> tuple:
    """``(X, y, feature names)`` from a ``.csv`` with a header line or an ``.npz`` of 1-D
    columns (a 2-D array ``A`` gives the columns ``A[0]``, ``A[1]``, …); ``y`` is the
    column ``target``, ``X`` every other one. A missing column, a value that is not a
    finite number or an empty file: one ``ValueError`` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"--data {path}: no such file")
    readers = {".csv": _csv_columns, ".npz": _npz_columns}
    if path.suffix.lower() not in readers:
        raise ValueError(f"--data {path}: expected a .csv or .npz file")
    columns = readers[path.suffix.lower()](path)
    if target not in columns:
        raise ValueError(
            f"--data {path} has no column {target!r}; its columns: {', '.join(columns)}"
        )
    if len({len(column) for column in columns.values()}) > 1:
        raise ValueError(f"--data {path}: its columns have different lengths")
    _check_finite(path, columns)
    y = columns.pop(target)
    if not columns:
        raise ValueError(f"--data {path} has no feature column besides {target!r}")
    return np.column_stack(list(columns.values())), y, list(columns)


def _check_finite(path: Path, columns: dict) -> None:
    """Refuses a NaN or inf, naming its column and line (row of an ``.npz``): standardizing
    would spread it over every row."""
    for name, column in columns.items():
        bad = np.flatnonzero(~np.isfinite(column))
        if bad.size:
            where = f"line {bad[0] + 2}" if path.suffix.lower() == ".csv" else f"row {bad[0]}"
            raise ValueError(
                f"--data {path}: {where}, column {name!r} holds {column[bad[0]]}, not a finite "
                "number; drop or fill such rows"
            )


def split_rows(n: int, test_fraction: float, seed: int) -> tuple:
    """Training and held-out row indices: a seeded shuffle, ``round(test_fraction · n)`` held out."""
    if not 0 <= test_fraction < 1:
        raise ValueError(f"--test-fraction must lie in [0, 1), got {test_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_test = round(test_fraction * n)
    if test_fraction and not 0 < n_test < n:
        raise ValueError(
            f"--test-fraction {test_fraction} of {n} rows leaves no training or no held-out row"
        )
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def table_problem(
    path, target: str, model: str, test_fraction: float = 0.2, seed: int = 0, l2: float = 0.0
):
    """The problem ``model`` over a table's training rows (intercept fitted, features
    standardized), with held-out metrics on the rest: ``test_loss`` and, for the
    classifiers, ``test_accuracy``.

    Returns:
      The problem and a one-line description of the data and the split."""
    if model not in MODELS:
        raise ValueError(f"--model must be one of {', '.join(MODELS)}, got {model!r}")
    X, y, names = read_table(path, target)
    train, test = split_rows(len(y), test_fraction, seed)
    mean, spread = X[train].mean(axis=0), X[train].std(axis=0)
    X = (X - mean) / np.where(spread > 0, spread, 1.0)
    kwargs = {} if model == "least_squares" else {"l2": l2}
    label = f"{model}({Path(path).name}: {target})"
    prob = getattr(problems, model)(
        X[train], _labels(y[train], model), fit_intercept=True, name=label, **kwargs
    )
    about = (
        f"{Path(path).name}: {len(y)} rows × {len(names)} features, target {target!r}; "
        f"{len(train)} training rows, {len(test)} held out; features standardized"
    )
    if not len(test):
        return prob, about
    held_out = {"X": np.column_stack([X[test], np.ones(len(test))]), "y": _labels(y[test], model)}

    def evaluate(params, rows):
        loss = prob.loss_fn(params, rows)
        if model == "least_squares":
            return {"test_loss": loss}
        return {
            "test_loss": loss,
            "test_accuracy": 1.0 - prob.error_fn(params, rows),
        }

    return with_held_out(prob, evaluate, held_out), about


def _labels(y: np.ndarray, model: str) -> np.ndarray:
    """Targets as the model takes them: floats, or whole-number class labels as ints."""
    if model == "least_squares" or not np.all(y == np.round(y)):
        return y  # a fractional label is refused by the model, naming y
    return y.astype(jnp.int32)
