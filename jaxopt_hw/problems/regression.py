"""Least squares: the homework's recipe, the user's own data, and the fast forms a sweep uses.

The loss is ``mean((X w − y)²)``, whose gradient is ``2 Xᵀ(X w − y)/B`` and Hessian ``2 XᵀX/n``;
the homework recipe (:func:`linear_regression`): ``X ~ U(-5, 5)^(n×d)`` with column ``j``
multiplied by ``2j + 1`` and ``y = X w_true + N(0, noise²)``, ``w_true ~ N(0, I)``.
"""

from __future__ import annotations

from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxopt_hw.problems.core import (
    SMALL_D,
    Curvature,
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
    float_dtype,
    matvec,
    product,
    register_sets_minor_form,
    rmatvec,
    with_intercept,
)

#: The three problem sizes of the homework notebook, ``(n, d)``.
HOMEWORK_SIZES = {"small": (500, 2), "medium": (10_000, 5), "large": (150_000, 7)}


_GRAM_CHUNK_ROWS = 65_536


#: Up to this many entries in ``X``, ``w_star`` comes from ``np.linalg.lstsq`` on the data
#: (QR/SVD); above, from the normal equations accumulated in row chunks (memory O(d²)).
_LSTSQ_MAX_ENTRIES = 20_000_000


def mse_loss(w, X, y):
    r"""Mean squared error :math:`\frac1B \sum_i (x_i^\top w - y_i)^2`."""
    return jnp.mean(jnp.square(matvec(X, w) - y))


def mean_absolute_error(w, X, y):
    r"""Mean absolute error :math:`\frac1B \sum_i |x_i^\top w - y_i|`."""
    return jnp.mean(jnp.abs(matvec(X, w) - y))


def _mean_square_and_abs(residuals, axis=None):
    """The batch loss and the batch error from the residuals (their means over ``axis``)."""
    return jnp.mean(jnp.square(residuals), axis=axis), jnp.mean(jnp.abs(residuals), axis=axis)


def _column_means(values):
    """The mean of each column of ``values`` (B, P), summed as a product with a row of ones.

    XLA:CPU's reduction over the rows costs 4–20× more per column past 16 384 columns; a
    product costs the same per column at any width (docs/benchmarks.md, "Chunk size and the
    cache"), and for batches of ≤ 32 rows sums as a run's mean does (``test_sweep.py``)."""
    summed = jnp.promote_types(values.dtype, jnp.float32)  # as jnp.mean sums float16
    ones = jnp.ones((1, values.shape[0]), summed)
    return (product(ones, values.astype(summed))[0] / values.shape[0]).astype(values.dtype)


def _loss_weights(X, residuals):
    r""":math:`\frac2B r`, the batch loss's gradient with respect to the residuals."""
    return (jnp.asarray(1.0, X.dtype) / X.shape[0]) * (2 * residuals)


@jax.custom_batching.custom_vmap
def mse_batch_values(w, X, y):
    r"""The batch loss, its gradient and the batch error of least squares in one call:
    :math:`\frac1B\|r\|^2`, :math:`\frac2B X^\top r` and :math:`\frac1B\|r\|_1` with
    :math:`r = X w - y` (the loss and gradient are ``jax.value_and_grad(mse_loss)``).

    Under ``jax.vmap`` over many ``w`` sharing one batch (a sweep's configs), the
    residuals of all of them come from one matrix product laid out with the parameter
    sets on the minor axis when ``d`` is small (see :func:`_mse_batch_values_many`).

    The gradient is written out rather than taken by ``jax.grad``: the same arithmetic
    (``X @ w`` and ``X^T r`` as multiply-and-sum for small ``d``), with less to trace."""
    residuals = matvec(X, w) - y
    loss, error = _mean_square_and_abs(residuals)
    return loss, rmatvec(X, _loss_weights(X, residuals)), error


#: The batched rules compute a multiple of this many parameter sets at once (padding
#: with zeros). XLA:CPU sums each entry of a product with 64 columns or more over ``k``
#: in order, one fused multiply-add at a time, as the plain form does for batches of up
#: to 32 rows; narrower products, and the columns past the last multiple of 64 of a
#: wider one (72 columns: 8), go through other kernels that round otherwise; for
#: ``d > 32`` the same holds for the rows of the gradient's product. A config's
#: parameters then do not depend on how many configs share its program (its chunk, or
#: its device's share of a sharded sweep).
MIN_PARAMETER_SETS = 64


def _padded(w, axis=0):
    """``w`` with zeros appended along ``axis`` (its parameter sets) up to a multiple of
    :data:`MIN_PARAMETER_SETS`."""
    widths = [(0, 0)] * w.ndim
    widths[axis] = (0, -w.shape[axis] % MIN_PARAMETER_SETS)
    return jnp.pad(w, widths)


def mse_batch_values_minor(W, X, y):
    r""":func:`mse_batch_values` for ``P`` parameter sets held as the columns of ``W``
    (d, P), all on one batch: the losses (P,), the gradients (d, P) and the errors (P,).

    The residuals :math:`R = X W - y` (B, P) and the gradients :math:`\frac2B X^\top R`
    are two products that write rows of ``P`` entries, which XLA:CPU computes faster than
    products whose rows have only ``B`` or ``d`` entries (docs/benchmarks.md). A sweep whose configs lie on the
    minor axis of its state (``FastForms.sets_minor``) calls it directly
    (:func:`sets_minor_form`): through
    ``vmap`` (:func:`_mse_batch_values_many`) the parameters would come in with the sets
    first, transposed at every step.

    Example:
      >>> X, y = jnp.ones((4, 2)), jnp.zeros(4)
      >>> losses, grads, errors = mse_batch_values_minor(jnp.ones((2, 3)), X, y)
      >>> losses.shape, grads.shape, errors.shape
      ((3,), (2, 3), (3,))
    """
    n_sets = W.shape[-1]
    residuals = product(X, _padded(W, axis=1)) - y[:, None]  # (B, P)
    grads = product(X.T, _loss_weights(X, residuals))[:, :n_sets]
    losses, errors = _column_means(jnp.square(residuals)), _column_means(jnp.abs(residuals))
    return losses[:n_sets], grads, errors[:n_sets]


register_sets_minor_form(mse_batch_values, mse_batch_values_minor)


@mse_batch_values.def_vmap
def _mse_batch_values_many(axis_size, in_batched, w, X, y):
    r"""``mse_batch_values`` for ``P`` parameter sets ``W`` (P, d) on one batch.

    For ``d ≤ 32``, :func:`mse_batch_values_minor` of ``W.T``, whose products write rows
    of length ``P``; above, (P, B) and (P, d) products. Batches that differ between the
    parameter sets fall back to a plain ``vmap``."""
    w_batched, X_batched, y_batched = in_batched
    if X_batched or y_batched or not w_batched:
        in_axes = tuple(0 if batched else None for batched in in_batched)
        return jax.vmap(mse_batch_values.fun, in_axes=in_axes)(w, X, y), (True, True, True)
    if X.shape[-1] <= SMALL_D:
        losses, grads, errors = mse_batch_values_minor(w.T, X, y)
        return (losses, grads.T, errors), (True, True, True)
    residuals = product(_padded(w), X.T) - y  # (P, B)
    grads = product(_loss_weights(X, residuals), X)[: w.shape[0]]
    losses, errors = _mean_square_and_abs(residuals[: w.shape[0]], axis=1)
    return (losses, grads, errors), (True, True, True)


def quadratic_full_loss(w, aux):
    r"""Exact least-squares loss :math:`f^* + \|C^\top (w - w^*)\|^2`, O(d²)."""
    offset = matvec(aux["chol"].T, w - aux["w_star"])
    return aux["min_loss"] + jnp.sum(jnp.square(offset))


#: Up to this many features, the measures' sums over ``d`` are written out term by term
#: (:func:`_combined`): for many parameter sets, multiply-adds of rows that XLA fuses
#: into one loop (docs/benchmarks.md). The code grows as d², and so does its compile
#: time.
_WRITTEN_OUT_D = 8


@jax.custom_batching.custom_vmap
def quadratic_measures(w, aux):
    r"""The full loss, the excess loss, the norm of the gradient and the distance to the
    optimum of least squares, from :math:`o = w - w^*` and :math:`C = Q \Lambda^{1/2}`,
    where :math:`Q \Lambda Q^\top = X^\top X / n` (so :math:`C C^\top = X^\top X / n`):

    .. math::
      z = C^\top o, \quad f(w) - f^* = \|z\|^2, \quad f(w) = f^* + \|z\|^2, \quad
      \|\nabla f(w)\| = \|2 C z\| = 2 \|\Lambda^{1/2} z\|, \quad \|w - w^*\| = \|o\|.

    The columns of :math:`C` are orthogonal, so the gradient's norm needs no second
    product: one ``d × d`` product per parameter set, not two (a 1 024-config sweep at
    d = 100 that logs every step spends most of its time on them).

    The excess loss is :math:`\|z\|^2` itself, exact near the optimum, where
    ``f(w) - f*`` computed in float32 stops at the rounding of :math:`f^*` (~6e-8 of it)
    and then reads 0.

    The loss and gradient equal ``jax.value_and_grad(quadratic_full_loss)`` to float
    rounding. Under ``jax.vmap`` over many ``w`` (a sweep's configs) the rule
    :func:`_quadratic_measures_many` computes them in a layout fast for many of them.

    Args:
      w: parameters, shape ``(d,)``.
      aux: the problem's ``aux`` (``chol``, ``sqrt_eigenvalues``, ``w_star``, ``min_loss``).

    Returns:
      ``(loss, excess loss, gradient norm, distance to w*)``, scalars.

    Example:
      >>> prob = linear_regression(100, 3)
      >>> loss, excess, grad_norm, dist = quadratic_measures(prob.w_star, prob.aux)
      >>> bool(abs(loss - prob.min_loss) < 1e-4), float(excess), float(dist)
      (True, 0.0, 0.0)
    """
    offset = w - aux["w_star"]
    if offset.shape[0] <= _WRITTEN_OUT_D:
        return _measures(aux, offset, _combined, axis=0)
    return _measures(aux, offset, lambda M, v: matvec(M.T, v), axis=0)


@quadratic_measures.def_vmap
def _quadratic_measures_many(axis_size, in_batched, w, aux):
    r"""``quadratic_measures`` for ``P`` parameter sets ``W`` (P, d).

    For ``d ≤ 32`` the offsets are laid out as ``(d, P)``
    (:func:`quadratic_measures_minor` of ``W.T``); for ``d > 32``, a ``(P, d) × (d, d)``
    product (padded to a multiple of 64 sets). Left to ``vmap``, ``(P, d) × (d, d)`` products would also serve small ``d``,
    whose rows of ``d`` entries XLA:CPU computes slowly and rounds otherwise
    (docs/benchmarks.md)."""
    w_batched, aux_batched = in_batched
    if any(jax.tree.leaves(aux_batched)) or not w_batched:
        in_axes = (0 if w_batched else None, jax.tree.map(lambda b: 0 if b else None, aux_batched))
        return jax.vmap(quadratic_measures.fun, in_axes=in_axes)(w, aux), (True,) * 4
    if w.shape[1] <= SMALL_D:
        return quadratic_measures_minor(w.T, aux), (True,) * 4
    offsets = w - aux["w_star"]  # (P, d)
    measures = _measures(aux, _padded(offsets), lambda M, v: product(v, M), axis=1)
    return tuple(m[: w.shape[0]] for m in measures), (True,) * 4


def quadratic_measures_minor(W, aux):
    r""":func:`quadratic_measures` for ``P`` parameter sets held as the columns of ``W``
    (d, P): four arrays (P,). The offsets :math:`O = W - w^*` keep the sets on the minor
    axis. Up to :data:`_WRITTEN_OUT_D` features the entries of :math:`Z = C^\top O` are
    multiply-adds of whole rows, as in the plain form; above, a product that writes rows
    of ``P`` entries (padded to a multiple of 64), whose every entry XLA:CPU sums over
    ``d`` in order, one fused multiply-add at a time, as the plain form's multiply-and-sum
    does for ``d ≤ 32``. A sweep whose configs lie on the minor axis of its state calls
    it directly (:func:`sets_minor_form`; see :func:`mse_batch_values_minor`).

    Example:
      >>> prob = linear_regression(100, 3)
      >>> W = jnp.stack([prob.w_star, prob.w_star + 1.0], axis=1)  # (3, 2)
      >>> loss, excess, grad_norm, dist = quadratic_measures_minor(W, prob.aux)
      >>> [round(float(x), 3) for x in dist]
      [0.0, 1.732]
    """
    n_sets = W.shape[1]
    offsets = W - aux["w_star"][:, None]  # (d, P)
    if offsets.shape[0] <= _WRITTEN_OUT_D:
        return _measures(aux, offsets, _combined, axis=0)
    measures = _measures(aux, _padded(offsets, axis=1), lambda M, v: product(M.T, v), axis=0)
    return tuple(m[:n_sets] for m in measures)


register_sets_minor_form(quadratic_measures, quadratic_measures_minor)


def _measures(aux, offset, transform, axis):
    r"""Loss, excess loss, gradient norm and distance from the offset, whose ``d`` entries
    lie along ``axis``; ``transform(M, v)`` is :math:`M^\top v` in the same layout."""
    z = transform(aux["chol"], offset)
    roots = aux["sqrt_eigenvalues"]
    if isinstance(z, list):
        gradient = [2 * root * entry for root, entry in zip(roots, z)]
    else:
        gradient = 2 * roots.reshape((-1,) + (1,) * (z.ndim - 1 - axis)) * z
    excess = _sum_of_squares(z, axis)
    return (
        aux["min_loss"] + excess,
        excess,
        jnp.sqrt(_sum_of_squares(gradient, axis)),
        jnp.sqrt(_sum_of_squares(offset, axis)),
    )


def _combined(M, v):
    r"""The entries of :math:`M^\top v` for ``v`` holding its ``d`` entries along axis 0
    (scalars, or rows of many parameter sets), every sum written out in order of ``j``."""
    columns = []
    for k in range(M.shape[1]):
        total = M[0, k] * v[0]
        for j in range(1, M.shape[0]):
            total = total + M[j, k] * v[j]
        columns.append(total)
    return columns


def _sum_of_squares(v, axis):
    r""":math:`\sum_j v_j^2` over ``axis`` of ``v`` (or over a list of entries); for up to
    32 entries written out, added in order, so that one parameter set (scalar entries)
    and many (rows of them) take the same sum, which XLA:CPU's reductions over rows and
    down columns do not."""
    if not isinstance(v, list):
        if v.shape[axis] > SMALL_D:
            return jnp.sum(jnp.square(v), axis=axis)
        v = list(jnp.moveaxis(v, axis, 0))
    total = jnp.square(v[0])
    for entry in v[1:]:
        total = total + jnp.square(entry)
    return total


def _gram(X: np.ndarray) -> np.ndarray:
    """``XᵀX`` in float64, accumulated over row chunks (memory O(chunk·d + d²))."""
    d = X.shape[1]
    gram = np.zeros((d, d))
    for start in range(0, X.shape[0], _GRAM_CHUNK_ROWS):
        block = np.asarray(X[start : start + _GRAM_CHUNK_ROWS], dtype=np.float64)
        gram += block.T @ block
    return gram


def _mean_squared_residual(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    total = 0.0
    for start in range(0, X.shape[0], _GRAM_CHUNK_ROWS):
        block = np.asarray(X[start : start + _GRAM_CHUNK_ROWS], dtype=np.float64)
        residual = block @ w - np.asarray(y[start : start + _GRAM_CHUNK_ROWS], dtype=np.float64)
        total += float(residual @ residual)
    return total / X.shape[0]


def _least_squares_solution(X: np.ndarray, y: np.ndarray, gram: np.ndarray) -> np.ndarray:
    """The minimum-norm least-squares solution in float64: QR/SVD (``lstsq``) when the
    data fits comfortably, else the normal equations through ``eigh`` of the Gram."""
    if X.shape[0] * X.shape[1] <= _LSTSQ_MAX_ENTRIES:
        return np.linalg.lstsq(X.astype(np.float64), y.astype(np.float64), rcond=None)[0]
    rhs = np.zeros(X.shape[1])
    for start in range(0, X.shape[0], _GRAM_CHUNK_ROWS):
        block = np.asarray(X[start : start + _GRAM_CHUNK_ROWS], dtype=np.float64)
        rhs += block.T @ np.asarray(y[start : start + _GRAM_CHUNK_ROWS], dtype=np.float64)
    return np.linalg.lstsq(gram, rhs, rcond=None)[0]


def _least_squares_problem(name, X, y, w_true=None, dtype=None) -> Problem:
    """Builds the problem over host arrays: exact optimum and spectrum in float64."""
    dtype = float_dtype(dtype)
    check_within_range(dtype, X=X, y=y)
    n = X.shape[0]
    gram = _gram(X)
    w_star = _least_squares_solution(X, y, gram)
    min_loss = _mean_squared_residual(X, y, w_star)
    eigenvalues, eigenvectors = np.linalg.eigh(gram / n)
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    chol = eigenvectors * np.sqrt(eigenvalues)  # C = QΛ^½: C Cᵀ = XᵀX/n, orthogonal columns
    # the loss's scale too: squares of representable data can overflow (X, y ~ 1e20 in float32)
    check_within_range(
        dtype,
        **{
            "X and y (their curvature XᵀX/n)": eigenvalues,
            "X and y (their minimal loss)": np.array([min_loss]),
            "X and y (their least-squares solution)": w_star,
        },
    )
    d = X.shape[1]
    return Problem(
        name=name,
        data={"X": jnp.asarray(X, dtype), "y": jnp.asarray(y, dtype)},
        loss_fn=OnXY(mse_loss),
        full_loss_fn=quadratic_full_loss,
        aux={
            "chol": jnp.asarray(chol, dtype),
            "sqrt_eigenvalues": jnp.asarray(np.sqrt(eigenvalues), dtype),  # C's column norms
            "w_star": jnp.asarray(w_star, dtype),
            "min_loss": jnp.asarray(min_loss, dtype),
        },
        initial_params=NormalInit((d,), dtype.name),
        error_fn=OnXY(mean_absolute_error),
        optimum=Optimum(
            jnp.asarray(w_star, dtype),
            float(min_loss),
            None if w_true is None else jnp.asarray(w_true, dtype),
        ),
        curvature=Curvature(mu=2.0 * float(eigenvalues[0]), L=2.0 * float(eigenvalues[-1])),
        forms=LEAST_SQUARES_FORMS,
    )


#: Least squares' forms: its batch values and closed-form measures, for many configs at once
#: with the configs on the minor axis; its loss is non-finite whenever its parameters are.
LEAST_SQUARES_FORMS = FastForms(
    batch_fn=mse_batch_values,
    measures_fn=quadratic_measures,
    loss_detects_nonfinite=True,
    sets_minor=True,
)


def _design_with_condition_number(rng, n, d, condition_number):
    """``X`` whose ``XᵀX/n`` has eigenvalues geometric from 1 to ``condition_number``."""
    gaussian = rng.standard_normal((n, d))
    whitening = np.linalg.inv(np.linalg.cholesky(_gram(gaussian) / n)).T  # GᵀG/n → I
    eigenvalues = np.geomspace(1.0, condition_number, d) if d > 1 else np.ones(1)
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return gaussian @ (whitening * np.sqrt(eigenvalues)) @ rotation.T


def linear_regression(
    n: int,
    d: int,
    noise: float = 1.0,
    seed: int = 0,
    condition_number: Optional[float] = None,
    dtype=None,
) -> Problem:
    r"""A synthetic least-squares problem :math:`\min_w \frac1n\|Xw - y\|^2`.

    By default the homework's recipe: :math:`X \sim U(-5, 5)^{n\times d}`, column
    :math:`j` multiplied by :math:`2j+1`, :math:`w_{true} \sim N(0, I)`,
    :math:`y = X w_{true} + N(0, \sigma^2)`. With ``condition_number=κ`` the design is
    instead built so that :math:`X^\top X/n` has eigenvalues spaced geometrically from
    1 to κ (so the Hessian :math:`2X^\top X/n` has condition number exactly κ, up to the
    rounding of the stored data).

    The exact optimum ``w_star``, ``min_loss`` and the Hessian spectrum ``mu``, ``L`` are
    computed in float64 on the host from the stored (rounded) data.

    Args:
      n: number of samples (> 0).
      d: number of features (> 0).
      noise: standard deviation σ ≥ 0 of the label noise.
      seed: seed of the data generator (NumPy's PCG64).
      condition_number: κ ≥ 1, or ``None`` for the homework recipe.
      dtype: float dtype of the stored data (default: JAX's default float).

    Returns:
      A :class:`Problem`.

    Example:
      >>> import jaxopt_hw as jh
      >>> prob = jh.linear_regression(500, 2, seed=0)
      >>> prob.X.shape, prob.w_star.shape
      ((500, 2), (2,))
    """
    n = check_size("n", n)
    d = check_size("d", d)
    noise = check_finite_number("noise", noise, minimum=0.0)
    rng = np.random.default_rng(check_seed(seed))
    w_true = rng.standard_normal(d)
    store = np.float64 if float_dtype(dtype) == jnp.float64 else np.float32
    if condition_number is None:
        # drawn in row chunks straight into the stored dtype: the same numbers as one
        # (n, d) draw, without an n×d float64 intermediate (8 GB at n = 10⁶, d = 10³)
        X = np.empty((n, d), store)
        for start in range(0, n, _GRAM_CHUNK_ROWS):
            stop = min(n, start + _GRAM_CHUNK_ROWS)
            X[start:stop] = rng.uniform(-5.0, 5.0, (stop - start, d))
        X *= (2 * np.arange(d) + 1).astype(store)
        label = f"linear_regression(n={n}, d={d})"
    else:
        condition_number = check_finite_number("condition_number", condition_number, 1.0)
        X = _design_with_condition_number(rng, n, d, condition_number).astype(store)
        label = f"linear_regression(n={n}, d={d}, kappa={condition_number:g})"
    y = (X @ w_true.astype(store)).astype(np.float64) + noise * rng.standard_normal(n)
    return _least_squares_problem(label, X, y.astype(store), w_true=w_true, dtype=dtype)


def homework_problem(size: str = "small", seed: int = 0, dtype=None) -> Problem:
    """One of the homework's problems by name: ``"small"`` (500, 2), ``"medium"``
    (10 000, 5) or ``"large"`` (150 000, 7), built with :func:`linear_regression`.

    Example:
      >>> import jaxopt_hw as jh
      >>> jh.homework_problem("medium").X.shape
      (10000, 5)
    """
    if size not in HOMEWORK_SIZES:
        raise ValueError(f"size must be one of {sorted(HOMEWORK_SIZES)}, got {size!r}")
    n, d = HOMEWORK_SIZES[size]
    return linear_regression(n, d, seed=seed, dtype=dtype)


def least_squares(
    X, y, dtype=None, name: str = "least_squares", *, fit_intercept: bool = False
) -> Problem:
    r"""Least squares :math:`\min_w \frac1n\|Xw - y\|^2` over the user's own data.

    Same interface as :func:`linear_regression` (``w_true`` is ``None``). Without
    ``fit_intercept`` no intercept is fitted: the model is :math:`Xw`, through the origin.
    With it the model is :math:`Xw + b`: ``X`` is stored with a column of ones appended,
    ``(n, d + 1)``, and the last coefficient of the parameters (and of ``w_star``) is
    :math:`b`; the parameters stay one ``(d + 1,)`` array, so the fast least-squares
    forms of :func:`jaxopt_hw.run` and :func:`jaxopt_hw.sweep` apply unchanged.

    Args:
      X: design matrix, shape ``(n, d)``, finite real numbers.
      y: targets, shape ``(n,)``, finite real numbers.
      dtype: float dtype of the stored data (default: JAX's default float).
      name: a label for plots and tables.
      fit_intercept: whether to fit an intercept (keyword only).

    Returns:
      A :class:`Problem`.

    Raises:
      TypeError / ValueError: naming ``X`` or ``y`` when the shapes disagree, an array
        is empty or not 2-D/1-D, or holds NaN or inf (with the first such row); naming
        ``fit_intercept`` or ``name`` when it is not a bool or a str.

    Example:
      >>> import numpy as np, jaxopt_hw as jh
      >>> prob = jh.least_squares(np.eye(3), np.arange(3.0))
      >>> [round(float(v), 6) for v in prob.w_star]
      [0.0, 1.0, 2.0]
      >>> x = np.arange(4.0)[:, None]
      >>> line = jh.least_squares(x, 2 * x[:, 0] + 1, fit_intercept=True)  # slope, then intercept
      >>> line.X.shape, [round(float(v), 5) for v in line.w_star]
      ((4, 2), [2.0, 1.0])
    """
    X, y = checked_xy(X, y)
    fit_intercept = check_flag("fit_intercept", fit_intercept)
    check_name(name)
    return _least_squares_problem(name, with_intercept(X, fit_intercept), y, dtype=dtype)
