# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Your model, your data: four optimizers tuned on scikit-learn's digits
#
# A small MLP (64 → 32 → 10, tanh) on the 1 797 bundled digits, 20% of the rows held out.
# Each of SGD, Momentum, RMSprop and Adam is swept over a learning-rate grid (and its β, γ
# or β1) on three training seeds in one compiled call per optimizer; configs are ranked by
# the held-out accuracy (mean over seeds), and the best config's trained parameters come
# back with the sweep (`keep_params=True`). Needs scikit-learn: `pip install -e ".[examples]"`.
# Set `JAXOPT_HW_QUICK=1` for the quick version.

# %%
import os

import jax
import numpy as np

import jaxopt_hw as jh
from jaxopt_hw.models import load_digits_split, mlp_classifier, mlp_logits

QUICK = os.environ.get("JAXOPT_HW_QUICK") == "1"
STEPS, SEEDS = (300, [0, 1]) if QUICK else (2000, [0, 1, 2])
LEARNING_RATES = np.geomspace(1e-3, 1.0, 4 if QUICK else 10).tolist()
GRIDS = {
    "sgd": (jh.sgd, {}),
    "momentum": (jh.momentum, {"beta": [0.5, 0.9, 0.99]}),
    "rmsprop": (jh.rmsprop, {"decay": [0.9, 0.99, 0.999]}),
    "adam": (jh.adam, {"b1": [0.5, 0.9, 0.99]}),
}

x_train, y_train, x_test, y_test = load_digits_split(test_fraction=0.2, seed=0)
prob = mlp_classifier(
    x_train, y_train, hidden=32, test_x=x_test, test_y=y_test, name="digits MLP 64-32-10"
)

# %%
rows = []
for name, (factory, extra) in GRIDS.items():
    res = jh.sweep(
        prob,
        factory,
        {"learning_rate": LEARNING_RATES, **extra},
        seeds=SEEDS,
        steps=STEPS,
        batch_size=32,
        keep_params=True,
        progress=False,
    )
    best = res.best("accuracy", maximize=True)
    config = res.best_config("accuracy", maximize=True)
    accuracy = res.sel(**config).curves["accuracy"][:, -1]
    params = jax.tree.map(
        lambda leaf: leaf[0], res.sel(**config).params
    )  # the first seed's trained network
    check = float(np.mean(np.argmax(mlp_logits(params, x_test), -1) == y_test))
    rows.append(
        (name, config, best["accuracy"], accuracy.std(ddof=1), check, res.meta["run_seconds"])
    )
    print(f"{name}: {res.diverged.size} runs in {res.meta['run_seconds']:.2f} s")
    print(res.table("accuracy", maximize=True, limit=3))

# %% [markdown]
# The best config of each optimizer by held-out accuracy (mean and standard deviation over the
# training seeds), and the accuracy of its kept parameters recomputed outside the sweep.

# %%
print(
    "| optimizer | best config | held-out accuracy | sd over seeds | first seed, recomputed | seconds |"
)
print("|---|---|---|---|---|---|")
for name, config, mean, spread, check, seconds in rows:
    print(f"| {name} | {config} | {mean:.4f} | {spread:.4f} | {check:.4f} | {seconds:.2f} |")
