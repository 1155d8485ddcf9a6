"""The plain optax loop the optimizer tests compare against (shared by their files)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


def scanned_trajectories(txs, params, grad, steps: int) -> list:
    """The parameters after each of ``steps`` steps of every transformation in ``txs``,
    from ``params`` (``grad(params, t)`` the gradient at step ``t``; updates applied with
    :func:`optax.apply_updates`, ``params`` passed to ``update`` as optax's loops do).

    Traced, not compiled: callers wrap it in one ``jax.jit``. Returns one stacked
    trajectory (leading axis: step) per transformation.
    """

    def one(tx):
        def step(carry, t):
            w, state = carry
            updates, state = tx.update(grad(w, t), state, w)
            w = optax.apply_updates(w, updates)
            return (w, state), w

        _, trajectory = jax.lax.scan(step, (params, tx.init(params)), jnp.arange(steps))
        return trajectory

    return [one(tx) for tx in txs]
