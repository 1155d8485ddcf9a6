"""The compiled sweep program: the traced body, the layout of its state, sharding over devices."""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxopt_hw._compile import jit_with_options, platform_options
from jaxopt_hw.problems import GENERIC_FORMS, Problem, sets_minor_form
from jaxopt_hw.shuffle import Cursor, block_target, fetch_block
from jaxopt_hw.step import (
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
):
    """Metrics and held-out metrics ``(configs, seeds, logs)``, final divergence flags
    ``(configs, seeds)``, the full loss at each seed's initial point ``(seeds,)``, with
    ``keep_params`` the final parameters ``(configs, seeds, ...)`` and with ``keep_state``
    the final training state (:class:`jaxopt_hw.step.RunState`, leaves ``(configs, seeds, ...)``; else
    ``None`` each).

    ``hyper`` holds ``(configs,)`` arrays; ``params0``/``words`` have a leading seed axis.
    ``resume``: ``(state, first_step)``, a state kept by an earlier call and the steps it
    has taken, from which the runs continue (their batches too) instead of starting."""
    kwargs = dict(static_kwargs)
    # a grid without traced axes has one config per static combination
    n_configs = jax.tree.leaves(hyper)[0].shape[0] if jax.tree.leaves(hyper) else 1

    def optimizer(h):
        return factory(**kwargs, **h)

    check_by_loss = _checks_by_loss(jax.tree.map(lambda leaf: leaf[0], params0))

    def start(h, params):
        return initial_state(
            fns, optimizer(h), params, aux, divergence_factor, check_by_loss=check_by_loss
        )

    def start_all(axes):
        """The initial states, laid out as ``axes`` (:class:`StateAxes`) says, and the initial
        losses (seeds, configs)."""
        per_config = jax.vmap(
            start, in_axes=(0, None), out_axes=(axes.config, 0), axis_size=n_configs
        )
        return jax.vmap(per_config, in_axes=(None, 0), out_axes=(axes.seed, 0))(hyper, params0)

    def sets_minor(fn, axes):
        """``fn`` for many parameter sets held as columns (``problems.sets_minor_form``)
        if it has such a form and ``axes`` holds every parameter's configs on the minor
        axis, else ``None``."""
        form = sets_minor_form(fn)
        return (
            form
            if form is not None and all(axis == -1 for axis in jax.tree.leaves(axes.config.params))
            else None
        )

    def step_all_with(axes, states, batch, seed_axis):
        """One step of every config and seed (``step.train_step``); ``batch`` has a seed
        axis (or none: shared). Configs are vmapped innermost: there they share one batch
        (``problems.mse_batch_values``). The freeze of diverged runs is applied to all
        runs at once, in the layout of their parameters (:func:`_select_runs`)."""
        batch_values = sets_minor(fns.forms.batch_fn, axes)
        if batch_values is not None:
            proposed, passed, errors = proposed_all_minor(
                axes, batch_values, states, batch, seed_axis
            )
        else:
            step = lambda h, state, b: proposed_step(fns, optimizer(h), state, b)  # noqa: E731
            per_config = jax.vmap(
                step,
                in_axes=(0, axes.config, None),
                out_axes=(axes.config, 0, 0),
                axis_size=n_configs,
            )
            proposed, passed, errors = jax.vmap(
                per_config, in_axes=(None, axes.seed, seed_axis), out_axes=(axes.seed, 0, 0)
            )(hyper, states, batch)
        return guarded(states, proposed, passed, _select_runs(axes.config.params)), errors

    def proposed_all_minor(axes, batch_values_minor, states, batch, seed_axis):
        """The proposed steps with the batch values of all configs of a seed from one call
        of ``batch_values_minor`` (the form of ``batch_fn`` for sets as columns) on their
        parameters as laid out (no transposes)."""
        batch_values = jax.vmap(batch_values_minor, in_axes=(0, seed_axis, seed_axis))(
            states.params, batch["X"], batch["y"]
        )
        step = lambda h, state, loss, grads, error: proposed_update(
            optimizer(h), state, loss, grads, error
        )  # noqa: E731
        per_config = jax.vmap(
            step,
            in_axes=(0, axes.config, 0, axes.config.params, 0),
            out_axes=(axes.config, 0, 0),
            axis_size=n_configs,
        )
        return jax.vmap(per_config, in_axes=(None, axes.seed, 0, 0, 0), out_axes=(axes.seed, 0, 0))(
            hyper, states, *batch_values
        )

    batch_axis = None if batch_size is None else 0
    example_batch = (
        data
        if batch_size is None
        else jax.tree.map(
            lambda a: jax.ShapeDtypeStruct((words.shape[0], batch_size) + a.shape[1:], a.dtype),
            data,
        )
    )
    axes = _state_axes(
        start_all, step_all_with, example_batch, batch_axis, configs_minor=fns.forms.sets_minor
    )
    states, initial_loss = start_all(axes)
    n_seeds = words.shape[0]
    cursors = Cursor(epoch=jnp.zeros(n_seeds, jnp.int32), offset=jnp.zeros(n_seeds, jnp.int32))
    if resume is not None:
        leaves, first_step = resume
        saved = jax.tree.unflatten(
            jax.tree.structure(_state_configs_first(states, axes, n_configs)), leaves
        )
        states = _state_laid_out(saved, states, axes)
        if batch_size is not None:  # the stream of batches where the earlier call left it
            n = jax.tree.leaves(data)[0].shape[0]
            row = jnp.asarray(first_step, jnp.int32) * batch_size
            cursors = Cursor(epoch=jnp.full(n_seeds, row // n), offset=jnp.full(n_seeds, row % n))

    def step_all(states, batch, seed_axis):
        return step_all_with(axes, states, batch, seed_axis)

    def train_on(states, batches):  # batches: (block steps, seeds, B, ...)
        return summed_scan(
            lambda s, b: step_all(s, b, 0), states, batches, jnp.zeros_like(initial_loss)
        )

    def checked_all(states):
        if states.last_good is None:
            return states
        passed = jax.vmap(jax.vmap(passes_check, in_axes=(axes.config,)), in_axes=(axes.seed,))(
            states
        )
        return checked(states, passed, _select_runs(axes.config.params))

    def held_out(params):
        per_config = jax.vmap(lambda p: fns.evaluate(p, aux), in_axes=(axes.config.params,))
        return jax.vmap(per_config)(params)

    def log(states, batch_error):
        params = checked_all(states).params
        measures = sets_minor(fns.forms.measures_fn, axes)
        if measures is not None:
            measured = jax.vmap(measures, in_axes=(0, None))(params, aux)
            return measured_metrics(measured, w_star, min_loss, batch_error), held_out(params)
        measure_one = lambda p, e: measure(fns, p, aux, w_star, min_loss, e)  # noqa: E731
        per_config = jax.vmap(measure_one, in_axes=(axes.config.params, 0))
        return jax.vmap(per_config)(params, batch_error), held_out(params)

    if batch_size is None:  # full batch: every step's batch is all the data
        states, logs, _ = simulate(
            lambda states: step_all(states, data, None), log, states, steps, log_every
        )
    else:

        def fetch(cursors, count):  # the same rows for every config of a seed
            batches, cursors = jax.vmap(lambda c, w: fetch_block(data, c, w, batch_size, count))(
                cursors, words
            )
            return jax.tree.map(lambda a: jnp.swapaxes(a, 0, 1), batches), cursors

        target = block_target(data, batch_size, copies=n_seeds)
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
    logs = jax.tree.map(
        lambda a: jnp.moveaxis(a, 0, -1).swapaxes(0, 1), logs
    )  # (configs, seeds, logs)
    final = checked_all(states)
    kept = _configs_first(final.params, axes.config.params) if keep_params else None
    state = _state_configs_first(states, axes, n_configs) if keep_state else None
    return logs, final.diverged.T, initial_loss[:, 0], kept, state


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


def _state_configs_first(states, axes, n_configs):
    """A sweep's training state with every leaf ``(configs, seeds, ...)``: the inverse of
    :func:`_state_laid_out` (a step count held once for all runs is repeated per config)."""

    def leaf(seed_axis, config_axis, a):
        if a is None:
            return None
        if seed_axis is None:
            return jnp.broadcast_to(a, (n_configs,) + a.shape)
        return jnp.moveaxis(a, 1 + config_axis % (a.ndim - 1), 0)

    return jax.tree.map(leaf, axes.seed, axes.config, states, is_leaf=lambda x: x is None)


def _state_laid_out(saved, like, axes):
    """A state kept as ``(configs, seeds, ...)`` (:func:`_state_configs_first`) in the layout
    ``axes`` gives the runs of ``like``."""

    def leaf(seed_axis, config_axis, a, reference):
        if reference is None:
            return None
        if seed_axis is None:  # equal in every config
            return a[0].astype(reference.dtype)
        return jnp.moveaxis(a, 0, 1 + config_axis % (a.ndim - 1)).astype(reference.dtype)

    return jax.tree.map(leaf, axes.seed, axes.config, saved, like, is_leaf=lambda x: x is None)


def _configs_first(params, config_axes):
    """Parameters laid out ``(seeds, …)`` with their configs on axis ``config_axes`` of each
    seed's share (see :func:`_select_runs`), as ``(configs, seeds, …)``."""
    return jax.tree.map(
        lambda axis, a: jnp.moveaxis(a, 1 + axis % (a.ndim - 1), 0), config_axes, params
    )


def _select_runs(config_axes):
    """``step.select_params`` for all the runs of a sweep at once: ``flags`` (seeds,
    configs) spread over parameter leaves laid out ``(seeds, …)`` with their configs
    on axis ``config_axes`` of each seed's share (a tree like the parameters')."""

    def select(flags, on_true, on_false):
        def leaf(config_axis, a, b):
            config_at = 1 + config_axis % (a.ndim - 1)
            spread = jnp.expand_dims(
                flags, [axis for axis in range(a.ndim) if axis not in (0, config_at)]
            )
            return jnp.where(spread, a, b)

        return jax.tree.map(leaf, config_axes, on_true, on_false)

    return select


class StateAxes(NamedTuple):
    """Where a sweep's state keeps its seeds and configs: ``vmap`` axes, one per leaf, of the
    seed axis (``seed``: 0, or ``None`` for a leaf held once for all) and, inside it, of the
    config axis (``config``: 0, -1 or ``None``)."""

    seed: Any
    config: Any


def _state_axes(
    start_all, step_all_with, example_batch, batch_axis, configs_minor: bool
) -> StateAxes:
    """The layout of a sweep's state.

    * The optimizer's integer leaves are held once for all configs and seeds (``None``).
      They are step counts, which advance in lockstep in every config; held per config,
      they cost Adam a power per config per step in its bias correction. A factory whose
      integer leaf depends on its config (vmap then refuses ``None``) gets every leaf per
      config.
    * With ``configs_minor`` (``FastForms.sets_minor``: least squares), the
      configs are the minor axis of every per-config array (``(seeds, d, configs)``):
      the problem's batch products then read and write the parameters in place, where
      ``(seeds, configs, d)`` cost a transpose of them per step (1 024 Adam configs at
      d = 20: 137 → 64 ms per 1 000 steps; d = 5: 37 → 35 ms; d = 100 with the
      products called directly, ``problems.sets_minor_form``: 263 → 212 ms). Elsewhere the
      configs are the major axis (a logistic regression at d = 10 with them minor:
      398 → 530 ms)."""
    every = StateAxes(seed=0, config=0)
    shapes = jax.eval_shape(lambda: start_all(every)[0])

    def is_count(leaf):
        return jnp.issubdtype(leaf.dtype, jnp.integer)

    axes = jax.tree.map(lambda leaf: 0, shapes)
    if any(is_count(leaf) for leaf in jax.tree.leaves(shapes.opt_state)):
        counts_shared = axes._replace(
            opt_state=jax.tree.map(lambda leaf: None if is_count(leaf) else 0, shapes.opt_state)
        )
        try:
            states = jax.eval_shape(lambda: start_all(StateAxes(counts_shared, counts_shared))[0])
            jax.eval_shape(
                lambda s, b: step_all_with(
                    StateAxes(counts_shared, counts_shared), s, b, batch_axis
                ),
                states,
                example_batch,
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


def jitted_sweep(devices):
    """The jitted sweep for these devices: with several, one that takes their mesh first.

    No XLA:CPU options: measured on the 2-core AMD EPYC of docs/benchmarks.md (1 024 Adam
    configs), XLA's defaults, which hand products and reductions over the config axis to
    YNNPACK, are as fast as or faster than products through YNNPACK one by one (d = 100
    logging every step: 0.73 vs 0.97 s; d = 5: 45 vs 51 ms) and than XLA's legacy fusion
    emitters (~40% slower here, ~15% faster on an Intel Xeon before)."""
    body, static = (
        (_sharded_sweep_body, ("mesh",) + _SWEEP_STATIC)
        if len(devices) > 1
        else (_sweep_body, _SWEEP_STATIC)
    )
    platform = devices[0].platform
    return jit_with_options(body, static, platform, platform_options(platform))


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
