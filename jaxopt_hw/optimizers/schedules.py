"""Learning-rate schedules: functions of the step count ``t = 0, 1, 2, ...``."""

from __future__ import annotations

import functools

import jax.numpy as jnp

from jaxopt_hw.optimizers.base import ScalarOrSchedule, Schedule
from jaxopt_hw.optimizers.checks import (
    check_learning_rate,
    check_nonnegative,
    check_positive_int,
    check_positive_number,
)


def named_after_its_call(make_schedule):
    """Names the schedules ``make_schedule`` returns after the call that made them.

    A name such as ``exponential_decay(0.1, 0.99)`` lets a sweep's table and saved axes tell
    two schedules apart (a closure's own name, ``exponential_decay.<locals>.schedule``, does
    not).
    """

    def text(value):
        if callable(value):  # a function by name; a partial or a callable object by its type
            return getattr(value, "__qualname__", None) or type(value).__name__
        return repr(value)

    @functools.wraps(make_schedule)
    def make(*args, **kwargs):
        schedule = make_schedule(*args, **kwargs)
        arguments = [text(a) for a in args] + [
            f"{key}={text(value)}" for key, value in kwargs.items()
        ]
        schedule.__name__ = schedule.__qualname__ = (
            f"{make_schedule.__name__}({', '.join(arguments)})"
        )
        return schedule

    return make


@named_after_its_call
def constant_schedule(value) -> Schedule:
    r"""The schedule :math:`\alpha_t = \alpha_0`.

    Example:
      >>> import jaxopt_hw as jh
      >>> jh.constant_schedule(0.1)(7)
      Array(0.1, dtype=float32)
    """
    check_learning_rate(value)
    return lambda count: jnp.asarray(value, dtype=jnp.result_type(float))


@named_after_its_call
def exponential_decay(init_value, decay_rate, transition_steps=1, staircase=False) -> Schedule:
    r"""The schedule :math:`\alpha_t = \alpha_0\, r^{t / T}` (:math:`\lfloor t/T \rfloor` if
    ``staircase``), as ``optax.exponential_decay`` without its end value.

    Args:
      init_value: :math:`\alpha_0`.
      decay_rate: :math:`r > 0`.
      transition_steps: :math:`T > 0`.
      staircase: decay in discrete jumps every ``T`` steps (step decay).

    Example:
      >>> import jaxopt_hw as jh
      >>> round(float(jh.exponential_decay(1.0, 0.5, transition_steps=10)(20)), 6)
      0.25
    """
    check_learning_rate(init_value)
    check_positive_number("decay_rate", decay_rate)
    check_positive_int("transition_steps", transition_steps)

    def schedule(count):
        progress = jnp.asarray(count, jnp.result_type(float)) / transition_steps
        if staircase:
            progress = jnp.floor(progress)
        return init_value * decay_rate**progress

    return schedule


@named_after_its_call
def step_decay(init_value, decay_rate, step_size) -> Schedule:
    r"""The schedule :math:`\alpha_t = \alpha_0\, r^{\lfloor t / S \rfloor}`: multiply by
    ``decay_rate`` every ``step_size`` steps.

    Example:
      >>> import jaxopt_hw as jh
      >>> float(jh.step_decay(1.0, 0.1, step_size=100)(250))
      0.010000000707805157
    """
    check_positive_int("step_size", step_size)
    return exponential_decay(init_value, decay_rate, step_size, staircase=True)


@named_after_its_call
def cosine_decay(init_value, decay_steps, alpha=0.0) -> Schedule:
    r"""The schedule :math:`\alpha_t = \alpha_0\,((1-a)\,\tfrac12(1+\cos(\pi \min(t,T)/T)) + a)`,
    as ``optax.cosine_decay_schedule``.

    Args:
      init_value: :math:`\alpha_0`.
      decay_steps: :math:`T > 0`.
      alpha: the final value as a fraction :math:`a` of ``init_value``.

    Example:
      >>> import jaxopt_hw as jh
      >>> round(float(jh.cosine_decay(1.0, 100)(50)), 6)
      0.5
    """
    check_learning_rate(init_value)
    check_positive_int("decay_steps", decay_steps)
    check_nonnegative("alpha", alpha)

    def schedule(count):
        progress = (
            jnp.minimum(jnp.asarray(count, jnp.result_type(float)), decay_steps) / decay_steps
        )
        cosine = 0.5 * (1 + jnp.cos(jnp.pi * progress))
        return init_value * ((1 - alpha) * cosine + alpha)

    return schedule


@named_after_its_call
def linear_warmup(schedule: ScalarOrSchedule, warmup_steps, init_value=0.0) -> Schedule:
    r"""Linear warm-up from ``init_value`` to ``schedule`` over ``warmup_steps`` steps,
    then ``schedule(t - warmup_steps)``.

    Example:
      >>> import jaxopt_hw as jh
      >>> float(jh.linear_warmup(1.0, warmup_steps=10)(5))
      0.5
    """
    check_positive_int("warmup_steps", warmup_steps)
    check_learning_rate(init_value)
    after = schedule if callable(schedule) else constant_schedule(schedule)

    def warmed(count):
        count = jnp.asarray(count)
        peak = after(jnp.zeros_like(count))
        fraction = jnp.asarray(count, jnp.result_type(float)) / warmup_steps
        ramp = init_value + (peak - init_value) * fraction
        return jnp.where(count < warmup_steps, ramp, after(count - warmup_steps))

    return warmed


@named_after_its_call
def warmup_cosine_decay(peak_value, warmup_steps, decay_steps, end_fraction=0.0) -> Schedule:
    """Linear warm-up to ``peak_value``, then cosine decay over ``decay_steps`` steps.

    Example:
      >>> import jaxopt_hw as jh
      >>> float(jh.warmup_cosine_decay(1.0, 10, 100)(10))
      1.0
    """
    return linear_warmup(cosine_decay(peak_value, decay_steps, end_fraction), warmup_steps)
