"""A small classifier on real data: a tanh MLP through :func:`jaxopt_hw.problem`, and
scikit-learn's bundled digits split into training and held-out rows.

scikit-learn is an optional extra (``pip install -e ".[examples]"``); only
:func:`load_digits_split` needs it.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxopt_hw.user_problem import problem

__all__ = ["mlp_classifier", "load_digits_split", "MlpClassifierInit"]


def mlp_logits(params, x):
    """Logits of a one-hidden-layer tanh network: ``tanh(x W₁ + b₁) W₂ + b₂``."""
    hidden = jnp.tanh(x @ params["hidden"]["w"] + params["hidden"]["b"])
    return hidden @ params["out"]["w"] + params["out"]["b"]


def cross_entropy(params, batch):
    r"""Mean cross-entropy :math:`\frac1B\sum_i \mathrm{logsumexp}(z_i) - z_{i,y_i}` of the batch."""
    logits = mlp_logits(params, batch["x"])
    picked = jnp.take_along_axis(logits, batch["y"][:, None], axis=1)[:, 0]
    return jnp.mean(jax.nn.logsumexp(logits, axis=-1) - picked)


def held_out_metrics(params, rows):
    """Accuracy and mean cross-entropy on held-out rows."""
    logits = mlp_logits(params, rows["x"])
    return {
        "accuracy": jnp.mean(jnp.argmax(logits, axis=-1) == rows["y"]),
        "test_loss": cross_entropy(params, rows),
    }


@dataclasses.dataclass(frozen=True)
class MlpClassifierInit:
    """``seed ->`` the network's parameters: normal weights scaled by ``1/√fan-in``, zero biases."""

    features: int
    hidden: int
    classes: int

    def __call__(self, seed: int):
        rng = np.random.default_rng([0x4D4C50, seed])
        return {
            "hidden": {
                "w": (
                    rng.standard_normal((self.features, self.hidden)) / np.sqrt(self.features)
                ).astype(np.float32),
                "b": np.zeros(self.hidden, np.float32),
            },
            "out": {
                "w": (
                    rng.standard_normal((self.hidden, self.classes)) / np.sqrt(self.hidden)
                ).astype(np.float32),
                "b": np.zeros(self.classes, np.float32),
            },
        }


def mlp_classifier(x, y, *, hidden: int = 32, test_x=None, test_y=None, name: Optional[str] = None):
    """A tanh MLP classifier over ``x (n, features)`` and integer labels ``y`` as a
    :func:`jaxopt_hw.problem`, with held-out ``accuracy`` and ``test_loss`` when
    ``test_x, test_y`` are given.

    Example:
      >>> import numpy as np
      >>> from jaxopt_hw.models import mlp_classifier
      >>> rng = np.random.default_rng(0)
      >>> prob = mlp_classifier(rng.normal(size=(50, 4)), rng.integers(0, 3, 50), hidden=8)
      >>> sorted(prob.init_params(0))
      ['hidden', 'out']
    """
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer) or y.ndim != 1 or y.size == 0 or y.min() < 0:
        raise ValueError(f"y must be non-empty 1-D integer labels 0..C-1, got {y.dtype} {y.shape}")
    classes = int(y.max()) + 1 if test_y is None else int(max(y.max(), np.max(test_y))) + 1
    init = MlpClassifierInit(np.shape(x)[1], hidden, classes)
    held_out = None if test_x is None else {"x": test_x, "y": np.asarray(test_y, np.int32)}
    return problem(
        cross_entropy,
        {"x": x, "y": y.astype(np.int32)},
        init,
        name=name or f"mlp({hidden})",
        eval_fn=None if held_out is None else held_out_metrics,
        eval_data=held_out,
    )


def load_digits_split(test_fraction: float = 0.2, seed: int = 0) -> tuple:
    """scikit-learn's digits (1 797 images of 8 × 8 pixels, 10 classes), pixels scaled to
    [0, 1], split by a seeded shuffle: ``(x_train, y_train, x_test, y_test)``."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:  # an optional extra
        raise ImportError(
            'the digits come with scikit-learn: pip install -e ".[examples]"'
        ) from error
    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    n_test = round(test_fraction * len(order))
    x = (digits.data / 16.0).astype(np.float32)
    test, train = order[:n_test], order[n_test:]
    return x[train], digits.target[train], x[test], digits.target[test]
