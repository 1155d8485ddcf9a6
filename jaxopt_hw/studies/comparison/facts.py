"""The comparison's facts: every number its text states, derived from the measurements."""

from __future__ import annotations

import math

import numpy as np

from jaxopt_hw import metrics
from jaxopt_hw.studies.comparison.grids import (
    ADAPTIVE,
    BATCH_SIZE,
    BEND_MIN,
    CI_LEVEL,
    FLOOR_FACTOR,
    GRIDS,
    HW_BETAS,
    HW_LRS,
    LOG_EVERY,
    NOTEBOOK_PICKS,
    OPTIMIZERS,
    SENSITIVITY_FACTOR,
    STEPS,
    SWEPT,
    TOL_REL,
    on_edge,
)
from jaxopt_hw.studies.comparison.measure import Measured, ProblemRuns, orders
from jaxopt_hw.studies.comparison.sweeps import geometric


def facts(data: Measured) -> dict:
    """All the comparison's facts but ``seconds`` (the run's wall clock, which ``run`` adds)."""
    out = setup_facts(data)
    for size, runs in data.runs.items():
        out.update(problem_facts(size, runs))
        out.update(pick_facts(size, runs))
        out.update(beta_facts(size, runs))
        out.update(heldout_facts(size, runs))
    out.update(trajectory_facts(data))
    out.update(across_facts(data, out))
    sizes = data.sizes
    out.update(speed_accuracy_facts(out, sizes))
    out.update(notebook_picks_held(out, sizes))
    out.update(beta_agreement_facts(out, sizes))
    return out


def setup_facts(data: Measured) -> dict:
    """The protocol: budget, seeds, grids, thresholds."""
    return {
        "batch_size": BATCH_SIZE,
        "steps": STEPS,
        "log_every": LOG_EVERY,
        "n_seeds": len(data.seeds),
        "ci_level": CI_LEVEL,
        "tol_percent": 100 * TOL_REL,
        "hw_lr_min": min(HW_LRS),
        "hw_lr_max": max(HW_LRS),
        "hw_beta_min": min(HW_BETAS),
        "hw_beta_max": max(HW_BETAS),
        "wide_lr_min": min(data.lrs),
        "wide_lr_max": max(data.lrs),
        "n_wide_lrs": len(data.lrs),
        "wide_beta_min": min(data.betas),
        "wide_beta_max": max(data.betas),
        "n_betas": len(data.betas),
        "wide_b2_min": min(data.b2s),
        "wide_b2_max": max(data.b2s),
        "sensitivity_factor": SENSITIVITY_FACTOR,
        "floor_factor": FLOOR_FACTOR,
        "bend_min": BEND_MIN,
        "trajectory_gap": data.trajectories.gap,
        "n_problems": len(data.runs),
        "n_optimizers": len(OPTIMIZERS),
    }


def problem_facts(size: str, runs: ProblemRuns) -> dict:
    """The problem's constants, each grid's best and fastest configs, the homework grid's
    edges and gains, and the lr profiles."""
    problem = runs.problem
    out = {
        f"n_{size}": problem.n,
        f"d_{size}": int(problem.X.shape[1]),
        f"kappa_{size}": float(problem.kappa),
        f"L_{size}": float(problem.L),
        f"two_over_L_{size}": 2.0 / float(problem.L),
        f"min_loss_{size}": float(problem.min_loss),
        f"tol_{size}": TOL_REL * float(problem.min_loss),
    }
    for grid in GRIDS:
        for name in OPTIMIZERS:
            out.update(summary_facts_of(f"{size}_{grid}_{name}", runs.summaries[grid][name]))
    edges = 0
    for name in OPTIMIZERS:
        hw, wide = runs.summaries["hw"][name], runs.summaries["wide"][name]
        edge = int(on_edge(hw["config"]))
        edges += edge
        out[f"{size}_hw_{name}_edge"] = edge
        out[f"{size}_{name}_gain"] = hw["excess"] / wide["excess"]
        if math.isfinite(wide["fastest"]):  # the homework grid's fastest over the wide grid's
            out[f"{size}_{name}_speedup"] = hw["fastest"] / wide["fastest"]
        p = runs.profiles[name]
        out[f"{size}_{name}_lr_lo"] = p["lo"]
        out[f"{size}_{name}_lr_hi"] = p["hi"]
        out[f"{size}_{name}_lr_decades"] = p["decades"]
        if math.isfinite(p["lr_max_stable"]):
            out[f"{size}_{name}_lr_max_stable"] = p["lr_max_stable"]
    out[f"{size}_hw_edges"] = edges
    return out


def summary_facts_of(key: str, s: dict) -> dict:
    """One grid's best config for one optimizer: what it reaches, and its fastest config."""
    out = {f"{key}_excess": s["excess"], f"{key}_excess_half": s["excess_half"]}
    for part in ("gm", "gm_low", "gm_high"):
        out[f"{key}_excess_{part}"] = s[f"excess_{part}"]
    out[f"{key}_dist"] = s["dist"]
    out[f"{key}_steps"] = s["steps"]
    out[f"{key}_fastest"] = s["fastest"]
    out[f"{key}_diverged_pct"] = s["diverged_pct"]
    out[f"{key}_n_configs"] = s["n_configs"]
    for hyper, value in s["config"].items():
        out[f"{key}_{hyper}"] = float(value)
    if math.isfinite(s["fastest"]):  # speed against accuracy: the fastest config's lr and end
        out[f"{key}_fastest_lr"] = float(s["fastest_config"]["learning_rate"])
        out[f"{key}_fastest_excess"] = s["fastest_excess"]
    return out


def pick_facts(size: str, runs: ProblemRuns) -> dict:
    """The notebook's picks against the homework grid's best, paired over the seeds."""
    out = {}
    for name, pick in NOTEBOOK_PICKS.items():
        at_pick = runs.sweeps["hw"][name].sel(**pick)
        final = np.asarray(at_pick.final_excess_loss, dtype=float)
        interval = metrics.mean_interval(final)
        best = runs.summaries["hw"][name]
        key = f"{size}_{name}_pick"
        out[f"{key}_excess"] = float(interval.mean)
        out[f"{key}_excess_half"] = float(interval.half_width)
        for part, value in geometric(final).items():
            out[f"{key}_{part}"] = value
        out[f"{key}_is_best"] = int(
            all(math.isclose(float(pick[h]), float(best["config"][h])) for h in pick)
        )
        out[f"{key}_diverged"] = int(at_pick.diverged.sum())
        ratio = metrics.paired_ratio(final, best["per_seed"])  # the same seeds: paired
        out[f"{key}_ratio"], out[f"{key}_ratio_low"] = ratio.ratio, ratio.low
        out[f"{key}_ratio_high"] = ratio.high
        out[f"{key}_above_best"] = int(ratio.low > 1.0)
    return out


def beta_facts(size: str, runs: ProblemRuns) -> dict:
    """How much β, γ and β1 move the best final excess loss and the fewest steps."""
    out = {}
    for name in SWEPT:
        beta = runs.betas[name]
        out[f"{size}_{name}_beta_best"] = beta["best_value"]
        out[f"{size}_{name}_beta_spread"] = beta["spread"]
        if math.isfinite(beta["fastest_value"]):
            out[f"{size}_{name}_beta_fastest"] = beta["fastest_value"]
            out[f"{size}_{name}_beta_steps_spread"] = beta["steps_spread"]
            out[f"{size}_{name}_beta_never"] = beta["n_never"]
    return out


def heldout_facts(size: str, runs: ProblemRuns) -> dict:
    """The held-out re-runs: each optimizer's end and speed, the top two's paired ratio,
    full-batch GD, and SGD's steps over the faster adaptive method's."""
    held, tuned = runs.heldout, runs.summaries["wide"]
    out = {}
    for name in OPTIMIZERS:
        key = f"{size}_heldout_{name}"
        out[f"{key}_excess"] = held[name]["excess"]
        out[f"{key}_excess_half"] = held[name]["excess_half"]
        for part in ("gm", "gm_low", "gm_high"):
            out[f"{key}_excess_{part}"] = held[name][f"excess_{part}"]
        out[f"{key}_diverged"] = held[name]["diverged"]
        # medians over seeds: one seed that blows up moves a mean by orders of magnitude
        out[f"{key}_optimism"] = float(np.median(held[name]["per_seed"])) / float(
            np.median(tuned[name]["per_seed"])
        )
        out[f"{key}_fastest"] = held[name]["fastest"]
        out[f"{key}_fastest_below"] = held[name]["fastest_below"]
    first, second = orders(runs)["heldout_order"][:2]
    ratio = metrics.paired_ratio(held[second]["per_seed"], held[first]["per_seed"])
    key = f"{size}_heldout_rank"
    out[f"{key}_ratio"], out[f"{key}_low"], out[f"{key}_high"] = ratio.ratio, ratio.low, ratio.high
    out[f"{key}_wins"] = ratio.larger  # seeds where the leader ends lower
    out[f"{key}_count"] = ratio.count
    out[f"{key}_separated"] = int(ratio.separated)
    out[f"{key}_leader_lower"] = int(ratio.low > 1.0)  # separated, and the leader lower
    out[f"{size}_heldout_same_top"] = int(first == orders(runs)["order"][0])
    out.update(
        gd_facts(size, runs.gd, runs.problem.n, held["sgd"]["excess_gm"], held["sgd"]["fastest"])
    )
    adaptive = min(held[o]["fastest"] for o in ADAPTIVE)
    if math.isfinite(adaptive) and math.isfinite(held["sgd"]["fastest"]):
        out[f"{size}_adaptive_speedup"] = held["sgd"]["fastest"] / adaptive
    return out


def gd_facts(size: str, gd: dict, n: int, sgd_final_gm: float, sgd_fastest: float) -> dict:
    """GD's facts on ``size``: its step, steps to the tolerance and final excess loss
    (geometric means and 95% intervals over seeds), how far below SGD's held-out final
    excess loss (its noise floor) it ends, and the rows it reads to the tolerance over
    SGD's fastest config's (absent where either never gets there)."""
    reach, final = metrics.log_interval(gd["steps_per_seed"]), metrics.log_interval(gd["final"])
    key = f"{size}_gd"
    out = {f"{key}_lr": gd["lr"], f"{key}_reached": int(np.sum(np.isfinite(gd["steps_per_seed"])))}
    for name, interval in (("steps", reach), ("excess", final)):
        out[f"{key}_{name}_gm"] = float(interval.center)
        out[f"{key}_{name}_low"] = float(interval.low)
        out[f"{key}_{name}_high"] = float(interval.high)
    out[f"{key}_floor_ratio"] = sgd_final_gm / out[f"{key}_excess_gm"]
    if np.all(np.isfinite(gd["steps_per_seed"])) and math.isfinite(sgd_fastest):
        out[f"{key}_rows_ratio"] = out[f"{key}_steps_gm"] * n / (sgd_fastest * BATCH_SIZE)
    return out


def trajectory_facts(data: Measured) -> dict:
    """The small problem's trajectories: path lengths over seeds, and on the first seed the
    share travelled at the floor and the approach."""
    t = data.trajectories
    out = {}
    for name in OPTIMIZERS:
        interval = metrics.mean_interval(t.path_ratios[name])
        out[f"small_{name}_path_ratio"] = float(interval.mean)
        out[f"small_{name}_path_ratio_half"] = float(interval.half_width)
    by_length = sorted(OPTIMIZERS, key=lambda o: out[f"small_{o}_path_ratio"])
    ratios = [t.path_ratios[name] for name in by_length]
    out["path_longest_separated"] = int(metrics.paired_ratio(ratios[-1], ratios[-2]).low > 1.0)
    out["path_straightest_separated"] = int(metrics.paired_ratio(ratios[1], ratios[0]).low > 1.0)
    for name in OPTIMIZERS:
        out[f"small_{name}_jitter_share"] = t.jitter[name]
        for what, value in t.approach[name].items():  # none when never at the tolerance
            out[f"small_{name}_{what}"] = value
    return out


def across_facts(data: Measured, f: dict) -> dict:
    """Counts over the problems (from the facts ``f`` so far), the winner's luck (held-out
    over tuning medians), and the sweeps' seconds."""
    sizes = data.sizes
    wide = {s: data.runs[s].summaries["wide"] for s in sizes}
    out = {
        "adam_b2_above_hw": sum(wide[s]["adam"]["config"]["b2"] > max(HW_BETAS) for s in sizes),
        "rmsprop_decay_above_hw": sum(
            wide[s]["rmsprop"]["config"]["decay"] > max(HW_BETAS) for s in sizes
        ),
        "n_holdout": len(data.holdout),
        "holdout_first": data.holdout[0],
        "holdout_last": data.holdout[-1],
        "heldout_separated_count": sum(f[f"{s}_heldout_rank_separated"] for s in sizes),
        "heldout_same_top_count": sum(f[f"{s}_heldout_same_top"] for s in sizes),
    }
    optimism = {(s, o): f[f"{s}_heldout_{o}_optimism"] for s in sizes for o in OPTIMIZERS}
    out["optimism_median"] = float(np.median(list(optimism.values())))
    for name in OPTIMIZERS:
        out[f"{name}_optimism_median"] = float(np.median([optimism[s, name] for s in sizes]))
    out["optimism_max"] = max(optimism.values())
    out["optimism_min"] = min(optimism.values())
    out["optimism_pairs"] = len(optimism)
    held = {s: data.runs[s].heldout for s in sizes}
    fastest_at = {s: min(held[s][o]["fastest"] for o in OPTIMIZERS) for s in sizes}
    out["adam_fastest_count"] = sum(
        math.isfinite(fastest_at[s]) and held[s]["adam"]["fastest"] == fastest_at[s] for s in sizes
    )
    leaders = {s: orders(data.runs[s])["heldout_order"][0] for s in sizes}
    out["adam_accurate_count"] = sum(leaders[s] == "adam" for s in sizes)
    out["adam_accurate_separated_count"] = sum(
        leaders[s] == "adam" and f[f"{s}_heldout_rank_leader_lower"] for s in sizes
    )
    out["sweeps"] = 3 * len(sizes)
    compile_seconds = run_seconds = 0.0
    for s in sizes:
        timing, again = data.runs[s].timing, data.runs[s].rerun_timing
        for name in SWEPT:
            compile_seconds += timing[name]["compile_seconds"] + again[name]["compile_seconds"]
            run_seconds += timing[name]["run_seconds"] + again[name]["run_seconds"]
    out["compile_seconds"], out["run_seconds"] = compile_seconds, run_seconds
    return out


def speed_accuracy_facts(f: dict, sizes) -> dict:
    """In how many (problem, optimizer) pairs the fastest config uses a larger lr than the
    most accurate one, and (where some do) how much higher it ends, median over those."""
    pairs = [(s, o) for s in sizes for o in OPTIMIZERS if f"{s}_wide_{o}_fastest_lr" in f]
    larger = larger_lr_pairs(f, pairs)
    out = {"speed_accuracy_pairs": len(pairs), "speed_accuracy_larger_lr": len(larger)}
    if larger:
        out["speed_accuracy_excess_ratio"] = float(
            np.median(
                [f[f"{s}_wide_{o}_fastest_excess"] / f[f"{s}_wide_{o}_excess"] for s, o in larger]
            )
        )
    return out


def larger_lr_pairs(f: dict, pairs) -> list:
    """The pairs of ``pairs`` whose fastest config's lr is above the most accurate one's."""
    return [
        (s, o)
        for s, o in pairs
        if f[f"{s}_wide_{o}_fastest_lr"] > f[f"{s}_wide_{o}_learning_rate"] * (1 + 1e-9)
    ]


def notebook_picks_held(f: dict, sizes) -> dict:
    """Per problem, how many of the notebook's picks hold: none of their seeds diverged and
    they are the homework grid's best or not separated from it."""
    out = {}
    for size in sizes:
        out[f"{size}_notebook_picks_held"] = sum(
            not f[f"{size}_{name}_pick_diverged"]
            and bool(f[f"{size}_{name}_pick_is_best"] or not f[f"{size}_{name}_pick_above_best"])
            for name in NOTEBOOK_PICKS
        )
    out["notebook_picks"] = len(NOTEBOOK_PICKS)
    return out


def beta_compared(f: dict, sizes) -> list:
    """The (problem, optimizer) pairs where more than one value of β, γ or β1 gets to the
    tolerance."""
    return [
        (size, o)
        for size in sizes
        for o in SWEPT
        if f"{size}_{o}_beta_fastest" in f and f[f"{size}_{o}_beta_never"] < f["n_betas"] - 1
    ]


def beta_agreement_facts(f: dict, sizes) -> dict:
    """In how many of those pairs the fastest and the most accurate value coincide."""
    compared = beta_compared(f, sizes)
    return {
        "beta_same_for_speed_and_accuracy": sum(
            math.isclose(f[f"{size}_{o}_beta_fastest"], f[f"{size}_{o}_beta_best"])
            for size, o in compared
        ),
        "beta_pairs": len(compared),
    }
