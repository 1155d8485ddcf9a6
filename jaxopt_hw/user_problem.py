"""Your model, your data: a :class:`~jaxopt_hw.problems.Problem` from any loss over any pytree.

``problem(loss, data, init)`` takes ``loss(params, batch) -> scalar``, the mean loss over a
minibatch whose structure is ``data``'s (a dict with any keys, a tuple, one array) with a
leading axis of ``batch_size`` rows. Everything is checked on the host, and the loss and
the held-out metrics by an abstract trace, before anything compiles.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxopt_hw.problems import FullDataLoss, Problem
from jaxopt_hw.step import Metrics

__all__ = ["problem", "with_held_out"]


@dataclasses.dataclass(frozen=True)
class HeldOut:
    """``eval_fn(params, aux["eval_data"])``: the held-out metrics, read from the problem's
    arrays so that a compiled program takes the held-out data as an argument."""

    eval_fn: Callable

    def __call__(self, params, aux):
        return self.eval_fn(params, aux["eval_data"])


@dataclasses.dataclass(frozen=True, eq=False)
class SeededInit:
    """``seed -> init(seed)`` as host arrays, refused when its structure, shapes or
    dtypes differ from ``reference``'s (those of seed 0)."""

    init: Callable
    reference: Any

    def __call__(self, seed: int):
        params = _seeded_point(self.init, seed)
        if _signature(params) != _signature(self.reference):
            raise ValueError(
                f"init must give parameters of one structure, shapes and dtypes for every seed: "
                f"init({seed}) gives {_signature(params)}, init(0) {_signature(self.reference)}"
            )
        return params


def _seeded_point(init: Callable, seed: int):
    """``init(seed)`` as host arrays, or an error naming ``init`` if it raises."""
    try:
        params = init(seed)
    except Exception as error:  # noqa: BLE001 - whatever the user's init raises, named
        raise TypeError(
            f"init must be init(seed) -> params; init({seed}) raised "
            f"{type(error).__name__}: {error}"
        ) from error
    return _host_params(params, f"init({seed})")


@dataclasses.dataclass(frozen=True, eq=False)
class FixedInit:
    """``seed -> params`` whatever the seed."""

    params: Any

    def __call__(self, seed: int):
        del seed
        return self.params


def _signature(tree) -> tuple:
    leaves, structure = jax.tree.flatten(tree)
    return structure, tuple((leaf.shape, leaf.dtype.str) for leaf in leaves)


def _path(path) -> str:
    return jax.tree_util.keystr(path) or "(the array itself)"


def _host_params(params, what: str):
    """``params`` as NumPy arrays of floats, or an error naming ``what`` and the leaf."""

    def leaf(path, value):
        array = np.asarray(value)
        if not jnp.issubdtype(array.dtype, jnp.floating):  # bfloat16 is no NumPy float
            raise TypeError(
                f"{what} must hold float arrays, got dtype {array.dtype} at {_path(path)}"
            )
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{what} contains NaN or inf at {_path(path)}")
        return array.astype(
            jax.dtypes.canonicalize_dtype(array.dtype)
        )  # float64 only where JAX keeps it

    if not jax.tree.leaves(params):
        raise ValueError(f"{what} must hold at least one array, got {params!r}")
    return jax.tree_util.tree_map_with_path(leaf, params)


def _host_data(data, what: str, same_rows: bool = True):
    """``data``'s leaves as NumPy arrays of real numbers with one common leading axis (when
    ``same_rows``), finite; or an error naming ``what``, the leaf and the first bad row."""
    leaves = jax.tree_util.tree_leaves_with_path(data)
    if not leaves:
        raise ValueError(f"{what} must hold at least one array, got {data!r}")
    arrays = []
    for path, value in leaves:
        try:
            array = np.asarray(value)
        except Exception as error:  # noqa: BLE001 - any conversion failure, by name
            raise TypeError(
                f"{what}{_path(path)} must be array-like, got {type(value).__name__}"
            ) from error
        if not (
            jnp.issubdtype(array.dtype, jnp.number) or array.dtype == np.bool_
        ) or np.iscomplexobj(array):
            raise TypeError(f"{what}{_path(path)} must hold real numbers, got dtype {array.dtype}")
        if same_rows and (array.ndim == 0 or array.shape[0] == 0):
            raise ValueError(
                f"{what}{_path(path)} must have a leading axis of rows (n >= 1), got shape "
                f"{array.shape}"
            )
        if jnp.issubdtype(array.dtype, jnp.floating):
            bad = (
                ~np.isfinite(array.reshape(array.shape[0], -1)).all(axis=1)
                if array.ndim
                else ~np.isfinite(array)[None]
            )
            if bad.any():
                raise ValueError(
                    f"{what}{_path(path)} contains NaN or inf (first in row {int(np.argmax(bad))})"
                )
        arrays.append(array)
    rows = {array.shape[0] for array in arrays if array.ndim}
    if same_rows and len(rows) > 1:
        shapes = ", ".join(
            f"{_path(path)}: {array.shape}" for (path, _), array in zip(leaves, arrays)
        )
        raise ValueError(f"{what} leaves must share one leading length n, got {shapes}")
    return jax.tree.unflatten(jax.tree.structure(data), arrays)


def _placed(host_tree):
    """The arrays on the default device (float64 as float32 unless x64 is on)."""
    return jax.tree.map(jnp.asarray, host_tree)


def _checked_loss(loss, params, data) -> None:
    """Refuses a ``loss`` that cannot take ``(params, batch)`` or returns no scalar (an
    abstract trace on a batch of two rows: nothing runs)."""
    batch = jax.tree.map(
        lambda a: jax.ShapeDtypeStruct((min(2, a.shape[0]),) + a.shape[1:], a.dtype), data
    )
    returned = []

    def recorded(params, batch):
        value = loss(params, batch)
        returned.append(value)
        return value

    try:
        out = jax.eval_shape(recorded, params, batch)
    except Exception as error:  # noqa: BLE001 - whatever the user's loss raises, named
        raise TypeError(
            "loss must be loss(params, batch) -> scalar, with batch of data's structure; calling "
            "it "
            f"on init's parameters and a batch of 2 rows failed: {type(error).__name__}: {error}"
        ) from error
    if not (
        isinstance(out, jax.ShapeDtypeStruct)
        and out.shape == ()
        and jnp.issubdtype(out.dtype, jnp.floating)
    ):
        raise TypeError(f"loss must return a float scalar (the mean over the batch), got {out}")
    if not isinstance(returned[0], jax.Array):  # a constant: nothing to differentiate
        raise TypeError(
            "loss must compute its value from params and batch with jax.numpy, got the "
            f"constant {returned[0]!r}"
        )


#: Names a held-out metric may not take: the logged metrics, and what a sweep's result
#: derives from them per config and seed or calls its seed axis (it would be read in their
#: place).
RESERVED_NAMES = (
    *Metrics._fields,
    *(f"final_{name}" for name in Metrics._fields),
    "steps_to_tol",
    "seed",
)


def _checked_eval(eval_fn, params, eval_data) -> tuple:
    """The sorted names of ``eval_fn``'s metrics, or an error if it does not return a
    dict of float scalars under new names."""
    try:
        out = jax.eval_shape(eval_fn, params, eval_data)
    except Exception as error:  # noqa: BLE001
        raise TypeError(
            f"eval_fn must be eval_fn(params, eval_data) -> {{name: scalar}}; calling it failed: "
            f"{type(error).__name__}: {error}"
        ) from error
    if not isinstance(out, dict) or not out:
        raise TypeError(
            f"eval_fn must return a non-empty dict of scalars, got {type(out).__name__}"
        )
    for name, value in out.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"eval_fn's metric names must be non-empty strings, got {name!r}")
        if name in RESERVED_NAMES:
            raise ValueError(
                f"eval_fn's metric {name!r} clashes with a built-in name "
                f"({', '.join(RESERVED_NAMES)})"
            )
        if not (isinstance(value, jax.ShapeDtypeStruct) and value.shape == ()):
            raise TypeError(f"eval_fn must return scalars, got {value} for {name!r}")
        if jnp.issubdtype(value.dtype, jnp.complexfloating):
            raise TypeError(f"eval_fn must return real scalars, got {value.dtype} for {name!r}")
    return tuple(sorted(out))


def problem(
    loss: Callable,
    data,
    init,
    *,
    eval_fn: Optional[Callable] = None,
    eval_data=None,
    name: Optional[str] = None,
) -> Problem:
    r"""A problem over your own model and data, for :func:`jaxopt_hw.run` and :func:`jaxopt_hw.sweep`.

    The objective is :math:`f(w) = \frac1n \sum_i \ell_i(w)`, with ``loss(params, batch)``
    the mean of :math:`\ell_i` over the rows of ``batch``. The full-data loss that runs
    and sweeps log is that mean over all rows, in pieces of :data:`~jaxopt_hw.problems.FULL_LOSS_ROWS`.

    Args:
      loss: ``loss(params, batch) -> scalar``, the mean loss over a minibatch; ``batch``
        has ``data``'s structure with a leading axis of ``batch_size`` rows.
      data: a pytree of NumPy or JAX arrays sharing one leading axis ``n`` (placed on the
        device once; float64 as float32 unless x64 is on, other floats as given).
      init: the initial parameters (a pytree of float arrays), or ``seed -> params`` so
        that seeds vary the initial point (``lambda s: model.init(jax.random.key(s), x)``).
      eval_fn: ``eval_fn(params, eval_data) -> {name: scalar}``, held-out metrics logged
        every ``log_every`` steps beside the training loss (``Trace.metrics``, and
        ``SweepResult`` curves under their names).
      eval_data: a pytree of arrays that ``eval_fn`` reads.
      name: a label for tables and plots.

    Returns:
      A :class:`~jaxopt_hw.problems.Problem` without a known optimum.

    Raises:
      TypeError / ValueError: naming the argument (and for data the leaf and first bad
        row) for leaves of different lengths, NaN or inf, a loss that takes other
        arguments or returns no scalar, an ``init`` whose structure differs between
        seeds, an ``eval_fn`` returning anything but a dict of scalars.

    Example:
      >>> import numpy as np, jax.numpy as jnp, jaxopt_hw as jh
      >>> X, y = np.random.default_rng(0).normal(size=(200, 3)), np.zeros(200)
      >>> def loss(w, batch):
      ...     return jnp.mean((batch["X"] @ w - batch["y"]) ** 2)
      >>> prob = jh.problem(loss, {"X": X, "y": y}, np.ones(3, np.float32))
      >>> trace = jh.run(prob, jh.sgd(0.1), steps=100, batch_size=20)
      >>> bool(trace.loss[-1] < 1e-3 * trace.initial_loss)
      True
    """
    if not callable(loss):
        raise TypeError(f"loss must be callable, got {type(loss).__name__}")
    if eval_fn is not None and not callable(eval_fn):
        raise TypeError(f"eval_fn must be callable or None, got {type(eval_fn).__name__}")
    if eval_fn is None and eval_data is not None:
        raise ValueError("eval_data is given without an eval_fn to read it")
    placed = _placed(_host_data(data, "data"))
    if callable(init):
        initial = SeededInit(init, _seeded_point(init, 0))
        initial(1)  # a structure that changes with the seed, told before compiling
    else:
        initial = FixedInit(_host_params(init, "init"))
    params = initial(0)
    _checked_loss(loss, params, placed)
    eval_placed = (
        None if eval_data is None else _placed(_host_data(eval_data, "eval_data", same_rows=False))
    )
    eval_names = () if eval_fn is None else _checked_eval(eval_fn, params, eval_placed)
    label = name if name is not None else f"problem({getattr(loss, '__name__', 'loss')})"
    return Problem(
        name=str(label),
        data=placed,
        loss_fn=loss,
        full_loss_fn=FullDataLoss(loss),
        aux={"data": placed, "eval_data": eval_placed},
        initial_params=initial,
        eval_fn=None if eval_fn is None else HeldOut(eval_fn),
        eval_names=eval_names,
    )


def with_held_out(problem_: Problem, eval_fn: Callable, eval_data) -> Problem:
    """``problem_`` with held-out metrics ``eval_fn(params, eval_data) -> {name: scalar}``
    logged beside its loss, as :func:`problem`'s ``eval_fn`` (for the built-in problems too).

    Example:
      >>> import numpy as np, jaxopt_hw as jh
      >>> from jaxopt_hw.user_problem import with_held_out
      >>> prob = jh.least_squares(np.eye(3), np.arange(3.0))
      >>> test = {"X": np.ones((2, 3)), "y": np.ones(2)}
      >>> prob = with_held_out(prob, lambda w, t: {"test_loss": prob.loss(w, t)}, test)
      >>> prob.eval_names
      ('test_loss',)
    """
    if not callable(eval_fn):
        raise TypeError(f"eval_fn must be callable, got {type(eval_fn).__name__}")
    placed = _placed(_host_data(eval_data, "eval_data", same_rows=False))
    names = _checked_eval(eval_fn, jax.tree.map(jnp.asarray, problem_.initial_params(0)), placed)
    return dataclasses.replace(
        problem_,
        aux={**problem_.aux, "eval_data": placed},
        eval_fn=HeldOut(eval_fn),
        eval_names=names,
    )
