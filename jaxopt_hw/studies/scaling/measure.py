"""The scaling study's runs: every optimizer tuned at every size of the three scans."""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Optional

import numpy as np

import jaxopt_hw as jh
from jaxopt_hw import metrics
from jaxopt_hw.studies import Settings
from jaxopt_hw.studies.comparison import OPTIMIZERS, summarize, tuned_sweeps

__all__ = [
    "N_FIXED",
    "D_FIXED",
    "DS_FULL",
    "DS_QUICK",
    "KAPPA_FIXED",
    "DS_KAPPA_FULL",
    "DS_KAPPA_QUICK",
    "NS_FULL",
    "NS_QUICK",
    "STEPS_FULL",
    "STEPS_QUICK",
    "LOG_EVERY",
    "BATCH_SIZE",
    "DESIGN_SEED",
    "TOL_REL",
    "LR_L_FULL",
    "LR_L_QUICK",
    "LR_FULL",
    "LR_QUICK",
    "BETAS",
    "Tuned",
    "Size",
    "ScalingData",
    "measure",
]

N_FIXED, D_FIXED = 10_000, 5
DS_FULL = (2, 5, 10, 20, 50, 100, 1000)
DS_QUICK = (2, 5, 10)
KAPPA_FIXED = 100.0
DS_KAPPA_FULL = (2, 5, 10, 20, 50, 100)
DS_KAPPA_QUICK = (2, 5, 10)
NS_FULL = (500, 10_000, 100_000, 1_000_000)
NS_QUICK = (500, 10_000)
STEPS_FULL, STEPS_QUICK = 5000, 2500
LOG_EVERY = 10
BATCH_SIZE = 32
DESIGN_SEED = 0
TOL_REL = 0.01
#: SGD and Momentum: lr = c / L for these c (3 per decade; 2 in the quick run)
LR_L_FULL = tuple(float(f"{10 ** (k / 3):.3g}") for k in range(-9, 7))  # 1e-3 … 100
LR_L_QUICK = tuple(float(f"{10 ** (k / 2):.3g}") for k in range(-6, 5))
#: RMSprop and Adam: absolute lrs
LR_FULL = tuple(float(f"{10 ** (k / 3):.3g}") for k in range(-15, 1))  # 1e-5 … 1
LR_QUICK = tuple(float(f"{10 ** (k / 2):.3g}") for k in range(-10, 1))
BETAS = {"momentum": (0.5, 0.9, 0.99), "rmsprop": (0.9, 0.99, 0.999), "adam": (0.5, 0.9, 0.99)}


@dataclasses.dataclass
class Tuned:
    """One optimizer tuned on one design: its best config, its fastest config, its timings.

    The best config has the lowest mean final excess loss (no seed diverged); the fastest
    the lowest mean steps to the tolerance among the configs where every seed reaches it
    (``steps`` is infinite and ``fastest_config`` None where none does).
    """

    config: dict
    excess: float
    excess_half: float
    excess_gm: float
    excess_gm_low: float
    excess_gm_high: float
    excess_text: str
    relative_excess: float
    dist: float
    dist_half: float
    fastest_config: Optional[dict]
    steps: float
    steps_half: float
    steps_text: str
    steps_per_seed: Optional[list]
    steps_median: float  # the lowest median over seeds, any config
    reached: int  # the most seeds reaching the tolerance, any config
    run_seconds: float
    compile_seconds: float
    lr_edge: bool
    beta_edge: bool


@dataclasses.dataclass
class Size:
    """One design of a scan: its size and curvature, and each optimizer tuned on it."""

    tuned: dict  # optimizer name -> Tuned
    kappa: float
    L: float
    mu: float
    trace_ratio: float  # tr(H)/μ: the summed curvature over the smallest
    n: int
    d: int
    min_loss: float
    tol: float
    build_seconds: float

    def to_json(self) -> dict:
        """The size as the JSON row the study writes: the optimizers first, then the design."""
        design = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)[1:]}
        return {**{name: dataclasses.asdict(t) for name, t in self.tuned.items()}, **design}

    @classmethod
    def from_json(cls, row: dict) -> Size:
        """The size back from its JSON row (non-finite numbers as ``"Infinity"`` strings)."""
        number = lambda v: float(v) if isinstance(v, str) else v  # noqa: E731
        tuned = {
            name: Tuned(
                **{k: v if k.endswith("_text") else number(v) for k, v in row[name].items()}
            )
            for name in OPTIMIZERS
        }
        return cls(tuned, **{f.name: row[f.name] for f in dataclasses.fields(cls)[1:]})


@dataclasses.dataclass
class ScalingData:
    """The three scans: the recipe's sizes keyed ``(n, d)`` and the fixed-κ ones keyed ``d``."""

    quick: bool
    seeds: list
    steps: int
    ds: tuple
    kappa_ds: tuple
    ns: tuple
    rows: dict
    kappa_rows: dict

    @property
    def d_rows(self) -> list:
        """The recipe's d-scan at ``n = N_FIXED``."""
        return [self.rows[(N_FIXED, d)] for d in self.ds]

    @property
    def n_rows(self) -> list:
        """The n-scan at ``d = D_FIXED``."""
        return [self.rows[(n, D_FIXED)] for n in self.ns]

    @property
    def kappas(self) -> np.ndarray:
        """κ along the recipe's d-scan."""
        return np.array([r.kappa for r in self.d_rows])

    def to_json(self) -> dict:
        """The study's ``data``: the scans, the grids and every size's row."""
        return {
            "seeds": self.seeds,
            "ds": list(self.ds),
            "kappa_fixed": KAPPA_FIXED,
            "kappa_ds": list(self.kappa_ds),
            "ns": list(self.ns),
            "grids": {
                "lr_times_L": list(LR_L_QUICK if self.quick else LR_L_FULL),
                "lr": list(LR_QUICK if self.quick else LR_FULL),
                "betas": {name: list(values) for name, values in BETAS.items()},
            },
            "rows": [row.to_json() for row in self.rows.values()],
            "kappa_rows": [row.to_json() for row in self.kappa_rows.values()],
        }


def measure(settings: Settings) -> ScalingData:
    """Tunes every optimizer at every size of the recipe's d- and n-scans and the fixed-κ scan."""
    quick = settings.quick
    seeds = [int(s) for s in settings.seeds]
    ds = DS_QUICK if quick else DS_FULL
    ns = NS_QUICK if quick else NS_FULL
    kappa_ds = DS_KAPPA_QUICK if quick else DS_KAPPA_FULL
    steps = STEPS_QUICK if quick else STEPS_FULL
    sizes = [(N_FIXED, d) for d in ds]
    sizes += [(n, D_FIXED) for n in ns if (n, D_FIXED) not in sizes]
    rows = {
        (n, d): _measured_size(
            lambda: jh.linear_regression(n, d, seed=DESIGN_SEED), seeds, steps, quick
        )
        for n, d in sizes
    }
    kappa_rows = {
        d: _measured_size(
            lambda: jh.linear_regression(
                N_FIXED, d, condition_number=KAPPA_FIXED, seed=DESIGN_SEED
            ),
            seeds,
            steps,
            quick,
        )
        for d in kappa_ds
    }
    return ScalingData(quick, seeds, steps, ds, kappa_ds, ns, rows, kappa_rows)


def _measured_size(build, seeds, steps, quick) -> Size:
    """Every optimizer tuned on the problem ``build()`` makes, with the design's measures."""
    built = time.perf_counter()
    problem = build()
    build_seconds = time.perf_counter() - built
    n, d = problem.data["X"].shape
    tuned = _tune(problem, seeds, steps, quick)
    return Size(
        tuned,
        **_curvature(problem),
        n=n,
        d=d,
        min_loss=float(problem.min_loss),
        tol=TOL_REL * float(problem.min_loss),
        build_seconds=build_seconds,
    )  # the problem goes with the call (the largest designs are 40 MB)


def _tune(problem, seeds, steps, quick) -> dict:
    """Every optimizer's best and fastest config on ``problem``, and the sweeps' timings."""
    L = float(problem.L)
    lrs = {
        "momentum": [c / L for c in (LR_L_QUICK if quick else LR_L_FULL)],
        "rmsprop": list(LR_QUICK if quick else LR_FULL),
        "adam": list(LR_QUICK if quick else LR_FULL),
    }
    results, timing = tuned_sweeps(
        problem,
        lrs,
        BETAS,
        None,
        seeds,
        steps=steps,
        log_every=LOG_EVERY,
        batch_size=BATCH_SIZE,
        tol=TOL_REL * problem.min_loss,
    )
    return {name: _tuned(results[name], problem, timing[name]) for name in OPTIMIZERS}


def _tuned(result, problem, timing: dict) -> Tuned:
    """The best and the fastest config of one optimizer's sweep ``result``."""
    s = summarize(result)
    # the fastest config: the lowest mean steps to the tolerance among the configs
    # where every seed reaches it (then the interval over seeds is meaningful)
    reach_all = np.asarray(result.steps_to_tol, dtype=float)  # (*grid, seeds)
    mean_steps = np.where(np.isfinite(reach_all).all(axis=-1), reach_all.mean(axis=-1), np.inf)
    index = np.unravel_index(int(np.argmin(mean_steps)), mean_steps.shape)
    everyone = bool(np.isfinite(mean_steps[index]))
    fastest = {h: result.axes[h][i] for h, i in zip(result.config_names(), index)}
    reach = reach_all[index]
    interval = metrics.mean_interval(reach)
    initial = np.asarray(result.initial_loss, dtype=float) - problem.min_loss
    steps_text = (
        metrics.log_interval_text(*(float(v) for v in metrics.log_interval(reach)))
        if everyone
        else ""
    )
    return Tuned(
        config=s["config"],
        excess=s["excess"],
        excess_half=s["excess_half"],
        excess_gm=s["excess_gm"],
        excess_gm_low=s["excess_gm_low"],
        excess_gm_high=s["excess_gm_high"],
        excess_text=metrics.log_interval_text(
            s["excess_gm"], s["excess_gm_low"], s["excess_gm_high"]
        ),
        relative_excess=float(np.mean(s["per_seed"] / initial)),
        dist=s["dist"],
        dist_half=s["dist_half"],
        fastest_config=fastest if everyone else None,
        steps=float(interval.mean) if everyone else math.inf,
        steps_half=float(interval.half_width) if everyone else math.inf,
        steps_text=steps_text,
        steps_per_seed=[float(v) for v in reach] if everyone else None,
        steps_median=s["fastest"],
        reached=int(np.max(np.sum(np.isfinite(reach_all), axis=-1))),
        run_seconds=timing["run_seconds"],
        compile_seconds=timing["compile_seconds"],
        lr_edge=_on_edge(result, s["config"], "learning_rate"),
        beta_edge=any(
            _on_edge(result, s["config"], h) for h in s["config"] if h != "learning_rate"
        ),
    )


def _on_edge(result, config, name: str) -> bool:
    """Whether the best config's ``name`` is the first or last value of its grid axis."""
    values = result.axes[name]
    return math.isclose(config[name], values[0]) or math.isclose(config[name], values[-1])


def _curvature(problem) -> dict:
    """κ = L/μ, L, μ and ``tr(H)/μ`` (the summed curvature over the smallest)."""
    chol = np.asarray(problem.aux["chol"], dtype=np.float64)  # C Cᵀ = XᵀX/n, H = 2 C Cᵀ
    trace = 2.0 * float(np.sum(chol**2))
    return {
        "kappa": float(problem.kappa),
        "L": float(problem.L),
        "mu": float(problem.mu),
        "trace_ratio": trace / problem.mu,
    }
