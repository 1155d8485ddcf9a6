"""Recipes: how a transformation was built, so a compiled loop can rebuild it traced."""

from __future__ import annotations

import functools
import inspect
from typing import Callable, NamedTuple, Optional

import optax


class Recipe(NamedTuple):
    """How a transformation was built: ``factory(**arguments)``, every argument named."""

    factory: Callable[..., optax.GradientTransformation]
    arguments: dict


def rebuildable(factory):
    """Wraps ``factory`` so that every transformation it returns remembers its recipe.

    A compiled loop reads the :class:`Recipe` (:func:`recipe_of`) to rebuild the
    transformation from traced hyperparameters and compile once for all their values.
    """
    signature = inspect.signature(factory)

    @functools.wraps(factory)
    def build(*args, **kwargs):
        tx = factory(*args, **kwargs)
        arguments = signature.bind(*args, **kwargs)
        arguments.apply_defaults()
        tx.init.recipe = tx.update.recipe = Recipe(build, dict(arguments.arguments))
        return tx

    return build


def recipe_of(tx) -> Optional[Recipe]:
    """Returns the :class:`Recipe` of a transformation built by one of our factories.

    Returns ``None`` for any other: optax's own, one wrapped by :func:`optax.chain`, or
    one whose ``init`` and ``update`` come from different places.

    Example:
      >>> import jaxopt_hw as jh
      >>> from jaxopt_hw.optimizers import recipe_of
      >>> recipe_of(jh.adam(0.01)).arguments["learning_rate"]
      0.01
    """
    recipe = getattr(getattr(tx, "update", None), "recipe", None)
    return (
        recipe
        if recipe is not None and getattr(getattr(tx, "init", None), "recipe", None) is recipe
        else None
    )
