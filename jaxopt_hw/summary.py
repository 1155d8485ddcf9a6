"""The report's summary: each study's conclusions in one or two short sentences.

A study's conclusions carry their statistics (paired ratios, per-seed fits, held-out seeds);
the summary states what they conclude, from the same facts, and links to the section. Each
function takes one study's facts and branches on them; every number it writes is one of
them, written by :func:`~jaxopt_hw.studies.fmt`.

Example:
  >>> from jaxopt_hw.summary import summaries                     # doctest: +SKIP
  >>> summaries({name: r.facts for name, r in results.items()})   # doctest: +SKIP
  {'comparison': '...', ...}
"""

from __future__ import annotations

from jaxopt_hw.studies import formatted
from jaxopt_hw.studies.real_data import INSTALL, SPECS, ranking

__all__ = ["summaries", "SUMMARIES"]

LABELS = {"sgd": "SGD", "momentum": "Momentum", "rmsprop": "RMSprop", "adam": "Adam"}


def comparison(c: dict) -> str:
    """The held-out leader per homework problem, and whether the seeds separate it."""
    f = formatted(c)
    sizes = [s for s in ("small", "medium", "large") if f"n_{s}" in c]
    leaders = ", ".join(
        f"{LABELS[min(LABELS, key=lambda o: c[f'{s}_heldout_{o}_excess'])]} at "
        f"({f['n_' + s]}, {f['d_' + s]})"
        for s in sizes
    )
    separated = c["heldout_separated_count"]
    tell = (
        "no leader is separated from the runner-up"
        if separated == 0
        else f"the leader is separated from the runner-up on {f['heldout_separated_count']} of {f['n_problems']}"
    )
    return (
        f"Tuned on a wide grid and scored on held-out seeds, the most accurate is {leaders}; "
        f"{tell}. "
        "The fastest config uses a larger lr than the most accurate in "
        f"{f['speed_accuracy_larger_lr']} of "
        f"{f['speed_accuracy_pairs']} pairs."
    )


def scaling(s: dict) -> str:
    """How steps grow with κ for SGD and Adam, and which family ends lower at the largest d."""
    f = formatted(s)
    steps = ", ".join(
        f"{LABELS[o]} κ^{f[o + '_steps_kappa_slope']}"
        for o in ("sgd", "adam")
        if f"{o}_steps_kappa_slope" in s
    )
    lower = "RMSprop and Adam" if s["dmax_gd_over_adaptive"] > 1 else "SGD and Momentum"
    ratio = (
        f["dmax_gd_over_adaptive"] if s["dmax_gd_over_adaptive"] > 1 else f["dmax_adaptive_over_gd"]
    )
    return (
        "Steps to the tolerance scale with κ, which the recipe ties to d (κ ∝ "
        f"d^{f['kappa_d_slope']}): "
        f"{steps or 'no optimizer reaches it at two sizes'}. At d = {f['d_max']} {lower} end "
        f"{ratio} times lower."
    )


def theory(t: dict) -> str:
    """Whether the measured linear rates match the predicted ones within the study's tolerance."""
    f = formatted(t)
    verdict = "match" if t["max_rel_error"] <= t["rate_tol"] else "miss"
    return (
        f"GD, heavy ball and Nesterov {verdict} their predicted linear rates (largest relative "
        "error "
        f"{f['max_rel_error']}); steps grow like κ^{f['gd_steps_slope']} for GD and "
        f"κ^{f['hb_steps_slope']} "
        "for heavy ball."
    )


def noise_floor(nf: dict) -> str:
    """How SGD's floor scales with α and B, and whether the full prediction holds."""
    f = formatted(nf)
    held = (
        "predicts every measured floor"
        if nf["n_ratio_off"] == 0
        else f"misses {f['n_ratio_off']} of the {f['n_cells']} floors"
    )
    return (
        f"Constant-step SGD stalls at a floor ∝ α^{f['slope_alpha_mean']} "
        f"B^{f['slope_batch_mean']}; the "
        f"second-moment equation {held} (measured over predicted "
        f"{f['ratio_min']}–{f['ratio_max']})."
    )


def homework_bugs(h: dict, problem: str = "medium") -> str:
    """Whether bug 1 keeps RMSprop and Adam at the zero vector, against the correct Adam."""
    f = formatted(h)
    a = f"{problem}.adam"
    stuck = h[f"{a}.assign_step.mean"] > h["not_failed"] * h[f"{problem}.zero_excess"]
    return (
        f"As written (bug {f['bug.assign_step']}) Adam ends at {f[a + '.assign_step.mean']}, "
        + ("at the zero vector's " if stuck else "below the zero vector's ")
        + f"{f[problem + '.zero_excess']}; correctly, at {f[a + '.correct.mean']}."
    )


def parity(p: dict) -> str:
    """How close our trajectories are to optax's, in float32 and float64."""
    f = formatted(p)
    exact = "exactly" if p["float64.max_rel_diff"] == 0 else f"within {f['float64.max_rel_diff']}"
    return (
        "Our optimizers follow optax's trajectories within a relative "
        f"{f['float32.max_rel_diff']} in float32 "
        f"and {exact} in float64."
    )


def real_data(r: dict) -> str:
    """The leader per real data set, whether the seeds separate it; or how to get the data."""
    if "n_problems" not in r:  # no scikit-learn: nothing was measured
        return f"Not run: the data sets come with scikit-learn (`{INSTALL}`)."
    f = formatted(r)
    keys = [spec for spec in SPECS if f"{spec.key}_n_train" in r]
    leaders = ", ".join(f"{LABELS[ranking(r, s.key)[0]]} on {s.label}" for s in keys)
    separated = (
        "the seeds separate none of them from the runner-up"
        if r["separated_count"] == 0
        else f"the seeds separate {f['separated_count']} of {f['n_problems']} from the runner-up"
    )
    return (
        f"Tuned the same way on scikit-learn's data sets, the lowest final loss goes to {leaders}; "
        f"{separated}."
    )


SUMMARIES = {
    "comparison": comparison,
    "scaling": scaling,
    "theory": theory,
    "noise_floor": noise_floor,
    "homework_bugs": homework_bugs,
    "parity": parity,
    "real_data": real_data,
}


def summaries(facts: dict) -> dict:
    """``{study: summary}`` for the studies in ``{study: facts}``."""
    return {
        name: SUMMARIES[name](study_facts)
        for name, study_facts in facts.items()
        if name in SUMMARIES
    }
