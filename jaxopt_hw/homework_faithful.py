"""!!! DELIBERATELY WRONG CODE — reproductions of the homework notebook's bugs, for study only !!!

Nothing in this module is a correct optimizer unless every bug option is switched off.
Use :mod:`jaxopt_hw.optimizers` (``jh.rmsprop``, ``jh.adam``, …) for real work. This
module exists so that :mod:`jaxopt_hw.studies.homework_bugs` can switch each of the
notebook's four mistakes on *alone* and measure which of the notebook's conclusions they
produce.

The notebook (``homework11``, NumPy, synthetic least squares) has these bugs, quoted from
its code:

1. **The step is assigned, not subtracted** (RMSprop and Adam, not Momentum)::

       w_cur = (alpha / ((G + e)**0.5)) * grad            # RMSprop
       w_cur = (alpha / ((v_hat + e)**0.5)) * m_hat       # Adam

   The weights *become* :math:`+\\alpha\\,g/\\sqrt{G+\\varepsilon}` (the amount that
   should have been subtracted) at every step, so they never leave a ball of radius
   :math:`\\alpha/\\sqrt{1-\\gamma}` around 0 (RMSprop). Option ``assign_step=True`` of
   :func:`rmsprop` and :func:`adam`: with :math:`u` the correct update (the thing that is
   *added*, :math:`u = -\\alpha g/\\sqrt{G+\\varepsilon}`), the notebook sets
   :math:`w \\leftarrow -u`, i.e. our update is :math:`-u - w` (so ``update`` needs
   ``params``).

2. **Adam's bias correction uses** ``1 - beta`` **instead of** ``1 - beta**t``::

       m_hat = m / (1 - beta1)
       v_hat = v / (1 - beta2)

   Option ``bias_correction="1-beta"`` of :func:`adam` (the correct one is
   ``"1-beta**t"``; ``"none"`` skips the correction).

3. **The optimizer functions return the initial weights**: ``w_cur = w.copy()`` is
   updated, but every ``return`` statement returns ``w``. The notebook never uses the
   returned weights afterwards (its plots read ``w_history`` and the error history), so
   this bug changes what a caller would get, not what the notebook shows.
   :func:`reported_params` / :func:`reported_loss` give what the notebook returns
   (``returns_initial=True``) or what it should return.

   (A related quirk of the Momentum function: ``w_history = [w_cur]`` stores the array
   that ``w_cur -= alpha * v`` then updates *in place*, so the first row of Momentum's
   ``w_history`` is the *final* point, not the initial one: :func:`notebook_history`.)

4. **Minibatch gradients are divided by the data set size** ``n`` **instead of the
   batch size** ``B``: ``grad = 2 * X_batch.T.dot(err) / n`` in all three functions, i.e.
   the gradient of the batch's mean squared error times ``B/n``.
   :func:`gradient_scale_bug` is ``optax.scale(B/n)``, to chain before the optimizer.

Everything else follows the notebook: Momentum is the EMA form (``jh.momentum``), RMSprop
has ε inside the square root (``jh.rmsprop``'s default), the notebook's Adam has ε inside
the square root too (``eps=0, eps_root=e`` here; :data:`NOTEBOOK_HYPERPARAMETERS`).
:func:`notebook_optimizer` assembles the notebook's optimizer by name with any set of
the bugs switched on.
"""

from __future__ import annotations

from typing import Iterable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxopt_hw import optimizers as _opt
from jaxopt_hw.optimizers.transform import (
    adam_direction,
    bias_corrected,
    cast_wide,
    descent,
    ema,
    safe_increment,
)

__all__ = [
    "BUGS",
    "BIAS_CORRECTIONS",
    "NOTEBOOK_HYPERPARAMETERS",
    "momentum",
    "rmsprop",
    "adam",
    "gradient_scale_bug",
    "notebook_optimizer",
    "bugs_of",
    "reported_params",
    "reported_loss",
    "notebook_history",
]

#: The notebook's four bugs by name (the names :func:`notebook_optimizer` takes).
BUGS = {
    "assign_step": "RMSprop and Adam assign the step to the weights instead of subtracting it",
    "bias_1_minus_beta": "Adam's bias correction divides by 1 - beta instead of 1 - beta**t",
    "returns_initial": "the optimizer functions return the initial weights, not the final ones",
    "grad_over_n": "minibatch gradients are divided by the data set size n, not the batch size B",
}

#: Which of the bugs each of the notebook's functions has.
_BUGS_OF = {
    "momentum": ("returns_initial", "grad_over_n"),
    "rmsprop": ("assign_step", "returns_initial", "grad_over_n"),
    "adam": ("assign_step", "bias_1_minus_beta", "returns_initial", "grad_over_n"),
}

#: Accepted values of ``adam(..., bias_correction=...)``.
BIAS_CORRECTIONS = ("1-beta**t", "1-beta", "none")

#: The notebook's hyperparameters (its comparison calls are cut off after the learning
#: rate's first digit; these are the values its text and parameter sweeps use: learning
#: rate 1e-2, β = γ = β₁ = 0.9, and Adam's ε inside the square root).
NOTEBOOK_HYPERPARAMETERS = {
    "momentum": {"learning_rate": 1e-2, "beta": 0.9},
    "rmsprop": {"learning_rate": 1e-2, "decay": 0.9, "eps": 1e-8},
    "adam": {"learning_rate": 1e-2, "b1": 0.9, "b2": 0.999, "eps": 0.0, "eps_root": 1e-8},
}


def bugs_of(name: str) -> tuple:
    """The bugs the notebook's function for ``name`` (``"momentum"``, ``"rmsprop"``,
    ``"adam"``) has."""
    if name not in _BUGS_OF:
        raise ValueError(f"name must be one of {sorted(_BUGS_OF)}, got {name!r}")
    return _BUGS_OF[name]


# --------------------------------------------------------------------------- bug 1


def _check_assign(assign_step):
    if isinstance(assign_step, bool):
        return assign_step
    # a (possibly traced) 0/1 flag: lets a sweep vmap over the bug
    return jnp.asarray(assign_step)


def _assigned(updates, params, assign_step):
    r"""Bug 1: the notebook sets :math:`w \leftarrow -u` (``w_cur = step``) where it should
    set :math:`w \leftarrow w + u`; as an additive update that is :math:`-u - w`."""
    if assign_step is False:
        return updates
    if params is None:
        raise ValueError("assign_step needs params in update(grads, state, params)")
    assigned = jax.tree.map(lambda u, w: (-u - w).astype(u.dtype), updates, params)
    if assign_step is True:
        return assigned
    return jax.tree.map(lambda a, u: jnp.where(assign_step, a, u), assigned, updates)


# --------------------------------------------------------------------------- optimizers


def momentum(learning_rate, beta=0.9) -> optax.GradientTransformation:
    """The notebook's Momentum: exactly ``jh.momentum`` (its own code has no bug of its
    own; bugs 3 and 4 live outside the update rule)."""
    return _opt.momentum(learning_rate, beta)


def rmsprop(
    learning_rate, decay=0.9, eps=1e-8, *, assign_step=False
) -> optax.GradientTransformation:
    r"""RMSprop as ``jh.rmsprop`` (ε inside the square root), optionally with bug 1.

    With ``assign_step=True`` the weights are *replaced* by the step, as the notebook's
    ``w_cur = (alpha / ((G + e)**0.5)) * grad``:

    .. math:: G \leftarrow \gamma G + (1-\gamma) g^2, \qquad
              w \leftarrow \alpha\, g / \sqrt{G + \varepsilon}

    Args:
      learning_rate, decay, eps: as in :func:`jaxopt_hw.rmsprop`.
      assign_step: bug 1 (a Python bool, or a 0/1 JAX scalar that may be traced).

    Returns:
      An :class:`optax.GradientTransformation` with state ``jh.RmspropState``; with
      ``assign_step`` on, ``update`` needs ``params``. With it off, bitwise ``jh.rmsprop``.
    """
    base = _opt.rmsprop(learning_rate, decay, eps, eps_in_sqrt=True)
    assign_step = _check_assign(assign_step)
    if assign_step is False:
        return base

    def update(grads, state, params=None):
        updates, state = base.update(grads, state, params)
        return _assigned(updates, params, assign_step), state

    return optax.GradientTransformation(base.init, update)


def adam(
    learning_rate,
    b1=0.9,
    b2=0.999,
    eps=1e-8,
    eps_root=0.0,
    *,
    assign_step=False,
    bias_correction: str = "1-beta**t",
) -> optax.GradientTransformation:
    r"""Adam as ``jh.adam``, optionally with bug 1 and/or bug 2.

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g, \quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,
        \quad \hat m = m / c_1, \quad \hat v = v / c_2, \quad
        s = \alpha\, \hat m / (\sqrt{\hat v + \varepsilon_{root}} + \varepsilon)

    with :math:`c_i = 1 - \beta_i^t` (``"1-beta**t"``, correct), :math:`1 - \beta_i`
    (``"1-beta"``, the notebook's bug 2) or :math:`1` (``"none"``); then
    :math:`w \leftarrow w - s`, or :math:`w \leftarrow s` with ``assign_step=True`` (bug 1,
    the notebook's ``w_cur = (alpha / ((v_hat + e)**0.5)) * m_hat``). The notebook's own
    ε sits inside the square root: ``eps=0, eps_root=e``.

    Args:
      learning_rate, b1, b2, eps, eps_root: as in :func:`jaxopt_hw.adam`.
      assign_step: bug 1 (a Python bool, or a 0/1 JAX scalar that may be traced).
      bias_correction: ``"1-beta**t"``, ``"1-beta"`` (bug 2) or ``"none"``.

    Returns:
      An :class:`optax.GradientTransformation` with state ``jh.AdamState``; with every bug
      off, bitwise ``jh.adam`` with the same arguments.
    """
    if bias_correction not in BIAS_CORRECTIONS:
        raise ValueError(
            f"bias_correction must be one of {BIAS_CORRECTIONS}, got {bias_correction!r}"
        )
    assign_step = _check_assign(assign_step)
    base = _opt.adam(learning_rate, b1, b2, eps, eps_root)  # validates the hyperparameters
    if assign_step is False and bias_correction == "1-beta**t":
        return base

    def corrected(moment, decay, count):
        if bias_correction == "1-beta**t":
            return bias_corrected(moment, decay, count)
        if bias_correction == "none":
            return moment
        # bug 2: the constant 1 - beta (in at least float32, then the moment's dtype, as
        # jh.adam computes 1 - beta**t)
        return jax.tree.map(lambda m: m / (1 - cast_wide(decay, m)).astype(m.dtype), moment)

    def update(grads, state, params=None):
        mu = ema(state.mu, grads, b1)
        nu = ema(state.nu, jax.tree.map(jnp.square, grads), b2)
        count = safe_increment(state.count)
        direction = adam_direction(
            corrected(mu, b1, count), corrected(nu, b2, count), eps, eps_root
        )
        updates = descent(direction, learning_rate, state.count)
        return _assigned(updates, params, assign_step), _opt.AdamState(count=count, mu=mu, nu=nu)

    return optax.GradientTransformation(base.init, update)


# --------------------------------------------------------------------------- bug 4


def gradient_scale_bug(n: int, batch_size: int) -> optax.GradientTransformation:
    r"""Bug 4: the notebook's ``grad = 2 * X_batch.T.dot(err) / n`` is the gradient of the
    batch's mean squared error times :math:`B/n`; this is ``optax.scale(B / n)``, to chain
    *before* the optimizer: ``optax.chain(gradient_scale_bug(n, B), jh.momentum(...))``.

    Example:
      >>> import jax.numpy as jnp
      >>> tx = gradient_scale_bug(n=10_000, batch_size=32)
      >>> tx.update(jnp.array([1.0]), tx.init(jnp.zeros(1)))[0]
      Array([0.0032], dtype=float32)
    """
    n, batch_size = int(n), int(batch_size)
    if n <= 0 or batch_size <= 0:
        raise ValueError(f"n and batch_size must be > 0, got n={n}, batch_size={batch_size}")
    return optax.scale(batch_size / n)


# --------------------------------------------------------------------------- assembly


def notebook_optimizer(
    name: str, *, bugs: Iterable[str] = (), n: int = None, batch_size: int = None, **hyperparameters
):
    """The notebook's optimizer ``name`` with the given ``bugs`` switched on.

    Args:
      name: ``"momentum"``, ``"rmsprop"`` or ``"adam"``.
      bugs: names from :data:`BUGS`. A bug that the notebook's function for ``name`` does
        not have (e.g. ``"assign_step"`` for Momentum) is ignored, so ``bugs=BUGS`` gives
        the notebook as written. ``"returns_initial"`` concerns what is returned, not the
        update rule: use :func:`reported_params`.
      n, batch_size: needed for ``"grad_over_n"``.
      **hyperparameters: overrides of :data:`NOTEBOOK_HYPERPARAMETERS` ``[name]``.

    Returns:
      An :class:`optax.GradientTransformation` (its ``update`` needs ``params`` when
      ``"assign_step"`` applies).
    """
    bugs = set(bugs)
    unknown = bugs - set(BUGS)
    if unknown:
        raise ValueError(f"unknown bugs {sorted(unknown)}; known: {sorted(BUGS)}")
    bugs &= set(bugs_of(name))
    hyper = {**NOTEBOOK_HYPERPARAMETERS[name], **hyperparameters}
    if name == "momentum":
        tx = momentum(**hyper)
    elif name == "rmsprop":
        tx = rmsprop(**hyper, assign_step="assign_step" in bugs)
    else:
        tx = adam(
            **hyper,
            assign_step="assign_step" in bugs,
            bias_correction="1-beta" if "bias_1_minus_beta" in bugs else "1-beta**t",
        )
    if "grad_over_n" in bugs:
        if n is None or batch_size is None:
            raise ValueError("the grad_over_n bug needs n and batch_size")
        tx = optax.chain(gradient_scale_bug(n, batch_size), tx)
    return tx


# --------------------------------------------------------------------------- bug 3


def reported_params(trace, *, returns_initial: bool = True):
    """The weights the notebook's function returns: the *initial* ones (bug 3,
    ``returns_initial=True``) or the final ones.

    Args:
      trace: a :class:`jaxopt_hw.Trace` (run with ``record_params=True`` when
        ``returns_initial``), or a trajectory pytree whose leaves have the step first.
      returns_initial: reproduce bug 3.
    """
    if hasattr(trace, "final_params") and hasattr(trace, "params"):
        if not returns_initial:
            return trace.final_params
        if trace.params is None:
            raise ValueError(
                "reported_params(returns_initial=True) needs a run with record_params=True"
            )
        trajectory = trace.params
    else:
        trajectory = trace
    index = 0 if returns_initial else -1
    return jax.tree.map(lambda a: a[index], trajectory)


def reported_loss(problem, trace, *, returns_initial: bool = True):
    """The full-data loss at :func:`reported_params`: the initial point's loss
    (``trace.initial_loss``) under bug 3, else the loss after the last step."""
    if returns_initial and hasattr(trace, "initial_loss"):
        return trace.initial_loss
    return problem.loss(reported_params(trace, returns_initial=returns_initial))


def notebook_history(trajectory, name: str):
    """The ``w_history`` the notebook's function ``name`` returns for ``trajectory``
    (initial point first, then one row per step).

    Momentum's first row is the array ``w_cur`` itself, which ``w_cur -= alpha * v`` keeps
    updating in place: it ends as the final point. RMSprop and Adam rebind ``w_cur``
    (``w_cur = ...``), so their history is the trajectory. The notebook's contour plot
    therefore starts Momentum's path at its end.
    """
    bugs_of(name)
    if name != "momentum":
        return trajectory
    return jax.tree.map(
        lambda a: np.concatenate([np.asarray(a)[-1:], np.asarray(a)[1:]]), trajectory
    )
