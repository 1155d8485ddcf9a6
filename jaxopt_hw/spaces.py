"""Search spaces: the hyperparameters a search draws, and how it draws them.

``log_uniform(low, high)``, ``uniform(low, high)`` and ``choice(values)`` describe one
hyperparameter each; :func:`sample_configs` draws configs from a space by a scrambled
Sobol sequence (or independent draws) keyed by a seed.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings

import numpy as np

from jaxopt_hw.checks import check_int

__all__ = [
    "LogUniform",
    "Uniform",
    "Choice",
    "log_uniform",
    "uniform",
    "choice",
    "sample_configs",
    "ends",
    "plain_value",
]


# --------------------------------------------------------------------------- spaces


@dataclasses.dataclass(frozen=True)
class LogUniform:
    """Values whose logarithm is uniform on ``[log low, log high]``."""

    low: float
    high: float

    def at(self, u: np.ndarray) -> np.ndarray:
        return np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))


@dataclasses.dataclass(frozen=True)
class Uniform:
    """Values uniform on ``[low, high]``."""

    low: float
    high: float

    def at(self, u: np.ndarray) -> np.ndarray:
        return self.low + u * (self.high - self.low)


@dataclasses.dataclass(frozen=True)
class Choice:
    """One of ``values``, each equally likely."""

    values: tuple

    def at(self, u: np.ndarray) -> list:
        return [
            self.values[i]
            for i in np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
        ]


def _real_scalar(value):
    """``value`` as a float if it is a real number or a NumPy or JAX array of one (not a
    bool); else ``None``."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    array = np.asarray(value) if hasattr(value, "dtype") and hasattr(value, "shape") else None
    if array is None or array.shape != () or array.dtype.kind not in "iuf":
        return None
    return float(array)


def _bounds(what: str, low, high) -> tuple:
    bounds = []
    for name, value in (("low", low), ("high", high)):
        bounds.append(_real_scalar(value))
        if bounds[-1] is None or not math.isfinite(bounds[-1]):
            raise ValueError(f"{what} {name} must be a finite number, got {value!r}")
    if not bounds[0] < bounds[1]:
        raise ValueError(f"{what} needs low < high, got low={low!r}, high={high!r}")
    return tuple(bounds)


def log_uniform(low: float, high: float) -> LogUniform:
    """A hyperparameter whose logarithm is uniform on ``[log low, log high]`` (``0 < low < high``).

    Example:
      >>> import jaxopt_hw as jh
      >>> jh.log_uniform(1e-4, 1.0)
      LogUniform(low=0.0001, high=1.0)
    """
    low, high = _bounds("log_uniform", low, high)
    if low <= 0:
        raise ValueError(f"log_uniform needs low > 0, got low={low!r}")
    return LogUniform(low, high)


def uniform(low: float, high: float) -> Uniform:
    """A hyperparameter uniform on ``[low, high]`` (``low < high``).

    Example:
      >>> import jaxopt_hw as jh
      >>> jh.uniform(0.5, 0.999)
      Uniform(low=0.5, high=0.999)
    """
    return Uniform(*_bounds("uniform", low, high))


def choice(values) -> Choice:
    """A hyperparameter that takes one of ``values`` (numbers are traced as a sweep's grid
    axis; anything else, such as ``nesterov=True``, is compiled in).

    Example:
      >>> import jaxopt_hw as jh
      >>> jh.choice([0.9, 0.99]).values
      (0.9, 0.99)
    """
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"choice takes a list of values, got {type(values).__name__}")
    values = tuple(values)
    if not values:
        raise ValueError("choice needs at least one value")
    return Choice(values)


def check_space(space) -> None:
    """Refuses what is not a non-empty dict of dimensions, naming the bad entry."""
    if not isinstance(space, dict) or not space:
        raise ValueError(
            "space must be a non-empty dict {name: log_uniform(...) | uniform(...) | choice(...)}"
        )
    for name, dimension in space.items():
        if not isinstance(dimension, (LogUniform, Uniform, Choice)):
            raise TypeError(
                f"space[{name!r}] must be jh.log_uniform, jh.uniform or jh.choice, got "
                f"{dimension!r}"
            )


def sample_configs(space: dict, num_configs: int, seed: int = 0, sampler: str = "sobol") -> dict:
    """``num_configs`` points of ``space`` (``{name: log_uniform(...) | uniform(...) |
    choice(...)}``): ``{name: list of values}``. ``sampler="sobol"``: a scrambled Sobol
    sequence (``scipy.stats.qmc``) keyed by ``seed``, which covers the space more evenly
    than independent draws; ``"random"``: independent uniform draws.

    Example:
      >>> import jaxopt_hw as jh
      >>> configs = sample_configs({"learning_rate": jh.log_uniform(1e-3, 1.0)}, 4, seed=0)
      >>> len(configs["learning_rate"])
      4
    """
    from scipy.stats import qmc

    check_space(space)
    num_configs = check_int("num_configs", num_configs)
    if sampler == "sobol":
        with warnings.catch_warnings():  # a count other than a power of two is fine for us
            warnings.simplefilter("ignore", UserWarning)
            unit = qmc.Sobol(
                len(space), scramble=True, seed=np.random.default_rng([0x5EA4C, seed])
            ).random(num_configs)
    elif sampler == "random":
        unit = np.random.default_rng([0x5EA4C, seed]).random((num_configs, len(space)))
    else:
        raise ValueError(f"sampler must be 'sobol' or 'random', got {sampler!r}")
    return {
        name: [plain_value(v) for v in dimension.at(unit[:, j])]
        for j, (name, dimension) in enumerate(space.items())
    }


def ends(dimension) -> list:
    """The values that bound a dimension: its low and high end, or every choice."""
    if isinstance(dimension, Choice):
        return list(dict.fromkeys(dimension.values))
    return [dimension.low, dimension.high]


def plain_value(value):
    return value.item() if isinstance(value, np.generic) else value
