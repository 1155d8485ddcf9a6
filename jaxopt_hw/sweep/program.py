"""The compiled sweep program: the traced body, the choice of its state's layout, sharding
over devices."""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxopt_hw._compile import jit_with_options, platform_options
from jaxopt_hw.problems import GENERIC_FORMS, Problem, sets_minor_form
from jaxopt_hw.shuffle import Cursor, block_target, fetch_block
from jaxopt_hw.step import (
    ProblemFns,
    checked,
    guarded,
    initial_state,
    measure,
    measured_metrics,
    passes_check,
    proposed_step,
    proposed_update,
    simulate,
    simulate_blocks,
    summed_scan,
)
from jaxopt_hw.sweep.layout import (
    StateAxes,
    configs_first,
    select_runs,
    state_configs_first,
    state_laid_out,
)


@dataclasses.dataclass(frozen=True)
class _Sweep:
    """What every traced part of one sweep shares: the problem's functions, the optimizer
    factory with its static hyperparameters, the traced ones ``hyper`` (``(configs,)``
    arrays), the guard's settings and whether products loop over the seeds
    (:func:`_each_seed`)."""

    fns: ProblemFns
    factory: Callable
    static_kwargs: dict
    aux: Any
    hyper: Any
    divergence_factor: Any
    n_configs: int
    check_by_loss: bool
    loop_seeds: bool = False

    def optimizer(self, h):
        return self.factory(**self.static_kwargs, **h)


def _sweep_body(
    fns,
    factory,
    static_kwargs,
    data,
    aux,
    w_star,
    min_loss,
    hyper,
    params0,
    words,
    divergence_factor,
    resume=None,
    *,
    steps,
    batch_size,
    log_every,
    keep_params=False,
    keep_state=False,
    loop_seeds=False,
):
    """Trains every config of ``hyper`` from every seed's initial point and logs their metrics.

    ``hyper`` holds ``(configs,)`` arrays; ``params0``/``words`` have a leading seed axis.
    ``resume``: ``(state, first_step)``, a state kept by an earlier call and the steps it
    has taken, from which the runs continue (their batches too) instead of starting; at
    ``first_step`` 0 they start, whatever the state holds.

    Returns metrics and held-out metrics ``(configs, seeds, logs)``, final divergence flags
    ``(configs, seeds)``, the full loss at each seed's initial point ``(seeds,)``, with
    ``keep_params`` the final parameters ``(configs, seeds, ...)`` and with ``keep_state``
    the final training state (:class:`jaxopt_hw.step.RunState`, leaves ``(configs, seeds,
    ...)``; else ``None`` each). ``loop_seeds``: see :func:`loops_over_seeds`."""
    # a grid without traced axes has one config per static combination (a resumed state
    # holds it repeated, as the engine pads a chunk)
    counted = jax.tree.leaves(hyper) or ([] if resume is None else jax.tree.leaves(resume[0]))
    n_configs = counted[0].shape[0] if counted else 1
    check_by_loss = _checks_by_loss(jax.tree.map(lambda leaf: leaf[0], params0))
    sweep = _Sweep(
        fns,
        factory,
        dict(static_kwargs),
        aux,
        hyper,
        divergence_factor,
        n_configs,
        check_by_loss,
        loop_seeds,
    )
    batch_axis = None if batch_size is None else 0
    example_batch = _example_batch(data, words.shape[0], batch_size)
    axes = _state_axes(
        sweep, params0, example_batch, batch_axis, configs_minor=fns.forms.sets_minor
    )
    states, initial_loss = _start_all(sweep, axes, params0)
    n_seeds = words.shape[0]
    cursors = Cursor(epoch=jnp.zeros(n_seeds, jnp.int32), offset=jnp.zeros(n_seeds, jnp.int32))
    if resume is not None:
        states, cursors = _resumed(sweep, axes, states, cursors, resume, data, batch_size)
    log = functools.partial(_log, sweep, axes, w_star, min_loss)
    if batch_size is None:  # full batch: every step's batch is all the data
        step = lambda states: _step_all(sweep, axes, states, data, None)
        states, logs, _ = simulate(step, log, states, steps, log_every)
    else:
        train_on = functools.partial(_train_on, sweep, axes, initial_loss)
        states, logs = _simulate_minibatches(
            data, words, train_on, log, states, cursors, steps, batch_size, log_every
        )
    # logged as (logs, seeds, configs); returned (configs, seeds, logs)
    logs = jax.tree.map(lambda a: jnp.moveaxis(a, 0, -1).swapaxes(0, 1), logs)
    final = _checked_all(axes, states)
    kept = configs_first(final.params, axes.config.params) if keep_params else None
    state = state_configs_first(states, axes, n_configs) if keep_state else None
    return logs, final.diverged.T, initial_loss[:, 0], kept, state


def kept_state_shapes(fns, factory, static_kwargs, args, options: dict) -> list:
    """The shapes of the training state a ``keep_state`` sweep of these arguments keeps,
    one ``jax.ShapeDtypeStruct`` a leaf (``(configs, seeds, ...)``), traced, not compiled.

    Args:
      fns, factory, static_kwargs: as for the sweep program.
      args: its arguments from ``data`` on, ``resume`` ``None``.
      options: its keyword options (``steps``, ``batch_size``, …) but ``keep_state``.
    """
    body = functools.partial(
        _sweep_body, fns, factory, static_kwargs, **{**options, "keep_state": True}
    )
    return jax.tree.leaves(jax.eval_shape(body, *args)[4])


def _example_batch(data, n_seeds: int, batch_size):
    """The shapes of one step's batch: all the data, or ``batch_size`` rows per seed."""
    if batch_size is None:
        return data
    return jax.tree.map(
        lambda a: jax.ShapeDtypeStruct((n_seeds, batch_size) + a.shape[1:], a.dtype), data
    )


def _start(sweep: _Sweep, h, params):
    return initial_state(
        sweep.fns,
        sweep.optimizer(h),
        params,
        sweep.aux,
        sweep.divergence_factor,
        check_by_loss=sweep.check_by_loss,
    )


def _start_all(sweep: _Sweep, axes: StateAxes, params0):
    """The initial states, laid out as ``axes`` says, and the initial losses (seeds, configs)."""
    per_config = jax.vmap(
        functools.partial(_start, sweep),
        in_axes=(0, None),
        out_axes=(axes.config, 0),
        axis_size=sweep.n_configs,
    )
    return jax.vmap(per_config, in_axes=(None, 0), out_axes=(axes.seed, 0))(sweep.hyper, params0)


def _resumed(sweep: _Sweep, axes: StateAxes, states, cursors: Cursor, resume, data, batch_size):
    """The state an earlier call kept, laid out as ``states``, and the batch cursors where
    that call left them."""
    leaves, first_step = resume
    saved = jax.tree.unflatten(
        jax.tree.structure(state_configs_first(states, axes, sweep.n_configs)), leaves
    )
    # resuming at step 0 is starting: a first call can share the program of later ones
    fresh = jnp.asarray(first_step) == 0
    states = jax.tree.map(
        lambda started, kept: jnp.where(fresh, started, kept),
        states,
        state_laid_out(saved, states, axes),
    )
    if batch_size is None:  # every step's batch is all the data: no stream to resume
        return states, cursors
    n, n_seeds = jax.tree.leaves(data)[0].shape[0], cursors.epoch.shape[0]
    row = jnp.asarray(first_step, jnp.int32) * batch_size
    return states, Cursor(epoch=jnp.full(n_seeds, row // n), offset=jnp.full(n_seeds, row % n))


def _sets_minor(fn, axes: StateAxes):
    """``fn`` for many parameter sets held as columns (``problems.sets_minor_form``) if it
    has such a form and ``axes`` holds every parameter's configs on the minor axis, else
    ``None``."""
    form = sets_minor_form(fn)
    if form is None or any(axis != -1 for axis in jax.tree.leaves(axes.config.params)):
        return None
    return form


def _step_all(sweep: _Sweep, axes: StateAxes, states, batch, seed_axis):
    """One step of every config and seed (``step.train_step``) and its batch errors.

    ``batch`` has a seed axis (or none: shared); the configs of a seed share its batch. The
    freeze of diverged runs is applied to all runs at once, in the layout of their
    parameters (:func:`select_runs`)."""
    batch_values = _sets_minor(sweep.fns.forms.batch_fn, axes)
    if batch_values is not None:
        proposed, passed, errors = _proposed_all_minor(
            sweep, axes, batch_values, states, batch, seed_axis
        )
    else:
        proposed, passed, errors = _proposed_all(sweep, axes, states, batch, seed_axis)
    return guarded(states, proposed, passed, select_runs(axes.config.params)), errors


def _proposed_all(sweep: _Sweep, axes: StateAxes, states, batch, seed_axis):
    """The proposed steps of every config and seed, configs vmapped innermost."""
    step = lambda h, state, b: proposed_step(sweep.fns, sweep.optimizer(h), state, b)
    per_config = jax.vmap(
        step,
        in_axes=(0, axes.config, None),
        out_axes=(axes.config, 0, 0),
        axis_size=sweep.n_configs,
    )
    return jax.vmap(per_config, in_axes=(None, axes.seed, seed_axis), out_axes=(axes.seed, 0, 0))(
        sweep.hyper, states, batch
    )


def _proposed_all_minor(
    sweep: _Sweep, axes: StateAxes, batch_values_minor, states, batch, seed_axis
):
    """The proposed steps with the batch values of all configs of a seed from one call of
    ``batch_values_minor`` (the form of ``batch_fn`` for sets as columns) on their
    parameters as laid out (no transposes)."""
    batch_values = _each_seed(batch_values_minor, (0, seed_axis, seed_axis), sweep.loop_seeds)(
        states.params, batch["X"], batch["y"]
    )
    step = lambda h, state, loss, grads, error: proposed_update(
        sweep.optimizer(h), state, loss, grads, error
    )
    per_config = jax.vmap(
        step,
        in_axes=(0, axes.config, 0, axes.config.params, 0),
        out_axes=(axes.config, 0, 0),
        axis_size=sweep.n_configs,
    )
    return jax.vmap(per_config, in_axes=(None, axes.seed, 0, 0, 0), out_axes=(axes.seed, 0, 0))(
        sweep.hyper, states, *batch_values
    )


def _each_seed(fun, in_axes, loop: bool):
    """``jax.vmap(fun, in_axes)`` over the seed axis (0 or ``None`` per argument), or with
    ``loop`` a loop over the seeds, computing the same numbers one seed at a time."""
    if not loop:
        return jax.vmap(fun, in_axes=in_axes)

    def looped(*args):
        seeded = [arg for arg, axis in zip(args, in_axes) if axis == 0]

        def one_seed(slices):
            slices = iter(slices)
            return fun(*(next(slices) if axis == 0 else arg for arg, axis in zip(args, in_axes)))

        return jax.lax.map(one_seed, seeded)

    return looped


def _train_on(sweep: _Sweep, axes: StateAxes, initial_loss, states, batches):
    """Every config and seed trained on ``batches`` (block steps, seeds, B, ...); returns
    the states and the sum of their batch errors."""
    step = lambda s, b: _step_all(sweep, axes, s, b, 0)
    return summed_scan(step, states, batches, jnp.zeros_like(initial_loss))


def _simulate_minibatches(
    data, words, train_on, log, states, cursors, steps, batch_size, log_every
):
    """``step.simulate_blocks`` over each seed's stream of batches, the same rows for every
    config of a seed; returns the final states and the logs."""

    def fetch(cursors, count):
        batches, cursors = jax.vmap(lambda c, w: fetch_block(data, c, w, batch_size, count))(
            cursors, words
        )
        return jax.tree.map(lambda a: jnp.swapaxes(a, 0, 1), batches), cursors

    target = block_target(data, batch_size, copies=words.shape[0])
    states, logs, _ = simulate_blocks(
        fetch,
        train_on,
        log,
        lambda states: None,
        states,
        cursors,
        steps=steps,
        log_every=log_every,
        target=target,
    )
    return states, logs


def _checked_all(axes: StateAxes, states):
    """The states with the guard's last check applied (``step.checked``), for every run."""
    if states.last_good is None:
        return states
    passed = jax.vmap(jax.vmap(passes_check, in_axes=(axes.config,)), in_axes=(axes.seed,))(states)
    return checked(states, passed, select_runs(axes.config.params))


def _log(sweep: _Sweep, axes: StateAxes, w_star, min_loss, states, batch_error):
    """The metrics and held-out metrics of every config and seed, ``(seeds, configs)``."""
    params = _checked_all(axes, states).params
    measures = _sets_minor(sweep.fns.forms.measures_fn, axes)
    if measures is not None:
        measured = _each_seed(measures, (0, None), sweep.loop_seeds)(params, sweep.aux)
        metrics = measured_metrics(measured, w_star, min_loss, batch_error)
    else:
        measure_one = lambda p, e: measure(sweep.fns, p, sweep.aux, w_star, min_loss, e)
        per_config = jax.vmap(measure_one, in_axes=(axes.config.params, 0))
        metrics = jax.vmap(per_config)(params, batch_error)
    held_out = jax.vmap(
        jax.vmap(lambda p: sweep.fns.evaluate(p, sweep.aux), in_axes=(axes.config.params,))
    )(params)
    return metrics, held_out


def _checks_by_loss(params) -> bool:
    """Whether a sweep's guard checks each run's ``params`` through its loss (see
    :func:`jaxopt_hw.step.train_step`): worth it for many parameters per config, where it replaces a
    scan of them; for a few it costs more than the scan."""
    return sum(math.prod(np.shape(leaf)) for leaf in jax.tree.leaves(params)) > _CHECK_BY_LOSS_ABOVE


def state_leaf_count(problem: Problem, factory, kwargs: dict, params) -> int:
    """Leaves of a run's training state (:class:`jaxopt_hw.step.RunState`) as a sweep keeps it: the
    parameters, the optimizer state, the divergence flag and bound, and the last good
    parameters where the guard checks them through the loss."""
    opt_state = jax.eval_shape(lambda p: factory(**kwargs).init(p), params)
    n_params = len(jax.tree.leaves(params))
    forms = problem.forms or GENERIC_FORMS
    last_good = n_params if forms.loss_detects_nonfinite and _checks_by_loss(params) else 0
    return n_params + len(jax.tree.leaves(opt_state)) + 2 + last_good


def _state_axes(
    sweep: _Sweep, params0, example_batch, batch_axis, configs_minor: bool
) -> StateAxes:
    """The layout of a sweep's state (docs/benchmarks.md has the timings behind it).

    * The optimizer's integer leaves are held once for all configs and seeds (``None``).
      They are step counts, which advance in lockstep in every config; held per config,
      they cost Adam a power per config per step in its bias correction. A factory whose
      integer leaf depends on its config (vmap then refuses ``None``) gets every leaf per
      config.
    * With ``configs_minor`` (``FastForms.sets_minor``: least squares), the configs are the
      minor axis of every per-config array (``(seeds, d, configs)``): the problem's batch
      products then read and write the parameters in place, where ``(seeds, configs, d)``
      costs a transpose of them per step. Elsewhere the configs are the major axis, which
      is faster for a problem whose batch gradients are plain vmaps."""
    every = StateAxes(seed=0, config=0)
    shapes = jax.eval_shape(lambda: _start_all(sweep, every, params0)[0])
    axes = jax.tree.map(lambda leaf: 0, shapes)
    if any(_is_count(leaf) for leaf in jax.tree.leaves(shapes.opt_state)):
        counts_shared = axes._replace(
            opt_state=jax.tree.map(lambda leaf: None if _is_count(leaf) else 0, shapes.opt_state)
        )
        shared = StateAxes(counts_shared, counts_shared)
        try:
            states = jax.eval_shape(lambda: _start_all(sweep, shared, params0)[0])
            jax.eval_shape(
                lambda s, b: _step_all(sweep, shared, s, b, batch_axis), states, example_batch
            )
            axes = counts_shared
        except ValueError:  # a config-dependent integer leaf
            pass
    if not configs_minor:
        return StateAxes(seed=axes, config=axes)
    config_axes = jax.tree.map(
        lambda axis, leaf: -1 if axis == 0 and leaf.ndim > 2 else axis,
        axes,
        shapes,
        is_leaf=lambda x: x is None,
    )
    return StateAxes(seed=axes, config=config_axes)


def _is_count(leaf) -> bool:
    return jnp.issubdtype(leaf.dtype, jnp.integer)


#: Parameters per config above which a sweep checks them through the loss when it can.
_CHECK_BY_LOSS_ABOVE = 32


_SWEEP_STATIC = (
    "fns",
    "factory",
    "static_kwargs",
    "steps",
    "batch_size",
    "log_every",
    "keep_params",
    "keep_state",
    "loop_seeds",
)


def _sharded_sweep_body(
    mesh,
    fns,
    factory,
    static_kwargs,
    data,
    aux,
    w_star,
    min_loss,
    hyper,
    params0,
    words,
    divergence_factor,
    resume=None,
    *,
    steps,
    batch_size,
    log_every,
    keep_params=False,
    keep_state=False,
    loop_seeds=False,
):
    """:func:`_sweep_body` on every device of ``mesh`` for its share of the configs
    (``shard_map``): each device runs the one-device program on its shard, so a sharded
    sweep computes every config exactly as one device would. The initial losses depend
    on the seeds only and are the same on every device."""
    body = functools.partial(
        _sweep_body,
        fns,
        factory,
        static_kwargs,
        steps=steps,
        batch_size=batch_size,
        log_every=log_every,
        keep_params=keep_params,
        keep_state=keep_state,
        loop_seeds=loop_seeds,
    )
    configs, whole = jax.sharding.PartitionSpec("config"), jax.sharding.PartitionSpec()
    return _shard_map(
        body,
        mesh,
        in_specs=(
            whole,
            whole,
            whole,
            whole,
            configs,
            whole,
            whole,
            whole,
            whole if resume is None else (configs, whole),
        ),
        out_specs=(configs, configs, whole, configs, configs),
    )(data, aux, w_star, min_loss, hyper, params0, words, divergence_factor, resume)


def _shard_map(fun, mesh, in_specs, out_specs):
    """``jax.shard_map`` without its replication checks (the body's outputs are per
    config or equal on every device by construction)."""
    return jax.shard_map(fun, mesh=mesh, in_specs=in_specs, out_specs=out_specs, check_vma=False)


#: XLA:CPU's legacy fusion emitters compile a sweep program in about half the time and run
#: it 1.3–2.2× slower (docs/benchmarks.md): the choice for calls that run briefly.
_QUICK_CPU_OPTIONS = (("xla_cpu_use_fusion_emitters", False),)

#: The work under which a call runs briefly, in products of a batch row with a parameter
#: (configs × seeds × steps × batch rows × parameters): about 20 ms on a 2-core CPU, where
#: the quick compile saves 0.3–1.3 s.
QUICK_COMPILE_WORK = 10**8


def compiles_quickly(platform: str, n_configs: int, values: int, batch_rows: int, steps: int):
    """Whether a call of ``n_configs`` configs, each ``values`` parameters over its seeds,
    trained ``steps`` steps on ``batch_rows`` rows, is compiled for the speed of compiling:
    on a CPU, when its work ``n_configs × values × batch_rows × steps`` is under
    :data:`QUICK_COMPILE_WORK` and it trains on at least 64 rows (``steps × batch_rows``),
    so that its configs' parameters are at most 1/64 of its work (1.6 M values)."""
    rows = int(batch_rows) * int(steps)
    work = int(n_configs) * int(values) * rows
    return platform == "cpu" and rows >= 64 and work < QUICK_COMPILE_WORK


def loops_over_seeds(platform: str, n_seeds: int, quick: bool) -> bool:
    """Whether a sweep's products loop over its seeds rather than batch them: on CPUs, for
    several seeds, in programs compiled for speed of running (not ``quick``). XLA:CPU runs
    a product batched over seeds several times slower than one product a seed, and a loop
    compiles one copy of it, yet costs a quick program more to compile than it saves
    (docs/benchmarks.md)."""
    return platform == "cpu" and n_seeds > 1 and not quick


def jitted_sweep(devices, quick: bool = False):
    """The jitted sweep for these devices: with several, one that takes their mesh first.

    XLA's defaults, which hand products and reductions over the config axis to YNNPACK,
    run sweeps fastest (docs/benchmarks.md); ``quick`` asks XLA:CPU for a program that
    compiles faster instead (:func:`compiles_quickly`)."""
    body, static = (
        (_sharded_sweep_body, ("mesh",) + _SWEEP_STATIC)
        if len(devices) > 1
        else (_sweep_body, _SWEEP_STATIC)
    )
    platform = devices[0].platform
    cpu_options = _QUICK_CPU_OPTIONS if quick else ()
    return jit_with_options(body, static, platform, platform_options(platform, cpu_options))


def initial_points(problem: Problem, seeds):
    """Each seed's initial point, ``problem.init_params(seed)``, stacked on a seed axis
    (host arrays: nothing is compiled)."""
    points = [problem.initial_params(seed) for seed in seeds]
    return jax.tree.map(lambda *leaves: np.stack(leaves), *points)


def mesh_sharding(devices):
    mesh = jax.sharding.Mesh(np.asarray(devices), ("config",))
    return (
        jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("config")),
        jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec()),
    )


def global_array(host_array, sharding):
    """A (possibly multi-process) global array from the same host array on every process."""
    host_array = np.asarray(host_array)
    return jax.make_array_from_callback(host_array.shape, sharding, lambda index: host_array[index])
