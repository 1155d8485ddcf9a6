"""jaxopt_hw: first-order optimizers, compiled training loops and vectorized sweeps in JAX."""
from jaxopt_hw.optimizers import *  # noqa: F401,F403
from jaxopt_hw.optimizers import __all__ as _optimizer_names

__version__ = "0.1.0"
__all__ = list(_optimizer_names)
from jaxopt_hw.problems import *  # noqa: F401,F403,E402
from jaxopt_hw.problems import __all__ as _problem_names  # noqa: E402
from jaxopt_hw.loop import run, Trace, epoch_permutation  # noqa: F401,E402
from jaxopt_hw.user_problem import problem  # noqa: F401,E402

__all__ += list(_problem_names) + ["run", "Trace", "epoch_permutation", "problem"]
from jaxopt_hw.sweep import sweep, SweepResult, use_cpu_cores  # noqa: F401,E402
from jaxopt_hw import metrics  # noqa: F401,E402

__all__ += ["sweep", "SweepResult", "use_cpu_cores", "metrics"]
from jaxopt_hw.search import search, SearchResult, log_uniform, uniform, choice  # noqa: F401,E402

__all__ += ["search", "SearchResult", "log_uniform", "uniform", "choice"]
