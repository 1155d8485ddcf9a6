"""Problems on the user's own data: least squares with an intercept, binary logistic regression."""

import doctest

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize
import scipy.special

import jaxopt_hw as jh
from jaxopt_hw import problems as problems_lib


def host(a):
    return np.asarray(a, dtype=np.float64)


def loss_and_grad_norm(prob, params):
    """The full loss and its gradient's norm, compiled as one program (eager: ~1 s more)."""
    loss, grad = jax.jit(jax.value_and_grad(prob.loss))(params)
    return float(loss), float(np.linalg.norm(host(grad)))


def _regression_data(n=60, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * [1.0, 3.0, 0.5][:d]
    y = X @ rng.normal(size=d) + 4.0 + 0.3 * rng.normal(size=n)  # a large intercept, 4
    return X, y


# --------------------------------------------------------------------------- least squares


def test_least_squares_intercept_equals_lstsq_with_a_column_of_ones():
    X, y = _regression_data()
    expected = np.linalg.lstsq(np.column_stack([X, np.ones(len(y))]), y, rcond=None)[0]
    with jax.enable_x64(True):
        prob = jh.least_squares(X, y, fit_intercept=True, dtype=jnp.float64)
        assert prob.X.shape == (60, 4) and np.all(host(prob.X)[:, -1] == 1.0)
        np.testing.assert_allclose(host(prob.w_star), expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(prob.min_loss, np.mean((X @ expected[:3] + expected[3] - y) ** 2), rtol=1e-12)
        assert loss_and_grad_norm(prob, prob.w_star)[1] < 1e-10
    assert abs(expected[-1] - 4.0) < 0.3  # the intercept is the last coefficient
    # without the intercept the fit goes through the origin, and is worse
    through_origin = jh.least_squares(X, y)
    assert through_origin.X.shape == (60, 3) and through_origin.min_loss > 10 * prob.min_loss


def test_least_squares_keeps_its_positional_arguments():
    X, y = _regression_data()
    prob = jh.least_squares(X, y, None, "mine")
    assert prob.name == "mine" and prob.X.shape == (60, 3)
    with pytest.raises(TypeError):
        jh.least_squares(X, y, None, "mine", True)  # fit_intercept is keyword only
    with pytest.raises(TypeError, match=r"\bfit_intercept\b"):
        jh.least_squares(X, y, fit_intercept="yes")
    with pytest.raises(TypeError, match=r"\bname\b"):
        jh.least_squares(X, y, name=3)


def test_least_squares_with_intercept_trains_on_the_fast_path():
    X, y = _regression_data()
    prob = jh.least_squares(X, y, fit_intercept=True)
    assert prob.parameter_sets_minor and prob.measures_fn is problems_lib.quadratic_measures
    trace = jh.run(prob, jh.adam(0.1), steps=300)
    assert float(trace.excess_loss[-1]) < 1e-3 * float(trace.initial_loss - prob.min_loss)


# --------------------------------------------------------------------------- binary logistic


def _binary_data(n=80, d=3, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 2.0
    y = rng.random(n) < scipy.special.expit(X @ rng.normal(size=d) + 1.0)  # booleans, an offset of 1
    return X, y


def _independent_logistic_optimum(X, y, l2, fit_intercept):
    """The optimum by scipy's L-BFGS-B on the objective written out separately."""
    n, d = X.shape

    def objective(params):
        w, b = params[:d], (params[d] if fit_intercept else 0.0)
        z = X @ w + b
        value = -np.mean(y * scipy.special.log_expit(z) + (1 - y) * scipy.special.log_expit(-z)) + 0.5 * l2 * w @ w
        residual = scipy.special.expit(z) - y
        grad_w = X.T @ residual / n + l2 * w
        return value, (np.append(grad_w, residual.mean()) if fit_intercept else grad_w)

    result = scipy.optimize.minimize(objective, np.zeros(d + fit_intercept), jac=True, method="L-BFGS-B",
                                     options={"gtol": 1e-13, "ftol": 1e-16, "maxiter": 10_000})
    return result.x, result.fun


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_binary_logistic_optimum_equals_an_independent_solve(fit_intercept):
    X, y = _binary_data()
    expected, expected_loss = _independent_logistic_optimum(X, y.astype(float), 0.05, fit_intercept)
    with jax.enable_x64(True):
        prob = jh.binary_logistic(X, y, l2=0.05, fit_intercept=fit_intercept, dtype=jnp.float64)
        assert prob.X.shape == (80, 3 + fit_intercept) and prob.w_star.shape == (3 + fit_intercept,)
        np.testing.assert_allclose(host(prob.w_star), expected, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(prob.min_loss, expected_loss, rtol=1e-10)
        loss, grad_norm = loss_and_grad_norm(prob, prob.w_star)
        np.testing.assert_allclose(loss, prob.min_loss, rtol=1e-12)
        assert grad_norm < 1e-10
    if fit_intercept:  # the intercept is not penalized: the data's offset of 1 is found
        assert 0.5 < expected[-1] < 2.0


def test_binary_logistic_accepts_0_1_labels_jax_arrays_and_float32():
    X, y = _binary_data()
    boolean = jh.binary_logistic(X, y, l2=0.05)
    integer = jh.binary_logistic(jnp.asarray(X, jnp.float32), jnp.asarray(y.astype(int)), l2=0.05)
    floating = jh.binary_logistic(X.tolist(), y.astype(float).tolist(), l2=0.05)
    assert boolean.X.dtype == jnp.float32 and boolean.y.dtype == jnp.float32
    for prob in (integer, floating):
        np.testing.assert_allclose(host(prob.w_star), host(boolean.w_star), rtol=1e-6)
    loss, grad_norm = loss_and_grad_norm(boolean, boolean.w_star)
    np.testing.assert_allclose(loss, boolean.min_loss, rtol=1e-5)
    assert grad_norm < 1e-5


def test_binary_logistic_without_ridge_has_no_known_optimum():
    X, y = _binary_data()
    prob = jh.binary_logistic(X, y, fit_intercept=True)
    assert prob.w_star is None and prob.min_loss is None and prob.X.shape == (80, 4)


def test_binary_logistic_trains_and_measures_the_excess_loss():
    X, y = _binary_data()
    prob = jh.binary_logistic(X, y, l2=0.05, fit_intercept=True)
    trace = jh.run(prob, jh.adam(0.05), steps=300, batch_size=16)
    assert float(trace.loss[-1]) < 0.7 * float(trace.initial_loss)
    excess, distance = np.asarray(trace.excess_loss), np.asarray(trace.dist_to_opt)
    assert excess[-1] < 0.01 * excess[0] and distance[-1] < 0.1 * distance[0]
    error = np.asarray(trace.batch_error)
    assert np.all((error >= 0) & (error <= 1)) and error[-50:].mean() < 0.3


def test_binary_logistic_loss_is_accurate_at_confident_logits():
    """``softplus(z) − y·z`` would round to 0 (in float32) where the log-loss is 9.4e-14."""
    X, w = jnp.asarray([[30.0], [-30.0]]), jnp.asarray([1.0])
    loss = jax.jit(problems_lib.binary_logistic_loss)
    right, wrong = (loss(w, X, jnp.asarray(y), penalty=jnp.zeros(1)) for y in ([1.0, 0.0], [0.0, 1.0]))
    np.testing.assert_allclose(float(right), np.logaddexp(0.0, -30.0), rtol=1e-5)
    np.testing.assert_allclose(float(wrong), 30.0, rtol=1e-6)
    assert float(jax.jit(problems_lib.binary_error_rate)(w, X, jnp.asarray([1.0, 1.0]))) == 0.5


def _bad_binary_inputs():
    X, y = np.ones((4, 2)), np.array([0, 1, 0, 1])
    nan_X, nan_y = X.copy(), y.astype(float)
    nan_X[2, 0], nan_y[3] = np.nan, np.nan
    return [
        ("label 2", {"y": np.array([0, 1, 2, 1])}, ValueError, r"\by\b.*\b2\b.*row 2\b"),
        ("label 0.5", {"y": np.array([0, 0.5, 1, 1])}, ValueError, r"\by\b.*0\.5.*row 1\b"),
        ("label -1", {"y": np.array([0, 1, -1, 1])}, ValueError, r"\by\b.*row 2\b"),
        ("NaN label", {"y": nan_y}, ValueError, r"\by\b.*NaN.*row 3\b"),
        ("NaN in X", {"X": nan_X}, ValueError, r"\bX\b.*row 2\b"),
        ("1-D X", {"X": np.ones(4)}, ValueError, r"\bX\b"),
        ("rows disagree", {"y": np.array([0, 1, 1])}, ValueError, r"\bX\b.*\by\b"),
        ("string labels", {"y": np.array(["a", "b", "a", "b"])}, TypeError, r"\by\b"),
        ("negative l2", {"l2": -0.1}, ValueError, r"\bl2\b"),
        ("NaN l2", {"l2": float("nan")}, ValueError, r"\bl2\b"),
        ("flag not a bool", {"fit_intercept": 1}, TypeError, r"\bfit_intercept\b"),
        ("one class with an intercept", {"y": np.ones(4), "fit_intercept": True}, ValueError, r"\by\b.*class 0\b"),
        ("X beyond float32", {"X": X * 1e39}, ValueError, r"\bX\b.*float32"),
    ]


@pytest.mark.parametrize("label, changes, error, pattern", _bad_binary_inputs(),
                         ids=[c[0] for c in _bad_binary_inputs()])
def test_binary_logistic_rejects_bad_input_naming_it(label, changes, error, pattern):
    arguments = {"X": np.ones((4, 2)), "y": np.array([0, 1, 0, 1]), **changes}
    with pytest.raises(error, match=pattern):
        jh.binary_logistic(arguments.pop("X"), arguments.pop("y"), **arguments)


def test_docstring_examples():
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for function in (jh.least_squares, jh.binary_logistic):
        for test in finder.find(function, globs={}):
            runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0 and results.attempted >= 11
