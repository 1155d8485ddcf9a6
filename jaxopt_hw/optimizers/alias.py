"""The optimizers: each factory returns an optax ``GradientTransformation`` (init, update)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from jaxopt_hw.optimizers.base import ScalarOrSchedule
from jaxopt_hw.optimizers.checks import (
    check_adam,
    check_decay,
    check_learning_rate,
    check_nonnegative,
)
from jaxopt_hw.optimizers.recipe import rebuildable
from jaxopt_hw.optimizers.states import (
    AdagradState,
    AdamState,
    AmsgradState,
    HeavyBallState,
    MomentumState,
    RmspropState,
    SgdState,
)
from jaxopt_hw.optimizers.transform import (
    adam_direction,
    adam_moments,
    cast,
    descent,
    ema,
    initial_count,
    safe_increment,
    tree_zeros_like,
)


@rebuildable
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
    check_learning_rate(learning_rate)

    def init(params):
        del params
        return SgdState(count=initial_count())

    def update(grads, state, params=None):
        del params
        updates = descent(grads, learning_rate, state.count)
        return updates, SgdState(count=safe_increment(state.count))

    return optax.GradientTransformation(init, update)


@rebuildable
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
    check_learning_rate(learning_rate)
    check_decay("beta", beta)

    def init(params):
        return MomentumState(count=initial_count(), velocity=tree_zeros_like(params))

    def update(grads, state, params=None):
        del params
        velocity = ema(state.velocity, grads, beta)
        updates = descent(velocity, learning_rate, state.count)
        return updates, MomentumState(count=safe_increment(state.count), velocity=velocity)

    return optax.GradientTransformation(init, update)


@rebuildable
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
    check_learning_rate(learning_rate)
    check_decay("beta", beta)
    if not isinstance(nesterov, bool):
        raise TypeError(f"nesterov must be a Python bool, got {type(nesterov).__name__}")

    def init(params):
        return HeavyBallState(count=initial_count(), velocity=tree_zeros_like(params))

    def update(grads, state, params=None):
        del params
        accumulate = lambda g, v: g + cast(beta, g) * v  # noqa: E731
        velocity = jax.tree.map(accumulate, grads, state.velocity)
        direction = jax.tree.map(accumulate, grads, velocity) if nesterov else velocity
        updates = descent(direction, learning_rate, state.count)
        return updates, HeavyBallState(count=safe_increment(state.count), velocity=velocity)

    return optax.GradientTransformation(init, update)


@rebuildable
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
    check_learning_rate(learning_rate)
    check_decay("decay", decay)
    check_nonnegative("eps", eps)
    if not isinstance(eps_in_sqrt, bool):
        raise TypeError(f"eps_in_sqrt must be a Python bool, got {type(eps_in_sqrt).__name__}")

    def normalized(g, nu):
        if eps_in_sqrt:
            return g * jax.lax.rsqrt(nu + cast(eps, nu))
        return g / (jnp.sqrt(nu) + cast(eps, nu))

    def init(params):
        return RmspropState(count=initial_count(), nu=tree_zeros_like(params))

    def update(grads, state, params=None):
        del params
        nu = ema(state.nu, jax.tree.map(jnp.square, grads), decay)
        direction = jax.tree.map(normalized, grads, nu)
        updates = descent(direction, learning_rate, state.count)
        return updates, RmspropState(count=safe_increment(state.count), nu=nu)

    return optax.GradientTransformation(init, update)


@rebuildable
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
    check_adam(learning_rate, b1, b2, eps, eps_root)

    def init(params):
        return AdamState(
            count=initial_count(), mu=tree_zeros_like(params), nu=tree_zeros_like(params)
        )

    def update(grads, state, params=None):
        del params
        mu, nu, count, mu_hat, nu_hat = adam_moments(grads, state, b1, b2)
        direction = adam_direction(mu_hat, nu_hat, eps, eps_root)
        updates = descent(direction, learning_rate, state.count)
        return updates, AdamState(count=count, mu=mu, nu=nu)

    return optax.GradientTransformation(init, update)


@rebuildable
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
    check_adam(learning_rate, b1, b2, eps, eps_root)
    check_nonnegative("weight_decay", weight_decay)

    def init(params):
        return AdamState(
            count=initial_count(), mu=tree_zeros_like(params), nu=tree_zeros_like(params)
        )

    def update(grads, state, params=None):
        if params is None:
            raise ValueError("adamw.update needs params (for the weight decay term)")
        mu, nu, count, mu_hat, nu_hat = adam_moments(grads, state, b1, b2)
        scaled = adam_direction(mu_hat, nu_hat, eps, eps_root)
        direction = jax.tree.map(lambda d, w: d + cast(weight_decay, d) * w, scaled, params)
        updates = descent(direction, learning_rate, state.count)
        return updates, AdamState(count=count, mu=mu, nu=nu)

    return optax.GradientTransformation(init, update)


@rebuildable
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
    check_adam(learning_rate, b1, b2, eps, eps_root)

    def init(params):
        zeros = tree_zeros_like(params)
        return AmsgradState(count=initial_count(), mu=zeros, nu=zeros, nu_max=zeros)

    def update(grads, state, params=None):
        del params
        mu, nu, count, mu_hat, nu_hat = adam_moments(grads, state, b1, b2)
        nu_max = jax.tree.map(jnp.maximum, state.nu_max, nu_hat)
        direction = adam_direction(mu_hat, nu_max, eps, eps_root)
        updates = descent(direction, learning_rate, state.count)
        return updates, AmsgradState(count=count, mu=mu, nu=nu, nu_max=nu_max)

    return optax.GradientTransformation(init, update)


@rebuildable
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
    check_learning_rate(learning_rate)
    check_nonnegative("initial_accumulator_value", initial_accumulator_value)
    check_nonnegative("eps", eps)

    def normalized(g, s):
        return jnp.where(s > 0, jax.lax.rsqrt(s + cast(eps, s)), 0.0) * g

    def init(params):
        accumulator = jax.tree.map(lambda p: jnp.full_like(p, initial_accumulator_value), params)
        return AdagradState(count=initial_count(), sum_of_squares=accumulator)

    def update(grads, state, params=None):
        del params
        sum_of_squares = jax.tree.map(lambda g, s: jnp.square(g) + s, grads, state.sum_of_squares)
        direction = jax.tree.map(normalized, grads, sum_of_squares)
        updates = descent(direction, learning_rate, state.count)
        return updates, AdagradState(
            count=safe_increment(state.count), sum_of_squares=sum_of_squares
        )

    return optax.GradientTransformation(init, update)
