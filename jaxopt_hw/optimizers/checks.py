"""Eager checks of hyperparameters, each error naming the argument and the value.

Python numbers and concrete arrays are checked before anything is traced or compiled; a
traced JAX scalar is only checked for its type and shape, since its value is not known yet.
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


def known_value(value):
    """``value`` as a Python float when it is known before tracing (a number, or a NumPy
    or JAX scalar array that is not traced); else ``None``."""
    if is_python_number(value):
        return float(value)
    if isinstance(value, jax.core.Tracer) or not isinstance(value, (np.ndarray, jax.Array)):
        return None
    return float(value)


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
    if np.shape(value) != ():
        raise TypeError(f"{name} must be a scalar, got an array of shape {np.shape(value)}")


def check_learning_rate(learning_rate) -> None:
    """Refuses a learning rate that is negative or not finite; a schedule passes."""
    if callable(learning_rate):
        return
    check_number_type("learning_rate", learning_rate, "a number, a JAX scalar or a schedule")
    known = known_value(learning_rate)
    if known is not None:
        if not math.isfinite(known):
            raise ValueError(f"learning_rate must be finite, got {learning_rate!r}")
        if known < 0:
            raise ValueError(f"learning_rate must be >= 0, got {learning_rate!r}")


def check_decay(name: str, value) -> None:
    """Refuses a decay rate outside ``[0, 1)``."""
    check_number_type(name, value)
    known = known_value(value)
    if known is not None and not 0.0 <= known < 1.0:
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")


def check_nonnegative(name: str, value) -> None:
    """Refuses a negative or non-finite number."""
    check_number_type(name, value)
    known = known_value(value)
    if known is not None and not (known >= 0 and math.isfinite(known)):
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
    known = known_value(value)
    if known is not None and not (known > 0 and math.isfinite(known)):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")


def check_positive_int(name, value):
    """Refuses what is not an int > 0 (a bool included)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
