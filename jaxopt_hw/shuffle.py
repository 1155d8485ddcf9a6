"""The batch order: a sort-free shuffle, a fresh permutation of the rows every epoch.
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
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxopt_hw.checks import check_int

#: Epochs of at most this many rows are drawn exactly (:func:`_ranked_rows`, O(n) per row):
#: up to here that costs about what a cycle-walking Feistel draw does.
EXACT_MAX_ROWS = 64


_GOLDEN = 0x9E3779B9


def _mix32(x):
    """MurmurHash3's 32-bit finalizer: an avalanche bijection of uint32."""
    x = lax.bitwise_xor(x, lax.shift_right_logical(x, np.uint32(16)))
    x = lax.mul(x, np.uint32(0x85EBCA6B))
    x = lax.bitwise_xor(x, lax.shift_right_logical(x, np.uint32(13)))
    x = lax.mul(x, np.uint32(0xC2B2AE35))
    return lax.bitwise_xor(x, lax.shift_right_logical(x, np.uint32(16)))


def _round_keys(words, epoch, rounds: int):
    """``rounds`` uint32 round keys for each entry of ``epoch`` (shape (..., rounds))."""
    epoch_key = _mix32(
        lax.bitwise_xor(words[0], _mix32(lax.bitwise_xor(epoch.astype(jnp.uint32), words[1])))
    )
    offsets = np.arange(rounds, dtype=np.uint32) * np.uint32(_GOLDEN)
    return _mix32(
        lax.add(
            lax.broadcast_in_dim(
                epoch_key, epoch_key.shape + (rounds,), tuple(range(epoch_key.ndim))
            ),
            lax.broadcast_in_dim(offsets, epoch_key.shape + (rounds,), (epoch_key.ndim,)),
        )
    )


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
    h = _mix32(
        lax.add(
            _mix32(lax.bitwise_xor(i, lax.broadcast_in_dim(k1, shape, batch))),
            lax.broadcast_in_dim(k2, shape, batch),
        )
    )
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
        left, right = (
            right,
            lax.select(lax.ge(mixed, np.uint32(a)), lax.sub(mixed, np.uint32(a)), mixed),
        )
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
    round_keys = [
        lax.broadcast_in_dim(keys[..., r], shape, tuple(range(epochs.ndim)))
        for r in range(keys.shape[-1])
    ]
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
        rows = lax.dynamic_slice(
            _ranked_rows(words, epochs, n).reshape(-1), (cursor.offset,), (count,)
        )
        return rows, _advance(cursor, count, n)
    positions = lax.add(cursor.offset, lax.iota(jnp.int32, count))
    epoch_keys = _round_keys(words, epochs, _feistel_rounds(n))
    if spanned == 2:  # count <= n: at most one epoch boundary; select each round's key
        wrapped = lax.ge(positions, np.int32(n))
        offsets = lax.select(wrapped, lax.sub(positions, np.int32(n)), positions)

        def per_position(key):
            return lax.broadcast_in_dim(key, (count,), ())

        round_keys = [
            lax.select(wrapped, per_position(epoch_keys[1, r]), per_position(epoch_keys[0, r]))
            for r in range(epoch_keys.shape[1])
        ]
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


#: A run with minibatches draws the rows of about ``BLOCK_STEPS`` consecutive steps at once
#: (at most ``BLOCK_ROWS`` rows and ``BLOCK_BYTES`` bytes), then slices its batches off the
#: block. A block is drawn in pieces of about ``PIECE_ROWS`` rows, each written in place
#: into the block: small enough that XLA:CPU runs it on the calling thread rather than
#: splitting it over its thread pool, whose hand-offs cost more than these tiny kernels.
BLOCK_STEPS, BLOCK_ROWS, BLOCK_BYTES, PIECE_ROWS = 64, 4096, 8 << 20, 512


def block_size(count: int, target: int) -> int:
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
        return cursor, jax.tree.map(
            lambda a: a[rows].reshape((piece, batch_size) + a.shape[1:]), data
        )

    _, batches = jax.lax.scan(draw, cursor, None, length=pieces)
    batches = jax.tree.map(lambda a: a.reshape((pieces * piece,) + a.shape[2:])[:steps], batches)
    return batches, _advance(cursor, steps * batch_size, n)


def block_target(data, batch_size: int, copies: int = 1) -> int:
    """Steps per block: ``BLOCK_STEPS``, fewer when ``copies`` blocks of that many
    batches would pass ``BLOCK_ROWS`` rows or ``BLOCK_BYTES`` bytes."""
    row_bytes = copies * sum(
        leaf.dtype.itemsize * math.prod(leaf.shape[1:]) for leaf in jax.tree.leaves(data)
    )
    return max(
        1,
        min(
            BLOCK_STEPS,
            BLOCK_ROWS // (copies * batch_size),
            BLOCK_BYTES // max(1, batch_size * row_bytes),
        ),
    )
