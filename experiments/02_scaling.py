# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Scaling with the dimension, the sample size and the condition number
#
# On the homework's recipe `jh.linear_regression(n, d)` the column scaling `2j+1` makes the
# condition number grow like d², so d and κ grow together. Three scans:
#
# * d from 2 to 1000 at n = 10 000 (the recipe: κ grows with d);
# * d from 2 to 100 at a fixed κ = 100 (`jh.linear_regression(n, d, condition_number=100)`),
#   which tells d's own effect from κ's;
# * n from 500 to 10⁶ at d = 5.
#
# At each size SGD, Momentum, RMSprop and Adam are tuned by a sweep over lr (a log grid,
# relative to `1/L` for SGD and Momentum) × their β, over seeds, with batch 32. We report the
# steps to a tolerance (1% of the minimal loss: the noise-floor scale) of each optimizer's
# fastest config, the final excess loss and `‖w − w*‖` of its best config, all with 95%
# intervals over seeds, the wall time of the sweeps, and log-log slopes against κ, d (both
# d-scans) and n (theory for gradient descent: steps ∝ κ). Set `JAXOPT_HW_QUICK=1` for the quick version.

# %%
from jaxopt_hw.studies import run_and_show, scaling

settings, result = run_and_show(scaling)
