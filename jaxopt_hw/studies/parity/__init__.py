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

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jaxopt_hw as jh
from jaxopt_hw import plots
from jaxopt_hw.problems import Problem
from jaxopt_hw.studies import Settings, StudyResult, fmt, formatted
from jaxopt_hw.studies.parity.copies import excess_loss, parallel, side_by_side

__all__ = [
    "NAME",
    "TITLE",
    "run",
    "measure",
    "facts",
    "Data",
    "side_by_side",
    "parallel",
    "excess_loss",
    "PAIRS",
]

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

DTYPES = ("float32", "float64")
COUNTERPARTS = {
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
#: float64 trajectories this close are the same algorithm (float32 gaps are then round-off)
SAME_ALGORITHM = 1e-12
#: speeds are "equally fast" when every ratio is within this of 1 (or 3 timing spreads)
SPEED_TOL = 0.1


@dataclasses.dataclass
class Data:
    """What the study measured: the relative-difference curves and final excess losses per
    ``(size, dtype, optimizer)``, and the steps per second per ``(size, optimizer, side)``."""

    sizes: tuple
    timed_sizes: tuple
    steps: int
    curves: dict
    excess: dict
    speed: dict
    spreads: list

    @property
    def ratios(self) -> dict:
        """``{(size, optimizer): ours over optax's steps per second}``."""
        return {
            (size, name): self.speed[(size, name, "ours")] / self.speed[(size, name, "optax")]
            for size, name, side in self.speed
            if side == "ours"
        }

    def worst(self, dtype: str, momentum: bool = False) -> tuple:
        """The ``(size, dtype, optimizer)`` with the largest difference in ``dtype``, among
        Momentum alone or among the others (which share optax's arithmetic)."""
        chosen = {
            k: np.max(v)
            for k, v in self.curves.items()
            if k[1] == dtype and (k[2] == "momentum") == momentum
        }
        return max(chosen, key=chosen.get)

    def to_json(self) -> dict:
        slowest = min(self.ratios, key=self.ratios.get)
        return {
            "curves": {
                f"{size}.{dt}.{name}": np.asarray(c)[:: max(1, self.steps // 200)].tolist()
                for (size, dt, name), c in self.curves.items()
            },
            "steps_per_s": {f"{s}.{name}.{side}": v for (s, name, side), v in self.speed.items()},
            "sizes": list(self.sizes),
            "timed_sizes": list(self.timed_sizes),
            "max_rel_diff_at": {
                dt: {"size": w[0], "optimizer": w[2]} for dt, w in self.worsts().items()
            },
            "slowest_relative_to_optax": {"size": slowest[0], "optimizer": slowest[1]},
        }

    def worsts(self) -> dict:
        return {dt: self.worst(dt) for dt in DTYPES}


def measure(settings: Settings) -> Data:
    """Trains every pair side by side per (problem, dtype), then times the timed pairs."""
    sizes = SIZES_QUICK if settings.quick else SIZES_FULL
    timed_sizes = ("medium",) if settings.quick else sizes
    timed_pairs = TIMED_QUICK if settings.quick else PAIRS
    seed = int(settings.seeds[0])
    curves, excess = {}, {}
    for dtype_name in DTYPES:
        with jax.enable_x64(dtype_name == "float64"):
            for size in sizes:
                run_curves, run_excess = _trajectories(size, jnp.dtype(dtype_name), seed, STEPS)
                for name in PAIRS:
                    curves[(size, dtype_name, name)] = run_curves[name]
                    excess[(size, dtype_name, name)] = run_excess[name]
    speed, spreads = {}, []
    for size in timed_sizes:
        prob = jh.homework_problem(size)
        pairs = _pairs(prob.L)
        for name in timed_pairs:
            timed = _time_pair(prob, pairs[name], TIMING_STEPS)
            for side, (rate, spread) in zip(("ours", "optax"), timed):
                speed[(size, name, side)] = rate
                spreads.append(spread)
    return Data(sizes, timed_sizes, STEPS, curves, excess, speed, spreads)


def facts(data: Data) -> dict:
    """The study's facts: every pair's largest difference and final excess loss, the worst
    per dtype, and the speed ratios with the timing noise."""
    out: dict = {
        "steps": data.steps,
        "timing_steps": TIMING_STEPS,
        "batch_size": BATCH_SIZE,
        "n_optimizers": len(PAIRS),
        "n_problems": len(data.sizes),
    }
    for (size, dtype_name, name), curve in data.curves.items():
        out[f"{size}.{dtype_name}.{name}.max_rel_diff"] = float(np.max(curve))
        out[f"{size}.{dtype_name}.{name}.final_excess"] = data.excess[(size, dtype_name, name)]
    for (size, name, side), value in data.speed.items():
        out[f"{size}.{name}.{side}.steps_per_s"] = float(value)
    for dtype_name in DTYPES:
        out[f"{dtype_name}.max_rel_diff"] = float(np.max(data.curves[data.worst(dtype_name)]))
        momentum = data.curves[data.worst(dtype_name, momentum=True)]
        out[f"{dtype_name}.momentum.max_rel_diff"] = float(np.max(momentum))
        out[f"{dtype_name}.eps"] = float(jnp.finfo(jnp.dtype(dtype_name)).eps)
    ratios = list(data.ratios.values())
    out["speed_ratio.min"] = float(min(ratios))
    out["speed_ratio.max"] = float(max(ratios))
    out["speed_ratio.median"] = float(np.median(ratios))
    out["speed.n_timed"] = len(ratios)
    out["timing_spread_percent"] = 100 * float(np.median(data.spreads))
    out["timing_repeats"] = TIMING_REPEATS
    out["n_same_arithmetic"] = len(PAIRS) - 1
    out["speed_ratio.max_off"] = float(max(abs(r - 1) for r in ratios))
    out["same_algorithm"] = SAME_ALGORITHM
    out["speed_tol"] = SPEED_TOL
    return out


# --------------------------------------------------------------------------- the text


def _problems(sizes, f) -> str:
    if len(sizes) == 1:
        return f"the {sizes[0]} problem"
    return f"{f['n_problems']} problems"


def _same_algorithm(facts: dict) -> bool:
    return facts["float64.max_rel_diff"] < facts["same_algorithm"]


def _equally_fast(facts: dict) -> bool:
    noise = max(facts["speed_tol"], 3 * facts["timing_spread_percent"] / 100)
    return facts["speed_ratio.max_off"] <= noise


def roundoff_conclusion(facts: dict) -> str:
    """The trajectories agree "to round-off" only when float64 shows no difference of algorithm."""
    f = formatted(facts)
    if _same_algorithm(facts):
        return (
            f"Our optimizers follow optax's trajectories to round-off: at most "
            f"{f['float32.max_rel_diff']} apart in float32 and {f['float64.max_rel_diff']} in "
            f"float64."
        )
    return (
        f"Our optimizers and optax's drift apart by up to {f['float64.max_rel_diff']} even in "
        f"float64 ({f['float32.max_rel_diff']} in float32): more than round-off."
    )


def speed_conclusion(facts: dict) -> str:
    """The speeds are "equally fast" only when every ratio lies within the timing noise."""
    f = formatted(facts)
    if _equally_fast(facts):
        return (
            f"They run at a median {f['speed_ratio.median']} times optax's steps per second, "
            f"equally fast within the timing noise."
        )
    return (
        f"They run at a median {f['speed_ratio.median']} times optax's steps per second "
        f"({f['speed_ratio.min']} to {f['speed_ratio.max']}), beyond the timing noise: worth "
        f"re-timing on an idle machine."
    )


def float32_detail(facts: dict, sizes, worst: tuple) -> str:
    """The largest float32 difference, where it occurs, against machine epsilon."""
    f = formatted(facts)
    return (
        f"In float32 the largest relative difference between our trajectory and optax's, over the "
        f"{f['n_same_arithmetic']} optimizers that share optax's arithmetic, "
        f"{_problems(sizes, f)} and {f['steps']} steps, is {f['float32.max_rel_diff']} "
        f"({LABELS[worst[2]]} on the "
        f"{worst[0]} problem), against a float32 machine epsilon of {f['float32.eps']}."
    )


def float64_detail(facts: dict) -> str:
    """The float64 difference: round-off only below ``facts["same_algorithm"]``."""
    f = formatted(facts)
    return f"In float64 it is {f['float64.max_rel_diff']} (machine epsilon {f['float64.eps']})" + (
        ", so the float32 differences are round-off, not a difference of algorithm."
        if _same_algorithm(facts)
        else ": larger than round-off alone would explain, so some pair differs in more than its "
        "arithmetic."
    )


def momentum_detail(facts: dict) -> str:
    """Momentum's difference, which differs from optax's in its arithmetic."""
    f = formatted(facts)
    return (
        f"Momentum, which we write as an average of gradients and optax as a heavy-ball velocity "
        f"(the same iterates in exact arithmetic), differs by at most "
        f"{f['float32.momentum.max_rel_diff']} in float32 and {f['float64.momentum.max_rel_diff']} "
        f"in float64."
    )


def speed_detail(facts: dict, slowest: tuple) -> str:
    """The speed ratios in full, against the spread of repeated calls."""
    f = formatted(facts)
    return (
        f"Inside the same compiled `jh.run` loop ours run at a median {f['speed_ratio.median']} "
        f"times optax's steps per second over {f['speed.n_timed']} timed pairs (from "
        f"{f['speed_ratio.min']} to {f['speed_ratio.max']}; lowest: {LABELS[slowest[1]]} on the "
        f"{slowest[0]} problem), while repeated calls of one program differ by a median "
        f"{f['timing_spread_percent']}% between the median and the fastest of "
        f"{f['timing_repeats']} calls: "
        + (
            "within that noise the two are equally fast."
            if _equally_fast(facts)
            else "the pairs furthest from 1 are worth re-timing on an idle machine."
        )
    )


def text(facts: dict) -> str:
    """What was run, in one paragraph."""
    f = formatted(facts)
    return (
        f"Each optimizer and its optax counterpart train from the same start on the same batches "
        f"(batch {f['batch_size']}, {f['steps']} steps) of the homework problems, in float32 and "
        f"float64. Speeds: steps per second of `jh.run` over {f['timing_steps']} steps."
    )


def table(data: Data) -> str:
    """Per optimizer: its largest relative difference per dtype over the problems, and its
    median speed ratio over the timed problems."""
    rows = [
        "| optimizer | max rel. diff. float32 | float64 | steps/s, ours / optax |",
        "| --- | --- | --- | --- |",
    ]
    for name in PAIRS:
        diffs = [
            fmt(float(max(np.max(data.curves[(s, dt, name)]) for s in data.sizes))) for dt in DTYPES
        ]
        ratios = [r for (_, n), r in data.ratios.items() if n == name]
        speed = fmt(float(np.median(ratios))) if ratios else "—"
        rows.append(f"| {LABELS[name]} | {' | '.join(diffs)} | {speed} |")
    return "\n".join(rows)


def detail_table(data: Data) -> str:
    """Every pair's largest relative difference per problem and dtype, and its steps per second."""
    sizes, timed = data.sizes, data.timed_sizes
    header = (
        "| optimizer | optax counterpart | "
        + " | ".join(f"max rel. diff. {size} {dt}" for size in sizes for dt in ("f32", "f64"))
        + " | "
        + " | ".join(f"steps/s {size} (ours / optax)" for size in timed)
        + " |"
    )
    rows = [header, "|" + " --- |" * (2 + 2 * len(sizes) + len(timed))]
    for name in PAIRS:
        cells = [LABELS[name], COUNTERPARTS[name]]
        cells += [fmt(float(np.max(data.curves[(s, dt, name)]))) for s in sizes for dt in DTYPES]
        for size in timed:
            ours, theirs = (
                data.speed.get((size, name, "ours")),
                data.speed.get((size, name, "optax")),
            )
            cells.append("—" if ours is None else f"{fmt(ours)} / {fmt(theirs)}")
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _figure(curves: dict, size: str, path) -> None:
    """The running maximum of the relative difference per step (log scale); pairs whose
    trajectories are bitwise identical (difference 0 throughout) are listed instead."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, dtype in zip(axes, DTYPES):
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
                color=plots.color(i),
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


def run(settings: Settings) -> StudyResult:
    """Measures, derives the facts, draws the figure and writes the text."""
    data = measure(settings)
    found = facts(data)
    figure_name = f"{NAME}_relative_difference.png"
    _figure(data.curves, "medium", settings.figure_path(figure_name))
    caption = (
        "Largest relative difference so far, ours against optax's (medium problem); dotted: ε."
    )
    return StudyResult(
        name=NAME,
        title=TITLE,
        facts=found,
        data=data.to_json(),
        figures=[(figure_name, caption)],
        tables=[table(data)],
        conclusions=[roundoff_conclusion(found), speed_conclusion(found)],
        text=text(found),
        details=[
            float32_detail(found, data.sizes, data.worst("float32")),
            float64_detail(found),
            momentum_detail(found),
            speed_detail(found, min(data.ratios, key=data.ratios.get)),
        ],
        detail_tables=[detail_table(data)],
    )
