"""The optimizers' states: typed NamedTuples holding the step count and the moments."""

from __future__ import annotations

from typing import NamedTuple

import jax

from jaxopt_hw.optimizers.base import Updates


class SgdState(NamedTuple):
    """State of :func:`sgd`: the step count (for schedules)."""

    count: jax.Array


class MomentumState(NamedTuple):
    """State of :func:`momentum`: step count and the EMA of gradients ``v``."""

    count: jax.Array
    velocity: Updates


class HeavyBallState(NamedTuple):
    """State of :func:`heavy_ball`: step count and the accumulated velocity ``v``."""

    count: jax.Array
    velocity: Updates


class RmspropState(NamedTuple):
    """State of :func:`rmsprop`: step count and the EMA of squared gradients ``G``."""

    count: jax.Array
    nu: Updates


class AdamState(NamedTuple):
    """State of :func:`adam` and :func:`adamw`: step count, first and second moments."""

    count: jax.Array
    mu: Updates
    nu: Updates


class AdagradState(NamedTuple):
    """State of :func:`adagrad`: step count and the running sum of squared gradients."""

    count: jax.Array
    sum_of_squares: Updates


class AmsgradState(NamedTuple):
    """State of :func:`amsgrad`: step count, moments and the running max of ``v̂``."""

    count: jax.Array
    mu: Updates
    nu: Updates
    nu_max: Updates
