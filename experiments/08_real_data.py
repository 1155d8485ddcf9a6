# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # The four methods on real data: scikit-learn's diabetes, breast cancer and digits
#
# Does the ranking from the homework's synthetic least squares hold on real data? SGD,
# Momentum, RMSprop, Adam (batch 32) and full-batch GD on scikit-learn's bundled data sets,
# each with a fixed 80/20 train/test split:
#
# * diabetes: least squares on standardized features with an intercept;
# * breast cancer: logistic regression with a ridge term (so an exact optimum exists);
# * digits: softmax regression with a ridge term, and a small tanh MLP (`jh.problem`);
#
# * each method is one compiled sweep per data set over a log grid of learning rates × the
#   tuning and the held-out seeds; the lr with the lowest mean final loss on the tuning seeds
#   is scored on the held-out seeds (final excess loss, held-out loss and accuracy, steps to
#   1% of the optimum's loss), as geometric means with 95% log-scale intervals.
#
# Needs scikit-learn: `pip install -e ".[examples]"` (without it the study prints how to get
# it). Set `JAXOPT_HW_QUICK=1` for the quick version (diabetes alone, smaller grid).

# %%
from jaxopt_hw.studies import real_data, run_and_show

settings, result = run_and_show(real_data)
