"""scikit-learn's bundled data sets as problems with held-out rows: a fixed train/test split.

scikit-learn is an optional extra (``pip install -e ".[examples]"``): :func:`available`
tells whether it is installed, and only :func:`build` imports it.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

import jaxopt_hw as jh
from jaxopt_hw.models import load_digits_split, mlp_classifier
from jaxopt_hw.user_problem import with_held_out

__all__ = ["Spec", "SPECS", "INSTALL", "available", "build", "Built"]

#: What the report tells a reader without scikit-learn.
INSTALL = 'pip install -e ".[examples]"'
TEST_FRACTION = 0.2
#: the split's shuffle is fixed: every method and seed trains on the same rows
SPLIT_SEED = 0


@dataclasses.dataclass(frozen=True)
class Spec:
    """One data set and model: its fact key, its label, the model, its ridge strength or
    hidden width, and the steps of the full run."""

    key: str
    label: str
    model: str
    steps: int
    l2: float = 0.0
    hidden: int = 0


#: the digits get fewer steps: a full-batch step of theirs costs the most
SPECS = (
    Spec("diabetes", "diabetes", "least squares", steps=2000),
    Spec("cancer", "breast cancer", "logistic", steps=2000, l2=1e-3),
    Spec("digits", "digits", "softmax", steps=1000, l2=1e-2),
    Spec("digits_mlp", "digits MLP", "MLP", steps=1000, hidden=16),
)


@dataclasses.dataclass(frozen=True)
class Built:
    """A data set's problem (held-out metrics as its ``eval_fn``) and the split's sizes."""

    problem: jh.Problem
    n_train: int
    n_test: int
    features: int


def available() -> bool:
    """Whether scikit-learn (the optional extra) can be imported."""
    try:
        import sklearn.datasets  # noqa: F401
    except ImportError:
        return False
    return True


def _split(x, y) -> tuple:
    """``(x_train, y_train, x_test, y_test)`` by the fixed seeded shuffle."""
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    n_test = round(TEST_FRACTION * len(order))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def _standardized(x_train, x_test) -> tuple:
    """Both scaled by the training rows' means and standard deviations."""
    mean, scale = x_train.mean(axis=0), x_train.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    return (x_train - mean) / scale, (x_test - mean) / scale


def _with_ones(x):
    """The test rows as the problems store the training rows with an intercept."""
    return np.hstack([x, np.ones((len(x), 1))]).astype(np.float32)


def squared_error(w, rows):
    """Held-out mean squared error."""
    return {"test_loss": jnp.mean((rows["X"] @ w - rows["y"]) ** 2)}


def logistic_metrics(w, rows):
    """Held-out mean log-loss (no ridge term) and accuracy of a binary classifier."""
    z = rows["X"] @ w
    return {
        "accuracy": jnp.mean((z > 0) == (rows["y"] > 0.5)),
        "test_loss": jnp.mean(jax.nn.softplus((1.0 - 2.0 * rows["y"]) * z)),
    }


def softmax_metrics(W, rows):
    """Held-out mean cross-entropy (no ridge term) and accuracy of a softmax classifier."""
    logits = rows["X"] @ W
    picked = jnp.take_along_axis(logits, rows["y"][:, None], axis=1)[:, 0]
    return {
        "accuracy": jnp.mean(jnp.argmax(logits, axis=-1) == rows["y"]),
        "test_loss": jnp.mean(jax.nn.logsumexp(logits, axis=-1) - picked),
    }


def _tabular(spec: Spec, loader) -> tuple:
    """A linear model's problem on a standardized table, with its held-out metrics."""
    table = loader()
    x_train, y_train, x_test, y_test = _split(table.data, table.target)
    x_train, x_test = _standardized(x_train, x_test)
    if spec.model == "least squares":
        prob = jh.least_squares(x_train, y_train, fit_intercept=True, name=spec.label)
        return prob, squared_error, {"X": _with_ones(x_test), "y": y_test.astype(np.float32)}
    prob = jh.binary_logistic(x_train, y_train, l2=spec.l2, fit_intercept=True, name=spec.label)
    return prob, logistic_metrics, {"X": _with_ones(x_test), "y": y_test.astype(np.float32)}


def build(spec: Spec) -> Optional[Built]:
    """The problem of ``spec`` with its held-out metrics; needs scikit-learn."""
    from sklearn.datasets import load_breast_cancer, load_diabetes

    if spec.model in ("least squares", "logistic"):
        loader = load_diabetes if spec.model == "least squares" else load_breast_cancer
        prob, metrics_fn, rows = _tabular(spec, loader)
        prob = with_held_out(prob, metrics_fn, rows)
        return Built(prob, prob.n, len(rows["y"]), prob.X.shape[1] - 1)
    x_train, y_train, x_test, y_test = load_digits_split(TEST_FRACTION, SPLIT_SEED)
    if spec.model == "MLP":
        prob = mlp_classifier(
            x_train, y_train, hidden=spec.hidden, test_x=x_test, test_y=y_test, name=spec.label
        )
    else:
        prob = jh.softmax_regression(
            x_train, y_train, l2=spec.l2, fit_intercept=True, name=spec.label
        )
        rows = {"X": _with_ones(x_test), "y": np.asarray(y_test, np.int32)}
        prob = with_held_out(prob, softmax_metrics, rows)
    return Built(prob, len(y_train), len(y_test), x_train.shape[1])
