r"""The homework's comparison, done right: SGD, Momentum, RMSprop and Adam, tuned, over seeds.

On each of the homework's least-squares problems (``jh.linear_regression``, sizes (500, 2),
(10 000, 5) and (150 000, 7); batch 32, 1 000 steps):

* every optimizer runs as one :func:`jaxopt_hw.sweep` over a **wide grid** (``lr``
  log-spaced over five decades, ``β`` up to 0.999) × ``settings.seeds``; the homework's
  grid (``β, γ ∈ {0.7, 0.8, 0.9}`` × ``lr ∈ {1e-2, 1e-3, 1e-4}``; Adam ``lr × β1 × β2``) is
  an exact sub-grid of it (the same runs); SGD is Momentum's ``β = 0`` row;
* a grid's best config has the lowest mean final excess loss over seeds with no seed
  diverged; its fastest config the fewest median steps to the tolerance (1% of
  ``min_loss``) among those whose median seed ends below it;
* a config picked as the best of hundreds on the seeds it is scored on looks better than
  it is (the winner's luck): the best and fastest configs are rerun on **held-out seeds**,
  and the rankings are the held-out ones, the top two compared by their paired ratio;
* full-batch GD at ``α = 2/(L+μ)`` runs on the held-out seeds beside them, and on (500, 2)
  the tuned optimizers' trajectories are recorded side by side.

The parts: :mod:`.grids` (problems, grids, thresholds), :mod:`.sweeps` (sweeps and what is
read off them), :mod:`.measure` (``measure(settings) -> Measured``), :mod:`.facts`
(``facts(data)``), :mod:`.text` (the report's paragraph, table and short conclusions),
:mod:`.details` (the long-form sentences), :mod:`.tables` and :mod:`.figures`.
"""

from __future__ import annotations

import time

from jaxopt_hw.studies import Settings, StudyResult
from jaxopt_hw.studies.comparison import text
from jaxopt_hw.studies.comparison.details import (
    details,
    divergence_conclusion,
    formatted,
    gd_conclusion,
    notebook_picks_conclusion,
    shape_of,
    speed_accuracy_conclusion,
    trajectory_conclusion,
)
from jaxopt_hw.studies.comparison.facts import facts, gd_facts
from jaxopt_hw.studies.comparison.figures import SUMMARY_FIGURE, draw
from jaxopt_hw.studies.comparison.grids import (
    BATCH_SIZE,
    BEND_MIN,
    BETA,
    FLOOR_FACTOR,
    HOLDOUT_QUICK,
    HW_BETAS,
    HW_LRS,
    LABELS,
    NOTEBOOK_PICKS,
    OPTIMIZERS,
    SIZES_QUICK,
    SYMBOL,
    WIDE_LRS_QUICK,
)
from jaxopt_hw.studies.comparison.measure import approach, measure, results_data
from jaxopt_hw.studies.comparison.sweeps import (
    beta_profile,
    heldout_summary,
    holdout_seeds,
    joined_seeds,
    lr_profile,
    make_optimizer,
    subset,
    summarize,
    tuned_sweeps,
)
from jaxopt_hw.studies.comparison.tables import detail_tables

__all__ = [
    "NAME",
    "TITLE",
    "run",
    "measure",
    "facts",
    "subset",
    "joined_seeds",
    "tuned_sweeps",
    "summarize",
    "lr_profile",
    "beta_profile",
    "make_optimizer",
    "holdout_seeds",
    "heldout_summary",
    "approach",
    "gd_facts",
    "gd_conclusion",
    "divergence_conclusion",
    "notebook_picks_conclusion",
    "speed_accuracy_conclusion",
    "trajectory_conclusion",
    "BATCH_SIZE",
    "BEND_MIN",
    "BETA",
    "FLOOR_FACTOR",
    "HOLDOUT_QUICK",
    "HW_BETAS",
    "HW_LRS",
    "LABELS",
    "NOTEBOOK_PICKS",
    "OPTIMIZERS",
    "SIZES_QUICK",
    "SYMBOL",
    "WIDE_LRS_QUICK",
]

NAME = "comparison"
TITLE = "SGD, Momentum, RMSprop and Adam on the homework's problems: tuned, over seeds"


def run(settings: Settings) -> StudyResult:
    """Measures, derives the facts, draws the figures and writes the text."""
    data = measure(settings)
    found = facts(data)
    sizes = data.sizes
    shown, others = draw(data, settings, shape_of(formatted(found)))
    long_form = details(found, sizes) + ([text.other_figures(others)] if others else [])
    found["seconds"] = round(time.perf_counter() - data.started, 1)
    return StudyResult(
        name=NAME,
        title=TITLE,
        facts=found,
        data=results_data(data),
        figures=shown,
        tables=[text.table(found, sizes)],
        conclusions=text.conclusions(found, sizes),
        text=text.paragraph(found, sizes),
        details=long_form,
        detail_tables=detail_tables(data, found),
        summary_figure=SUMMARY_FIGURE,
    )
