"""The engine that runs lists of configs through compiled sweep programs, chunk by chunk."""

from __future__ import annotations

import collections
import functools
import math
import os
import time

import jax
import numpy as np

from jaxopt_hw._compile import with_accepted_options
from jaxopt_hw._io import atomic_savez as _atomic_savez  # a name tests replace to interrupt a save
from jaxopt_hw.loop import problem_optimum
from jaxopt_hw.problems import MIN_PARAMETER_SETS, matvec_as_product
from jaxopt_hw.shuffle import host_shuffle_words
from jaxopt_hw.step import ProblemFns
from jaxopt_hw.sweep.plan import chunk_rows, plan_run
from jaxopt_hw.sweep.program import (
    compiles_quickly,
    global_array,
    initial_points,
    jitted_sweep,
    kept_state_shapes,
    loops_over_seeds,
    mesh_sharding,
    state_leaf_count,
)
from jaxopt_hw.sweep.store import chunk_keys, saved_chunk


def _to_host(tree):
    """The whole value of every leaf on every process (all-gather across processes), as
    writable NumPy arrays that share one host allocation, each filled from zero-copy
    views of its shards.

    One allocation, not one per leaf: NumPy asks the kernel for huge pages for 4 MiB or
    more, so a sweep's logs fault in a few pages, not thousands (docs/benchmarks.md,
    "Measured design choices")."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        tree = multihost_utils.process_allgather(tree, tiled=True)  # host arrays
    leaves, treedef = jax.tree.flatten(jax.tree.map(_array, tree))
    starts = np.cumsum([0] + [_aligned(leaf.nbytes) for leaf in leaves])
    buffer = np.empty(starts[-1], np.uint8)
    hosts = [
        buffer[start : start + leaf.nbytes].view(leaf.dtype).reshape(leaf.shape)
        for start, leaf in zip(starts, leaves)
    ]
    for leaf, host in zip(leaves, hosts):
        for index, part in _parts(leaf):
            host[index] = part
    return jax.tree.unflatten(treedef, hosts)


def _array(leaf):
    return leaf if isinstance(leaf, (jax.Array, np.ndarray)) else np.asarray(leaf)


def _aligned(nbytes: int, alignment: int = 64) -> int:
    return -(-nbytes // alignment) * alignment


def _parts(array):
    """``(index, host view)`` of each distinct shard of a JAX array (a NumPy array: itself)."""
    if isinstance(array, jax.Array):
        return [
            (shard.index, np.asarray(shard.data))
            for shard in array.addressable_shards
            if shard.replica_id == 0
        ]
    return [(..., array)]


#: Compiled sweep programs (and the shapes of their kept states) kept for reuse, least
#: recently used first: a study that sweeps problems of one shape again (held-out seeds,
#: reruns) compiles each program once.
_PROGRAMS: collections.OrderedDict = collections.OrderedDict()
_KEPT_PROGRAMS = 64


class Engine:
    """Runs lists of configs of one problem, optimizer factory and seeds in chunks through
    compiled sweep programs, the shared arguments placed once (replicated over the mesh of
    ``devices``, or on the one device). :func:`sweep` runs a grid's configs through it, and
    :func:`jaxopt_hw.search` each rung's.

    ``run`` returns, per config, what :func:`_sweep_body` computes (``curve_<metric>``,
    ``diverged``, ``param_<i>``, ``state_<i>``) with the seeds' ``initial_loss``; with a
    ``folder`` each chunk is saved there atomically and loaded instead of computed when
    it is there already."""

    def __init__(
        self,
        problem,
        factory,
        devices,
        fixed_traced,
        hyper_dtype,
        shared,
        place_configs,
        mesh_arg,
        *,
        steps,
        batch_size,
        log_every,
        chunk_size,
        keep_params,
    ):
        self.problem, self.factory, self.devices = problem, factory, devices
        self.fixed_traced, self.hyper_dtype, self.shared = fixed_traced, hyper_dtype, shared
        self.place_configs, self.mesh_arg = place_configs, mesh_arg
        self.options = {
            "steps": steps,
            "batch_size": batch_size,
            "log_every": log_every,
            "keep_params": keep_params,
        }
        self.chunk_size = chunk_size
        self.timings = {"compile_seconds": 0.0, "run_seconds": 0.0, "chunks_loaded": 0}
        self.first_config = {}  # one whole config, for abstract traces of the optimizer (see plan)

    @classmethod
    def plan(
        cls,
        problem,
        factory,
        traced: dict,
        fixed: dict,
        first_config: dict,
        seeds,
        n_configs: int,
        *,
        steps,
        batch_size,
        log_every,
        divergence_factor,
        memory_budget,
        chunk_size,
        devices,
        keep_params,
    ) -> "Engine":
        """The engine for ``n_configs`` configs as :func:`plan_run` plans them, placed."""
        plan = plan_run(
            problem,
            factory,
            traced,
            fixed,
            first_config,
            seeds,
            n_configs,
            steps=steps,
            batch_size=batch_size,
            log_every=log_every,
            memory_budget=memory_budget,
            chunk_size=chunk_size,
            devices=devices,
            keep_params=keep_params,
        )
        engine = cls.place(
            problem,
            factory,
            seeds,
            plan.devices,
            plan.fixed_traced,
            plan.hyper_dtype,
            steps=steps,
            batch_size=batch_size,
            log_every=log_every,
            divergence_factor=divergence_factor,
            chunk_size=plan.chunk_size,
            keep_params=keep_params,
        )
        engine.first_config = first_config
        return engine

    @classmethod
    def place(
        cls,
        problem,
        factory,
        seeds,
        devices,
        fixed_traced,
        hyper_dtype,
        *,
        steps,
        batch_size,
        log_every,
        divergence_factor,
        chunk_size,
        keep_params=False,
    ) -> "Engine":
        """An engine with the arguments every chunk shares placed on ``devices``."""
        w_star, min_loss = problem_optimum(problem)
        words = np.stack([host_shuffle_words(s) for s in seeds])  # on the host: compiles nothing
        points = initial_points(problem, seeds)
        shared = [problem.data, problem.aux, w_star, min_loss, points, words]
        mesh_arg = ()
        if len(devices) > 1:
            config_sharding, replicated = mesh_sharding(devices)
            mesh_arg = (config_sharding.mesh,)
            shared = [
                jax.tree.map(lambda a: global_array(a, replicated), x) if x is not None else None
                for x in shared
            ]
            place_configs = functools.partial(global_array, sharding=config_sharding)
        else:
            shared = jax.device_put(shared, devices[0])
            place_configs = functools.partial(jax.device_put, device=devices[0])
        engine = cls(
            problem,
            factory,
            devices,
            fixed_traced,
            hyper_dtype,
            shared + [divergence_factor],
            place_configs,
            mesh_arg,
            steps=steps,
            batch_size=batch_size,
            log_every=log_every,
            chunk_size=chunk_size,
            keep_params=keep_params,
        )
        engine.initial_points = points  # host arrays, for a fingerprint
        return engine

    def run(
        self,
        static_kwargs: dict,
        traced: dict,
        *,
        resume=None,
        keep_state=False,
        folder=None,
        bar=None,
        steps=None,
        chunk_to=0,
    ) -> dict:
        """Every config ``traced`` lists (``{name: (configs,) values}``, with
        ``static_kwargs``), in chunks; ``resume``: ``(state, first_step)`` with the state's
        leaves ``(configs, seeds, ...)`` (a ``keep_state`` result; at step 0 the runs start
        afresh, see :meth:`fresh_state`). ``folder``: ``(path, prefix)`` of the saved
        chunks. ``steps``: steps of this call (default: the plan's).
        ``chunk_to``: configs a chunk holds (within the plan's chunk size), fewer padded
        to it, so that calls of any number of configs share one compiled program."""
        n_configs = _config_count(traced)
        size = min(self.chunk_size, chunk_to or n_configs)
        keys = None if folder is None else self._saved_keys(static_kwargs, keep_state)
        chunks = math.ceil(n_configs / size)
        quick = self._compiles_quickly(chunks, size, steps or self.options["steps"])
        multiple = MIN_PARAMETER_SETS if quick else 1
        pieces = []
        for chunk in range(chunks):
            path = (
                None if folder is None else os.path.join(folder[0], f"{folder[1]}_{chunk:05d}.npz")
            )
            piece = None if path is None else saved_chunk(path, keys)
            if piece is None:
                rows = chunk_rows(chunk, size, n_configs, len(self.devices), multiple)
                piece = self._compute(
                    static_kwargs, traced, resume, keep_state, steps, quick, *rows
                )
                if path is not None and jax.process_index() == 0:
                    _atomic_savez(path, piece)
            else:
                self.timings["chunks_loaded"] += 1
            pieces.append(piece)
            if bar is not None:
                bar.update(len(piece["diverged"]))
        initial = np.array(pieces[0]["initial_loss"])  # the same in every piece; a copy, not a view
        merged = {k: concatenated([p[k] for p in pieces]) for k in pieces[0] if k != "initial_loss"}
        return {**merged, "initial_loss": initial}

    def padded_chunk(self, n_configs: int, steps: int) -> int:
        """The configs one call of ``n_configs`` configs (one chunk) computes, padded as
        :meth:`run` pads them: a ``chunk_to`` that costs such a call nothing."""
        size = min(self.chunk_size, n_configs)
        multiple = MIN_PARAMETER_SETS if self._compiles_quickly(1, size, steps) else 1
        return len(chunk_rows(0, size, size, len(self.devices), multiple)[0])

    def fresh_state(self, static_kwargs: dict, traced: dict, steps: int) -> list:
        """Zeros shaped as the state a ``keep_state`` call of ``traced``'s configs keeps
        (host arrays, leaves ``(configs, seeds, ...)``). Passed as ``resume`` at step 0 they
        start every run afresh, through the program of the calls that continue it."""
        n_configs = _config_count(traced)
        names = [*traced, *self.fixed_traced]
        hyper = {name: np.zeros(n_configs, self.hyper_dtype) for name in names}
        args = [*self.shared[:4], hyper, *self.shared[4:], None]
        static = tuple(sorted(static_kwargs.items()))
        options = self._program_options(False, steps, quick=False)
        shapes = _remembered(  # else each later call of a search traces the program again
            ("kept state",) + self._program_key(static, options, False, args),
            lambda: kept_state_shapes(
                ProblemFns.of(self.problem), self.factory, static, args, options
            ),
        )
        return [np.zeros(shape.shape, shape.dtype) for shape in shapes]

    @property
    def n_seeds(self) -> int:
        return len(jax.tree.leaves(self.initial_points)[0])

    def _compiles_quickly(self, chunks: int, size: int, steps: int) -> bool:
        """Whether this call's program compiles quickly (:func:`compiles_quickly`), each
        device's share of a chunk then padded to a multiple of 64 configs: XLA:CPU's legacy
        emitters round a config's metrics by whether it falls in their vector loop or its
        tail, and whole multiples keep every config in the loop, so that its result does not
        depend on how many share its device."""
        padded = len(chunk_rows(0, size, size, len(self.devices), MIN_PARAMETER_SETS)[0])
        values = sum(np.size(leaf) for leaf in jax.tree.leaves(self.initial_points))
        rows = self.options["batch_size"] or self.problem.n
        platform = self.devices[0].platform
        return compiles_quickly(platform, chunks * padded, values, rows, steps)

    def _saved_keys(self, static_kwargs: dict, keep_state: bool) -> set:
        one_point = self.problem.initial_params(0)
        kept = len(jax.tree.leaves(one_point)) if self.options["keep_params"] else 0
        state = (
            state_leaf_count(
                self.problem, self.factory, {**self.first_config, **static_kwargs}, one_point
            )
            if keep_state
            else 0
        )
        return chunk_keys(self.problem, kept) | {f"state_{i}" for i in range(state)}

    def _compute(self, static_kwargs, traced, resume, keep_state, steps, quick, rows, valid):
        """One chunk: the configs at ``rows`` (the chunk's ``valid`` own ones first), through
        a program compiled ``quick`` or not (:func:`compiles_quickly`)."""
        hyper = {name: values[rows].astype(self.hyper_dtype) for name, values in traced.items()}
        hyper.update(
            {
                name: np.full(len(rows), value, self.hyper_dtype)
                for name, value in self.fixed_traced.items()
            }
        )
        hyper = {name: self.place_configs(values) for name, values in hyper.items()}
        if resume is not None:  # the state's leaves, as kept
            leaves, first_step = resume
            resume = (
                [self.place_configs(np.asarray(leaf)[rows]) for leaf in leaves],
                np.int32(first_step),
            )
        args = [*self.shared[:4], hyper, *self.shared[4:], resume]
        static = tuple(sorted(static_kwargs.items()))
        program = self._compiled(static, keep_state, steps, quick, args)
        started = time.perf_counter()
        (logs, held_out), diverged, initial_loss, kept, state = _to_host(program(*args))
        self.timings["run_seconds"] += time.perf_counter() - started
        curves = {**logs._asdict(), **dict(zip(self.problem.eval_names, held_out))}
        piece = {f"curve_{k}": v[:valid] for k, v in curves.items()}
        piece.update({f"param_{i}": leaf[:valid] for i, leaf in enumerate(jax.tree.leaves(kept))})
        piece.update({f"state_{i}": leaf[:valid] for i, leaf in enumerate(jax.tree.leaves(state))})
        piece["diverged"] = diverged[:valid]
        piece["initial_loss"] = initial_loss
        return piece

    def _program_options(self, keep_state: bool, steps, quick: bool) -> dict:
        return {
            **self.options,
            "steps": steps or self.options["steps"],
            "keep_state": keep_state,
            "loop_seeds": loops_over_seeds(self.devices[0].platform, self.n_seeds, quick),
        }

    def _program_key(self, static_kwargs: tuple, options: dict, quick: bool, args) -> tuple:
        """What tells one compiled program from another."""
        return (
            ProblemFns.of(self.problem),
            self.factory,
            tuple(device.id for device in self.devices),
            static_kwargs,
            tuple(sorted(options.items())),
            quick,
            jax.tree.structure(args),
            tuple((np.shape(a), getattr(a, "dtype", type(a))) for a in jax.tree.leaves(args)),
        )

    def _compiled(self, static_kwargs: tuple, keep_state: bool, steps, quick: bool, args):
        """The compiled program for these static hyperparameters, steps and argument shapes:
        compiled once, then reused by every chunk and every later sweep of the same problem
        kind, factory, devices and shapes (the :data:`_KEPT_PROGRAMS` used last are kept)."""
        options = self._program_options(keep_state, steps, quick)

        def compiled():
            started = time.perf_counter()
            with matvec_as_product():  # one matrix product over the configs per step
                program = with_accepted_options(
                    self.devices[0].platform,
                    lambda: (
                        jitted_sweep(self.devices, quick)
                        .lower(
                            *self.mesh_arg,
                            ProblemFns.of(self.problem),
                            self.factory,
                            static_kwargs,
                            *args,
                            **options,
                        )
                        .compile()
                    ),
                )
            self.timings["compile_seconds"] += time.perf_counter() - started
            return program

        return _remembered(self._program_key(static_kwargs, options, quick, args), compiled)


def _remembered(key, make):
    """``make()``, made once for ``key`` and then reused (the :data:`_KEPT_PROGRAMS` keys
    used last are kept)."""
    if key in _PROGRAMS:
        _PROGRAMS.move_to_end(key)
    else:
        _PROGRAMS[key] = make()
        while len(_PROGRAMS) > _KEPT_PROGRAMS:
            _PROGRAMS.popitem(last=False)
    return _PROGRAMS[key]


def _config_count(traced: dict) -> int:
    """The configs ``traced`` lists (``{name: (configs,) values}``); one without axes."""
    return len(next(iter(traced.values()))) if traced else 1


def concatenated(arrays):
    """``np.concatenate(arrays)``, without copying a lone array (a 1 024-config sweep
    logging five metrics every step returns 20 MB per 1 000 steps: a copy costs ms)."""
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
