"""Checks of the arguments :func:`jaxopt_hw.run` and :func:`jaxopt_hw.sweep` share, before anything compiles."""

from __future__ import annotations

import math
import numbers
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxopt_hw.problems import Problem

#: Epochs of training between a user problem's logs by default (see :func:`default_log_every`).
LOG_EPOCHS = 4


def default_log_every(problem: Problem, steps, batch_size) -> int:
    """Steps between logs when none is asked for: 1, or for a problem whose loss takes
    batches (:func:`jaxopt_hw.problem`) the smallest divisor of ``steps`` of at least
    :data:`LOG_EPOCHS` epochs' steps: each log is a pass over the data (the loss and its
    gradient), about an epoch of training's cost, so the training dominates.

    Example:
      >>> import numpy as np, jaxopt_hw as jh
      >>> prob = jh.problem(lambda w, b: ((b @ w) ** 2).mean(), np.ones((100, 2)), np.zeros(2))
      >>> default_log_every(prob, steps=1000, batch_size=10)
      40
    """
    if not isinstance(problem, Problem) or not problem.full_loss_in_passes:
        return 1
    if type(steps) is not int or steps < 1:
        return 1  # a bad problem or steps is reported by check_run_args
    whole = (
        type(batch_size) is not int or batch_size < 1
    )  # the full batch, or a bad size reported later
    epoch = 1 if whole else -(-problem.n // batch_size)
    small = [k for k in range(1, math.isqrt(steps) + 1) if steps % k == 0]
    return min(
        k for k in small + [steps // k for k in small] if k >= min(LOG_EPOCHS * epoch, steps)
    )


def check_int(name: str, value, minimum: int = 1, maximum: Optional[int] = None) -> int:
    """``value`` as an int in ``[minimum, maximum]``, or a ValueError/TypeError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and <= {maximum}" if maximum is not None else ""
        raise ValueError(f"{name} must be >= {minimum}{upper}, got {value}")
    return int(value)


def check_number(name: str, value, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (≥ 0 with ``allow_zero``), or a ValueError/TypeError
    naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not (math.isfinite(value) and (value >= 0 if allow_zero else value > 0)):
        raise ValueError(
            f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {value!r}"
        )
    return float(value)


def check_metric_names(problem: Problem, hyperparameters) -> None:
    """Refuses a held-out metric named like one of ``hyperparameters``: a result's
    ``best()`` reports both in one dict, so one would hide the other."""
    clash = sorted(set(problem.eval_names) & set(hyperparameters))
    if clash:
        raise ValueError(
            f"the problem's held-out metric {clash[0]!r} has the name of a hyperparameter "
            "being tuned: rename the metric in its eval_fn"
        )


def check_run_args(problem, optimizer, steps, batch_size, log_every, divergence_factor):
    """Validates the arguments shared by :func:`run` and :func:`~jaxopt_hw.sweep`."""
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a jaxopt_hw Problem, got {type(problem).__name__}")
    if optimizer is not None and not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise TypeError(
            f"optimizer must be an optax GradientTransformation, got {type(optimizer).__name__}"
        )
    steps = check_int("steps", steps)
    log_every = check_int("log_every", log_every)
    if steps % log_every:
        raise ValueError(f"steps ({steps}) must be a multiple of log_every ({log_every})")
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, maximum=problem.n)
    check_number("divergence_factor", divergence_factor)
    return steps, batch_size, log_every


def check_init(problem: Problem, init):
    """``init`` as arrays, checked against the structure and shapes of the problem's own
    initial point (on the host: nothing is compiled before the checks pass)."""
    reference = problem.initial_params(0)

    def host(value):
        array = np.asarray(value)
        if not (
            np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
        ) or np.iscomplexobj(array):
            raise TypeError(f"init must hold real numbers, got dtype {array.dtype}")
        return array

    try:  # a single-array problem also takes a list or tuple of numbers
        if jax.tree_util.treedef_is_leaf(jax.tree.structure(reference)):
            leaves = host(init)
        else:
            leaves = jax.tree.map(host, init)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"init must be a pytree of arrays, got {type(init).__name__}: {error}"
        ) from error
    if jax.tree.structure(leaves) != jax.tree.structure(reference):
        raise TypeError(
            f"init must have the structure {jax.tree.structure(reference)}, got "
            f"{jax.tree.structure(leaves)}"
        )
    for got, want in zip(jax.tree.leaves(leaves), jax.tree.leaves(reference)):
        if got.shape != want.shape:
            raise ValueError(f"init has a leaf of shape {got.shape} where {want.shape} is expected")
    with np.errstate(over="ignore"):  # a value past the problem's dtype becomes inf, refused below
        cast = [
            got.astype(want.dtype)
            for got, want in zip(jax.tree.leaves(leaves), jax.tree.leaves(reference))
        ]
    if not all(np.all(np.isfinite(leaf)) for leaf in cast):
        raise ValueError(
            f"init contains NaN or inf (or values beyond {jax.tree.leaves(reference)[0].dtype})"
        )
    return jax.tree.unflatten(jax.tree.structure(reference), [jnp.asarray(leaf) for leaf in cast])


def check_seed(seed) -> int:
    # the documented range of a seed (see run's docstring)
    return check_int("seed", seed, minimum=0, maximum=2**32 - 1)
