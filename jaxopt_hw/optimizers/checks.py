"""Eager checks of hyperparameters, each error naming the argument and the value.

Python numbers are checked before anything is traced or compiled; a JAX scalar (perhaps
traced) is only checked for its type, since its value may not be known yet.
"""

from __future__ import annotations

import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np


def is_python_number(value) -> bool:
    """Whether ``value`` is a real Python (or NumPy scalar) number and not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_number_type(name: str, value, what: str = "a number or a JAX scalar") -> None:
    """Refuses what is neither a real number nor a numeric array, a traced value included.

    ``None``, a string, a list and a bool are refused (``b1=True`` would run with β = 1).
    """
    if isinstance(value, (np.ndarray, np.generic, jax.Array)):
        numeric = jnp.issubdtype(value.dtype, jnp.number) and not jnp.issubdtype(
            value.dtype, jnp.complexfloating
        )
    else:
        numeric = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not numeric:
        kind = (
            type(value).__name__
            if not hasattr(value, "dtype")
            else f"{type(value).__name__} of {value.dtype}"
        )
        raise TypeError(f"{name} must be {what}, got {kind}")


def check_learning_rate(learning_rate) -> None:
    """Refuses a learning rate that is negative or not finite; a schedule passes."""
    if callable(learning_rate):
        return
    check_number_type("learning_rate", learning_rate, "a number, a JAX scalar or a schedule")
    if is_python_number(learning_rate):
        if not math.isfinite(learning_rate):
            raise ValueError(f"learning_rate must be finite, got {learning_rate!r}")
        if learning_rate < 0:
            raise ValueError(f"learning_rate must be >= 0, got {learning_rate!r}")


def check_decay(name: str, value) -> None:
    """Refuses a decay rate outside ``[0, 1)``."""
    check_number_type(name, value)
    if is_python_number(value) and not (0.0 <= value < 1.0 and math.isfinite(value)):
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")


def check_nonnegative(name: str, value) -> None:
    """Refuses a negative or non-finite number."""
    check_number_type(name, value)
    if is_python_number(value) and not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")


def check_adam(learning_rate, b1, b2, eps, eps_root):
    """Checks the hyperparameters Adam, AdamW and AMSGrad share."""
    check_learning_rate(learning_rate)
    check_decay("b1", b1)
    check_decay("b2", b2)
    check_nonnegative("eps", eps)
    check_nonnegative("eps_root", eps_root)


def check_positive_number(name, value):
    """Refuses a number that is not finite and > 0."""
    check_number_type(name, value)
    if is_python_number(value) and not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")


def check_positive_int(name, value):
    """Refuses what is not an int > 0 (a bool included)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
