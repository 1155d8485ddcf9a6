"""Where a sweep's state keeps its seeds and configs, and the moves between its layouts.

The compiled sweep (:mod:`jaxopt_hw.sweep.program`) holds each leaf of its training state
with a seed axis first and, inside each seed's share, a config axis that its
:class:`StateAxes` names per leaf; results and saved states are ``(configs, seeds, ...)``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp


class StateAxes(NamedTuple):
    """Where a sweep's state keeps its seeds and configs: ``vmap`` axes, one per leaf, of the
    seed axis (``seed``: 0, or ``None`` for a leaf held once for all) and, inside it, of the
    config axis (``config``: 0, -1 or ``None``)."""

    seed: Any
    config: Any


def state_configs_first(states, axes, n_configs):
    """A sweep's training state with every leaf ``(configs, seeds, ...)``: the inverse of
    :func:`state_laid_out` (a step count held once for all runs is repeated per config)."""

    def leaf(seed_axis, config_axis, a):
        if a is None:
            return None
        if seed_axis is None:
            return jnp.broadcast_to(a, (n_configs,) + a.shape)
        return jnp.moveaxis(a, 1 + config_axis % (a.ndim - 1), 0)

    return jax.tree.map(leaf, axes.seed, axes.config, states, is_leaf=lambda x: x is None)


def state_laid_out(saved, like, axes):
    """A state kept as ``(configs, seeds, ...)`` (:func:`state_configs_first`) in the layout
    ``axes`` gives the runs of ``like``."""

    def leaf(seed_axis, config_axis, a, reference):
        if reference is None:
            return None
        if seed_axis is None:  # equal in every config
            return a[0].astype(reference.dtype)
        return jnp.moveaxis(a, 0, 1 + config_axis % (a.ndim - 1)).astype(reference.dtype)

    return jax.tree.map(leaf, axes.seed, axes.config, saved, like, is_leaf=lambda x: x is None)


def configs_first(params, config_axes):
    """Parameters laid out ``(seeds, …)`` with their configs on axis ``config_axes`` of each
    seed's share (see :func:`select_runs`), as ``(configs, seeds, …)``."""
    return jax.tree.map(
        lambda axis, a: jnp.moveaxis(a, 1 + axis % (a.ndim - 1), 0), config_axes, params
    )


def select_runs(config_axes):
    """``step.select_params`` for all the runs of a sweep at once: ``flags`` (seeds,
    configs) spread over parameter leaves laid out ``(seeds, …)`` with their configs
    on axis ``config_axes`` of each seed's share (a tree like the parameters')."""

    def select(flags, on_true, on_false):
        def leaf(config_axis, a, b):
            config_at = 1 + config_axis % (a.ndim - 1)
            spread = jnp.expand_dims(
                flags, [axis for axis in range(a.ndim) if axis not in (0, config_at)]
            )
            return jnp.where(spread, a, b)

        return jax.tree.map(leaf, config_axes, on_true, on_false)

    return select
