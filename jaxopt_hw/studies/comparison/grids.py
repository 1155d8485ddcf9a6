"""The comparison's problems, grids, optimizers and thresholds: what every part reads."""

from __future__ import annotations

import math

from jaxopt_hw.studies import fmt

#: (key, n, d): the homework's three problems (the quick run leaves out the largest)
SIZES_FULL = (("small", 500, 2), ("medium", 10_000, 5), ("large", 150_000, 7))
SIZES_QUICK = SIZES_FULL[:2]
DESIGN_SEED = 0
BATCH_SIZE, STEPS, LOG_EVERY = 32, 1000, 5
#: tolerance on the excess loss, relative to min_loss
TOL_REL = 0.01
#: the homework's grids
HW_LRS = (1e-4, 1e-3, 1e-2)
HW_BETAS = (0.7, 0.8, 0.9)
#: the wide grids (they contain the homework's values exactly): 1e-5 … 1, 3 and 2 per decade
WIDE_LRS_FULL = tuple(float(f"{10 ** (k / 3):.3g}") for k in range(-15, 1))
WIDE_LRS_QUICK = tuple(float(f"{10 ** (k / 2):.3g}") for k in range(-10, 1))
WIDE_BETAS_FULL = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999)
WIDE_BETAS_QUICK = (0.7, 0.8, 0.9, 0.99)
WIDE_B2_FULL = (0.7, 0.8, 0.9, 0.99, 0.999)
WIDE_B2_QUICK = (0.7, 0.8, 0.9, 0.999)
#: The notebook's tuned picks, each "faster and more accurate" in its text (homework11.txt:
#: Momentum β = 0.7 "on the large sample" with lr = 1e-3; RMSprop γ = 0.8 with lr = 1e-2;
#: Adam β1 = 0.8, β2 = 0.7 with lr = 1e-2), read off its buggy curves; all on the homework grid.
NOTEBOOK_PICKS = {
    "momentum": {"learning_rate": 1e-3, "beta": 0.7},
    "rmsprop": {"learning_rate": 1e-2, "decay": 0.8},
    "adam": {"learning_rate": 1e-2, "b1": 0.8, "b2": 0.7},
}
#: the lr window: best final excess loss within this factor of the optimizer's best
SENSITIVITY_FACTOR = 10.0
#: held-out seeds on which the tuned configs are scored (after the tuning seeds)
HOLDOUT_FULL = 10
HOLDOUT_QUICK = 4
#: the problems that get heatmaps and sensitivity figures (the quick run draws fewer)
FIGURE_SIZES_FULL = ("small", "medium", "large")
FIGURE_SIZES_QUICK = ("medium",)
#: the problem whose figures the report shows (the others go to the details)
SHOWN_SIZE = "medium"
CI_LEVEL = 95
CURVE_POINTS = 200
#: the trajectories' part after the tolerance is "jitter at the noise floor" only when every
#: tuned run's mean excess loss there is at most this many tolerances …
FLOOR_FACTOR = 1.0
#: … and the part before it "bent" only when every approach is longer than the straight
#: line from the start to where it first reaches the tolerance by more than this factor
BEND_MIN = 1.1

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
ADAPTIVE = ("rmsprop", "adam")
#: the optimizers with a momentum-like hyperparameter, each a compiled sweep of its own
SWEPT = ("momentum", "rmsprop", "adam")
LABELS = {"sgd": "SGD", "momentum": "Momentum", "rmsprop": "RMSprop", "adam": "Adam"}
#: each optimizer's momentum-like hyperparameter (the homework's β, γ, β1)
BETA = {"sgd": None, "momentum": "beta", "rmsprop": "decay", "adam": "b1"}
SYMBOL = {"learning_rate": "lr", "beta": "β", "decay": "γ", "b1": "β1", "b2": "β2"}
GRIDS = ("hw", "wide")
GRID_LABELS = {"hw": "homework grid", "wide": "wide grid"}


def config_text(config: dict) -> str:
    """``"lr = 0.01, β = 0.9"``: a config as the report writes it."""
    return ", ".join(f"{SYMBOL.get(k, k)} = {fmt(float(v))}" for k, v in config.items())


def on_edge(config: dict) -> bool:
    """Whether a homework-grid config sits on the grid's boundary in some hyperparameter."""
    edges = {"learning_rate": HW_LRS, "beta": HW_BETAS, "decay": HW_BETAS, "b1": HW_BETAS}
    edges["b2"] = HW_BETAS
    return any(
        math.isclose(float(v), min(edges[k])) or math.isclose(float(v), max(edges[k]))
        for k, v in config.items()
    )


def steps_cell(value: float) -> str:
    """A table cell for a step count: ``"never"`` where it is infinite."""
    return "never" if not math.isfinite(value) else f"{value:.4g}"
