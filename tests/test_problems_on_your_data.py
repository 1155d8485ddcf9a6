"""Problems on the user's own data: least squares with an intercept, binary and softmax
logistic regression."""

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
        np.testing.assert_allclose(
            prob.min_loss, np.mean((X @ expected[:3] + expected[3] - y) ** 2), rtol=1e-12
        )
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
    assert prob.forms.sets_minor and prob.forms.measures_fn is problems_lib.quadratic_measures
    trace = jh.run(prob, jh.adam(0.1), steps=300)
    assert float(trace.excess_loss[-1]) < 1e-3 * float(trace.initial_loss - prob.min_loss)


# --------------------------------------------------------------------------- binary logistic


def _binary_data(n=80, d=3, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 2.0
    y = rng.random(n) < scipy.special.expit(
        X @ rng.normal(size=d) + 1.0
    )  # booleans, an offset of 1
    return X, y


def _independent_logistic_optimum(X, y, l2, fit_intercept):
    """The optimum by scipy's L-BFGS-B on the objective written out separately."""
    n, d = X.shape

    def objective(params):
        w, b = params[:d], (params[d] if fit_intercept else 0.0)
        z = X @ w + b
        value = (
            -np.mean(y * scipy.special.log_expit(z) + (1 - y) * scipy.special.log_expit(-z))
            + 0.5 * l2 * w @ w
        )
        residual = scipy.special.expit(z) - y
        grad_w = X.T @ residual / n + l2 * w
        return value, (np.append(grad_w, residual.mean()) if fit_intercept else grad_w)

    result = scipy.optimize.minimize(
        objective,
        np.zeros(d + fit_intercept),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-13, "ftol": 1e-16, "maxiter": 10_000},
    )
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
    right, wrong = (
        loss(w, X, jnp.asarray(y), penalty=jnp.zeros(1)) for y in ([1.0, 0.0], [0.0, 1.0])
    )
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
        (
            "one class with an intercept",
            {"y": np.ones(4), "fit_intercept": True},
            ValueError,
            r"\by\b.*class 0\b",
        ),
        ("X beyond float32", {"X": X * 1e39}, ValueError, r"\bX\b.*float32"),
    ]


@pytest.mark.parametrize(
    "label, changes, error, pattern", _bad_binary_inputs(), ids=[c[0] for c in _bad_binary_inputs()]
)
def test_binary_logistic_rejects_bad_input_naming_it(label, changes, error, pattern):
    arguments = {"X": np.ones((4, 2)), "y": np.array([0, 1, 0, 1]), **changes}
    with pytest.raises(error, match=pattern):
        jh.binary_logistic(arguments.pop("X"), arguments.pop("y"), **arguments)


# --------------------------------------------------------------------------- softmax


def _softmax_data(n=90, d=3, classes=3, seed=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 1.5
    logits = X @ rng.normal(size=(d, classes)) + [0.5, 0.0, -0.5][:classes]
    y = np.array([rng.choice(classes, p=p) for p in scipy.special.softmax(logits, axis=1)])
    assert set(y) == set(range(classes))
    return X, y


def _independent_softmax_optimum(X, y, l2, fit_intercept):
    """The optimum by scipy's L-BFGS-B, parameters ``[W (d, C), b (C,)]`` written out separately."""
    n, d = X.shape
    classes = y.max() + 1
    onehot = np.eye(classes)[y]

    def objective(params):
        W = params[: d * classes].reshape(d, classes)
        b = params[d * classes :] if fit_intercept else np.zeros(classes)
        logits = X @ W + b
        cross_entropy = scipy.special.logsumexp(logits, axis=1) - np.sum(onehot * logits, axis=1)
        value = np.mean(cross_entropy) + 0.5 * l2 * np.sum(W**2)
        residual = scipy.special.softmax(logits, axis=1) - onehot
        grad = [(X.T @ residual / n + l2 * W).ravel()] + (
            [residual.mean(axis=0)] if fit_intercept else []
        )
        return value, np.concatenate(grad)

    size = (d + fit_intercept) * classes
    result = scipy.optimize.minimize(
        objective,
        np.zeros(size),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-13, "ftol": 1e-16, "maxiter": 10_000},
    )
    W = result.x[: d * classes].reshape(d, classes)
    return (np.vstack([W, result.x[d * classes :]]) if fit_intercept else W), result.fun


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_softmax_optimum_equals_an_independent_solve(fit_intercept):
    X, y = _softmax_data()
    expected, expected_loss = _independent_softmax_optimum(X, y, 0.05, fit_intercept)
    with jax.enable_x64(True):
        prob = jh.softmax_regression(
            X, y.astype(float), l2=0.05, fit_intercept=fit_intercept, dtype=jnp.float64
        )
        assert prob.y.dtype == jnp.int32 and prob.w_star.shape == (3 + fit_intercept, 3)
        w_star = host(prob.w_star)
        if fit_intercept:  # the intercepts are unique up to a common shift: compare them centred
            assert abs(w_star[-1].sum()) < 1e-12
            expected[-1] -= expected[-1].mean()
        np.testing.assert_allclose(w_star, expected, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(prob.min_loss, expected_loss, rtol=1e-10)
        loss, grad_norm = loss_and_grad_norm(prob, prob.w_star)
        np.testing.assert_allclose(loss, prob.min_loss, rtol=1e-12)
        assert grad_norm < 1e-10


def test_softmax_trains_and_measures_the_excess_loss():
    X, y = _softmax_data()
    prob = jh.softmax_regression(X, y, l2=0.05, fit_intercept=True)
    assert prob.X.shape == (90, 4) and prob.init_params(0).shape == (4, 3)
    trace = jh.run(prob, jh.adam(0.05), steps=300, batch_size=16)
    assert float(trace.loss[-1]) < 0.7 * float(trace.initial_loss)
    excess, distance = np.asarray(trace.excess_loss), np.asarray(trace.dist_to_opt)
    assert excess[-1] < 0.01 * excess[0] and distance[-1] < 0.1 * distance[0]
    error = np.asarray(trace.batch_error)
    assert np.all((error >= 0) & (error <= 1)) and error[-50:].mean() < 0.5
    # the error is the misclassification rate of the largest logit
    W = jnp.asarray([[1.0, 0.0, 0.0]] * 3 + [[0.0, 0.5, 0.0]])
    expected = np.mean(np.argmax(X @ host(W)[:3] + host(W)[3], axis=1) != y)
    np.testing.assert_allclose(float(jax.jit(prob.error_fn)(W, prob.data)), expected, rtol=1e-6)


def test_softmax_distance_is_to_the_nearest_optimum_when_fitting_intercepts():
    """A common shift of the intercepts is an optimum too: the distance ignores it."""
    X, y = _softmax_data()
    with jax.enable_x64(True):
        prob = jh.softmax_regression(X, y, l2=0.05, fit_intercept=True, dtype=jnp.float64)
        measures = jax.jit(prob.forms.measures_fn)
        shifted = host(prob.w_star) + np.array([0.0] * 3 + [2.5])[:, None]  # every intercept + 2.5
        loss, grad_norm, distance = (float(m) for m in measures(jnp.asarray(shifted), prob.aux))
        np.testing.assert_allclose(loss, prob.min_loss, rtol=1e-12)
        assert grad_norm < 1e-10 and distance < 1e-12
        W = host(prob.w_star) + np.random.default_rng(0).normal(size=(4, 3))
        nearest = scipy.optimize.minimize_scalar(
            lambda t: np.linalg.norm(W - shifted + t * np.eye(4)[3][:, None])
        )
        np.testing.assert_allclose(
            float(measures(jnp.asarray(W), prob.aux)[2]), nearest.fun, rtol=1e-8
        )
        loss, grad = jax.jit(jax.value_and_grad(prob.loss))(jnp.asarray(W))
        np.testing.assert_allclose(
            float(measures(jnp.asarray(W), prob.aux)[0]), float(loss), rtol=1e-12
        )
        np.testing.assert_allclose(
            float(measures(jnp.asarray(W), prob.aux)[1]), np.linalg.norm(host(grad)), rtol=1e-10
        )
    assert (
        jh.softmax_regression(X, y, l2=0.05).forms is None
    )  # without intercepts: the optimum is unique


def test_softmax_without_ridge_has_no_known_optimum():
    X, y = _softmax_data()
    prob = jh.softmax_regression(jnp.asarray(X), jnp.asarray(y), fit_intercept=True)
    assert prob.w_star is None and prob.min_loss is None and prob.init_params(0).shape == (4, 3)


def _bad_softmax_inputs():
    X = np.ones((4, 2))
    nan_y = np.array([0.0, 1.0, np.nan, 2.0])
    return [
        ("negative label", {"y": np.array([0, 1, -1, 2])}, ValueError, r"\by\b.*-1.*row 2\b"),
        ("label 1.5", {"y": np.array([0, 1.5, 1, 2])}, ValueError, r"\by\b.*1\.5.*row 1\b"),
        ("NaN label", {"y": nan_y}, ValueError, r"\by\b.*NaN.*row 2\b"),
        (
            "inf in X",
            {"X": np.where(np.arange(8).reshape(4, 2) == 7, np.inf, X)},
            ValueError,
            r"\bX\b.*row 3\b",
        ),
        ("one class", {"y": np.zeros(4)}, ValueError, r"\by\b.*two classes"),
        (
            "a label that is an identifier",
            {"y": np.array([0, 1, 10**9, 2])},
            ValueError,
            r"\by\b.*row 2\b",
        ),
        (
            "a class without rows with an intercept",
            {"y": np.array([0, 2, 2, 0]), "fit_intercept": True},
            ValueError,
            r"\by\b.*class 1\b",
        ),
        ("2-D y", {"y": np.zeros((4, 1))}, ValueError, r"\by\b"),
        ("negative l2", {"l2": -1.0}, ValueError, r"\bl2\b"),
        ("l2 a string", {"l2": "0.1"}, TypeError, r"\bl2\b"),
        ("flag not a bool", {"fit_intercept": None}, TypeError, r"\bfit_intercept\b"),
    ]


@pytest.mark.parametrize(
    "label, changes, error, pattern",
    _bad_softmax_inputs(),
    ids=[c[0] for c in _bad_softmax_inputs()],
)
def test_softmax_rejects_bad_input_naming_it(label, changes, error, pattern):
    arguments = {"X": np.ones((4, 2)), "y": np.array([0, 1, 2, 1]), **changes}
    with pytest.raises(error, match=pattern):
        jh.softmax_regression(arguments.pop("X"), arguments.pop("y"), **arguments)


def test_a_class_without_rows_is_fine_without_an_intercept():
    prob = jh.softmax_regression(np.eye(4, 2), np.array([0, 2, 2, 0]), l2=0.1)
    assert prob.w_star.shape == (2, 3) and np.all(np.isfinite(host(prob.w_star)))


def test_docstring_examples():
    finder, runner = (
        doctest.DocTestFinder(),
        doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE),
    )
    for function in (
        jh.least_squares,
        jh.binary_logistic,
        jh.softmax_regression,
        problems_lib.softmax_intercept_measures,
    ):
        for test in finder.find(function, globs=dict(vars(problems_lib))):
            runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0 and results.attempted >= 20
