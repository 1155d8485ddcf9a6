"""Classification: binary logistic and softmax regression on the user's data (exact optimum by
a float64 Newton solve where it is cheap), and a synthetic logistic regression.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxopt_hw.problems.core import (
    FastForms,
    NormalInit,
    OnXY,
    Optimum,
    Problem,
    check_finite_number,
    check_flag,
    check_name,
    check_seed,
    check_size,
    check_within_range,
    checked_xy,
    first_row,
    float_dtype,
    matvec,
    product,
    with_intercept,
)


def logistic_loss(w, X, y, l2):
    r"""Mean log-loss :math:`\frac1B \sum_i \mathrm{softplus}(x_i^\top w) - y_i x_i^\top w
    + \frac{\lambda}{2}\|w\|^2`, with labels :math:`y_i \in \{0, 1\}`."""
    logits = product(X, w)
    return jnp.mean(jax.nn.softplus(logits) - y * logits) + 0.5 * l2 * jnp.sum(jnp.square(w))


def binary_logistic_loss(w, X, y, penalty):
    r"""Mean log-loss of labels :math:`y_i \in \{0, 1\}` plus a ridge term per coefficient:
    :math:`\frac1B \sum_i \mathrm{softplus}((1 - 2y_i)\, x_i^\top w) + \frac12 \sum_j
    \lambda_j w_j^2`, with ``penalty`` :math:`\lambda` (0 for an intercept's coefficient).

    :math:`\mathrm{softplus}(-z) = -\log\sigma(z)` is computed without overflow or the
    cancellation of :math:`\mathrm{softplus}(z) - y z` at confident, correct logits."""
    signs = 1 - 2 * y  # +1 for label 0, -1 for label 1
    return jnp.mean(jax.nn.softplus(signs * matvec(X, w))) + 0.5 * jnp.sum(penalty * jnp.square(w))


def binary_error_rate(w, X, y):
    r"""The fraction of rows misclassified, predicting 1 where :math:`x_i^\top w > 0`."""
    return jnp.mean(((matvec(X, w) > 0) != (y > 0.5)).astype(X.dtype))


def softmax_cross_entropy_loss(W, X, y, penalty):
    r"""Mean cross-entropy of integer labels :math:`y_i` under the softmax of the logits
    :math:`x_i^\top W`, plus a ridge term per row of :math:`W` (d, C):
    :math:`\frac1B \sum_i \big(\log\sum_c e^{x_i^\top W_{:c}} - x_i^\top W_{:y_i}\big) +
    \frac12 \sum_j \lambda_j \|W_{j:}\|^2`, with ``penalty`` :math:`\lambda` (0 for an
    intercept's row). ``log_softmax`` subtracts the largest logit first: no overflow."""
    log_probs = jax.nn.log_softmax(product(X, W), axis=-1)
    picked = jnp.sum(jax.nn.one_hot(y, W.shape[-1], dtype=log_probs.dtype) * log_probs, axis=-1)
    return -jnp.mean(picked) + 0.5 * jnp.sum(penalty[:, None] * jnp.square(W))


def softmax_error_rate(W, X, y):
    r"""The fraction of rows misclassified, predicting the class of the largest logit."""
    return jnp.mean((jnp.argmax(product(X, W), axis=-1) != y).astype(X.dtype))


def softmax_intercept_measures(W, aux):
    r"""The full loss, its gradient's norm and the distance to the nearest optimum of
    :func:`softmax_regression` with intercepts.

    Its optima form the line :math:`W^* + t\, e\mathbf 1^\top` (:math:`e` the intercepts'
    row: a common shift of the intercepts changes no probability), and the distance to it
    is :math:`\|O - e\,\bar o\,\mathbf 1^\top\|` with :math:`O = W - W^*` and
    :math:`\bar o` the mean of its last row (the gradient is orthogonal to that line).

    Args:
      W: parameters, shape ``(d + 1, C)``, the intercepts last.
      aux: ``X``, ``y``, ``penalty`` (per row of ``W``) and ``w_star``.

    Returns:
      ``(loss, gradient norm, distance)``, scalars.

    Example:
      >>> import numpy as np
      >>> prob = softmax_regression(np.array([[0.0], [1.0], [2.0]]), np.array([0, 1, 2]),
      ...                           l2=0.1, fit_intercept=True)
      >>> loss, grad_norm, distance = softmax_intercept_measures(prob.w_star + 1.0, prob.aux)
      >>> round(float(distance), 5)  # W* plus 1 everywhere: 1 off in the weights, none in the intercepts
      1.73205
    """
    loss, grad = jax.value_and_grad(softmax_cross_entropy_loss)(
        W, aux["X"], aux["y"], aux["penalty"]
    )
    offset = W - aux["w_star"]
    offset = offset.at[-1].add(-jnp.mean(offset[-1]))  # along the line of optima: no distance
    return loss, jnp.sqrt(jnp.sum(jnp.square(grad))), jnp.sqrt(jnp.sum(jnp.square(offset)))


#: Up to this many coefficients (d, or d·C), ``w_star`` comes from Newton's method on the
#: host; above, its Hessian (as many entries squared) would cost too much memory and time.
_NEWTON_MAX_PARAMETERS = 4096


_NEWTON_MAX_STEPS = 200


#: More classes than this is taken for a mistake (a label that is an identifier): ``W``
#: would have a column for every integer below the largest label.
_MAX_CLASSES = 65_536


#: Rows of ``X`` per block of the softmax Hessian's products (about 4 M entries of ``X·P``).
_HESSIAN_BLOCK_ENTRIES = 1 << 22


def binary_logistic(
    X, y, *, l2: float = 0.0, fit_intercept: bool = False, dtype=None, name: str = "binary_logistic"
) -> Problem:
    r"""Binary logistic regression on the user's own data, labels 0 and 1.

    .. math::
      \min_w \frac1n \sum_i \ell(x_i^\top w, y_i) + \frac{\lambda}{2}\|w\|^2, \qquad
      \ell(z, y) = -y\log\sigma(z) - (1 - y)\log(1 - \sigma(z)) = \mathrm{softplus}((1 - 2y) z)

    (:func:`binary_logistic_loss`): scikit-learn's ``LogisticRegression(C=1 / (n * l2),
    fit_intercept=fit_intercept)`` minimizes the same objective. Without
    ``fit_intercept`` no intercept is fitted; with it ``X`` is stored with a column of ones
    appended, ``(n, d + 1)``, and the last coefficient is the intercept :math:`b`
    (:math:`x_i^\top w + b`), which the ridge term leaves out.

    With ``l2 > 0`` the objective is strongly convex: ``w_star`` and ``min_loss`` are its
    exact optimum, found by Newton's method in float64 on the host (on the stored,
    rounded data, to a gradient norm of ~1e-12), for up to 4 096 coefficients. With
    ``l2 = 0`` they are ``None``: on separable data no finite optimum exists.
    ``error_fn`` is the batch's misclassification rate (:func:`binary_error_rate`).

    Args:
      X: features, shape ``(n, d)``, finite real numbers.
      y: labels, shape ``(n,)``: 0 and 1, or booleans.
      l2: ridge strength :math:`\lambda \ge 0`.
      fit_intercept: whether to fit an (unpenalized) intercept.
      dtype: float dtype of the stored data (default: JAX's default float).
      name: a label for plots and tables.

    Returns:
      A :class:`Problem` whose parameters are one array ``(d,)``, or ``(d + 1,)``.

    Raises:
      TypeError / ValueError: naming ``X`` or ``y`` (bad shapes, NaN or inf with its
        first row, a label other than 0 and 1 with its row, or with ``fit_intercept`` a
        class no row has, whose intercept would be infinite), ``l2``, ``fit_intercept``
        or ``name``.

    Example:
      >>> import numpy as np, jaxopt_hw as jh
      >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
      >>> prob = jh.binary_logistic(X, y, l2=0.1, fit_intercept=True)
      >>> prob.X.shape, prob.w_star.shape  # a column of ones appended: [slope, intercept]
      ((4, 2), (2,))
      >>> round(float(prob.w_star[1] / prob.w_star[0]), 4)  # the boundary at x = 1.5
      -1.5
      >>> float(prob.error_fn(prob.w_star, prob.data))
      0.0
    """
    X, y = checked_xy(X, y, labels=True)
    fit_intercept = check_flag("fit_intercept", fit_intercept)
    _check_labels(y, classes=2, fit_intercept=fit_intercept)
    l2 = check_finite_number("l2", l2, minimum=0.0)
    check_name(name)
    X, dtype = _stored_features(X, fit_intercept, dtype)
    y = y.astype(np.float64)
    penalty = _penalty(X.shape[1], l2, fit_intercept)
    w_star, min_loss = None, None
    if l2 > 0 and X.shape[1] <= _NEWTON_MAX_PARAMETERS:
        X64 = X.astype(np.float64)
        w_star, min_loss = _newton(
            lambda w: _logistic_value_grad(w, X64, y, penalty),
            lambda w: _logistic_hessian(w, X64, penalty),
            X.shape[1],
            scale=float(np.max(np.abs(X64))),
        )
    loss_fn = jax.tree_util.Partial(binary_logistic_loss, penalty=penalty.astype(dtype))
    return _classifier_problem(
        name, X, y.astype(dtype), loss_fn, binary_error_rate, (X.shape[1],), w_star, min_loss, dtype
    )


def softmax_regression(
    X,
    y,
    *,
    l2: float = 0.0,
    fit_intercept: bool = False,
    dtype=None,
    name: str = "softmax_regression",
) -> Problem:
    r"""Multinomial (softmax) logistic regression on the user's own data, classes 0 … C−1.

    .. math::
      \min_W \frac1n \sum_i \Big(\log\sum_c e^{x_i^\top W_{:c}} - x_i^\top W_{:y_i}\Big)
      + \frac{\lambda}{2}\|W\|_F^2

    The parameters are one array ``W`` of shape ``(d, C)``, ``C`` the largest label + 1
    (:func:`softmax_cross_entropy_loss`); scikit-learn's multinomial
    ``LogisticRegression(C=1 / (n * l2), fit_intercept=fit_intercept)`` minimizes the same
    objective (its ``coef_`` is ``W.T``). Without ``fit_intercept`` no intercept is
    fitted; with it ``X`` is stored with a column of ones appended, ``(n, d + 1)``, and the
    last row of ``W`` holds the intercepts, which the ridge term leaves out. Softmax is
    unchanged by adding one vector to every column of ``W``: without a ridge term no
    optimum is unique, and the intercepts are unique only up to a common shift
    (``w_star``'s sum to 0, and ``dist_to_opt`` is to the nearest optimum, see
    :func:`softmax_intercept_measures`).

    With ``l2 > 0`` ``w_star`` and ``min_loss`` are the exact optimum, found by Newton's
    method in float64 on the host (on the stored, rounded data; the Hessian has
    ``(d·C)²`` entries: 650² for the 8×8 digits), for up to 4 096 coefficients ``d·C``.
    With ``l2 = 0`` they are ``None``. ``error_fn`` is the batch's misclassification rate
    (:func:`softmax_error_rate`).

    Args:
      X: features, shape ``(n, d)``, finite real numbers.
      y: labels, shape ``(n,)``: integers 0 … C−1 (integral floats too), at least two classes.
      l2: ridge strength :math:`\lambda \ge 0`.
      fit_intercept: whether to fit (unpenalized) intercepts.
      dtype: float dtype of the stored data (default: JAX's default float); the labels
        are stored as int32.
      name: a label for plots and tables.

    Returns:
      A :class:`Problem` whose parameters are one array ``(d, C)``, or ``(d + 1, C)``.

    Raises:
      TypeError / ValueError: naming ``X`` or ``y`` (bad shapes, NaN or inf with its
        first row, a negative or non-integer label with its row, a single class, more
        than 65 536 classes, or with ``fit_intercept`` a class no row has, whose intercept
        would be −∞), ``l2``, ``fit_intercept`` or ``name``.

    Example:
      >>> import numpy as np, jaxopt_hw as jh
      >>> X, y = np.array([[-2.0], [-1.0], [1.0], [2.0], [5.0], [6.0]]), np.array([0, 0, 1, 1, 2, 2])
      >>> prob = jh.softmax_regression(X, y, l2=0.01, fit_intercept=True)
      >>> prob.X.shape, prob.w_star.shape  # W's last row holds the three intercepts
      ((6, 2), (2, 3))
      >>> abs(float(prob.w_star[-1].sum())) < 1e-6
      True
      >>> float(prob.error_fn(prob.w_star, prob.data))
      0.0
    """
    X, y = checked_xy(X, y, labels=True)
    fit_intercept = check_flag("fit_intercept", fit_intercept)
    classes = _check_labels(y, classes=None, fit_intercept=fit_intercept)
    l2 = check_finite_number("l2", l2, minimum=0.0)
    check_name(name)
    X, dtype = _stored_features(X, fit_intercept, dtype)
    labels, penalty = y.astype(np.int64), _penalty(X.shape[1], l2, fit_intercept)
    shape = (X.shape[1], classes)
    optimum = _softmax_optimum(X, labels, penalty, shape, fit_intercept)
    loss_fn = jax.tree_util.Partial(softmax_cross_entropy_loss, penalty=penalty.astype(dtype))
    prob = _classifier_problem(
        name, X, labels.astype(np.int32), loss_fn, softmax_error_rate, shape, *optimum, dtype
    )
    if not fit_intercept or prob.optimum is None:
        return prob
    return _with_nearest_optimum(prob, penalty)


def _softmax_optimum(X, labels, penalty, shape, fit_intercept) -> tuple:
    """``(w_star, min_loss)`` of :func:`softmax_regression` by Newton's method in float64, or
    ``(None, None)`` without a ridge term or beyond :data:`_NEWTON_MAX_PARAMETERS`."""
    if not np.any(penalty > 0) or math.prod(shape) > _NEWTON_MAX_PARAMETERS:
        return None, None
    X64 = X.astype(np.float64)
    return _newton(
        lambda w: _softmax_value_grad(w, X64, labels, penalty),
        lambda w: _softmax_hessian(w, X64, penalty, fit_intercept),
        math.prod(shape),
        scale=float(np.max(np.abs(X64))),
    )


def _with_nearest_optimum(prob: Problem, penalty) -> Problem:
    """``prob`` measured against the nearest of its line of optima (intercepts fitted:
    :func:`softmax_intercept_measures`)."""
    aux = {**prob.aux, "penalty": jnp.asarray(penalty, prob.dtype), "w_star": prob.w_star}
    return dataclasses.replace(
        prob, aux=aux, forms=FastForms(measures_fn=softmax_intercept_measures)
    )


def _check_labels(y: np.ndarray, classes: Optional[int], fit_intercept: bool) -> int:
    """The number of classes of the labels ``y``: 0 and 1 for ``classes=2``, else integers
    0, 1, … (their largest + 1); ValueErrors naming ``y`` and the first bad row."""
    if classes == 2:
        bad = (y != 0) & (y != 1)
        expected = "the labels 0 and 1 (or booleans)"
    else:
        bad = (y < 0) | (y != np.round(y))
        expected = "integer class labels 0, 1, 2, …"
    if np.any(bad):
        row = first_row(bad)
        raise ValueError(f"y must hold {expected}, got {y[row].item()!r} in row {row}")
    if classes is None:
        if np.max(y) >= _MAX_CLASSES:
            row = int(np.argmax(y))
            raise ValueError(
                f"y must hold at most {_MAX_CLASSES} classes (labels below {_MAX_CLASSES}), got "
                f"{y[row].item()!r} in row {row}"
            )
        classes = int(np.max(y)) + 1
        if classes < 2:
            raise ValueError("y must hold at least two classes (labels 0 and 1), got only label 0")
    if fit_intercept:
        counts = np.bincount(y.astype(np.int64), minlength=classes)
        if np.any(counts == 0):
            raise ValueError(
                f"y has no row of class {int(np.flatnonzero(counts == 0)[0])}: with "
                "fit_intercept=True its intercept's optimum is infinite (relabel the classes 0 … "
                "C−1)"
            )
    return classes


def _stored_features(X: np.ndarray, fit_intercept: bool, dtype) -> tuple:
    """The features as stored (a column of ones appended for the intercept, rounded to
    ``dtype``, on the host) and the dtype; the exact optimum is computed from these."""
    dtype = float_dtype(dtype)
    check_within_range(dtype, X=X)
    return with_intercept(X, fit_intercept).astype(dtype), dtype


def _penalty(size: int, l2: float, fit_intercept: bool) -> np.ndarray:
    """The ridge strength of each coefficient (row of coefficients): ``l2``, but 0 for the intercept."""
    penalty = np.full(size, l2)
    if fit_intercept:
        penalty[-1] = 0.0
    return penalty


def _classifier_problem(name, X, y, loss_fn, error_fn, shape, w_star, min_loss, dtype) -> Problem:
    """The :class:`Problem` of a classifier over the stored host arrays ``X`` and ``y``
    (its full loss is its loss on all rows: ``aux`` holds them)."""
    data = {"X": jnp.asarray(X), "y": jnp.asarray(y)}
    optimum = None
    if w_star is not None:
        optimum = Optimum(jnp.asarray(w_star.reshape(shape), dtype), float(min_loss))
    return Problem(
        name=name,
        data=data,
        loss_fn=OnXY(loss_fn),
        full_loss_fn=OnXY(loss_fn),
        aux=data,
        initial_params=NormalInit(shape, dtype.name),
        error_fn=OnXY(error_fn),
        optimum=optimum,
    )


def _logistic_value_grad(w, X, y, penalty):
    """The objective of :func:`binary_logistic` and its gradient, in float64 on the host."""
    logits = X @ w
    value = np.mean(np.logaddexp(0.0, (1 - 2 * y) * logits)) + 0.5 * penalty @ (w * w)
    probabilities = np.exp(-np.logaddexp(0.0, -logits))  # σ(z), without overflow
    return value, X.T @ (probabilities - y) / len(y) + penalty * w


def _logistic_hessian(w, X, penalty):
    r"""The objective's Hessian :math:`X^\top \mathrm{diag}(\sigma(1-\sigma)) X / n + \mathrm{diag}(\lambda)`."""
    logits = X @ w
    curvature = np.exp(
        -np.logaddexp(0.0, logits) - np.logaddexp(0.0, -logits)
    )  # σ(1 − σ), no cancellation
    return (X * curvature[:, None]).T @ X / X.shape[0] + np.diag(penalty)


def _softmax_log_probs(W, X):
    """Row-wise log-softmax of ``X @ W`` on the host (the largest logit subtracted first)."""
    logits = X @ W
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _softmax_value_grad(w, X, labels, penalty):
    """The objective of :func:`softmax_regression` and its gradient (flattened like
    ``W.ravel()``), in float64 on the host."""
    W = w.reshape(X.shape[1], -1)
    log_probs = _softmax_log_probs(W, X)
    rows = np.arange(X.shape[0])
    value = -np.mean(log_probs[rows, labels]) + 0.5 * np.sum(penalty[:, None] * W * W)
    residual = np.exp(log_probs)
    residual[rows, labels] -= 1.0  # P − one-hot
    return value, (X.T @ residual / X.shape[0] + penalty[:, None] * W).ravel()


def _softmax_hessian(w, X, penalty, fit_intercept):
    r"""The objective's Hessian over ``W.ravel()``: entry :math:`((j, c), (k, c'))` is
    :math:`\frac1n \sum_i x_{ij} x_{ik} (p_{ic}\delta_{cc'} - p_{ic} p_{ic'}) +
    \lambda_j \delta_{jk}\delta_{cc'}`, accumulated over blocks of rows."""
    n, d = X.shape
    W = w.reshape(d, -1)
    classes = W.shape[1]
    hessian = np.zeros((d * classes, d * classes))
    blocks = hessian.reshape(d, classes, d, classes)  # a view: entry [j, c, k, c']
    rows = max(1, _HESSIAN_BLOCK_ENTRIES // (d * classes))
    for start in range(0, n, rows):
        X_block = X[start : start + rows]
        P = np.exp(_softmax_log_probs(W, X_block))
        XP = (X_block[:, :, None] * P[:, None, :]).reshape(len(X_block), d * classes)
        hessian -= XP.T @ XP
        for c in range(classes):
            blocks[:, c, :, c] += (X_block * P[:, c : c + 1]).T @ X_block
    hessian /= n
    hessian[np.diag_indices_from(hessian)] += np.repeat(penalty, classes)
    if (
        fit_intercept
    ):  # a common shift of the intercepts changes nothing: fix it (at the start's, 0)
        shift = np.zeros((d, classes))
        shift[-1] = 1.0 / math.sqrt(classes)
        hessian += np.outer(shift.ravel(), shift.ravel())
    return hessian


def _newton(value_grad, hessian, size: int, scale: float) -> tuple:
    """The minimizer of a smooth strongly convex function and its value, by Newton's
    method from 0 with a backtracking line search, in float64.

    Stops at a gradient norm of ``1e-12 · max(1, scale)`` (``scale``: the features'
    largest magnitude, which the gradient's rounding grows with), or where a Newton step
    moves the point less than 1e-13 of its norm (the rounding floor)."""
    point = np.zeros(size)
    with np.errstate(
        over="ignore", invalid="ignore"
    ):  # trial points far out; the line search rejects them
        value, grad = value_grad(point)
        for _ in range(_NEWTON_MAX_STEPS):
            if np.linalg.norm(grad) <= 1e-12 * max(1.0, scale):
                return point, value
            step = _newton_step(hessian(point), grad)
            if np.linalg.norm(step) <= 1e-13 * (1.0 + np.linalg.norm(point)):
                return point, value
            accepted = _line_search(value_grad, point, value, grad, step)
            if accepted is None:
                break
            point, value, grad = accepted
    raise RuntimeError(
        f"Newton's method did not converge (gradient norm {np.linalg.norm(grad):.2e}); "
        "the ridge strength l2 may be too small for an exact optimum"
    )


def _newton_step(hessian: np.ndarray, grad: np.ndarray) -> np.ndarray:
    try:
        return -np.linalg.solve(hessian, grad)
    except np.linalg.LinAlgError:  # a singular Hessian: the least-norm step
        return -np.linalg.lstsq(hessian, grad, rcond=None)[0]


def _line_search(value_grad, point, value, grad, step):
    """The first of ``point + t·step``, ``t = 1, ½, ¼, …``, that decreases the value
    enough (Armijo), as ``(point, value, gradient)``; or ``None``."""
    slope, grad_norm = grad @ step, np.linalg.norm(grad)
    t = 1.0
    while t >= 1e-10:
        candidate = point + t * step
        new_value, new_grad = value_grad(candidate)
        # near the optimum the decrease drowns in the value's rounding: a smaller gradient decides
        flat = new_value <= value + 1e-14 * abs(value) and np.linalg.norm(new_grad) < grad_norm
        if new_value <= value + 1e-4 * t * slope or flat:
            return candidate, new_value, new_grad
        t *= 0.5
    return None


def logistic_regression(n: int, d: int, seed: int = 0, l2: float = 1e-3, dtype=None) -> Problem:
    r"""Synthetic binary logistic regression with a small ridge term.

    :math:`x_i \sim N(0, I_d)`, :math:`y_i \sim \mathrm{Bernoulli}(\sigma(x_i^\top
    w_{true}))`; loss :math:`\frac1n\sum_i \mathrm{softplus}(x_i^\top w) - y_i x_i^\top w +
    \frac{\lambda}{2}\|w\|^2`. The optimum is found by Newton's method in float64.
    For the user's own data see :func:`binary_logistic`.

    Example:
      >>> import jaxopt_hw as jh
      >>> prob = jh.logistic_regression(200, 3)
      >>> prob.min_loss < float(prob.loss(prob.init_params(0)))
      True
    """
    try:
        n, d = check_size("n", n), check_size("d", d)
    except TypeError as error:  # most likely the user's own arrays
        raise TypeError(
            f"{error}: logistic_regression(n, d) draws synthetic data; for your own X and y "
            "use binary_logistic(X, y)"
        ) from None
    l2 = check_finite_number("l2", l2, minimum=0.0)
    if l2 == 0:
        raise ValueError("l2 must be > 0 (separable data has no finite optimum otherwise)")
    rng = np.random.default_rng(check_seed(seed))
    w_true = rng.standard_normal(d)
    X = rng.standard_normal((n, d))
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-X @ w_true))).astype(np.float64)
    w = np.zeros(d)
    for _ in range(50):  # Newton's method on a strongly convex objective
        p = 1.0 / (1.0 + np.exp(-X @ w))
        grad = X.T @ (p - y) / n + l2 * w
        hess = (X * (p * (1 - p))[:, None]).T @ X / n + l2 * np.eye(d)
        w -= np.linalg.solve(hess, grad)
    logits = X @ w
    min_loss = float(np.mean(np.logaddexp(0.0, logits) - y * logits) + 0.5 * l2 * w @ w)
    dtype = float_dtype(dtype)
    data = {"X": jnp.asarray(X, dtype), "y": jnp.asarray(y, dtype)}
    loss_fn = OnXY(jax.tree_util.Partial(logistic_loss, l2=l2))
    return Problem(
        name=f"logistic_regression(n={n}, d={d})",
        data=data,
        loss_fn=loss_fn,
        full_loss_fn=loss_fn,
        aux=data,
        initial_params=NormalInit((d,), dtype.name),
        optimum=Optimum(jnp.asarray(w, dtype), min_loss, jnp.asarray(w_true, dtype)),
    )
