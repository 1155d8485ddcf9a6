# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # The noise floor of constant-step SGD
#
# With a constant step α and batch size B, SGD on least squares settles into a stationary
# distribution around `w*`; its mean excess loss is the noise floor. We measure it (runs
# start at `w*`, a burn-in is discarded, the excess loss is averaged over the rest and over
# seeds) for B ∈ {1, 4, 16, 64, 256} and α ∈ {0.025, 0.05, 0.1, 0.2}/L (fewer in the quick
# run) and compare with the stationary solution of the second-moment recursion
#
# `Σ = (I−αH)Σ(I−αH) + (α²/B)[C + E_i(A_i Σ A_i) − HΣH]`,  floor `= ½ tr(HΣ)`,
#
# with `H = 2XᵀX/n`, `C` the exact per-sample gradient covariance at `w*` and `A_i = 2x_i x_iᵀ`,
# corrected for sampling without replacement (a permutation per epoch). The classical
# additive-noise Lyapunov equation (without the state-dependent term) is shown alongside.
# Set `JAXOPT_HW_QUICK=1` for the quick version.

# %%
from jaxopt_hw.studies import noise_floor, run_and_show

settings, result = run_and_show(noise_floor)
