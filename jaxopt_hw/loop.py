"""One training run as one compiled program: ``jit`` of nested ``lax.scan``.

The batch order is :mod:`jaxopt_hw.shuffle`'s, the step, the guard and the logged metrics
:mod:`jaxopt_hw.step`'s, the argument checks :mod:`jaxopt_hw.checks`'.
"""

from __future__ import annotations

import collections
import functools
import weakref
from typing import Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxopt_hw._compile import jit_with_options, platform_options, with_accepted_options
from jaxopt_hw.checks import check_init, check_run_args, check_seed, default_log_every
from jaxopt_hw.optimizers import recipe_of
from jaxopt_hw.problems import Problem
from jaxopt_hw.problems.core import check_flag
from jaxopt_hw.shuffle import Cursor, block_target, fetch_block, host_shuffle_words, next_batch
from jaxopt_hw.step import (
    Metrics,
    Params,
    ProblemFns,
    initial_state,
    measure,
    simulate,
    simulate_blocks,
    summed_scan,
    train_step,
)

__all__ = ["run", "Trace", "epoch_permutation", "prepared_run", "PreparedRun"]

from jaxopt_hw.shuffle import epoch_permutation, shuffle_words  # noqa: E402,F401


def run_single(
    fns,
    tx,
    data,
    aux,
    w_star,
    min_loss,
    params,
    words,
    divergence_factor,
    *,
    steps,
    batch_size,
    log_every,
    record_params,
):
    """The traceable body of :func:`run`; returns ``(logs, final state, initial loss,
    trajectory or None)``.

    With minibatches, the rows of a block of consecutive steps are drawn and gathered at
    once (:func:`fetch_block`); the batches are those :func:`next_batch` gives."""
    state, initial_loss = initial_state(fns, tx, params, aux, divergence_factor)
    cursor = Cursor(epoch=jnp.zeros((), jnp.int32), offset=jnp.zeros((), jnp.int32))

    def log(state, batch_error):
        # the metrics stacked into one vector: one in-place write per log, not five
        metrics = measure(fns, state.params, aux, w_star, min_loss, batch_error)
        held_out = [
            jnp.asarray(value, metrics.loss.dtype) for value in fns.evaluate(state.params, aux)
        ]
        return jnp.stack([*metrics, *held_out])

    record = (lambda state: state.params) if record_params else (lambda state: None)

    def unstack(logs):
        columns = jnp.moveaxis(logs, -1, 0)
        return Metrics(*columns[: len(Metrics._fields)]), tuple(columns[len(Metrics._fields) :])

    if batch_size is None:

        def step(carry):
            state, cursor = carry
            batch, cursor = next_batch(data, cursor, words, batch_size)
            state, error = train_step(fns, tx, state, batch)
            return (state, cursor), error

        (state, _), logs, trajectory = simulate(
            step,
            lambda carry, e: log(carry[0], e),
            (state, cursor),
            steps,
            log_every,
            (lambda carry: carry[0].params) if record_params else None,
        )
        return unstack(logs), state, initial_loss, trajectory

    def train_on(state, batches):
        return summed_scan(
            lambda s, b: train_step(fns, tx, s, b),
            state,
            batches,
            jnp.zeros((), initial_loss.dtype),
        )

    state, logs, trajectory = simulate_blocks(
        lambda cursor, size: fetch_block(data, cursor, words, batch_size, size),
        train_on,
        log,
        record,
        state,
        cursor,
        steps=steps,
        log_every=log_every,
        target=block_target(data, batch_size),
    )
    return unstack(logs), state, initial_loss, trajectory if record_params else None


def _run_body(
    data,
    aux,
    w_star,
    min_loss,
    params,
    words,
    divergence_factor,
    hyperparameters,
    *,
    fns,
    tx,
    recipe,
    steps,
    batch_size,
    log_every,
    record_params,
):
    """:func:`run_single` with the trajectory starting at the initial point; with a
    ``recipe`` ``(factory, static arguments)``, ``tx`` is ``factory`` applied to those and
    the traced ``hyperparameters`` (see :func:`traced_hyperparameters`)."""
    if recipe is not None:
        factory, static_arguments = recipe
        tx = factory(**dict(static_arguments), **hyperparameters)
    logs, state, initial_loss, trajectory = run_single(
        fns,
        tx,
        data,
        aux,
        w_star,
        min_loss,
        params,
        words,
        divergence_factor,
        steps=steps,
        batch_size=batch_size,
        log_every=log_every,
        record_params=record_params,
    )
    if record_params:
        trajectory = jax.tree.map(
            lambda p0, ps: jnp.concatenate([p0[None], ps]), params, trajectory
        )
    # only what a Trace holds: each output buffer costs the call a few microseconds
    return logs, state.params, state.diverged, initial_loss, trajectory


_RUN_STATIC = ("fns", "tx", "recipe", "steps", "batch_size", "log_every", "record_params")


#: On CPU, XLA's legacy fusion emitters compile this small program ~40% faster and run it
#: as fast, and LLVM's code generation split over two threads (two modules) takes
#: ~0.03 s less than with the default split (see docs/benchmarks.md). Options the
#: installed XLA refuses are left out (:mod:`jaxopt_hw._compile`).
_RUN_CPU_OPTIONS = (
    ("xla_cpu_use_fusion_emitters", False),
    ("xla_cpu_parallel_codegen_split_count", 2),
)


def run_program(platform: str):
    """The jitted :func:`run` body for ``platform`` (``"cpu"``, ``"gpu"``, …)."""
    return jit_with_options(
        _run_body, _RUN_STATIC, platform, platform_options(platform, _RUN_CPU_OPTIONS)
    )


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
        name: np.asarray(value, dtype)
        for name, value in recipe.arguments.items()
        if isinstance(value, (float, np.floating))
    }
    static_arguments = tuple(
        sorted(
            (name, value) for name, value in recipe.arguments.items() if name not in hyperparameters
        )
    )
    try:
        hash(static_arguments)
    except TypeError:
        return None, {}
    return ((recipe.factory, static_arguments), hyperparameters) if hyperparameters else (None, {})


def problem_optimum(problem: Problem):
    # a host scalar: no eager device op per call
    min_loss = (
        None if problem.min_loss is None else np.asarray(problem.min_loss, np.dtype(problem.dtype))
    )
    return problem.w_star, min_loss


#: Initial points of up to this many bytes are kept on the device per seed: a repeated run
#: then transfers nothing and draws nothing; larger ones are drawn and placed per call.
KEPT_START_BYTES = 1 << 20

#: Seeds whose starts are kept per problem, and optimizers whose hyperparameters are kept.
_KEPT_SEEDS = 16
_KEPT_OPTIMIZERS = 32


class _Placed:
    """What runs of one problem read on the device besides its data, kept while the
    problem lives: its optimum and, per seed, the initial point and batch-order words."""

    def __init__(self, problem: Problem):
        w_star, min_loss = problem_optimum(problem)
        self.optimum = (w_star, None if min_loss is None else jax.device_put(min_loss))
        self.starts = collections.OrderedDict()
        reference = problem.initial_params(0)
        self.keeps_starts = sum(np.asarray(a).nbytes for a in jax.tree.leaves(reference)) <= (
            KEPT_START_BYTES
        )

    def start(self, problem: Problem, seed: int):
        """``(initial point, shuffle words)`` of ``seed``, on the device when small."""
        if seed in self.starts:
            self.starts.move_to_end(seed)
            return self.starts[seed]
        start = (problem.initial_params(seed), host_shuffle_words(seed))
        if self.keeps_starts:
            self.starts[seed] = start = jax.device_put(start)
            while len(self.starts) > _KEPT_SEEDS:
                self.starts.popitem(last=False)
        return start


_PLACED: "weakref.WeakKeyDictionary[Problem, _Placed]" = weakref.WeakKeyDictionary()
_OPTIMIZERS: collections.OrderedDict = collections.OrderedDict()


def placed(problem: Problem) -> _Placed:
    """The device inputs kept for ``problem`` (made on its first run)."""
    kept = _PLACED.get(problem)
    if kept is None:
        kept = _PLACED[problem] = _Placed(problem)
    return kept


def placed_hyperparameters(optimizer, dtype) -> tuple:
    """:func:`traced_hyperparameters` with the values on the device, kept per optimizer
    object (it is immutable): a repeated run transfers none of them."""
    key = (id(optimizer), np.dtype(dtype))
    entry = _OPTIMIZERS.get(key)
    if entry is None or entry[0] is not optimizer:  # a new object at a reused id
        recipe, hyperparameters = traced_hyperparameters(optimizer, dtype)
        entry = _OPTIMIZERS[key] = (optimizer, recipe, jax.device_put(hyperparameters))
        while len(_OPTIMIZERS) > _KEPT_OPTIMIZERS:
            _OPTIMIZERS.popitem(last=False)
    else:
        _OPTIMIZERS.move_to_end(key)
    return entry[1], entry[2]


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
    prepared = prepared_run(
        problem,
        optimizer,
        steps,
        batch_size,
        seed,
        init,
        log_every,
        record_params,
        divergence_factor,
    )
    return _trace(prepared.program(), problem.eval_names, prepared.steps, prepared.log_every)


class PreparedRun(NamedTuple):
    """A run checked and placed: ``program()`` runs it and returns its raw outputs."""

    program: Callable[[], tuple]
    steps: int
    log_every: int


def prepared_run(
    problem: Problem,
    optimizer: optax.GradientTransformation,
    steps: int,
    batch_size: Optional[int] = None,
    seed: int = 0,
    init: Optional[Params] = None,
    log_every: Optional[int] = None,
    record_params: bool = False,
    divergence_factor: float = 1e6,
) -> PreparedRun:
    """What :func:`run` does before its compiled program: checks and placed arguments.

    Takes :func:`run`'s arguments. Timing ``program()`` apart from :func:`run` tells the
    program's own time from the host work of a call (``benchmarks/bench_user_model.py``).
    """
    steps, batch_size, log_every, record_params = _checked_run_args(
        problem, optimizer, steps, batch_size, log_every, record_params, divergence_factor
    )
    seed = check_seed(seed)
    kept = placed(problem)
    # the initial point is drawn on the host: the first call compiles one program only
    params, words = kept.start(problem, seed)
    if init is not None:
        params = check_init(problem, init)
    recipe, hyperparameters = placed_hyperparameters(optimizer, problem.dtype)
    platform = problem.platform
    program = functools.partial(
        run_program(platform),
        problem.data,
        problem.aux,
        *kept.optimum,
        params,
        words,
        _device_scalar(float(divergence_factor)),
        hyperparameters,
        fns=ProblemFns.of(problem),
        tx=None if recipe else optimizer,
        recipe=recipe,
        steps=steps,
        batch_size=batch_size,
        log_every=log_every,
        record_params=record_params,
    )
    return PreparedRun(lambda: with_accepted_options(platform, program), steps, log_every)


def _checked_run_args(
    problem, optimizer, steps, batch_size, log_every, record_params, divergence_factor
) -> tuple:
    """``(steps, batch_size, log_every, record_params)`` of :func:`run`, checked."""
    if optimizer is None:
        raise TypeError("optimizer must be an optax GradientTransformation, got None")
    log_every = default_log_every(problem, steps, batch_size) if log_every is None else log_every
    steps, batch_size, log_every = check_run_args(
        problem, optimizer, steps, batch_size, log_every, divergence_factor
    )
    return steps, batch_size, log_every, check_flag("record_params", record_params)


@functools.lru_cache(maxsize=16)
def _device_scalar(value: float):
    # placed once per value, as jit would place the Python float at every call
    return jax.device_put(value)


def _trace(outputs, eval_names: tuple, steps: int, log_every: int) -> Trace:
    """The :class:`Trace` of a run program's ``outputs``."""
    (logs, held_out), final_params, diverged, initial_loss, trajectory = outputs
    return Trace(
        *logs,
        params=trajectory,
        final_params=final_params,
        initial_loss=initial_loss,
        diverged=diverged,
        steps=np.arange(log_every, steps + 1, log_every),
        metrics=dict(zip(eval_names, held_out)),
    )
