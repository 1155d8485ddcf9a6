# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # SGD, Momentum, RMSprop and Adam on the homework's problems: tuned, over seeds
#
# The homework compares Momentum (EMA form), RMSprop and Adam on synthetic least squares
# (`X ~ U(−5, 5)`, column `j` scaled by `2j+1`) of sizes (500, 2), (10 000, 5) and
# (150 000, 7) with batch 32 and 1 000 steps, and tunes them on the grids
# `β, γ ∈ {0.7, 0.8, 0.9}` × `lr ∈ {1e-2, 1e-3, 1e-4}` (Adam: `lr × β1 × β2`). Here:
#
# * each optimizer (plus SGD, which is Momentum at `β = 0`) is one compiled sweep per problem
#   over a **wide grid** (lr from 1e-5 to 1, β up to 0.999) × seeds; the homework's grid is
#   an exact sub-grid of it, so we can say where the homework's grid lies relative to the optimum;
# * the best config (lowest mean final excess loss, no seed diverged) gets a 95% interval over
#   seeds, the median steps to a tolerance (1% of the minimal loss) and a paired check of the
#   ranking over seeds (every seed is one initial point and one batch order for all configs);
# * on (500, 2) the tuned optimizers' trajectories are drawn on the loss contours.
#
# Set `JAXOPT_HW_QUICK=1` for the quick version (fewer seeds and grid points, the two smaller problems).

# %%
from jaxopt_hw.studies import comparison, run_and_show

settings, result = run_and_show(comparison)
