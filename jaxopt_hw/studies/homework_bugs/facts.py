"""The bugs study's facts, from its runs: finals, steps, distances, per problem and variant."""

from __future__ import annotations

import math

import numpy as np

from jaxopt_hw import homework_faithful as hf
from jaxopt_hw import metrics
from jaxopt_hw.problems import HOMEWORK_SIZES
from jaxopt_hw.studies.homework_bugs.measure import (
    BATCH_SIZE,
    BUG_NUMBER,
    CONFIDENCE,
    DROP,
    EARLY_STEP,
    LR_SPREAD,
    MAIN,
    NEAR_ZERO,
    NOT_FAILED,
    OPTIMIZERS,
    STEPS,
    SWEEP_LRS,
    VARIANTS,
    Data,
    SizeRun,
    distances,
    mae,
    values,
    variant_key,
)


def facts(data: Data) -> dict:
    """The study's facts: the shared settings, then each problem's."""
    out = _setup_facts(data.seeds)
    for size in data.sizes:
        _size_facts(out, size, data.runs[size])
    return out


def _setup_facts(seeds) -> dict:
    """The facts every problem shares: the notebook's settings, the bugs' numbers, the lr sweep."""
    hyper = hf.NOTEBOOK_HYPERPARAMETERS
    facts: dict = {
        "steps": STEPS,
        "batch_size": BATCH_SIZE,
        "n_seeds": len(seeds),
        "confidence": CONFIDENCE,
        "drop_percent": int(round(100 * DROP)),
        "early_step": EARLY_STEP,
        "learning_rate": hyper["adam"]["learning_rate"],
        "beta": hyper["momentum"]["beta"],
        "b2": hyper["adam"]["b2"],
        "assign_bound": hyper["rmsprop"]["learning_rate"]
        / math.sqrt(1 - hyper["rmsprop"]["decay"]),
        "bias_factor": math.sqrt(1 - hyper["adam"]["b2"]) / (1 - hyper["adam"]["b1"]),
        "near_zero": NEAR_ZERO,
        "not_failed": NOT_FAILED,
        "lr_spread_percent": 100 * LR_SPREAD,
    }
    for bug, number in BUG_NUMBER.items():
        facts[f"bug.{bug}"] = number
    for i, lr in enumerate(SWEEP_LRS, start=1):
        facts[f"sweep_lr.{i}"] = lr
    for size, (n, d) in HOMEWORK_SIZES.items():
        facts[f"{size}.grad_scale"] = BATCH_SIZE / n
    return facts


def _size_facts(facts: dict, size: str, measured: SizeRun) -> None:
    """Adds the facts of ``size``'s runs (``measured``: :func:`_measure`'s) to ``facts``."""
    n, d = HOMEWORK_SIZES[size]
    facts[f"{size}.n"], facts[f"{size}.d"] = n, d
    facts[f"{size}.zero_excess"] = measured.zero_excess
    facts[f"{size}.mae_zero"] = measured.mae_zero
    facts[f"{size}.mae_opt"] = measured.mae_opt
    finals = {}
    for optimizer in OPTIMIZERS:
        for variant in VARIANTS:
            final, to_drop, early, diverged = values(measured, optimizer, variant)
            finals[optimizer, variant] = final
            interval = metrics.mean_interval(final)
            prefix = f"{size}.{optimizer}.{variant}"
            every_seed_diverged = bool(diverged.all())  # no finite value: the loss "is" infinite
            facts[prefix + ".mean"] = math.inf if every_seed_diverged else float(interval.mean)
            facts[prefix + ".half"] = (
                math.inf if every_seed_diverged else float(interval.half_width)
            )
            if (
                not every_seed_diverged
            ):  # the geometric mean and its interval: positive, as the loss is
                geometric = metrics.log_interval(final)
                facts[prefix + ".gm"], facts[prefix + ".gm_low"] = (
                    float(geometric.center),
                    float(geometric.low),
                )
                facts[prefix + ".gm_high"] = float(geometric.high)
            facts[prefix + ".diverged"] = int(diverged.sum())
            if variant != "returns_initial":  # medians over the seeds that did not diverge
                ok = ~diverged
                facts[prefix + ".steps_to_drop"] = (
                    float(np.median(to_drop[ok])) if ok.any() else math.inf
                )
                facts[prefix + ".early_over_final"] = (
                    float(np.median(early[ok])) if ok.any() else math.nan
                )
        for variant in ("correct", "notebook"):
            final_w = measured.trajectories[variant_key(optimizer, variant)][:, -1]
            facts[f"{size}.{optimizer}.{variant}.mae"] = float(np.mean(mae(measured.prob, final_w)))
    # differences claimed below only when paired over the seeds they are separated at 95%
    shrunk = metrics.paired_ratio(finals["momentum", "correct"], finals["momentum", "grad_over_n"])
    facts[f"{size}.momentum.grad_over_n.lower_separated"] = int(
        shrunk.low > 1.0
    )  # the bug's run ends lower
    first, second = sorted(OPTIMIZERS, key=lambda o: facts[f"{size}.{o}.correct.mean"])[:2]
    facts[f"{size}.correct_top_separated"] = int(
        metrics.paired_ratio(finals[second, "correct"], finals[first, "correct"]).low > 1.0
    )
    for optimizer in ("rmsprop", "adam"):
        trajectory = measured.trajectories[variant_key(optimizer, "assign_step")]
        facts[f"{size}.{optimizer}.assign_step.max_abs_w"] = float(
            np.max(np.abs(trajectory[:, 1:]))
        )
        for variant in ("assign_step", "notebook"):
            found = distances(
                measured.trajectories[variant_key(optimizer, variant)], measured.w_star
            )
            for what, value in found.items():
                facts[f"{size}.{optimizer}.{variant}.{what}"] = value
    facts[f"{size}.initial_excess"] = facts[f"{size}.momentum.returns_initial.mean"]
    if size == MAIN:
        for optimizer in ("rmsprop", "adam"):
            for i, lr in enumerate(SWEEP_LRS, start=1):
                final = measured.curves[f"{optimizer}:assign_step@{lr:g}"][:, -1]
                facts[f"{size}.{optimizer}.assign_step.lr{i}.mean"] = float(np.mean(final))
