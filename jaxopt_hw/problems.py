"""Problems: data, a loss, an initial point and, where known, the exact optimum.

A :class:`Problem` knows nothing of optimizers, loops or sweeps. It carries

* ``data``: a dict of arrays whose leading axis is the sample axis ``n`` (``X``, ``y``);
* ``loss_fn(params, X, y)``: the mean loss over the given rows (a module-level
  function, so compiled programs are shared between problems of the same kind);
* ``full_loss_fn(params, aux)``: the loss over all rows; for least squares it is the
  exact O(d²) form ``min_loss + ‖Cᵀ(w − w*)‖²`` with ``C = QΛ^½``, ``QΛQᵀ = XᵀX/n`` (no O(n·d)
  pass and no cancellation), otherwise the direct mean over the data;
* ``w_star``/``min_loss`` (exact optimum, float64 on the host) when known, and the
  Hessian spectrum ``mu``, ``L``, ``kappa`` for quadratic problems.

The homework recipe (``linear_regression``): ``X ~ U(-5, 5)^(n×d)`` with column ``j``
multiplied by ``2j + 1`` and ``y = X w_true + N(0, noise²)``, ``w_true ~ N(0, I)``.
The loss is ``mean((X w − y)²)``, whose gradient is ``2 Xᵀ(X w − y)/B`` and Hessian
``2 XᵀX/n``.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import math
import numbers
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

Params = Any

__all__ = [
    "Problem",
    "linear_regression",
    "least_squares",
    "binary_logistic",
    "softmax_regression",
    "homework_problem",
    "logistic_regression",
    "mlp_regression",
    "rosenbrock",
    "HOMEWORK_SIZES",
]

#: The three problem sizes of the homework notebook, ``(n, d)``.
HOMEWORK_SIZES = {"small": (500, 2), "medium": (10_000, 5), "large": (150_000, 7)}

_GRAM_CHUNK_ROWS = 65_536
#: Up to this many entries in ``X``, ``w_star`` comes from ``np.linalg.lstsq`` on the data
#: (QR/SVD); above, from the normal equations accumulated in row chunks (memory O(d²)).
_LSTSQ_MAX_ENTRIES = 20_000_000


@dataclasses.dataclass(frozen=True, eq=False)
class Problem:
    """A differentiable objective over a data set (see the module docstring).

    Attributes:
      name: a short label, e.g. ``"linear_regression(n=500, d=2)"``.
      data: ``{"X": (n, ...), "y": (n, ...)}``; minibatches are rows of these.
      loss_fn: ``(params, X, y) -> scalar``, the mean loss over the given rows.
      full_loss_fn: ``(params, aux) -> scalar``, the loss over all rows.
      aux: arrays ``full_loss_fn`` reads: the data itself, or for least squares
        ``chol`` (``C = QΛ^½`` from the eigendecomposition ``QΛQᵀ = XᵀX/n``, whose
        orthogonal columns :func:`quadratic_measures` relies on; not a Cholesky
        factor), ``sqrt_eigenvalues``, ``w_star`` and ``min_loss``.
      initial_params: ``seed -> params`` as host (NumPy) arrays, the seeded initial point.
      w_star: the exact minimizer, or ``None`` when unknown.
      min_loss: the loss at ``w_star`` (float64 on the host), or ``None``.
      w_true: the generating parameters of a synthetic problem, or ``None``.
      mu, L: the extreme eigenvalues of the loss's Hessian (quadratic problems).
      error_fn: ``(params, X, y) -> scalar``, the error of a batch (the homework's
        "error"): the mean absolute error for regression, the misclassification rate for
        classifiers; or ``None``.
      batch_fn: ``(params, X, y) -> (loss, gradient, error)`` of a batch in one call,
        or ``None`` (then ``jax.value_and_grad(loss_fn)`` and ``error_fn``); least
        squares gives one that vmaps over many ``params`` into fast products.
      measures_fn: ``(params, aux) -> (full loss, excess loss, full-gradient norm,
        distance to w_star)`` in one call, or ``None`` (then
        ``jax.value_and_grad(full_loss_fn)``, and the excess loss ``loss − min_loss``);
        least squares gives its closed form, which vmaps into fast code and computes the
        excess loss without the cancellation of ``loss − min_loss`` (which float32 floors
        at ~6e-8 · min_loss). A 3-tuple without the excess loss is taken too (the excess
        is then ``loss − min_loss``).
      loss_detects_nonfinite: whether the batch loss is non-finite whenever the
        parameters are (a model linear in them: a non-finite :math:`w_j` makes
        :math:`x_j w_j` NaN or infinite). The divergence guard then checks parameters
        through the loss instead of scanning them (:func:`jaxopt_hw.loop.train_step`).
      loss_takes_batch: whether ``loss_fn`` is ``(params, batch) -> scalar`` with ``batch``
        of ``data``'s structure (a problem of :func:`jaxopt_hw.problem`), rather than
        ``(params, X, y)``.
      eval_fn: ``(params, aux) -> {name: scalar}``, held-out metrics logged beside the
        training loss, or ``None``; ``eval_names`` lists their names, sorted.
      parameter_sets_minor: whether a sweep should keep its configs on the minor axis
        of every parameter and optimizer-state array, ``(d, configs)``: where the
        problem's batch values and measures for many parameter sets are fastest in that
        layout (least squares). Where ``batch_fn`` and ``measures_fn`` have a form for
        ``P`` parameter sets held as the columns of ``params (d, P)``
        (:func:`register_sets_minor_form`; least squares: :func:`mse_batch_values_minor`,
        :func:`quadratic_measures_minor`), a sweep calls those on all its configs at
        once; otherwise it ``vmap``-s the functions, whose batched parameters then
        arrive with the sets first, transposed at every step.
    """

    name: str
    data: dict
    loss_fn: Callable
    full_loss_fn: Callable
    aux: dict
    initial_params: Callable
    w_star: Optional[Params] = None
    min_loss: Optional[float] = None
    w_true: Optional[Params] = None
    mu: Optional[float] = None
    L: Optional[float] = None
    error_fn: Optional[Callable] = None
    batch_fn: Optional[Callable] = None
    measures_fn: Optional[Callable] = None
    loss_detects_nonfinite: bool = False
    parameter_sets_minor: bool = False
    loss_takes_batch: bool = False
    eval_fn: Optional[Callable] = None
    eval_names: tuple = ()

    @property
    def X(self):
        return self.data["X"]

    @functools.cached_property
    def dtype(self):
        """The float dtype the problem computes in: its design's, or its parameters'."""
        if not self.loss_takes_batch:
            return np.dtype(self.data["X"].dtype)
        leaves = jax.tree.leaves(self.initial_params(0))
        return np.dtype(jnp.result_type(*[leaf.dtype for leaf in leaves]))

    @property
    def platform(self) -> str:
        """The platform (``"cpu"``, ``"gpu"``, …) that holds the problem's data."""
        return next(iter(jax.tree.leaves(self.data)[0].devices())).platform

    @property
    def y(self):
        return self.data["y"]

    @property
    def n(self) -> int:
        """Number of rows (samples)."""
        return int(jax.tree.leaves(self.data)[0].shape[0])

    @property
    def kappa(self) -> Optional[float]:
        """Condition number ``L / mu`` of the Hessian, when known."""
        if self.mu is None or self.L is None:
            return None
        return math.inf if self.mu <= 0 else self.L / self.mu

    def loss(self, params, X=None, y=None):
        """Mean loss over the rows ``X, y`` (for a :func:`jaxopt_hw.problem`, over the batch
        ``X``), or over all data when they are omitted."""
        if X is None and y is None:
            return self.full_loss_fn(params, self.aux)
        return self.loss_fn(params, X) if self.loss_takes_batch else self.loss_fn(params, X, y)

    def init_params(self, seed: int = 0):
        """The initial point for ``seed`` (the one :func:`jaxopt_hw.run` uses), drawn on the host."""
        return jax.tree.map(jnp.asarray, self.initial_params(_check_seed(seed)))


# --------------------------------------------------------------------------- losses


#: Up to this many features, ``X @ w`` is written as a multiply and a sum: XLA:CPU then
#: fuses it with its neighbours instead of calling a matrix-vector kernel, which for
#: these tiny products costs more in dispatch than in arithmetic (about 15% of a step).
_SMALL_D = 32


_MATVEC_AS_PRODUCT = contextvars.ContextVar("matvec_as_product", default=False)


@contextlib.contextmanager
def matvec_as_product():
    """Within this context, losses trace ``X @ w`` as a matrix product whatever ``d``.

    For programs that ``vmap`` a loss over many ``w`` sharing one ``X`` (a sweep over a
    grid): there the product becomes one matrix–matrix product over the whole grid,
    while the multiply-and-sum form becomes a ``(configs, B, d)`` broadcast, ~20× slower.
    The form is fixed when a program is traced: compiled programs keep theirs.
    """
    token = _MATVEC_AS_PRODUCT.set(True)
    try:
        yield
    finally:
        _MATVEC_AS_PRODUCT.reset(token)


def _product(a, b):
    """``a @ b`` computed in the operands' precision on every backend.

    XLA's default precision lets GPUs with tensor cores (NVIDIA Ampere and later) round
    the operands of a float32 product to TF32 (10 significant bits, ~1e-3 relative): a
    noise floor under every loss a study measures, and a GPU sweep 1e-4 away from the
    same run on a CPU. On CPUs this changes nothing."""
    return jnp.matmul(a, b, precision=jax.lax.Precision.HIGHEST)


def _matvec(X, w):
    """``X @ w`` (shapes are static, so the choice of form is made once, at trace time)."""
    if X.shape[-1] <= _SMALL_D and not _MATVEC_AS_PRODUCT.get():
        return jnp.sum(X * w, axis=-1)
    return _product(X, w)


def _rmatvec(X, r):
    """``X^T r``, in the form ``jax.grad`` gives the transpose of :func:`_matvec`."""
    if X.shape[-1] <= _SMALL_D and not _MATVEC_AS_PRODUCT.get():
        return jnp.sum(X * r[:, None], axis=0)
    return _product(r, X)


def mse_loss(w, X, y):
    r"""Mean squared error :math:`\frac1B \sum_i (x_i^\top w - y_i)^2`."""
    return jnp.mean(jnp.square(_matvec(X, w) - y))


def mean_absolute_error(w, X, y):
    r"""Mean absolute error :math:`\frac1B \sum_i |x_i^\top w - y_i|`."""
    return jnp.mean(jnp.abs(_matvec(X, w) - y))


def _mean_square_and_abs(residuals, axis=None):
    """The batch loss and the batch error from the residuals (their means over ``axis``)."""
    return jnp.mean(jnp.square(residuals), axis=axis), jnp.mean(jnp.abs(residuals), axis=axis)


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
    residuals = _matvec(X, w) - y
    loss, error = _mean_square_and_abs(residuals)
    return loss, _rmatvec(X, _loss_weights(X, residuals)), error



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
    are two products that write rows of ``P`` entries, which XLA:CPU computes about
    twice as fast as products whose rows have only ``B`` or ``d`` entries (1 024 Adam
    configs at d = 5: 42 → 26 ms per 1 000 steps). A sweep whose configs lie on the
    minor axis of its state (``Problem.parameter_sets_minor``) calls it directly
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
    residuals = _product(X, _padded(W, axis=1)) - y[:, None]  # (B, P)
    grads = _product(X.T, _loss_weights(X, residuals))[:, :n_sets]
    losses, errors = _mean_square_and_abs(residuals[:, :n_sets], axis=0)
    return losses, grads, errors


#: Functions of one parameter set → their form for many sets held as columns (see
#: :func:`sets_minor_form`), by identity: a wrapper of such a function (``functools.wraps``
#: copies its attributes) computes something else and gets none.
_SETS_MINOR_FORMS = {}


def register_sets_minor_form(fn: Callable, form: Callable) -> None:
    """Records ``form(params (d, P), …)`` as ``fn`` for ``P`` parameter sets held as the
    columns of ``params``; a sweep whose configs lie on the minor axis of its state
    (``Problem.parameter_sets_minor``) then calls ``form`` on all of them at once where
    ``fn`` is the problem's ``batch_fn`` or ``measures_fn``."""
    for name, value in (("fn", fn), ("form", form)):
        if not callable(value):
            raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    try:
        _SETS_MINOR_FORMS[fn] = form
    except TypeError:
        raise TypeError(f"fn must be hashable (it is looked up by identity), got {type(fn).__name__}") from None


def sets_minor_form(fn) -> Optional[Callable]:
    """The form of ``fn`` registered by :func:`register_sets_minor_form`, or ``None``."""
    try:
        return _SETS_MINOR_FORMS.get(fn)
    except TypeError:  # an unhashable callable
        return None


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
    if X.shape[-1] <= _SMALL_D:
        losses, grads, errors = mse_batch_values_minor(w.T, X, y)
        return (losses, grads.T, errors), (True, True, True)
    residuals = _product(_padded(w), X.T) - y  # (P, B)
    grads = _product(_loss_weights(X, residuals), X)[:w.shape[0]]
    losses, errors = _mean_square_and_abs(residuals[:w.shape[0]], axis=1)
    return (losses, grads, errors), (True, True, True)


def quadratic_full_loss(w, aux):
    r"""Exact least-squares loss :math:`f^* + \|C^\top (w - w^*)\|^2`, O(d²)."""
    offset = _matvec(aux["chol"].T, w - aux["w_star"])
    return aux["min_loss"] + jnp.sum(jnp.square(offset))


#: Up to this many features, the measures' sums over ``d`` are written out term by term
#: (:func:`_combined`): for many parameter sets, multiply-adds of rows that XLA fuses
#: into one loop (a 1 024-config sweep at d = 5 logging every step: 60 → 45 ms per
#: 1 000 steps). The code grows as d², and so does its compile time (d = 20: +4 s).
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
    return _measures(aux, offset, lambda M, v: _matvec(M.T, v), axis=0)


@quadratic_measures.def_vmap
def _quadratic_measures_many(axis_size, in_batched, w, aux):
    r"""``quadratic_measures`` for ``P`` parameter sets ``W`` (P, d).

    For ``d ≤ 32`` the offsets are laid out as ``(d, P)``
    (:func:`quadratic_measures_minor` of ``W.T``); for ``d > 32``, a ``(P, d) × (d, d)``
    product (padded to a multiple of 64 sets). Left to ``vmap``, ``(P, d) × (d, d)`` products would also serve small ``d``,
    whose rows of ``d`` entries XLA:CPU computes slowly and rounds otherwise (a
    1 024-config sweep at d = 5 that logs every step spent ≈ 13 of its ≈ 60 ms per 1 000
    steps on them)."""
    w_batched, aux_batched = in_batched
    if any(jax.tree.leaves(aux_batched)) or not w_batched:
        in_axes = (0 if w_batched else None, jax.tree.map(lambda b: 0 if b else None, aux_batched))
        return jax.vmap(quadratic_measures.fun, in_axes=in_axes)(w, aux), (True,) * 4
    if w.shape[1] <= _SMALL_D:
        return quadratic_measures_minor(w.T, aux), (True,) * 4
    offsets = w - aux["w_star"]  # (P, d)
    measures = _measures(aux, _padded(offsets), lambda M, v: _product(v, M), axis=1)
    return tuple(m[:w.shape[0]] for m in measures), (True,) * 4


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
    measures = _measures(aux, _padded(offsets, axis=1), lambda M, v: _product(M.T, v), axis=0)
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
    return (aux["min_loss"] + excess, excess, jnp.sqrt(_sum_of_squares(gradient, axis)),
            jnp.sqrt(_sum_of_squares(offset, axis)))


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
        if v.shape[axis] > _SMALL_D:
            return jnp.sum(jnp.square(v), axis=axis)
        v = list(jnp.moveaxis(v, axis, 0))
    total = jnp.square(v[0])
    for entry in v[1:]:
        total = total + jnp.square(entry)
    return total


def data_full_loss(params, aux, loss_fn):
    """The direct loss over all rows, for problems without a closed form."""
    return loss_fn(params, aux["X"], aux["y"])


def logistic_loss(w, X, y, l2):
    r"""Mean log-loss :math:`\frac1B \sum_i \mathrm{softplus}(x_i^\top w) - y_i x_i^\top w
    + \frac{\lambda}{2}\|w\|^2`, with labels :math:`y_i \in \{0, 1\}`."""
    logits = _product(X, w)
    return jnp.mean(jax.nn.softplus(logits) - y * logits) + 0.5 * l2 * jnp.sum(jnp.square(w))


def binary_logistic_loss(w, X, y, penalty):
    r"""Mean log-loss of labels :math:`y_i \in \{0, 1\}` plus a ridge term per coefficient:
    :math:`\frac1B \sum_i \mathrm{softplus}((1 - 2y_i)\, x_i^\top w) + \frac12 \sum_j
    \lambda_j w_j^2`, with ``penalty`` :math:`\lambda` (0 for an intercept's coefficient).

    :math:`\mathrm{softplus}(-z) = -\log\sigma(z)` is computed without overflow or the
    cancellation of :math:`\mathrm{softplus}(z) - y z` at confident, correct logits."""
    signs = 1 - 2 * y  # +1 for label 0, -1 for label 1
    return jnp.mean(jax.nn.softplus(signs * _matvec(X, w))) + 0.5 * jnp.sum(penalty * jnp.square(w))


def binary_error_rate(w, X, y):
    r"""The fraction of rows misclassified, predicting 1 where :math:`x_i^\top w > 0`."""
    return jnp.mean(((_matvec(X, w) > 0) != (y > 0.5)).astype(X.dtype))


def softmax_cross_entropy_loss(W, X, y, penalty):
    r"""Mean cross-entropy of integer labels :math:`y_i` under the softmax of the logits
    :math:`x_i^\top W`, plus a ridge term per row of :math:`W` (d, C):
    :math:`\frac1B \sum_i \big(\log\sum_c e^{x_i^\top W_{:c}} - x_i^\top W_{:y_i}\big) +
    \frac12 \sum_j \lambda_j \|W_{j:}\|^2`, with ``penalty`` :math:`\lambda` (0 for an
    intercept's row). ``log_softmax`` subtracts the largest logit first: no overflow."""
    log_probs = jax.nn.log_softmax(_product(X, W), axis=-1)
    picked = jnp.sum(jax.nn.one_hot(y, W.shape[-1], dtype=log_probs.dtype) * log_probs, axis=-1)
    return -jnp.mean(picked) + 0.5 * jnp.sum(penalty[:, None] * jnp.square(W))


def softmax_error_rate(W, X, y):
    r"""The fraction of rows misclassified, predicting the class of the largest logit."""
    return jnp.mean((jnp.argmax(_product(X, W), axis=-1) != y).astype(X.dtype))


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
    loss, grad = jax.value_and_grad(softmax_cross_entropy_loss)(W, aux["X"], aux["y"], aux["penalty"])
    offset = W - aux["w_star"]
    offset = offset.at[-1].add(-jnp.mean(offset[-1]))  # along the line of optima: no distance
    return loss, jnp.sqrt(jnp.sum(jnp.square(grad))), jnp.sqrt(jnp.sum(jnp.square(offset)))


def mlp_loss(params, X, y):
    """Mean squared error of a one-hidden-layer tanh network (params a nested dict)."""
    hidden = jnp.tanh(_product(X, params["hidden"]["w"]) + params["hidden"]["b"])
    prediction = _product(hidden, params["out"]["w"]) + params["out"]["b"]
    return jnp.mean(jnp.square(prediction - y))


def rosenbrock_loss(params, X, y, a=1.0, b=100.0):
    r"""Rosenbrock's function :math:`(a - x)^2 + b (y - x^2)^2` (data unused)."""
    del X, y
    u, v = params[0], params[1]
    return jnp.square(a - u) + b * jnp.square(v - jnp.square(u))


# --------------------------------------------------------------------------- initial points
# Initializers map a seed to host (NumPy) arrays: drawing a few numbers on the host costs
# microseconds and compiles nothing, where drawing them inside a compiled program added
# ~0.08 s of XLA compilation to every first call (threefry and erfinv kernels). They are
# small frozen dataclasses, comparable and hashable by value.


#: Keys the initial points' random stream apart from the data's: ``default_rng(seed)``
#: draws a problem's data (``w_true`` first), so an initial point drawn from it with the
#: same seed would be ``w_true`` itself, a start at the optimum.
_INIT_STREAM = 0x1A17


def _host_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([_INIT_STREAM, seed])


@dataclasses.dataclass(frozen=True)
class NormalInit:
    """``seed -> N(0, I)`` of ``shape`` and ``dtype`` (NumPy's PCG64 keyed by the seed, in
    a stream apart from the problems' data)."""

    shape: tuple
    dtype: str

    def __call__(self, seed: int):
        return _host_rng(seed).standard_normal(self.shape).astype(jnp.dtype(self.dtype))


@dataclasses.dataclass(frozen=True)
class MlpInit:
    """``seed ->`` the nested-dict parameters of :func:`mlp_loss` (scaled normal weights)."""

    d: int
    hidden: int
    dtype: str

    def __call__(self, seed: int):
        rng, dtype = _host_rng(seed), jnp.dtype(self.dtype)
        hidden_w = rng.standard_normal((self.d, self.hidden)) / math.sqrt(self.d)
        out_w = rng.standard_normal(self.hidden) / math.sqrt(self.hidden)
        return {
            "hidden": {"w": hidden_w.astype(dtype), "b": np.zeros(self.hidden, dtype)},
            "out": {"w": out_w.astype(dtype), "b": np.zeros((), dtype)},
        }


@dataclasses.dataclass(frozen=True)
class ConstantInit:
    """``seed -> values`` whatever the seed (a fixed starting point)."""

    values: tuple
    dtype: str

    def __call__(self, seed: int):
        del seed
        return np.asarray(self.values, jnp.dtype(self.dtype))


# --------------------------------------------------------------------------- validation


def _check_size(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return int(value)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return int(seed)


def _check_finite_number(name: str, value, minimum=None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value) or (minimum is not None and value < minimum):
        bound = f" and >= {minimum}" if minimum is not None else ""
        raise ValueError(f"{name} must be finite{bound}, got {value!r}")
    return float(value)


def _check_flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return bool(value)


def _check_name(name) -> None:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")


def _as_host_array(name: str, value, ndim: int, allow_bool: bool = False) -> np.ndarray:
    """``value`` as a NumPy array of ``ndim`` dimensions of finite real numbers (booleans
    too with ``allow_bool``, as 0 and 1), or a TypeError/ValueError naming ``name``."""
    try:
        array = np.asarray(value)
    except Exception as error:  # noqa: BLE001 - report any conversion failure by name
        raise TypeError(f"{name} must be array-like, got {type(value).__name__}") from error
    if allow_bool and array.dtype == np.bool_:
        array = array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    finite = np.isfinite(array)
    if not np.all(finite):
        raise ValueError(f"{name} contains NaN or inf (first in row {_first_row(~finite)})")
    return array


def _first_row(mask: np.ndarray) -> int:
    """The index along axis 0 of the first row where ``mask`` holds anywhere."""
    return int(np.flatnonzero(mask.reshape(mask.shape[0], -1).any(axis=1))[0])


def _float_dtype(dtype):
    """The float dtype to store data in; float64 only where JAX has x64 enabled (else JAX
    would silently store float32 next to a float64 optimum)."""
    if dtype is None:
        return jnp.zeros(()).dtype
    try:
        dtype = jnp.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"dtype must be a float dtype, got {dtype!r}") from error
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"dtype must be a float dtype, got {dtype}")
    if dtype.itemsize > 4 and not jax.config.jax_enable_x64:
        raise ValueError(
            f"dtype {dtype} needs JAX's 64-bit mode: build the problem inside "
            "`with jax.enable_x64(True):` (or set jax_enable_x64)"
        )
    return dtype


# --------------------------------------------------------------------------- least squares


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


def _check_within_range(dtype, **arrays) -> None:
    """Refuses arrays with values a float of ``dtype`` cannot hold (they would be stored as inf)."""
    limit = float(jnp.finfo(dtype).max)
    for name, array in arrays.items():
        largest = float(np.max(np.abs(array))) if np.size(array) else 0.0
        if not largest <= limit:
            raise ValueError(f"{name} must stay within {jnp.dtype(dtype).name}'s range (largest {limit:.3g}); it "
                             f"reaches {largest:.3g}: rescale the data")


def _least_squares_problem(name, X, y, w_true=None, dtype=None) -> Problem:
    """Builds the problem over host arrays: exact optimum and spectrum in float64."""
    dtype = _float_dtype(dtype)
    _check_within_range(dtype, X=X, y=y)
    n = X.shape[0]
    gram = _gram(X)
    w_star = _least_squares_solution(X, y, gram)
    min_loss = _mean_squared_residual(X, y, w_star)
    eigenvalues, eigenvectors = np.linalg.eigh(gram / n)
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    chol = eigenvectors * np.sqrt(eigenvalues)  # C = QΛ^½: C Cᵀ = XᵀX/n, orthogonal columns
    # the loss's scale too: squares of representable data can overflow (X, y ~ 1e20 in float32)
    _check_within_range(dtype, **{"X and y (their curvature XᵀX/n)": eigenvalues,
                                   "X and y (their minimal loss)": np.array([min_loss]),
                                   "X and y (their least-squares solution)": w_star})
    d = X.shape[1]
    return Problem(
        name=name,
        data={"X": jnp.asarray(X, dtype), "y": jnp.asarray(y, dtype)},
        loss_fn=mse_loss,
        full_loss_fn=quadratic_full_loss,
        aux={
            "chol": jnp.asarray(chol, dtype),
            "sqrt_eigenvalues": jnp.asarray(np.sqrt(eigenvalues), dtype),  # C's column norms
            "w_star": jnp.asarray(w_star, dtype),
            "min_loss": jnp.asarray(min_loss, dtype),
        },
        initial_params=NormalInit((d,), dtype.name),
        w_star=jnp.asarray(w_star, dtype),
        min_loss=float(min_loss),
        w_true=None if w_true is None else jnp.asarray(w_true, dtype),
        mu=2.0 * float(eigenvalues[0]),
        L=2.0 * float(eigenvalues[-1]),
        error_fn=mean_absolute_error,
        batch_fn=mse_batch_values,
        measures_fn=quadratic_measures,
        loss_detects_nonfinite=True,
        parameter_sets_minor=True,
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
    n = _check_size("n", n)
    d = _check_size("d", d)
    noise = _check_finite_number("noise", noise, minimum=0.0)
    rng = np.random.default_rng(_check_seed(seed))
    w_true = rng.standard_normal(d)
    store = np.float64 if _float_dtype(dtype) == jnp.float64 else np.float32
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
        condition_number = _check_finite_number("condition_number", condition_number, 1.0)
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


def least_squares(X, y, dtype=None, name: str = "least_squares", *, fit_intercept: bool = False) -> Problem:
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
    X, y = _user_data(X, y)
    fit_intercept = _check_flag("fit_intercept", fit_intercept)
    _check_name(name)
    return _least_squares_problem(name, _with_intercept(X, fit_intercept), y, dtype=dtype)


def _user_data(X, y, labels: bool = False):
    """The user's ``X`` (n, d) and ``y`` (n,) as host arrays, checked (see :func:`_as_host_array`);
    ``labels``: ``y`` may be booleans."""
    X = _as_host_array("X", X, ndim=2)
    y = _as_host_array("y", y, ndim=1, allow_bool=labels)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of rows, got X {X.shape} and y {y.shape}")
    return X, y


def _with_intercept(X: np.ndarray, fit_intercept: bool) -> np.ndarray:
    """``X`` with a column of ones appended when ``fit_intercept`` (its coefficient is the intercept)."""
    if not fit_intercept:
        return X
    return np.concatenate([X, np.ones((X.shape[0], 1), X.dtype)], axis=1)


# --------------------------------------------------------------------------- classifiers on the user's data

#: Up to this many coefficients (d, or d·C), ``w_star`` comes from Newton's method on the
#: host; above, its Hessian (as many entries squared) would cost too much memory and time.
_NEWTON_MAX_PARAMETERS = 4096
_NEWTON_MAX_STEPS = 200
#: More classes than this is taken for a mistake (a label that is an identifier): ``W``
#: would have a column for every integer below the largest label.
_MAX_CLASSES = 65_536
#: Rows of ``X`` per block of the softmax Hessian's products (about 4 M entries of ``X·P``).
_HESSIAN_BLOCK_ENTRIES = 1 << 22


def binary_logistic(X, y, *, l2: float = 0.0, fit_intercept: bool = False, dtype=None,
                    name: str = "binary_logistic") -> Problem:
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
      >>> float(prob.error_fn(prob.w_star, prob.X, prob.y))
      0.0
    """
    X, y = _user_data(X, y, labels=True)
    fit_intercept = _check_flag("fit_intercept", fit_intercept)
    _check_labels(y, classes=2, fit_intercept=fit_intercept)
    l2 = _check_finite_number("l2", l2, minimum=0.0)
    _check_name(name)
    X, dtype = _stored_features(X, fit_intercept, dtype)
    y = y.astype(np.float64)
    penalty = _penalty(X.shape[1], l2, fit_intercept)
    w_star, min_loss = None, None
    if l2 > 0 and X.shape[1] <= _NEWTON_MAX_PARAMETERS:
        X64 = X.astype(np.float64)
        w_star, min_loss = _newton(
            lambda w: _logistic_value_grad(w, X64, y, penalty),
            lambda w: _logistic_hessian(w, X64, penalty),
            X.shape[1], scale=float(np.max(np.abs(X64))))
    loss_fn = jax.tree_util.Partial(binary_logistic_loss, penalty=penalty.astype(dtype))
    return _classifier_problem(name, X, y.astype(dtype), loss_fn, binary_error_rate, (X.shape[1],),
                               w_star, min_loss, dtype)


def softmax_regression(X, y, *, l2: float = 0.0, fit_intercept: bool = False, dtype=None,
                       name: str = "softmax_regression") -> Problem:
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
      >>> float(prob.error_fn(prob.w_star, prob.X, prob.y))
      0.0
    """
    X, y = _user_data(X, y, labels=True)
    fit_intercept = _check_flag("fit_intercept", fit_intercept)
    classes = _check_labels(y, classes=None, fit_intercept=fit_intercept)
    l2 = _check_finite_number("l2", l2, minimum=0.0)
    _check_name(name)
    X, dtype = _stored_features(X, fit_intercept, dtype)
    labels = y.astype(np.int64)
    penalty = _penalty(X.shape[1], l2, fit_intercept)
    shape = (X.shape[1], classes)
    w_star, min_loss = None, None
    if l2 > 0 and math.prod(shape) <= _NEWTON_MAX_PARAMETERS:
        X64 = X.astype(np.float64)
        w_star, min_loss = _newton(
            lambda w: _softmax_value_grad(w, X64, labels, penalty),
            lambda w: _softmax_hessian(w, X64, penalty, fit_intercept),
            math.prod(shape), scale=float(np.max(np.abs(X64))))
    loss_fn = jax.tree_util.Partial(softmax_cross_entropy_loss, penalty=penalty.astype(dtype))
    prob = _classifier_problem(name, X, labels.astype(np.int32), loss_fn, softmax_error_rate, shape,
                               w_star, min_loss, dtype)
    if not fit_intercept or w_star is None:
        return prob
    aux = {**prob.aux, "penalty": jnp.asarray(penalty, dtype), "w_star": prob.w_star}
    return dataclasses.replace(prob, aux=aux, measures_fn=softmax_intercept_measures)


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
        row = _first_row(bad)
        raise ValueError(f"y must hold {expected}, got {y[row].item()!r} in row {row}")
    if classes is None:
        if np.max(y) >= _MAX_CLASSES:
            row = int(np.argmax(y))
            raise ValueError(f"y must hold at most {_MAX_CLASSES} classes (labels below {_MAX_CLASSES}), got "
                             f"{y[row].item()!r} in row {row}")
        classes = int(np.max(y)) + 1
        if classes < 2:
            raise ValueError("y must hold at least two classes (labels 0 and 1), got only label 0")
    if fit_intercept:
        counts = np.bincount(y.astype(np.int64), minlength=classes)
        if np.any(counts == 0):
            raise ValueError(f"y has no row of class {int(np.flatnonzero(counts == 0)[0])}: with "
                             "fit_intercept=True its intercept's optimum is infinite (relabel the classes 0 … C−1)")
    return classes


def _stored_features(X: np.ndarray, fit_intercept: bool, dtype) -> tuple:
    """The features as stored (a column of ones appended for the intercept, rounded to
    ``dtype``, on the host) and the dtype; the exact optimum is computed from these."""
    dtype = _float_dtype(dtype)
    _check_within_range(dtype, X=X)
    return _with_intercept(X, fit_intercept).astype(dtype), dtype


def _penalty(size: int, l2: float, fit_intercept: bool) -> np.ndarray:
    """The ridge strength of each coefficient (row of coefficients): ``l2``, but 0 for the intercept."""
    penalty = np.full(size, l2)
    if fit_intercept:
        penalty[-1] = 0.0
    return penalty


def _classifier_problem(name, X, y, loss_fn, error_fn, shape, w_star, min_loss, dtype) -> Problem:
    """The :class:`Problem` of a classifier over the stored host arrays ``X`` and ``y``."""
    data = {"X": jnp.asarray(X), "y": jnp.asarray(y)}
    return Problem(
        name=name,
        data=data,
        loss_fn=loss_fn,
        full_loss_fn=jax.tree_util.Partial(data_full_loss, loss_fn=loss_fn),
        aux=data,
        initial_params=NormalInit(shape, dtype.name),
        w_star=None if w_star is None else jnp.asarray(w_star.reshape(shape), dtype),
        min_loss=None if min_loss is None else float(min_loss),
        error_fn=error_fn,
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
    curvature = np.exp(-np.logaddexp(0.0, logits) - np.logaddexp(0.0, -logits))  # σ(1 − σ), no cancellation
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
    if fit_intercept:  # a common shift of the intercepts changes nothing: fix it (at the start's, 0)
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
    with np.errstate(over="ignore", invalid="ignore"):  # trial points far out; the line search rejects them
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
    raise RuntimeError(f"Newton's method did not converge (gradient norm {np.linalg.norm(grad):.2e}); "
                       "the ridge strength l2 may be too small for an exact optimum")


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


# --------------------------------------------------------------------------- non-quadratic


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
        n, d = _check_size("n", n), _check_size("d", d)
    except TypeError as error:  # most likely the user's own arrays
        raise TypeError(f"{error}: logistic_regression(n, d) draws synthetic data; for your own X and y "
                        "use binary_logistic(X, y)") from None
    l2 = _check_finite_number("l2", l2, minimum=0.0)
    if l2 == 0:
        raise ValueError("l2 must be > 0 (separable data has no finite optimum otherwise)")
    rng = np.random.default_rng(_check_seed(seed))
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
    dtype = _float_dtype(dtype)
    data = {"X": jnp.asarray(X, dtype), "y": jnp.asarray(y, dtype)}
    loss_fn = jax.tree_util.Partial(logistic_loss, l2=l2)
    return Problem(
        name=f"logistic_regression(n={n}, d={d})",
        data=data,
        loss_fn=loss_fn,
        full_loss_fn=jax.tree_util.Partial(data_full_loss, loss_fn=loss_fn),
        aux=data,
        initial_params=NormalInit((d,), dtype.name),
        w_star=jnp.asarray(w, dtype),
        min_loss=min_loss,
        w_true=jnp.asarray(w_true, dtype),
    )


def mlp_regression(n: int, d: int, hidden: int = 16, noise: float = 0.1, seed: int = 0, dtype=None) -> Problem:
    """A small regression network whose parameters are a nested dict (pytree demo).

    ``x ~ N(0, I_d)``, ``y = sin(x·v) + N(0, noise²)``; the model is
    ``tanh(x W₁ + b₁) · w₂ + b₂`` with ``params = {"hidden": {"w", "b"}, "out": {"w", "b"}}``.
    The optimum is unknown (``w_star`` and ``min_loss`` are ``None``).

    Example:
      >>> import jaxopt_hw as jh
      >>> sorted(jh.mlp_regression(100, 3).init_params(0))
      ['hidden', 'out']
    """
    n = _check_size("n", n)
    d = _check_size("d", d)
    hidden = _check_size("hidden", hidden)
    noise = _check_finite_number("noise", noise, minimum=0.0)
    rng = np.random.default_rng(_check_seed(seed))
    X = rng.standard_normal((n, d))
    y = np.sin(X @ rng.standard_normal(d)) + noise * rng.standard_normal(n)
    dtype = _float_dtype(dtype)
    data = {"X": jnp.asarray(X, dtype), "y": jnp.asarray(y, dtype)}

    return Problem(
        name=f"mlp_regression(n={n}, d={d}, hidden={hidden})",
        data=data,
        loss_fn=mlp_loss,
        full_loss_fn=jax.tree_util.Partial(data_full_loss, loss_fn=mlp_loss),
        aux=data,
        initial_params=MlpInit(d, hidden, dtype.name),
    )


def rosenbrock(a: float = 1.0, b: float = 100.0, start=(-1.2, 1.0), dtype=None) -> Problem:
    r"""Rosenbrock's banana :math:`(a-u)^2 + b(v-u^2)^2`, minimum 0 at :math:`(a, a^2)`.

    A deterministic 2-D problem for trajectory pictures: it has no data (one dummy row),
    so run it with ``batch_size=None``. Every seed starts at ``start``.

    Example:
      >>> import jaxopt_hw as jh
      >>> float(jh.rosenbrock().loss(jh.rosenbrock().w_star))
      0.0
    """
    a = _check_finite_number("a", a)
    b = _check_finite_number("b", b, minimum=0.0)
    dtype = _float_dtype(dtype)
    data = {"X": jnp.zeros((1, 0), dtype), "y": jnp.zeros((1,), dtype)}
    loss_fn = jax.tree_util.Partial(rosenbrock_loss, a=a, b=b)
    try:
        start_array = np.asarray(start, np.float64)
    except (TypeError, ValueError):
        start_array = np.full(3, np.nan)
    if start_array.shape != (2,) or not np.all(np.isfinite(start_array)):
        raise ValueError(f"start must be two finite numbers (u, v), got {start!r}")
    start = tuple(float(v) for v in start_array)
    return Problem(
        name=f"rosenbrock(a={a:g}, b={b:g})",
        data=data,
        loss_fn=loss_fn,
        full_loss_fn=jax.tree_util.Partial(data_full_loss, loss_fn=loss_fn),
        aux=data,
        initial_params=ConstantInit(start, dtype.name),
        w_star=jnp.asarray([a, a * a], dtype),
        min_loss=0.0,
    )
