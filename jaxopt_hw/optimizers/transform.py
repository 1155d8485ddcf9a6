"""Leaf-wise arithmetic the optimizers share: moments, bias correction, the descent step.

Every function maps over a pytree and keeps each leaf in its own dtype; hyperparameters are
cast to the leaf's dtype so that a Python float and a JAX scalar give bitwise the same result.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxopt_hw.optimizers.base import ScalarOrSchedule


def tree_zeros_like(tree):
    """A pytree of zeros shaped like ``tree``, leaf by leaf."""
    return jax.tree.map(jnp.zeros_like, tree)


def cast(hyperparameter, leaf):
    """Returns a hyperparameter in the dtype of ``leaf``.

    A Python float and a traced JAX scalar of the same value then give bitwise the same
    arithmetic (``1 - 0.9`` rounded from float64 differs from ``1 - 0.9f`` in float32).
    """
    return jnp.asarray(hyperparameter, dtype=jnp.asarray(leaf).dtype)


def cast_wide(hyperparameter, leaf):
    """Returns a hyperparameter in the dtype of ``leaf``, widened to at least float32.

    For arithmetic on hyperparameters alone: in float16 / bfloat16, ``0.999`` rounds to ``1``.
    """
    dtype = jnp.promote_types(jnp.asarray(leaf).dtype, jnp.float32)
    return jnp.asarray(hyperparameter, dtype=dtype)


def ema(moment, value, decay):
    r"""Updates an exponential moving average leaf by leaf, in optax's order of terms.

    .. math:: m \leftarrow (1-\beta)\,x + \beta\,m
    """

    def average(x, m):
        # 1 - beta in at least float32: beta = 0.999 rounds to 1 in bfloat16, which would
        # freeze the average.
        beta = cast_wide(decay, x)
        return (1 - beta).astype(x.dtype) * x + beta.astype(x.dtype) * m

    return jax.tree.map(average, value, moment)


def bias_corrected(moment, decay, count):
    r"""Divides a moment by its bias, :math:`\hat m = m / (1 - \beta^t)`, for a count t ≥ 1."""

    def corrected(m):
        # 1 - beta^t in at least float32, then in the moment's dtype (as optax): in
        # bfloat16, beta = 0.999 rounds to 1 and 1 - beta^t would be 0.
        correction = 1 - cast_wide(decay, m) ** count
        return m / correction.astype(m.dtype)

    return jax.tree.map(corrected, moment)


def safe_increment(count):
    """Adds one to the step count, saturating at the int32 maximum instead of wrapping."""
    return jnp.where(count < jnp.iinfo(jnp.int32).max, count + 1, count)


def learning_rate_at(learning_rate: ScalarOrSchedule, count):
    """The learning rate at step ``count``: a schedule evaluated there, else the number."""
    return learning_rate(count) if callable(learning_rate) else learning_rate


def descent(direction, learning_rate: ScalarOrSchedule, count):
    r"""The update :math:`u = -\alpha_t\,d`, each leaf in the dtype of its direction."""
    step_size = learning_rate_at(learning_rate, count)
    return jax.tree.map(lambda d: -cast(step_size, d) * d, direction)


def initial_count():
    """The step count of a fresh state: an int32 zero."""
    return jnp.zeros([], jnp.int32)


def adam_moments(grads, state, b1, b2):
    """Returns Adam's moments, the step count t ≥ 1 and the bias-corrected moments."""
    mu = ema(state.mu, grads, b1)
    nu = ema(state.nu, jax.tree.map(jnp.square, grads), b2)
    count = safe_increment(state.count)
    return mu, nu, count, bias_corrected(mu, b1, count), bias_corrected(nu, b2, count)


def adam_direction(mu_hat, nu_hat, eps, eps_root):
    """Adam's direction, the first moment over the root of the second plus the epsilons."""
    return jax.tree.map(
        lambda m, v: m / (jnp.sqrt(v + cast(eps_root, v)) + cast(eps, v)), mu_hat, nu_hat
    )
