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
import os
from pathlib import Path

from jaxopt_hw.studies import Settings, parity, write_json

quick = os.environ.get("JAXOPT_HW_QUICK", "0") == "1"
settings = Settings(out=Path("results") / parity.NAME, quick=quick)
result = parity.run(settings)
write_json(settings.results / f"{parity.NAME}.json", result.to_json())

# %% [markdown]
# ## Setup and results

# %%
print(f"# {result.title}\n")
print(result.text, "\n")
for table in result.tables:
    print(table, "\n")

# %% [markdown]
# ## Conclusions

# %%
for sentence in result.conclusions:
    print("-", sentence, "\n")
for name, caption in result.figures:
    print(f"figure {settings.figure_path(name)}: {caption}")
