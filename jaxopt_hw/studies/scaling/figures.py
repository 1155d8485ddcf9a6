"""The scaling study's figures: steps, final excess loss, distance and wall time."""

from __future__ import annotations

import numpy as np

from jaxopt_hw import plots
from jaxopt_hw.studies import Settings
from jaxopt_hw.studies.comparison import LABELS, OPTIMIZERS
from jaxopt_hw.studies.scaling.measure import D_FIXED, KAPPA_FIXED, N_FIXED, TOL_REL, ScalingData

__all__ = ["figures"]


def figures(data: ScalingData, facts: dict, settings: Settings) -> list:
    """Draws the study's figures; returns ``[(file name, caption)]``."""
    drawn = []

    def figure(name, x, series, caption, **labels):
        plots.scaling(np.asarray(x, float), series, path=settings.figure_path(name), **labels)
        drawn.append((name, caption))

    _recipe_figures(figure, data)
    _fixed_kappa_figures(figure, data)
    ds = data.ds
    figure(
        "scaling_time.png",
        ds,
        {
            f"run, d-scan (n = {N_FIXED})": (
                np.array([facts[f"n{N_FIXED}_d{d}_run_seconds"] for d in ds]),
                None,
            )
        },
        "Wall time of the sweeps against d.",
        xlabel="dimension d",
        ylabel="seconds (three sweeps, all configs × seeds)",
        title="wall time of the compiled sweeps against d",
    )
    return drawn


def _labels(steps: int) -> tuple:
    """The axis labels of the steps and of the final excess loss."""
    return f"steps to excess loss ≤ {TOL_REL:g}·min_loss", f"final excess loss after {steps} steps"


def _recipe_figures(figure, data: ScalingData) -> None:
    """Steps against κ, final excess loss and distance against d, both against n."""
    ds, ns, kappas, steps = data.ds, data.ns, data.kappas, data.steps
    d_rows, n_rows = data.d_rows, data.n_rows
    steps_label, excess_label = _labels(steps)
    steps_series = _series(d_rows, "steps", "steps_half")
    anchor = next(
        ((kap, s) for kap, s in zip(kappas, steps_series["SGD"][0]) if np.isfinite(s)), None
    )
    theory = {} if anchor is None else {"∝ κ (gradient descent)": anchor[1] * kappas / anchor[0]}
    theory[f"the budget: {steps} steps"] = np.full(len(kappas), float(steps))
    figure(
        "scaling_steps_vs_kappa.png",
        kappas,
        steps_series,
        "Steps to the tolerance against κ (recipe).",
        theory=theory,
        xlabel="condition number κ (d-scan)",
        ylabel=steps_label,
        title=f"steps to the tolerance, fastest config (n = {N_FIXED}, d = {ds[0]}…{ds[-1]})",
    )
    figure(
        "scaling_excess_vs_d.png",
        ds,
        _series(d_rows, "excess", "excess_half"),
        "Final excess loss against d (recipe).",
        theory={"tolerance": np.array([r.tol for r in d_rows])},
        xlabel=f"dimension d (n = {N_FIXED})",
        ylabel=excess_label,
        title="final excess loss against d, best config",
    )
    figure(
        "scaling_dist_vs_d.png",
        ds,
        _series(d_rows, "dist", "dist_half"),
        "‖w − w*‖ against d (recipe).",
        xlabel=f"dimension d (n = {N_FIXED})",
        ylabel="final ‖w − w*‖",
        title="distance to the optimum against d, best config",
    )
    figure(
        "scaling_excess_vs_n.png",
        ns,
        _series(n_rows, "excess", "excess_half"),
        f"Final excess loss against n (d = {D_FIXED}).",
        theory={"tolerance": np.array([r.tol for r in n_rows])},
        xlabel=f"sample size n (d = {D_FIXED})",
        ylabel=excess_label,
        title="final excess loss against n, best config",
    )
    figure(
        "scaling_steps_vs_n.png",
        ns,
        _series(n_rows, "steps", "steps_half"),
        f"Steps to the tolerance against n (d = {D_FIXED}).",
        xlabel=f"sample size n (d = {D_FIXED})",
        ylabel=steps_label,
        title="steps to the tolerance against n, fastest config",
    )


def _fixed_kappa_figures(figure, data: ScalingData) -> None:
    """Steps and final excess loss against d at the fixed κ."""
    kappa_ds, steps = data.kappa_ds, data.steps
    fixed = list(data.kappa_rows.values())
    steps_label, excess_label = _labels(steps)
    axis = f"dimension d (n = {N_FIXED}, κ = {KAPPA_FIXED:g})"
    figure(
        "scaling_fixed_kappa_steps.png",
        kappa_ds,
        _series(fixed, "steps", "steps_half"),
        f"Steps to the tolerance against d at κ = {KAPPA_FIXED:g}.",
        theory={f"the budget: {steps} steps": np.full(len(kappa_ds), float(steps))},
        xlabel=axis,
        ylabel=steps_label,
        title=f"steps to the tolerance against d at a fixed κ = {KAPPA_FIXED:g}, fastest config",
    )
    figure(
        "scaling_fixed_kappa_excess.png",
        kappa_ds,
        _series(fixed, "excess", "excess_half"),
        f"Final excess loss against d at κ = {KAPPA_FIXED:g}.",
        theory={"tolerance": np.array([r.tol for r in fixed])},
        xlabel=axis,
        ylabel=excess_label,
        title=f"final excess loss against d at a fixed κ = {KAPPA_FIXED:g}, best config",
    )


def _series(rows, key, half=None) -> dict:
    """``{label: (means, half-widths)}`` for :func:`plots.scaling`, NaN where infinite."""
    series = {}
    for name in OPTIMIZERS:
        mean = np.array([getattr(r.tuned[name], key) for r in rows], dtype=float)
        width = None
        if half is not None:
            width = np.array([getattr(r.tuned[name], half) for r in rows], dtype=float)
            width = np.where(np.isfinite(width), width, np.nan)
        series[LABELS[name]] = (np.where(np.isfinite(mean), mean, np.nan), width)
    return series
