# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Parity with optax
#
# Each of our optimizers (SGD, Momentum, heavy ball, Nesterov, RMSprop, Adam, AdamW,
# AMSGrad, AdaGrad) trains beside its optax counterpart from the same initial point on the
# same minibatches of the homework's least-squares problems, in float32 and in float64.
# We report the largest relative difference between the two trajectories over the run
# (round-off in float32, next to nothing in float64 when the algorithms agree) and the
# steps per second of each inside the same compiled `jh.run` loop.
# Set `JAXOPT_HW_QUICK=1` for the quick version (medium problem, two timed pairs).

# %%
from jaxopt_hw.studies import parity, run_and_show

settings, result = run_and_show(parity)
