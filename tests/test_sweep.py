"""Sweeps: every config equals its own run, optax factories, sharding (4 virtual devices and
two real processes), divergence isolation, chunking with one compile, save/resume."""

from __future__ import annotations

import collections
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import types

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from test_loop import compile_log

import jaxopt_hw as jh

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: A sweep against the same run, or against another sweep. For least squares with
#: d ≤ 32 and batches of ≤ 32 rows on XLA:CPU they are bitwise equal (tested below);
#: elsewhere (full batches, optax's own arithmetic on folded constants) float32 rounding
#: differs by a few ulps per step. On a GPU the products are cuBLAS's, summed in their
#: own order: at most 2.1e-6 on an H200. (For d > 32 the sweep's (configs × d) products
#: and a run's matrix-vector products round differently, and Adam's sign-like steps on
#: small gradient entries grow that to ~1e-4 within 100 steps: not tested here.)
RTOL = 1e-6 if jax.default_backend() == "cpu" else 3e-6


@pytest.fixture(scope="module")
def prob():
    return jh.linear_regression(1_000, 5, seed=3)


def assert_curves_close(result, trace, rtol):
    """Loss and batch error to ``rtol``. ‖w − w*‖ and the gradient norm shrink towards
    float32 round-off of ``w`` near the optimum (their relative error grows as they do),
    so they are compared to ``rtol`` of their curve's largest value."""
    for name in ("loss", "batch_error", "dist_to_opt", "grad_norm"):
        expected = np.asarray(getattr(trace, name))
        atol = 0 if name in ("loss", "batch_error") else rtol * np.max(np.abs(expected))
        np.testing.assert_allclose(
            result.curves[name], expected, rtol=rtol, atol=atol, err_msg=name
        )


# --------------------------------------------------------------------------- equal to run


def test_every_config_equals_its_run(prob):
    grid = {"learning_rate": [1e-2, 0.1], "b1": [0.8, 0.9]}
    res = jh.sweep(
        prob,
        jh.adam,
        grid=grid,
        fixed={"b2": 0.99},
        seeds=[0, 7],
        steps=150,
        batch_size=32,
        log_every=3,
        progress=False,
    )
    assert res.loss.shape == (2, 2, 2, 50)
    assert list(res.axes) == ["learning_rate", "b1", "seed"]
    np.testing.assert_allclose(
        res.initial_loss, [float(prob.loss(prob.init_params(s))) for s in (0, 7)], rtol=1e-6
    )
    for lr in grid["learning_rate"]:
        for b1 in grid["b1"]:
            tx = jh.adam(lr, b1=b1, b2=0.99)
            for seed in (0, 7):
                trace = jh.run(prob, tx, steps=150, batch_size=32, seed=seed, log_every=3)
                assert_curves_close(res.sel(learning_rate=lr, b1=b1, seed=seed), trace, rtol=RTOL)


def test_final_metrics_only_sweep_equals_its_runs(prob):
    # a sweep that logs only its end keeps the batch errors' sum in its carry, not in the logs
    res = jh.sweep(
        prob,
        jh.adam,
        grid={"learning_rate": [1e-2, 0.3], "b1": [0.8, 0.9]},
        seeds=[0, 7],
        steps=150,
        batch_size=32,
        log_every=150,
        progress=False,
    )
    for lr in (1e-2, 0.3):
        for seed in (0, 7):
            trace = jh.run(
                prob, jh.adam(lr, b1=0.9), steps=150, batch_size=32, seed=seed, log_every=150
            )
            assert_curves_close(res.sel(learning_rate=lr, b1=0.9, seed=seed), trace, rtol=RTOL)


@pytest.mark.skipif(
    jax.default_backend() != "cpu", reason="bitwise on XLA:CPU; GPU products are cuBLAS's"
)
@pytest.mark.parametrize(
    "d", [5, 20]
)  # the measures' two forms for d <= 32 (problems.regression._WRITTEN_OUT_D)
def test_sweep_is_bitwise_its_run_for_small_least_squares(d):
    # d <= 32, batches of <= 32 rows: every logged value of every config is its run's
    prob = jh.linear_regression(1_000, d, seed=3)
    res = jh.sweep(
        prob,
        jh.adam,
        grid={"learning_rate": [3e-3, 0.1], "b1": [0.5, 0.9]},
        seeds=[1],
        steps=120,
        batch_size=32,
        log_every=1,
        progress=False,
    )
    for lr in (3e-3, 0.1):
        for b1 in (0.5, 0.9):
            trace = jh.run(prob, jh.adam(lr, b1=b1), steps=120, batch_size=32, seed=1)
            for name in ("loss", "excess_loss", "dist_to_opt", "grad_norm", "batch_error"):
                np.testing.assert_array_equal(
                    res.sel(learning_rate=lr, b1=b1, seed=1).curves[name],
                    np.asarray(getattr(trace, name)),
                    err_msg=name,
                )


def test_sweep_equals_its_runs_above_32_features():
    # d > 32: the (d, configs) products of problems.mse_batch_values_minor and
    # quadratic_measures_minor, and the guard through the loss (sweep._CHECK_BY_LOSS_ABOVE)
    prob = jh.linear_regression(1_000, 40, seed=3)
    stable = [0.1 / prob.L, 0.5 / prob.L]
    grid = {"learning_rate": stable + [1e3], "beta": [0.0, 0.5]}
    res = jh.sweep(
        prob,
        jh.heavy_ball,
        grid=grid,
        seeds=[1, 2],
        steps=80,
        batch_size=32,
        log_every=4,
        progress=False,
    )
    assert not res.diverged[:2].any() and res.diverged[2].all()
    assert np.all(np.isfinite(res.loss))  # frozen at a finite point
    for lr in stable:
        for beta in (0.0, 0.5):
            for seed in (1, 2):
                trace = jh.run(
                    prob,
                    jh.heavy_ball(lr, beta=beta),
                    steps=80,
                    batch_size=32,
                    seed=seed,
                    log_every=4,
                )
                # a run's X @ w (a matrix-vector kernel) and the sweep's product sum the 40
                # terms in other orders: ~2e-7 apart after a step, up to ~1.2e-6 in 80 steps
                assert_curves_close(
                    res.sel(learning_rate=lr, beta=beta, seed=seed), trace, rtol=3 * RTOL
                )


class UnhashableCallable:
    __hash__ = None

    def __call__(self, *args):
        return args


def test_least_squares_sweeps_call_its_functions_for_sets_held_as_columns(monkeypatch):
    """A least-squares sweep calls the forms of its ``batch_fn`` and ``measures_fn`` for
    parameter sets held as columns (``problems.sets_minor_form``) on all its configs at
    once; a problem whose ``measures_fn`` is replaced, even by a ``functools.wraps``
    wrapper, drops its form with it, and its sweep measures with the new function."""
    import dataclasses
    import functools

    from jaxopt_hw import problems
    from jaxopt_hw.problems.core import _SETS_MINOR_FORMS

    traced = []
    for fn in (problems.mse_batch_values, problems.quadratic_measures):
        monkeypatch.setitem(
            _SETS_MINOR_FORMS,
            fn,
            lambda *args, inner=problems.sets_minor_form(fn), name=fn.__name__: (
                traced.append(name),
                inner(*args),
            )[1],
        )
    assert (
        problems.sets_minor_form(functools.wraps(problems.quadratic_measures)(lambda w, aux: None))
        is None
    )
    assert problems.sets_minor_form({}) is None  # unhashable: no form
    with pytest.raises(TypeError, match="form must be callable"):
        problems.register_sets_minor_form(problems.mse_batch_values, "mse_batch_values_minor")
    with pytest.raises(TypeError, match="fn must be hashable"):
        problems.register_sets_minor_form(UnhashableCallable(), problems.mse_batch_values_minor)
    prob = jh.linear_regression(301, 37, seed=1)  # shapes of its own: traced here, not cached
    kwargs = dict(
        grid={"learning_rate": [1e-3, 1e-2]}, seeds=[0], steps=20, batch_size=16, progress=False
    )
    res = jh.sweep(prob, jh.adam, **kwargs)
    assert sorted(set(traced)) == ["mse_batch_values", "quadratic_measures"]
    three = dataclasses.replace(
        prob,
        forms=dataclasses.replace(
            prob.forms,
            measures_fn=lambda w, aux: [problems.quadratic_measures(w, aux)[i] for i in (0, 2, 3)],
        ),
    )
    traced.clear()
    other = jh.sweep(three, jh.adam, **kwargs)
    assert traced == ["mse_batch_values"] * len(traced) and traced  # the batch values only
    np.testing.assert_allclose(other.loss, res.loss, rtol=RTOL)
    np.testing.assert_allclose(
        other.curves["excess_loss"], other.loss - np.float32(prob.min_loss), rtol=1e-6
    )


@pytest.mark.skipif(
    jax.default_backend() != "cpu", reason="bitwise on XLA:CPU; GPU products are cuBLAS's"
)
def test_a_fixed_value_rounds_as_in_a_run_when_the_configs_fill_rows_of_64():
    # compiled in as a constant, a fixed β let XLA fuse the momentum update otherwise for
    # 64 configs (2.7e-6 from the runs after 100 steps); traced, as in a run, it is bitwise
    prob = jh.linear_regression(2_000, 5)
    lrs = list(np.geomspace(1e-3, 1.5, 64) / prob.L)
    res = jh.sweep(
        prob,
        jh.momentum,
        grid={"learning_rate": lrs},
        fixed={"beta": 0.9},
        seeds=[0],
        steps=100,
        batch_size=8,
        log_every=10,
        progress=False,
    )
    runs = [
        jh.run(
            prob,
            jh.momentum(learning_rate=lr, beta=0.9),
            steps=100,
            batch_size=8,
            seed=0,
            log_every=10,
        ).loss
        for lr in lrs
    ]
    np.testing.assert_array_equal(res.loss[:, 0], np.asarray(runs))


def _adam_or_sgd(learning_rate, eps=1e-8):
    if eps > 0:  # a Python branch on a hyperparameter: it cannot take a traced value
        return optax.adam(learning_rate, eps=eps)
    return optax.sgd(learning_rate)


def test_a_fixed_value_the_factory_branches_on_is_compiled_in(prob):
    res = jh.sweep(
        prob,
        _adam_or_sgd,
        grid={"learning_rate": [1e-2, 0.1]},
        fixed={"eps": 1e-6},
        seeds=[0],
        steps=30,
        batch_size=16,
        progress=False,
    )
    trace = jh.run(prob, optax.adam(0.1, eps=1e-6), steps=30, batch_size=16, seed=0)
    assert_curves_close(res.sel(learning_rate=0.1, seed=0), trace, rtol=RTOL)


def test_a_fixed_value_of_a_half_precision_problem_is_compiled_in():
    # traced in float32 it would promote optax's float16 momentum and break the scan's carry
    prob = jh.linear_regression(200, 3, dtype=jnp.float16)
    res = jh.sweep(
        prob,
        optax.sgd,
        grid={"learning_rate": [1e-4, 3e-4]},
        fixed={"momentum": 0.9},
        steps=20,
        batch_size=16,
        progress=False,
    )
    assert np.all(np.isfinite(res.final_loss)) and not res.diverged.any()
    assert np.all(res.final_loss < res.initial_loss)


def test_static_nesterov_axis(prob):
    grid = {"learning_rate": [3e-5, 1e-4], "nesterov": [False, True]}
    res = jh.sweep(
        prob, jh.heavy_ball, grid=grid, seeds=[1], steps=60, batch_size=32, progress=False
    )
    assert list(res.axes) == ["learning_rate", "nesterov", "seed"] and res.meta["static"] == [
        "nesterov"
    ]
    for lr in grid["learning_rate"]:
        for nesterov in (False, True):
            trace = jh.run(
                prob, jh.heavy_ball(lr, nesterov=nesterov), steps=60, batch_size=32, seed=1
            )
            assert_curves_close(
                res.sel(learning_rate=lr, nesterov=nesterov, seed=1), trace, rtol=RTOL
            )
    assert not np.allclose(res.sel(nesterov=False).loss, res.sel(nesterov=True).loss)


def test_full_batch_sweep_equals_gd_runs(prob):
    # full batch: X^T r sums 1 000 rows, in blocks in the sweep's matrix product over the
    # configs and in another order in a run's reduction: float32 rounding apart
    res = jh.sweep(
        prob,
        jh.sgd,
        grid={"learning_rate": [2e-4, 5e-4, 1e-3]},
        seeds=[0],
        steps=100,
        progress=False,
    )
    for lr in res.axes["learning_rate"]:
        trace = jh.run(prob, jh.sgd(lr), steps=100, seed=0)
        assert_curves_close(res.sel(learning_rate=lr, seed=0), trace, rtol=1e-5)


@pytest.mark.parametrize(
    "factory, grid",
    [
        (optax.adam, {"learning_rate": [1e-2, 0.1], "b1": [0.8, 0.9]}),
        (optax.lion, {"learning_rate": [1e-3, 1e-2], "b2": [0.95, 0.99]}),
    ],
)
def test_optax_factories_sweep_like_their_own_loop(prob, factory, grid):
    res = jh.sweep(prob, factory, grid=grid, seeds=[0], steps=80, batch_size=16, progress=False)
    names = list(grid)
    for a in grid[names[0]]:
        for b in grid[names[1]]:
            # hyperparameters as float32 scalars: the arithmetic the sweep's traced values get
            tx = factory(**{names[0]: jnp.float32(a), names[1]: jnp.float32(b)})
            trace = jh.run(prob, tx, steps=80, batch_size=16, seed=0)
            # a run's hyperparameters are constants XLA may fold (x / c → x · (1/c)), the
            # sweep's are traced: a few ulps apart in optax's arithmetic (ours casts them)
            assert_curves_close(res.sel(**{names[0]: a, names[1]: b}, seed=0), trace, rtol=RTOL)


def test_optax_loop_by_hand_matches_the_sweep(prob):
    """optax.lion on the sweep's batches, stepped by a plain Python loop over optax calls."""
    from jaxopt_hw import loop

    res = jh.sweep(
        prob,
        optax.lion,
        grid={"learning_rate": [3e-3]},
        seeds=[2],
        steps=40,
        batch_size=8,
        progress=False,
    )
    tx = optax.lion(jnp.float32(3e-3))
    w = prob.init_params(2)
    state = tx.init(w)
    cursor = loop.Cursor(epoch=jnp.int32(0), offset=jnp.int32(0))
    words = loop.shuffle_words(2)
    losses = []
    for _ in range(40):
        batch, cursor = loop.next_batch(prob.data, cursor, words, 8)
        grads = jax.grad(prob.loss_fn)(w, batch)
        updates, state = tx.update(grads, state, w)
        w = optax.apply_updates(w, updates)
        losses.append(float(prob.loss(w)))
    np.testing.assert_allclose(res.loss[0, 0], losses, rtol=RTOL)


# --------------------------------------------------------------------------- validation


def test_unknown_hyperparameter_lists_accepted_names(prob):
    with pytest.raises(ValueError, match=r"learning_rat.*b1.*b2"):
        jh.sweep(
            prob, jh.adam, grid={"learning_rat": [0.1]}, steps=10, batch_size=8, progress=False
        )
    with pytest.raises(ValueError, match="momentum"):
        jh.sweep(
            prob,
            optax.sgd,
            grid={"learning_rate": [0.1]},
            fixed={"beta": 0.9},
            steps=10,
            progress=False,
        )


#: Four axes of 1 000 values: results no host holds, refused before they are listed.
TEN_TO_THE_TWELVE_CONFIGS = {
    "learning_rate": np.geomspace(1e-4, 1.0, 1000),
    "b1": np.linspace(0.0, 0.99, 1000),
    "b2": np.linspace(0.0, 0.999, 1000),
    "eps": np.geomspace(1e-8, 1e-4, 1000),
}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(grid={"learning_rate": []}), "learning_rate"),
        (dict(grid={"learning_rate": [float("nan")]}), "learning_rate"),
        (dict(grid={"learning_rate": [-1.0]}), "learning_rate"),
        (dict(grid={"learning_rate": [0.1]}, seeds=[]), "seeds"),
        (dict(grid={"learning_rate": [0.1]}, seeds=[1, 1]), "seeds"),
        (dict(grid={"learning_rate": [0.1]}, steps=0), "steps"),
        (dict(grid={"learning_rate": [0.1]}, batch_size=0), "batch_size"),
        (dict(grid={"learning_rate": [0.1]}, log_every=7), "log_every"),
        (dict(grid={"learning_rate": [0.1, 0.1]}), "learning_rate"),
        (dict(grid={"learning_rate": [1e39]}), "learning_rate"),  # finite, but not in float32
        (dict(grid={"learning_rate": [0.1], "eps": [1e-50]}), "eps"),  # 0 in float32
        (dict(grid={"learning_rate": [0.1, 0.1 + 1e-12]}), "learning_rate"),  # one value in float32
        (dict(grid={"learning_rate": [0.1]}, fixed={"eps": 1e-50}), "eps"),
        (
            dict(grid={"learning_rate": [0.1]}, fixed={"eps": 1e39}),
            "eps",
        ),  # adam's own checks pass it
        (dict(grid={"learning_rate": [0.1]}, seeds=[2**32]), "seeds"),
        (dict(grid={"learning_rate": [0.1]}, chunk_size=0), "chunk_size"),
        (dict(grid={"learning_rate": [0.1]}, memory_budget=float("nan")), "memory_budget"),
        (dict(grid={"learning_rate": [0.1]}, tol=-1.0), "tol"),
        (dict(grid={"learning_rate": [0.1]}, devices=[]), "devices"),
        (
            dict(grid={"learning_rate": [0.1]}, devices=jax.devices()[0]),
            "devices",
        ),  # a device, not a list
        (dict(grid={"learning_rate": [0.1]}, devices=["cpu"]), "devices"),
        (dict(grid={"learning_rate": [0.1]}, devices=jax.devices()[:1] * 2), "devices"),
        (dict(grid={"learning_rate": [0.1]}, seeds=None), "seeds"),
        (dict(grid=TEN_TO_THE_TWELVE_CONFIGS), "grid asks for 1,000,000,000,000 configs"),
    ],
)
def test_bad_sweep_arguments_fail_before_compiling(prob, kwargs, match):
    args = dict(steps=20, batch_size=8, progress=False)
    args.update(kwargs)
    with compile_log() as compiled, pytest.raises((ValueError, TypeError), match=match):
        jh.sweep(prob, jh.adam, **args)
    assert not any("_sweep_body" in name for name in compiled)


def test_repeated_grid_values_are_found_hashable_or_not():
    from jaxopt_hw.sweep.plan import _NO_REPEAT, _first_repeat

    assert _first_repeat([0.1, 0.2, 0.3]) is _NO_REPEAT
    assert _first_repeat([0.1, 0.2, 0.1, 0.2]) == 0.1
    assert _first_repeat([1, 2, 1.0]) == 1.0  # 1 == 1.0, as a grid of both would run twice
    assert _first_repeat([[1, 2], (1, 2), [1, 2]]) == [1, 2]  # lists are unhashable
    assert _first_repeat([[1], 0.5, 2, 0.5]) == 0.5  # mixed
    assert _first_repeat(["constant", "cosine"]) is _NO_REPEAT
    assert _first_repeat(list(np.arange(10_000) / 7.0) + [3 / 7.0]) == 3 / 7.0


def test_a_grid_of_static_axes_only_equals_its_runs(prob):
    kwargs = dict(steps=30, batch_size=16, seeds=[0, 1], progress=False)
    res = jh.sweep(
        prob,
        jh.heavy_ball,
        grid={"nesterov": [False, True]},
        fixed={"learning_rate": 0.01},
        **kwargs,
    )
    assert res.shape == (2, 2)
    one_name = jh.sweep(
        prob, jh.heavy_ball, grid={"learning_rate": [0.01, 0.02]}, static="learning_rate", **kwargs
    )
    assert one_name.meta["static"] == ["learning_rate"]
    for nesterov in (False, True):
        for seed in (0, 1):
            trace = jh.run(
                prob, jh.heavy_ball(0.01, nesterov=nesterov), steps=30, batch_size=16, seed=seed
            )
            assert_curves_close(res.sel(nesterov=nesterov, seed=seed), trace, rtol=RTOL)
            assert_curves_close(
                one_name.sel(learning_rate=0.01, seed=seed),
                jh.run(prob, jh.heavy_ball(0.01), steps=30, batch_size=16, seed=seed),
                rtol=RTOL,
            )


# --------------------------------------------------------------------------- divergence


def test_divergent_configs_are_flagged_and_isolated(prob):
    grid = {"learning_rate": [1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3]}
    res = jh.sweep(prob, jh.sgd, grid=grid, seeds=[0, 1], steps=100, batch_size=32, progress=False)
    # plain SGD on least squares is stable iff the step is below 2/L (in expectation over batches)
    stable_bound = 2 / prob.L
    expected = np.array([lr > stable_bound for lr in grid["learning_rate"]])
    np.testing.assert_array_equal(res.diverged, np.repeat(expected[:, None], 2, axis=1))
    assert np.all(np.isfinite(res.loss))  # frozen at the last finite state
    calm = jh.sweep(
        prob,
        jh.sgd,
        grid={"learning_rate": [lr for lr, bad in zip(grid["learning_rate"], expected) if not bad]},
        seeds=[0, 1],
        steps=100,
        batch_size=32,
        progress=False,
    )
    np.testing.assert_allclose(res.loss[~expected], calm.loss, rtol=RTOL)
    assert np.all(np.isinf(res.steps_to_tol[expected]))
    assert res.best()["learning_rate"] in calm.axes["learning_rate"]


def test_guard_through_the_loss_freezes_like_the_direct_check(prob, monkeypatch):
    """Least squares checks each config's parameters through the next batch loss
    (``loss_detects_nonfinite``) instead of scanning them. With a bound too high to trip,
    only non-finite values stop a config: the flags equal the direct check's, the calm
    configs are untouched, and a stopped config keeps a point of its own trajectory whose
    loss is finite (the direct check keeps the next one when its loss overflows while
    its parameters are still finite)."""
    import dataclasses

    # taken above 32 parameters per config: here for 5 too
    monkeypatch.setattr(sys.modules["jaxopt_hw.sweep.program"], "_CHECK_BY_LOSS_ABOVE", 0)
    grid = {"learning_rate": [1e-3, 3e-2, 1e2, 1e3]}
    kwargs = dict(
        grid=grid, seeds=[0, 1], steps=60, batch_size=32, divergence_factor=1e38, progress=False
    )
    through_loss = jh.sweep(prob, jh.sgd, **kwargs)
    scanned = dataclasses.replace(prob.forms, loss_detects_nonfinite=False)
    direct = jh.sweep(dataclasses.replace(prob, forms=scanned), jh.sgd, **kwargs)
    np.testing.assert_array_equal(through_loss.diverged, direct.diverged)
    assert through_loss.diverged[1:].all() and not through_loss.diverged[0].any()
    np.testing.assert_array_equal(through_loss.loss[0], direct.loss[0])
    for lr_index in range(1, 4):
        for seed_index in range(2):
            final = through_loss.final_loss[lr_index, seed_index]
            assert np.isfinite(final)
            assert final in direct.loss[lr_index, seed_index]
    assert np.isinf(direct.final_loss[1:]).any()  # the direct check kept an overflowing point


# --------------------------------------------------------------------------- chunks, storage


def test_grid_rows_list_the_configs_in_itertools_order():
    import itertools

    from jaxopt_hw.sweep.plan import grid_rows

    grids = [
        {"learning_rate": [1e-3, 0.1, 2], "b1": [0.5, 0.9], "b2": [0.99, 0.999]},
        {"learning_rate": [3, 1]},  # whole numbers stay integers, as NumPy makes them
        {},
    ]
    for grid in grids:
        configs = list(itertools.product(*grid.values()))
        expected = np.array(configs).reshape(len(configs), len(grid))
        rows = grid_rows(grid, list(grid))
        assert rows.dtype == expected.dtype and np.array_equal(rows, expected), grid


def test_multi_chunk_sweep_compiles_once_and_equals_one_chunk(prob, monkeypatch):
    # 128 configs in one chunk, in the chunks derived for a cache that holds the steps of 64
    # (Adam at d = 5: 64 bytes of state per config) and in chunks of 3
    kwargs = dict(
        grid={"learning_rate": list(np.geomspace(1e-3, 0.1, 64)), "b1": [0.8, 0.9]},
        seeds=[0],
        steps=40,
        batch_size=16,
        devices=jax.devices("cpu")[:1],
        progress=False,
    )
    whole = jh.sweep(prob, jh.adam, chunk_size=128, **kwargs)
    sweep_module = sys.modules["jaxopt_hw.sweep.plan"]
    monkeypatch.setattr(
        sweep_module, "_cache_bytes", lambda: 4 * 64 * sweep_module._step_bytes(1, 64, 16, 4)
    )
    # a program compiled by an earlier test is reused: count this sweep's compiles alone
    monkeypatch.setattr(
        sys.modules["jaxopt_hw.sweep.engine"], "_PROGRAMS", collections.OrderedDict()
    )
    with compile_log() as compiled:
        derived = jh.sweep(prob, jh.adam, **kwargs)
    assert (whole.meta["n_chunks"], derived.meta["chunk_size"], derived.meta["n_chunks"]) == (
        1,
        64,
        2,
    )
    assert sum("_sweep_body" in name for name in compiled) == 1, compiled
    for name in derived.curves:  # chunks of a multiple of 64 configs: bit for bit
        np.testing.assert_array_equal(derived.curves[name], whole.curves[name], err_msg=name)
    np.testing.assert_array_equal(derived.diverged, whole.diverged)
    threes = jh.sweep(prob, jh.adam, chunk_size=3, **kwargs)
    assert threes.meta["n_chunks"] == 43
    np.testing.assert_allclose(threes.loss, whole.loss, rtol=RTOL)


def test_a_short_sweep_compiles_quickly_and_computes_what_the_default_program_does(
    prob, monkeypatch
):
    # 9 configs (a device's share padded to 64) × 2 seeds × 16 rows × 5 parameters × 50 steps
    program, engine = (sys.modules[f"jaxopt_hw.sweep.{name}"] for name in ("program", "engine"))
    padded_work = 64 * 2 * 16 * 5 * 50
    assert program.compiles_quickly("cpu", 64, 2 * 5, 16, 50)
    assert not program.compiles_quickly("cpu", 64, 2 * 5, 16, program.QUICK_COMPILE_WORK)
    assert not program.compiles_quickly("cpu", 64, 2 * 5, 16, 3)  # 48 rows: big models' padding
    assert not program.compiles_quickly("gpu", 64, 2 * 5, 16, 50)
    # the default program's products loop over the seeds, on CPUs, for more than one
    assert program.loops_over_seeds("cpu", 2, quick=False)
    assert not program.loops_over_seeds("cpu", 2, quick=True)
    assert not program.loops_over_seeds("cpu", 1, quick=False)
    assert not program.loops_over_seeds("gpu", 2, quick=False)
    asked, original = [], engine.jitted_sweep

    class Recorded:  # the jitted sweep, noting how each of its programs is compiled
        def __init__(self, devices, quick):
            self.jitted, self.quick = original(devices, quick), quick

        def lower(self, *args, **kwargs):
            asked.append((self.quick, kwargs["loop_seeds"]))
            return self.jitted.lower(*args, **kwargs)

    monkeypatch.setattr(engine, "jitted_sweep", Recorded)
    monkeypatch.setattr(engine, "_PROGRAMS", collections.OrderedDict())
    kwargs = dict(
        grid={"learning_rate": list(np.geomspace(1e-3, 0.3, 3)), "b1": [0.7, 0.8, 0.9]},
        seeds=[0, 1],
        steps=50,
        batch_size=16,
        progress=False,
    )
    results = []
    for threshold in (padded_work + 1, padded_work):  # the padded rows count, not the 9 configs
        monkeypatch.setattr(program, "QUICK_COMPILE_WORK", threshold)
        results.append(jh.sweep(prob, jh.adam, devices=jax.devices("cpu")[:1], **kwargs))
    assert asked == [(True, False), (False, True)]  # the sharded program: SHARD_SCRIPT
    quick, default = results
    for name in quick.curves:  # least squares: legacy emitters and the seeds' loop, same bits
        np.testing.assert_array_equal(quick.curves[name], default.curves[name], err_msg=name)


def test_a_sweep_of_several_chunks_shows_its_configs_rate_and_time_left(prob, capsys):
    kwargs = dict(
        grid={"learning_rate": list(np.geomspace(1e-4, 1e-2, 5))},
        steps=8,
        batch_size=8,
        progress=True,
    )
    jh.sweep(prob, jh.sgd, chunk_size=2, **kwargs)
    bar = capsys.readouterr().err.split("\r")[-1]  # the bar's last state
    assert re.search(r"^sweep: 100%.* 5/5 \[\d\d:\d\d<00:00,\s*[\d.]+(config/s|s/config)\]", bar), (
        bar
    )
    jh.sweep(prob, jh.sgd, chunk_size=5, **kwargs)  # one program call: no bar
    assert "sweep:" not in capsys.readouterr().err


def test_the_chunk_size_follows_the_cost_of_a_step():
    sweep_module = sys.modules["jaxopt_hw.sweep.plan"]
    step_bytes, cache = sweep_module._step_bytes, 32 * 2**20

    def per_device(
        d, batch_size=32, seeds=1, devices=1, itemsize=4
    ):  # Adam: w, m, v and a step count
        step = step_bytes(seeds, 3 * d * itemsize + 4, batch_size, itemsize)
        return sweep_module._configs_per_device("cpu", step, devices, itemsize, cache), step

    # at d = 5 the batch sums bound a device's configs: 64 KiB of one batch row
    assert per_device(5)[0] == 2**14 and per_device(5, itemsize=8)[0] == 2**13
    counts = {}
    for case in [
        dict(d=100),
        dict(d=200),
        dict(d=5, batch_size=128),
        dict(d=5, batch_size=256),
        dict(d=100, seeds=2),
        dict(d=100, devices=2),
    ]:
        count, step = per_device(**case)
        devices = case.get("devices", 1)
        assert (
            count % 64 == 0 and count * step * devices <= cache / 4 < (count + 64) * step * devices
        ), case
        counts[tuple(case.items())] = count
    # a larger d, batch or seed count, or more devices sharing the cache: fewer configs each
    assert counts[(("d", 200),)] < counts[(("d", 100),)] < 2**14
    assert counts[(("d", 5), ("batch_size", 256))] < counts[(("d", 5), ("batch_size", 128))] < 2**14
    assert counts[(("d", 100), ("seeds", 2))] < counts[(("d", 100),)]
    assert counts[(("d", 100), ("devices", 2))] == counts[(("d", 100),)] // 2
    assert (
        sweep_module._configs_per_device("cpu", 2**40, 1, 4, cache) == 64
    )  # never fewer than the padding
    assert (
        sweep_module._configs_per_device("gpu", 2**40, 1, 4, 0) == 2**18
    )  # accelerators: a fixed large count

    chunk_size = sweep_module._chunk_size
    # 20 000 configs in chunks of at most 16 384: two equal ones, a multiple of 64
    assert chunk_size(20_000, 100, 2**30, None, 2**14, 1) == 10_048
    assert chunk_size(2**17, 100, 2**30, None, 2**13, 2) == 2**14  # per device × devices
    assert chunk_size(1_000, 100, 2**30, None, 2**14, 1) == 1_000  # all fit: one chunk
    # the memory budget caps it (rounded down to 64 per device), chunk_size overrides both
    assert chunk_size(20_000, 100, 300 * 100, None, 2**14, 1) == 256
    assert chunk_size(20_000, 100, 300 * 100, None, 2**14, 2) == 256
    assert chunk_size(20_000, 100, 100 * 100, None, 2**14, 2) == 64
    assert chunk_size(20_000, 100, 3 * 100, None, 2**14, 1) == 3
    assert chunk_size(20_000, 100, 3 * 100, 5_000, 2**14, 1) == 5_000
    assert chunk_size(20_000, 100, 2**30, 30_000, 2**14, 1) == 20_000


def test_memory_budget_sets_the_chunks(prob):
    # per config: 2 seeds × (20 logs × 5 metrics × 4 bytes + a divergence flag + the state
    # twice: 5 float32 parameters and SGD's int32 step count)
    per_config = 2 * (20 * 5 * 4 + 1 + 2 * (5 * 4 + 4))
    res = jh.sweep(
        prob,
        jh.sgd,
        grid={"learning_rate": list(np.geomspace(1e-4, 1e-2, 6))},
        seeds=[0, 1],
        steps=20,
        batch_size=8,
        memory_budget=2 * per_config + 10,
        progress=False,
    )
    assert res.meta["chunk_size"] == 2 and res.meta["n_chunks"] == 3


def test_memory_budget_counts_the_training_state():
    # one log per run, so the state dominates: Adam keeps w, m and v (3 × 200 float32) and
    # a step count per run
    prob = jh.linear_regression(300, 200, seed=0)
    per_config = 2 * (1 * 5 * 4 + 1 + 2 * (3 * 200 * 4 + 4))
    res = jh.sweep(
        prob,
        jh.adam,
        grid={"learning_rate": list(np.geomspace(1e-4, 1e-2, 5))},
        seeds=[0, 1],
        steps=4,
        batch_size=8,
        log_every=4,
        memory_budget=2 * per_config + 10,
        progress=False,
    )
    assert res.meta["chunk_size"] == 2 and res.meta["n_chunks"] == 3


def test_save_load_select_best(prob, tmp_path):
    res = jh.sweep(
        prob,
        jh.momentum,
        grid={"learning_rate": [1e-3, 1e-2], "beta": [0.5, 0.9]},
        seeds=[0, 1],
        steps=30,
        batch_size=16,
        progress=False,
    )
    path = tmp_path / "r.npz"
    res.save(path)
    back = jh.SweepResult.load(path)
    assert back.axes == res.axes and back.meta["optimizer"] == res.meta["optimizer"]
    for name in res.curves:
        np.testing.assert_array_equal(back.curves[name], res.curves[name])
    best = res.best()
    mean = res.final_loss.mean(axis=-1)
    assert best["final_loss"] == pytest.approx(mean.min())
    assert res.sel(
        **{k: best[k] for k in ("learning_rate", "beta")}
    ).final_loss.mean() == pytest.approx(mean.min())
    with pytest.raises(ValueError, match="beta"):
        res.sel(beta=0.7)
    assert "learning_rate" in res.table()
    assert res.table(limit=1).count("\n") == res.table().count("\n") - 3  # the best row of four
    with pytest.raises(ValueError, match="limit"):
        res.table(limit=-1)
    # the statistics over seeds need the seed axis, which selecting a seed removes
    for method in (res.sel(seed=0).best, res.sel(seed=0).summary, res.sel(seed=0).table):
        with pytest.raises(ValueError, match="seed axis"):
            method()
    # selections chain in either order, before and after a round trip
    for result in (res, back):
        one = result.sel(seed=1).sel(learning_rate=1e-2)
        other = result.sel(learning_rate=1e-2).sel(seed=1)
        np.testing.assert_array_equal(one.final_loss, other.final_loss)
        assert one.initial_loss == other.initial_loss == res.initial_loss[1]


def _adam_with_betas(learning_rate, betas=(0.9, 0.999)):
    return optax.adam(learning_rate, b1=betas[0], b2=betas[1])


def test_tuple_axis_values_come_back_as_tuples(prob, tmp_path):
    res = jh.sweep(
        prob,
        _adam_with_betas,
        grid={"learning_rate": [1e-2], "betas": [(0.9, 0.999), (0.8, 0.99)]},
        steps=10,
        batch_size=16,
        progress=False,
    )
    res.save(tmp_path / "r.npz")
    back = jh.SweepResult.load(tmp_path / "r.npz")
    assert back.axes["betas"] == [(0.9, 0.999), (0.8, 0.99)]
    np.testing.assert_array_equal(
        back.sel(betas=(0.8, 0.99)).final_loss, res.sel(betas=(0.8, 0.99)).final_loss
    )


def test_configs_that_never_reach_tol_rank_last():
    steps = np.array([10, 20, 30, 40, 50])

    def curve(reached_at):  # excess loss 1 until the step it drops to 0.01
        return np.where(steps >= reached_at, 0.01, 1.0)

    excess = np.array(
        [[curve(np.inf), curve(np.inf)], [curve(30), curve(50)], [curve(10), curve(np.inf)]]
    )
    curves = {
        name: excess for name in ("loss", "excess_loss", "dist_to_opt", "grad_norm", "batch_error")
    }
    res = jh.SweepResult(
        axes={"learning_rate": [0.1, 0.2, 0.3], "seed": [0, 1]},
        curves=curves,
        steps=steps,
        diverged=np.zeros((3, 2), bool),
        initial_loss=np.ones(2),
        tol=0.1,
    )
    summary = res.summary("steps_to_tol")
    assert np.isinf(summary.mean[0]) and np.isinf(summary.mean[2]) and summary.mean[1] == 40.0
    rows = [line.split("|")[1].strip() for line in res.table("steps_to_tol").splitlines()[2:]]
    assert rows[0] == "0.2"  # the one config that every seed brought to tol comes first
    assert res.best("steps_to_tol") == {"learning_rate": 0.2, "steps_to_tol": 40.0}
    # one seed has no interval: the table shows its value, not "± inf"
    one = jh.SweepResult(
        axes={"learning_rate": [0.1, 0.2, 0.3], "seed": [0]},
        curves={name: curve[:, :1] for name, curve in curves.items()},
        steps=steps,
        diverged=np.zeros((3, 1), bool),
        initial_loss=np.ones(1),
        tol=0.1,
    )
    assert (
        "(one seed)" in one.table()
        and "inf" not in one.table()
        and "| 0.01 |" in one.table(sort=False)
    )


def test_best_summary_and_table_name_the_metrics_they_take(prob):
    res = jh.sweep(
        prob,
        jh.adam,
        grid={"learning_rate": [1e-2, 0.1]},
        seeds=[0, 1],
        steps=20,
        batch_size=16,
        progress=False,
    )
    for method in (res.best, res.summary, res.table):
        for metric in ("loss", "final_los"):  # a curve, a typo
            with pytest.raises(ValueError, match="final_loss, final_excess_loss, steps_to_tol"):
                method(metric)


def test_array_values_in_grid_and_fixed_are_the_numbers_they_hold(prob):
    kwargs = dict(seeds=[0], steps=20, batch_size=16, progress=False)
    plain = jh.sweep(
        prob, jh.adam, grid={"learning_rate": [0.25, 0.125]}, fixed={"b2": 0.75}, **kwargs
    )
    for grid_values, b2 in [
        (jnp.array([0.25, 0.125]), jnp.array(0.75)),
        (np.array([0.25, 0.125]), np.array(0.75)),
        (list(jnp.array([0.25, 0.125])), np.float32(0.75)),
    ]:
        res = jh.sweep(
            prob, jh.adam, grid={"learning_rate": grid_values}, fixed={"b2": b2}, **kwargs
        )
        assert res.meta["traced"] == ["learning_rate"] and res.axes["learning_rate"] == [
            0.25,
            0.125,
        ]
        np.testing.assert_array_equal(res.loss, plain.loss)
    with compile_log() as compiled:
        with pytest.raises(TypeError, match=r"fixed\['b2'\].*hashable"):
            jh.sweep(
                prob,
                jh.adam,
                grid={"learning_rate": [0.1]},
                fixed={"b2": np.array([0.9, 0.99])},
                **kwargs,
            )
        with pytest.raises(TypeError, match="1-D"):
            jh.sweep(prob, jh.adam, grid={"learning_rate": np.array([[0.1, 0.2]])}, **kwargs)
        with pytest.raises(
            ValueError, match=r"fixed.*b2=1.5.*b2 must lie in \[0, 1\)"
        ):  # names the culprit
            jh.sweep(prob, jh.adam, grid={"learning_rate": [0.1]}, fixed={"b2": 1.5}, **kwargs)
    assert not any("_sweep_body" in name for name in compiled)


def test_a_float32_axis_is_selected_by_the_values_the_table_shows(prob):
    res = jh.sweep(
        prob,
        jh.adam,
        grid={"learning_rate": np.array([1e-3, 1e-2], np.float32)},
        steps=10,
        batch_size=16,
        progress=False,
    )
    assert res.axes["learning_rate"][1] != 1e-2  # 0.009999999776...
    assert "| 0.01 |" in res.table(sort=False)
    np.testing.assert_array_equal(res.sel(learning_rate=1e-2).final_loss, res.final_loss[1])
    with pytest.raises(ValueError, match="learning_rate"):
        res.sel(learning_rate=1.001e-2)


def test_sel_refuses_a_value_that_two_axis_positions_hold():
    from jaxopt_hw.sweep import METRIC_NAMES

    curves = {name: np.zeros((2, 1, 3)) for name in METRIC_NAMES}
    res = jh.SweepResult(
        axes={"learning_rate": ["warmup(schedule)", "warmup(schedule)"], "seed": [0]},
        curves=curves,
        steps=np.arange(3),
        diverged=np.zeros((2, 1), bool),
        initial_loss=np.ones(1),
        tol=0.1,
    )
    with pytest.raises(ValueError, match="ambiguous"):
        res.sel(learning_rate="warmup(schedule)")


def test_schedules_on_a_grid_axis_keep_their_names(prob, tmp_path):
    schedules = [jh.exponential_decay(0.1, 0.99), jh.exponential_decay(0.05, 0.99)]
    res = jh.sweep(
        prob, jh.adam, grid={"learning_rate": schedules}, steps=10, batch_size=16, progress=False
    )
    assert "exponential_decay(0.05, 0.99)" in res.table() and " at 0x" not in res.table()
    res.save(tmp_path / "r.npz")
    back = jh.SweepResult.load(tmp_path / "r.npz")
    assert back.axes["learning_rate"] == [
        "exponential_decay(0.1, 0.99)",
        "exponential_decay(0.05, 0.99)",
    ]
    np.testing.assert_array_equal(
        back.sel(learning_rate="exponential_decay(0.05, 0.99)").loss,
        res.sel(learning_rate=schedules[1]).loss,
    )
    # a live result is selected by the same name as a loaded one
    np.testing.assert_array_equal(
        res.sel(learning_rate="exponential_decay(0.05, 0.99)").loss,
        res.sel(learning_rate=schedules[1]).loss,
    )


RESUME_SCRIPT = textwrap.dedent("""
    import os, sys, numpy as np, jaxopt_hw as jh
    import jaxopt_hw.sweep as _  # noqa
    sweep_module = sys.modules["jaxopt_hw.sweep.engine"]
    if sys.argv[2] == "die":  # die right after the first chunk is saved
        original = sweep_module._atomic_savez
        def save_then_die(path, arrays):
            original(path, arrays)
            if "chunk_" in os.path.basename(str(path)):
                os._exit(3)
        sweep_module._atomic_savez = save_then_die
    prob = jh.linear_regression(1_000, 5, seed=3)
    res = jh.sweep(prob, jh.adam, grid={"learning_rate": list(np.geomspace(1e-3, 0.1, 6))}, seeds=[0, 1],
                   steps=40, batch_size=16, chunk_size=2, out=sys.argv[1], progress=False)
    print(res.meta["chunks_loaded"])
""")


def test_interrupted_sweep_resumes_without_losing_work(tmp_path):
    script = tmp_path / "resume.py"
    script.write_text(RESUME_SCRIPT)
    out = tmp_path / "sweep"
    died = subprocess.run(
        [sys.executable, str(script), str(out), "die"], capture_output=True, text=True, cwd=ROOT
    )
    assert died.returncode == 3, died.stderr
    assert sorted(p.name for p in out.glob("chunk_*.npz")) == ["chunk_0000_00000.npz"]
    assert not (out / "result.npz").exists()
    resumed = subprocess.run(
        [sys.executable, str(script), str(out), "go"], capture_output=True, text=True, cwd=ROOT
    )
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.split()[-1] == "1"  # the saved chunk was loaded, not recomputed
    prob = jh.linear_regression(1_000, 5, seed=3)
    fresh = jh.sweep(
        prob,
        jh.adam,
        grid={"learning_rate": list(np.geomspace(1e-3, 0.1, 6))},
        seeds=[0, 1],
        steps=40,
        batch_size=16,
        chunk_size=2,
        progress=False,
    )  # uninterrupted, same chunks
    back = jh.SweepResult.load(out / "result.npz")
    for name in fresh.curves:
        np.testing.assert_array_equal(back.curves[name], fresh.curves[name])
    np.testing.assert_array_equal(back.initial_loss, fresh.initial_loss)
    # a different sweep refuses the folder instead of mixing results, naming what differs
    with pytest.raises(ValueError, match="different sweep.*other chunk, grid, seeds"):
        jh.sweep(
            prob,
            jh.adam,
            grid={"learning_rate": [0.5]},
            steps=40,
            batch_size=16,
            out=out,
            progress=False,
        )


def test_a_damaged_result_file_is_refused_naming_it(prob, tmp_path):
    """Not zipfile's or numpy's error (which advises allow_pickle for garbage), but one
    ValueError naming the file; a missing file stays a FileNotFoundError."""
    res = jh.sweep(
        prob,
        jh.adam,
        grid={"learning_rate": [1e-2, 0.1]},
        seeds=[0],
        steps=12,
        batch_size=16,
        progress=False,
    )
    res.save(tmp_path / "result.npz")
    raw = (tmp_path / "result.npz").read_bytes()
    flipped = bytearray(raw)
    flipped[len(raw) // 3] ^= 0x10  # inside a stored array: its CRC-32 no longer matches
    np.savez(tmp_path / "other.npz", a=np.arange(3))
    files = {
        "truncated.npz": raw[: len(raw) // 2],
        "garbage.npz": b"not a sweep result\n" * 20,
        "flipped.npz": bytes(flipped),
        "empty.npz": b"",
        "other.npz": None,
    }
    for name, data in files.items():
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        with pytest.raises(
            ValueError, match=re.escape(f"{str(path)!r} is not a saved SweepResult (damaged")
        ) as info:
            jh.SweepResult.load(path)
        assert "allow_pickle" not in str(info.value), name
    with pytest.raises(FileNotFoundError):
        jh.SweepResult.load(tmp_path / "missing.npz")


def test_out_that_is_or_lies_under_a_file_is_refused_before_compiling(prob, tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    kwargs = dict(grid={"learning_rate": [0.1]}, steps=4, batch_size=16, progress=False)
    for out, where in [
        (a_file, "is a file"),
        (a_file / "sweep", f"lies under the file {str(a_file)!r}"),
    ]:
        with (
            compile_log() as compiled,
            pytest.raises(
                ValueError, match=re.escape(f"out={str(out)!r} must be a folder, but it {where}")
            ),
        ):
            jh.sweep(prob, jh.adam, out=out, **kwargs)
        assert compiled == []
    assert a_file.read_text() == "not a folder"
    with pytest.raises(TypeError, match="out must be a folder's path"):
        jh.sweep(prob, jh.adam, out=3, **kwargs)


def test_an_unreadable_chunk_is_computed_again(prob, tmp_path):
    kwargs = dict(
        grid={"learning_rate": [1e-3, 1e-2, 0.1, 0.3]},
        seeds=[0],
        steps=24,
        batch_size=16,
        chunk_size=2,
        progress=False,
    )
    whole = jh.sweep(prob, jh.adam, out=tmp_path / "sweep", **kwargs)
    damaged = tmp_path / "sweep" / "chunk_0000_00001.npz"
    damaged.write_bytes(damaged.read_bytes()[:100])  # a truncated file
    (tmp_path / "sweep" / "chunk_0000_00002.npz.tmp").write_bytes(
        b""
    )  # a write that never finished
    with pytest.warns(
        RuntimeWarning, match=r"chunk_0000_00001\.npz cannot be read.*computing that chunk again"
    ):
        again = jh.sweep(prob, jh.adam, out=tmp_path / "sweep", **kwargs)
    assert again.meta["chunks_loaded"] == 1
    np.testing.assert_array_equal(again.loss, whole.loss)
    assert (
        jh.sweep(prob, jh.adam, out=tmp_path / "sweep", **kwargs).meta["chunks_loaded"] == 2
    )  # rewritten whole


def test_chunks_without_their_manifest_are_not_adopted(prob, tmp_path):
    kwargs = dict(
        grid={"learning_rate": [1e-2, 0.1]},
        seeds=[0],
        steps=26,
        batch_size=16,
        progress=False,
        out=tmp_path / "sweep",
    )
    jh.sweep(prob, jh.adam, **kwargs)
    (tmp_path / "sweep" / "manifest.json").unlink()
    assert sorted(os.listdir(tmp_path / "sweep")) == ["chunk_0000_00000.npz", "result.npz"]
    with pytest.raises(ValueError, match=r"holds 2 saved file\(s\) but no manifest\.json"):
        jh.sweep(prob, jh.adam, **kwargs)


def test_a_folder_without_chunks_is_still_refused(prob, tmp_path):
    """Its sweep may be computing its first chunk: both would write the same chunk file."""
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "manifest.json").write_text(
        json.dumps({"fingerprint": "another sweep's", "spec": {"steps": 5}})
    )
    with pytest.raises(ValueError, match=r"other .*steps.*nothing saved"):
        jh.sweep(
            prob,
            jh.adam,
            grid={"learning_rate": [0.1]},
            steps=20,
            batch_size=16,
            out=out,
            progress=False,
        )
    assert json.loads((out / "manifest.json").read_text())["fingerprint"] == "another sweep's"


def test_a_folder_refuses_a_sweep_of_other_data_or_code(prob, tmp_path):
    import dataclasses

    kwargs = dict(steps=20, batch_size=16, progress=False, out=tmp_path / "sweep")
    factory = lambda learning_rate: jh.adam(learning_rate)  # noqa: E731
    jh.sweep(prob, factory, grid={"learning_rate": [0.01, 0.1]}, fixed={}, **kwargs)
    assert (
        jh.sweep(prob, factory, grid={"learning_rate": [0.01, 0.1]}, **kwargs).meta["chunks_loaded"]
        == 1
    )
    other_X = dataclasses.replace(
        prob, data={"X": prob.X * 1.01, "y": prob.y}
    )  # same name, shapes and y
    other_code = lambda learning_rate: jh.sgd(learning_rate)  # noqa: E731  (same name: <lambda>)
    schedule = lambda learning_rate: jh.adam(jh.exponential_decay(learning_rate, 0.9))  # noqa: E731
    reads_a_global = types.FunctionType(factory.__code__, factory.__globals__)  # a copy: resumes
    reads_another = types.FunctionType(
        factory.__code__, {**factory.__globals__, "jh": types.SimpleNamespace(adam=jh.sgd)}
    )
    for problem, make in [
        (other_X, factory),
        (prob, other_code),
        (prob, schedule),
        (prob, reads_another),
    ]:
        with (
            compile_log() as compiled,
            pytest.raises(ValueError, match="different sweep.*same arguments"),
        ):
            jh.sweep(problem, make, grid={"learning_rate": [0.01, 0.1]}, **kwargs)
        assert not any("_sweep_body" in name for name in compiled)
    assert (
        jh.sweep(prob, reads_a_global, grid={"learning_rate": [0.01, 0.1]}, **kwargs).meta[
            "chunks_loaded"
        ]
        == 1
    )
    # the order of static axes decides which chunk file holds which combination
    static_kwargs = dict(kwargs, out=tmp_path / "static", fixed={"learning_rate": 0.01})
    jh.sweep(
        prob,
        jh.heavy_ball,
        grid={"nesterov": [False, True], "beta": [0.5, 0.9]},
        static=["beta"],
        **static_kwargs,
    )
    with pytest.raises(ValueError, match="different sweep"):
        jh.sweep(
            prob,
            jh.heavy_ball,
            grid={"beta": [0.5, 0.9], "nesterov": [False, True]},
            static=["beta"],
            **static_kwargs,
        )


FINGERPRINT_SCRIPT = textwrap.dedent("""
    import functools, json, sys, optax, jaxopt_hw as jh
    sweep_module = sys.modules["jaxopt_hw.sweep"]
    problems = [jh.linear_regression(200, 3, seed=0), jh.logistic_regression(100, 3, l2=0.1), jh.mlp_regression(50, 2)]
    factories = [jh.adam, optax.lion, functools.partial(jh.heavy_ball, nesterov=True), lambda **kw: jh.adam(**kw),
                 jh.exponential_decay(0.1, 0.9), optax.exponential_decay(0.1, 10, 0.9),
                 lambda name, **kw: jh.adam(**kw) if name in {"adam", "sgd", "lion", "adamw"} else None]
    print(json.dumps([sweep_module.fingerprint_of(sweep_module.problem_signature(p)) for p in problems]
                     + [sweep_module.fingerprint_of(f) for f in factories]))
""")


def test_fingerprints_agree_across_processes(tmp_path):
    script = tmp_path / "fingerprint.py"
    script.write_text(FINGERPRINT_SCRIPT)
    printed = []
    for hash_seed in ("1", "2"):  # a set's order follows the hash seed
        done = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**host_devices_env(), "PYTHONHASHSEED": hash_seed},
        )
        assert done.returncode == 0, done.stderr
        printed.append(json.loads(done.stdout.strip().splitlines()[-1]))
    assert printed[0] == printed[1]  # a rerun can resume: partials, lambdas and schedules included
    assert len(set(printed[0])) == len(printed[0])


# --------------------------------------------------------------------------- devices


def host_devices_env():
    """The environment for a subprocess whose devices are CPU host devices, also on a
    machine with a GPU."""
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["JAX_PLATFORMS"] = "cpu"
    return env


SHARD_SCRIPT = textwrap.dedent("""
    import os
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    import json, sys, jax, numpy as np, jaxopt_hw as jh
    assert len(jax.devices()) == 4
    sweep_module = sys.modules["jaxopt_hw.sweep.engine"]
    to_host = sweep_module._to_host
    for d in map(int, sys.argv[1:]):
        prob = jh.linear_regression(1_000, d, seed=3)
        kwargs = dict(grid={"learning_rate": list(np.geomspace(1e-3, 0.3, 36)), "b1": [0.8, 0.9]}, seeds=[0, 1],
                      steps=50, batch_size=16, progress=False)
        sharded = jh.sweep(prob, jh.adam, devices=jax.devices(), **kwargs)
        single = jh.sweep(prob, jh.adam, devices=jax.devices()[:1], **kwargs)
        per_device = sharded.meta["chunk_size"] // 4  # one device, chunks of one shard's size
        same_shape = jh.sweep(prob, jh.adam, devices=jax.devices()[:1], chunk_size=per_device, **kwargs)
        diff = lambda a, b: float(np.max(np.abs(a.loss - b.loss) / np.abs(b.loss)))
        ran_on = []
        sweep_module._to_host = lambda out: (ran_on.extend(jax.tree.leaves(out)[0].devices()), to_host(out))[1]
        third = jh.sweep(prob, jh.adam, devices=jax.devices()[2:3], **kwargs)  # one device, not the default
        sweep_module._to_host = to_host
        quick = sweep_module.compiles_quickly
        sweep_module.compiles_quickly = lambda *args: False  # the default program: a loop of seeds
        looped = jh.sweep(prob, jh.adam, devices=jax.devices(), **kwargs) if d == 5 else None
        sweep_module.compiles_quickly = quick
        looped_same = None if looped is None else bool(np.array_equal(looped.loss, sharded.loss))
        print(json.dumps({"looped_same": looped_same, "d": d, "devices": sharded.meta["devices"], "chunk": sharded.meta["chunk_size"],
                          "max_diff": diff(sharded, single), "same_shape_diff": diff(sharded, same_shape),
                          "third_diff": diff(third, single), "third_ran_on": sorted({d.id for d in ran_on})}))
""")


def test_sharded_over_four_devices_equals_one_device(tmp_path):
    script = tmp_path / "shard.py"
    script.write_text(SHARD_SCRIPT)
    env = host_devices_env()
    sizes = [
        5,
        40,
    ]  # the measures' terms written out, and products; the guard through the loss at 40
    done = subprocess.run(
        [sys.executable, str(script), *map(str, sizes)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    reports = [json.loads(line) for line in done.stdout.strip().splitlines()[-len(sizes) :]]
    assert [report["d"] for report in reports] == sizes
    for report in reports:
        assert report["devices"] == 4 and report["chunk"] % 4 == 0
        assert (
            report["same_shape_diff"] == 0
        )  # each device runs the one-device program on its shard
        # 18 configs per device against 72 on one: the least-squares products are padded to
        # a multiple of 64 configs, so the sums round alike (problems.MIN_PARAMETER_SETS)
        assert report["max_diff"] == 0, report
        assert report["third_ran_on"] == [2] and report["third_diff"] == 0  # the device asked for
        # the default program, its seeds in a loop (compiled at d = 5 only): same bits
        assert report["looped_same"] is (True if report["d"] == 5 else None), report


DEVICES_RESUME_SCRIPT = textwrap.dedent("""
    import os
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    import json, sys, jax, numpy as np, jaxopt_hw as jh
    prob = jh.linear_regression(500, 5, seed=3)
    kwargs = dict(grid={"learning_rate": list(np.geomspace(1e-3, 0.3, 7))}, seeds=[0, 1], steps=30, batch_size=16,
                  chunk_size=3, progress=False)
    one = jh.sweep(prob, jh.adam, devices=jax.devices()[:1], out=sys.argv[1], **kwargs)
    four = jh.sweep(prob, jh.adam, devices=jax.devices(), out=sys.argv[1], **kwargs)  # resubmitted on 4 devices
    fresh = jh.sweep(prob, jh.adam, devices=jax.devices(), **kwargs)
    # derived chunks, for a cache that holds the steps of 64 configs (Adam at d = 5, two
    # seeds, batches of 16): 64 on one device, 64 a device on four (all 200 in one chunk)
    sweep_module = sys.modules["jaxopt_hw.sweep.plan"]
    sweep_module._cache_bytes = lambda: 4 * 64 * sweep_module._step_bytes(2, 64, 16, 4)
    kwargs.pop("chunk_size")
    kwargs["grid"] = {"learning_rate": list(np.geomspace(1e-3, 0.3, 100)), "b1": [0.8, 0.9]}
    one_derived = jh.sweep(prob, jh.adam, devices=jax.devices()[:1], out=sys.argv[2], **kwargs)
    four_derived = jh.sweep(prob, jh.adam, devices=jax.devices(), out=sys.argv[2], **kwargs)
    fresh_derived = jh.sweep(prob, jh.adam, devices=jax.devices(), **kwargs)
    print(json.dumps({"chunks": [one.meta["n_chunks"], four.meta["n_chunks"]], "loaded": four.meta["chunks_loaded"],
                      "resumed_equal": bool(np.array_equal(four.loss, one.loss)),
                      "fresh_equal": bool(np.array_equal(fresh.loss, one.loss)),
                      "derived_chunks": [r.meta["chunk_size"] for r in (one_derived, four_derived, fresh_derived)],
                      "derived_loaded": four_derived.meta["chunks_loaded"],
                      "derived_resumed_equal": bool(np.array_equal(four_derived.loss, one_derived.loss)),
                      "derived_fresh_equal": bool(np.array_equal(fresh_derived.loss, one_derived.loss))}))
""")


def test_a_sweep_folder_resumes_on_another_number_of_devices(tmp_path):
    # chunks of 3 configs: one device runs them as they are, four pad each to 4 (one per device);
    # a derived chunk size, which depends on the devices, resumes in the folder's chunks
    script = tmp_path / "devices_resume.py"
    script.write_text(DEVICES_RESUME_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "sweep"), str(tmp_path / "derived")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=host_devices_env(),
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {
        "chunks": [3, 3],
        "loaded": 3,
        "resumed_equal": True,
        "fresh_equal": True,
        "derived_chunks": [64, 64, 200],
        "derived_loaded": 4,
        "derived_resumed_equal": True,
        "derived_fresh_equal": True,
    }


def test_results_come_to_the_host_as_writable_arrays_in_one_allocation():
    to_host = sys.modules["jaxopt_hw.sweep.engine"]._to_host
    tree = {
        "logs": jnp.arange(12.0).reshape(3, 4),
        "flags": jnp.array([True, False, True]),
        "host": np.arange(5, dtype=np.int16),
    }
    host = to_host(tree)
    for key, value in tree.items():
        assert (
            type(host[key]) is np.ndarray
            and host[key].dtype == value.dtype
            and host[key].flags.writeable
        )
        np.testing.assert_array_equal(host[key], np.asarray(value))
    assert np.shares_memory(host["logs"], host["flags"]) is False  # distinct parts ...
    assert (
        host["logs"].base is not None and host["logs"].base is host["host"].base
    )  # ... of one buffer
    host["logs"][0, 0] = -1.0
    assert float(tree["logs"][0, 0]) == 0.0  # a copy, not a view of the device buffer
    assert to_host({"python": 1.5})["python"] == 1.5


SHARDS_TO_HOST_SCRIPT = textwrap.dedent("""
    import os
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    import sys, jax, numpy as np, jaxopt_hw as jh
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    to_host = sys.modules["jaxopt_hw.sweep.engine"]._to_host
    mesh = Mesh(np.asarray(jax.devices()).reshape(2, 2), ("a", "b"))
    values = {"rows": np.arange(48.0).reshape(8, 6), "grid": np.arange(96, dtype=np.int32).reshape(8, 12),
              "replicated": np.arange(5.0), "flags": np.arange(8) % 3 == 0}
    specs = {"rows": P("a"), "grid": P("a", "b"), "replicated": P(), "flags": P(("a", "b"))}
    placed = {k: jax.device_put(v, NamedSharding(mesh, specs[k])) for k, v in values.items()}
    host = to_host(placed)
    for k, v in values.items():
        np.testing.assert_array_equal(host[k], v)
        assert host[k].dtype == placed[k].dtype
    print("ok")
""")


def test_results_come_to_the_host_whole_from_sharded_and_replicated_arrays(tmp_path):
    script = tmp_path / "shards_to_host.py"
    script.write_text(SHARDS_TO_HOST_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=host_devices_env(),
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


CORES_SCRIPT = textwrap.dedent("""
    import json, jax, numpy as np, jaxopt_hw as jh
    try:
        jh.use_cpu_cores(0)
    except ValueError as error:
        bad = str(error)
    count = jh.use_cpu_cores(3)  # not the machine's count: the setting is what counts
    prob = jh.linear_regression(300, 4, seed=1)
    kwargs = dict(seeds=[0, 1], steps=30, batch_size=16, progress=False)
    res = jh.sweep(prob, jh.adam, grid={"learning_rate": [1e-2, 0.1, 0.3]}, devices=jax.devices(), **kwargs)
    one = jh.sweep(prob, jh.adam, grid={"learning_rate": [1e-2, 0.1, 0.3]}, devices=jax.devices()[:1], **kwargs)
    # left to choose, a sweep gives each device 64 configs or more
    few = jh.sweep(prob, jh.adam, grid={"learning_rate": [1e-2, 0.1, 0.3]}, **kwargs).meta["devices"]
    many = jh.sweep(prob, jh.adam, grid={"learning_rate": list(np.geomspace(1e-3, 0.1, 130))}, **kwargs).meta["devices"]
    try:
        jh.use_cpu_cores(2)
        late = ""
    except RuntimeError as error:
        late = str(error)
    print(json.dumps({"bad": bad, "count": count, "devices": len(jax.devices()), "sweep_devices": res.meta["devices"],
                      "same": bool(np.array_equal(res.loss, one.loss)), "late": late, "few": few, "many": many}))
""")


def test_use_cpu_cores_presents_cores_as_devices_for_sweeps(tmp_path):
    script = tmp_path / "cores.py"
    script.write_text(CORES_SCRIPT)
    env = {k: v for k, v in host_devices_env().items() if k != "JAX_NUM_CPU_DEVICES"}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert "count" in report["bad"]
    assert report["count"] == report["devices"] == report["sweep_devices"] == 3
    assert report["same"]  # sharded over 3 CPU devices, as on one
    assert report["late"]  # too late once JAX has computed something (JAX's own RuntimeError)
    assert report["few"] == 1 and report["many"] == 2  # 3 configs: one device; 130: two of 65


PROCESS_SCRIPT = textwrap.dedent("""
    import json, sys, jax, numpy as np
    if sys.argv[1] != "alone":  # one of two processes; "alone": the one-process reference
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(coordinator_address=sys.argv[1], num_processes=2, process_id=int(sys.argv[2]))
    import jaxopt_hw as jh
    sweep_module = sys.modules["jaxopt_hw.sweep.engine"]
    to_host, rows, padded = sweep_module._to_host, [], []

    def spy(out):  # the config rows this process's devices computed, before the gather
        leaf = jax.tree.leaves(out)[0]
        padded.append(leaf.shape[0])
        rows.extend([s.index[0].start or 0, s.index[0].stop or leaf.shape[0]] for s in leaf.addressable_shards)
        return to_host(out)

    sweep_module._to_host = spy
    prob = jh.linear_regression(1_000, 5, seed=3)
    # 9 configs over 2 devices: the second device's share is padded with a repeat
    res = jh.sweep(prob, jh.adam, grid={"learning_rate": list(np.geomspace(1e-3, 0.3, 3)), "b1": [0.7, 0.8, 0.9]},
                   seeds=[0, 1], steps=50, batch_size=16, progress=False)
    np.save(sys.argv[3], res.loss)
    print(json.dumps({"processes": jax.process_count(), "devices": len(jax.devices()),
                      "configs": int(np.prod(res.loss.shape[:2])), "rows": sorted(rows), "padded": padded}))
    if sys.argv[1] != "alone":
        jax.distributed.shutdown()
""")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _last_json_line(proc, out, err) -> dict:
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow
def test_two_processes_gather_the_one_process_result(tmp_path):
    script = tmp_path / "proc.py"
    script.write_text(PROCESS_SCRIPT)
    address = f"127.0.0.1:{_free_port()}"
    env = host_devices_env()  # CPU devices: the one-process reference runs in a subprocess alike
    commands = [[address, "0"], [address, "1"], ["alone", "0"]]
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), *args, str(tmp_path / f"loss{i}.npy")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        for i, args in enumerate(commands)
    ]
    reports = [_last_json_line(p, *p.communicate(timeout=240)) for p in procs]
    # a short sweep pads each device's share to 64 rows (repeats of the last config): each
    # process computed its own 64 of the 128 rows (9 configs and 119 repeats), not the others'
    for i in range(2):
        assert reports[i] == {
            "processes": 2,
            "devices": 2,
            "configs": 9,
            "rows": [[64 * i, 64 * i + 64]],
            "padded": [128],
        }
    assert reports[2] == {
        "processes": 1,
        "devices": 1,
        "configs": 9,
        "rows": [[0, 64]],
        "padded": [64],
    }
    alone = np.load(tmp_path / "loss2.npy")
    for i in range(2):  # every process holds the whole result, bit for bit the one process's
        np.testing.assert_array_equal(np.load(tmp_path / f"loss{i}.npy"), alone)


def _count_from_config(learning_rate):
    """SGD whose state holds an integer that depends on the config (not a shared count)."""
    base = jh.sgd(learning_rate)

    def init(params):
        return (jnp.asarray(learning_rate > 0.05, jnp.int32), base.init(params))

    def update(grads, state, params=None):
        flag, inner = state
        updates, inner = base.update(grads, inner, params)
        return jax.tree.map(lambda u: u * (1 + flag), updates), (flag, inner)

    return optax.GradientTransformation(init, update)


def test_step_counts_are_shared_only_when_they_do_not_depend_on_the_config(prob):
    sweep_module = sys.modules["jaxopt_hw.sweep.program"]  # the package's `sweep` is the function
    calls = []
    original = sweep_module._state_axes

    def spy(*args, **kwargs):
        axes = original(*args, **kwargs)
        calls.append(axes)
        return axes

    sweep_module._state_axes = spy
    try:
        res = jh.sweep(
            prob,
            _count_from_config,
            grid={"learning_rate": [1e-5, 1e-1]},
            seeds=[0],
            steps=20,
            batch_size=16,
            progress=False,
        )
        shared = jh.sweep(
            prob,
            jh.adam,
            grid={"learning_rate": [1e-3, 1e-2]},
            seeds=[0],
            steps=20,
            batch_size=16,
            progress=False,
        )
    finally:
        sweep_module._state_axes = original
    held_once = lambda axes: [
        a for a in jax.tree.leaves(axes, is_leaf=lambda x: x is None) if a is None
    ]  # noqa: E731
    assert (
        held_once(calls[0].seed.opt_state) == []
    )  # the config-dependent integer leaf stays per config
    assert (
        calls[1].seed.opt_state.count is None and calls[1].config.opt_state.count is None
    )  # Adam's count: once
    # least squares with d = 5: the configs are the minor axis of the per-config arrays
    assert calls[1].config.params == -1 and calls[1].seed.params == 0
    logistic = jh.logistic_regression(
        200, 3, seed=0
    )  # its batch gradients are plain vmaps: configs major
    sweep_module._state_axes = spy
    try:
        jh.sweep(
            logistic,
            jh.adam,
            grid={"learning_rate": [1e-3, 1e-2]},
            steps=5,
            batch_size=16,
            progress=False,
        )
    finally:
        sweep_module._state_axes = original
    assert calls[2].config.params == 0
    for lr in (1e-5, 1e-1):
        trace = jh.run(prob, _count_from_config(lr), steps=20, batch_size=16, seed=0)
        assert_curves_close(res.sel(learning_rate=lr, seed=0), trace, rtol=RTOL)
    trace = jh.run(prob, jh.adam(1e-2), steps=20, batch_size=16, seed=0)
    assert_curves_close(shared.sel(learning_rate=1e-2, seed=0), trace, rtol=RTOL)


def test_a_later_sweep_of_the_same_shapes_reuses_the_compiled_program(prob):
    kwargs = dict(
        grid={"learning_rate": [1e-3, 3e-3, 1e-2]},
        seeds=[0],
        steps=17,
        batch_size=8,
        progress=False,
    )
    first = jh.sweep(prob, jh.adam, **kwargs)
    with compile_log() as compiled:
        again = jh.sweep(prob, jh.adam, **{**kwargs, "grid": {"learning_rate": [2e-3, 5e-3, 2e-2]}})
    assert not any("_sweep_body" in name for name in compiled), compiled
    assert first.meta["compile_seconds"] > 0 and again.meta["compile_seconds"] == 0


def test_remembered_grid_checks_still_tell_equal_numbers_of_other_types_apart():
    from jaxopt_hw.sweep.plan import check_grid

    def picky_sgd(learning_rate):
        if isinstance(learning_rate, bool):
            raise TypeError("learning_rate must be a number, not a bool")
        return jh.sgd(learning_rate)

    for _ in range(2):  # the second call is answered from memory
        check_grid(picky_sgd, {"learning_rate": [1.0]}, {}, ())
    with pytest.raises(TypeError, match=r"learning_rate.*not a bool"):
        check_grid(picky_sgd, {"learning_rate": [True]}, {}, ())
