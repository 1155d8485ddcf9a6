"""The types the optimizers share and :func:`apply_updates`."""

from __future__ import annotations

from typing import Any, Callable, Union

import jax
import jax.numpy as jnp

Schedule = Callable[[jax.Array], jax.Array]
ScalarOrSchedule = Union[float, jax.Array, Schedule]
Params = Any
Updates = Any


def apply_updates(params: Params, updates: Updates) -> Params:
    r"""Adds ``updates`` to ``params``: :math:`w \leftarrow w + u`.

    Each leaf keeps the dtype of its parameter (as :func:`optax.apply_updates`).

    Args:
      params: a pytree of arrays.
      updates: a pytree of the same structure, as returned by an ``update`` function.

    Returns:
      The updated parameters.

    Example:
      >>> import jax.numpy as jnp, jaxopt_hw as jh
      >>> jh.apply_updates({"w": jnp.ones(2)}, {"w": jnp.full(2, -0.5)})["w"]
      Array([0.5, 0.5], dtype=float32)
    """
    return jax.tree.map(lambda w, u: (w + u).astype(jnp.asarray(w).dtype), params, updates)
