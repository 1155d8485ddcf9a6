"""Parity with optax: each of our optimizers beside its optax counterpart.

On the homework's least-squares problems (``homework_problem("small")``, ``"medium"``
and, unless quick, ``"large"``) every optimizer of ours and its optax counterpart train
from the same initial point on the same minibatches (batch 32), in float32 and in
float64. The correspondences are the ones our docstrings state and
``tests/test_optimizers.py`` pins down:

=============================  ==============================================================
ours                           optax
=============================  ==============================================================
``sgd(α)``                     ``optax.sgd(α)``
``momentum(α, β)``             ``optax.sgd(α(1−β), momentum=β)`` (different arithmetic:
                               our velocity is ``(1−β)`` times optax's)
``heavy_ball(α, β)``           ``optax.sgd(α, momentum=β)``
``heavy_ball(α, β, True)``     ``optax.sgd(α, momentum=β, nesterov=True)``
``rmsprop(α, γ, ε)``           ``optax.rmsprop(α, γ, ε, eps_in_sqrt=True)``
``adam``, ``adamw``,           ``optax.adam``, ``optax.adamw``, ``optax.amsgrad``,
``amsgrad``, ``adagrad``       ``optax.adagrad`` with the same arguments
=============================  ==============================================================

Measured: the largest relative difference ``max_t ‖w_t − w'_t‖ / ‖w'_t‖`` between the two
trajectories over the run, and the steps per second of each (``jh.run`` in float32, the
best of a few calls after a warm-up call that compiles).

To keep the study quick, the trajectories of all the optimizers of one (problem, dtype)
come from *one* compiled ``jh.run``: :func:`side_by_side` makes a problem whose
parameters are a dict of independent copies of the problem's parameters (its loss is the
sum of the copies' losses, so each copy gets exactly its own gradient, on the same
batches), and :func:`parallel` runs one optimizer on each copy. Only the timings need one
compiled program per optimizer.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jaxopt_hw as jh
from jaxopt_hw import plots
from jaxopt_hw.problems import Optimum, Problem
from jaxopt_hw.studies import Settings, StudyResult, fmt

__all__ = ["NAME", "TITLE", "run", "side_by_side", "parallel", "excess_loss", "PAIRS"]

NAME = "parity"
TITLE = "Parity with optax: the same trajectories, and their speed"

BATCH_SIZE = 32
STEPS = 1000
#: Quick runs compare on the medium problem only and time two pairs: compiling dominates
#: (about half a second per program, and one program per timed optimizer).
SIZES_QUICK = ("medium",)
SIZES_FULL = ("small", "medium", "large")
TIMED_QUICK = ("sgd", "adam")
TIMING_REPEATS = 7
#: steps of a timed call (long enough that the call's fixed overhead is negligible)
TIMING_STEPS = 10_000

BETA = 0.9
ADAPTIVE_LR = 1e-2
ADAGRAD_LR = 0.1
WEIGHT_DECAY = 1e-4


def _pairs(L: float) -> dict:
    """``{name: (ours, optax's)}`` for a problem whose Hessian's largest eigenvalue is
    ``L``: the momentum methods get steps well inside their stability limits
    (``αL`` below ``2(1+β)``; for the EMA momentum ``α(1−β)L``), the adaptive ones the
    homework's ``1e-2``."""
    gd = 0.5 / L
    hb = 0.2 / L
    ema = 2.0 / L
    return {
        "sgd": (jh.sgd(gd), optax.sgd(gd)),
        "momentum": (jh.momentum(ema, BETA), optax.sgd(ema * (1 - BETA), momentum=BETA)),
        "heavy_ball": (jh.heavy_ball(hb, BETA), optax.sgd(hb, momentum=BETA)),
        "nesterov": (
            jh.heavy_ball(hb, BETA, nesterov=True),
            optax.sgd(hb, momentum=BETA, nesterov=True),
        ),
        "rmsprop": (
            jh.rmsprop(ADAPTIVE_LR, 0.9, 1e-8),
            optax.rmsprop(ADAPTIVE_LR, decay=0.9, eps=1e-8, eps_in_sqrt=True),
        ),
        "adam": (jh.adam(ADAPTIVE_LR), optax.adam(ADAPTIVE_LR)),
        "adamw": (
            jh.adamw(ADAPTIVE_LR, weight_decay=WEIGHT_DECAY),
            optax.adamw(ADAPTIVE_LR, weight_decay=WEIGHT_DECAY),
        ),
        "amsgrad": (jh.amsgrad(ADAPTIVE_LR), optax.amsgrad(ADAPTIVE_LR)),
        "adagrad": (jh.adagrad(ADAGRAD_LR), optax.adagrad(ADAGRAD_LR)),
    }


#: The names of the pairs, in table order.
PAIRS = tuple(_pairs(1.0))
LABELS = {
    "sgd": "SGD",
    "momentum": "Momentum",
    "heavy_ball": "heavy ball",
    "nesterov": "Nesterov",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    "adamw": "AdamW",
    "amsgrad": "AMSGrad",
    "adagrad": "AdaGrad",
}


# --------------------------------------------------------------------------- side by side


@dataclasses.dataclass(frozen=True)
class _SumLoss:
    """``(params, batch) -> Σ_k base(params[k], batch)``: each copy's gradient is its own."""

    base: Callable

    def __call__(self, params, batch):
        return sum(self.base(params[k], batch) for k in params)


@dataclasses.dataclass(frozen=True)
class _SumFullLoss:
    base: Callable

    def __call__(self, params, aux):
        return sum(self.base(params[k], aux) for k in params)


@dataclasses.dataclass(frozen=True)
class _Replicated:
    """``seed -> {name: base(seed)}``: every copy starts at the problem's own initial point."""

    base: Callable
    names: tuple

    def __call__(self, seed):
        params = self.base(seed)
        return {name: params for name in self.names}


def side_by_side(problem: Problem, names) -> Problem:
    """``problem`` with its parameters copied once per name: ``{name: params}``.

    The loss is the sum of the copies' losses, so each copy's gradient is exactly the
    gradient the problem would give it, and ``jh.run`` feeds all copies the same batches
    (those of a single run with the same seed) from the same initial point. The logged
    ``loss``/``excess_loss`` are sums over the copies; :func:`excess_loss` gives each
    copy's from a recorded trajectory. Copies are independent except through the
    divergence guard, which freezes all of them at once (check ``trace.diverged``).
    """
    names = tuple(names)
    if len(set(names)) != len(names) or not names:
        raise ValueError(f"names must be distinct and non-empty, got {names}")
    return dataclasses.replace(
        problem,
        name=f"{problem.name} x{len(names)}",
        loss_fn=_SumLoss(problem.loss_fn),
        full_loss_fn=_SumFullLoss(problem.full_loss_fn),
        initial_params=_Replicated(problem.initial_params, names),
        error_fn=None,
        optimum=None
        if problem.optimum is None
        else Optimum({name: problem.w_star for name in names}, problem.min_loss * len(names)),
        forms=None,
    )


def parallel(optimizers: dict) -> optax.GradientTransformation:
    """One optimizer per key of a dict of parameters: ``{name: tx}`` acting on
    ``{name: params}`` (each gets its own gradients, state and parameters)."""
    optimizers = dict(optimizers)

    def init(params):
        return {k: tx.init(params[k]) for k, tx in optimizers.items()}

    def update(grads, state, params=None):
        out = {
            k: tx.update(grads[k], state[k], None if params is None else params[k])
            for k, tx in optimizers.items()
        }
        return {k: u for k, (u, _) in out.items()}, {k: s for k, (_, s) in out.items()}

    return optax.GradientTransformation(init, update)


def excess_loss(problem: Problem, params) -> np.ndarray:
    """The excess loss ``f(w) − f*`` of least-squares parameters ``params`` (any leading
    axes), in float64 on the host: ``‖Cᵀ(w − w*)‖²`` with ``CCᵀ = XᵀX/n``."""
    chol = np.asarray(problem.aux["chol"], np.float64)
    offset = (np.asarray(params, np.float64) - np.asarray(problem.aux["w_star"], np.float64)) @ chol
    return np.sum(offset**2, axis=-1)


# --------------------------------------------------------------------------- measuring


def _relative_difference(ours, theirs) -> np.ndarray:
    """``‖a_t − b_t‖ / ‖b_t‖`` along the trajectory (float64 on the host)."""
    a, b = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    return np.linalg.norm(a - b, axis=-1) / np.maximum(
        np.linalg.norm(b, axis=-1), np.finfo(np.float64).tiny
    )


def _trajectories(size: str, dtype, seed: int, steps: int):
    """``{pair: relative difference curve}`` and the run's facts for one problem/dtype."""
    prob = jh.homework_problem(size, dtype=dtype)
    pairs = _pairs(prob.L)
    names = [f"{name}/{side}" for name in pairs for side in ("ours", "optax")]
    txs = {f"{name}/ours": ours for name, (ours, _) in pairs.items()}
    txs.update({f"{name}/optax": theirs for name, (_, theirs) in pairs.items()})
    trace = jh.run(
        side_by_side(prob, names),
        parallel({k: txs[k] for k in names}),
        steps=steps,
        batch_size=BATCH_SIZE,
        seed=seed,
        log_every=1,
        record_params=True,
    )
    if bool(trace.diverged):
        raise RuntimeError(f"a parity run diverged on {size} in {jnp.dtype(dtype).name}")
    curves = {
        name: _relative_difference(trace.params[f"{name}/ours"], trace.params[f"{name}/optax"])
        for name in pairs
    }
    final_excess = {
        name: float(excess_loss(prob, trace.params[f"{name}/ours"][-1])) for name in pairs
    }
    return curves, final_excess


def _time_pair(prob: Problem, txs, steps: int) -> list:
    """For each optimizer of ``txs``: ``(steps per second, spread)``, from the best wall time
    of ``jh.run`` over ``TIMING_REPEATS`` calls after a warm-up call that compiles. The
    calls of the optimizers alternate, so both see the same background load; ``spread`` is
    the median call's time over the best one's, minus 1 (the timing noise)."""

    def call(tx, seed):
        start = time.perf_counter()
        jax.block_until_ready(jh.run(prob, tx, steps=steps, batch_size=BATCH_SIZE, seed=seed))
        return time.perf_counter() - start

    for tx in txs:
        call(tx, 0)
    times = [[] for _ in txs]
    for repeat in range(TIMING_REPEATS):
        for i, tx in enumerate(txs):
            times[i].append(call(tx, repeat + 1))
    return [(steps / min(t), float(np.median(t) / min(t) - 1)) for t in times]


# --------------------------------------------------------------------------- the study


def _figure(curves: dict, size: str, path) -> None:
    """The running maximum of the relative difference per step (log scale); pairs whose
    trajectories are bitwise identical (difference 0 throughout) are listed instead."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, dtype in zip(axes, ("float32", "float64")):
        identical = []
        for i, name in enumerate(PAIRS):
            running = np.maximum.accumulate(curves[(size, dtype, name)])
            if not np.any(running > 0):
                identical.append(LABELS[name])
                continue
            shown = np.where(running > 0, running, np.nan)
            ax.plot(
                np.arange(len(shown)),
                shown,
                label=LABELS[name],
                color=plots._color(i),
                linewidth=1.4,
            )
        eps = float(jnp.finfo(jnp.dtype(dtype)).eps)
        ax.axhline(eps, color="black", linestyle=":", linewidth=1.0)
        ax.annotate("machine ε", (0, eps), va="bottom", fontsize=8)
        ax.set_yscale("log")
        ax.set_ylim(eps / 100, max(1e-3, ax.get_ylim()[1]))
        ax.set_xlabel("step")
        ax.set_ylabel("max so far of ‖w_ours − w_optax‖ / ‖w_optax‖")
        ax.set_title(f"{dtype}, homework problem '{size}'")
        ax.grid(True, alpha=0.3)
        if identical:
            ax.text(
                0.98,
                0.02,
                "bitwise identical:\n" + ", ".join(identical),
                transform=ax.transAxes,
                ha="right",
                va="bottom",
                fontsize=8,
                bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"},
            )
        if ax.get_lines()[1:]:
            ax.legend(fontsize=8, loc="upper left")
    plots.save_figure(fig, path)


def _problems(sizes, f) -> str:
    if len(sizes) == 1:
        return f"the {sizes[0]} problem"
    return f"{f['n_problems']} problems"


def run(settings: Settings) -> StudyResult:
    sizes = SIZES_QUICK if settings.quick else SIZES_FULL
    timed_sizes = ("medium",) if settings.quick else sizes
    timed_pairs = TIMED_QUICK if settings.quick else PAIRS
    seed = int(settings.seeds[0])
    steps = STEPS
    facts: dict = {
        "steps": steps,
        "timing_steps": TIMING_STEPS,
        "batch_size": BATCH_SIZE,
        "n_optimizers": len(PAIRS),
        "n_problems": len(sizes),
    }
    curves, excess = {}, {}
    for dtype_name in ("float32", "float64"):
        with jax.enable_x64(dtype_name == "float64"):
            for size in sizes:
                run_curves, run_excess = _trajectories(size, jnp.dtype(dtype_name), seed, steps)
                for name in PAIRS:
                    curves[(size, dtype_name, name)] = run_curves[name]
                    excess[(size, dtype_name, name)] = run_excess[name]

    speed, spreads = {}, []
    for size in timed_sizes:
        prob = jh.homework_problem(size)
        pairs = _pairs(prob.L)
        for name in timed_pairs:
            for side, (rate, spread) in zip(
                ("ours", "optax"), _time_pair(prob, pairs[name], TIMING_STEPS)
            ):
                speed[(size, name, side)] = rate
                spreads.append(spread)

    # facts
    for (size, dtype_name, name), curve in curves.items():
        facts[f"{size}.{dtype_name}.{name}.max_rel_diff"] = float(np.max(curve))
        facts[f"{size}.{dtype_name}.{name}.final_excess"] = excess[(size, dtype_name, name)]
    for (size, name, side), value in speed.items():
        facts[f"{size}.{name}.{side}.steps_per_s"] = float(value)
    worst_of = {}
    for dtype_name in ("float32", "float64"):
        same = {
            k: np.max(v) for k, v in curves.items() if k[1] == dtype_name and k[2] != "momentum"
        }
        worst = max(same, key=same.get)
        facts[f"{dtype_name}.max_rel_diff"] = float(same[worst])
        worst_of[dtype_name] = worst
        facts[f"{dtype_name}.momentum.max_rel_diff"] = float(
            max(np.max(v) for k, v in curves.items() if k[1] == dtype_name and k[2] == "momentum")
        )
        facts[f"{dtype_name}.eps"] = float(jnp.finfo(jnp.dtype(dtype_name)).eps)
    ratios = {
        (size, name): speed[(size, name, "ours")] / speed[(size, name, "optax")]
        for size, name, side in speed
        if side == "ours"
    }
    facts["speed_ratio.min"] = float(min(ratios.values()))
    facts["speed_ratio.max"] = float(max(ratios.values()))
    facts["speed_ratio.median"] = float(np.median(list(ratios.values())))
    facts["speed.n_timed"] = len(ratios)
    facts["timing_spread_percent"] = 100 * float(np.median(spreads))
    facts["timing_repeats"] = TIMING_REPEATS
    slowest = min(ratios, key=ratios.get)
    facts["n_same_arithmetic"] = len(PAIRS) - 1

    # table
    header = (
        "| optimizer | optax counterpart | "
        + " | ".join(f"max rel. diff. {size} {dt}" for size in sizes for dt in ("f32", "f64"))
        + " | "
        + " | ".join(f"steps/s {size} (ours / optax)" for size in timed_sizes)
        + " |"
    )
    counterpart = {
        "sgd": "`optax.sgd(α)`",
        "momentum": "`optax.sgd(α(1−β), momentum=β)`",
        "heavy_ball": "`optax.sgd(α, momentum=β)`",
        "nesterov": "`optax.sgd(α, momentum=β, nesterov=True)`",
        "rmsprop": "`optax.rmsprop(α, eps_in_sqrt=True)`",
        "adam": "`optax.adam(α)`",
        "adamw": "`optax.adamw(α, weight_decay=λ)`",
        "amsgrad": "`optax.amsgrad(α)`",
        "adagrad": "`optax.adagrad(α)`",
    }
    rows = [header, "|" + " --- |" * (2 + 2 * len(sizes) + len(timed_sizes))]
    for name in PAIRS:
        cells = [LABELS[name], counterpart[name]]
        cells += [
            fmt(float(np.max(curves[(size, dt, name)])))
            for size in sizes
            for dt in ("float32", "float64")
        ]
        for size in timed_sizes:
            if (size, name, "ours") in speed:
                cells.append(
                    f"{fmt(speed[(size, name, 'ours')])} / {fmt(speed[(size, name, 'optax')])}"
                )
            else:
                cells.append("—")
        rows.append("| " + " | ".join(cells) + " |")
    table = "\n".join(rows)

    f = {k: fmt(v) for k, v in facts.items()}
    conclusions = [
        f"In float32 the largest relative difference between our trajectory and optax's, over the "
        f"{f['n_same_arithmetic']} optimizers that share optax's arithmetic, {_problems(sizes, f)} and "
        f"{f['steps']} steps, is {f['float32.max_rel_diff']} ({LABELS[worst_of['float32'][2]]} on the "
        f"{worst_of['float32'][0]} problem), against a float32 machine epsilon of {f['float32.eps']}.",
        f"In float64 it is {f['float64.max_rel_diff']} (machine epsilon {f['float64.eps']})"
        + (
            ", so the float32 differences are round-off, not a difference of algorithm."
            if facts["float64.max_rel_diff"] < 1e-12
            else ": larger than round-off alone would explain, so some pair differs in more than its arithmetic."
        ),
        f"Momentum, which we write as an average of gradients and optax as a heavy-ball velocity (the same "
        f"iterates in exact arithmetic), differs by at most {f['float32.momentum.max_rel_diff']} in float32 and "
        f"{f['float64.momentum.max_rel_diff']} in float64.",
        f"Inside the same compiled `jh.run` loop ours run at a median {f['speed_ratio.median']} times optax's steps "
        f"per second over {f['speed.n_timed']} timed pairs (from {f['speed_ratio.min']} to {f['speed_ratio.max']}; "
        f"lowest: {LABELS[slowest[1]]} on the {slowest[0]} problem), while repeated calls of one program differ by a "
        f"median {f['timing_spread_percent']}% between the median and the fastest of {f['timing_repeats']} calls: "
        + (
            "within that noise the two are equally fast."
            if max(abs(r - 1) for r in ratios.values())
            <= max(0.1, 3 * facts["timing_spread_percent"] / 100)
            else "the pairs furthest from 1 are worth re-timing on an idle machine."
        ),
    ]
    text = (
        f"Each optimizer and its optax counterpart train from the same initial point on the same minibatches "
        f"(batch {f['batch_size']}, {f['steps']} steps) of the homework's least-squares problems, in float32 and "
        f"float64. The relative difference at a step is `‖w_ours − w_optax‖ / ‖w_optax‖`; the table gives its "
        f"maximum over the run. Speeds are steps per second of `jh.run` (float32, runs of {f['timing_steps']} steps, "
        f"best of several calls after the compiling one)."
    )
    figure_name = f"{NAME}_relative_difference.png"
    _figure(curves, "medium", settings.figure_path(figure_name))
    data = {
        "curves": {
            f"{size}.{dt}.{name}": np.asarray(c)[:: max(1, steps // 200)].tolist()
            for (size, dt, name), c in curves.items()
        },
        "steps_per_s": {f"{size}.{name}.{side}": v for (size, name, side), v in speed.items()},
        "sizes": list(sizes),
        "timed_sizes": list(timed_sizes),
        "max_rel_diff_at": {dt: {"size": w[0], "optimizer": w[2]} for dt, w in worst_of.items()},
        "slowest_relative_to_optax": {"size": slowest[0], "optimizer": slowest[1]},
    }
    return StudyResult(
        name=NAME,
        title=TITLE,
        facts=facts,
        data=data,
        figures=[
            (
                figure_name,
                "Largest relative difference so far between our trajectory and optax's, on the medium problem (left float32, right float64); dotted: machine epsilon.",
            )
        ],
        tables=[table],
        conclusions=conclusions,
        text=text,
    )
