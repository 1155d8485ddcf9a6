"""The compiled training loop: batches, equivalence with plain loops, shuffling statistics,
determinism, compilation reuse, validation and divergence."""

import itertools
import logging
import math
from contextlib import contextmanager

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import stats

import jaxopt_hw as jh
from jaxopt_hw import loop as loop_lib
from jaxopt_hw import shuffle as shuffle_lib

# --------------------------------------------------------------------------- helpers


def stream(seed, n, length):
    """The documented batch stream: the concatenated epoch permutations of a run."""
    epochs = math.ceil(length / n)
    return np.concatenate([jh.epoch_permutation(seed, e, n) for e in range(epochs)])[:length]


def reference_loop(prob, tx, steps, batch_size, seed, record_every=1):
    """A plain Python loop over the documented batches with the same optimizer: per-step
    full loss, batch error before each step and the parameters every ``record_every``."""
    X, y = prob.X, prob.y

    @jax.jit
    def step(params, opt_state, rows):
        Xb, yb = X[rows], y[rows]
        grads = jax.grad(prob.loss)(params, Xb, yb)
        updates, opt_state = tx.update(grads, opt_state, params)
        error = prob.error_fn(params, {"X": Xb, "y": yb})
        params = jh.apply_updates(params, updates)
        return params, opt_state, prob.loss(params), error

    rows = stream(seed, prob.n, steps * batch_size).reshape(steps, batch_size)
    params = prob.init_params(seed)
    opt_state = tx.init(params)
    losses, errors, trajectory = [], [], [params]
    for t in range(steps):
        params, opt_state, loss, error = step(params, opt_state, jnp.asarray(rows[t]))
        losses.append(float(loss))
        errors.append(float(error))
        if (t + 1) % record_every == 0:
            trajectory.append(params)
    return np.array(losses), np.array(errors), np.stack(trajectory), params


@contextmanager
def compile_log():
    """Collects the names of the programs XLA compiles inside the block."""
    compiled = []

    class Handler(logging.Handler):
        def emit(self, record):
            message = record.getMessage()
            if message.startswith("Compiling "):
                compiled.append(message.split()[1])

    handler = Handler(level=logging.DEBUG)
    logger = logging.getLogger("jax")
    logger.addHandler(handler)
    try:
        with jax.log_compiles(True):
            yield compiled
    finally:
        logger.removeHandler(handler)


def chi_square(counts, expected):
    counts = np.asarray(counts, dtype=np.float64)
    return float(np.sum((counts - expected) ** 2 / expected))


def chi_square_sf(x, df):
    """P(χ²_df > x) by the series of the regularized lower incomplete gamma function."""
    a, z = df / 2.0, x / 2.0
    term = total = 1.0 / a
    k = 0
    while term > 1e-16 * total:
        k += 1
        term *= z / (a + k)
        total += term
    return 1.0 - math.exp(-z + a * math.log(z) - math.lgamma(a)) * total


#: χ² critical values at p = 0.001 (standard tables), checked against chi_square_sf below.
CHI2_CRIT_001 = {7: 24.322, 19: 43.820, 24: 51.179}


def epoch_rows(seeds, epochs, n, positions=None, rounds=None):
    """The rows at ``positions`` (all by default) of each epoch in ``epochs`` of each seed,
    shape ``(len(seeds) * len(epochs), len(positions))``, seed-major, in one vectorised
    call: the loop's order or, with ``rounds``, the Feistel network of that many rounds
    at any ``n`` (the shuffle before issue 20: 6 rounds)."""
    words = jnp.asarray(np.stack([shuffle_lib.host_shuffle_words(s) for s in seeds]))
    epochs = jnp.asarray(list(epochs), dtype=jnp.int32)
    positions = np.arange(n) if positions is None else np.asarray(positions)

    def one(w):
        if rounds is None and n <= shuffle_lib.EXACT_MAX_ROWS:
            return shuffle_lib._epoch_rows(w, epochs, n)[:, positions]
        keys = shuffle_lib._round_keys(w, epochs, rounds or shuffle_lib._feistel_rounds(n))
        shape = (epochs.shape[0], len(positions))
        round_keys = [jnp.broadcast_to(keys[:, r, None], shape) for r in range(keys.shape[1])]
        return shuffle_lib._permute(
            jnp.broadcast_to(jnp.asarray(positions, jnp.uint32), shape), round_keys, n
        )

    return np.asarray(jax.jit(jax.vmap(one))(words)).reshape(-1, len(positions))


def permutations_for_seeds(seeds, epoch, n):
    """``epoch_permutation`` for many seeds at once."""
    return epoch_rows(seeds, [epoch], n)


def order_counts(perms):
    """How often each of the ``n!`` orders occurs among the rows of ``perms``."""
    n = perms.shape[1]
    codes = perms @ n ** np.arange(n)
    every = np.sort(np.array(list(itertools.permutations(range(n)))) @ n ** np.arange(n))
    index = np.searchsorted(every, codes)
    assert np.all(every[index] == codes)  # each row is a permutation
    return np.bincount(index, minlength=len(every))


def pair_chi_square_p(rows_x, rows_y, n):
    """p-value of a χ² test that the high digits ``row // ⌈√n⌉`` (the Feistel network's
    digit) of two positions' rows are those of a uniform ordered pair of distinct rows."""
    m = math.isqrt(n - 1) + 1
    k = (n - 1) // m + 1
    sizes = np.bincount(np.arange(n) // m, minlength=k)
    counts = np.bincount(rows_x // m * k + rows_y // m, minlength=k * k).reshape(k, k)
    expected = (np.outer(sizes, sizes) - np.diag(sizes)) * (len(rows_x) / (n * (n - 1)))
    cells = expected > 0
    return stats.chisquare(counts[cells], expected[cells]).pvalue


@pytest.fixture(scope="module")
def small():
    return jh.linear_regression(100, 3, seed=0)


# --------------------------------------------------------------------------- the batch stream


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 10, 100, 255, 272, 500, 1001])
def test_epoch_permutation_is_a_permutation(n):
    for epoch in (0, 1, 5):
        perm = jh.epoch_permutation(seed=3, epoch=epoch, n=n)
        assert perm.dtype == np.int32
        np.testing.assert_array_equal(np.sort(perm), np.arange(n))


def test_epoch_permutation_validates_its_arguments():
    with pytest.raises(ValueError, match="seed"):
        jh.epoch_permutation(-1, 0, 10)
    with pytest.raises(ValueError, match="epoch"):
        jh.epoch_permutation(0, -1, 10)
    with pytest.raises(ValueError, match=r"\bn\b"):
        jh.epoch_permutation(0, 0, 0)


@pytest.mark.parametrize("n, batch_size", [(100, 32), (10, 7), (50, 50), (9, 1), (5, 3), (300, 64)])
def test_next_batch_follows_the_stream_and_covers_each_epoch(n, batch_size):
    """Per-step batches (the sweep's ``next_batch``) and the run's blocks are both the
    consecutive slices of the concatenated epoch permutations, so every epoch visits every
    row exactly once even when ``n`` is not a multiple of ``batch_size``."""
    data = {"X": jnp.arange(n, dtype=jnp.float32)[:, None], "y": jnp.arange(n, dtype=jnp.float32)}
    words = loop_lib.shuffle_words(11)
    cursor = loop_lib.Cursor(epoch=jnp.zeros((), jnp.int32), offset=jnp.zeros((), jnp.int32))
    steps = 3 * n // batch_size + 2
    next_batch = jax.jit(loop_lib.next_batch, static_argnums=3)
    rows = []
    for _ in range(steps):
        batch, cursor = next_batch(data, cursor, words, batch_size)
        assert batch["X"].shape == (batch_size, 1)
        np.testing.assert_array_equal(batch["X"][:, 0], batch["y"])
        rows.append(np.asarray(batch["y"], dtype=np.int64))
    rows = np.concatenate(rows)
    np.testing.assert_array_equal(rows, stream(11, n, steps * batch_size))
    for e in range(len(rows) // n):
        np.testing.assert_array_equal(np.sort(rows[e * n : (e + 1) * n]), np.arange(n))
    assert int(cursor.epoch) * n + int(cursor.offset) == steps * batch_size
    blocks, block_cursor = loop_lib.fetch_block(
        data, loop_lib.Cursor(jnp.int32(0), jnp.int32(0)), words, batch_size, steps
    )
    np.testing.assert_array_equal(np.asarray(blocks["y"], dtype=np.int64).reshape(-1), rows)
    assert (int(block_cursor.epoch), int(block_cursor.offset)) == (
        int(cursor.epoch),
        int(cursor.offset),
    )


def test_chi_square_helpers():
    for df, critical in CHI2_CRIT_001.items():
        assert chi_square_sf(critical, df) == pytest.approx(0.001, rel=0.01)
    assert chi_square_sf(7.0, 7) == pytest.approx(0.4289, abs=1e-3)


def test_position_of_a_row_is_uniform_across_seeds():
    """χ² test (df = n − 1, p = 0.001) that a given row lands in every position equally
    often over 4000 seeds; the same statistic rejects a bad shuffle."""
    n, seeds = 8, range(4000)
    perms = permutations_for_seeds(seeds, epoch=0, n=n)
    for s in (0, 1, 3999):  # the vectorised form is the public function
        np.testing.assert_array_equal(perms[s], jh.epoch_permutation(s, 0, n))
    expected = len(seeds) / n
    critical = CHI2_CRIT_001[n - 1]
    for row in range(n):
        positions = np.argmax(perms == row, axis=1)
        assert chi_square(np.bincount(positions, minlength=n), expected) < critical, row

    # the test has teeth: the identity, and a shuffle that never puts row 0 last, fail it
    identity = np.tile(np.arange(n), (len(seeds), 1))
    assert (
        chi_square(np.bincount(np.argmax(identity == 0, axis=1), minlength=n), expected) > critical
    )
    rotations = np.array([np.roll(np.arange(n), s % (n - 1)) for s in seeds])
    assert (
        chi_square(np.bincount(np.argmax(rotations == 0, axis=1), minlength=n), expected) > critical
    )


def test_adjacent_pairs_and_consecutive_epochs_are_uniform():
    n, seeds = 5, range(4000)
    epoch0 = permutations_for_seeds(seeds, epoch=0, n=n)
    epoch1 = permutations_for_seeds(seeds, epoch=1, n=n)
    # the ordered pair of the first two rows of an epoch: n(n−1) = 20 cells, df = 19
    pairs = epoch0[:, 0] * n + epoch0[:, 1]
    counts = np.bincount(pairs, minlength=n * n)[
        [a * n + b for a in range(n) for b in range(n) if a != b]
    ]
    assert chi_square(counts, len(seeds) / (n * (n - 1))) < CHI2_CRIT_001[19]
    # the first row of epoch 0 and of epoch 1 are independent: n² = 25 cells, df = 24
    joint = np.bincount(epoch0[:, 0] * n + epoch1[:, 0], minlength=n * n)
    assert chi_square(joint, len(seeds) / n**2) < CHI2_CRIT_001[24]
    # a shuffle that repeated itself every epoch would fail that test
    repeated = np.bincount(epoch0[:, 0] * n + epoch0[:, 0], minlength=n * n)
    assert chi_square(repeated, len(seeds) / n**2) > CHI2_CRIT_001[24]
    # epochs differ (identical with probability 1/n! only)
    big0, big1 = permutations_for_seeds(range(200), 0, 8), permutations_for_seeds(range(200), 1, 8)
    assert np.mean(np.all(big0 == big1, axis=1)) < 0.01
    assert len({tuple(p) for p in big0}) > 190  # seeds give different orders


@pytest.mark.parametrize("n", [4, 5, 6])
def test_every_order_of_an_epoch_is_equally_likely(n):
    """χ² over all n! orders of 200 000 epochs (200 seeds × 1 000 epochs, ~280 per order
    at n = 6); the 6-round Feistel network that drew them before fails it."""
    seeds, epochs = range(200), range(1000)
    perms = epoch_rows(seeds, epochs, n)
    for s, e in [(0, 0), (7, 999), (199, 3)]:  # the vectorised form is the public function
        np.testing.assert_array_equal(perms[s * len(epochs) + e], jh.epoch_permutation(s, e, n))
    assert stats.chisquare(order_counts(perms)).pvalue > 1e-4
    assert stats.chisquare(order_counts(epoch_rows(seeds, epochs, n, rounds=6))).pvalue < 1e-12


@pytest.mark.parametrize(
    "n, pairs, seeds",
    [
        (16, [(0, 8), (0, 1), (1, 5)], 100),  # drawn exactly
        (65, [(0, 9), (1, 64), (0, 32)], 200),  # Feistel, radix 9, 12 rounds, cycle-walking
        (257, [(0, 17), (1, 256), (0, 1)], 500),  # Feistel, radix 17, 8 rounds, cycle-walking
    ],
)
def test_pairs_of_positions_are_independent(n, pairs, seeds):
    """The rows at two positions of an epoch (pairs sharing a Feistel digit among them)
    form a uniform ordered pair over ``seeds`` × 1 000 epochs; with 6 rounds, the shuffle
    before issue 20, some pair fails decisively (at n = 257 it takes 500 000 epochs)."""
    seeds, epochs = range(seeds), range(1000)
    flat = sorted({x for pair in pairs for x in pair})
    rows = epoch_rows(seeds, epochs, n, flat)
    for s, e in [(0, 0), (seeds[-1], 999)]:
        np.testing.assert_array_equal(
            rows[s * len(epochs) + e], jh.epoch_permutation(s, e, n)[flat]
        )
    old = epoch_rows(seeds, epochs, n, flat, rounds=6)
    p_new = [pair_chi_square_p(rows[:, flat.index(x)], rows[:, flat.index(y)], n) for x, y in pairs]
    p_old = [pair_chi_square_p(old[:, flat.index(x)], old[:, flat.index(y)], n) for x, y in pairs]
    assert min(p_new) > 1e-4, p_new
    assert min(p_old) < 1e-6, p_old


# --------------------------------------------------------------------------- equivalence with plain loops


def test_gd_with_step_one_over_l_converges_to_w_star_in_float64():
    with jax.enable_x64(True):
        prob = jh.linear_regression(500, 3, seed=1, dtype=jnp.float64)
        trace = jh.run(prob, jh.sgd(1.0 / prob.L), steps=2000, log_every=10)
        w, w_star = np.asarray(trace.final_params), np.asarray(prob.w_star)
        assert np.linalg.norm(w - w_star) <= 1e-6 * np.linalg.norm(w_star)
        assert trace.excess_loss[-1] <= 1e-10 * prob.min_loss
        assert np.all(np.diff(np.asarray(trace.loss)) <= 1e-12)  # GD at 1/L is monotone
        assert not bool(trace.diverged)


@pytest.mark.parametrize("steps", [300, 299])
def test_trace_equals_a_plain_python_loop_over_the_same_batches(small, steps):
    """n = 100, batch 32: batches straddle epochs; 299 steps also run the remainder block."""
    tx = jh.adam(0.05)
    trace = jh.run(small, tx, steps=steps, batch_size=32, seed=4, record_params=True)
    losses, errors, trajectory, final = reference_loop(small, tx, steps, 32, seed=4)
    np.testing.assert_allclose(np.asarray(trace.loss), losses, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(trace.batch_error), errors, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(trace.params), trajectory, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        np.asarray(trace.final_params), np.asarray(final), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        np.asarray(trace.excess_loss), losses - small.min_loss, rtol=1e-4, atol=1e-6
    )
    np.testing.assert_allclose(
        float(trace.initial_loss), float(small.loss(small.init_params(4))), rtol=1e-6
    )


@pytest.mark.parametrize("log_every", [100, 67])
def test_long_log_intervals_follow_the_same_batches(small, log_every):
    """Logs more than a block apart (blocks between logs, with a remainder for 67)."""
    tx = jh.momentum(0.005)
    steps = 2 * log_every
    trace = jh.run(
        small, tx, steps=steps, batch_size=32, seed=2, log_every=log_every, record_params=True
    )
    losses, errors, trajectory, _ = reference_loop(
        small, tx, steps, 32, seed=2, record_every=log_every
    )
    np.testing.assert_allclose(
        np.asarray(trace.loss), losses[log_every - 1 :: log_every], rtol=1e-5
    )
    np.testing.assert_allclose(
        np.asarray(trace.batch_error), errors.reshape(-1, log_every).mean(axis=1), rtol=1e-5
    )
    np.testing.assert_allclose(np.asarray(trace.params), trajectory, rtol=1e-5, atol=1e-6)


def test_full_batch_is_plain_gradient_descent(small):
    lr, steps = 0.2 / small.L, 50
    trace = jh.run(small, jh.sgd(lr), steps=steps, batch_size=None, seed=3, record_params=True)
    w = np.asarray(small.init_params(3), np.float64)
    X, y = np.asarray(small.X, np.float64), np.asarray(small.y, np.float64)
    expected = [w]
    for _ in range(steps):
        w = w - lr * 2 * X.T @ (X @ w - y) / len(y)
        expected.append(w)
    np.testing.assert_allclose(np.asarray(trace.params), np.array(expected), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        np.asarray(trace.loss), [np.mean((X @ v - y) ** 2) for v in expected[1:]], rtol=1e-4
    )
    # full batch: the batch error is the full-data mean absolute error before each step
    np.testing.assert_allclose(
        np.asarray(trace.batch_error),
        [np.mean(np.abs(X @ v - y)) for v in expected[:-1]],
        rtol=1e-4,
    )


def test_record_params_trajectory(small):
    init = jnp.asarray([1.0, -1.0, 0.5])
    trace = jh.run(
        small, jh.sgd(1e-3), steps=40, batch_size=10, init=init, record_params=True, log_every=4
    )
    assert trace.params.shape == (40 // 4 + 1, 3)
    np.testing.assert_array_equal(np.asarray(trace.params[0]), np.asarray(init))
    np.testing.assert_array_equal(np.asarray(trace.params[-1]), np.asarray(trace.final_params))
    no_record = jh.run(small, jh.sgd(1e-3), steps=40, batch_size=10, init=init, log_every=4)
    assert no_record.params is None
    np.testing.assert_allclose(np.asarray(no_record.loss), np.asarray(trace.loss), rtol=1e-6)


def test_log_every_subsamples_the_every_step_trace(small):
    tx = jh.rmsprop(0.01)
    every = jh.run(small, tx, steps=200, batch_size=16, seed=5, record_params=True)
    tenth = jh.run(small, tx, steps=200, batch_size=16, seed=5, record_params=True, log_every=10)
    assert tenth.loss.shape == (20,)
    np.testing.assert_array_equal(tenth.steps, np.arange(10, 201, 10))
    np.testing.assert_array_equal(every.steps, np.arange(1, 201))
    for name in ("loss", "excess_loss", "dist_to_opt", "grad_norm"):
        np.testing.assert_allclose(
            np.asarray(getattr(tenth, name)),
            np.asarray(getattr(every, name))[9::10],
            rtol=1e-5,
            err_msg=name,
        )
    np.testing.assert_allclose(
        np.asarray(tenth.batch_error),
        np.asarray(every.batch_error).reshape(20, 10).mean(axis=1),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        np.asarray(tenth.params), np.asarray(every.params)[::10], rtol=1e-5, atol=1e-7
    )


def test_logged_metrics_are_consistent(small):
    trace = jh.run(small, jh.adam(0.05), steps=100, batch_size=20, seed=1, record_params=True)
    params = np.asarray(trace.params[1:], np.float64)
    w_star = np.asarray(small.w_star, np.float64)
    np.testing.assert_allclose(
        np.asarray(trace.dist_to_opt), np.linalg.norm(params - w_star, axis=1), rtol=1e-4, atol=1e-6
    )
    X, y = np.asarray(small.X, np.float64), np.asarray(small.y, np.float64)
    grads = 2 * (params @ X.T - y) @ X / len(y)
    np.testing.assert_allclose(
        np.asarray(trace.grad_norm), np.linalg.norm(grads, axis=1), rtol=1e-3, atol=1e-4
    )
    assert np.all(np.asarray(trace.excess_loss) >= -1e-4)


# --------------------------------------------------------------------------- determinism and compilation


def test_same_seed_is_bitwise_identical_other_seed_differs(small):
    tx = jh.adam(0.05)
    a = jh.run(small, tx, steps=120, batch_size=32, seed=9, record_params=True)
    b = jh.run(small, tx, steps=120, batch_size=32, seed=9, record_params=True)
    c = jh.run(small, tx, steps=120, batch_size=32, seed=10, record_params=True)
    for name in (
        "loss",
        "excess_loss",
        "dist_to_opt",
        "grad_norm",
        "batch_error",
        "params",
        "final_params",
    ):
        np.testing.assert_array_equal(
            np.asarray(getattr(a, name)), np.asarray(getattr(b, name)), err_msg=name
        )
    assert not np.array_equal(np.asarray(a.loss), np.asarray(c.loss))
    assert not np.array_equal(np.asarray(a.params[0]), np.asarray(c.params[0]))
    # the same initial point with another seed still changes the batch order
    d = jh.run(small, tx, steps=120, batch_size=32, seed=10, init=a.params[0])
    assert not np.array_equal(np.asarray(a.loss), np.asarray(d.loss))


def test_compiler_options_the_installed_xla_refuses_are_left_out():
    from jaxopt_hw._compile import accepts, jit_with_options, with_accepted_options

    bogus = (("xla_cpu_no_such_option", True),)
    double = lambda x: 2 * x  # noqa: E731
    x = jax.device_put(np.float32(3), jax.local_devices(backend="cpu")[0])
    with pytest.raises(
        Exception, match="INVALID_ARGUMENT"
    ):  # what a refused option does to a compile
        jax.jit(double, compiler_options=dict(bogus))(x)
    assert not accepts("cpu", *bogus[0])
    with pytest.raises(Exception, match="INVALID_ARGUMENT"):  # options are passed until refused
        jit_with_options(double, (), "cpu", bogus)(x)
    assert (
        float(with_accepted_options("cpu", lambda: jit_with_options(double, (), "cpu", bogus)(x)))
        == 6.0
    )
    assert jit_with_options(double, (), "cpu", bogus) is jit_with_options(
        double, (), "cpu", ()
    )  # left out


def test_compile_module_docstring_examples():
    import doctest

    from jaxopt_hw import _compile

    results = doctest.testmod(_compile, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert results.attempted >= 2 and results.failed == 0


def test_the_cpu_options_we_pass_are_known_to_this_xla():
    from jaxopt_hw._compile import accepts

    options = set(loop_lib._RUN_CPU_OPTIONS)
    if tuple(int(part) for part in jax.__version__.split(".")[:2]) >= (0, 11):
        options.discard(("xla_cpu_use_fusion_emitters", False))  # gone from jax 0.11's XLA:CPU
    for option in sorted(options):
        assert accepts("cpu", *option), option  # a misspelt name or value would be dropped silently


def test_second_call_and_same_shape_problem_reuse_the_compiled_program():
    prob = jh.linear_regression(300, 4, seed=0)
    tx = jh.adam(0.01)
    options = dict(steps=50, batch_size=16, seed=0, log_every=5)
    with compile_log() as compiled:
        jh.run(prob, tx, **options)
    assert any("_run_body" in name for name in compiled), compiled
    with compile_log() as compiled:
        first = jh.run(prob, tx, **options)
    assert compiled == []
    other = jh.linear_regression(300, 4, seed=1)  # other data, same shapes
    with compile_log() as compiled:
        second = jh.run(other, tx, **options)
        jh.run(other, tx, **{**options, "seed": 3})
    assert compiled == []
    assert not np.array_equal(np.asarray(first.loss), np.asarray(second.loss))
    # new static options do compile (they are part of the program)
    with compile_log() as compiled:
        jh.run(prob, tx, **{**options, "steps": 60})
    assert any("_run_body" in name for name in compiled)


def _without_recipe(tx):
    """``tx`` as a transformation the loop cannot rebuild: the object is the compile key."""
    return optax.GradientTransformation(
        tx.init, lambda grads, state, params=None: tx.update(grads, state, params)
    )


def test_our_optimizers_differing_in_float_hyperparameters_share_one_program():
    prob = jh.linear_regression(301, 4, seed=0)
    options = dict(steps=50, batch_size=16, seed=0, log_every=5)
    jh.run(prob, jh.adam(0.01, b1=0.8), **options)
    with compile_log() as compiled:
        traces = {lr: jh.run(prob, jh.adam(lr, b1=0.8), **options) for lr in (0.02, 0.05)}
    assert compiled == []
    for lr, trace in traces.items():  # each trains with its own values
        assert np.array_equal(
            trace.loss, jh.run(prob, _without_recipe(jh.adam(lr, b1=0.8)), **options).loss
        )
    assert not np.array_equal(traces[0.02].loss, traces[0.05].loss)
    # options that are not floats are part of the program
    with compile_log() as compiled:
        jh.run(prob, jh.heavy_ball(0.01, nesterov=True), **options)
        jh.run(prob, jh.heavy_ball(0.02, nesterov=False), **options)
        jh.run(prob, jh.heavy_ball(0.03, nesterov=True), **options)
    assert sum("_run_body" in name for name in compiled) == 2, compiled


@pytest.mark.parametrize(
    "make",
    [
        lambda: jh.sgd(0.05),
        lambda: jh.momentum(0.05, beta=0.8),
        lambda: jh.heavy_ball(0.01, beta=0.8, nesterov=True),
        lambda: jh.rmsprop(0.01, decay=0.8, eps_in_sqrt=False),
        lambda: jh.adam(jh.cosine_decay(0.05, 200), b1=0.8),
        lambda: jh.adamw(0.01, weight_decay=0.1),
        lambda: jh.amsgrad(0.01),
        lambda: jh.adagrad(0.1),
    ],
    ids=[
        "sgd",
        "momentum",
        "nesterov",
        "rmsprop-eps-outside",
        "adam-schedule",
        "adamw",
        "amsgrad",
        "adagrad",
    ],
)
def test_a_rebuilt_optimizer_trains_bitwise_as_the_object_itself(small, make):
    rebuilt = jh.run(small, make(), steps=200, batch_size=16, seed=1)
    as_key = jh.run(small, _without_recipe(make()), steps=200, batch_size=16, seed=1)
    for field in ("loss", "grad_norm", "batch_error", "final_params"):
        assert np.array_equal(getattr(rebuilt, field), getattr(as_key, field)), field


def test_only_our_factories_leave_a_recipe():
    from jaxopt_hw.optimizers import recipe_of

    recipe = recipe_of(jh.heavy_ball(0.1, nesterov=True))
    assert recipe.factory is jh.heavy_ball
    assert recipe.arguments == {"learning_rate": 0.1, "beta": 0.9, "nesterov": True}
    assert recipe_of(optax.adam(0.1)) is None
    assert recipe_of(optax.chain(jh.adam(0.1))) is None
    recipe_arguments, hyperparameters = loop_lib.traced_hyperparameters(
        jh.adam(0.1, b1=0.5), np.float32
    )
    assert set(hyperparameters) == {"learning_rate", "b1", "b2", "eps", "eps_root"}
    assert loop_lib.traced_hyperparameters(jh.adam(jnp.float32(0.1)), np.float32) == (
        None,
        {},
    )  # unhashable
    tx = jh.adam(0.1)
    assert (
        recipe_of(optax.GradientTransformation(lambda params: tx.init(params), tx.update)) is None
    )  # another init
    for half in (jnp.float16, jnp.bfloat16):  # would round β2 = 0.999 to 1
        assert loop_lib.traced_hyperparameters(tx, half) == (None, {})


def test_half_precision_runs_keep_their_hyperparameters_exact():
    prob = jh.linear_regression(200, 4, seed=0, dtype=jnp.bfloat16)
    trace = jh.run(prob, jh.rmsprop(0.01, decay=0.999), steps=50)
    assert not bool(trace.diverged) and float(trace.loss[-1]) < float(trace.loss[0])


# --------------------------------------------------------------------------- validation


def _bad_run_arguments(prob):
    tx = jh.sgd(0.01)
    base = dict(problem=prob, optimizer=tx, steps=10)
    return [
        ({**base, "steps": 0}, "steps"),
        ({**base, "steps": -3}, "steps"),
        ({**base, "steps": 2.0}, "steps"),
        ({**base, "steps": True}, "steps"),
        ({**base, "batch_size": 0}, "batch_size"),
        ({**base, "batch_size": -1}, "batch_size"),
        ({**base, "batch_size": prob.n + 1}, "batch_size"),
        ({**base, "batch_size": 4.0}, "batch_size"),
        ({**base, "log_every": 0}, "log_every"),
        ({**base, "log_every": 3}, "log_every"),  # 10 steps are not a multiple of 3
        ({**base, "log_every": 20}, "log_every"),
        ({**base, "seed": -1}, "seed"),
        ({**base, "seed": 0.5}, "seed"),
        ({**base, "init": np.zeros(4)}, "init"),
        ({**base, "init": {"w": np.zeros(3)}}, "init"),
        ({**base, "init": [0.0, float("nan"), 0.0]}, "init"),
        ({**base, "init": "zeros"}, "init"),
        (
            {**base, "init": [1e300, 0.0, 0.0]},
            "init",
        ),  # finite in float64, inf in the problem's float32
        ({**base, "init": np.array([1j, 0.0, 0.0])}, "init"),
        ({**base, "record_params": 1}, "record_params"),
        ({**base, "divergence_factor": -1.0}, "divergence_factor"),
        ({**base, "problem": {"X": prob.X, "y": prob.y}}, "problem"),
        ({**base, "problem": None}, "problem"),
        ({**base, "optimizer": None}, "optimizer"),
        ({**base, "optimizer": "adam"}, "optimizer"),
        ({**base, "optimizer": jh.adam}, "optimizer"),  # the factory, not an optimizer
    ]


def test_bad_arguments_raise_before_compiling_naming_the_argument(small):
    cases = _bad_run_arguments(small)
    with compile_log() as compiled:
        for kwargs, name in cases:
            with pytest.raises((TypeError, ValueError), match=rf"\b{name}\b"):
                jh.run(**kwargs)
    assert compiled == []


def test_record_params_takes_numpy_booleans(small):
    trace = jh.run(small, jh.sgd(1e-3), steps=4, batch_size=10, record_params=np.bool_(True))
    assert trace.params.shape == (5, 3)


def test_optax_optimizers_and_chains_work(small):
    trace = jh.run(
        small,
        optax.chain(optax.clip_by_global_norm(10.0), optax.adam(0.05)),
        steps=200,
        batch_size=32,
    )
    assert float(trace.excess_loss[-1]) < 0.1 * float(trace.excess_loss[0])


# --------------------------------------------------------------------------- divergence


def test_divergence_freezes_and_flags(small):
    bad = jh.run(small, jh.sgd(10.0 / small.L), steps=100, batch_size=32, record_params=True)
    assert bool(bad.diverged)
    assert all(np.all(np.isfinite(np.asarray(leaf))) for leaf in jax.tree.leaves(bad.final_params))
    assert np.all(np.isfinite(np.asarray(bad.params)))
    # frozen: the parameters stop changing once the guard trips
    assert np.array_equal(np.asarray(bad.params[-1]), np.asarray(bad.params[-10]))
    assert np.all(np.isfinite(np.asarray(bad.loss)))
    good = jh.run(small, jh.sgd(0.1 / small.L), steps=100, batch_size=32)
    assert not bool(good.diverged)
    assert float(good.loss[-1]) < float(good.initial_loss)


def test_divergence_to_nan_is_caught():
    prob = jh.homework_problem("small")
    trace = jh.run(prob, jh.sgd(1e30), steps=30, batch_size=8, divergence_factor=1e30)
    assert bool(trace.diverged)
    assert np.all(np.isfinite(np.asarray(trace.final_params)))


# --------------------------------------------------------------------------- other problems


def test_mlp_regression_with_nested_dict_params():
    prob = jh.mlp_regression(200, 3, hidden=8, seed=1)
    trace = jh.run(
        prob, jh.adam(0.01), steps=300, batch_size=20, seed=1, record_params=True, log_every=30
    )
    assert jax.tree.structure(trace.final_params) == jax.tree.structure(prob.init_params(0))
    assert trace.params["hidden"]["w"].shape == (11, 3, 8) and trace.params["out"]["b"].shape == (
        11,
    )
    assert float(trace.loss[-1]) < 0.7 * float(trace.initial_loss)
    assert np.all(np.isnan(np.asarray(trace.excess_loss))) and np.all(
        np.isnan(np.asarray(trace.dist_to_opt))
    )
    assert np.all(np.isnan(np.asarray(trace.batch_error)))  # no error_fn for this problem
    assert not bool(trace.diverged)


def test_logistic_regression_minibatch():
    prob = jh.logistic_regression(500, 4, seed=2)
    trace = jh.run(prob, jh.adam(0.05), steps=500, batch_size=50, log_every=50)
    assert np.all(np.asarray(trace.excess_loss) >= -1e-5)
    assert float(trace.excess_loss[-1]) < 0.02
    assert float(trace.dist_to_opt[-1]) < float(trace.dist_to_opt[0])


def test_rosenbrock_full_batch():
    prob = jh.rosenbrock()
    trace = jh.run(
        prob, jh.adam(0.02), steps=3000, batch_size=None, log_every=100, record_params=True
    )
    np.testing.assert_allclose(np.asarray(trace.params[0]), [-1.2, 1.0], rtol=1e-6)
    assert float(trace.loss[-1]) < 1e-3
    assert float(trace.dist_to_opt[-1]) < 0.05
    with pytest.raises(ValueError, match="batch_size"):
        jh.run(prob, jh.adam(0.02), steps=10, batch_size=2)


def test_a_prepared_runs_program_returns_what_run_turns_into_its_trace():
    from jaxopt_hw.loop import prepared_run

    prob = jh.linear_regression(200, 3, seed=0)
    tx = jh.adam(0.05)
    trace = jh.run(prob, tx, steps=40, batch_size=8, seed=3, log_every=10)
    prepared = prepared_run(prob, tx, 40, 8, seed=3, log_every=10)
    (logs, _), final_params, diverged, _, _ = prepared.program()
    assert (prepared.steps, prepared.log_every) == (40, 10)
    np.testing.assert_array_equal(np.asarray(final_params), np.asarray(trace.final_params))
    np.testing.assert_array_equal(np.asarray(logs.loss), np.asarray(trace.loss))
    assert bool(diverged) == bool(trace.diverged)
