"""Tests of :mod:`jaxopt_hw.optimizers`.

What is pinned down here:

* every optimizer equals its optax counterpart step by step (>= 200 steps) on nested
  pytrees of mixed shapes, with parameter-dependent gradients, in float32 and float64;
* momentum, heavy ball, RMSprop and Adam equal a float64 NumPy transcription of their
  update equations;
* schedules equal optax's, and are evaluated at the step count before it is incremented;
* ``jax.vmap`` over a hyperparameter and ``jax.jit`` leave every result unchanged up to
  round-off (a few machine epsilons; XLA:CPU fuses batched and unbatched programs
  differently, so not bitwise); a JAX scalar hyperparameter gives bitwise the same run
  as the Python float;
* the optimizers compose with optax transforms and run in a plain optax loop;
* states are NamedTuples; leaves keep their dtype (float16 / bfloat16 included);
* hyperparameters are validated eagerly;
* each optimizer solves random least-squares problems (hypothesis draws sizes/seeds);
* the module's docstring examples hold.
"""

from __future__ import annotations

import doctest
import functools
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optax_loops import scanned_trajectories

import jaxopt_hw as jh
import jaxopt_hw.optimizers as jopt

STEPS = 200  # steps of every equivalence test

# (rtol, atol) per dtype for "the same algorithm as optax" and for "an equivalent
# algorithm with different arithmetic" (momentum written as heavy ball with a rescaled
# step). The parameters are O(1), so atol = rtol. The float32 differences are round-off:
# e.g. our 1 - b2 is computed in the leaf's dtype (so that a Python float and a traced
# float32 hyperparameter give the same bits), optax's in Python's float64.
SAME = {jnp.float32: (1e-5, 1e-5), jnp.float64: (1e-12, 1e-12)}
EQUIVALENT = {jnp.float32: (1e-4, 1e-4), jnp.float64: (1e-10, 1e-10)}


def _roundoff(dtype, n_eps):
    """(rtol, atol) of ``n_eps`` machine epsilons: agreement up to round-off."""
    eps = float(jnp.finfo(dtype).eps)
    return n_eps * eps, n_eps * eps


@pytest.fixture(params=["float32", "float64"])
def dtype(request):
    """The float dtype of a test; float64 runs inside ``jax.enable_x64`` (restored after)."""
    if request.param == "float64":
        with jax.enable_x64(True):
            yield jnp.float64
    else:
        yield jnp.float32


# --------------------------------------------------------------------------- problems


def _nested(make):
    """A nested pytree with leaves of mixed shapes: matrix, vector, scalar, 3-tensor."""
    return {"a": make((3, 2)), "b": (make((4,)), make(())), "c": [make((2, 1, 3))]}


def _problem(dtype, seed=0):
    """Initial params and a gradient oracle ``grad(params, t)`` on a nested pytree.

    The gradient is that of the separable, strongly convex objective
    ``sum a/2 (w - s)^2 - 0.3 cos(w)`` plus a term that changes with the step ``t``,
    so it depends both on the parameters and on the step.
    """
    rng = np.random.default_rng(seed)
    params = _nested(lambda s: jnp.asarray(rng.normal(size=s), dtype))
    curvature = _nested(lambda s: jnp.asarray(rng.uniform(0.5, 2.0, size=s), dtype))
    shift = _nested(lambda s: jnp.asarray(rng.normal(size=s), dtype))

    def grad(params, t):
        t = jnp.asarray(t, dtype)
        return jax.tree.map(
            lambda w, a, s: a * (w - s) + 0.3 * jnp.sin(w) + 0.1 * jnp.cos(0.1 * t + s),
            params,
            curvature,
            shift,
        )

    return params, grad


def _trajectories(txs, params, grad, steps=STEPS):
    """Runs every transformation in ``txs`` from ``params`` (one compiled program).

    Returns one stacked parameter trajectory (leading axis: step) per transformation.
    Updates are applied with :func:`optax.apply_updates`, ``params`` are passed to
    ``update`` (as optax's loops do).
    """
    return jax.jit(lambda params: scanned_trajectories(txs, params, grad, steps))(params)


def _assert_close(actual, desired, tols):
    rtol, atol = tols
    chex.assert_trees_all_close(actual, desired, rtol=rtol, atol=atol)


def _assert_moved(trajectory, params):
    """Guards against vacuous comparisons: the parameters did change."""
    final = jax.tree.map(lambda x: x[-1], trajectory)
    distance = sum(
        float(jnp.sum(jnp.abs(f - p)))
        for f, p in zip(jax.tree.leaves(final), jax.tree.leaves(params))
    )
    assert distance > 1e-2


# --------------------------------------------------------------------------- optax equivalence

# name -> (ours, optax's, tolerance kind)
OPTAX_PAIRS = {
    "sgd": (lambda: jh.sgd(0.1), lambda: optax.sgd(0.1), SAME),
    "momentum=ema+scale": (
        lambda: jh.momentum(0.3, beta=0.9),
        lambda: optax.chain(optax.ema(0.9, debias=False), optax.scale(-0.3)),
        SAME,
    ),
    "momentum=sgd(lr*(1-beta))": (
        lambda: jh.momentum(0.3, beta=0.9),
        lambda: optax.sgd(0.3 * (1 - 0.9), momentum=0.9),
        EQUIVALENT,
    ),
    "heavy_ball": (
        lambda: jh.heavy_ball(0.05, beta=0.8),
        lambda: optax.sgd(0.05, momentum=0.8, nesterov=False),
        SAME,
    ),
    "nesterov": (
        lambda: jh.heavy_ball(0.05, beta=0.8, nesterov=True),
        lambda: optax.sgd(0.05, momentum=0.8, nesterov=True),
        SAME,
    ),
    # Adaptive methods take steps of length ~lr whatever the gradient's scale; a small lr
    # keeps them away from the chaotic regime around the optimum, where round-off (not
    # the algorithm) would decide the trajectory.
    "rmsprop": (
        lambda: jh.rmsprop(0.005, decay=0.95, eps=1e-3),
        lambda: optax.rmsprop(0.005, decay=0.95, eps=1e-3, eps_in_sqrt=True),
        SAME,
    ),
    "rmsprop-eps-outside-sqrt": (
        lambda: jh.rmsprop(0.005, decay=0.95, eps=1e-3, eps_in_sqrt=False),
        lambda: optax.rmsprop(0.005, decay=0.95, eps=1e-3, eps_in_sqrt=False),
        SAME,
    ),
    "adam": (
        lambda: jh.adam(0.005, b1=0.8, b2=0.99, eps=1e-6),
        lambda: optax.adam(0.005, b1=0.8, b2=0.99, eps=1e-6),
        SAME,
    ),
    "adam-defaults": (lambda: jh.adam(0.005), lambda: optax.adam(0.005), SAME),
    "adam-eps_root": (
        lambda: jh.adam(0.005, b1=0.9, b2=0.99, eps=1e-8, eps_root=1e-4),
        lambda: optax.adam(0.005, b1=0.9, b2=0.99, eps=1e-8, eps_root=1e-4),
        SAME,
    ),
    "adamw": (
        lambda: jh.adamw(0.005, b1=0.8, b2=0.99, eps=1e-6, weight_decay=0.1),
        lambda: optax.adamw(0.005, b1=0.8, b2=0.99, eps=1e-6, weight_decay=0.1),
        SAME,
    ),
    "amsgrad": (
        lambda: jh.amsgrad(0.005, b1=0.8, b2=0.99, eps=1e-6),
        lambda: optax.amsgrad(0.005, b1=0.8, b2=0.99, eps=1e-6),
        SAME,
    ),
    "adagrad": (
        lambda: jh.adagrad(0.1, initial_accumulator_value=0.2, eps=1e-6),
        lambda: optax.adagrad(0.1, initial_accumulator_value=0.2, eps=1e-6),
        SAME,
    ),
}


@functools.cache
def _optax_pair_runs(dtype) -> dict:
    """``{name: (params, ours, optax's)}``: every pair of :data:`OPTAX_PAIRS` run from its
    own problem (seeded by the name's length), all in one compiled program per dtype: one
    compile instead of one per pair, shared by the parametrized tests below."""
    problems = {name: _problem(dtype, seed=len(name)) for name in OPTAX_PAIRS}

    @jax.jit
    def run_all(all_params):
        return {
            name: scanned_trajectories(
                [ours(), theirs()], all_params[name], problems[name][1], STEPS
            )
            for name, (ours, theirs, _) in OPTAX_PAIRS.items()
        }

    runs = run_all({name: params for name, (params, _) in problems.items()})
    return {name: (problems[name][0], *runs[name]) for name in OPTAX_PAIRS}


@pytest.mark.parametrize("name", list(OPTAX_PAIRS))
def test_equals_optax_on_nested_pytrees(name, dtype, request):
    if (
        name == "rmsprop-eps-outside-sqrt"
        and dtype == jnp.float32
        and jax.default_backend() == "gpu"
    ):
        # on an H200 the two drift apart by 6e-4 after ~160 steps near the optimum: GPU
        # round-off differs between the two programs and this trajectory amplifies it (the
        # chaotic regime the comment on OPTAX_PAIRS describes); cause not pinned down
        request.applymarker(
            pytest.mark.xfail(reason="float32 round-off on GPUs amplified near the optimum")
        )
    tolerance = OPTAX_PAIRS[name][2]
    params, mine, reference = _optax_pair_runs(dtype)[name]
    chex.assert_trees_all_equal_dtypes(mine, reference)
    for leaf in jax.tree.leaves(mine):
        assert leaf.dtype == dtype and leaf.shape[0] == STEPS
    _assert_close(mine, reference, tolerance[dtype])
    _assert_moved(mine, params)


def test_eps_placement_matters():
    """The two RMSprop variants compared above really are different algorithms."""
    params, grad = _problem(jnp.float32)
    inside, outside = _trajectories(
        [jh.rmsprop(0.01, eps=1e-3), jh.rmsprop(0.01, eps=1e-3, eps_in_sqrt=False)],
        params,
        grad,
        steps=20,
    )
    diff = max(
        float(jnp.max(jnp.abs(a - b)))
        for a, b in zip(jax.tree.leaves(inside), jax.tree.leaves(outside))
    )
    assert diff > 1e-4


# --------------------------------------------------------------------------- schedules

# ours, optax's (optax's warm-up/cosine ``decay_steps`` counts the warm-up steps).
SCHEDULE_PAIRS = {
    "exponential": (
        jh.exponential_decay(0.5, 0.9, transition_steps=7),
        optax.exponential_decay(0.5, transition_steps=7, decay_rate=0.9),
    ),
    "exponential-staircase": (
        jh.exponential_decay(0.5, 0.9, transition_steps=7, staircase=True),
        optax.exponential_decay(0.5, transition_steps=7, decay_rate=0.9, staircase=True),
    ),
    "step": (
        jh.step_decay(0.5, 0.3, step_size=25),
        optax.exponential_decay(0.5, transition_steps=25, decay_rate=0.3, staircase=True),
    ),
    "cosine": (jh.cosine_decay(0.5, 150), optax.cosine_decay_schedule(0.5, 150)),
    "cosine-alpha": (
        jh.cosine_decay(0.5, 150, alpha=0.1),
        optax.cosine_decay_schedule(0.5, 150, alpha=0.1),
    ),
    "warmup-cosine": (
        jh.warmup_cosine_decay(0.5, 20, 150),
        optax.warmup_cosine_decay_schedule(0.0, 0.5, 20, 20 + 150),
    ),
    "warmup-cosine-end": (
        jh.warmup_cosine_decay(0.5, 20, 150, end_fraction=0.2),
        optax.warmup_cosine_decay_schedule(0.0, 0.5, 20, 20 + 150, end_value=0.1),
    ),
    "constant": (jh.constant_schedule(0.25), optax.constant_schedule(0.25)),
    "linear-warmup-constant": (
        jh.linear_warmup(0.5, warmup_steps=30, init_value=0.1),
        optax.join_schedules(
            [optax.linear_schedule(0.1, 0.5, 30), optax.constant_schedule(0.5)], [30]
        ),
    ),
}


@pytest.mark.parametrize("name", list(SCHEDULE_PAIRS))
def test_schedule_equals_optax(name):
    ours, theirs = SCHEDULE_PAIRS[name]
    counts = jnp.arange(0, 260, dtype=jnp.int32)  # beyond the end of every schedule
    mine = jax.vmap(ours)(counts)
    reference = jax.vmap(theirs)(counts)
    # optax computes its schedules in float32.
    np.testing.assert_allclose(np.asarray(mine), np.asarray(reference), rtol=2e-6, atol=1e-7)
    # Python ints give the same values as int32 arrays.
    for t in (0, 1, 19, 20, 21, 100, 259):
        np.testing.assert_allclose(float(ours(t)), float(mine[t]), rtol=1e-6)


def test_schedules_take_their_documented_values():
    """Values from the closed-form formulas, computed in float64 NumPy."""
    t = np.arange(0, 300)
    np.testing.assert_allclose(
        jax.vmap(jh.exponential_decay(2.0, 0.5, 10))(jnp.asarray(t)),
        2.0 * 0.5 ** (t / 10),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        jax.vmap(jh.step_decay(2.0, 0.5, 10))(jnp.asarray(t)), 2.0 * 0.5 ** (t // 10), rtol=1e-6
    )
    cosine = 0.5 * (1 + np.cos(np.pi * np.minimum(t, 200) / 200))
    np.testing.assert_allclose(
        jax.vmap(jh.cosine_decay(2.0, 200, alpha=0.25))(jnp.asarray(t)),
        2.0 * (0.75 * cosine + 0.25),
        rtol=1e-6,
        atol=1e-7,
    )
    warm = jax.vmap(jh.warmup_cosine_decay(2.0, 50, 200))(jnp.asarray(t))
    after = np.maximum(t - 50, 0)
    expected = np.where(
        t < 50, 2.0 * t / 50, 2.0 * 0.5 * (1 + np.cos(np.pi * np.minimum(after, 200) / 200))
    )
    np.testing.assert_allclose(warm, expected, rtol=1e-6, atol=1e-6)
    assert float(warm[0]) == 0.0 and float(jnp.max(warm)) == pytest.approx(2.0)


# name -> (ours, optax's, peak learning rate). Adaptive methods get a smaller peak (see
# OPTAX_PAIRS).
SCHEDULED = {
    "sgd": (jh.sgd, optax.sgd, 0.1),
    "momentum": (
        lambda lr: jh.momentum(lr, beta=0.9),
        lambda lr: optax.chain(optax.ema(0.9, debias=False), optax.scale_by_learning_rate(lr)),
        0.3,
    ),
    "heavy_ball": (
        lambda lr: jh.heavy_ball(lr, beta=0.8, nesterov=True),
        lambda lr: optax.sgd(lr, momentum=0.8, nesterov=True),
        0.05,
    ),
    "rmsprop": (
        lambda lr: jh.rmsprop(lr, eps=1e-3),
        lambda lr: optax.rmsprop(lr, eps=1e-3),
        0.01,
    ),
    "adam": (lambda lr: jh.adam(lr, eps=1e-6), lambda lr: optax.adam(lr, eps=1e-6), 0.01),
    "adamw": (
        lambda lr: jh.adamw(lr, eps=1e-6, weight_decay=0.1),
        lambda lr: optax.adamw(lr, eps=1e-6, weight_decay=0.1),
        0.01,
    ),
    "amsgrad": (
        lambda lr: jh.amsgrad(lr, eps=1e-6),
        lambda lr: optax.amsgrad(lr, eps=1e-6),
        0.01,
    ),
    "adagrad": (jh.adagrad, optax.adagrad, 0.1),
}


@pytest.mark.parametrize("name", list(SCHEDULED))
def test_schedule_inside_optimizer_equals_optax(name):
    """The same schedule function in ours and optax's: it is evaluated at the same count."""
    ours, theirs, peak = SCHEDULED[name]
    schedule = jh.warmup_cosine_decay(peak, 30, 150)  # zero at t = 0, strongly varying
    params, grad = _problem(jnp.float32, seed=3)
    mine, reference = _trajectories([ours(schedule), theirs(schedule)], params, grad)
    _assert_close(mine, reference, SAME[jnp.float32])
    _assert_moved(mine, params)
    # The first step uses schedule(0) == 0: no movement (evaluated before incrementing).
    first = jax.tree.map(lambda x: x[0], mine)
    chex.assert_trees_all_equal(first, params)


@pytest.mark.parametrize("name", ["sgd", "heavy_ball", "adam", "rmsprop"])
def test_our_schedule_in_ours_equals_optax_schedule_in_optax(name):
    ours, theirs, peak = SCHEDULED[name]
    params, grad = _problem(jnp.float32, seed=4)
    mine, reference = _trajectories(
        [
            ours(jh.warmup_cosine_decay(peak, 30, 150, end_fraction=0.1)),
            theirs(optax.warmup_cosine_decay_schedule(0.0, peak, 30, 180, end_value=0.1 * peak)),
        ],
        params,
        grad,
    )
    _assert_close(mine, reference, (2e-5, 2e-5))
    _assert_moved(mine, params)


def test_schedule_is_evaluated_before_the_count_is_incremented():
    seen = []

    def schedule(count):
        seen.append(int(count))
        return 0.1 * (count + 1.0)

    tx = jh.sgd(schedule)
    state = tx.init(jnp.zeros(2))
    for t in range(3):
        updates, state = tx.update(jnp.ones(2), state)
        np.testing.assert_allclose(updates, -0.1 * (t + 1) * np.ones(2), rtol=1e-6)
    assert seen == [0, 1, 2]
    assert int(state.count) == 3


# --------------------------------------------------------------------------- NumPy reference


def _np_grad(A, s):
    """Gradient oracle in NumPy (the same objective as _problem, flat)."""

    def grad(w, t):
        return A * (w - s) + 0.3 * np.sin(w) + 0.1 * np.cos(0.1 * t + s)

    return grad


def _np_momentum(w, grad, steps, lr, beta):
    v = np.zeros_like(w)
    for t in range(steps):
        g = grad(w, t)
        v = beta * v + (1 - beta) * g  # eq. 1
        w = w - lr * v  # eq. 2
    return w


def _np_heavy_ball(w, grad, steps, lr, beta, nesterov):
    v = np.zeros_like(w)
    for t in range(steps):
        g = grad(w, t)
        v = beta * v + g
        w = w - lr * ((g + beta * v) if nesterov else v)
    return w


def _np_rmsprop(w, grad, steps, lr, decay, eps):
    G = np.zeros_like(w)
    for t in range(steps):
        g = grad(w, t)
        G = decay * G + (1 - decay) * g**2  # eq. 3
        w = w - lr * g / np.sqrt(G + eps)  # eq. 4
    return w


def _np_adam(w, grad, steps, lr, b1, b2, eps):
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, steps + 1):
        g = grad(w, t - 1)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


NUMPY_CASES = {
    "momentum": (
        lambda: jh.momentum(0.2, beta=0.9),
        functools.partial(_np_momentum, lr=0.2, beta=0.9),
    ),
    "heavy_ball": (
        lambda: jh.heavy_ball(0.05, beta=0.85),
        functools.partial(_np_heavy_ball, lr=0.05, beta=0.85, nesterov=False),
    ),
    "nesterov": (
        lambda: jh.heavy_ball(0.05, beta=0.85, nesterov=True),
        functools.partial(_np_heavy_ball, lr=0.05, beta=0.85, nesterov=True),
    ),
    "rmsprop": (
        lambda: jh.rmsprop(0.01, decay=0.9, eps=1e-4),
        functools.partial(_np_rmsprop, lr=0.01, decay=0.9, eps=1e-4),
    ),
    "adam": (
        lambda: jh.adam(0.02, b1=0.9, b2=0.999, eps=1e-8),
        functools.partial(_np_adam, lr=0.02, b1=0.9, b2=0.999, eps=1e-8),
    ),
}


@pytest.mark.parametrize("name", list(NUMPY_CASES))
def test_equals_float64_numpy_reference(name):
    ours, reference = NUMPY_CASES[name]
    steps = 250
    rng = np.random.default_rng(7)
    w0, A, s = rng.normal(size=8), rng.uniform(0.5, 2.0, size=8), rng.normal(size=8)
    expected = reference(w0, _np_grad(A, s), steps)
    with jax.enable_x64(True):
        A_, s_ = jnp.asarray(A), jnp.asarray(s)

        def grad(w, t):
            return A_ * (w - s_) + 0.3 * jnp.sin(w) + 0.1 * jnp.cos(0.1 * t + s_)

        (trajectory,) = _trajectories([ours()], jnp.asarray(w0), grad, steps=steps)
        assert trajectory.dtype == jnp.float64
        actual = np.asarray(trajectory[-1])
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-14)
    assert np.max(np.abs(expected - w0)) > 1e-2


# --------------------------------------------------------------------------- vmap and jit

# name -> factory of the traced hyperparameter, values of that hyperparameter.
VMAP_CASES = {
    "sgd/lr": (jh.sgd, [0.01, 0.05, 0.1, 0.3]),
    "momentum/lr": (lambda lr: jh.momentum(lr, beta=0.9), [0.01, 0.1, 0.3]),
    "momentum/beta": (lambda b: jh.momentum(0.1, beta=b), [0.0, 0.5, 0.9, 0.99]),
    "heavy_ball/beta": (lambda b: jh.heavy_ball(0.05, beta=b, nesterov=True), [0.0, 0.5, 0.9]),
    "rmsprop/decay": (lambda d: jh.rmsprop(0.01, decay=d, eps=1e-4), [0.5, 0.9, 0.99]),
    "adam/lr": (jh.adam, [1e-3, 1e-2, 3e-2]),
    "adam/b1": (lambda b1: jh.adam(0.01, b1=b1), [0.0, 0.5, 0.9, 0.95]),
    "adamw/lr": (lambda lr: jh.adamw(lr, weight_decay=0.1), [1e-3, 1e-2, 3e-2]),
    "amsgrad/lr": (jh.amsgrad, [1e-3, 1e-2, 3e-2]),
    "adagrad/lr": (jh.adagrad, [1e-2, 1e-1, 0.5]),
    "adam/schedule-init": (lambda lr: jh.adam(jh.exponential_decay(lr, 0.99)), [1e-3, 1e-2, 3e-2]),
}

VMAP_STEPS = 60


def _final_params(factory, params, grad, value):
    """Builds the optimizer from a (possibly traced) scalar and runs ``VMAP_STEPS`` steps."""
    tx = factory(value)

    def step(carry, t):
        w, state = carry
        updates, state = tx.update(grad(w, t), state, w)
        return (jh.apply_updates(w, updates), state), None

    (w, _), _ = jax.lax.scan(step, (params, tx.init(params)), jnp.arange(VMAP_STEPS))
    return w


@pytest.mark.parametrize("name", list(VMAP_CASES))
def test_vmap_over_hyperparameter_equals_single_runs(name):
    """vmap over a hyperparameter vector = one run per value, up to round-off.

    Not bitwise: XLA:CPU compiles the batched and the unbatched program differently
    (e.g. which multiply-adds become FMAs), so single elements may differ in the last
    bit from step to step. Measured: under 1 epsilon (relative to 1 + |w|) after 60
    steps; asserted: 4 epsilons. The state is built inside the vmapped function from the
    traced scalar, with no optax.inject_hyperparams.
    """
    factory, values = VMAP_CASES[name]
    params, grad = _problem(jnp.float32, seed=11)
    run = functools.partial(_final_params, factory, params, grad)
    values = jnp.asarray(values, jnp.float32)
    batched = jax.jit(jax.vmap(run))(values)
    single = jax.jit(run)
    for i in range(len(values)):
        _assert_close(
            jax.tree.map(lambda x: x[i], batched), single(values[i]), _roundoff(jnp.float32, 4)
        )
    # Different hyperparameters give different results (the axis is not ignored).
    first = jax.tree.leaves(batched)[0]
    assert not np.allclose(first[0], first[-1], rtol=1e-3)


def test_vmap_one_step_from_identical_state_and_python_float_equivalence(dtype):
    """One update under vmap from the same state, and a traced scalar vs a Python float."""
    params, grad = _problem(dtype, seed=12)
    values = [1e-3, 1e-2, 0.1]
    for factory in [
        lambda lr: jh.adam(lr, b1=0.8),
        lambda b: jh.momentum(0.1, beta=b),
        lambda d: jh.rmsprop(0.01, decay=d, eps=1e-4),
    ]:
        state = jax.tree.map(lambda x: x + 0.5, factory(0.5).init(params))  # nonzero moments
        grads = grad(params, 0)

        def step(value):
            return factory(value).update(grads, state, params)

        batched = jax.jit(jax.vmap(step))(jnp.asarray(values, dtype))
        for i, value in enumerate(values):
            traced = jax.jit(step)(jnp.asarray(value, dtype))
            python_float = jax.jit(lambda: factory(value).update(grads, state, params))()
            _assert_close(jax.tree.map(lambda x: x[i], batched), traced, _roundoff(dtype, 2))
            # A Python float hyperparameter is cast to the leaf's dtype like a traced one.
            _assert_close(python_float, traced, _roundoff(dtype, 2))


@pytest.mark.parametrize(
    "name", ["sgd", "momentum", "heavy_ball", "rmsprop", "adam", "adamw", "amsgrad", "adagrad"]
)
def test_jit_changes_nothing(name):
    """Eager, jitted-step and fully compiled loops agree up to round-off.

    XLA fuses differently in the three programs (FMAs, pow), so the last bits may
    differ; tolerances in machine epsilons relative to 1 + |x|.
    """
    factory = {
        "sgd": lambda: jh.sgd(0.1),
        "momentum": lambda: jh.momentum(0.1, beta=0.9),
        "heavy_ball": lambda: jh.heavy_ball(0.05, beta=0.8, nesterov=True),
        "rmsprop": lambda: jh.rmsprop(0.01, eps=1e-4),
        "adam": lambda: jh.adam(0.01),
        "adamw": lambda: jh.adamw(0.01, weight_decay=0.1),
        "amsgrad": lambda: jh.amsgrad(0.01),
        "adagrad": lambda: jh.adagrad(0.1),
    }[name]
    params, grad = _problem(jnp.float32, seed=5)
    tx = factory()
    steps = 12
    # Eager: every operation dispatched on its own.
    w, state = params, tx.init(params)
    for t in range(steps):
        updates, state = tx.update(grad(w, t), state, w)
        w = jh.apply_updates(w, updates)
    eager = (w, state)
    # The update step compiled.
    update = jax.jit(tx.update)
    w, state = params, tx.init(params)
    for t in range(steps):
        updates, state = update(grad(w, t), state, w)
        w = jh.apply_updates(w, updates)
    jitted_step = (w, state)

    # The whole loop compiled.
    @jax.jit
    def loop(params):
        def body(t, carry):
            w, state = carry
            updates, state = tx.update(grad(w, t), state, w)
            return jh.apply_updates(w, updates), state

        return jax.lax.fori_loop(0, steps, body, (params, tx.init(params)))

    compiled = loop(params)
    # Parameters: measured <= 6 epsilons. States likewise, except AMSGrad's nu_max, which
    # stores the bias-corrected v / (1 - b2^t): a last-bit difference in b2^t is amplified
    # up to 1 / (1 - b2) = 1000 times at small t (measured <= 80 epsilons).
    params_tol = _roundoff(jnp.float32, 16)
    state_tol = _roundoff(jnp.float32, 256 if name == "amsgrad" else 16)
    for other in (jitted_step, compiled):
        _assert_close(other[0], eager[0], params_tol)
        _assert_close(other[1], eager[1], state_tol)
    assert int(compiled[1].count) == int(eager[1].count) == steps
    _assert_moved(jax.tree.map(lambda x: x[None], eager[0]), params)


JAX_SCALAR_CASES = {
    "sgd": lambda f: jh.sgd(f(0.1)),
    "momentum": lambda f: jh.momentum(f(0.1), beta=f(0.9)),
    "heavy_ball": lambda f: jh.heavy_ball(f(0.05), beta=f(0.9), nesterov=True),
    "rmsprop": lambda f: jh.rmsprop(f(0.01), decay=f(0.9), eps=f(1e-4)),
    "adam": lambda f: jh.adam(f(0.02), b1=f(0.8), b2=f(0.99), eps=f(1e-6), eps_root=f(1e-8)),
    "adamw": lambda f: jh.adamw(f(0.01), b1=f(0.8), weight_decay=f(0.1)),
    "amsgrad": lambda f: jh.amsgrad(f(0.01), b1=f(0.8), b2=f(0.99)),
    "adagrad": lambda f: jh.adagrad(f(0.1), initial_accumulator_value=f(0.2), eps=f(1e-6)),
}


def test_jax_scalar_hyperparameters_equal_python_floats():
    """JAX scalars are accepted (no validation error) and give bitwise the same run."""
    params, grad = _problem(jnp.float32, seed=6)
    as_float = [make(float) for make in JAX_SCALAR_CASES.values()]
    as_array = [make(lambda v: jnp.asarray(v, jnp.float32)) for make in JAX_SCALAR_CASES.values()]
    for tx in as_array:
        assert isinstance(tx, optax.GradientTransformation)
    trajectories = _trajectories(as_float + as_array, params, grad, steps=50)
    n = len(JAX_SCALAR_CASES)
    for name, a, b in zip(JAX_SCALAR_CASES, trajectories[:n], trajectories[n:]):
        chex.assert_trees_all_equal(a, b, custom_message=name)
        _assert_moved(a, params)


# --------------------------------------------------------------------------- optax interop


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: jh.adam(0.005), lambda: optax.adam(0.005)),
        (lambda: jh.heavy_ball(0.05, beta=0.9), lambda: optax.sgd(0.05, momentum=0.9)),
    ],
    ids=["adam", "heavy_ball"],
)
def test_composes_in_optax_chain(ours, theirs):
    params, grad = _problem(jnp.float32, seed=8)
    # A large gradient scale so that clipping is active.
    big_grad = lambda w, t: jax.tree.map(lambda g: 10.0 * g, grad(w, t))  # noqa: E731
    mine, reference = _trajectories(
        [
            optax.chain(optax.clip_by_global_norm(1.0), ours()),
            optax.chain(optax.clip_by_global_norm(1.0), theirs()),
        ],
        params,
        big_grad,
    )
    _assert_close(mine, reference, SAME[jnp.float32])
    # Clipping changed the result: without it the trajectory differs.
    (unclipped,) = _trajectories([ours()], params, big_grad, steps=STEPS)
    assert not all(
        np.allclose(a[-1], b[-1]) for a, b in zip(jax.tree.leaves(mine), jax.tree.leaves(unclipped))
    )


def test_in_plain_optax_loop_with_multi_transform_pieces():
    """Ours after optax transforms and before optax.apply_every-free pieces, eager loop."""
    params, grad = _problem(jnp.float32, seed=9)
    mine = optax.chain(
        optax.add_decayed_weights(0.01), jh.momentum(0.1, beta=0.9), optax.clip(0.05)
    )
    theirs = optax.chain(
        optax.add_decayed_weights(0.01),
        optax.ema(0.9, debias=False),
        optax.scale(-0.1),
        optax.clip(0.05),
    )
    w_mine, s_mine = params, mine.init(params)
    w_theirs, s_theirs = params, theirs.init(params)
    for t in range(30):
        u, s_mine = mine.update(grad(w_mine, t), s_mine, w_mine)
        w_mine = optax.apply_updates(w_mine, u)
        u, s_theirs = theirs.update(grad(w_theirs, t), s_theirs, w_theirs)
        w_theirs = optax.apply_updates(w_theirs, u)
    chex.assert_trees_all_close(w_mine, w_theirs, rtol=1e-5, atol=1e-6)
    assert isinstance(s_mine[1], jh.MomentumState)


def test_apply_updates_equals_optax():
    params, _ = _problem(jnp.float32)
    updates = jax.tree.map(lambda p: 0.5 * jnp.cos(p), params)
    chex.assert_trees_all_equal(
        jh.apply_updates(params, updates), optax.apply_updates(params, updates)
    )


# --------------------------------------------------------------------------- states and dtypes

STATE_CASES = {
    "sgd": (lambda: jh.sgd(0.1), jh.SgdState, ("count",)),
    "momentum": (lambda: jh.momentum(0.1), jh.MomentumState, ("count", "velocity")),
    "heavy_ball": (lambda: jh.heavy_ball(0.1), jh.HeavyBallState, ("count", "velocity")),
    "rmsprop": (lambda: jh.rmsprop(0.1), jh.RmspropState, ("count", "nu")),
    "adam": (lambda: jh.adam(0.1), jh.AdamState, ("count", "mu", "nu")),
    "adamw": (lambda: jh.adamw(0.1), jh.AdamState, ("count", "mu", "nu")),
    "amsgrad": (lambda: jh.amsgrad(0.1), jh.AmsgradState, ("count", "mu", "nu", "nu_max")),
    "adagrad": (lambda: jh.adagrad(0.1), jh.AdagradState, ("count", "sum_of_squares")),
}


@pytest.mark.parametrize("name", list(STATE_CASES))
def test_state_is_named_tuple(name):
    factory, state_type, fields = STATE_CASES[name]
    tx = factory()
    assert isinstance(tx, optax.GradientTransformation)
    params, grad = _problem(jnp.float32)
    state = tx.init(params)
    assert type(state) is state_type
    assert isinstance(state, tuple) and state_type._fields == fields
    assert state.count.dtype == jnp.int32 and state.count.shape == () and int(state.count) == 0
    for field in fields[1:]:  # every moment has the structure, shapes and dtypes of params
        chex.assert_trees_all_equal_shapes_and_dtypes(getattr(state, field), params)
    updates, new_state = tx.update(grad(params, 0), state, params)
    assert type(new_state) is state_type and int(new_state.count) == 1
    chex.assert_trees_all_equal_shapes_and_dtypes(updates, params)
    # Saturating count: it does not wrap around to a negative number.
    top = state._replace(count=jnp.asarray(np.iinfo(np.int32).max, jnp.int32))
    _, after = tx.update(grad(params, 0), top, params)
    assert int(after.count) == np.iinfo(np.int32).max


@pytest.mark.parametrize("name", list(STATE_CASES))
@pytest.mark.parametrize("scheduled", [False, True], ids=["constant", "schedule"])
def test_mixed_dtype_leaves_keep_their_dtype(name, scheduled):
    factory = {
        "sgd": jh.sgd,
        "momentum": jh.momentum,
        "heavy_ball": jh.heavy_ball,
        "rmsprop": jh.rmsprop,
        "adam": jh.adam,
        "adamw": jh.adamw,
        "amsgrad": jh.amsgrad,
        "adagrad": jh.adagrad,
    }[name]
    tx = factory(jh.exponential_decay(0.1, 0.9) if scheduled else 0.1)
    params = {
        "f32": jnp.linspace(-1.0, 1.0, 5, dtype=jnp.float32),
        "f16": jnp.linspace(-1.0, 1.0, 3, dtype=jnp.float16),
        "bf16": (jnp.linspace(-1.0, 1.0, 4, dtype=jnp.bfloat16), jnp.asarray(0.5, jnp.bfloat16)),
    }
    state = tx.init(params)
    w = params
    for _ in range(3):
        grads = jax.tree.map(lambda p: 2 * p + jnp.asarray(1, p.dtype), w)
        updates, state = tx.update(grads, state, w)
        chex.assert_trees_all_equal_shapes_and_dtypes(updates, params)
        w = jh.apply_updates(w, updates)
        chex.assert_trees_all_equal_shapes_and_dtypes(w, params)
    for leaf in jax.tree.leaves(w):
        assert bool(jnp.all(jnp.isfinite(leaf)))
    assert not np.allclose(np.asarray(w["f32"]), np.asarray(params["f32"]))
    # The low-precision leaves follow the float32 computation to their precision.
    reference = jax.tree.map(lambda p: p.astype(jnp.float32), params)
    tx32 = factory(jh.exponential_decay(0.1, 0.9) if scheduled else 0.1)
    state32, w32 = tx32.init(reference), reference
    for _ in range(3):
        grads = jax.tree.map(lambda p: 2 * p + 1, w32)
        updates, state32 = tx32.update(grads, state32, w32)
        w32 = jh.apply_updates(w32, updates)
    chex.assert_trees_all_close(
        jax.tree.map(lambda x: x.astype(jnp.float32), w), w32, rtol=0.0, atol=0.05
    )


# --------------------------------------------------------------------------- validation

BAD_LEARNING_RATES = [-0.1, -1, math.nan, math.inf, -math.inf]
ALL_FACTORIES = [
    jh.sgd,
    jh.momentum,
    jh.heavy_ball,
    jh.rmsprop,
    jh.adam,
    jh.adamw,
    jh.amsgrad,
    jh.adagrad,
]


@pytest.mark.parametrize("factory", ALL_FACTORIES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("lr", BAD_LEARNING_RATES, ids=str)
def test_bad_learning_rate_raises(factory, lr):
    with pytest.raises(ValueError, match="learning_rate"):
        factory(lr)


@pytest.mark.parametrize(
    "factory, argument",
    [
        (jh.momentum, "beta"),
        (jh.heavy_ball, "beta"),
        (jh.rmsprop, "decay"),
        (jh.adam, "b1"),
        (jh.adam, "b2"),
        (jh.adamw, "b1"),
        (jh.adamw, "b2"),
        (jh.amsgrad, "b1"),
        (jh.amsgrad, "b2"),
    ],
)
@pytest.mark.parametrize("value", [1.0, -0.1, 1.5, math.nan, math.inf])
def test_decay_outside_unit_interval_raises(factory, argument, value):
    with pytest.raises(ValueError, match=argument):
        factory(0.1, **{argument: value})


@pytest.mark.parametrize(
    "factory, argument",
    [
        (jh.rmsprop, "eps"),
        (jh.adam, "eps"),
        (jh.adam, "eps_root"),
        (jh.adamw, "eps"),
        (jh.adamw, "weight_decay"),
        (jh.amsgrad, "eps"),
        (jh.adagrad, "eps"),
        (jh.adagrad, "initial_accumulator_value"),
    ],
)
@pytest.mark.parametrize("value", [-1e-8, -1.0, math.nan, math.inf])
def test_negative_or_nonfinite_eps_raises(factory, argument, value):
    with pytest.raises(ValueError, match=argument):
        factory(0.1, **{argument: value})


@pytest.mark.parametrize("nesterov", [1, 0, "yes", None, np.bool_(True)], ids=repr)
def test_nesterov_must_be_bool(nesterov):
    with pytest.raises(TypeError, match="nesterov"):
        jh.heavy_ball(0.1, nesterov=nesterov)


@pytest.mark.parametrize("factory", ALL_FACTORIES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("lr", [None, "0.1", [0.01, 0.1], True], ids=repr)
def test_learning_rate_of_another_type_raises(factory, lr):
    with pytest.raises(TypeError, match="learning_rate"):
        factory(lr)


@pytest.mark.parametrize(
    "factory, argument",
    [
        (jh.momentum, "beta"),
        (jh.rmsprop, "eps"),
        (jh.adam, "b1"),
        (jh.adam, "b2"),
        (jh.adagrad, "eps"),
    ],
)
@pytest.mark.parametrize(
    "value", [True, None, "0.9", np.True_, np.str_("0.9"), np.array([True])], ids=repr
)
def test_float_hyperparameter_of_another_type_raises(factory, argument, value):
    with pytest.raises(TypeError, match=argument):
        factory(0.1, **{argument: value})


def test_schedules_check_their_own_arguments_and_are_named_after_their_call():
    with pytest.raises(ValueError, match="step_size"):
        jh.step_decay(0.1, 0.5, step_size=0)
    assert jh.exponential_decay(0.1, 0.99).__name__ == "exponential_decay(0.1, 0.99)"
    assert jh.linear_warmup(jh.cosine_decay(1.0, 100), warmup_steps=10).__qualname__ == (
        "linear_warmup(cosine_decay(1.0, 100), warmup_steps=10)"
    )
    assert float(jh.step_decay(1.0, 0.1, step_size=100)(250)) == pytest.approx(0.01)
    # a schedule that is not a plain function is named by its type
    warm = jh.linear_warmup(
        functools.partial(lambda count, value: value, value=0.1), warmup_steps=10
    )
    assert warm.__name__ == "linear_warmup(partial, warmup_steps=10)" and float(
        warm(20)
    ) == pytest.approx(0.1)


def test_boundary_values_are_accepted():
    """The edges of the valid ranges are not rejected."""
    for tx in [
        jh.sgd(0.0),
        jh.momentum(0, beta=0.0),
        jh.heavy_ball(0.1, beta=0.0, nesterov=True),
        jh.rmsprop(0.1, decay=0.0, eps=0.0),
        jh.adam(0.1, b1=0.0, b2=0.0, eps=0.0),
        jh.adagrad(0.1, initial_accumulator_value=0.0, eps=0.0),
        jh.adam(np.float64(0.1), b1=np.float32(0.5)),
    ]:
        assert isinstance(tx, optax.GradientTransformation)
    with pytest.raises(ValueError, match="b1"):
        jh.adam(0.1, b1=np.float64(1.0))


# --------------------------------------------------------------------------- convergence

N_MAX, D_MAX = 200, 6
FIT_STEPS = 3000


def _convergence_setup(name, L, mu):
    """Hyperparameters for ``name`` from the Hessian's extreme eigenvalues ``mu <= L``."""
    kappa = L / mu
    if name == "sgd":
        return {"lr": 1.0 / L}
    if name == "momentum":  # = heavy ball with step lr * (1 - beta)
        return {"lr": 1.0 / (L * (1 - 0.9)), "beta": 0.9}
    if name == "heavy_ball":  # Polyak's optimal parameters for a quadratic
        return {
            "lr": 4.0 / (math.sqrt(L) + math.sqrt(mu)) ** 2,
            "beta": ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2,
        }
    if name == "nesterov":
        return {"lr": 1.0 / L, "beta": (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)}
    return {}  # adaptive methods: a fixed decaying schedule, independent of the data


CONVERGENCE = {
    "sgd": lambda hp: jh.sgd(hp["lr"]),
    "momentum": lambda hp: jh.momentum(hp["lr"], beta=hp["beta"]),
    "heavy_ball": lambda hp: jh.heavy_ball(hp["lr"], beta=hp["beta"]),
    "nesterov": lambda hp: jh.heavy_ball(hp["lr"], beta=hp["beta"], nesterov=True),
    "rmsprop": lambda hp: jh.rmsprop(jh.exponential_decay(0.05, 0.997), decay=0.9),
    "adam": lambda hp: jh.adam(jh.exponential_decay(0.1, 0.997)),
    "adamw": lambda hp: jh.adamw(jh.exponential_decay(0.1, 0.997), weight_decay=1e-4),
    "amsgrad": lambda hp: jh.amsgrad(jh.exponential_decay(0.1, 0.997)),
    "adagrad": lambda hp: jh.adagrad(jh.cosine_decay(1.0, FIT_STEPS, alpha=0.01)),
}
# Tolerance on ||w - w*|| / (1 + ||w*||) in float32. Worst measured over 60 draws (with
# n = 20, d = 6 among them): GD family <= 2e-7, RMSprop/Adam/AdaGrad <= 4e-7, AdamW
# 3e-5 (the decay term shifts the fixed point), AMSGrad 4e-4 (its denominator never
# shrinks, so it is slower).
CONVERGENCE_TOL = {
    "sgd": 1e-5,
    "momentum": 1e-5,
    "heavy_ball": 1e-5,
    "nesterov": 1e-5,
    "rmsprop": 1e-4,
    "adam": 1e-4,
    "adagrad": 1e-4,
    "adamw": 1e-3,
    "amsgrad": 1e-2,
}


@functools.partial(jax.jit, static_argnames="name")
def _fit(name, X, y, n, hp):
    """Full-batch steps on mean((Xw - y)^2); X, y zero-padded to (N_MAX, D_MAX)."""
    tx = CONVERGENCE[name](hp)

    def loss(w):
        return jnp.sum((X @ w - y) ** 2) / n

    def body(_, carry):
        w, state = carry
        updates, state = tx.update(jax.grad(loss)(w), state, w)
        return jh.apply_updates(w, updates), state

    w0 = jnp.zeros(X.shape[1], X.dtype)
    w, _ = jax.lax.fori_loop(0, FIT_STEPS, body, (w0, tx.init(w0)))
    return w


@pytest.mark.parametrize("name", list(CONVERGENCE))
@settings(max_examples=10, deadline=None)
@given(n=st.integers(20, N_MAX), d=st.integers(1, D_MAX), seed=st.integers(0, 2**32 - 1))
def test_converges_to_least_squares_optimum(name, n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d)
    y = X @ w_true + 0.1 * rng.standard_normal(n)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    eigenvalues = np.linalg.eigvalsh(2 * X.T @ X / n)
    hp = _convergence_setup(name, eigenvalues[-1], eigenvalues[0])
    # Zero padding keeps one compiled program for all sizes: zero columns get zero
    # gradients and stay at zero, zero rows add nothing to the loss.
    X_pad = np.zeros((N_MAX, D_MAX), np.float32)
    X_pad[:n, :d] = X
    y_pad = np.zeros(N_MAX, np.float32)
    y_pad[:n] = y
    w = np.asarray(
        _fit(name, X_pad, y_pad, np.float32(n), {k: np.float32(v) for k, v in hp.items()})
    )
    np.testing.assert_array_equal(w[d:], 0.0)
    error = np.linalg.norm(w[:d] - w_star) / (1 + np.linalg.norm(w_star))
    assert error <= CONVERGENCE_TOL[name], (name, n, d, error)


# --------------------------------------------------------------------------- docstrings


def test_docstring_examples():
    results = doctest.testmod(jopt, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert results.attempted >= 20
    assert results.failed == 0


ARRAY_KINDS = [jnp.asarray, np.asarray, np.float32]


@pytest.mark.parametrize("as_array", ARRAY_KINDS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "factory, argument, value",
    [
        (jh.sgd, "learning_rate", -0.1),
        (jh.adam, "learning_rate", math.nan),
        (jh.adam, "b1", 1.5),
        (jh.rmsprop, "decay", -0.1),
        (jh.adagrad, "eps", math.inf),
    ],
)
def test_a_bad_value_as_an_array_raises_as_a_number_does(factory, argument, value, as_array):
    kwargs = {"learning_rate": 0.1, argument: as_array(value)}
    with pytest.raises(ValueError, match=argument):
        factory(**kwargs)


@pytest.mark.parametrize("argument", ["learning_rate", "b1", "eps"])
def test_a_hyperparameter_array_of_several_values_raises(argument):
    kwargs = {"learning_rate": 0.1, argument: jnp.array([0.1, 0.2])}
    with pytest.raises(TypeError, match=f"{argument} must be a scalar"):
        jh.adam(**kwargs)
