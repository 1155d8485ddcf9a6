"""Tests of :mod:`jaxopt_hw.homework_faithful` (the notebook's bugs, reproduced on purpose).

* with every bug off, each optimizer is bitwise ``jh.rmsprop`` / ``jh.adam`` / ``jh.momentum``
  (float32, jit, several steps), and a traced 0/1 ``assign_step`` equals the Python bool;
* with each bug on alone, each equals a float64 NumPy transcription of the notebook's
  buggy formula;
* the notebook's functions, transcribed line by line (batches, ``/ n``, ``return w``,
  ``w_history``), equal :func:`notebook_optimizer` with all bugs on plus
  :func:`reported_params` and :func:`notebook_history`.
"""

from __future__ import annotations

import doctest

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from optax_loops import scanned_trajectories

import jaxopt_hw as jh
import jaxopt_hw.homework_faithful as hf

STEPS = 60


def _grad_fn(A, s):
    def grad(w, t):
        return A * (w - s) + 0.3 * jnp.sin(w) + 0.1 * jnp.cos(0.1 * t + s)

    return grad


def _np_grad(A, s):
    def grad(w, t):
        return A * (w - s) + 0.3 * np.sin(w) + 0.1 * np.cos(0.1 * t + s)

    return grad


def _trajectory(tx, w0, grad, steps=STEPS):
    """The parameters after each step of ``tx`` (jit, ``params`` passed to ``update``)."""

    run = jax.jit(lambda w0: scanned_trajectories([tx], w0, grad, steps)[0])
    return np.asarray(run(w0))


def _data(dtype=np.float32, seed=0, size=6):
    rng = np.random.default_rng(seed)
    w0 = rng.normal(size=size)
    A = rng.uniform(0.5, 2.0, size=size)
    s = rng.normal(size=size)
    return w0, A, s


# --------------------------------------------------------------------------- all bugs off


@pytest.mark.parametrize(
    "ours, reference",
    [
        (lambda: hf.rmsprop(0.01, 0.9, 1e-8), lambda: jh.rmsprop(0.01, 0.9, 1e-8)),
        (
            lambda: hf.rmsprop(0.01, 0.8, 1e-3, assign_step=False),
            lambda: jh.rmsprop(0.01, 0.8, 1e-3),
        ),
        (
            lambda: hf.rmsprop(0.01, 0.9, 1e-8, assign_step=jnp.asarray(0.0)),
            lambda: jh.rmsprop(0.01, 0.9, 1e-8),
        ),
        (lambda: hf.adam(0.01), lambda: jh.adam(0.01)),
        (
            lambda: hf.adam(
                0.02, 0.8, 0.99, 1e-6, 1e-8, assign_step=False, bias_correction="1-beta**t"
            ),
            lambda: jh.adam(0.02, 0.8, 0.99, 1e-6, 1e-8),
        ),
        (lambda: hf.adam(0.01, assign_step=jnp.asarray(False)), lambda: jh.adam(0.01)),
        (lambda: hf.momentum(0.01, 0.9), lambda: jh.momentum(0.01, 0.9)),
        (
            lambda: hf.notebook_optimizer("adam", bugs=()),
            lambda: jh.adam(0.01, 0.9, 0.999, 0.0, 1e-8),
        ),
        (lambda: hf.notebook_optimizer("rmsprop", bugs=()), lambda: jh.rmsprop(0.01, 0.9, 1e-8)),
        (lambda: hf.notebook_optimizer("momentum", bugs=()), lambda: jh.momentum(0.01, 0.9)),
    ],
)
def test_all_bugs_off_is_bitwise_ours(ours, reference):
    w0, A, s = _data()
    w0 = jnp.asarray(w0, jnp.float32)
    grad = _grad_fn(jnp.asarray(A, jnp.float32), jnp.asarray(s, jnp.float32))
    got, want = _trajectory(ours(), w0, grad), _trajectory(reference(), w0, grad)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    assert np.max(np.abs(want[-1] - np.asarray(w0))) > 1e-2  # the runs did move


def test_traced_assign_flag_equals_python_bool():
    w0, A, s = _data()
    w0 = jnp.asarray(w0, jnp.float32)
    grad = _grad_fn(jnp.asarray(A, jnp.float32), jnp.asarray(s, jnp.float32))
    for make in (lambda a: hf.rmsprop(0.01, assign_step=a), lambda a: hf.adam(0.01, assign_step=a)):
        np.testing.assert_array_equal(
            _trajectory(make(jnp.asarray(1.0)), w0, grad), _trajectory(make(True), w0, grad)
        )


# --------------------------------------------------------------------------- each bug alone vs NumPy


def _np_rmsprop(w0, grad, steps, alpha, gamma, e, assign):
    """The notebook's RMSprop update (``assign``: its ``w_cur = step``; else ``w_cur -= step``)."""
    w, G, out = w0.copy(), np.zeros_like(w0), []
    for t in range(steps):
        g = grad(w, t)
        G = gamma * G + (1 - gamma) * g**2
        step = (alpha / ((G + e) ** 0.5)) * g
        w = step if assign else w - step
        out.append(w.copy())
    return np.array(out)


def _np_adam(w0, grad, steps, alpha, beta1, beta2, e, assign, one_minus_beta):
    """The notebook's Adam update, ε inside the square root (``one_minus_beta``: its
    ``m / (1 - beta1)``; else ``m / (1 - beta1**t)``)."""
    w, m, v, out = w0.copy(), np.zeros_like(w0), np.zeros_like(w0), []
    for t in range(1, steps + 1):
        g = grad(w, t - 1)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        if one_minus_beta:
            m_hat, v_hat = m / (1 - beta1), v / (1 - beta2)
        else:
            m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        step = (alpha / ((v_hat + e) ** 0.5)) * m_hat
        w = step if assign else w - step
        out.append(w.copy())
    return np.array(out)


CASES = {
    "rmsprop-assign": (
        lambda: hf.rmsprop(0.01, 0.9, 1e-8, assign_step=True),
        lambda w0, g: _np_rmsprop(w0, g, STEPS, 0.01, 0.9, 1e-8, assign=True),
    ),
    "rmsprop-correct": (
        # ε = 1e-3 keeps the correct method out of the regime where a gradient component
        # crossing 0 is divided by a tiny sqrt(G) and round-off decides the trajectory
        lambda: hf.rmsprop(0.01, 0.9, 1e-3),
        lambda w0, g: _np_rmsprop(w0, g, STEPS, 0.01, 0.9, 1e-3, assign=False),
    ),
    "adam-assign": (
        lambda: hf.adam(0.01, 0.9, 0.999, eps=0.0, eps_root=1e-8, assign_step=True),
        lambda w0, g: _np_adam(
            w0, g, STEPS, 0.01, 0.9, 0.999, 1e-8, assign=True, one_minus_beta=False
        ),
    ),
    "adam-1-beta": (
        lambda: hf.adam(0.01, 0.9, 0.999, eps=0.0, eps_root=1e-8, bias_correction="1-beta"),
        lambda w0, g: _np_adam(
            w0, g, STEPS, 0.01, 0.9, 0.999, 1e-8, assign=False, one_minus_beta=True
        ),
    ),
    "adam-both": (
        lambda: hf.adam(
            0.01, 0.8, 0.9, eps=0.0, eps_root=1e-8, assign_step=True, bias_correction="1-beta"
        ),
        lambda w0, g: _np_adam(
            w0, g, STEPS, 0.01, 0.8, 0.9, 1e-8, assign=True, one_minus_beta=True
        ),
    ),
    "adam-correct": (
        lambda: hf.adam(0.01, 0.9, 0.999, eps=0.0, eps_root=1e-8),
        lambda w0, g: _np_adam(
            w0, g, STEPS, 0.01, 0.9, 0.999, 1e-8, assign=False, one_minus_beta=False
        ),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bug_equals_numpy_transcription(name):
    ours, reference = CASES[name]
    w0, A, s = _data(seed=3)
    expected = reference(w0, _np_grad(A, s))
    with jax.enable_x64(True):
        got = _trajectory(ours(), jnp.asarray(w0), _grad_fn(jnp.asarray(A), jnp.asarray(s)))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-13)


def test_assigned_weights_stay_near_zero():
    """The consequence that matters: with the step assigned, |w| ≤ α/√(1-γ) for RMSprop."""
    w0, A, s = _data(seed=4)
    grad = _grad_fn(jnp.asarray(A, jnp.float32), jnp.asarray(s + 10.0, jnp.float32))
    traj = _trajectory(
        hf.rmsprop(0.01, 0.9, 1e-8, assign_step=True), jnp.asarray(w0, jnp.float32), grad
    )
    assert np.max(np.abs(traj)) <= 0.01 / np.sqrt(1 - 0.9) * (1 + 1e-5)
    correct = _trajectory(
        hf.rmsprop(0.01, 0.9, 1e-8), jnp.asarray(w0, jnp.float32), grad, steps=2000
    )
    assert np.max(np.abs(correct[-1])) > 5.0  # the correct one heads for s + 10


def test_gradient_scale_bug_is_b_over_n():
    tx = hf.gradient_scale_bug(n=500, batch_size=32)
    g = {"a": jnp.arange(3.0)}
    updates, _ = tx.update(g, tx.init(g))
    np.testing.assert_allclose(updates["a"], np.arange(3.0) * 32 / 500, rtol=1e-7)
    with pytest.raises(ValueError):
        hf.gradient_scale_bug(0, 32)


def test_assign_needs_params():
    tx = hf.rmsprop(0.1, assign_step=True)
    with pytest.raises(ValueError, match="params"):
        tx.update(jnp.ones(2), tx.init(jnp.ones(2)))


def test_argument_checks():
    with pytest.raises(ValueError, match="bias_correction"):
        hf.adam(0.1, bias_correction="1-beta^t")
    with pytest.raises(ValueError, match="unknown bugs"):
        hf.notebook_optimizer("adam", bugs=["typo"])
    with pytest.raises(ValueError, match="n and batch_size"):
        hf.notebook_optimizer("momentum", bugs=["grad_over_n"])
    with pytest.raises(ValueError):
        hf.bugs_of("sgd")
    with pytest.raises(ValueError):
        hf.adam(-0.1)  # validated as jh.adam


# --------------------------------------------------------------------------- the notebook, line by line


def _generate_batch(X, y, batch_size):
    for i in range(0, len(X), batch_size):
        yield X[i : i + batch_size], y[i : i + batch_size]


def _notebook(
    kind,
    X,
    y,
    w,
    perms,
    batch_size,
    alpha,
    max_iters,
    beta=0.9,
    beta1=0.9,
    beta2=0.999,
    gamma=0.9,
    e=1e-8,
):
    """The notebook's three functions transcribed (``np.random.permutation`` replaced by
    the given ``perms``), bugs and all: ``/ n``, assignment of the step, ``1 - beta``,
    ``return w`` and the in-place ``w_cur -= ...`` aliasing ``w_history[0]``."""
    n, d = X.shape
    w_cur = w.copy()
    v = np.zeros(d)
    G = np.zeros(d)
    m = np.zeros(d)
    w_history = [w_cur]
    err_history = []
    n_iter = 0
    for p in perms:
        for X_batch, y_batch in _generate_batch(X[p], y[p], batch_size):
            y_pred = X_batch.dot(w_cur)
            err = y_pred - y_batch
            grad = 2 * X_batch.T.dot(err) / n
            if kind == "momentum":
                v = beta * v + (1 - beta) * grad
                w_cur -= alpha * v
            elif kind == "rmsprop":
                G = gamma * G + (1 - gamma) * (grad) ** 2
                w_cur = (alpha / ((G + e) ** 0.5)) * grad
            else:
                m = beta1 * m + (1 - beta1) * grad
                v = beta2 * v + (1 - beta2) * grad**2
                m_hat = m / (1 - beta1)
                v_hat = v / (1 - beta2)
                w_cur = (alpha / ((v_hat + e) ** 0.5)) * m_hat
            w_history.append(w_cur.copy())
            err_history.append(np.abs(err).mean())
            n_iter += 1
            if n_iter == max_iters:
                return w, np.array(w_history), np.array(err_history)
    return w, np.array(w_history), np.array(err_history)


@pytest.mark.parametrize("kind", ["momentum", "rmsprop", "adam"])
def test_notebook_as_written(kind):
    rng = np.random.default_rng(11)
    n, d, B, iters = 96, 3, 32, 9  # n a multiple of B: every batch is full
    X = rng.uniform(-5, 5, (n, d)) * (np.arange(d) * 2 + 1)
    y = X @ rng.standard_normal(d) + rng.normal(0, 1, n)
    w0 = rng.standard_normal(d)
    perms = [rng.permutation(n) for _ in range(4)]
    returned, history, errors = _notebook(kind, X, y, w0, perms, B, alpha=1e-2, max_iters=iters)

    batches = [(X[p][i : i + B], y[p][i : i + B]) for p in perms for i in range(0, n, B)][:iters]
    with jax.enable_x64(True):
        tx = hf.notebook_optimizer(kind, bugs=hf.BUGS, n=n, batch_size=B)
        Xb = jnp.asarray(np.stack([b[0] for b in batches]))
        yb = jnp.asarray(np.stack([b[1] for b in batches]))
        loss = lambda w, Xi, yi: jnp.mean((Xi @ w - yi) ** 2)  # noqa: E731  (gradient 2Xᵀerr/B)

        def step(carry, batch):
            w, state = carry
            updates, state = tx.update(jax.grad(loss)(w, *batch), state, w)
            w = optax.apply_updates(w, updates)
            return (w, state), w

        w0_ = jnp.asarray(w0)
        _, traj = jax.lax.scan(step, (w0_, tx.init(w0_)), (Xb, yb))
        trajectory = np.concatenate([w0[None], np.asarray(traj)])

    np.testing.assert_allclose(
        hf.notebook_history(trajectory, kind), history, rtol=1e-11, atol=1e-14
    )
    np.testing.assert_array_equal(hf.reported_params(trajectory), returned)  # bug 3
    np.testing.assert_array_equal(returned, w0)
    assert not np.allclose(trajectory[-1], w0)
    if kind == "momentum":  # the aliased first row is the final point
        np.testing.assert_array_equal(history[0], history[-1])
    else:
        np.testing.assert_array_equal(history[0], w0)


def test_reported_params_of_a_trace():
    prob = jh.homework_problem("small")
    tx = hf.notebook_optimizer("rmsprop", bugs=["assign_step"])
    trace = jh.run(prob, tx, steps=50, batch_size=32, seed=1, record_params=True)
    np.testing.assert_array_equal(hf.reported_params(trace), prob.init_params(1))
    np.testing.assert_array_equal(
        hf.reported_params(trace, returns_initial=False), trace.final_params
    )
    assert float(hf.reported_loss(prob, trace)) == float(trace.initial_loss)
    np.testing.assert_allclose(
        float(hf.reported_loss(prob, trace, returns_initial=False)),
        float(trace.loss[-1]),
        rtol=1e-6,
    )
    assert np.max(np.abs(np.asarray(trace.final_params))) <= 0.01 / np.sqrt(0.1) * (1 + 1e-5)
    plain = jh.run(prob, tx, steps=50, batch_size=32, seed=1)
    with pytest.raises(ValueError, match="record_params"):
        hf.reported_params(plain)


def test_docstring_examples():
    failures, _ = doctest.testmod(hf)
    assert failures == 0
