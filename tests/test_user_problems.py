"""Problems on the user's own data: least squares with an intercept."""

import doctest

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxopt_hw as jh
from jaxopt_hw import problems as problems_lib


def host(a):
    return np.asarray(a, dtype=np.float64)


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
        assert float(jnp.linalg.norm(jax.grad(prob.loss)(prob.w_star))) < 1e-10
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


def test_docstring_examples():
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for function in (jh.least_squares,):
        for test in finder.find(function, globs={}):
            runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0 and results.attempted >= 6
