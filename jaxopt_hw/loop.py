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

An epoch of at most ``EXACT_MAX_ROWS`` = 64 rows is drawn exactly: position ``i`` gets the
rank of a keyed hash of ``i`` among the epoch's ``n`` hashes (:func:`_ranked_rows`; the
hash is a bijection, so nothing ties), and every order is equally likely; this costs
O(n) per row. A larger epoch is never materialised: row ``i`` of epoch ``e`` is
``π_e(i)``, a keyed Feistel bijection on mixed-radix digits of ``[0, a·b)`` with
cycle-walking back into ``[0, n)`` (the idea behind TensorFlow's ``index_shuffle`` and
Grain's index sampler). ``a·b = n`` exactly when ``n`` has a divisor ``a ≥ 16`` in
``[√n/2, √n]`` (nothing walks), else ``a = b = ⌈√n⌉`` and a point walks with probability
below ``2/√n``. On a small domain a few rounds leave pairs of rows dependent, so the
rounds grow as the smaller radix shrinks (:func:`_feistel_rounds`). The keys come from
the run's two ``shuffle_words`` (SplitMix64 of the seed, on the host) and the epoch
number. Drawing a row costs a few integer hashes, whatever ``n``, and no memory grows
with ``n`` or the number of epochs; nothing is sorted. ``batch_size=None`` means the
full batch in row order (plain GD).

Inside :func:`run` the rows of a block of about 64 consecutive steps are drawn and
gathered at once (:func:`fetch_block`) and the steps then slice their batches off the
block; the batches are exactly those of the stream above (:func:`next_batch`, which
:func:`jaxopt_hw.sweep` uses step by step).

Logged metrics
--------------
Every ``log_every`` steps the run records, for the parameters after that step: the
full-data loss (O(d²) for least squares, through :class:`~jaxopt_hw.problems.Problem`),
the excess loss over ``min_loss`` and ``‖w − w*‖`` when the optimum is known, the norm
of the full-data gradient and the mean over those steps of the batch error (the problem's
``error_fn`` of each batch before its step: the mean absolute error, the homework
notebook's "error", or a classifier's misclassification rate).

Divergence
----------
A run whose batch loss becomes non-finite or exceeds ``divergence_factor`` times its
initial full loss, or whose parameters become non-finite, has its parameters frozen at
their last finite values and is flagged ``diverged``.

In a sweep of more than 32 parameters per config, for problems whose batch loss is
non-finite whenever the parameters are (``Problem.loss_detects_nonfinite``: least
squares), the parameters a step makes are checked by the next step's batch loss, which
is computed anyway, instead of by a scan over every parameter: each config carries the
last parameters that passed, and what is reported (logs, final flags) comes from those
(:func:`checked`). A sweep of 1 024 configs at d = 100 spent a quarter of its time in
that scan.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
from jax import lax
import numpy as np
import optax

from jaxopt_hw._compile import jit_with_options, platform_options, with_accepted_options
from jaxopt_hw.optimizers import apply_updates, recipe_of
from jaxopt_hw.problems import Problem

__all__ = ["run", "Trace", "epoch_permutation"]

Params = Any

#: Epochs of at most this many rows are drawn exactly (:func:`_ranked_rows`, O(n) per row):
#: up to here that costs about what a cycle-walking Feistel draw does.
EXACT_MAX_ROWS = 64
_GOLDEN = 0x9E3779B9


# --------------------------------------------------------------------------- shuffling


# The hash is written with ``lax`` primitives rather than ``jnp`` operators: it is ~100
# operations, and tracing and lowering a ``jnp`` operator costs ~4× a primitive's (the
# shuffle was ~40% of the time ``jh.run``'s first call spends in Python).


def _mix32(x):
    """MurmurHash3's 32-bit finalizer: an avalanche bijection of uint32."""
    x = lax.bitwise_xor(x, lax.shift_right_logical(x, np.uint32(16)))
    x = lax.mul(x, np.uint32(0x85EBCA6B))
    x = lax.bitwise_xor(x, lax.shift_right_logical(x, np.uint32(13)))
    x = lax.mul(x, np.uint32(0xC2B2AE35))
    return lax.bitwise_xor(x, lax.shift_right_logical(x, np.uint32(16)))


def _round_keys(words, epoch, rounds: int):
    """``rounds`` uint32 round keys for each entry of ``epoch`` (shape (..., rounds))."""
    epoch_key = _mix32(lax.bitwise_xor(words[0], _mix32(lax.bitwise_xor(epoch.astype(jnp.uint32), words[1]))))
    offsets = np.arange(rounds, dtype=np.uint32) * np.uint32(_GOLDEN)
    return _mix32(lax.add(lax.broadcast_in_dim(epoch_key, epoch_key.shape + (rounds,), tuple(range(epoch_key.ndim))),
                          lax.broadcast_in_dim(offsets, epoch_key.shape + (rounds,), (epoch_key.ndim,))))


def _ranked_rows(words, epochs, n: int):
    """The row order of each epoch in ``epochs``, drawn exactly (int32, shape
    ``epochs.shape + (n,)``).

    Position ``i`` of epoch ``e`` gets row ``#{j : h(j) < h(i)}`` with
    ``h(i) = mix32(mix32(i ⊕ k₁) + k₂)`` and ``(k₁, k₂)`` the epoch's 64-bit key. For
    each key ``h`` is a bijection of uint32, so the ``n`` hashes never tie, and ranking
    ``n`` distinct draws makes every order of ``[0, n)`` equally likely. O(n) per row."""
    e = epochs.astype(jnp.uint32)
    k1 = _mix32(lax.bitwise_xor(words[0], _mix32(lax.bitwise_xor(e, words[1]))))
    k2 = _mix32(lax.bitwise_xor(words[1], _mix32(lax.add(k1, np.uint32(_GOLDEN)))))
    shape, batch = epochs.shape + (n,), tuple(range(epochs.ndim))
    i = lax.broadcasted_iota(jnp.uint32, shape, epochs.ndim)
    h = _mix32(lax.add(_mix32(lax.bitwise_xor(i, lax.broadcast_in_dim(k1, shape, batch))), lax.broadcast_in_dim(k2, shape, batch)))
    below = lax.lt(lax.expand_dims(h, (epochs.ndim,)), lax.expand_dims(h, (epochs.ndim + 1,)))
    return jnp.sum(below, axis=-1, dtype=jnp.int32)


@functools.lru_cache(maxsize=None)
def _radices(n: int) -> tuple:
    """``(a, b)``: the Feistel domain is ``[0, a·b)``, ``a·b ≥ n``.

    When ``n`` has a divisor ``a ≥ 16`` in ``[√n/2, √n]``, ``a·b = n`` exactly and nothing
    walks. Otherwise ``a = b = ⌈√n⌉`` and ``a·b − n < 2a``: a point walks with probability
    below ``2/√n``. (Unbalanced rounds with a radix below 16 mix pairs of rows visibly
    worse in chi-square tests, so small ``n`` always uses the square domain.)"""
    root = math.isqrt(n)
    for a in range(root, 15, -1):
        if 4 * a * a < n:
            break
        if n % a == 0:
            return a, n // a
    m = root if root * root == n else root + 1
    return m, m


def _feistel_rounds(n: int) -> int:
    """Feistel rounds for ``n`` rows: 6 when both radices are at least 64, 8 from 16, else 12.

    Over 10⁷ epochs a χ² test finds pairs of positions dependent after 6 rounds at radix
    17–32 (z = 43 at 17×17, 5.5 at 32×32), after 8 at radix 9–10 and 10 at radix 9, and
    none with these counts (nor with 6 at radix 50 or more)."""
    smaller = min(_radices(n))
    return 6 if smaller >= 64 else 8 if smaller >= 16 else 12


def _feistel(x, round_keys, radices):
    """A keyed bijection of ``[0, a·b)``: Feistel rounds on mixed-radix digits. With
    ``x = L·b + R`` (``L < a``, ``R < b``) a round maps ``(L, R) ↦ (R, (L + F_k(R)) mod a)``,
    ``F_k(R) = mix32(R ⊕ k)``, and the radices swap. ``round_keys`` holds one uint32 array
    (a scalar or of ``x``'s shape) per round."""
    a, b = radices
    left, right = lax.div(x, np.uint32(b)), lax.rem(x, np.uint32(b))
    for key in round_keys:
        mixed = lax.add(left, lax.rem(_mix32(lax.bitwise_xor(right, key)), np.uint32(a)))
        left, right = right, lax.select(lax.ge(mixed, np.uint32(a)), lax.sub(mixed, np.uint32(a)), mixed)
        a, b = b, a
    return lax.add(lax.mul(left, np.uint32(b)), right)


def _permute(positions, round_keys, n: int):
    """``π(positions)``, π the keyed bijection of ``[0, n)``: the Feistel bijection of
    ``[0, a·b)`` (:func:`_radices`), walked along its cycles until it lands in ``[0, n)``."""
    radices = _radices(n)
    encrypt = functools.partial(_feistel, round_keys=round_keys, radices=radices)
    rows = encrypt(positions.astype(jnp.uint32))
    if radices[0] * radices[1] == n:
        return rows.astype(jnp.int32)

    def walk(rows):
        return lax.select(lax.ge(rows, np.uint32(n)), encrypt(rows), rows)

    # A point walks with probability < 2/√n, twice with < 4/n: one step unconditionally
    # (fused with the first pass), then a loop that rarely runs.
    rows = jax.lax.while_loop(lambda rows: jnp.any(rows >= n), walk, walk(rows))
    return rows.astype(jnp.int32)


def _epoch_rows(words, epochs, n: int):
    """The row order of each epoch in ``epochs`` (int32, shape ``epochs.shape + (n,)``):
    ranked hashes up to ``EXACT_MAX_ROWS`` rows, else the Feistel bijection."""
    if n <= EXACT_MAX_ROWS:
        return _ranked_rows(words, epochs, n)
    shape = epochs.shape + (n,)
    keys = _round_keys(words, epochs, _feistel_rounds(n))
    round_keys = [lax.broadcast_in_dim(keys[..., r], shape, tuple(range(epochs.ndim))) for r in range(keys.shape[-1])]
    return _permute(lax.broadcasted_iota(jnp.uint32, shape, epochs.ndim), round_keys, n)


def _splitmix64(state: int) -> tuple:
    """One step of SplitMix64 (Steele, Lea & Flood 2014) on Python ints: (next state, output)."""
    mask = (1 << 64) - 1
    state = (state + 0x9E3779B97F4A7C15) & mask
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return state, z ^ (z >> 31)


def shuffle_words(seed) -> jax.Array:
    """The two uint32 words that key a run's batch order, derived from its seed.

    Computed on the host (SplitMix64 over the seed's 64-bit limbs), so deriving them
    compiles nothing."""
    return jax.device_put(host_shuffle_words(seed))


def host_shuffle_words(seed) -> np.ndarray:
    seed = int(seed)
    state = 0
    while True:  # absorb the seed 64 bits at a time (seeds are ints >= 0)
        state, _ = _splitmix64(state ^ (seed & ((1 << 64) - 1)))
        seed >>= 64
        if not seed:
            break
    _, z = _splitmix64(state)
    return np.array([z & 0xFFFFFFFF, z >> 32], dtype=np.uint32)


def epoch_permutation(seed: int, epoch: int, n: int) -> np.ndarray:
    """The row order of one epoch of a run with this ``seed`` (for tests and plots).

    It is the order the compiled loop visits: batches are consecutive slices of the
    epochs' orders concatenated. One compiled program per ``n``, so a call costs one
    epoch's draw and a dispatch.

    Args:
      seed: the run's seed, an int ``>= 0``.
      epoch: the epoch, an int in ``[0, 2**31)``.
      n: the number of rows, an int ``>= 1``.

    Returns:
      An int32 array of shape ``(n,)``, a permutation of ``[0, n)``.

    Example:
      >>> import numpy as np, jaxopt_hw as jh
      >>> sorted(jh.epoch_permutation(seed=0, epoch=3, n=10)) == list(range(10))
      True
    """
    seed = check_int("seed", seed, minimum=0)
    epoch = check_int("epoch", epoch, minimum=0, maximum=2**31 - 1)
    n = check_int("n", n, maximum=2**31 - 1)
    return np.asarray(_one_epoch_rows(host_shuffle_words(seed), np.int32(epoch), n))


# jitted with a static n so that a size compiles once, not on every call
@functools.partial(jax.jit, static_argnums=2)
def _one_epoch_rows(words, epoch, n: int):
    return _epoch_rows(words, epoch, n)


class Cursor(NamedTuple):
    """Where a run is in its stream of epochs: the epoch and the position within it."""

    epoch: jax.Array
    offset: jax.Array


def _stream_rows(cursor: Cursor, words, n: int, count: int):
    """The rows at the next ``count`` positions of the stream of epoch permutations
    (which may span several epochs) and the advanced cursor."""
    spanned = (n - 1 + count) // n + 1  # epochs the positions can touch (a static bound)
    epochs = lax.add(cursor.epoch, lax.iota(jnp.int32, spanned))
    if n <= EXACT_MAX_ROWS:  # whole epochs, flattened: position p of the stream is entry p
        rows = lax.dynamic_slice(_ranked_rows(words, epochs, n).reshape(-1), (cursor.offset,), (count,))
        return rows, _advance(cursor, count, n)
    positions = lax.add(cursor.offset, lax.iota(jnp.int32, count))
    epoch_keys = _round_keys(words, epochs, _feistel_rounds(n))
    if spanned == 2:  # count <= n: at most one epoch boundary; select each round's key
        wrapped = lax.ge(positions, np.int32(n))
        offsets = lax.select(wrapped, lax.sub(positions, np.int32(n)), positions)

        def per_position(key):
            return lax.broadcast_in_dim(key, (count,), ())

        round_keys = [lax.select(wrapped, per_position(epoch_keys[1, r]), per_position(epoch_keys[0, r])) for r in range(epoch_keys.shape[1])]
    else:
        offsets = positions % n
        round_keys = list(epoch_keys[positions // n].T)
    return _permute(offsets, round_keys, n), _advance(cursor, count, n)


def next_batch(data, cursor: Cursor, words, batch_size: Optional[int]):
    """The next minibatch ``(X_b, y_b)`` of ``data`` and the advanced cursor."""
    if batch_size is None:
        return data, cursor
    n = jax.tree.leaves(data)[0].shape[0]
    rows, cursor = _stream_rows(cursor, words, n, batch_size)
    return jax.tree.map(lambda a: a[rows], data), cursor


# --------------------------------------------------------------------------- one step


class ProblemFns(NamedTuple):
    """The static, hashable part of a problem that a compiled program closes over."""

    loss_fn: Callable
    full_loss_fn: Callable
    error_fn: Optional[Callable]
    batch_fn: Optional[Callable] = None
    loss_detects_nonfinite: bool = False
    measures_fn: Optional[Callable] = None
    parameter_sets_minor: bool = False
    loss_takes_batch: bool = False
    eval_fn: Optional[Callable] = None

    @classmethod
    def of(cls, problem: Problem) -> "ProblemFns":
        return cls(problem.loss_fn, problem.full_loss_fn, problem.error_fn, problem.batch_fn,
                   problem.loss_detects_nonfinite, problem.measures_fn, problem.parameter_sets_minor,
                   problem.loss_takes_batch, problem.eval_fn)

    def batch_values(self, params, batch):
        """The batch's loss, its gradient and its error (NaN without an ``error_fn``)."""
        if self.loss_takes_batch:
            loss, grads = jax.value_and_grad(self.loss_fn)(params, batch)
            return loss, grads, jnp.full((), jnp.nan, loss.dtype)
        X_b, y_b = batch["X"], batch["y"]
        if self.batch_fn is not None:
            return self.batch_fn(params, X_b, y_b)
        loss, grads = jax.value_and_grad(self.loss_fn)(params, X_b, y_b)
        error = self.error_fn(params, X_b, y_b) if self.error_fn is not None else jnp.full((), jnp.nan, loss.dtype)
        return loss, grads, error

    def evaluate(self, params, aux) -> tuple:
        """The held-out metrics' values in ``eval_names`` order (none without an ``eval_fn``)."""
        if self.eval_fn is None:
            return ()
        values = self.eval_fn(params, aux)
        return tuple(values[name] for name in sorted(values))


class RunState(NamedTuple):
    """What a run carries from step to step."""

    params: Params
    opt_state: Any
    diverged: jax.Array
    loss_bound: jax.Array
    #: the last parameters that passed the guard, for problems whose batch loss checks
    #: them (``ProblemFns.loss_detects_nonfinite``); ``None`` otherwise.
    last_good: Optional[Params] = None


def _all_finite(tree) -> jax.Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)]))


def initial_state(fns: ProblemFns, tx, params, aux, divergence_factor, check_by_loss: bool = False):
    """The state before the first step (the divergence bound is relative to the initial
    full loss) and that initial loss. With ``check_by_loss`` and a problem whose loss
    detects non-finite parameters, the guard checks them through the loss
    (:func:`train_step`): worth it for many configs of many parameters (a sweep), not
    for one run, where the extra carried parameters cost more than the check they save."""
    initial_loss = fns.full_loss_fn(params, aux)
    scale = jnp.maximum(initial_loss, jnp.finfo(initial_loss.dtype).tiny)
    state = RunState(
        params=params,
        opt_state=tx.init(params),
        diverged=jnp.zeros((), bool),
        loss_bound=jnp.asarray(divergence_factor, initial_loss.dtype) * scale,
        last_good=params if check_by_loss and fns.loss_detects_nonfinite else None,
    )
    return state, initial_loss


def train_step(fns: ProblemFns, tx, state: RunState, batch):
    r"""One optimizer step on one batch, :math:`w \leftarrow w + u(\nabla f_B(w))`, with the
    parameters frozen once the run has diverged (the optimizer state is not: nothing reads
    it after a divergence, and selecting it too would cost a pass over every moment).
    Returns the new state and the batch's error before the step.

    With ``state.last_good`` (a loss that checks the parameters), the step's batch loss
    checks the parameters it starts from: if finite they become ``last_good``, and the
    new parameters wait for the next step's check (read them through :func:`checked`);
    once diverged, the parameters stay at ``last_good``. (The batch error of the step
    whose loss finds non-finite parameters is non-finite: a run would not have taken them.)
    That replaces an is-finite pass and a reduction over the new parameters, and a select
    that waited for both, by two selects whose condition the loss gives: a sweep of 1 024
    configs × 100 parameters went from 311 to ≈ 270 ms per 1 000 steps.

    The step is :func:`proposed_step` followed by :func:`guarded`: a sweep runs the first
    for each config and the second for all of them at once."""
    proposed, passed, error = proposed_step(fns, tx, state, batch)
    return guarded(state, proposed, passed), error


def proposed_step(fns: ProblemFns, tx, state: RunState, batch):
    """:func:`train_step` without its freeze: the state with the stepped parameters,
    finite or not, and ``diverged`` already updated; whether the batch loss found
    ``state.params`` finite in a run that had not diverged (``passed``; ``None`` without
    ``state.last_good``); and the batch's error."""
    return proposed_update(tx, state, *fns.batch_values(state.params, batch))


def proposed_update(tx, state: RunState, loss, grads, error):
    """:func:`proposed_step` from the batch's ``loss``, ``grads`` and ``error`` at
    ``state.params`` (a sweep may compute those of all its configs at once,
    ``problems.sets_minor_form``)."""
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = apply_updates(state.params, updates)
    blew_up = ~jnp.isfinite(loss) | (loss > state.loss_bound)
    if state.last_good is not None:  # the loss checked state.params; the next one checks params
        passed = ~state.diverged & jnp.isfinite(loss)
        diverged = state.diverged | blew_up
    else:
        passed = None
        diverged = state.diverged | blew_up | ~_all_finite(params)
    return state._replace(params=params, opt_state=opt_state, diverged=diverged), passed, error


def select_params(flag, on_true: Params, on_false: Params) -> Params:
    """``jnp.where(flag, on_true, on_false)`` leaf by leaf, for one run's ``flag``."""
    return jax.tree.map(lambda a, b: jnp.where(flag, a, b), on_true, on_false)


def guarded(state: RunState, proposed: RunState, passed, select=select_params) -> RunState:
    """The state after a step from ``state``: ``proposed`` (:func:`proposed_step`) with
    its parameters frozen where it has diverged, at ``state.params`` or, with
    ``last_good``, at the last parameters that ``passed``.

    ``select(flag, on_true, on_false)`` picks between two parameter trees. A sweep
    passes one that spreads the flags of all its runs over the layout of their
    parameters: picked inside a ``vmap``, a flag of each config would make ``vmap``
    move the config axis of the parameters to the front, and those transposes of
    every parameter at every step XLA does not always remove."""
    if state.last_good is None:
        return proposed._replace(params=select(proposed.diverged, state.params, proposed.params))
    last_good = select(passed, state.params, state.last_good)
    return proposed._replace(params=select(proposed.diverged, last_good, proposed.params), last_good=last_good)


def passes_check(state: RunState) -> jax.Array:
    """Whether a run has not diverged and its parameters are finite."""
    return ~state.diverged & _all_finite(state.params)


def checked(state: RunState, passed=None, select=select_params) -> RunState:
    """The state as it is reported: for a state whose loss checks the parameters
    (:func:`train_step`), its latest parameters if they are finite and it has not
    diverged, else the last ones that passed (and then flagged ``diverged``).
    ``passed`` (:func:`passes_check`, computed if not given) and ``select`` (see
    :func:`guarded`) let a sweep check all its runs at once."""
    if state.last_good is None:
        return state
    passed = passes_check(state) if passed is None else passed
    return state._replace(params=select(passed, state.params, state.last_good), diverged=~passed)


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
    """Full-data loss, excess loss, distance to the optimum and full-gradient norm (from
    the problem's ``measures_fn`` when it has one, whose excess and distance are to its
    own optimum)."""
    if fns.measures_fn is not None:
        return measured_metrics(fns.measures_fn(params, aux), w_star, min_loss, batch_error)
    loss, grads = jax.value_and_grad(fns.full_loss_fn)(params, aux)
    dist_to_opt = None if w_star is None else _tree_norm(jax.tree.map(jnp.subtract, params, w_star))
    return measured_metrics((loss, _tree_norm(grads), dist_to_opt), w_star, min_loss, batch_error)


def measured_metrics(measured, w_star, min_loss, batch_error) -> Metrics:
    """:class:`Metrics` from a problem's measures, ``(loss, excess loss, gradient norm,
    distance)`` or ``(loss, gradient norm, distance)`` (the excess is then ``loss −
    min_loss``), of one run or of many (arrays of any shape, alike)."""
    if len(measured) == 3:
        (loss, grad_norm, dist_to_opt), excess_loss = measured, None
    else:
        loss, excess_loss, grad_norm, dist_to_opt = measured
    nan = jnp.full(jnp.shape(loss), jnp.nan, loss.dtype)
    if min_loss is None:
        excess_loss = nan
    elif excess_loss is None:
        excess_loss = loss - min_loss
    return Metrics(
        loss=loss,
        excess_loss=excess_loss,
        dist_to_opt=nan if dist_to_opt is None or w_star is None else dist_to_opt,
        grad_norm=grad_norm,
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


#: A run with minibatches draws the rows of about ``BLOCK_STEPS`` consecutive steps at once
#: (at most ``BLOCK_ROWS`` rows and ``BLOCK_BYTES`` bytes), then slices its batches off the
#: block. A block is drawn in pieces of about ``PIECE_ROWS`` rows, each written in place
#: into the block: small enough that XLA:CPU runs it on the calling thread rather than
#: splitting it over its thread pool, whose hand-offs cost more than these tiny kernels.
BLOCK_STEPS, BLOCK_ROWS, BLOCK_BYTES, PIECE_ROWS = 64, 4096, 8 << 20, 512


def _block_size(count: int, target: int) -> int:
    """A divisor of ``count`` in ``[target/2, target]`` if there is one, else ``target``
    (``count`` is then run as full blocks plus one shorter block)."""
    target = max(1, min(target, count))
    for size in range(target, (target + 1) // 2 - 1, -1):
        if count % size == 0:
            return size
    return target


def _advance(cursor: Cursor, count, n: int) -> Cursor:
    end = cursor.offset + count
    return Cursor(epoch=cursor.epoch + end // n, offset=end % n)


def fetch_block(data, cursor: Cursor, words, batch_size: int, steps: int):
    """The batches of the next ``steps`` steps stacked on a leading axis (the batches
    :func:`next_batch` would give one by one) and the advanced cursor."""
    n = jax.tree.leaves(data)[0].shape[0]
    piece = max(1, PIECE_ROWS // batch_size)  # steps per piece; the last may overshoot
    pieces = -(-steps // piece)

    def draw(cursor, _):
        rows, cursor = _stream_rows(cursor, words, n, piece * batch_size)
        return cursor, jax.tree.map(lambda a: a[rows].reshape((piece, batch_size) + a.shape[1:]), data)

    _, batches = jax.lax.scan(draw, cursor, None, length=pieces)
    batches = jax.tree.map(lambda a: a.reshape((pieces * piece,) + a.shape[2:])[:steps], batches)
    return batches, _advance(cursor, steps * batch_size, n)


def run_single(fns, tx, data, aux, w_star, min_loss, params, words, divergence_factor, *, steps, batch_size, log_every, record_params):
    """The traceable body of :func:`run`; returns ``(logs, final state, initial loss,
    trajectory or None)``.

    With minibatches, the rows of a block of consecutive steps are drawn and gathered at
    once (:func:`fetch_block`); the batches are those :func:`next_batch` gives."""
    state, initial_loss = initial_state(fns, tx, params, aux, divergence_factor)
    cursor = Cursor(epoch=jnp.zeros((), jnp.int32), offset=jnp.zeros((), jnp.int32))

    def log(state, batch_error):
        # the metrics stacked into one vector: one in-place write per log, not five
        metrics = measure(fns, state.params, aux, w_star, min_loss, batch_error)
        held_out = [jnp.asarray(value, metrics.loss.dtype) for value in fns.evaluate(state.params, aux)]
        return jnp.stack([*metrics, *held_out])

    record = (lambda state: state.params) if record_params else (lambda state: None)

    def unstack(logs):
        columns = jnp.moveaxis(logs, -1, 0)
        return Metrics(*columns[:len(Metrics._fields)]), tuple(columns[len(Metrics._fields):])

    if batch_size is None:
        def step(carry):
            state, cursor = carry
            batch, cursor = next_batch(data, cursor, words, batch_size)
            state, error = train_step(fns, tx, state, batch)
            return (state, cursor), error

        (state, _), logs, trajectory = simulate(
            step, lambda carry, e: log(carry[0], e), (state, cursor), steps, log_every,
            (lambda carry: carry[0].params) if record_params else None,
        )
        return unstack(logs), state, initial_loss, trajectory

    def train_on(state, batches):
        return summed_scan(lambda s, b: train_step(fns, tx, s, b), state, batches, jnp.zeros((), initial_loss.dtype))

    state, logs, trajectory = simulate_blocks(
        lambda cursor, size: fetch_block(data, cursor, words, batch_size, size),
        train_on, log, record, state, cursor,
        steps=steps, log_every=log_every, target=block_target(data, batch_size),
    )
    return unstack(logs), state, initial_loss, trajectory if record_params else None


def block_target(data, batch_size: int, copies: int = 1) -> int:
    """Steps per block: ``BLOCK_STEPS``, fewer when ``copies`` blocks of that many
    batches would pass ``BLOCK_ROWS`` rows or ``BLOCK_BYTES`` bytes."""
    row_bytes = copies * sum(leaf.dtype.itemsize * math.prod(leaf.shape[1:]) for leaf in jax.tree.leaves(data))
    return max(1, min(BLOCK_STEPS, BLOCK_ROWS // (copies * batch_size), BLOCK_BYTES // max(1, batch_size * row_bytes)))


def _repeat(body, carry, count: int, size: int):
    """``body(carry, size)`` over ``count // size`` blocks, then the remainder block; the
    outputs concatenated along their leading (step) axis."""
    full, rest = divmod(count, size)
    carry, out = jax.lax.scan(lambda c, _: body(c, size), carry, None, length=full)
    out = jax.tree.map(lambda a: a.reshape((-1,) + a.shape[2:]), out)
    if rest:
        carry, tail = body(carry, rest)
        out = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), out, tail)
    return carry, out


#: Steps of the innermost scan per loop iteration. On an H200 unrolling 4 or 16 steps
#: took a 1 024-config sweep that logs only its end from 18.4 to 15.6 / 15.4 ms (d = 5)
#: and 23.0 to 19.8 / 17.5 ms (d = 100), and changed nothing for one logging every step
#: (``benchmarks/gpu_unroll.py``). On the 2-core AMD EPYC of docs/benchmarks.md the same
#: script's d = 100 sweep got slower (256 → 268 ms at 2, 339 ms at 4): left at 1.
_SCAN_UNROLL = 1


def summed_scan(step, state, batches, zero):
    """``step: (state, batch) -> (state, value)`` over the batches (stacked on a leading
    axis); returns the final state and the sum of the values, started from ``zero``.

    The sum is carried, not stacked: a stacked value costs a write per step and, over a
    long log interval, a buffer of every step's value (4 MB per 1 000 steps of a
    1 024-config sweep) to fill and reduce."""

    def body(carry, batch):
        state, total = carry
        state, value = step(state, batch)
        return (state, total + value), None

    (state, total), _ = jax.lax.scan(body, (state, zero), batches, unroll=_SCAN_UNROLL)
    return state, total


def simulate_blocks(fetch, train_on, log, record, state, cursor, *, steps: int, log_every: int, target: int):
    """Minibatch training with the batches of about ``target`` consecutive steps fetched at
    once: the block-wise counterpart of :func:`simulate`.

    Args:
      fetch: ``(cursor, count) -> (batches stacked on a leading step axis, cursor)``.
      train_on: ``(state, batches) -> (state, sum of the batch errors)`` (see
        :func:`summed_scan`).
      log: ``(state, mean batch error since the last log) -> logged values``.
      record: ``state -> recorded values`` (or ``None``), after each log.
      state, cursor: the initial state and batch cursor.
      steps, log_every: as in :func:`run`; ``target``: steps per block.

    Returns:
      The final state, the stacked logs and the stacked records."""
    if log_every >= target:  # one or more blocks between logs
        def train_block(carry, size):
            state, cursor = carry
            batches, cursor = fetch(cursor, size)
            state, error_sum = train_on(state, batches)
            return (state, cursor), error_sum[None]

        def chunk(carry, _):
            carry, error_sums = _repeat(train_block, carry, log_every, _block_size(log_every, target))
            return carry, (log(carry[0], jnp.sum(error_sums, axis=0) / log_every), record(carry[0]))

        (state, _), (logs, records) = jax.lax.scan(chunk, (state, cursor), None, length=steps // log_every)
        return state, logs, records

    def logged_block(carry, chunks):  # several logs per block
        state, cursor = carry
        batches, cursor = fetch(cursor, chunks * log_every)
        batches = jax.tree.map(lambda a: a.reshape((chunks, log_every) + a.shape[1:]), batches)

        def chunk(state, chunk_batches):
            state, error_sum = train_on(state, chunk_batches)
            return state, (log(state, error_sum / log_every), record(state))

        state, out = jax.lax.scan(chunk, state, batches)
        return (state, cursor), out

    n_logs = steps // log_every
    (state, _), (logs, records) = _repeat(logged_block, (state, cursor), n_logs, _block_size(n_logs, target // log_every))
    return state, logs, records


def _run_body(data, aux, w_star, min_loss, params, words, divergence_factor, hyperparameters, *, fns, tx, recipe, steps, batch_size, log_every, record_params):
    """:func:`run_single` with the trajectory starting at the initial point; with a
    ``recipe`` ``(factory, static arguments)``, ``tx`` is ``factory`` applied to those and
    the traced ``hyperparameters`` (see :func:`traced_hyperparameters`)."""
    if recipe is not None:
        factory, static_arguments = recipe
        tx = factory(**dict(static_arguments), **hyperparameters)
    logs, state, initial_loss, trajectory = run_single(
        fns, tx, data, aux, w_star, min_loss, params, words, divergence_factor,
        steps=steps, batch_size=batch_size, log_every=log_every, record_params=record_params,
    )
    if record_params:
        trajectory = jax.tree.map(lambda p0, ps: jnp.concatenate([p0[None], ps]), params, trajectory)
    # only what a Trace holds: each output buffer costs the call a few microseconds
    return logs, state.params, state.diverged, initial_loss, trajectory


_RUN_STATIC = ("fns", "tx", "recipe", "steps", "batch_size", "log_every", "record_params")
#: On CPU, XLA's legacy fusion emitters compile this small program ~40% faster and run it
#: as fast, and LLVM's code generation split over two threads (two modules) takes
#: ~0.03 s less than with the default split (see docs/benchmarks.md). Options the
#: installed XLA refuses are left out (:mod:`jaxopt_hw._compile`).
_RUN_CPU_OPTIONS = (("xla_cpu_use_fusion_emitters", False), ("xla_cpu_parallel_codegen_split_count", 2))


def run_program(platform: str):
    """The jitted :func:`run` body for ``platform`` (``"cpu"``, ``"gpu"``, …)."""
    return jit_with_options(_run_body, _RUN_STATIC, platform, platform_options(platform, _RUN_CPU_OPTIONS))


def traced_hyperparameters(optimizer, dtype) -> tuple:
    """``(recipe, hyperparameters)``: how a program rebuilds ``optimizer`` with its float
    hyperparameters as traced arguments, so that runs differing only in their values
    (``jh.adam(0.01)``, ``jh.adam(0.02)``, …) share one compiled program. ``(None, {})``
    when that cannot be done (a transformation not built by :mod:`jaxopt_hw.optimizers`,
    no float hyperparameter, an unhashable one, or a half-precision problem, whose dtype
    would round them): the program then takes ``optimizer`` itself as its compile key.

    ``recipe`` is ``(factory, static arguments as sorted (name, value) pairs)``; the
    hyperparameters are scalars of ``dtype``, as a sweep passes them."""
    recipe = recipe_of(optimizer)
    if recipe is None or np.dtype(dtype).itemsize < 4:  # float16/bfloat16 cannot hold β2 = 0.999
        return None, {}
    hyperparameters = {
        name: np.asarray(value, dtype) for name, value in recipe.arguments.items() if isinstance(value, (float, np.floating))
    }
    static_arguments = tuple(sorted((name, value) for name, value in recipe.arguments.items() if name not in hyperparameters))
    try:
        hash(static_arguments)
    except TypeError:
        return None, {}
    return ((recipe.factory, static_arguments), hyperparameters) if hyperparameters else (None, {})


# --------------------------------------------------------------------------- validation


#: Epochs of training between a user problem's logs by default (see :func:`default_log_every`).
LOG_EPOCHS = 4


def default_log_every(problem: Problem, steps, batch_size) -> int:
    """Steps between logs when none is asked for: 1, or for a problem whose loss takes
    batches (:func:`jaxopt_hw.problem`) the smallest divisor of ``steps`` of at least
    :data:`LOG_EPOCHS` epochs' steps: each log is a pass over the data (the loss and its
    gradient), about an epoch of training's cost, so the training dominates.

    Example:
      >>> import numpy as np, jaxopt_hw as jh
      >>> prob = jh.problem(lambda w, b: ((b @ w) ** 2).mean(), np.ones((100, 2)), np.zeros(2))
      >>> default_log_every(prob, steps=1000, batch_size=10)
      40
    """
    if not getattr(problem, "loss_takes_batch", False) or type(steps) is not int or steps < 1:
        return 1  # a bad problem or steps is reported by check_run_args
    whole = type(batch_size) is not int or batch_size < 1  # the full batch, or a bad size reported later
    epoch = 1 if whole else -(-problem.n // batch_size)
    small = [k for k in range(1, math.isqrt(steps) + 1) if steps % k == 0]
    return min(k for k in small + [steps // k for k in small] if k >= min(LOG_EPOCHS * epoch, steps))


def check_int(name: str, value, minimum: int = 1, maximum: Optional[int] = None) -> int:
    """``value`` as an int in ``[minimum, maximum]``, or a ValueError/TypeError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and <= {maximum}" if maximum is not None else ""
        raise ValueError(f"{name} must be >= {minimum}{upper}, got {value}")
    return int(value)


def check_number(name: str, value, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (≥ 0 with ``allow_zero``), or a ValueError/TypeError
    naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not (math.isfinite(value) and (value >= 0 if allow_zero else value > 0)):
        raise ValueError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {value!r}")
    return float(value)


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
    check_number("divergence_factor", divergence_factor)
    return steps, batch_size, log_every


def check_init(problem: Problem, init):
    """``init`` as arrays, checked against the structure and shapes of the problem's own
    initial point (on the host: nothing is compiled before the checks pass)."""
    reference = problem.initial_params(0)

    def host(value):
        array = np.asarray(value)
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_) or np.iscomplexobj(array):
            raise TypeError(f"init must hold real numbers, got dtype {array.dtype}")
        return array

    try:  # a single-array problem also takes a list or tuple of numbers
        if jax.tree_util.treedef_is_leaf(jax.tree.structure(reference)):
            leaves = host(init)
        else:
            leaves = jax.tree.map(host, init)
    except (TypeError, ValueError) as error:
        raise TypeError(f"init must be a pytree of arrays, got {type(init).__name__}: {error}") from error
    if jax.tree.structure(leaves) != jax.tree.structure(reference):
        raise TypeError(f"init must have the structure {jax.tree.structure(reference)}, got {jax.tree.structure(leaves)}")
    for got, want in zip(jax.tree.leaves(leaves), jax.tree.leaves(reference)):
        if got.shape != want.shape:
            raise ValueError(f"init has a leaf of shape {got.shape} where {want.shape} is expected")
    with np.errstate(over="ignore"):  # a value past the problem's dtype becomes inf, refused below
        cast = [got.astype(want.dtype) for got, want in zip(jax.tree.leaves(leaves), jax.tree.leaves(reference))]
    if not all(np.all(np.isfinite(leaf)) for leaf in cast):
        raise ValueError(f"init contains NaN or inf (or values beyond {jax.tree.leaves(reference)[0].dtype})")
    return jax.tree.unflatten(jax.tree.structure(reference), [jnp.asarray(leaf) for leaf in cast])


def _check_seed(seed) -> int:
    # the documented range of a seed (see run's docstring)
    return check_int("seed", seed, minimum=0, maximum=2**32 - 1)


def problem_optimum(problem: Problem):
    # a host scalar: no eager device op per call
    min_loss = None if problem.min_loss is None else np.asarray(problem.min_loss, np.dtype(problem.dtype))
    return problem.w_star, min_loss


class Trace(NamedTuple):
    """What :func:`run` returns. Logged arrays have one entry per logged step.

    Attributes:
      loss: full-data loss after each logged step, shape ``(steps // log_every,)``.
      excess_loss: ``loss − min_loss`` (NaN when the optimum is unknown); least squares
        computes it in closed form, ``‖Cᵀ(w − w*)‖²``, exact below float32's rounding of
        ``min_loss``.
      dist_to_opt: ``‖w − w*‖`` (NaN when the optimum is unknown).
      grad_norm: norm of the full-data gradient.
      batch_error: the problem's error (``error_fn``: mean absolute error for
        regression, misclassification rate for classifiers) of the batches since the
        previous log, each measured before its step (NaN for problems without one).
      params: the trajectory, initial point first, shape ``(steps // log_every + 1, …)``,
        when ``record_params=True``; else ``None``.
      final_params: the parameters after the last step (or the frozen ones).
      initial_loss: full-data loss at the initial point.
      diverged: whether the run was frozen by the divergence guard.
      steps: the step numbers that were logged, ``log_every, 2·log_every, …, steps``.
      metrics: ``{name: values at the logged steps}`` of the problem's held-out metrics
        (its ``eval_fn``); empty without one.
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
    metrics: dict = {}


def run(
    problem: Problem,
    optimizer: optax.GradientTransformation,
    steps: int,
    batch_size: Optional[int] = None,
    seed: int = 0,
    init: Optional[Params] = None,
    log_every: Optional[int] = None,
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
      seed: keys the initial point and the batch order (int in ``[0, 2**32)``).
      init: initial parameters (default: ``problem.init_params(seed)``).
      log_every: log the metrics every this many steps (default: every step, or for a
        :func:`jaxopt_hw.problem`, whose full loss is a pass over the data, every few
        epochs: :func:`default_log_every`).
      record_params: also return the trajectory of parameters.
      divergence_factor: a run is frozen and flagged once its batch loss exceeds this
        multiple of its initial loss (or becomes non-finite).

    Returns:
      A :class:`Trace`.

    Example:
      >>> import jaxopt_hw as jh
      >>> prob = jh.linear_regression(500, 2, seed=0)
      >>> trace = jh.run(prob, jh.adam(0.03), steps=1000, batch_size=32, seed=0)
      >>> bool(trace.excess_loss[-1] < 0.1)
      True
    """
    if optimizer is None:
        raise TypeError("optimizer must be an optax GradientTransformation, got None")
    log_every = default_log_every(problem, steps, batch_size) if log_every is None else log_every
    steps, batch_size, log_every = check_run_args(problem, optimizer, steps, batch_size, log_every, divergence_factor)
    seed = _check_seed(seed)
    if not isinstance(record_params, (bool, np.bool_)):
        raise TypeError(f"record_params must be True or False, got {type(record_params).__name__}")
    record_params = bool(record_params)
    # the initial point is drawn on the host: the first call compiles one program only
    params = problem.initial_params(seed) if init is None else check_init(problem, init)
    words = host_shuffle_words(seed)
    w_star, min_loss = problem_optimum(problem)
    platform = problem.platform
    recipe, hyperparameters = traced_hyperparameters(optimizer, problem.dtype)
    (logs, held_out), final_params, diverged, initial_loss, trajectory = with_accepted_options(platform, lambda: run_program(platform)(
        problem.data, problem.aux, w_star, min_loss, params, words, divergence_factor,
        hyperparameters, fns=ProblemFns.of(problem), tx=None if recipe else optimizer, recipe=recipe, steps=steps, batch_size=batch_size,
        log_every=log_every, record_params=record_params,
    ))
    return Trace(
        **logs._asdict(),
        params=trajectory,
        final_params=final_params,
        initial_loss=initial_loss,
        diverged=diverged,
        steps=np.arange(log_every, steps + 1, log_every),
        metrics=dict(zip(problem.eval_names, held_out)),
    )
