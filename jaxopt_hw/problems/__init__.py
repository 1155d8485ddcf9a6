"""Problems: data, a loss, an initial point and, where known, the exact optimum.

A :class:`Problem` knows nothing of optimizers, loops or sweeps. Every problem carries

* ``data``: a pytree of arrays whose leading axis is the sample axis ``n`` (``X``, ``y``);
* ``loss_fn(params, batch)``: the mean loss over a batch of ``data``'s structure (compared
  by value, so compiled programs are shared between problems of the same kind);
* ``full_loss_fn(params, aux)``: the loss over all rows; for least squares it is the
  exact O(d²) form ``min_loss + ‖Cᵀ(w − w*)‖²`` with ``C = QΛ^½``, ``QΛQᵀ = XᵀX/n`` (no O(n·d)
  pass and no cancellation), otherwise the direct mean over the data;
* ``initial_params(seed)``, and optionally a batch ``error_fn`` and held-out ``eval_fn``.

Some problems also offer capabilities: an exact :class:`Optimum` (``w_star``,
``min_loss``, float64 on the host), the Hessian's :class:`Curvature` (``mu``, ``L``,
``kappa``) and :class:`FastForms` of their functions (least squares).

The homework recipe (``linear_regression``): ``X ~ U(-5, 5)^(n×d)`` with column ``j``
multiplied by ``2j + 1`` and ``y = X w_true + N(0, noise²)``, ``w_true ~ N(0, I)``.
The loss is ``mean((X w − y)²)``, whose gradient is ``2 Xᵀ(X w − y)/B`` and Hessian
``2 XᵀX/n``.

The package: :mod:`~jaxopt_hw.problems.core` (the :class:`Problem` and its checks),
:mod:`~jaxopt_hw.problems.regression` (least squares), :mod:`~jaxopt_hw.problems.classification` and
:mod:`~jaxopt_hw.problems.toy`.
"""

from jaxopt_hw.problems.classification import (  # noqa: F401
    binary_error_rate,
    binary_logistic,
    binary_logistic_loss,
    logistic_loss,
    logistic_regression,
    softmax_cross_entropy_loss,
    softmax_error_rate,
    softmax_intercept_measures,
    softmax_regression,
)
from jaxopt_hw.problems.core import (  # noqa: F401
    FULL_LOSS_ROWS,
    GENERIC_FORMS,
    ConstantInit,
    Curvature,
    FastForms,
    FullDataLoss,
    NormalInit,
    OnXY,
    Optimum,
    Params,
    Problem,
    matvec_as_product,
    register_sets_minor_form,
    sets_minor_form,
)
from jaxopt_hw.problems.regression import (  # noqa: F401
    HOMEWORK_SIZES,
    MIN_PARAMETER_SETS,
    homework_problem,
    least_squares,
    linear_regression,
    mean_absolute_error,
    mse_batch_values,
    mse_batch_values_minor,
    mse_loss,
    quadratic_full_loss,
    quadratic_measures,
    quadratic_measures_minor,
)
from jaxopt_hw.problems.toy import MlpInit, mlp_loss, mlp_regression, rosenbrock, rosenbrock_loss  # noqa: F401

__all__ = [
    "Problem",
    "linear_regression",
    "least_squares",
    "binary_logistic",
    "softmax_regression",
    "homework_problem",
    "logistic_regression",
    "mlp_regression",
    "rosenbrock",
    "HOMEWORK_SIZES",
]
