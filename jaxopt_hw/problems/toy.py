"""Toy problems: a small regression network with nested-dict parameters, Rosenbrock's banana."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxopt_hw.problems.core import (
    ConstantInit,
    OnXY,
    Optimum,
    Problem,
    check_finite_number,
    check_seed,
    check_size,
    float_dtype,
    host_rng,
    product,
)


def mlp_loss(params, X, y):
    """Mean squared error of a one-hidden-layer tanh network (params a nested dict)."""
    hidden = jnp.tanh(product(X, params["hidden"]["w"]) + params["hidden"]["b"])
    prediction = product(hidden, params["out"]["w"]) + params["out"]["b"]
    return jnp.mean(jnp.square(prediction - y))


def rosenbrock_loss(params, X, y, a=1.0, b=100.0):
    r"""Rosenbrock's function :math:`(a - x)^2 + b (y - x^2)^2` (data unused)."""
    del X, y
    u, v = params[0], params[1]
    return jnp.square(a - u) + b * jnp.square(v - jnp.square(u))


@dataclasses.dataclass(frozen=True)
class MlpInit:
    """``seed ->`` the nested-dict parameters of :func:`mlp_loss` (scaled normal weights)."""

    d: int
    hidden: int
    dtype: str

    def __call__(self, seed: int):
        rng, dtype = host_rng(seed), jnp.dtype(self.dtype)
        hidden_w = rng.standard_normal((self.d, self.hidden)) / math.sqrt(self.d)
        out_w = rng.standard_normal(self.hidden) / math.sqrt(self.hidden)
        return {
            "hidden": {"w": hidden_w.astype(dtype), "b": np.zeros(self.hidden, dtype)},
            "out": {"w": out_w.astype(dtype), "b": np.zeros((), dtype)},
        }


def mlp_regression(
    n: int, d: int, hidden: int = 16, noise: float = 0.1, seed: int = 0, dtype=None
) -> Problem:
    """A small regression network whose parameters are a nested dict (pytree demo).

    ``x ~ N(0, I_d)``, ``y = sin(x·v) + N(0, noise²)``; the model is
    ``tanh(x W₁ + b₁) · w₂ + b₂`` with ``params = {"hidden": {"w", "b"}, "out": {"w", "b"}}``.
    The optimum is unknown (``w_star`` and ``min_loss`` are ``None``).

    Example:
      >>> import jaxopt_hw as jh
      >>> sorted(jh.mlp_regression(100, 3).init_params(0))
      ['hidden', 'out']
    """
    n = check_size("n", n)
    d = check_size("d", d)
    hidden = check_size("hidden", hidden)
    noise = check_finite_number("noise", noise, minimum=0.0)
    rng = np.random.default_rng(check_seed(seed))
    X = rng.standard_normal((n, d))
    y = np.sin(X @ rng.standard_normal(d)) + noise * rng.standard_normal(n)
    dtype = float_dtype(dtype)
    data = {"X": jnp.asarray(X, dtype), "y": jnp.asarray(y, dtype)}

    return Problem(
        name=f"mlp_regression(n={n}, d={d}, hidden={hidden})",
        data=data,
        loss_fn=OnXY(mlp_loss),
        full_loss_fn=OnXY(mlp_loss),
        aux=data,
        initial_params=MlpInit(d, hidden, dtype.name),
    )


def rosenbrock(a: float = 1.0, b: float = 100.0, start=(-1.2, 1.0), dtype=None) -> Problem:
    r"""Rosenbrock's banana :math:`(a-u)^2 + b(v-u^2)^2`, minimum 0 at :math:`(a, a^2)`.

    A deterministic 2-D problem for trajectory pictures: it has no data (one dummy row),
    so run it with ``batch_size=None``. Every seed starts at ``start``.

    Example:
      >>> import jaxopt_hw as jh
      >>> float(jh.rosenbrock().loss(jh.rosenbrock().w_star))
      0.0
    """
    a = check_finite_number("a", a)
    b = check_finite_number("b", b, minimum=0.0)
    dtype = float_dtype(dtype)
    data = {"X": jnp.zeros((1, 0), dtype), "y": jnp.zeros((1,), dtype)}
    loss_fn = OnXY(jax.tree_util.Partial(rosenbrock_loss, a=a, b=b))
    try:
        start_array = np.asarray(start, np.float64)
    except (TypeError, ValueError):
        start_array = np.full(3, np.nan)
    if start_array.shape != (2,) or not np.all(np.isfinite(start_array)):
        raise ValueError(f"start must be two finite numbers (u, v), got {start!r}")
    start = tuple(float(v) for v in start_array)
    return Problem(
        name=f"rosenbrock(a={a:g}, b={b:g})",
        data=data,
        loss_fn=loss_fn,
        full_loss_fn=loss_fn,
        aux=data,
        initial_params=ConstantInit(start, dtype.name),
        optimum=Optimum(jnp.asarray([a, a * a], dtype), 0.0),
    )
