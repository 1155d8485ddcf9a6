"""One training run as one compiled program: ``jit`` of nested ``lax.scan``.

Minibatches
-----------
The rows of every epoch are a fresh pseudo-random permutation of ``[0, n)`` keyed by the
run's seed and the epoch number. Batches are consecutive slices of the stream formed by
concatenating the epochs' permutations, so:

* every batch has exactly ``batch_size`` rows (no short or dropped batch);
* every row is visited exactly once per epoch (``n`` consecutive stream positions);
* when ``n`` is not a multiple of ``batch_size``, one batch per epoch boundary takes the
  last rows of one epoch and the first rows of the next (this is our one documented
  way of handling the remainder).

The permutation is never materialised: row ``i`` of epoch ``e`` is ``π_e(i)``, a keyed
Feistel bijection on ``[0, 2^b)`` (``2^b ≥ n``) with cycle-walking back into ``[0, n)``,
the idea behind TensorFlow's ``index_shuffle`` and Grain's index sampler. A batch
costs O(batch_size) integer hashes, whatever ``n``, and no memory grows with ``n`` or the
number of epochs. ``batch_size=None`` means the full batch in row order (plain GD).

Logged metrics
--------------
Every ``log_every`` steps the run records, for the parameters after that step: the
full-data loss (O(d²) for least squares, through :class:`~jaxopt_hw.problems.Problem`),
the excess loss over ``min_loss`` and ``‖w − w*‖`` when the optimum is known, the norm
of the full-data gradient and the mean over those steps of the batch error (the mean
absolute error of each batch before its step, the homework notebook's "error").

Divergence
----------
A run whose batch loss becomes non-finite or exceeds ``divergence_factor`` times its
initial full loss, or whose parameters become non-finite, is frozen at its last finite
state and flagged ``diverged``.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxopt_hw.optimizers import apply_updates
from jaxopt_hw.problems import Problem

__all__ = ["run", "Trace", "epoch_permutation"]

Params = Any

FEISTEL_ROUNDS = 6
_GOLDEN = 0x9E3779B9


# --------------------------------------------------------------------------- shuffling


def _mix32(x):
    """MurmurHash3's 32-bit finalizer: an avalanche bijection of uint32."""
    x = x ^ (x >> 16)
    x = x * jnp.uint32(0x85EBCA6B)
    x = x ^ (x >> 13)
    x = x * jnp.uint32(0xC2B2AE35)
    return x ^ (x >> 16)


def _round_keys(words, epoch):
    """``FEISTEL_ROUNDS`` uint32 round keys for each entry of ``epoch`` (shape (..., R))."""
    epoch_key = _mix32(words[0] ^ _mix32(epoch.astype(jnp.uint32) ^ words[1]))
    rounds = jnp.arange(FEISTEL_ROUNDS, dtype=jnp.uint32) * jnp.uint32(_GOLDEN)
    return _mix32(epoch_key[..., None] + rounds)


def _feistel(x, keys, bits: int):
    """A keyed bijection of ``[0, 2^bits)``: unbalanced Feistel rounds whose halves
    alternate between ``bits // 2`` and ``bits - bits // 2`` bits."""
    left_bits, right_bits = bits // 2, bits - bits // 2
    for r in range(FEISTEL_ROUNDS):
        left, right = x >> right_bits, x & jnp.uint32((1 << right_bits) - 1)
        mixed = _mix32(right ^ keys[..., r]) & jnp.uint32((1 << left_bits) - 1)
        x = (right << left_bits) | (left ^ mixed)
        left_bits, right_bits = right_bits, left_bits
    return x


def _permuted_rows(positions, keys, n: int):
    """``π(positions)`` for the keyed bijection π of ``[0, n)`` (cycle-walking)."""
    bits = max(1, (n - 1).bit_length())
    encrypt = functools.partial(_feistel, keys=keys, bits=bits)
    rows = encrypt(positions.astype(jnp.uint32))
    if (1 << bits) == n:
        return rows.astype(jnp.int32)

    def walk(rows):
        return jnp.where(rows >= n, encrypt(rows), rows)

    rows = jax.lax.while_loop(lambda rows: jnp.any(rows >= n), walk, rows)
    return rows.astype(jnp.int32)


def shuffle_words(seed) -> jax.Array:
    """The two uint32 words that key a run's batch order, derived from its seed."""
    return jax.random.bits(jax.random.fold_in(jax.random.key(seed), 1), (2,), jnp.uint32)


def epoch_permutation(seed: int, epoch: int, n: int) -> np.ndarray:
    """The row order of one epoch of a run with this ``seed`` (for tests and plots).

    Example:
      >>> import numpy as np, jaxopt_hw as jh
      >>> sorted(jh.epoch_permutation(seed=0, epoch=3, n=10)) == list(range(10))
      True
    """
    positions = jnp.arange(n, dtype=jnp.uint32)
    keys = _round_keys(shuffle_words(seed), jnp.full((n,), epoch, jnp.int32))
    return np.asarray(_permuted_rows(positions, keys, n))


class Cursor(NamedTuple):
    """Where a run is in its stream of epochs: the epoch and the position within it."""

    epoch: jax.Array
    offset: jax.Array


def _next_batch_rows(cursor: Cursor, words, n: int, batch_size: int):
    """The rows of the next batch and the advanced cursor (``batch_size ≤ n``)."""
    positions = cursor.offset + jnp.arange(batch_size, dtype=jnp.int32)
    wrapped = positions >= n
    positions = jnp.where(wrapped, positions - n, positions)
    epochs = cursor.epoch + wrapped.astype(jnp.int32)
    rows = _permuted_rows(positions, _round_keys(words, epochs), n)
    end = cursor.offset + batch_size
    advanced = Cursor(epoch=cursor.epoch + (end >= n), offset=jnp.where(end >= n, end - n, end))
    return rows, advanced


def next_batch(data, cursor: Cursor, words, batch_size: Optional[int]):
    """The next minibatch ``(X_b, y_b)`` of ``data`` and the advanced cursor."""
    if batch_size is None:
        return data, cursor
    n = jax.tree.leaves(data)[0].shape[0]
    rows, cursor = _next_batch_rows(cursor, words, n, batch_size)
    return jax.tree.map(lambda a: a[rows], data), cursor


# --------------------------------------------------------------------------- one step


class ProblemFns(NamedTuple):
    """The static, hashable part of a problem that a compiled program closes over."""

    loss_fn: Callable
    full_loss_fn: Callable
    error_fn: Optional[Callable]

    @classmethod
    def of(cls, problem: Problem) -> "ProblemFns":
        return cls(problem.loss_fn, problem.full_loss_fn, problem.error_fn)


class RunState(NamedTuple):
    """What a run carries from step to step."""

    params: Params
    opt_state: Any
    diverged: jax.Array
    loss_bound: jax.Array


def _all_finite(tree) -> jax.Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)]))


def initial_state(fns: ProblemFns, tx, params, aux, divergence_factor):
    """The state before the first step (the divergence bound is relative to the initial
    full loss) and that initial loss."""
    initial_loss = fns.full_loss_fn(params, aux)
    scale = jnp.maximum(initial_loss, jnp.finfo(initial_loss.dtype).tiny)
    state = RunState(
        params=params,
        opt_state=tx.init(params),
        diverged=jnp.zeros((), bool),
        loss_bound=jnp.asarray(divergence_factor, initial_loss.dtype) * scale,
    )
    return state, initial_loss


def train_step(fns: ProblemFns, tx, state: RunState, batch):
    r"""One optimizer step on one batch, :math:`w \leftarrow w + u(\nabla f_B(w))`, frozen
    once the run has diverged. Returns the new state and the batch's error before the step."""
    X_b, y_b = batch["X"], batch["y"]
    loss, grads = jax.value_and_grad(fns.loss_fn)(state.params, X_b, y_b)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = apply_updates(state.params, updates)
    blew_up = ~jnp.isfinite(loss) | (loss > state.loss_bound) | ~_all_finite(params)
    diverged = state.diverged | blew_up
    keep_old = lambda old, new: jnp.where(diverged, old, new)  # noqa: E731
    error = fns.error_fn(state.params, X_b, y_b) if fns.error_fn is not None else jnp.full((), jnp.nan, loss.dtype)
    new_state = state._replace(
        params=jax.tree.map(keep_old, state.params, params),
        opt_state=jax.tree.map(keep_old, state.opt_state, opt_state),
        diverged=diverged,
    )
    return new_state, error


class Metrics(NamedTuple):
    """Per-logged-step measurements."""

    loss: jax.Array
    excess_loss: jax.Array
    dist_to_opt: jax.Array
    grad_norm: jax.Array
    batch_error: jax.Array


def _tree_norm(tree):
    return jnp.sqrt(sum(jnp.sum(jnp.square(leaf)) for leaf in jax.tree.leaves(tree)))


def measure(fns: ProblemFns, params, aux, w_star, min_loss, batch_error) -> Metrics:
    """Full-data loss, excess loss, distance to the optimum and full-gradient norm."""
    loss, grads = jax.value_and_grad(fns.full_loss_fn)(params, aux)
    nan = jnp.full((), jnp.nan, loss.dtype)
    return Metrics(
        loss=loss,
        excess_loss=nan if min_loss is None else loss - min_loss,
        dist_to_opt=nan if w_star is None else _tree_norm(jax.tree.map(jnp.subtract, params, w_star)),
        grad_norm=_tree_norm(grads),
        batch_error=batch_error.astype(loss.dtype),
    )


# --------------------------------------------------------------------------- the driver


def simulate(step, log, carry, steps: int, log_every: int, record: Optional[Callable] = None):
    """``steps`` applications of ``step: carry -> (carry, batch_error)`` as a scan over
    ``steps // log_every`` chunks, each an inner scan of ``log_every`` steps followed by
    ``log(carry, mean batch error of the chunk)`` and, if given, ``record(carry)``.

    Returns the final carry, the stacked logs and the stacked records (or ``None``)."""

    def chunk(carry, _):
        carry, errors = jax.lax.scan(lambda c, _: step(c), carry, None, length=log_every)
        logged = log(carry, jnp.mean(errors, axis=0))
        return carry, (logged, None if record is None else record(carry))

    carry, (logs, records) = jax.lax.scan(chunk, carry, None, length=steps // log_every)
    return carry, logs, records


def run_single(fns, tx, data, aux, w_star, min_loss, params, words, divergence_factor, *, steps, batch_size, log_every, record_params):
    """The traceable body of :func:`run`; returns ``(logs, final state, initial loss,
    trajectory or None)``."""
    state, initial_loss = initial_state(fns, tx, params, aux, divergence_factor)
    cursor = Cursor(epoch=jnp.zeros((), jnp.int32), offset=jnp.zeros((), jnp.int32))

    def step(carry):
        state, cursor = carry
        batch, cursor = next_batch(data, cursor, words, batch_size)
        state, error = train_step(fns, tx, state, batch)
        return (state, cursor), error

    def log(carry, batch_error):
        return measure(fns, carry[0].params, aux, w_star, min_loss, batch_error)

    record = (lambda carry: carry[0].params) if record_params else None
    (state, _), logs, trajectory = simulate(step, log, (state, cursor), steps, log_every, record)
    return logs, state, initial_loss, trajectory


@functools.partial(jax.jit, static_argnames=("fns", "tx", "steps", "batch_size", "log_every", "record_params"))
def _run_compiled(data, aux, w_star, min_loss, params, words, divergence_factor, *, fns, tx, steps, batch_size, log_every, record_params):
    return run_single(
        fns, tx, data, aux, w_star, min_loss, params, words, divergence_factor,
        steps=steps, batch_size=batch_size, log_every=log_every, record_params=record_params,
    )


# --------------------------------------------------------------------------- validation


def check_int(name: str, value, minimum: int = 1, maximum: Optional[int] = None) -> int:
    """``value`` as an int in ``[minimum, maximum]``, or a ValueError/TypeError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and <= {maximum}" if maximum is not None else ""
        raise ValueError(f"{name} must be >= {minimum}{upper}, got {value}")
    return int(value)


def check_run_args(problem, optimizer, steps, batch_size, log_every, divergence_factor):
    """Validates the arguments shared by :func:`run` and :func:`~jaxopt_hw.sweep`."""
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a jaxopt_hw Problem, got {type(problem).__name__}")
    if optimizer is not None and not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise TypeError(f"optimizer must be an optax GradientTransformation, got {type(optimizer).__name__}")
    steps = check_int("steps", steps)
    log_every = check_int("log_every", log_every)
    if steps % log_every:
        raise ValueError(f"steps ({steps}) must be a multiple of log_every ({log_every})")
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, maximum=problem.n)
    if isinstance(divergence_factor, bool) or not isinstance(divergence_factor, numbers.Real) or not (
        math.isfinite(divergence_factor) and divergence_factor > 0
    ):
        raise ValueError(f"divergence_factor must be a finite number > 0, got {divergence_factor!r}")
    return steps, batch_size, log_every


def check_init(problem: Problem, init):
    """``init`` as arrays, checked against the structure and shapes of the problem's own
    initial point."""
    reference = jax.eval_shape(problem.init_params, 0)
    try:
        leaves = jax.tree.map(jnp.asarray, init)
    except TypeError as error:
        raise TypeError(f"init must be a pytree of arrays, got {type(init).__name__}") from error
    if jax.tree.structure(leaves) != jax.tree.structure(reference):
        raise TypeError(f"init must have the structure {jax.tree.structure(reference)}, got {jax.tree.structure(leaves)}")
    for got, want in zip(jax.tree.leaves(leaves), jax.tree.leaves(reference)):
        if got.shape != want.shape:
            raise ValueError(f"init has a leaf of shape {got.shape} where {want.shape} is expected")
    if not _all_finite(leaves):
        raise ValueError("init contains NaN or inf")
    return jax.tree.map(lambda got, want: got.astype(want.dtype), leaves, reference)


def _check_seed(seed) -> int:
    return check_int("seed", seed, minimum=0)


def _optimum(problem: Problem):
    min_loss = None if problem.min_loss is None else jnp.asarray(problem.min_loss, problem.X.dtype)
    return problem.w_star, min_loss


class Trace(NamedTuple):
    """What :func:`run` returns. Logged arrays have one entry per logged step.

    Attributes:
      loss: full-data loss after each logged step, shape ``(steps // log_every,)``.
      excess_loss: ``loss − min_loss`` (NaN when the optimum is unknown).
      dist_to_opt: ``‖w − w*‖`` (NaN when the optimum is unknown).
      grad_norm: norm of the full-data gradient.
      batch_error: mean absolute error of the batches since the previous log, each
        measured before its step (NaN for problems without an ``error_fn``).
      params: the trajectory, initial point first, shape ``(steps // log_every + 1, …)``,
        when ``record_params=True``; else ``None``.
      final_params: the parameters after the last step (or the frozen ones).
      initial_loss: full-data loss at the initial point.
      diverged: whether the run was frozen by the divergence guard.
      steps: the step numbers that were logged, ``log_every, 2·log_every, …, steps``.
    """

    loss: jax.Array
    excess_loss: jax.Array
    dist_to_opt: jax.Array
    grad_norm: jax.Array
    batch_error: jax.Array
    params: Optional[Params]
    final_params: Params
    initial_loss: jax.Array
    diverged: jax.Array
    steps: np.ndarray


def run(
    problem: Problem,
    optimizer: optax.GradientTransformation,
    steps: int,
    batch_size: Optional[int] = None,
    seed: int = 0,
    init: Optional[Params] = None,
    log_every: int = 1,
    record_params: bool = False,
    divergence_factor: float = 1e6,
) -> Trace:
    """Trains ``problem`` with ``optimizer`` for ``steps`` steps in one compiled program.

    The whole loop is one ``jax.jit``-compiled nested ``lax.scan`` (see the module
    docstring for the batch order and what is logged). Calls with the same problem
    kind, shapes, ``optimizer`` object and options reuse the compiled program.

    Args:
      problem: a :class:`~jaxopt_hw.problems.Problem`.
      optimizer: an :class:`optax.GradientTransformation` (ours or optax's).
      steps: number of optimizer steps (> 0, a multiple of ``log_every``).
      batch_size: rows per minibatch in ``[1, n]``, or ``None`` for the full batch (GD).
      seed: keys the initial point and the batch order (int ≥ 0).
      init: initial parameters (default: ``problem.init_params(seed)``).
      log_every: log the metrics every this many steps.
      record_params: also return the trajectory of parameters.
      divergence_factor: a run is frozen and flagged once its batch loss exceeds this
        multiple of its initial loss (or becomes non-finite).

    Returns:
      A :class:`Trace`.

    Example:
      >>> import jaxopt_hw as jh
      >>> prob = jh.linear_regression(500, 2, seed=0)
      >>> trace = jh.run(prob, jh.adam(0.1), steps=1000, batch_size=32, seed=0)
      >>> bool(trace.excess_loss[-1] < 0.1)
      True
    """
    steps, batch_size, log_every = check_run_args(problem, optimizer, steps, batch_size, log_every, divergence_factor)
    seed = _check_seed(seed)
    if not isinstance(record_params, bool):
        raise TypeError(f"record_params must be a bool, got {type(record_params).__name__}")
    params = problem.init_params(seed) if init is None else check_init(problem, init)
    w_star, min_loss = _optimum(problem)
    logs, state, initial_loss, trajectory = _run_compiled(
        problem.data, problem.aux, w_star, min_loss, params, shuffle_words(seed), divergence_factor,
        fns=ProblemFns.of(problem), tx=optimizer, steps=steps, batch_size=batch_size,
        log_every=log_every, record_params=record_params,
    )
    if record_params:
        trajectory = jax.tree.map(lambda p0, ps: jnp.concatenate([p0[None], ps]), params, trajectory)
    return Trace(
        **logs._asdict(),
        params=trajectory,
        final_params=state.params,
        initial_loss=initial_loss,
        diverged=state.diverged,
        steps=np.arange(log_every, steps + 1, log_every),
    )
