"""The small core of a problem: :class:`Problem`, initial points, checks of the user's arrays, and
the registry of forms for many parameter sets held as columns.
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


@dataclasses.dataclass(frozen=True, eq=False)
class Optimum:
    """What is known of a problem's solution: the exact minimizer and the loss there.

    Attributes:
      w_star: the minimizer (parameters of the problem's dtype).
      min_loss: the loss at ``w_star`` (float64 on the host).
      w_true: the parameters that generated a synthetic problem's data, or ``None``.
    """

    w_star: Params
    min_loss: float
    w_true: Optional[Params] = None


@dataclasses.dataclass(frozen=True)
class Curvature:
    """The extreme eigenvalues ``mu`` and ``L`` of a quadratic problem's constant Hessian."""

    mu: float
    L: float


@dataclasses.dataclass(frozen=True)
class FastForms:
    """Forms of a problem's functions that the engine calls in place of the generic ones.

    Attributes:
      batch_fn: ``(params, X, y) -> (loss, gradient, error)`` of a batch in one call, or
        ``None`` (then ``jax.value_and_grad(loss_fn)`` and ``error_fn``); least squares
        gives one that vmaps over many ``params`` into fast products.
      measures_fn: ``(params, aux) -> (full loss, excess loss, full-gradient norm,
        distance to w_star)``, or the 3-tuple without the excess loss (then ``loss −
        min_loss``); or ``None`` (then ``jax.value_and_grad(full_loss_fn)``). Least
        squares gives its closed form, whose excess loss has no cancellation.
      loss_detects_nonfinite: whether the batch loss is non-finite whenever the
        parameters are (a model linear in them); the divergence guard may then check
        parameters through the loss (:func:`jaxopt_hw.step.train_step`).
      sets_minor: whether a sweep keeps its configs on the minor axis of every parameter
        and optimizer-state array, ``(d, configs)``, and calls the forms of ``batch_fn``
        and ``measures_fn`` for parameter sets held as columns
        (:func:`register_sets_minor_form`) on all its configs at once.
    """

    batch_fn: Optional[Callable] = None
    measures_fn: Optional[Callable] = None
    loss_detects_nonfinite: bool = False
    sets_minor: bool = False


#: What a problem without :class:`FastForms` is computed with: the generic forms.
GENERIC_FORMS = FastForms()


@dataclasses.dataclass(frozen=True)
class OnXY:
    """``(params, batch) -> fn(params, batch["X"], batch["y"])``: a function of rows as one of batches.

    Compared by ``fn``, so that problems of one kind share compiled programs."""

    fn: Callable

    def __call__(self, params, batch):
        return self.fn(params, batch["X"], batch["y"])

    @property
    def __wrapped__(self):  # what a sweep's fingerprint describes (sweep.store)
        return self.fn


@dataclasses.dataclass(frozen=True, eq=False)
class Problem:
    """A differentiable objective over a data set (see the package docstring).

    The core every problem has, and capabilities that some problems offer (``None``
    where not): the engine asks for ``optimum``, ``curvature`` and ``forms``.

    Attributes:
      name: a short label, e.g. ``"linear_regression(n=500, d=2)"``.
      data: a pytree of arrays with one leading axis ``n`` (``{"X", "y"}`` for the built-in
        problems); minibatches are rows of these.
      loss_fn: ``(params, batch) -> scalar``, the mean loss over a batch of ``data``'s structure.
      full_loss_fn: ``(params, aux) -> scalar``, the loss over all rows.
      aux: arrays ``full_loss_fn`` reads: the data itself, or for least squares
        ``chol`` (``C = QΛ^½`` from the eigendecomposition ``QΛQᵀ = XᵀX/n``, whose
        orthogonal columns the closed-form measures rely on; not a Cholesky factor),
        ``sqrt_eigenvalues``, ``w_star`` and ``min_loss``.
      initial_params: ``seed -> params`` as host (NumPy) arrays, the seeded initial point.
      error_fn: ``(params, batch) -> scalar``, the error of a batch (the homework's
        "error": the mean absolute error for regression, the misclassification rate for
        classifiers), or ``None``.
      eval_fn: ``(params, aux) -> {name: scalar}``, held-out metrics logged beside the
        training loss, or ``None``; ``eval_names`` lists their names, sorted.
      optimum: the exact :class:`Optimum`, where known.
      curvature: the Hessian's extreme eigenvalues (:class:`Curvature`) of a quadratic problem.
      forms: :class:`FastForms` of the problem's functions (least squares).
    """

    name: str
    data: Any
    loss_fn: Callable
    full_loss_fn: Callable
    aux: dict
    initial_params: Callable
    error_fn: Optional[Callable] = None
    eval_fn: Optional[Callable] = None
    eval_names: tuple = ()
    optimum: Optional[Optimum] = None
    curvature: Optional[Curvature] = None
    forms: Optional[FastForms] = None

    @property
    def X(self):
        return self.data["X"]

    @property
    def y(self):
        return self.data["y"]

    @functools.cached_property
    def dtype(self):
        """The float dtype the problem computes in: its parameters'."""
        leaves = jax.tree.leaves(self.initial_params(0))
        return np.dtype(jnp.result_type(*[leaf.dtype for leaf in leaves]))

    @functools.cached_property
    def platform(self) -> str:
        """The platform (``"cpu"``, ``"gpu"``, …) that holds the problem's data."""
        return next(iter(jax.tree.leaves(self.data)[0].devices())).platform

    @property
    def n(self) -> int:
        """Number of rows (samples)."""
        return int(jax.tree.leaves(self.data)[0].shape[0])

    @property
    def w_star(self):
        """The exact minimizer, or ``None`` when unknown."""
        return None if self.optimum is None else self.optimum.w_star

    @property
    def min_loss(self) -> Optional[float]:
        """The loss at ``w_star``, or ``None`` when unknown."""
        return None if self.optimum is None else self.optimum.min_loss

    @property
    def w_true(self):
        """The generating parameters of a synthetic problem, or ``None``."""
        return None if self.optimum is None else self.optimum.w_true

    @property
    def mu(self) -> Optional[float]:
        """The smallest eigenvalue of a quadratic problem's Hessian, or ``None``."""
        return None if self.curvature is None else self.curvature.mu

    @property
    def L(self) -> Optional[float]:
        """The largest eigenvalue of a quadratic problem's Hessian, or ``None``."""
        return None if self.curvature is None else self.curvature.L

    @property
    def kappa(self) -> Optional[float]:
        """Condition number ``L / mu`` of the Hessian, when known."""
        if self.curvature is None:
            return None
        return math.inf if self.mu <= 0 else self.L / self.mu

    @property
    def full_loss_in_passes(self) -> bool:
        """Whether the full loss is a pass over the data in pieces (:func:`jaxopt_hw.problem`)."""
        return isinstance(self.full_loss_fn, FullDataLoss)

    def loss(self, params, X=None, y=None):
        """Mean loss over the rows ``X, y`` (or over the batch ``X`` when ``y`` is omitted),
        or over all data when both are omitted."""
        if X is None and y is None:
            return self.full_loss_fn(params, self.aux)
        return self.loss_fn(params, X if y is None else {"X": X, "y": y})

    def init_params(self, seed: int = 0):
        """The initial point for ``seed`` (the one :func:`jaxopt_hw.run` uses), drawn on the host."""
        return jax.tree.map(jnp.asarray, self.initial_params(check_seed(seed)))


#: Rows per piece of a full-data loss: a pass over a large data set in pieces bounds
#: the memory of its activations (a sweep holds them for every config at once).
FULL_LOSS_ROWS = 8192


@dataclasses.dataclass(frozen=True)
class FullDataLoss:
    r"""The mean of a batch-mean ``loss`` over all rows of ``aux["data"]``, in pieces of
    ``rows``: :math:`\frac1n \sum_k |B_k| \, \ell(w, B_k)`.

    Hashable by the loss function, so that problems with the same loss share programs."""

    loss: Callable
    rows: int = FULL_LOSS_ROWS

    def __call__(self, params, aux):
        data = aux["data"]
        n = jax.tree.leaves(data)[0].shape[0]
        full, rest = divmod(n, self.rows)
        sums = []
        if full:
            pieces = jax.tree.map(
                lambda a: a[: full * self.rows].reshape((full, self.rows) + a.shape[1:]), data
            )
            sums.append(
                jnp.sum(jax.lax.map(lambda piece: self.loss(params, piece), pieces)) * self.rows
            )
        if rest:
            sums.append(
                self.loss(params, jax.tree.map(lambda a: a[full * self.rows :], data)) * rest
            )
        return sum(sums) / n


#: Up to this many features, ``X @ w`` is written as a multiply and a sum: XLA:CPU then
#: fuses it with its neighbours instead of calling a matrix-vector kernel, which for
#: these tiny products costs more in dispatch than in arithmetic.
SMALL_D = 32


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


def product(a, b):
    """``a @ b`` computed in the operands' precision on every backend.

    XLA's default precision lets GPUs with tensor cores (NVIDIA Ampere and later) round
    the operands of a float32 product to TF32 (10 significant bits, ~1e-3 relative): a
    noise floor under every loss a study measures, and a GPU sweep 1e-4 away from the
    same run on a CPU. On CPUs this changes nothing."""
    return jnp.matmul(a, b, precision=jax.lax.Precision.HIGHEST)


def matvec(X, w):
    """``X @ w`` (shapes are static, so the choice of form is made once, at trace time)."""
    if X.shape[-1] <= SMALL_D and not _MATVEC_AS_PRODUCT.get():
        return jnp.sum(X * w, axis=-1)
    return product(X, w)


def rmatvec(X, r):
    """``X^T r``, in the form ``jax.grad`` gives the transpose of :func:`matvec`."""
    if X.shape[-1] <= SMALL_D and not _MATVEC_AS_PRODUCT.get():
        return jnp.sum(X * r[:, None], axis=0)
    return product(r, X)


#: Functions of one parameter set → their form for many sets held as columns (see
#: :func:`sets_minor_form`), by identity: a wrapper of such a function (``functools.wraps``
#: copies its attributes) computes something else and gets none.
_SETS_MINOR_FORMS = {}


def register_sets_minor_form(fn: Callable, form: Callable) -> None:
    """Records ``form(params (d, P), …)`` as ``fn`` for ``P`` parameter sets held as the
    columns of ``params``; a sweep whose configs lie on the minor axis of its state
    (``FastForms.sets_minor``) then calls ``form`` on all of them at once where
    ``fn`` is the problem's ``FastForms.batch_fn`` or ``measures_fn``."""
    for name, value in (("fn", fn), ("form", form)):
        if not callable(value):
            raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    try:
        _SETS_MINOR_FORMS[fn] = form
    except TypeError:
        raise TypeError(
            f"fn must be hashable (it is looked up by identity), got {type(fn).__name__}"
        ) from None


def sets_minor_form(fn) -> Optional[Callable]:
    """The form of ``fn`` registered by :func:`register_sets_minor_form`, or ``None``."""
    try:
        return _SETS_MINOR_FORMS.get(fn)
    except TypeError:  # an unhashable callable
        return None


#: Keys the initial points' random stream apart from the data's: ``default_rng(seed)``
#: draws a problem's data (``w_true`` first), so an initial point drawn from it with the
#: same seed would be ``w_true`` itself, a start at the optimum.
_INIT_STREAM = 0x1A17


def host_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([_INIT_STREAM, seed])


@dataclasses.dataclass(frozen=True)
class NormalInit:
    """``seed -> N(0, I)`` of ``shape`` and ``dtype`` (NumPy's PCG64 keyed by the seed, in
    a stream apart from the problems' data)."""

    shape: tuple
    dtype: str

    def __call__(self, seed: int):
        return host_rng(seed).standard_normal(self.shape).astype(jnp.dtype(self.dtype))


@dataclasses.dataclass(frozen=True)
class ConstantInit:
    """``seed -> values`` whatever the seed (a fixed starting point)."""

    values: tuple
    dtype: str

    def __call__(self, seed: int):
        del seed
        return np.asarray(self.values, jnp.dtype(self.dtype))


def check_size(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return int(value)


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return int(seed)


def check_finite_number(name: str, value, minimum=None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value) or (minimum is not None and value < minimum):
        bound = f" and >= {minimum}" if minimum is not None else ""
        raise ValueError(f"{name} must be finite{bound}, got {value!r}")
    return float(value)


def check_flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return bool(value)


def check_name(name) -> None:
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
        raise ValueError(f"{name} contains NaN or inf (first in row {first_row(~finite)})")
    return array


def first_row(mask: np.ndarray) -> int:
    """The index along axis 0 of the first row where ``mask`` holds anywhere."""
    return int(np.flatnonzero(mask.reshape(mask.shape[0], -1).any(axis=1))[0])


def float_dtype(dtype):
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


def check_within_range(dtype, **arrays) -> None:
    """Refuses arrays with values a float of ``dtype`` cannot hold (they would be stored as inf)."""
    limit = float(jnp.finfo(dtype).max)
    for name, array in arrays.items():
        largest = float(np.max(np.abs(array))) if np.size(array) else 0.0
        if not largest <= limit:
            raise ValueError(
                f"{name} must stay within {jnp.dtype(dtype).name}'s range (largest {limit:.3g}); "
                "it "
                f"reaches {largest:.3g}: rescale the data"
            )


def checked_xy(X, y, labels: bool = False):
    """The user's ``X`` (n, d) and ``y`` (n,) as host arrays, checked (see :func:`_as_host_array`);
    ``labels``: ``y`` may be booleans."""
    X = _as_host_array("X", X, ndim=2)
    y = _as_host_array("y", y, ndim=1, allow_bool=labels)
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must have the same number of rows, got X {X.shape} and y {y.shape}"
        )
    return X, y


def with_intercept(X: np.ndarray, fit_intercept: bool) -> np.ndarray:
    """``X`` with a column of ones appended when ``fit_intercept`` (its coefficient is the intercept)."""
    if not fit_intercept:
        return X
    return np.concatenate([X, np.ones((X.shape[0], 1), X.dtype)], axis=1)
