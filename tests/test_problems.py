"""Problems: the homework recipe, exact optima, the O(d²) loss, conditioning, validation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxopt_hw as jh
from jaxopt_hw.problems import regression as problems_lib


def host(a):
    return np.asarray(a, dtype=np.float64)


# --------------------------------------------------------------------------- the homework recipe


def test_homework_recipe_shapes_and_column_scaling():
    n, d, noise = 4000, 4, 1.0
    prob = jh.linear_regression(n, d, noise=noise, seed=1)
    X, y, w_true = host(prob.X), host(prob.y), host(prob.w_true)
    assert X.shape == (n, d) and y.shape == (n,) and w_true.shape == (d,)
    assert prob.w_star.shape == (d,) and prob.n == n
    for j in range(d):
        bound = 5.0 * (2 * j + 1)
        column = X[:, j]
        assert np.all(np.abs(column) <= bound * (1 + 1e-6)), j
        # uniform on [-bound, bound]: the extremes are nearly reached and the spread is bound/√3
        assert column.max() > 0.99 * bound and column.min() < -0.99 * bound, j
        np.testing.assert_allclose(column.std(), bound / np.sqrt(3), rtol=0.05)
    residual = y - X @ w_true
    assert abs(residual.mean()) < 0.1
    np.testing.assert_allclose(residual.std(), noise, rtol=0.05)


def test_noise_zero_makes_labels_exact():
    prob = jh.linear_regression(300, 3, noise=0.0, seed=2)
    np.testing.assert_allclose(host(prob.X) @ host(prob.w_true), host(prob.y), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(host(prob.w_star), host(prob.w_true), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "size, shape", [("small", (500, 2)), ("medium", (10_000, 5)), ("large", (150_000, 7))]
)
def test_homework_sizes_are_one_call_each(size, shape):
    prob = jh.homework_problem(size)
    assert prob.X.shape == shape
    assert prob.y.shape == shape[:1]
    assert jh.HOMEWORK_SIZES[size] == shape


def test_homework_problem_rejects_unknown_size():
    with pytest.raises(ValueError, match="size"):
        jh.homework_problem("huge")


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = (jh.linear_regression(200, 3, seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(np.asarray(a.X), np.asarray(b.X))
    np.testing.assert_array_equal(np.asarray(a.y), np.asarray(b.y))
    assert not np.array_equal(np.asarray(a.X), np.asarray(c.X))


# --------------------------------------------------------------------------- the exact optimum


def test_w_star_is_the_float64_least_squares_solution_of_the_stored_data():
    prob = jh.linear_regression(2000, 5, seed=3)
    X, y = host(prob.X), host(prob.y)
    expected = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(host(prob.w_star), expected, rtol=2e-6)  # stored as float32
    np.testing.assert_allclose(prob.min_loss, np.mean((X @ expected - y) ** 2), rtol=1e-12)


def test_float64_problem_is_exact():
    with jax.enable_x64(True):
        prob = jh.linear_regression(2000, 5, seed=3, dtype=jnp.float64)
        assert prob.X.dtype == jnp.float64 and prob.w_star.dtype == jnp.float64
        X, y = host(prob.X), host(prob.y)
        expected = np.linalg.lstsq(X, y, rcond=None)[0]
        np.testing.assert_allclose(host(prob.w_star), expected, rtol=1e-10)
        np.testing.assert_allclose(prob.min_loss, np.mean((X @ expected - y) ** 2), rtol=1e-12)
        w = np.random.default_rng(0).normal(size=5) * 3
        np.testing.assert_allclose(
            float(prob.loss(jnp.asarray(w))), np.mean((X @ w - y) ** 2), rtol=1e-11
        )


def test_float64_without_x64_is_a_clear_error():
    with pytest.raises(ValueError, match="enable_x64"):
        jh.linear_regression(10, 2, dtype=jnp.float64)
    with pytest.raises(TypeError, match="dtype"):
        jh.linear_regression(10, 2, dtype=jnp.int32)


def test_min_loss_is_the_mean_squared_residual_at_w_star():
    prob = jh.linear_regression(1500, 4, noise=2.0, seed=4)
    X, y, w = host(prob.X), host(prob.y), host(prob.w_star)
    np.testing.assert_allclose(prob.min_loss, np.mean((X @ w - y) ** 2), rtol=1e-6)
    # and it is the minimum: nearby points are worse
    rng = np.random.default_rng(0)
    for _ in range(5):
        other = w + 1e-2 * rng.normal(size=w.shape)
        assert np.mean((X @ other - y) ** 2) > prob.min_loss


def test_exact_full_loss_equals_the_direct_mean_float32():
    prob = jh.linear_regression(3000, 6, seed=5)
    X, y = host(prob.X), host(prob.y)
    rng = np.random.default_rng(1)
    for scale in (0.01, 1.0, 10.0):
        w = host(prob.w_star) + scale * rng.normal(size=6)
        direct = np.mean((X @ w - y) ** 2)
        np.testing.assert_allclose(float(prob.loss(jnp.asarray(w, jnp.float32))), direct, rtol=1e-5)
        # the batch form over all rows agrees too
        np.testing.assert_allclose(
            float(prob.loss(jnp.asarray(w, jnp.float32), prob.X, prob.y)), direct, rtol=1e-4
        )


def test_gradient_of_the_loss_is_two_xt_residual_over_b():
    prob = jh.linear_regression(64, 3, seed=6)
    w = jnp.asarray([0.3, -0.2, 0.1])
    X, y = prob.X[:32], prob.y[:32]
    expected = 2 * host(X).T @ (host(X) @ host(w) - host(y)) / 32
    np.testing.assert_allclose(host(jax.grad(prob.loss)(w, X, y)), expected, rtol=1e-5)


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_condition_number_is_exact(kappa):
    prob = jh.linear_regression(2000, 5, seed=7, condition_number=kappa)
    np.testing.assert_allclose(prob.kappa, kappa, rtol=1e-3)
    X = host(prob.X)
    eig = np.linalg.eigvalsh(X.T @ X / X.shape[0])
    np.testing.assert_allclose([prob.mu, prob.L], [2 * eig[0], 2 * eig[-1]], rtol=1e-8)
    np.testing.assert_allclose(
        host(prob.w_star), np.linalg.lstsq(X, host(prob.y), rcond=None)[0], rtol=1e-5, atol=1e-6
    )


def test_homework_recipe_spectrum_matches_the_data():
    prob = jh.homework_problem("small")
    X = host(prob.X)
    eig = np.linalg.eigvalsh(X.T @ X / X.shape[0])
    np.testing.assert_allclose([prob.mu, prob.L], [2 * eig[0], 2 * eig[-1]], rtol=1e-8)
    assert prob.kappa == pytest.approx(prob.L / prob.mu)


def test_chunked_gram_and_normal_equations_path(monkeypatch):
    """The large-n path (Gram in row chunks, normal equations) agrees with lstsq."""
    reference = jh.linear_regression(5000, 8, seed=8)
    monkeypatch.setattr(problems_lib, "_GRAM_CHUNK_ROWS", 777)
    monkeypatch.setattr(problems_lib, "_LSTSQ_MAX_ENTRIES", 0)
    chunked = jh.linear_regression(5000, 8, seed=8)
    np.testing.assert_allclose(host(chunked.w_star), host(reference.w_star), rtol=1e-5)
    np.testing.assert_allclose(chunked.min_loss, reference.min_loss, rtol=1e-9)
    np.testing.assert_allclose([chunked.mu, chunked.L], [reference.mu, reference.L], rtol=1e-9)


def test_moderate_size_generation():
    """n·d = 4·10⁶ (the 10⁶ × 1000 case is checked by hand: see docs/benchmarks.md)."""
    prob = jh.linear_regression(100_000, 40, seed=9)
    assert prob.X.shape == (100_000, 40)
    assert np.isfinite(prob.min_loss) and 0.5 < prob.min_loss < 1.5  # ≈ noise² = 1
    np.testing.assert_allclose(host(prob.w_star), host(prob.w_true), atol=0.01)


# --------------------------------------------------------------------------- the user's data


def test_least_squares_on_user_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=50)
    prob = jh.least_squares(X, y)
    assert prob.w_true is None
    np.testing.assert_allclose(
        host(prob.w_star), np.linalg.lstsq(host(prob.X), host(prob.y), rcond=None)[0], rtol=1e-5
    )
    prob_list = jh.least_squares(X.tolist(), y.tolist())
    np.testing.assert_allclose(host(prob_list.w_star), host(prob.w_star), rtol=1e-6)


def _bad_inputs():
    good_X, good_y = np.ones((4, 2)), np.ones(4)
    nan_X = good_X.copy()
    nan_X[1, 1] = np.nan
    inf_y = good_y.copy()
    inf_y[2] = np.inf
    return [
        ("mismatched rows", good_X, np.ones(3), r"\bX\b.*\by\b"),
        ("1-D X", np.ones(4), good_y, r"\bX\b"),
        ("3-D X", np.ones((4, 2, 1)), good_y, r"\bX\b"),
        ("2-D y", good_X, np.ones((4, 1)), r"\by\b"),
        ("NaN in X", nan_X, good_y, r"\bX\b.*row 1\b"),
        ("inf in y", good_X, inf_y, r"\by\b.*row 2\b"),
        ("-inf in X", np.full((4, 2), -np.inf), good_y, r"\bX\b"),
        ("empty X", np.ones((0, 2)), np.ones(0), r"\bX\b"),
        ("empty y", np.ones((1, 2)), np.ones(0), r"\by\b"),
        ("strings in X", np.array([["a", "b"]] * 4), good_y, r"\bX\b"),
        ("complex y", good_X, np.ones(4) * 1j, r"\by\b"),
        ("None as X", None, good_y, r"\bX\b"),
        # finite in float64, inf once stored in float32, or squares that overflow it
        ("X beyond float32", good_X * 1e39, good_y, r"\bX\b.*float32"),
        ("y beyond float32", good_X, good_y * 1e39, r"\by\b.*float32"),
        ("squares beyond float32", good_X * 1e20, good_y * 1e20, r"\bX and y\b.*float32"),
    ]


@pytest.mark.parametrize(
    "label, X, y, pattern", _bad_inputs(), ids=[case[0] for case in _bad_inputs()]
)
def test_least_squares_rejects_bad_data_naming_it(label, X, y, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        jh.least_squares(X, y)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n": 0, "d": 2}, "n"),
        ({"n": -5, "d": 2}, "n"),
        ({"n": 10, "d": 0}, "d"),
        ({"n": 10, "d": -1}, "d"),
        ({"n": 10.0, "d": 2}, "n"),
        ({"n": "10", "d": 2}, "n"),
        ({"n": True, "d": 2}, "n"),
        ({"n": 10, "d": 2.5}, "d"),
        ({"n": 10, "d": 2, "noise": -1.0}, "noise"),
        ({"n": 10, "d": 2, "noise": float("nan")}, "noise"),
        ({"n": 10, "d": 2, "noise": "1"}, "noise"),
        ({"n": 10, "d": 2, "seed": -1}, "seed"),
        ({"n": 10, "d": 2, "seed": 1.5}, "seed"),
        ({"n": 10, "d": 2, "condition_number": 0.5}, "condition_number"),
        ({"n": 10, "d": 2, "condition_number": float("inf")}, "condition_number"),
    ],
)
def test_linear_regression_rejects_bad_arguments_naming_them(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=rf"\b{name}\b"):
        jh.linear_regression(**kwargs)


# --------------------------------------------------------------------------- other problems


def test_logistic_regression_optimum():
    with jax.enable_x64(True):
        prob = jh.logistic_regression(400, 4, seed=1, dtype=jnp.float64)
        grad = jax.grad(prob.loss)(prob.w_star)
        assert float(jnp.linalg.norm(grad)) < 1e-8
        np.testing.assert_allclose(float(prob.loss(prob.w_star)), prob.min_loss, rtol=1e-12)
        rng = np.random.default_rng(2)
        for _ in range(20):
            w = host(prob.w_star) + rng.normal(size=4) * rng.choice([0.01, 0.3, 3.0])
            assert float(prob.loss(jnp.asarray(w))) >= prob.min_loss
    prob32 = jh.logistic_regression(400, 4, seed=1)
    assert float(jnp.linalg.norm(jax.grad(prob32.loss)(prob32.w_star))) < 1e-4
    labels = np.asarray(prob32.y)
    assert set(np.unique(labels)) <= {0.0, 1.0} and 0.1 < labels.mean() < 0.9


def test_logistic_regression_rejects_zero_ridge():
    with pytest.raises(ValueError, match="l2"):
        jh.logistic_regression(10, 2, l2=0.0)


def test_logistic_regression_given_arrays_points_to_binary_logistic():
    with pytest.raises(TypeError, match=r"n must be an int, got ndarray.*binary_logistic\(X, y\)"):
        jh.logistic_regression(np.ones((4, 2)), np.array([0, 1, 0, 1]))
    with pytest.raises(TypeError, match=r"\bd\b.*binary_logistic"):
        jh.logistic_regression(4, 2.5)


def test_mlp_params_are_a_nested_dict():
    prob = jh.mlp_regression(100, 3, hidden=8, seed=0)
    params = prob.init_params(0)
    assert set(params) == {"hidden", "out"}
    assert set(params["hidden"]) == {"w", "b"} and set(params["out"]) == {"w", "b"}
    assert params["hidden"]["w"].shape == (3, 8) and params["hidden"]["b"].shape == (8,)
    assert params["out"]["w"].shape == (8,) and params["out"]["b"].shape == ()
    loss = prob.loss(params)
    assert np.isfinite(float(loss))
    grads = jax.grad(prob.loss)(params)
    assert jax.tree.structure(grads) == jax.tree.structure(params)
    assert prob.w_star is None and prob.min_loss is None
    # the seeded initial point is reproducible and seed-dependent
    same = prob.init_params(0)
    other = prob.init_params(1)
    assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(same)))
    assert not np.array_equal(params["hidden"]["w"], other["hidden"]["w"])


def test_rosenbrock():
    prob = jh.rosenbrock()
    assert float(prob.loss(prob.w_star)) == 0.0
    np.testing.assert_allclose(host(jax.grad(prob.loss)(prob.w_star)), [0.0, 0.0], atol=1e-6)
    start = prob.init_params(123)
    np.testing.assert_allclose(host(start), [-1.2, 1.0], rtol=1e-6)
    np.testing.assert_allclose(float(prob.loss(start)), 24.2, rtol=1e-5)
    shifted = jh.rosenbrock(a=2.0, b=10.0)
    assert float(shifted.loss(jnp.asarray([2.0, 4.0]))) == 0.0
    with pytest.raises(ValueError, match="start"):
        jh.rosenbrock(start=(1.0, 2.0, 3.0))


@pytest.mark.parametrize(
    "make",
    [
        lambda seed: jh.linear_regression(200, 5, seed=seed),
        lambda seed: jh.logistic_regression(200, 5, seed=seed),
        lambda seed: jh.homework_problem("small", seed=seed),
    ],
)
def test_initial_points_are_drawn_apart_from_the_data(make):
    """The same seed for the data and the run must not start at the data's own weights
    (both once came from ``default_rng(seed)``)."""
    for seed in range(5):
        prob = make(seed)
        start = np.asarray(prob.init_params(seed), np.float64)
        w_true = np.random.default_rng(seed).standard_normal(start.shape)  # the data's first draw
        assert np.linalg.norm(start - w_true) > 0.1 * np.linalg.norm(w_true), seed
        if prob.w_star is not None:
            assert np.linalg.norm(start - np.asarray(prob.w_star)) > 0.1 * np.linalg.norm(
                np.asarray(prob.w_star)
            ), seed


def test_initializers_compare_by_value():
    """Problems of the same kind and shapes share compiled programs (see test_loop)."""
    assert (
        jh.linear_regression(50, 3, seed=0).initial_params
        == jh.linear_regression(80, 3, seed=1).initial_params
    )
    assert jh.linear_regression(50, 3).initial_params != jh.linear_regression(50, 4).initial_params
    assert hash(jh.mlp_regression(20, 2).initial_params) == hash(
        jh.mlp_regression(30, 2, seed=4).initial_params
    )


@pytest.mark.parametrize("d", [5, 40])  # both layouts of the batched rule (d <= 32 and d > 32)
def test_mse_batch_values_batched_rule_equals_the_plain_form(d):
    from jaxopt_hw.problems import (
        mean_absolute_error,
        mse_batch_values,
        mse_batch_values_minor,
        mse_loss,
    )

    rng = np.random.default_rng(d)
    X = jnp.asarray(rng.standard_normal((16, d)), jnp.float32)
    y = jnp.asarray(rng.standard_normal(16), jnp.float32)
    W = jnp.asarray(rng.standard_normal((7, d)), jnp.float32)
    losses, grads, errors = jax.jit(jax.vmap(mse_batch_values, in_axes=(0, None, None)))(W, X, y)
    assert losses.shape == (7,) and grads.shape == (7, d) and errors.shape == (7,)
    loss_and_grad = jax.jit(jax.value_and_grad(mse_loss))  # one program for all seven
    for w, loss, grad, error in zip(W, losses, grads, errors):
        want_loss, want_grad = loss_and_grad(w, X, y)
        np.testing.assert_allclose(loss, want_loss, rtol=1e-5)
        np.testing.assert_allclose(grad, want_grad, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(error, mean_absolute_error(w, X, y), rtol=1e-5)
    # the sets as columns, as a sweep with its configs minor calls it: the same values
    minor = jax.jit(mse_batch_values_minor)(W.T, X, y)
    np.testing.assert_allclose(minor[1].T, grads, rtol=1e-5, atol=1e-5)
    for got, want in zip((minor[0], minor[2]), (losses, errors)):
        np.testing.assert_allclose(got, want, rtol=1e-5)
    if d <= 32 and jax.default_backend() == "cpu":  # the batched rule is this function, transposed
        for got, want in zip(minor, (losses, grads.T, errors)):
            np.testing.assert_array_equal(got, want)
    # different batches per parameter set: the plain vmap
    Xs = jnp.stack([X, 2 * X])
    losses, grads, _ = jax.jit(jax.vmap(mse_batch_values, in_axes=(None, 0, None)))(W[0], Xs, y)
    np.testing.assert_allclose(losses[1], mse_loss(W[0], 2 * X, y), rtol=1e-5)


@pytest.mark.parametrize(
    "d", [5, 8, 9, 20, 32, 33, 40]
)  # the forms: terms written out, (d, P), (P, d) products
def test_quadratic_measures_equal_autodiff_and_a_float64_reference(d):
    from jaxopt_hw.problems import quadratic_full_loss, quadratic_measures, quadratic_measures_minor

    prob = jh.linear_regression(400, d, seed=d)
    rng = np.random.default_rng(d)
    W = np.asarray(prob.w_star)[None] + rng.standard_normal((6, d)).astype(np.float32)
    X64, y64 = np.asarray(prob.X, np.float64), np.asarray(prob.y, np.float64)
    batched = jax.jit(jax.vmap(quadratic_measures, in_axes=(0, None)))(jnp.asarray(W), prob.aux)
    minor = jax.jit(quadratic_measures_minor)(
        jnp.asarray(W.T), prob.aux
    )  # the sets as columns, as in a sweep
    one_set = jax.jit(quadratic_measures)
    loss_and_grad = jax.jit(jax.value_and_grad(quadratic_full_loss))  # one program for all six
    for i, w in enumerate(W):
        plain = one_set(jnp.asarray(w), prob.aux)
        loss, grad = loss_and_grad(jnp.asarray(w), prob.aux)
        residual = X64 @ w.astype(np.float64) - y64
        offset = w.astype(np.float64) - np.asarray(prob.w_star, np.float64)
        want = (
            np.mean(residual**2),
            np.mean((X64 @ offset) ** 2),
            np.linalg.norm(2 * X64.T @ residual / len(y64)),
            np.linalg.norm(offset),
        )
        for got in (plain, [m[i] for m in batched], [m[i] for m in minor]):
            np.testing.assert_allclose(got[0], loss, rtol=1e-6)
            np.testing.assert_allclose(got[2], np.linalg.norm(np.asarray(grad)), rtol=1e-5)
            np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=1e-5)
        if (
            d <= 32 and jax.default_backend() == "cpu"
        ):  # the same sums in the same order, one set or many
            np.testing.assert_array_equal(np.asarray(plain), np.asarray([m[i] for m in batched]))
            np.testing.assert_array_equal(np.asarray(plain), np.asarray([m[i] for m in minor]))
    # seeds × configs, compiled as in a sweep (eagerly, each of its written-out terms compiled alone: ~3 s)
    nested = jax.jit(jax.vmap(jax.vmap(quadratic_measures, in_axes=(0, None)), in_axes=(0, None)))
    for got, want in zip(nested(jnp.asarray(W).reshape(2, 3, d), prob.aux), batched):
        np.testing.assert_allclose(np.asarray(got).reshape(-1), want, rtol=1e-6)


def test_excess_loss_is_exact_below_the_rounding_of_the_minimum():
    """``loss − min_loss`` in float32 floors at ~6e-8 · min_loss and then reads 0; the
    closed form keeps going down with the distance to the optimum."""
    prob = jh.homework_problem("small", seed=5)
    trace = jh.run(prob, jh.sgd(0.005), steps=2000)
    excess = np.asarray(trace.excess_loss, np.float64)
    assert np.all(excess > 0) and np.all(np.diff(excess) <= 0)  # GD on a quadratic: monotone
    assert excess[-1] < 1e-3 * np.finfo(np.float32).eps * prob.min_loss  # far below the rounding
    # and it is ‖X(w − w*)‖²/n of the final parameters, computed in float64
    offset = np.asarray(trace.final_params, np.float64) - np.asarray(prob.w_star, np.float64)
    np.testing.assert_allclose(
        excess[-1], np.mean((np.asarray(prob.X, np.float64) @ offset) ** 2), rtol=1e-3
    )


def test_a_measures_fn_without_the_excess_loss_still_works():
    import dataclasses

    from jaxopt_hw.problems import quadratic_measures

    prob = jh.linear_regression(300, 3, seed=1)
    three = dataclasses.replace(
        prob,
        forms=dataclasses.replace(
            prob.forms,
            measures_fn=lambda w, aux: [quadratic_measures(w, aux)[i] for i in (0, 2, 3)],
        ),
    )
    trace, reference = jh.run(three, jh.adam(0.1), steps=30), jh.run(prob, jh.adam(0.1), steps=30)
    np.testing.assert_array_equal(trace.loss, reference.loss)
    np.testing.assert_allclose(
        trace.excess_loss, np.asarray(trace.loss) - np.float32(prob.min_loss), rtol=1e-6
    )


def test_initial_points_are_host_draws_keyed_by_the_seed():
    prob = jh.linear_regression(50, 4)
    first, again, other = prob.initial_params(3), prob.initial_params(3), prob.initial_params(4)
    assert isinstance(first, np.ndarray) and first.dtype == np.float32 and first.shape == (4,)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    np.testing.assert_array_equal(np.asarray(prob.init_params(3)), first)
    mlp = jh.mlp_regression(20, 3).initial_params(1)
    assert mlp["hidden"]["w"].shape == (3, 16) and mlp["out"]["b"].shape == ()
