# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # The homework notebook's bugs, one at a time
#
# The homework notebook (Momentum, RMSprop and Adam in NumPy on synthetic least squares)
# has four bugs: RMSprop and Adam **assign** the step to the weights instead of subtracting
# it, Adam's bias correction divides by `1 - beta` instead of `1 - beta**t`, the functions
# **return the initial weights**, and minibatch gradients are divided by the data set size
# `n` instead of the batch size `B`. `jaxopt_hw.homework_faithful` reproduces each of them
# as an option (deliberately wrong code, for study only).
#
# This study re-runs the notebook's comparison with all bugs off, each bug alone and the
# notebook as written, and says which of the notebook's conclusions the bugs produce.
# Set `JAXOPT_HW_QUICK=1` for the quick version (medium problem only).

# %%
from jaxopt_hw.studies import homework_bugs, run_and_show

settings, result = run_and_show(homework_bugs)
