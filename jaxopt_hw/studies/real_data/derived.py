"""The real-data study's facts: every number its text states, derived from the measured data."""

from __future__ import annotations

import numpy as np

from jaxopt_hw import metrics
from jaxopt_hw.studies.real_data.datasets import TEST_FRACTION
from jaxopt_hw.studies.real_data.runs import (
    BATCH_SIZE,
    MOMENTUM_BETA,
    OPTIMIZERS,
    TOL_REL,
    Data,
    ProblemData,
    Tuned,
)

__all__ = ["facts", "ranking", "problem_keys", "RESOLUTION"]

#: the intervals' level, in percent (``metrics.log_interval`` and ``paired_ratio`` give 95%)
CI_LEVEL = 95
#: float32's relative resolution: an excess loss below it times the optimum's loss is rounding
RESOLUTION = float(np.finfo(np.float32).eps)


def problem_keys(facts: dict) -> list:
    """The data sets' keys, in the order they ran."""
    return [key[: -len("_n_train")] for key in facts if key.endswith("_n_train")]


def ranking(facts: dict, problem: str) -> list:
    """The four minibatch methods by their final (excess) loss on ``problem``, lowest first."""
    return sorted(OPTIMIZERS, key=lambda o: facts[f"{problem}_{o}_final_gm"])


def _interval(prefix: str, values) -> dict:
    """``prefix_gm``, ``prefix_low``, ``prefix_high``: geometric mean and 95% log interval."""
    interval = metrics.log_interval(np.asarray(values, dtype=float))
    return {
        f"{prefix}_gm": float(interval.center),
        f"{prefix}_low": float(interval.low),
        f"{prefix}_high": float(interval.high),
    }


def _final(problem: ProblemData, tuned: Tuned) -> np.ndarray:
    """Final (excess) losses over the held-out seeds, those below float32's resolution of
    the optimum's loss counted at it (a log scale has no zero)."""
    if problem.min_loss is None:
        return tuned.final
    return np.maximum(tuned.final, RESOLUTION * problem.min_loss)


def method_facts(prefix: str, problem: ProblemData, tuned: Tuned) -> dict:
    """One method's facts on one data set under ``prefix`` (``"diabetes_adam"``)."""
    out = {
        f"{prefix}_lr": tuned.lr,
        f"{prefix}_diverged": tuned.diverged,
        f"{prefix}_edge": int(tuned.lr in (tuned.lrs[0], tuned.lrs[-1])),
        **_interval(f"{prefix}_final", _final(problem, tuned)),
        **_interval(f"{prefix}_test_loss", tuned.test_loss),
    }
    if tuned.accuracy is not None:
        out[f"{prefix}_accuracy"] = float(np.mean(tuned.accuracy))
    if tuned.steps_to_tol is not None:
        reached = np.isfinite(tuned.steps_to_tol)
        out[f"{prefix}_reached"] = int(reached.sum())
        if reached.all():  # a geometric mean over the seeds that got there would flatter
            out.update(_interval(f"{prefix}_steps", tuned.steps_to_tol))
    return out


def problem_facts(problem: ProblemData) -> dict:
    """A data set's facts: its split, its optimum, each method, and the leader's margin
    over the runner-up (paired over the held-out seeds)."""
    p, spec = problem.spec.key, problem.spec
    out = {
        f"{p}_n_train": problem.n_train,
        f"{p}_n_test": problem.n_test,
        f"{p}_features": problem.features,
        f"{p}_steps": int(problem.steps[-1]),
    }
    if spec.l2 > 0:
        out[f"{p}_l2"] = spec.l2
    if spec.hidden:
        out[f"{p}_hidden"] = spec.hidden
    if problem.min_loss is not None:
        out[f"{p}_min_loss"] = problem.min_loss
        out[f"{p}_tol"] = problem.tol
    for name, tuned in problem.methods.items():
        out.update(method_facts(f"{p}_{name}", problem, tuned))
    leader, runner = ranking(out, p)[:2]
    ratio = metrics.paired_ratio(
        _final(problem, problem.methods[runner]), _final(problem, problem.methods[leader])
    )
    out.update(
        {
            f"{p}_ratio": ratio.ratio,
            f"{p}_ratio_low": ratio.low,
            f"{p}_ratio_high": ratio.high,
            f"{p}_ratio_larger": ratio.larger,
            f"{p}_separated": int(ratio.separated),
        }
    )
    return out


def _counts(out: dict) -> dict:
    """Across the data sets: how often one method leads, the leader is separated, the
    training leader has the lowest test loss, and GD ends below the leader."""
    keys = problem_keys(out)
    leaders = [ranking(out, p)[0] for p in keys]
    test_best = [min(OPTIMIZERS, key=lambda o: out[f"{p}_{o}_test_loss_gm"]) for p in keys]
    return {
        "n_problems": len(keys),
        "top_leads": max(leaders.count(o) for o in OPTIMIZERS),
        "separated_count": sum(out[f"{p}_separated"] for p in keys),
        "test_agrees": sum(a == b for a, b in zip(leaders, test_best)),
        "gd_below": sum(
            out[f"{p}_gd_final_gm"] < out[f"{p}_{lead}_final_gm"] for p, lead in zip(keys, leaders)
        ),
        "n_with_optimum": sum(f"{p}_tol" in out for p in keys),
        "edge_picks": sum(v for k, v in out.items() if k.endswith("_edge")),
    }


def facts(data: Data) -> dict:
    """The study's facts: the protocol's numbers, each data set's, and the counts across
    them (none where scikit-learn is missing)."""
    if not data.sklearn:
        return {}
    p = data.plan
    out = {
        "ci_level": CI_LEVEL,
        "n_tuning": len(p.tuning),
        "n_holdout": len(p.heldout),
        "batch_size": BATCH_SIZE,
        "momentum_beta": MOMENTUM_BETA,
        "n_lrs": len(p.lrs),
        "n_gd_lrs": len(p.gd_lrs),
        "lr_min": min(p.lrs),
        "lr_max": max(p.lrs),
        "test_pct": round(100 * TEST_FRACTION),
        "tol_pct": round(100 * TOL_REL),
    }
    for problem in data.problems.values():
        out.update(problem_facts(problem))
    out.update(_counts(out))
    return out
