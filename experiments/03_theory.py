# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Linear rates on quadratics: measured against theory
#
# On least-squares problems whose Hessian `H = 2XᵀX/n` has condition number exactly κ
# (κ = 10, 100, 1000; more in the full run), in float64, we run three full-batch methods
# at their textbook-optimal constants and measure the linear rate ρ of `‖w_t − w*‖`:
#
# * gradient descent at `α = 2/(L+μ)`: predicted `ρ = (κ−1)/(κ+1)`;
# * heavy ball at `α = 4/(√L+√μ)²`, `β = ((√κ−1)/(√κ+1))²`: predicted `ρ = (√κ−1)/(√κ+1)`,
#   with a polynomial factor `t` from the double root (so the rate is fitted on a late window
#   with that factor's exponent fitted too);
# * Nesterov at `α = 1/L`, `β = (√κ−1)/(√κ+1)`: predicted `ρ = 1 − 1/√κ`.
#
# The rate is fitted where the distance is well below its start (the fast directions are
# gone) and well above float64 round-off. Set `JAXOPT_HW_QUICK=1` for the quick version.

# %%
from jaxopt_hw.studies import run_and_show, theory

settings, result = run_and_show(theory)
