r"""How convergence scales with the dimension d, the sample size n and the condition number κ.

The homework asks how the speed and accuracy of convergence depend on the dimension. On
the homework's recipe (``jh.linear_regression(n, d)``: ``X ~ U(−5, 5)``, column ``j``
scaled by ``2j+1``) the Hessian ``H = 2XᵀX/n`` is nearly diagonal with entries
``≈ (50/3)(2j+1)²``, so κ grows like ``(2d−1)²``: the dimension acts mostly through κ.
Three scans:

* **d** at ``n = N_FIXED`` (``d`` from 2 to 1000 in the full run), where κ grows with d;
* **d at a fixed κ** (``jh.linear_regression(N_FIXED, d, condition_number=KAPPA_FIXED)``,
  the eigenvalues of ``XᵀX/n`` geometric from 1 to κ; ``d`` from 2 to 100 in the full
  run), which tells d's own effect from κ's;
* **n** at ``d = D_FIXED`` (``n`` from 500 to 10⁶ in the full run).

At every size each optimizer is tuned by one :func:`jaxopt_hw.sweep` over ``lr`` (a log
grid) × its β (a few values) × ``settings.seeds`` (SGD is Momentum's ``β = 0`` row, see
:func:`jaxopt_hw.studies.comparison.tuned_sweeps`), batch 32. SGD and Momentum get lrs
relative to ``1/L`` (their stable range moves with L, which grows like d²); RMSprop and Adam,
whose step per coordinate is about lr whatever the gradient's scale, get absolute lrs.
Reported per optimizer and size:

* the **best config** (lowest mean final excess loss, no seed diverged): its final excess
  loss and ``‖w − w*‖`` with 95% intervals over seeds;
* the **fastest config** (lowest mean steps to the tolerance, 1% of ``min_loss``, among the
  configs every seed reaches it with): its steps, mean and 95% interval over seeds;
* the wall time of the sweep's compiled run (``res.meta["run_seconds"]``) and of its
  compilation.

Log-log slopes of steps against κ (theory for gradient descent: steps ∝ κ at a fixed
accuracy) and of the final excess loss against d on the recipe, of the steps and the final
excess loss against d at the fixed κ, and against n, are fitted over the sizes where the
quantity is finite; at the fixed κ SGD's final excess loss is compared with the noise floor
of constant-step SGD, ``lr·σ²·tr(H)/(2B)``.

The study reads as :func:`measure` (the runs, as :class:`ScalingData`) → :func:`facts` →
:mod:`text` (one short sentence per conclusion) and :mod:`details` (the same in full).
"""

from __future__ import annotations

import time

from jaxopt_hw.studies import Settings, StudyResult
from jaxopt_hw.studies.scaling import details as _details
from jaxopt_hw.studies.scaling import text as _text
from jaxopt_hw.studies.scaling.details import gd_vs_adaptive_clause, sgd_kappa_clause
from jaxopt_hw.studies.scaling.facts import (
    CI_LEVEL,
    FLOOR_FACTOR,
    KAPPA_SLOPE_TOL,
    facts,
    sgd_noise_floor,
)
from jaxopt_hw.studies.scaling.figures import figures
from jaxopt_hw.studies.scaling.fits import (
    MIN_FIT_POINTS,
    loglog_slope,
    per_seed_slopes,
    seed_slope_facts,
)
from jaxopt_hw.studies.scaling.measure import (
    BATCH_SIZE,
    BETAS,
    D_FIXED,
    DS_FULL,
    DS_KAPPA_FULL,
    DS_KAPPA_QUICK,
    DS_QUICK,
    KAPPA_FIXED,
    N_FIXED,
    NS_FULL,
    NS_QUICK,
    STEPS_FULL,
    STEPS_QUICK,
    TOL_REL,
    ScalingData,
    Size,
    Tuned,
    measure,
)
from jaxopt_hw.studies.scaling.tables import size_table, summary_table

__all__ = [
    "NAME",
    "TITLE",
    "run",
    "measure",
    "facts",
    "figures",
    "details_of",
    "loglog_slope",
    "per_seed_slopes",
    "seed_slope_facts",
    "sgd_kappa_clause",
    "gd_vs_adaptive_clause",
    "sgd_noise_floor",
    "summary_table",
    "size_table",
    "ScalingData",
    "Size",
    "Tuned",
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
    "BATCH_SIZE",
    "BETAS",
    "TOL_REL",
    "CI_LEVEL",
    "FLOOR_FACTOR",
    "KAPPA_SLOPE_TOL",
    "MIN_FIT_POINTS",
]

NAME = "scaling"
TITLE = "Scaling with the dimension, the sample size and the condition number"


def details_of(found: dict, ds, ns) -> list:
    """The section's conclusions in full, from the facts and the recipe's d- and n-scans."""
    return [
        _details.setup_details(found),
        _details.kappa_details(found, ds),
        _details.fixed_kappa_details(found),
        _details.accuracy_details(found),
        _details.sample_size_details(found, ns),
        _details.wall_time_details(found),
        _details.grid_edge_details(found),
    ]


def run(settings: Settings) -> StudyResult:
    """Tunes every optimizer across the three scans and states what the runs show."""
    started = time.perf_counter()
    data = measure(settings)
    found = facts(data)
    n_seeds = len(data.seeds)
    fixed_caption = (
        f"At a fixed κ = {KAPPA_FIXED:g} (`condition_number={KAPPA_FIXED:g}`): the fixed-κ "
        "d-scan (a compile time of 0 is a sweep that reused the program compiled for the same "
        "shapes in the recipe's d-scan)."
    )
    result = StudyResult(
        name=NAME,
        title=TITLE,
        facts=found,
        data=data.to_json(),
        figures=figures(data, found, settings),
        tables=[summary_table(found, data.ds, data.kappa_ds, data.ns)],
        conclusions=_text.conclusions(found),
        text=_text.setup_text(found),
        details=details_of(found, data.ds, data.ns),
        detail_tables=[
            size_table(
                "The homework's recipe (κ grows with d): the d-scan and the n-scan.",
                list(data.rows.values()),
                n_seeds,
            ),
            size_table(fixed_caption, list(data.kappa_rows.values()), n_seeds),
        ],
    )
    found["seconds"] = round(time.perf_counter() - started, 1)
    return result
