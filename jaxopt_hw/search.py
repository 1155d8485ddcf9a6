r"""Beyond grids: random and successive-halving search, each rung one compiled call.

``search(problem, factory, space)`` draws ``num_configs`` configs from a space of
hyperparameters (:func:`sample_configs`: a scrambled Sobol sequence keyed by ``search_seed``)
and either trains them all for ``steps`` steps, as one sweep (``method="random"``), or runs
successive halving (Jamieson & Talwalkar 2016; the rungs of Hyperband, Li et al. 2018).

Successive halving (:func:`halving_rungs`): rung :math:`r` trains
:math:`\lfloor n/\eta^r \rfloor` configs up to :math:`\min(s_0\eta^r, \text{steps})` steps,
each continuing from its state at the end of the rung before (parameters, optimizer state,
batch position: it ends bitwise where one uninterrupted run of it ends), and the best
:math:`1/\eta` by ``metric`` (mean over seeds; a config that diverged on any seed ranks
last) go on.

Every rung runs all its configs and seeds through the sweep engine (chunked and sharded
as a sweep is), one compiled program per static combination, not one per trial. Without
static hyperparameters all the rungs share one program (:func:`shared_call_steps`): they
run in chunks of the second rung's configs and in calls of the same steps, the first
from a state that starts each run afresh, so a search compiles once, not once a rung.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Callable, NamedTuple, Optional

import jax
import numpy as np

from jaxopt_hw import metrics as metrics_lib
from jaxopt_hw.checks import check_int, check_metric_names, check_run_args, default_log_every
from jaxopt_hw.problems import Problem
from jaxopt_hw.problems.core import check_flag
from jaxopt_hw.search_result import SearchResult, ranked
from jaxopt_hw.spaces import (
    check_space,
    choice,
    ends,
    log_uniform,
    sample_configs,
    uniform,
)
from jaxopt_hw.sweep.engine import Engine
from jaxopt_hw.sweep.plan import check_grid, check_results_fit, check_seeds
from jaxopt_hw.sweep.store import check_out, claim_folder, fingerprint_of, problem_signature

__all__ = [
    "log_uniform",
    "uniform",
    "choice",
    "search",
    "SearchResult",
    "sample_configs",
    "halving_rungs",
    "shared_call_steps",
]


# --------------------------------------------------------------------------- the schedule


class Rung(NamedTuple):
    """A rung of successive halving: its configs train up to ``steps`` in all."""

    steps: int
    configs: int


def halving_rungs(num_configs: int, steps: int, min_steps: int, eta: int) -> list:
    """The rungs of successive halving: rung ``r`` trains ``⌊n/ηʳ⌋`` configs (at least one)
    up to ``min_steps · ηʳ`` steps, the last rung up to ``steps``.

    Example:
      >>> [tuple(r) for r in halving_rungs(27, 1000, 100, 3)]
      [(100, 27), (300, 9), (900, 3), (1000, 1)]
    """
    rungs, budget, count = [], min_steps, num_configs
    while budget < steps and count > 1:
        rungs.append(Rung(budget, count))
        budget, count = budget * eta, max(1, count // eta)
    return rungs + [Rung(steps, count)]


# --------------------------------------------------------------------------- the search


def _check_method(method, eta, min_steps, steps, num_configs) -> tuple:
    if method not in ("halving", "random"):
        raise ValueError(f"method must be 'halving' or 'random', got {method!r}")
    if isinstance(eta, bool) or not isinstance(eta, numbers.Integral) or eta < 2:
        raise ValueError(
            f"eta must be an int >= 2 (the fraction 1/eta survives each rung), got {eta!r}"
        )
    # shorter first rungs favour large learning rates (short-horizon bias, docs/benchmarks.md)
    min_steps = max(1, steps // 4) if min_steps is None else check_int("min_steps", min_steps)
    if min_steps > steps:
        raise ValueError(f"min_steps ({min_steps}) must not exceed steps ({steps})")
    if method == "halving" and num_configs < eta:
        raise ValueError(
            "halving keeps num_configs // eta configs after the first rung: num_configs "
            f"({num_configs}) "
            f"must be at least eta ({eta}), or survivors would outnumber the configs"
        )
    return int(eta), min_steps


def _rung_log_every(problem: Problem, increments: list, batch_size, log_every) -> int:
    """Steps between logs: ``log_every``, which must divide every rung's steps, or by
    default a divisor of their greatest common divisor, about a tenth of it (for a user's
    problem, whose logs are passes over the data, every few epochs as in a run)."""
    common = math.gcd(*increments)
    if log_every is None:
        if problem.full_loss_in_passes:
            return default_log_every(problem, common, batch_size)
        return min(k for k in range(1, common + 1) if common % k == 0 and k * 10 >= common)
    log_every = check_int("log_every", log_every)
    if common % log_every:
        raise ValueError(
            f"log_every ({log_every}) must divide the steps of every rung {increments}"
        )
    return log_every


def _score(piece: dict, metric: str, maximize: bool) -> np.ndarray:
    """Each config's ``metric`` at its last logged step, mean over seeds; NaN where a seed diverged."""
    curve = piece["curve_loss" if metric == "final_loss" else f"curve_{metric}"]
    values = metrics_lib.final_value(curve).astype(float).mean(axis=-1)
    return np.where(piece["diverged"].any(axis=-1), np.nan, values)


def _run_rung(
    plan: _Plan,
    alive: np.ndarray,
    state,
    first: int,
    steps: int,
    keep_state: bool,
    folder,
    bar,
    chunk: int = 0,
) -> dict:
    """The configs ``alive`` trained for ``steps`` more steps from ``state`` (rows aligned
    with ``alive``) at step ``first``: one engine call per static combination among them
    (in chunks of ``chunk`` configs, if given), merged back in ``alive``'s order."""
    configs, static_names = plan.configs, plan.static_names
    combos = [tuple(configs[name][i] for name in static_names) for i in alive]
    pieces, order = [], []
    for group, combo in enumerate(sorted(set(combos), key=repr)):
        rows = np.array([k for k, c in enumerate(combos) if c == combo])
        traced = _traced(plan, alive[rows])
        # a space of static values only draws one config many times: train it once
        trained = rows if traced else rows[:1]
        resume = None if state is None else ([leaf[trained] for leaf in state], first)
        where = None if folder is None else (folder[0], f"{folder[1]}_{group:03d}")
        piece = plan.engine.run(
            {**plan.fixed_static, **dict(zip(static_names, combo))},
            traced,
            resume=resume,
            keep_state=keep_state,
            folder=where,
            bar=bar,
            steps=steps,
            chunk_to=chunk,
        )
        pieces.append(_repeated(piece, len(rows)) if not traced else piece)
        order.append(rows)
    inverse = np.argsort(np.concatenate(order))
    merged = {
        key: np.concatenate([p[key] for p in pieces])[inverse]
        for key in pieces[0]
        if key != "initial_loss"
    }
    return {**merged, "initial_loss": pieces[0]["initial_loss"]}


def _repeated(piece: dict, copies: int) -> dict:
    """An engine call's outputs for one config, as those of ``copies`` equal configs."""
    return {
        key: value if key == "initial_loss" else np.repeat(value, copies, axis=0)
        for key, value in piece.items()
    }


def shared_call_steps(rungs: list) -> Optional[int]:
    """Steps of each engine call when all the rungs share one compiled program (one chunk
    shape and step count, the state kept; a compile costs far more than a call): the
    greatest common divisor of the rungs' steps, if it splits them into at most three
    calls a rung on average; else ``None``: one call (and program) a rung.

    Example:
      >>> shared_call_steps(halving_rungs(81, 1000, 250, 3))  # rungs to 250, 750, 1000
      250
    """
    increments = [b - a for a, b in zip([0] + [r.steps for r in rungs], [r.steps for r in rungs])]
    if len(increments) < 2:
        return None
    common = math.gcd(*increments)
    return common if sum(increments) // common <= 3 * len(increments) else None


def _run_in_calls(
    plan: _Plan, alive, state, first: int, steps: int, call_steps: int, chunk: int, folder, bar
) -> dict:
    """:func:`_run_rung` in calls of ``call_steps`` steps and chunks of ``chunk`` configs,
    each continuing from the state the one before kept (bitwise as one call), their curves
    joined."""
    pieces = []
    starts = range(first, first + steps, call_steps)
    for k, start in enumerate(starts):
        where = None if folder is None else (folder[0], f"{folder[1]}_call{k:02d}")
        counted = bar if k == len(starts) - 1 else None  # each config once a rung
        pieces.append(_run_rung(plan, alive, state, start, call_steps, True, where, counted, chunk))
        state = _kept_state(pieces[-1])
    curves = {
        key: np.concatenate([piece[key] for piece in pieces], axis=-1)
        for key in pieces[0]
        if key.startswith("curve_")
    }
    return {**pieces[-1], **curves, "initial_loss": pieces[0]["initial_loss"]}


def _kept_state(piece: dict) -> list:
    """The training state a call kept, one array per leaf (configs first)."""
    return [piece[f"state_{i}"] for i in range(sum(key.startswith("state_") for key in piece))]


def search(
    problem: Problem,
    optimizer_factory: Callable,
    space: dict,
    *,
    fixed: Optional[dict] = None,
    num_configs: int = 81,
    seeds=(0,),
    search_seed: int = 0,
    steps: int = 1000,
    batch_size: Optional[int] = None,
    method: str = "halving",
    eta: int = 3,
    min_steps: Optional[int] = None,
    metric: str = "final_loss",
    maximize: bool = False,
    log_every: Optional[int] = None,
    sampler: str = "sobol",
    out=None,
    devices=None,
    memory_budget: float = 2**30,
    divergence_factor: float = 1e6,
    progress: bool = True,
) -> SearchResult:
    """Searches ``space`` for the best config of ``optimizer_factory`` on ``problem``.

    Args:
      problem: a :class:`~jaxopt_hw.problems.Problem`.
      optimizer_factory: a factory with keyword hyperparameters, as for :func:`jaxopt_hw.sweep`.
      space: ``{name: jh.log_uniform(...) | jh.uniform(...) | jh.choice([...])}``.
      fixed: hyperparameters passed to every config.
      num_configs: configs to draw.
      seeds: training seeds, as in :func:`jaxopt_hw.sweep`.
      search_seed: keys the drawn configs.
      steps, batch_size, divergence_factor: as in :func:`jaxopt_hw.run`.
      method: ``"halving"`` (successive halving, see the module docstring) or ``"random"``.
      eta: the fraction ``1/eta`` of the configs that survives each rung (an int ≥ 2).
      min_steps: steps of the first rung (default ``steps // 4``: much shorter first rungs
        favour large learning rates, which look best early and end worse).
      metric: ``"final_loss"`` or the name of a held-out metric (its last value).
      maximize: the highest ``metric`` is best (an accuracy).
      log_every: steps between logged metrics; must divide every rung's steps (default:
        about a tenth of their greatest common divisor; every few epochs for a
        :func:`jaxopt_hw.problem`).
      sampler: ``"sobol"`` (scrambled Sobol points) or ``"random"``.
      out: a folder: every rung's chunks are saved there as they finish, and the same call
        again resumes where it stopped, losing nothing; the result is ``out/search.npz``.
      devices, memory_budget: as in :func:`jaxopt_hw.sweep`.
      progress: a progress bar over each rung's configs.

    Returns:
      A :class:`SearchResult`.

    Example:
      >>> import jaxopt_hw as jh
      >>> prob = jh.linear_regression(500, 2)
      >>> found = jh.search(prob, jh.adam, {"learning_rate": jh.log_uniform(1e-3, 1.0)},
      ...                   num_configs=9, steps=90, batch_size=32, min_steps=10, progress=False)
      >>> [int(n) for n in np.bincount(found.rung)]
      [6, 2, 1]
      >>> sorted(found.best_config())
      ['learning_rate']
    """
    if out is not None:
        check_out(out)
    plan = _planned(
        problem, optimizer_factory, space, fixed=fixed, num_configs=num_configs, seeds=seeds,
        search_seed=search_seed, steps=steps, batch_size=batch_size, method=method, eta=eta,
        min_steps=min_steps, metric=metric, maximize=maximize, log_every=log_every,
        sampler=sampler, devices=devices, memory_budget=memory_budget,
        divergence_factor=divergence_factor,
    )  # fmt: skip
    if out is not None:
        _claim(out, plan.spec, problem, optimizer_factory, plan.engine)
    meta = {**plan.spec, "problem": problem.name, "optimizer": repr(optimizer_factory)}
    return _halve(plan, out, progress, meta)


class _Plan(NamedTuple):
    """A checked search, ready to run: its engine, drawn configs and rungs."""

    engine: Engine
    configs: dict  # {name: (num_configs,) values}
    rungs: list
    static_names: list  # the names of ``configs`` that are compiled in
    fixed_static: dict  # the fixed hyperparameters that are compiled in
    log_every: int
    metric: str
    maximize: bool
    spec: dict  # what the result's meta and the folder's fingerprint record


def _planned(
    problem, optimizer_factory, space, *, fixed, num_configs, seeds, search_seed, steps,
    batch_size, method, eta, min_steps, metric, maximize, log_every, sampler, devices,
    memory_budget, divergence_factor,
) -> _Plan:  # fmt: skip
    """Checks the arguments of :func:`search`, draws its configs, lays out its rungs and
    plans the sweep engine that runs them; raises before anything compiles."""
    steps, batch_size, _ = check_run_args(problem, None, steps, batch_size, 1, divergence_factor)
    num_configs = check_int("num_configs", num_configs)
    eta, min_steps = _check_method(method, eta, min_steps, steps, num_configs)
    _check_metric(problem, metric)
    check_metric_names(problem, space if isinstance(space, dict) else {})
    maximize = check_flag("maximize", maximize)
    seeds = check_seeds(seeds)
    search_seed = check_int("search_seed", search_seed, minimum=0)
    check_space(space)
    # check the factory on each dimension's ends and choices: one optimizer per draw is slow
    bounds = {name: ends(dimension) for name, dimension in space.items()}
    _, fixed, traced = check_grid(optimizer_factory, bounds, fixed, ())
    rungs = (
        halving_rungs(num_configs, steps, min_steps, eta)
        if method == "halving"
        else [Rung(steps, num_configs)]
    )
    increments = [b.steps - a for a, b in zip([0] + [r.steps for r in rungs], rungs)]
    log_every = _rung_log_every(problem, increments, batch_size, log_every)
    check_results_fit("num_configs", problem, num_configs, len(seeds), steps // log_every)
    configs = sample_configs(space, num_configs, search_seed, sampler)
    engine = Engine.plan(
        problem, optimizer_factory, {name: bounds[name] for name in traced}, fixed,
        {**fixed, **{name: values[0] for name, values in bounds.items()}}, seeds, num_configs,
        steps=max(increments), batch_size=batch_size, log_every=log_every,
        divergence_factor=divergence_factor, memory_budget=memory_budget, chunk_size=None,
        devices=devices, keep_params=False,
    )  # fmt: skip
    spec = {
        "space": {name: repr(dimension) for name, dimension in space.items()}, "fixed": fixed,
        "num_configs": num_configs, "seeds": seeds, "search_seed": search_seed, "steps": steps,
        "batch_size": batch_size, "method": method, "eta": eta, "min_steps": min_steps, "metric": metric,
        "maximize": bool(maximize), "log_every": log_every, "sampler": sampler, "chunk": engine.chunk_size,
        "divergence_factor": divergence_factor,
    }  # fmt: skip
    static_names = [name for name in configs if name not in traced]
    fixed_static = {name: value for name, value in fixed.items() if name not in engine.fixed_traced}
    return _Plan(engine, configs, rungs, static_names, fixed_static, log_every, metric,
                 bool(maximize), spec)  # fmt: skip


def _check_metric(problem: Problem, metric) -> None:
    if metric != "final_loss" and metric not in problem.eval_names:
        raise ValueError(
            f"metric must be 'final_loss' or one of the problem's held-out metrics "
            f"{list(problem.eval_names)}, got {metric!r}"
        )


def _claim(out, spec: dict, problem: Problem, factory, engine) -> None:
    """Makes ``out`` this search's folder (or checks that it is)."""
    identity = {
        "problem": problem_signature(problem),
        "optimizer": factory,
        "initial_points": engine.initial_points,
    }
    claim_folder(out, fingerprint_of({**spec, **identity}), spec)


def _sharing(plan: _Plan) -> tuple:
    """``(steps a call, configs a chunk)`` when all the rungs share one program
    (:func:`shared_call_steps`): chunks as many configs as the second rung's, padded as
    the engine pads them; ``(None, 0)`` for one program a rung, and always with static
    hyperparameters, whose combinations are programs of their own."""
    call_steps = None if plan.static_names else shared_call_steps(plan.rungs)
    if call_steps is None:
        return None, 0
    return call_steps, plan.engine.padded_chunk(plan.rungs[1].configs, call_steps)


def _traced(plan: _Plan, rows: np.ndarray) -> dict:
    """The traced hyperparameters of the configs at ``rows``."""
    return {
        name: np.asarray(values)[rows]
        for name, values in plan.configs.items()
        if name not in plan.static_names
    }


def _halve(plan: _Plan, out, progress: bool, meta: dict) -> SearchResult:
    """The rungs, one after another: train the survivors, score them, keep the best."""
    from tqdm.auto import tqdm

    configs, rungs, log_every, maximize = plan.configs, plan.rungs, plan.log_every, plan.maximize
    num_configs, n_seeds = len(next(iter(configs.values()))), len(meta["seeds"])
    total_logs = rungs[-1].steps // log_every
    curves, scores = {}, np.full((num_configs, len(rungs)), np.nan)
    reached, diverged = np.zeros(num_configs, int), np.zeros((num_configs, n_seeds), bool)
    alive, state, first = np.arange(num_configs), None, 0
    call_steps, chunk = _sharing(plan)
    if call_steps is not None:
        state = plan.engine.fresh_state(plan.fixed_static, _traced(plan, alive), call_steps)
    for r, rung in enumerate(rungs):
        last = r == len(rungs) - 1
        with tqdm(
            total=len(alive),
            desc=f"rung {r + 1}/{len(rungs)} to {rung.steps} steps",
            unit="config",
            disable=not progress,
        ) as bar:
            folder = None if out is None else (out, f"rung_{r:02d}")
            if call_steps is None:
                piece = _run_rung(
                    plan, alive, state, first, rung.steps - first, not last, folder, bar
                )
            else:
                piece = _run_in_calls(
                    plan, alive, state, first, rung.steps - first, call_steps, chunk, folder, bar
                )
        columns = slice(first // log_every, rung.steps // log_every)
        for key in (k for k in piece if k.startswith("curve_")):
            curves.setdefault(
                key[len("curve_") :], np.full((num_configs, n_seeds, total_logs), np.nan)
            )[alive, :, columns] = piece[key]
        scores[alive, r] = _score(piece, plan.metric, maximize)
        reached[alive], diverged[alive] = r, piece["diverged"]
        if not last:
            keep = np.sort(ranked(scores[alive, r], maximize)[: rungs[r + 1].configs])
            alive, first = alive[keep], rung.steps
            state = [leaf[keep] for leaf in _kept_state(piece)]
    result = SearchResult(
        configs=configs,
        rung=reached,
        rung_steps=[r.steps for r in rungs],
        scores=scores,
        steps=np.arange(log_every, rungs[-1].steps + 1, log_every),
        curves=curves,
        diverged=diverged,
        metric=plan.metric,
        maximize=maximize,
        meta={**meta, **plan.engine.timings, "rung_configs": [r.configs for r in rungs]},
    )
    if out is not None and jax.process_index() == 0:
        result.save(os.path.join(out, "search.npz"))
    return result
