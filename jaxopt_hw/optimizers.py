"""First-order optimizers as pure ``init``/``update`` pairs over pytrees.

Every factory here returns an :class:`optax.GradientTransformation`: a pair of pure
functions ``init(params) -> state`` and ``update(grads, state, params=None) ->
(updates, state)``. The returned ``updates`` are *added* to the parameters
(:func:`apply_updates`), so the learning rate's sign is already applied, exactly as
in optax. Our optimizers therefore drop into :func:`optax.chain` and any optax loop.

Hyperparameters that enter the arithmetic (learning rates, decay rates, epsilons) may
be Python floats *or* JAX scalars: ``jax.vmap`` over a vector of learning rates needs
no :func:`optax.inject_hyperparams`. Structural options (``nesterov``,
``eps_in_sqrt``) are plain Python values. A learning rate may also be a schedule, a
function of the step count ``t = 0, 1, 2, ...``; it is evaluated at the count
*before* it is incremented, as in optax.

Python-number hyperparameters are validated eagerly (before anything is traced or
compiled): a negative or non-finite learning rate, a decay outside ``[0, 1)`` or a
negative epsilon raises :class:`ValueError` naming the argument.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from typing import Any, Callable, NamedTuple, Optional, Union

import jax
import jax.numpy as jnp
import numpy as np
import optax

Schedule = Callable[[jax.Array], jax.Array]
ScalarOrSchedule = Union[float, jax.Array, Schedule]
Params = Any
Updates = Any

__all__ = [
    "apply_updates",
    "sgd",
    "momentum",
    "heavy_ball",
    "rmsprop",
    "adam",
    "adagrad",
    "adamw",
    "amsgrad",
    "constant_schedule",
    "exponential_decay",
    "step_decay",
    "cosine_decay",
    "linear_warmup",
    "warmup_cosine_decay",
    "SgdState",
    "MomentumState",
    "HeavyBallState",
    "RmspropState",
    "AdamState",
    "AdagradState",
    "AmsgradState",
]


# --------------------------------------------------------------------------- validation


def _is_python_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_number_type(name: str, value, what: str = "a number or a JAX scalar") -> None:
    """Refuses what is neither a real number nor a numeric array (a traced value is an
    array): ``None``, a string, a list, a bool (``b1=True`` would run with β = 1)."""
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


def _check_learning_rate(learning_rate) -> None:
    if callable(learning_rate):
        return
    _check_number_type("learning_rate", learning_rate, "a number, a JAX scalar or a schedule")
    if _is_python_number(learning_rate):
        if not math.isfinite(learning_rate):
            raise ValueError(f"learning_rate must be finite, got {learning_rate!r}")
        if learning_rate < 0:
            raise ValueError(f"learning_rate must be >= 0, got {learning_rate!r}")


def _check_decay(name: str, value) -> None:
    _check_number_type(name, value)
    if _is_python_number(value) and not (0.0 <= value < 1.0 and math.isfinite(value)):
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")


def _check_nonnegative(name: str, value) -> None:
    _check_number_type(name, value)
    if _is_python_number(value) and not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")


# --------------------------------------------------------------------------- tree helpers


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


def _zeros_like(tree):
    return jax.tree.map(jnp.zeros_like, tree)


def _cast(hyperparameter, leaf):
    """A hyperparameter in the dtype of ``leaf``, so that a Python float and a traced JAX
    scalar of the same value give bitwise the same arithmetic (``1 - 0.9`` rounded
    from float64 differs from ``1 - 0.9f`` in float32)."""
    return jnp.asarray(hyperparameter, dtype=jnp.asarray(leaf).dtype)


def _cast_wide(hyperparameter, leaf):
    """Like :func:`_cast`, but in float32 for float16 / bfloat16 leaves (where, e.g.,
    ``0.999`` rounds to ``1``): for arithmetic on hyperparameters alone."""
    dtype = jnp.promote_types(jnp.asarray(leaf).dtype, jnp.float32)
    return jnp.asarray(hyperparameter, dtype=dtype)


def _ema(moment, value, decay):
    r""":math:`m \leftarrow (1-\beta)\,x + \beta\,m`, leaf-wise (optax's order of terms)."""

    def average(x, m):
        # 1 - beta in at least float32: beta = 0.999 rounds to 1 in bfloat16, which would
        # freeze the average.
        beta = _cast_wide(decay, x)
        return (1 - beta).astype(x.dtype) * x + beta.astype(x.dtype) * m

    return jax.tree.map(average, value, moment)


def _bias_corrected(moment, decay, count):
    r""":math:`\hat m = m / (1 - \beta^t)` with the step count :math:`t \geq 1`."""

    def corrected(m):
        # 1 - beta^t in at least float32, then in the moment's dtype (as optax): in
        # bfloat16, beta = 0.999 rounds to 1 and 1 - beta^t would be 0.
        correction = 1 - _cast_wide(decay, m) ** count
        return m / correction.astype(m.dtype)

    return jax.tree.map(corrected, moment)


def _increment(count):
    """``count + 1`` that saturates instead of wrapping around at the int32 maximum."""
    return jnp.where(count < jnp.iinfo(jnp.int32).max, count + 1, count)


def _learning_rate_at(learning_rate: ScalarOrSchedule, count):
    return learning_rate(count) if callable(learning_rate) else learning_rate


def _descent(direction, learning_rate: ScalarOrSchedule, count):
    r""":math:`u = -\alpha_t\,d`, each leaf in the dtype of its direction."""
    step_size = _learning_rate_at(learning_rate, count)
    return jax.tree.map(lambda d: -_cast(step_size, d) * d, direction)


def _count():
    return jnp.zeros([], jnp.int32)


# --------------------------------------------------------------------------- recipes


class Recipe(NamedTuple):
    """How a transformation was built: ``factory(**arguments)``, every argument named."""

    factory: Callable[..., optax.GradientTransformation]
    arguments: dict


def _rebuildable(factory):
    """``factory``, with every transformation it returns remembering its :class:`Recipe`
    (:func:`recipe_of`), so that a compiled loop can rebuild it from traced
    hyperparameters and compile once for all their values."""
    signature = inspect.signature(factory)

    @functools.wraps(factory)
    def build(*args, **kwargs):
        tx = factory(*args, **kwargs)
        arguments = signature.bind(*args, **kwargs)
        arguments.apply_defaults()
        tx.init.recipe = tx.update.recipe = Recipe(build, dict(arguments.arguments))
        return tx

    return build


def recipe_of(tx) -> Optional[Recipe]:
    """The :class:`Recipe` of a transformation built by one of this module's factories,
    else ``None`` (optax's own, one wrapped by :func:`optax.chain`, or one whose ``init``
    and ``update`` come from different places).

    Example:
      >>> import jaxopt_hw as jh
      >>> from jaxopt_hw.optimizers import recipe_of
      >>> recipe_of(jh.adam(0.01)).arguments["learning_rate"]
      0.01
    """
    recipe = getattr(getattr(tx, "update", None), "recipe", None)
    return (
        recipe
        if recipe is not None and getattr(getattr(tx, "init", None), "recipe", None) is recipe
        else None
    )


# --------------------------------------------------------------------------- states


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


# --------------------------------------------------------------------------- optimizers


@_rebuildable
def sgd(learning_rate: ScalarOrSchedule) -> optax.GradientTransformation:
    r"""(Stochastic) gradient descent.

    .. math::
        w_{t+1} = w_t - \alpha_t\, g_t

    Full-batch gradients make it gradient descent (GD); minibatch gradients make it SGD.

    Args:
      learning_rate: step size :math:`\alpha` (a number, a JAX scalar or a schedule).

    Returns:
      An :class:`optax.GradientTransformation`, equal to ``optax.sgd(learning_rate)``.

    Example:
      >>> import jax.numpy as jnp, jaxopt_hw as jh
      >>> tx = jh.sgd(0.1)
      >>> params = jnp.array([1.0, -2.0])
      >>> updates, state = tx.update(2 * params, tx.init(params))
      >>> jh.apply_updates(params, updates)
      Array([ 0.8, -1.6], dtype=float32)

    References:
      Robbins & Monro, *A Stochastic Approximation Method*, 1951.
    """
    _check_learning_rate(learning_rate)

    def init(params):
        del params
        return SgdState(count=_count())

    def update(grads, state, params=None):
        del params
        updates = _descent(grads, learning_rate, state.count)
        return updates, SgdState(count=_increment(state.count))

    return optax.GradientTransformation(init, update)


@_rebuildable
def momentum(learning_rate: ScalarOrSchedule, beta=0.9) -> optax.GradientTransformation:
    r"""Momentum in its exponential-moving-average form (the homework's eq. 1–2).

    .. math::
        v_{t+1} = \beta\, v_t + (1-\beta)\, g_t, \qquad
        w_{t+1} = w_t - \alpha_t\, v_{t+1}

    with :math:`v_0 = 0`. It equals ``optax.chain(optax.ema(beta, debias=False),
    optax.scale(-learning_rate))`` and, since :math:`v` is :math:`(1-\beta)` times the
    heavy-ball velocity, also ``optax.sgd(learning_rate * (1 - beta), momentum=beta)``.

    Args:
      learning_rate: step size :math:`\alpha` (a number, a JAX scalar or a schedule).
      beta: averaging coefficient :math:`\beta \in [0, 1)`.

    Returns:
      An :class:`optax.GradientTransformation` with state :class:`MomentumState`.

    Example:
      >>> import jax.numpy as jnp, jaxopt_hw as jh
      >>> tx = jh.momentum(0.1, beta=0.9)
      >>> params = jnp.array([1.0])
      >>> updates, state = tx.update(jnp.array([2.0]), tx.init(params))
      >>> updates.round(6)   # -0.1 * (0.1 * 2.0)
      Array([-0.02], dtype=float32)

    References:
      Polyak, *Some methods of speeding up the convergence of iteration methods*, 1964.
    """
    _check_learning_rate(learning_rate)
    _check_decay("beta", beta)

    def init(params):
        return MomentumState(count=_count(), velocity=_zeros_like(params))

    def update(grads, state, params=None):
        del params
        velocity = _ema(state.velocity, grads, beta)
        updates = _descent(velocity, learning_rate, state.count)
        return updates, MomentumState(count=_increment(state.count), velocity=velocity)

    return optax.GradientTransformation(init, update)


@_rebuildable
def heavy_ball(
    learning_rate: ScalarOrSchedule, beta=0.9, nesterov: bool = False
) -> optax.GradientTransformation:
    r"""Polyak's heavy ball, or Nesterov's accelerated gradient with ``nesterov=True``.

    .. math::
        v_{t+1} = \beta\, v_t + g_t, \qquad
        w_{t+1} = w_t - \alpha_t\, d_t, \qquad
        d_t = \begin{cases} v_{t+1} & \text{heavy ball} \\
                            g_t + \beta\, v_{t+1} & \text{Nesterov} \end{cases}

    It equals ``optax.sgd(learning_rate, momentum=beta, nesterov=nesterov)``. On a
    quadratic with Hessian spectrum in :math:`[\mu, L]`, heavy ball with
    :math:`\alpha = 4/(\sqrt L + \sqrt\mu)^2`, :math:`\beta = ((\sqrt\kappa - 1)/(\sqrt\kappa
    + 1))^2` converges at the rate :math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)`.

    Args:
      learning_rate: step size :math:`\alpha` (a number, a JAX scalar or a schedule).
      beta: momentum coefficient :math:`\beta \in [0, 1)`.
      nesterov: use Nesterov's look-ahead direction (a Python bool: it changes the
        program, so it cannot be traced).

    Returns:
      An :class:`optax.GradientTransformation` with state :class:`HeavyBallState`.

    Example:
      >>> import jax.numpy as jnp, jaxopt_hw as jh
      >>> tx = jh.heavy_ball(0.1, beta=0.9, nesterov=True)
      >>> updates, _ = tx.update(jnp.array([1.0]), tx.init(jnp.zeros(1)))
      >>> updates   # -0.1 * (1 + 0.9 * 1)
      Array([-0.19], dtype=float32)

    References:
      Polyak, 1964; Nesterov, *A method for solving the convex programming problem with
      convergence rate O(1/k²)*, 1983; Sutskever et al., 2013.
    """
    _check_learning_rate(learning_rate)
    _check_decay("beta", beta)
    if not isinstance(nesterov, bool):
        raise TypeError(f"nesterov must be a Python bool, got {type(nesterov).__name__}")

    def init(params):
        return HeavyBallState(count=_count(), velocity=_zeros_like(params))

    def update(grads, state, params=None):
        del params
        accumulate = lambda g, v: g + _cast(beta, g) * v  # noqa: E731
        velocity = jax.tree.map(accumulate, grads, state.velocity)
        direction = jax.tree.map(accumulate, grads, velocity) if nesterov else velocity
        updates = _descent(direction, learning_rate, state.count)
        return updates, HeavyBallState(count=_increment(state.count), velocity=velocity)

    return optax.GradientTransformation(init, update)


@_rebuildable
def rmsprop(
    learning_rate: ScalarOrSchedule, decay=0.9, eps=1e-8, eps_in_sqrt: bool = True
) -> optax.GradientTransformation:
    r"""RMSprop (the homework's eq. 3–4).

    .. math::
        G_{t+1} = \gamma\, G_t + (1-\gamma)\, g_t^2, \qquad
        w_{t+1} = w_t - \alpha_t\, \frac{g_t}{\sqrt{G_{t+1} + \varepsilon}}

    with :math:`G_0 = 0`; ``eps_in_sqrt=False`` uses :math:`\sqrt{G_{t+1}} + \varepsilon`
    instead (PyTorch's placement). It equals ``optax.rmsprop(learning_rate, decay, eps,
    eps_in_sqrt=eps_in_sqrt)``.

    Args:
      learning_rate: step size :math:`\alpha` (a number, a JAX scalar or a schedule).
      decay: smoothing coefficient :math:`\gamma \in [0, 1)`.
      eps: :math:`\varepsilon \geq 0`, for numerical stability.
      eps_in_sqrt: where :math:`\varepsilon` sits (a Python bool).

    Returns:
      An :class:`optax.GradientTransformation` with state :class:`RmspropState`.

    Example:
      >>> import jax.numpy as jnp, jaxopt_hw as jh
      >>> tx = jh.rmsprop(0.01, decay=0.9, eps=0.0)
      >>> updates, _ = tx.update(jnp.array([4.0]), tx.init(jnp.zeros(1)))
      >>> updates.round(6)   # -0.01 * 4 / sqrt(0.1 * 16)
      Array([-0.031623], dtype=float32)

    References:
      Tieleman & Hinton, *Lecture 6.5 — RMSprop*, COURSERA: Neural Networks for Machine
      Learning, 2012.
    """
    _check_learning_rate(learning_rate)
    _check_decay("decay", decay)
    _check_nonnegative("eps", eps)
    if not isinstance(eps_in_sqrt, bool):
        raise TypeError(f"eps_in_sqrt must be a Python bool, got {type(eps_in_sqrt).__name__}")

    def normalized(g, nu):
        if eps_in_sqrt:
            return g * jax.lax.rsqrt(nu + _cast(eps, nu))
        return g / (jnp.sqrt(nu) + _cast(eps, nu))

    def init(params):
        return RmspropState(count=_count(), nu=_zeros_like(params))

    def update(grads, state, params=None):
        del params
        nu = _ema(state.nu, jax.tree.map(jnp.square, grads), decay)
        direction = jax.tree.map(normalized, grads, nu)
        updates = _descent(direction, learning_rate, state.count)
        return updates, RmspropState(count=_increment(state.count), nu=nu)

    return optax.GradientTransformation(init, update)


def _adam_moments(grads, state, b1, b2):
    """First and second moments, the step count t ≥ 1, and their bias-corrected forms."""
    mu = _ema(state.mu, grads, b1)
    nu = _ema(state.nu, jax.tree.map(jnp.square, grads), b2)
    count = _increment(state.count)
    return mu, nu, count, _bias_corrected(mu, b1, count), _bias_corrected(nu, b2, count)


def _adam_direction(mu_hat, nu_hat, eps, eps_root):
    return jax.tree.map(
        lambda m, v: m / (jnp.sqrt(v + _cast(eps_root, v)) + _cast(eps, v)), mu_hat, nu_hat
    )


def _check_adam(learning_rate, b1, b2, eps, eps_root):
    _check_learning_rate(learning_rate)
    _check_decay("b1", b1)
    _check_decay("b2", b2)
    _check_nonnegative("eps", eps)
    _check_nonnegative("eps_root", eps_root)


@_rebuildable
def adam(
    learning_rate: ScalarOrSchedule, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0
) -> optax.GradientTransformation:
    r"""Adam, with bias correction by the step count :math:`t = 1, 2, \ldots`.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \\
        \hat m_t = \frac{m_t}{1-\beta_1^t}, \quad \hat v_t = \frac{v_t}{1-\beta_2^t}, \quad
        w_t = w_{t-1} - \alpha\, \frac{\hat m_t}{\sqrt{\hat v_t + \varepsilon_{root}} + \varepsilon}

    It equals ``optax.adam(learning_rate, b1, b2, eps, eps_root=eps_root)``.

    Args:
      learning_rate: step size :math:`\alpha` (a number, a JAX scalar or a schedule).
      b1: decay of the first moment, in ``[0, 1)``.
      b2: decay of the second moment, in ``[0, 1)``.
      eps: :math:`\varepsilon` added outside the square root.
      eps_root: :math:`\varepsilon_{root}` added inside the square root.

    Returns:
      An :class:`optax.GradientTransformation` with state :class:`AdamState`.

    Example:
      >>> import jax.numpy as jnp, jaxopt_hw as jh
      >>> tx = jh.adam(0.1)
      >>> updates, _ = tx.update(jnp.array([3.0]), tx.init(jnp.zeros(1)))
      >>> updates.round(6)   # the first Adam step has length ≈ α whatever the gradient's scale
      Array([-0.1], dtype=float32)

    References:
      Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015.
    """
    _check_adam(learning_rate, b1, b2, eps, eps_root)

    def init(params):
        return AdamState(count=_count(), mu=_zeros_like(params), nu=_zeros_like(params))

    def update(grads, state, params=None):
        del params
        mu, nu, count, mu_hat, nu_hat = _adam_moments(grads, state, b1, b2)
        direction = _adam_direction(mu_hat, nu_hat, eps, eps_root)
        updates = _descent(direction, learning_rate, state.count)
        return updates, AdamState(count=count, mu=mu, nu=nu)

    return optax.GradientTransformation(init, update)


@_rebuildable
def adamw(
    learning_rate: ScalarOrSchedule,
    b1=0.9,
    b2=0.999,
    eps=1e-8,
    eps_root=0.0,
    weight_decay=1e-4,
) -> optax.GradientTransformation:
    r"""AdamW: Adam with decoupled weight decay.

    .. math::
        w_t = w_{t-1} - \alpha \left( \frac{\hat m_t}{\sqrt{\hat v_t +
        \varepsilon_{root}} + \varepsilon} + \lambda\, w_{t-1} \right)

    with :math:`\hat m_t, \hat v_t` as in :func:`adam`. It equals ``optax.adamw(...)``
    (no mask). ``update`` needs ``params``.

    Args:
      learning_rate: step size :math:`\alpha` (a number, a JAX scalar or a schedule).
      b1, b2, eps, eps_root: as in :func:`adam`.
      weight_decay: :math:`\lambda \geq 0`.

    Returns:
      An :class:`optax.GradientTransformation` with state :class:`AdamState`.

    Example:
      >>> import jax.numpy as jnp, jaxopt_hw as jh
      >>> tx = jh.adamw(0.1, weight_decay=0.5)
      >>> w = jnp.array([2.0])
      >>> updates, _ = tx.update(jnp.array([3.0]), tx.init(w), w)
      >>> updates   # -0.1 * (1 + 0.5 * 2)
      Array([-0.2], dtype=float32)

    References:
      Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019.
    """
    _check_adam(learning_rate, b1, b2, eps, eps_root)
    _check_nonnegative("weight_decay", weight_decay)

    def init(params):
        return AdamState(count=_count(), mu=_zeros_like(params), nu=_zeros_like(params))

    def update(grads, state, params=None):
        if params is None:
            raise ValueError("adamw.update needs params (for the weight decay term)")
        mu, nu, count, mu_hat, nu_hat = _adam_moments(grads, state, b1, b2)
        adam_direction = _adam_direction(mu_hat, nu_hat, eps, eps_root)
        direction = jax.tree.map(
            lambda d, w: d + _cast(weight_decay, d) * w, adam_direction, params
        )
        updates = _descent(direction, learning_rate, state.count)
        return updates, AdamState(count=count, mu=mu, nu=nu)

    return optax.GradientTransformation(init, update)


@_rebuildable
def amsgrad(
    learning_rate: ScalarOrSchedule, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0
) -> optax.GradientTransformation:
    r"""AMSGrad: Adam whose denominator never shrinks.

    .. math::
        \hat v^{\max}_t = \max(\hat v^{\max}_{t-1}, \hat v_t), \qquad
        w_t = w_{t-1} - \alpha\, \frac{\hat m_t}{\sqrt{\hat v^{\max}_t +
        \varepsilon_{root}} + \varepsilon}

    with :math:`\hat m_t, \hat v_t` as in :func:`adam`. It equals ``optax.amsgrad(...)``.

    Args:
      learning_rate: step size :math:`\alpha` (a number, a JAX scalar or a schedule).
      b1, b2, eps, eps_root: as in :func:`adam`.

    Returns:
      An :class:`optax.GradientTransformation` with state :class:`AmsgradState`.

    Example:
      >>> import jax.numpy as jnp, jaxopt_hw as jh
      >>> tx = jh.amsgrad(0.1)
      >>> updates, _ = tx.update(jnp.array([3.0]), tx.init(jnp.zeros(1)))
      >>> updates.round(6)
      Array([-0.1], dtype=float32)

    References:
      Reddi, Kale & Kumar, *On the Convergence of Adam and Beyond*, ICLR 2018.
    """
    _check_adam(learning_rate, b1, b2, eps, eps_root)

    def init(params):
        zeros = _zeros_like(params)
        return AmsgradState(count=_count(), mu=zeros, nu=zeros, nu_max=zeros)

    def update(grads, state, params=None):
        del params
        mu, nu, count, mu_hat, nu_hat = _adam_moments(grads, state, b1, b2)
        nu_max = jax.tree.map(jnp.maximum, state.nu_max, nu_hat)
        direction = _adam_direction(mu_hat, nu_max, eps, eps_root)
        updates = _descent(direction, learning_rate, state.count)
        return updates, AmsgradState(count=count, mu=mu, nu=nu, nu_max=nu_max)

    return optax.GradientTransformation(init, update)


@_rebuildable
def adagrad(
    learning_rate: ScalarOrSchedule, initial_accumulator_value=0.1, eps=1e-7
) -> optax.GradientTransformation:
    r"""AdaGrad: per-coordinate steps shrinking with the sum of squared gradients.

    .. math::
        S_{t+1} = S_t + g_t^2, \qquad
        w_{t+1} = w_t - \alpha_t\, \frac{g_t}{\sqrt{S_{t+1} + \varepsilon}}

    with :math:`S_0` = ``initial_accumulator_value``. It equals ``optax.adagrad(...)``.

    Args:
      learning_rate: step size :math:`\alpha` (a number, a JAX scalar or a schedule).
      initial_accumulator_value: :math:`S_0 \geq 0`.
      eps: :math:`\varepsilon \geq 0` inside the square root.

    Returns:
      An :class:`optax.GradientTransformation` with state :class:`AdagradState`.

    Example:
      >>> import jax.numpy as jnp, jaxopt_hw as jh
      >>> tx = jh.adagrad(1.0, initial_accumulator_value=0.0, eps=0.0)
      >>> updates, _ = tx.update(jnp.array([3.0]), tx.init(jnp.zeros(1)))
      >>> updates.round(6)
      Array([-1.], dtype=float32)

    References:
      Duchi, Hazan & Singer, *Adaptive Subgradient Methods for Online Learning and
      Stochastic Optimization*, JMLR 2011.
    """
    _check_learning_rate(learning_rate)
    _check_nonnegative("initial_accumulator_value", initial_accumulator_value)
    _check_nonnegative("eps", eps)

    def normalized(g, s):
        return jnp.where(s > 0, jax.lax.rsqrt(s + _cast(eps, s)), 0.0) * g

    def init(params):
        accumulator = jax.tree.map(lambda p: jnp.full_like(p, initial_accumulator_value), params)
        return AdagradState(count=_count(), sum_of_squares=accumulator)

    def update(grads, state, params=None):
        del params
        sum_of_squares = jax.tree.map(lambda g, s: jnp.square(g) + s, grads, state.sum_of_squares)
        direction = jax.tree.map(normalized, grads, sum_of_squares)
        updates = _descent(direction, learning_rate, state.count)
        return updates, AdagradState(count=_increment(state.count), sum_of_squares=sum_of_squares)

    return optax.GradientTransformation(init, update)


# --------------------------------------------------------------------------- schedules


def _named_after_its_call(make_schedule):
    """Names the schedules ``make_schedule`` returns after the call that made them, e.g.
    ``exponential_decay(0.1, 0.99)``: a sweep's table and saved axes then tell two of them
    apart (a closure's own name, ``exponential_decay.<locals>.schedule``, does not)."""

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


@_named_after_its_call
def constant_schedule(value) -> Schedule:
    r"""The schedule :math:`\alpha_t = \alpha_0`.

    Example:
      >>> import jaxopt_hw as jh
      >>> jh.constant_schedule(0.1)(7)
      Array(0.1, dtype=float32)
    """
    _check_learning_rate(value)
    return lambda count: jnp.asarray(value, dtype=jnp.result_type(float))


@_named_after_its_call
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
    _check_learning_rate(init_value)
    _check_positive_number("decay_rate", decay_rate)
    _check_positive_int("transition_steps", transition_steps)

    def schedule(count):
        progress = jnp.asarray(count, jnp.result_type(float)) / transition_steps
        if staircase:
            progress = jnp.floor(progress)
        return init_value * decay_rate**progress

    return schedule


@_named_after_its_call
def step_decay(init_value, decay_rate, step_size) -> Schedule:
    r"""The schedule :math:`\alpha_t = \alpha_0\, r^{\lfloor t / S \rfloor}`: multiply by
    ``decay_rate`` every ``step_size`` steps.

    Example:
      >>> import jaxopt_hw as jh
      >>> float(jh.step_decay(1.0, 0.1, step_size=100)(250))
      0.010000000707805157
    """
    _check_positive_int("step_size", step_size)
    return exponential_decay(init_value, decay_rate, step_size, staircase=True)


@_named_after_its_call
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
    _check_learning_rate(init_value)
    _check_positive_int("decay_steps", decay_steps)
    _check_nonnegative("alpha", alpha)

    def schedule(count):
        progress = (
            jnp.minimum(jnp.asarray(count, jnp.result_type(float)), decay_steps) / decay_steps
        )
        cosine = 0.5 * (1 + jnp.cos(jnp.pi * progress))
        return init_value * ((1 - alpha) * cosine + alpha)

    return schedule


@_named_after_its_call
def linear_warmup(schedule: ScalarOrSchedule, warmup_steps, init_value=0.0) -> Schedule:
    r"""Linear warm-up from ``init_value`` to ``schedule`` over ``warmup_steps`` steps,
    then ``schedule(t - warmup_steps)``.

    Example:
      >>> import jaxopt_hw as jh
      >>> float(jh.linear_warmup(1.0, warmup_steps=10)(5))
      0.5
    """
    _check_positive_int("warmup_steps", warmup_steps)
    _check_learning_rate(init_value)
    after = schedule if callable(schedule) else constant_schedule(schedule)

    def warmed(count):
        count = jnp.asarray(count)
        peak = after(jnp.zeros_like(count))
        fraction = jnp.asarray(count, jnp.result_type(float)) / warmup_steps
        ramp = init_value + (peak - init_value) * fraction
        return jnp.where(count < warmup_steps, ramp, after(count - warmup_steps))

    return warmed


@_named_after_its_call
def warmup_cosine_decay(peak_value, warmup_steps, decay_steps, end_fraction=0.0) -> Schedule:
    """Linear warm-up to ``peak_value``, then cosine decay over ``decay_steps`` steps.

    Example:
      >>> import jaxopt_hw as jh
      >>> float(jh.warmup_cosine_decay(1.0, 10, 100)(10))
      1.0
    """
    return linear_warmup(cosine_decay(peak_value, decay_steps, end_fraction), warmup_steps)


def _check_positive_number(name, value):
    _check_number_type(name, value)
    if _is_python_number(value) and not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
