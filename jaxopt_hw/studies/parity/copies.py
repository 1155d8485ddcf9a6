"""Several optimizers on copies of one problem's parameters, trained in one compiled run.

:func:`side_by_side` makes a problem whose parameters are a dict of independent copies of
the problem's parameters (its loss is the sum of the copies' losses, so each copy gets
exactly its own gradient, on the same batches), and :func:`parallel` runs one optimizer
on each copy.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import optax

from jaxopt_hw.problems import Optimum, Problem

__all__ = ["side_by_side", "parallel", "excess_loss"]


@dataclasses.dataclass(frozen=True)
class _SumLoss:
    """``(params, batch) -> Σ_k base(params[k], batch)``: each copy's gradient is its own."""

    base: Callable

    def __call__(self, params, batch):
        return sum(self.base(params[k], batch) for k in params)


@dataclasses.dataclass(frozen=True)
class _SumFullLoss:
    base: Callable

    def __call__(self, params, aux):
        return sum(self.base(params[k], aux) for k in params)


@dataclasses.dataclass(frozen=True)
class _Replicated:
    """``seed -> {name: base(seed)}``: every copy starts at the problem's own initial point."""

    base: Callable
    names: tuple

    def __call__(self, seed):
        params = self.base(seed)
        return {name: params for name in self.names}


def side_by_side(problem: Problem, names) -> Problem:
    """``problem`` with its parameters copied once per name: ``{name: params}``.

    The loss is the sum of the copies' losses, so each copy's gradient is exactly the
    gradient the problem would give it, and ``jh.run`` feeds all copies the same batches
    (those of a single run with the same seed) from the same initial point. The logged
    ``loss``/``excess_loss`` are sums over the copies; :func:`excess_loss` gives each
    copy's from a recorded trajectory. Copies are independent except through the
    divergence guard, which freezes all of them at once (check ``trace.diverged``).
    """
    names = tuple(names)
    if len(set(names)) != len(names) or not names:
        raise ValueError(f"names must be distinct and non-empty, got {names}")
    return dataclasses.replace(
        problem,
        name=f"{problem.name} x{len(names)}",
        loss_fn=_SumLoss(problem.loss_fn),
        full_loss_fn=_SumFullLoss(problem.full_loss_fn),
        initial_params=_Replicated(problem.initial_params, names),
        error_fn=None,
        optimum=None
        if problem.optimum is None
        else Optimum({name: problem.w_star for name in names}, problem.min_loss * len(names)),
        forms=None,
    )


def parallel(optimizers: dict) -> optax.GradientTransformation:
    """One optimizer per key of a dict of parameters: ``{name: tx}`` acting on
    ``{name: params}`` (each gets its own gradients, state and parameters)."""
    optimizers = dict(optimizers)

    def init(params):
        return {k: tx.init(params[k]) for k, tx in optimizers.items()}

    def update(grads, state, params=None):
        out = {
            k: tx.update(grads[k], state[k], None if params is None else params[k])
            for k, tx in optimizers.items()
        }
        return {k: u for k, (u, _) in out.items()}, {k: s for k, (_, s) in out.items()}

    return optax.GradientTransformation(init, update)


def excess_loss(problem: Problem, params) -> np.ndarray:
    """The excess loss ``f(w) − f*`` of least-squares parameters ``params`` (any leading
    axes), in float64 on the host: ``‖Cᵀ(w − w*)‖²`` with ``CCᵀ = XᵀX/n``."""
    chol = np.asarray(problem.aux["chol"], np.float64)
    offset = (np.asarray(params, np.float64) - np.asarray(problem.aux["w_star"], np.float64)) @ chol
    return np.sum(offset**2, axis=-1)
