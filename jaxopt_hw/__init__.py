"""jaxopt_hw: first-order optimizers, compiled training loops and vectorized sweeps in JAX."""

from jaxopt_hw import metrics
from jaxopt_hw.loop import Trace, epoch_permutation, run
from jaxopt_hw.optimizers import *  # noqa: F403
from jaxopt_hw.optimizers import __all__ as _optimizer_names
from jaxopt_hw.problems import *  # noqa: F403
from jaxopt_hw.problems import __all__ as _problem_names
from jaxopt_hw.search import SearchResult, choice, log_uniform, search, uniform
from jaxopt_hw.sweep import SweepResult, sweep, use_cpu_cores
from jaxopt_hw.user_problem import problem

__version__ = "0.1.0"
__all__ = [
    *_optimizer_names,
    *_problem_names,
    "problem",
    "run",
    "Trace",
    "epoch_permutation",
    "sweep",
    "SweepResult",
    "use_cpu_cores",
    "search",
    "SearchResult",
    "log_uniform",
    "uniform",
    "choice",
    "metrics",
]
