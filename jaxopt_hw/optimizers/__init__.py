"""First-order optimizers as pure ``init``/``update`` pairs over pytrees.

Every factory here returns an :class:`optax.GradientTransformation`: a pair of pure
functions ``init(params) -> state`` and ``update(grads, state, params=None) ->
(updates, state)``. The returned ``updates`` are *added* to the parameters
(:func:`apply_updates`), so the learning rate's sign is already applied, exactly as
in optax. Our optimizers therefore drop into :func:`optax.chain` and any optax loop.

Hyperparameters that enter the arithmetic (learning rates, decay rates, epsilons) may
be Python floats *or* JAX scalars: ``jax.vmap`` over a vector of learning rates needs
no :func:`optax.inject_hyperparams`. Structural options (``nesterov``,
``eps_in_sqrt``) are plain Python values. A learning rate may also be a schedule, a
function of the step count ``t = 0, 1, 2, ...``; it is evaluated at the count
*before* it is incremented, as in optax.

Python-number hyperparameters are validated eagerly (before anything is traced or
compiled): a negative or non-finite learning rate, a decay outside ``[0, 1)`` or a
negative epsilon raises :class:`ValueError` naming the argument.

Modules: :mod:`~jaxopt_hw.optimizers.alias` (the optimizers), ``schedules``, ``states``,
``transform`` (the leaf-wise arithmetic they share), ``checks``, ``recipe`` and ``base``.
"""

from jaxopt_hw.optimizers.alias import (
    adagrad,
    adam,
    adamw,
    amsgrad,
    heavy_ball,
    momentum,
    rmsprop,
    sgd,
)
from jaxopt_hw.optimizers.base import Params as Params
from jaxopt_hw.optimizers.base import ScalarOrSchedule as ScalarOrSchedule
from jaxopt_hw.optimizers.base import Schedule as Schedule
from jaxopt_hw.optimizers.base import Updates as Updates
from jaxopt_hw.optimizers.base import apply_updates
from jaxopt_hw.optimizers.recipe import Recipe as Recipe
from jaxopt_hw.optimizers.recipe import recipe_of as recipe_of
from jaxopt_hw.optimizers.schedules import (
    constant_schedule,
    cosine_decay,
    exponential_decay,
    linear_warmup,
    step_decay,
    warmup_cosine_decay,
)
from jaxopt_hw.optimizers.states import (
    AdagradState,
    AdamState,
    AmsgradState,
    HeavyBallState,
    MomentumState,
    RmspropState,
    SgdState,
)

__all__ = [
    "apply_updates",
    "sgd",
    "momentum",
    "heavy_ball",
    "rmsprop",
    "adam",
    "adagrad",
    "adamw",
    "amsgrad",
    "constant_schedule",
    "exponential_decay",
    "step_decay",
    "cosine_decay",
    "linear_warmup",
    "warmup_cosine_decay",
    "SgdState",
    "MomentumState",
    "HeavyBallState",
    "RmspropState",
    "AdamState",
    "AdagradState",
    "AmsgradState",
]

# The public names keep this package as their home: sweep metadata, plot titles and pickles
# name them ``jaxopt_hw.optimizers.<name>`` as before the split.
for _name in [*__all__, "Recipe", "recipe_of"]:
    globals()[_name].__module__ = __name__

# doctest.testmod(jaxopt_hw.optimizers) finds only what this module defines: list the rest.
__test__ = {_name: globals()[_name] for _name in [*__all__, "recipe_of"]}
del _name
