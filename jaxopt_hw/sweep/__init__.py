"""Hyperparameter sweeps: a whole grid × seeds in one compiled call.

``sweep(problem, factory, grid, seeds=...)`` runs every combination of the grid's values
and every seed as one ``jax.jit`` of ``vmap(configs) ∘ vmap(seeds)`` inside one ``lax.scan``:

* **traced hyperparameters** (axes whose values are all real numbers, at least one a
  float) become arrays of shape ``(configs,)``; the factory is called *inside* the vmap
  on scalars, so ``optax.adam``, ``optax.lion``… need no ``inject_hyperparams``;
* **static hyperparameters** (bools, strings, ints, ``None``, callables: ``nesterov``,
  ``eps_in_sqrt``, a schedule) change the program: one compile per static combination,
  merged into one :class:`SweepResult` whose axes read as one grid;
* **common random numbers**: configs that share a seed share the initial point and the
  batch order, and each step gathers the batch once per seed for all configs, so the
  per-step work is one product over the config axis (for least squares laid out with
  the configs on the minor axis, see ``problems.mse_batch_values_minor``); the optimizer's
  step counts, equal in every config, are held once;
* **chunks**: grids run in equal chunks through the same compiled executable. By default
  a chunk holds, on a CPU, as many configs as keep a step's working set (each config's
  training state read and written, and its batch products) within a quarter of the
  last-level cache, and at most 64 KiB of one batch row on each device (16 384 float32
  configs); on other platforms 2**18 configs per device; at most what ``memory_budget``
  holds (its logged results and its training state, counted twice, and with
  ``keep_params`` the final parameters); 64 configs per device or a multiple of that. A
  sweep saving to ``out`` resumes in the chunks the folder was started in;
* **devices**: with several devices (by default as many of ``jax.devices()`` as get 64
  configs or more each; all of them after ``jax.distributed.initialize()``) the config
  axis is sharded over a 1-D mesh, each device running the one-device program
  on its share (``shard_map``), and every process gets the whole result;
* **divergence**: a config that blows up is frozen and flagged (see :mod:`jaxopt_hw.step`);
  it cannot affect its neighbours, which share nothing with it but the batch indices;
* **fixed values**: a float in ``fixed`` is traced, as the hyperparameters of our optimizers
  are in :func:`jaxopt_hw.run`, so that a config rounds as its run does; it is compiled in
  where the factory branches on it in Python, and for half-precision problems;
* **saving**: ``out=dir`` (made if missing; a file is refused before anything runs) saves
  each finished chunk atomically; re-running the same call
  skips the chunks on disk, so an interrupted sweep resumes without losing work.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
from typing import Callable, Optional, Sequence

import jax
import numpy as np

from jaxopt_hw.checks import (
    check_int,
    check_metric_names,
    check_number,
    check_run_args,
    default_log_every,
)
from jaxopt_hw.problems import Problem
from jaxopt_hw.problems.core import check_flag
from jaxopt_hw.sweep.engine import Engine, concatenated
from jaxopt_hw.sweep.plan import (
    check_grid,
    check_results_fit,
    check_seeds,
    grid_rows,
    use_cpu_cores,
)
from jaxopt_hw.sweep.result import METRIC_NAMES, SUMMARY_METRICS, SweepResult
from jaxopt_hw.sweep.store import (
    check_out,
    claim_folder,
    fingerprint_of,
    problem_signature,
    resumed_chunks,
)

__all__ = [
    "sweep",
    "SweepResult",
    "METRIC_NAMES",
    "SUMMARY_METRICS",
    "use_cpu_cores",
    "fingerprint_of",
    "problem_signature",
]


def sweep(
    problem: Problem,
    optimizer_factory: Callable,
    grid: dict,
    fixed: Optional[dict] = None,
    seeds=(0,),
    steps: int = 1000,
    batch_size: Optional[int] = None,
    log_every: Optional[int] = None,
    tol: Optional[float] = None,
    divergence_factor: float = 1e6,
    memory_budget: float = 2**30,
    chunk_size: Optional[int] = None,
    static: Sequence[str] = (),
    out=None,
    devices=None,
    progress: bool = True,
    keep_params: bool = False,
) -> SweepResult:
    """Runs ``optimizer_factory(**config)`` on ``problem`` for every config of ``grid`` ×
    ``seeds``, as one compiled program per static combination (see the module docstring).

    Args:
      problem: a :class:`~jaxopt_hw.problems.Problem`.
      optimizer_factory: keyword hyperparameters -> GradientTransformation (``optax.lion``, …).
      grid: ``{name: [values]}``; the Cartesian product is swept.
      fixed: ``{name: value}`` passed to every config (floats traced, as in a run).
      seeds: ints ≥ 0, each keying an initial point and a batch order shared by all configs.
      steps, batch_size, log_every, divergence_factor: as in :func:`jaxopt_hw.run`.
      tol: tolerance for ``steps_to_tol`` (default: 1% of a positive ``min_loss``, else 1e-6).
      memory_budget: bytes per chunk of its logged results and training state.
      chunk_size: configs per chunk (default: see the module docstring).
      static: grid names to treat as static even though their values are numbers.
      out: a folder for each finished chunk and ``result.npz``; the same call resumes there.
      devices: devices to shard the config axis over (default: see the module docstring).
      progress: a tqdm progress bar when the sweep takes more than one program call.
      keep_params: also return the final parameters (``SweepResult.params``).

    Returns:
      A :class:`SweepResult`.

    Example:
      >>> import jaxopt_hw as jh
      >>> prob = jh.linear_regression(500, 2)
      >>> res = jh.sweep(prob, jh.adam, grid={"learning_rate": [1e-2, 1e-1], "b1": [0.8, 0.9]},
      ...                seeds=[0, 1], steps=200, batch_size=32, progress=False)
      >>> res.loss.shape, sorted(res.best())
      ((2, 2, 2, 200), ['b1', 'final_loss', 'learning_rate'])
    """
    call = _checked_call(problem, optimizer_factory, grid, fixed, seeds, steps, batch_size,
                         log_every, tol, divergence_factor, memory_budget, chunk_size, static,
                         keep_params, out)  # fmt: skip
    engine = _planned_engine(call, devices)  # plan the chunks, place the shared arguments
    fingerprint = None if out is None else _claim(out, call, engine)
    per_static = _run_grid(call, engine, out, progress)  # run or load each chunk
    res = _sweep_result(call, engine, per_static, fingerprint)  # assemble
    if out is not None and jax.process_index() == 0:
        res.save(os.path.join(out, "result.npz"))
    return res


def _planned_engine(call: "_Call", devices) -> Engine:
    """The engine for the traced configs of ``call``: chunks planned, shared arguments placed."""
    return Engine.plan(
        call.problem,
        call.factory,
        {name: call.grid[name] for name in call.traced},
        call.fixed,
        call.first_config,
        call.seeds,
        call.n_configs,
        steps=call.steps,
        batch_size=call.batch_size,
        log_every=call.log_every,
        divergence_factor=call.divergence_factor,
        memory_budget=call.memory_budget,
        chunk_size=call.chunk_size,
        devices=devices,
        keep_params=call.keep_params,
    )


@dataclasses.dataclass(frozen=True)
class _Call:
    """A sweep's arguments, checked: the grid split into traced and static axes."""

    problem: Problem
    factory: Callable
    grid: dict
    fixed: dict
    traced: list
    seeds: list
    steps: int
    batch_size: Optional[int]
    log_every: int
    tol: float
    memory_budget: float
    chunk_size: Optional[int]
    keep_params: bool
    divergence_factor: float

    @property
    def static_names(self) -> list:
        return [name for name in self.grid if name not in self.traced]

    @property
    def traced_shape(self) -> tuple:
        return tuple(len(self.grid[name]) for name in self.traced)

    @property
    def n_configs(self) -> int:
        return math.prod(self.traced_shape)

    @property
    def first_config(self) -> dict:
        return {**self.fixed, **{name: values[0] for name, values in self.grid.items()}}

    @property
    def optimizer_name(self) -> str:
        module = getattr(self.factory, "__module__", None) or ""
        return f"{module}.{getattr(self.factory, '__qualname__', None) or repr(self.factory)}"


def _checked_call(
    problem,
    factory,
    grid,
    fixed,
    seeds,
    steps,
    batch_size,
    log_every,
    tol,
    divergence_factor,
    memory_budget,
    chunk_size,
    static,
    keep_params,
    out,
) -> _Call:
    """The arguments of :func:`sweep`, checked before anything is placed or compiled."""
    log_every = default_log_every(problem, steps, batch_size) if log_every is None else log_every
    steps, batch_size, log_every = check_run_args(
        problem, None, steps, batch_size, log_every, divergence_factor
    )
    keep_params = check_flag("keep_params", keep_params)
    grid, fixed, traced = check_grid(factory, grid, fixed, static)
    check_metric_names(problem, grid)
    seeds = check_seeds(seeds)
    n_configs = math.prod(len(values) for values in grid.values())
    check_results_fit("grid", problem, n_configs, len(seeds), steps // log_every, keep_params)
    if out is not None:
        check_out(out)
    if tol is None:  # 1% of the optimum's loss where it is positive
        tol = 0.01 * problem.min_loss if problem.min_loss else 1e-6
    return _Call(
        problem,
        factory,
        grid,
        fixed,
        traced,
        seeds,
        steps,
        batch_size,
        log_every,
        float(check_number("tol", tol, allow_zero=True)),
        check_number("memory_budget", memory_budget),
        None if chunk_size is None else check_int("chunk_size", chunk_size),
        keep_params,
        divergence_factor,
    )


#: Versions of what a saved chunk holds; a folder of another version is not resumed. 3: initial
#: points drawn on the host; 4: the fingerprint covers data and code; 5: initial points drawn
#: apart from the data, least squares' excess loss in closed form; 6: numeric fixed values
#: traced (they round as in a run); 7: least squares with d > 32 computed with the configs on
#: the minor axis (it rounds otherwise); 8: other batch orders (epochs of n ≤ 64 drawn
#: exactly, more Feistel rounds on small domains).
CHUNK_FORMAT = 8


def _claim(out, call: _Call, engine: Engine) -> str:
    """Makes ``out`` the folder of this sweep (or checks that it is) and returns its
    fingerprint; a sweep without ``chunk_size`` resumes in the chunks the folder holds."""
    spec = {
        "problem": call.problem.name,
        "optimizer": call.optimizer_name,
        "names": list(call.grid),
        "grid": call.grid,
        "fixed": call.fixed,
        "seeds": call.seeds,
        "steps": call.steps,
        "batch_size": call.batch_size,
        "log_every": call.log_every,
        "divergence_factor": call.divergence_factor,
        "chunk": engine.chunk_size,
        "traced": call.traced,
        "chunk_format": CHUNK_FORMAT,
    }
    if call.keep_params:  # chunks then hold the parameters too
        spec["keep_params"] = True
    identity = {
        "problem": problem_signature(call.problem),
        "optimizer": call.factory,
        "initial_points": engine.initial_points,
    }
    fingerprint = fingerprint_of({**spec, **identity})
    if call.chunk_size is None:  # a derived size depends on the devices and the cache
        spec, fingerprint = resumed_chunks(out, spec, fingerprint, identity)
        engine.chunk_size = spec["chunk"]
    claim_folder(out, fingerprint, spec)
    return fingerprint


def _run_grid(call: _Call, engine: Engine, out, progress: bool) -> list:
    """Every config of the grid through ``engine``, one run per static combination."""
    combos = list(itertools.product(*(call.grid[name] for name in call.static_names)))
    traced_values = grid_rows(call.grid, call.traced)
    fixed_static = {
        name: value for name, value in call.fixed.items() if name not in engine.fixed_traced
    }
    n_chunks = math.ceil(call.n_configs / engine.chunk_size)
    bar = _progress_bar(len(combos) * call.n_configs, len(combos) * n_chunks, progress)
    per_static = []
    for index, combo in enumerate(combos):
        static_kwargs = {**fixed_static, **dict(zip(call.static_names, combo))}
        folder = None if out is None else (out, f"chunk_{index:04d}")
        per_static.append(
            engine.run(
                static_kwargs, dict(zip(call.traced, traced_values.T)), folder=folder, bar=bar
            )
        )
    bar.close()
    return per_static


def _sweep_result(call: _Call, engine: Engine, per_static: list, fingerprint) -> SweepResult:
    """The pieces of every static combination as one :class:`SweepResult` over the grid's axes."""
    initial = per_static[0]["initial_loss"]
    pieces = [
        {key: value for key, value in piece.items() if key != "initial_loss"}
        for piece in per_static
    ]
    result = _assemble(
        pieces,
        call.grid,
        list(call.grid),
        call.static_names,
        call.traced,
        call.traced_shape,
        call.seeds,
    )
    params = None
    if call.keep_params:
        params = jax.tree.unflatten(jax.tree.structure(engine.initial_points), result["params"])
    meta = {
        "problem": call.problem.name,
        "optimizer": call.optimizer_name,
        "fixed": call.fixed,
        "batch_size": call.batch_size,
        "steps": call.steps,
        "log_every": call.log_every,
        "traced": call.traced,
        "static": call.static_names,
        "chunk_size": engine.chunk_size,
        "n_chunks": math.ceil(call.n_configs / engine.chunk_size),
        "devices": len(engine.devices),
        "processes": jax.process_count(),
        "fingerprint": fingerprint,
        **engine.timings,
    }
    return SweepResult(
        axes={**call.grid, "seed": call.seeds},
        curves=result["curves"],
        steps=np.arange(call.log_every, call.steps + 1, call.log_every),
        diverged=result["diverged"],
        initial_loss=initial,
        tol=call.tol,
        params=params,
        meta=meta,
    )


def _assemble(per_static, grid, names, static_names, traced, traced_shape, seeds):
    """Merges the per-static-combination pieces ``(configs, seeds, ...)`` into arrays over
    the grid's axes in the user's order."""
    static_shape = tuple(len(grid[n]) for n in static_names)
    stacked = {k: concatenated([piece[k][None] for piece in per_static]) for k in per_static[0]}
    order = static_names + traced  # the axes as stacked
    permutation = [order.index(n) for n in names]
    assembled = {}
    for key, array in stacked.items():
        trailing = array.shape[2:]  # (seeds, [logs])
        array = array.reshape(static_shape + traced_shape + trailing)
        tail = list(range(len(order), array.ndim))
        assembled[key] = np.transpose(array, permutation + tail)
    kept = sorted(
        (k for k in assembled if k.startswith("param_")), key=lambda k: int(k[len("param_") :])
    )
    return {
        "curves": {k[len("curve_") :]: v for k, v in assembled.items() if k.startswith("curve_")},
        "diverged": assembled["diverged"],
        "params": [assembled[k] for k in kept],
    }


def _progress_bar(total_configs: int, n_calls: int, enabled: bool):
    """A tqdm bar over the configs (times static combinations) a sweep computes, updated
    after each chunk: its rate and remaining time read in configs, whatever the chunk size
    (in thousands or millions for large grids). Off for a sweep of one program call."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total_configs,
        desc="sweep",
        unit="config",
        unit_scale=total_configs >= 10_000,
        disable=not enabled or n_calls <= 1,
    )
