"""Does the ranking from the synthetic problems hold on real data? The four methods and
full-batch GD, tuned the same way, on scikit-learn's bundled data sets.

On diabetes (least squares, standardized features, an intercept), breast cancer (logistic
regression with a ridge term, so an exact optimum exists), digits (softmax regression with
a ridge term) and digits again with a small tanh MLP (:func:`jaxopt_hw.models.mlp_classifier`),
each with a fixed 80/20 train/test split:

* each method runs as one :func:`jaxopt_hw.sweep` over a log grid of learning rates × the
  tuning and the held-out seeds (SGD is Momentum's ``β = 0`` row, GD a full-batch ``jh.sgd``);
* the lr with the lowest mean final loss over the tuning seeds is picked and scored on the
  held-out seeds: its final excess loss (the MLP: final loss), its held-out loss and
  accuracy (:func:`jaxopt_hw.problem`'s ``eval_fn``) and, where the optimum is known, its
  steps to 1% of the optimum's loss, as geometric means with 95% log-scale intervals;
* the leader's margin over the runner-up is a paired ratio over the held-out seeds.

scikit-learn is an optional extra (``pip install -e ".[examples]"``); without it the study
returns a one-line note and no facts, and the rest of the report builds. The quick run
keeps diabetes alone (its least squares compile fastest), with a smaller grid and fewer
steps and seeds.
"""

from __future__ import annotations

from jaxopt_hw.studies import Settings, StudyResult
from jaxopt_hw.studies.real_data import text
from jaxopt_hw.studies.real_data.datasets import INSTALL, SPECS, available
from jaxopt_hw.studies.real_data.derived import facts, ranking
from jaxopt_hw.studies.real_data.runs import METHODS, Data, measure, plan

__all__ = [
    "NAME",
    "TITLE",
    "FIGURE",
    "run",
    "measure",
    "facts",
    "plan",
    "ranking",
    "conclusions",
    "available",
    "INSTALL",
    "SPECS",
    "METHODS",
]

NAME = "real_data"
TITLE = "The four methods on real data: scikit-learn's diabetes, breast cancer and digits"
FIGURE = "real_data_convergence.png"
CAPTION = (
    "Each method at its tuned lr, held-out seeds: mean excess loss (the MLP: loss), the range "
    "over seeds shaded."
)


def conclusions(f: dict) -> list:
    """The study's short sentences, each decided by the facts."""
    sentences = [
        text.ranking_conclusion(f),
        text.separation_conclusion(f),
        text.test_conclusion(f),
        text.gd_conclusion(f),
        text.speed_conclusion(f),
    ]
    return [s for s in sentences if s]


def _skipped() -> StudyResult:
    """The result without scikit-learn: a one-line note as its conclusion, no facts."""
    note = text.skipped_text()
    return StudyResult(name=NAME, title=TITLE, conclusions=[note], data={"skipped": note})


def _record(data: Data) -> dict:
    """The per-seed values behind the facts, for ``results.json``."""
    record = {}
    for key, problem in data.problems.items():
        record[key] = {
            name: {
                "lr": t.lr,
                "lrs": list(t.lrs),
                "tuning_mean_final": t.tuning_final,
                "final": t.final,
                "test_loss": t.test_loss,
                "accuracy": t.accuracy,
                "steps_to_tol": t.steps_to_tol,
            }
            for name, t in problem.methods.items()
        }
    return {"seeds": {"tuning": data.plan.tuning, "heldout": data.plan.heldout}, **record}


def run(settings: Settings) -> StudyResult:
    """Measures, derives the facts, writes the figure and the words."""
    data: Data = measure(settings)
    if not data.sklearn:
        return _skipped()
    f = facts(data)
    text.figure(data, settings.figure_path(FIGURE))
    return StudyResult(
        name=NAME,
        title=TITLE,
        facts=f,
        data=_record(data),
        figures=[(FIGURE, CAPTION)],
        tables=[text.table(f)],
        conclusions=conclusions(f),
        text=text.setup_text(f),
        details=text.details(f),
        detail_tables=[text.detail_table(f)],
    )
