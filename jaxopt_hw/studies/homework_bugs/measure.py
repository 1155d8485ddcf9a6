"""The bugs study's runs: every variant of the notebook's optimizers, side by side."""

from __future__ import annotations

import dataclasses

import numpy as np

import jaxopt_hw as jh
from jaxopt_hw import homework_faithful as hf
from jaxopt_hw.studies import Settings
from jaxopt_hw.studies.parity import excess_loss, parallel, side_by_side

NAME = "homework_bugs"
TITLE = "The homework notebook's bugs, one at a time"

OPTIMIZERS = ("momentum", "rmsprop", "adam")
LABELS = {"momentum": "Momentum", "rmsprop": "RMSprop", "adam": "Adam"}
VARIANTS = (
    "correct",
    "assign_step",
    "bias_1_minus_beta",
    "returns_initial",
    "grad_over_n",
    "notebook",
)
#: the bugs switched on in each variant ("notebook": all four; bug 3 only changes what
#: is returned, so the notebook's curves are those of bugs 1, 2 and 4)
VARIANT_BUGS = {
    "correct": (),
    "assign_step": ("assign_step",),
    "bias_1_minus_beta": ("bias_1_minus_beta",),
    "returns_initial": ("returns_initial",),
    "grad_over_n": ("grad_over_n",),
    "notebook": tuple(hf.BUGS),
}
BUG_NUMBER = {"assign_step": 1, "bias_1_minus_beta": 2, "returns_initial": 3, "grad_over_n": 4}
VARIANT_LABELS = {
    "correct": "correct",
    "assign_step": "bug 1: step assigned, `w = step`",
    "bias_1_minus_beta": "bug 2: `m / (1 - beta)`",
    "returns_initial": "bug 3: initial weights returned",
    "grad_over_n": "bug 4: gradient `/ n`",
    "notebook": "as written (its curves: bugs 1, 2, 4)",
}
#: shorter labels and line styles for the figure
FIGURE_LABELS = {
    "correct": "correct",
    "assign_step": "bug 1: w = step",
    "bias_1_minus_beta": "bug 2: m / (1 - beta)",
    "returns_initial": "bug 3: returned weights",
    "grad_over_n": "bug 4: gradient / n",
    "notebook": "as written (1, 2, 4)",
}
LINE_STYLES = {
    "correct": ("-", 2.6),
    "assign_step": ("--", 1.8),
    "bias_1_minus_beta": ("-.", 1.6),
    "returns_initial": ((0, (1, 2)), 1.6),
    "grad_over_n": ((0, (2, 1)), 1.4),
    "notebook": ((0, (6, 2, 1, 2)), 1.4),
}
#: the notebook's other learning rates, run with the step assigned (RMSprop and Adam)
SWEEP_LRS = (1e-3, 1e-4)
BATCH_SIZE = 32
STEPS = 1000
SIZES_QUICK = ("medium",)
SIZES_FULL = ("small", "medium", "large")
MAIN = "medium"
#: "steps to cover this fraction of the drop from the initial to the final excess loss"
DROP = 0.95
CONFIDENCE = 95
#: "excess loss after this many steps, as a multiple of the final one": how soon a curve is flat
EARLY_STEP = 10
#: weights "stay next to 0 and never approach the optimum" only when after the first step
#: ‖w‖ stays at most this fraction of ‖w*‖ and ‖w − w*‖ at least 1 minus it (every seed)
NEAR_ZERO = 0.3
#: a bug is "not a failure" only when the final excess loss with it (no seed diverged) is
#: at most this fraction of the zero vector's
NOT_FAILED = 0.01
#: with the step assigned, the learning rate "hardly matters" only when, for RMSprop and for
#: Adam, the final excess losses at the swept learning rates (two decades) differ by at most
#: this fraction of the smallest
LR_SPREAD = 0.1


def variant_key(optimizer: str, variant: str) -> str:
    """The dynamics of ``variant`` for ``optimizer``: the bugs its function has that change
    the trajectory (variants with the same dynamics share one run)."""
    bugs = sorted(set(VARIANT_BUGS[variant]) & set(hf.bugs_of(optimizer)) - {"returns_initial"})
    return f"{optimizer}:{'+'.join(bugs) or 'correct'}"


def _optimizers(n: int, with_sweep: bool) -> dict:
    txs = {}
    for optimizer in OPTIMIZERS:
        for variant in VARIANTS:
            key = variant_key(optimizer, variant)
            if key not in txs:
                bugs = key.split(":")[1].split("+") if not key.endswith(":correct") else ()
                txs[key] = hf.notebook_optimizer(optimizer, bugs=bugs, n=n, batch_size=BATCH_SIZE)
        if with_sweep and optimizer != "momentum":
            for lr in SWEEP_LRS:
                txs[f"{optimizer}:assign_step@{lr:g}"] = hf.notebook_optimizer(
                    optimizer, bugs=["assign_step"], learning_rate=lr
                )
    return txs


def _simulate(prob, txs: dict, seeds, steps: int):
    """``{key: trajectories (n_seeds, steps+1, d)}`` and ``{key: diverged (n_seeds,)}``."""
    names = list(txs)
    combined, tx = side_by_side(prob, names), parallel(txs)
    runs = []
    for seed in seeds:
        trace = jh.run(
            combined, tx, steps=steps, batch_size=BATCH_SIZE, seed=int(seed), record_params=True
        )
        if bool(trace.diverged):
            break
        runs.append(trace.params)
    else:
        trajectories = {k: np.stack([np.asarray(r[k], np.float64) for r in runs]) for k in names}
        return trajectories, {k: np.zeros(len(runs), bool) for k in names}
    # one copy blew up and froze them all: one run per variant, each with its own guard
    trajectories, diverged = {}, {}
    for k in names:
        traces = [
            jh.run(
                prob, txs[k], steps=steps, batch_size=BATCH_SIZE, seed=int(s), record_params=True
            )
            for s in seeds
        ]
        trajectories[k] = np.stack([np.asarray(t.params, np.float64) for t in traces])
        diverged[k] = np.array([bool(t.diverged) for t in traces])
    return trajectories, diverged


def _steps_to_drop(curves: np.ndarray) -> np.ndarray:
    """Per seed, the first step at which the excess loss is within ``1 - DROP`` of the way
    from its initial to its final value (``|e_t − e_T| ≤ (1−DROP)·|e_0 − e_T|``)."""
    final, initial = curves[:, -1:], curves[:, :1]
    close = np.abs(curves - final) <= (1 - DROP) * np.abs(initial - final)
    # the first step from which the curve stays close
    stays = np.flip(np.cumprod(np.flip(close, axis=1), axis=1), axis=1).astype(bool)
    return np.argmax(stays, axis=1).astype(float)


def mae(prob, params) -> np.ndarray:
    """The notebook's error, the mean absolute error ``mean|Xw − y|``, over all rows."""
    X = np.asarray(prob.X, np.float64)
    y = np.asarray(prob.y, np.float64)
    return np.mean(np.abs(np.atleast_2d(params) @ X.T - y), axis=-1)


def measure_size(size: str, seeds, steps: int, with_sweep: bool) -> "SizeRun":
    """Every variant's runs on the homework problem ``size``, over ``seeds``."""
    prob = jh.homework_problem(size)
    txs = _optimizers(prob.n, with_sweep)
    trajectories, diverged = _simulate(prob, txs, seeds, steps)
    curves = {k: excess_loss(prob, t) for k, t in trajectories.items()}  # (n_seeds, steps+1)
    d = prob.X.shape[1]
    w_star = np.asarray(prob.aux["w_star"], np.float64)
    return SizeRun(
        prob=prob,
        trajectories=trajectories,
        curves=curves,
        diverged=diverged,
        w_star=w_star,
        zero_excess=float(excess_loss(prob, np.zeros(d))),
        mae_zero=float(mae(prob, np.zeros(d))[0]),
        mae_opt=float(mae(prob, w_star)[0]),
    )


def values(run: "SizeRun", optimizer: str, variant: str) -> tuple:
    """Per seed: the final excess loss (what each variant reports), the steps to the drop,
    the excess loss after ``EARLY_STEP`` steps over the final one, and divergence."""
    key = variant_key(optimizer, variant)
    curves, diverged = run.curves[key], run.diverged[key]
    if variant == "returns_initial":
        nan = np.full(len(curves), np.nan)
        return curves[:, 0], nan, nan, np.zeros(len(curves), bool)
    final = np.where(diverged, np.inf, curves[:, -1])
    return final, _steps_to_drop(curves), curves[:, EARLY_STEP] / curves[:, -1], diverged


def distances(trajectories: np.ndarray, w_star: np.ndarray) -> dict:
    """After the first step, over every seed and step: the largest ``‖w‖`` and the smallest
    ``‖w − w*‖``, both over ``‖w*‖`` (the zero vector's distance to the optimum)."""
    after = np.asarray(trajectories, np.float64)[:, 1:]
    scale = float(np.linalg.norm(w_star))
    return {
        "max_norm_ratio": float(np.max(np.linalg.norm(after, axis=-1))) / scale,
        "min_dist_ratio": float(np.min(np.linalg.norm(after - w_star, axis=-1))) / scale,
    }


@dataclasses.dataclass
class SizeRun:
    """One homework problem's runs: per variant key, the trajectories ``(seeds, steps+1, d)``,
    excess-loss curves and divergence flags; and the zero vector's and optimum's errors."""

    prob: object
    trajectories: dict
    curves: dict
    diverged: dict
    w_star: np.ndarray
    zero_excess: float
    mae_zero: float
    mae_opt: float


@dataclasses.dataclass
class Data:
    """The problems and seeds run, and each problem's :class:`SizeRun`."""

    sizes: tuple
    seeds: tuple
    steps: int
    runs: dict

    def to_json(self) -> dict:
        thin = max(1, self.steps // 200)
        return {
            "sizes": list(self.sizes),
            "seeds": list(self.seeds),
            "curves": {
                f"{size}.{key}": np.mean(
                    np.where(self.runs[size].diverged[key][:, None], np.nan, c), axis=0
                )[::thin].tolist()
                for size in self.sizes
                for key, c in self.runs[size].curves.items()
            },
        }


def measure(settings: Settings) -> Data:
    """Runs every variant on each problem of ``settings`` (the lr sweep on the main one)."""
    sizes = SIZES_QUICK if settings.quick else SIZES_FULL
    seeds = tuple(int(s) for s in settings.seeds)
    runs = {size: measure_size(size, seeds, STEPS, with_sweep=size == MAIN) for size in sizes}
    return Data(sizes, seeds, STEPS, runs)
