"""One training step, its divergence guard and what is logged, and the scans that repeat them:
what :func:`jaxopt_hw.run` and :func:`jaxopt_hw.sweep` share.

Logged metrics
--------------
Every ``log_every`` steps the run records, for the parameters after that step: the
full-data loss (O(d²) for least squares, through :class:`~jaxopt_hw.problems.Problem`),
the excess loss over ``min_loss`` and ``‖w − w*‖`` when the optimum is known, the norm
of the full-data gradient and the mean over those steps of the batch error (the problem's
``error_fn`` of each batch before its step: the mean absolute error, the homework
notebook's "error", or a classifier's misclassification rate).

Divergence
----------
A run whose batch loss becomes non-finite or exceeds ``divergence_factor`` times its
initial full loss, or whose parameters become non-finite, has its parameters frozen at
their last finite values and is flagged ``diverged``.

In a sweep of more than 32 parameters per config, for problems whose batch loss is
non-finite whenever the parameters are (``FastForms.loss_detects_nonfinite``: least
squares), the parameters a step makes are checked by the next step's batch loss, which
is computed anyway, instead of by a scan over every parameter: each config carries the
last parameters that passed, and what is reported (logs, final flags) comes from those
(:func:`checked`). A sweep of 1 024 configs at d = 100 spent a quarter of its time in
that scan.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

from jaxopt_hw.optimizers import apply_updates
from jaxopt_hw.problems import GENERIC_FORMS, FastForms, Problem
from jaxopt_hw.shuffle import block_size

Params = Any


class ProblemFns(NamedTuple):
    """The static, hashable part of a problem that a compiled program closes over: its
    functions, and the fast forms it offers (:data:`~jaxopt_hw.problems.GENERIC_FORMS` if none)."""

    loss_fn: Callable
    full_loss_fn: Callable
    error_fn: Optional[Callable] = None
    eval_fn: Optional[Callable] = None
    forms: FastForms = GENERIC_FORMS

    @classmethod
    def of(cls, problem: Problem) -> "ProblemFns":
        return cls(
            problem.loss_fn,
            problem.full_loss_fn,
            problem.error_fn,
            problem.eval_fn,
            problem.forms or GENERIC_FORMS,
        )

    def batch_values(self, params, batch):
        """The batch's loss, its gradient and its error (NaN without an ``error_fn``)."""
        if self.forms.batch_fn is not None:
            return self.forms.batch_fn(params, batch["X"], batch["y"])
        loss, grads = jax.value_and_grad(self.loss_fn)(params, batch)
        if self.error_fn is None:
            return loss, grads, jnp.full((), jnp.nan, loss.dtype)
        return loss, grads, self.error_fn(params, batch)

    def evaluate(self, params, aux) -> tuple:
        """The held-out metrics' values in ``eval_names`` order (none without an ``eval_fn``)."""
        if self.eval_fn is None:
            return ()
        values = self.eval_fn(params, aux)
        return tuple(values[name] for name in sorted(values))


class RunState(NamedTuple):
    """What a run carries from step to step."""

    params: Params
    opt_state: Any
    diverged: jax.Array
    loss_bound: jax.Array
    #: the last parameters that passed the guard, for problems whose batch loss checks
    #: them (``FastForms.loss_detects_nonfinite``); ``None`` otherwise.
    last_good: Optional[Params] = None


def _all_finite(tree) -> jax.Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)]))


def initial_state(fns: ProblemFns, tx, params, aux, divergence_factor, check_by_loss: bool = False):
    """The state before the first step (the divergence bound is relative to the initial
    full loss) and that initial loss. With ``check_by_loss`` and a problem whose loss
    detects non-finite parameters, the guard checks them through the loss
    (:func:`train_step`): worth it for many configs of many parameters (a sweep), not
    for one run, where the extra carried parameters cost more than the check they save."""
    initial_loss = fns.full_loss_fn(params, aux)
    scale = jnp.maximum(initial_loss, jnp.finfo(initial_loss.dtype).tiny)
    state = RunState(
        params=params,
        opt_state=tx.init(params),
        diverged=jnp.zeros((), bool),
        loss_bound=jnp.asarray(divergence_factor, initial_loss.dtype) * scale,
        last_good=params if check_by_loss and fns.forms.loss_detects_nonfinite else None,
    )
    return state, initial_loss


def train_step(fns: ProblemFns, tx, state: RunState, batch):
    r"""One optimizer step on one batch, :math:`w \leftarrow w + u(\nabla f_B(w))`, with the
    parameters frozen once the run has diverged (the optimizer state is not: nothing reads
    it after a divergence, and selecting it too would cost a pass over every moment).
    Returns the new state and the batch's error before the step.

    With ``state.last_good`` (a loss that checks the parameters), the step's batch loss
    checks the parameters it starts from: if finite they become ``last_good``, and the
    new parameters wait for the next step's check (read them through :func:`checked`);
    once diverged, the parameters stay at ``last_good``. (The batch error of the step
    whose loss finds non-finite parameters is non-finite: a run would not have taken them.)
    That replaces an is-finite pass and a reduction over the new parameters, and a select
    that waited for both, by two selects whose condition the loss gives (faster: see
    docs/benchmarks.md, "Measured design choices").

    The step is :func:`proposed_step` followed by :func:`guarded`: a sweep runs the first
    for each config and the second for all of them at once."""
    proposed, passed, error = proposed_step(fns, tx, state, batch)
    return guarded(state, proposed, passed), error


def proposed_step(fns: ProblemFns, tx, state: RunState, batch):
    """:func:`train_step` without its freeze: the state with the stepped parameters,
    finite or not, and ``diverged`` already updated; whether the batch loss found
    ``state.params`` finite in a run that had not diverged (``passed``; ``None`` without
    ``state.last_good``); and the batch's error."""
    return proposed_update(tx, state, *fns.batch_values(state.params, batch))


def proposed_update(tx, state: RunState, loss, grads, error):
    """:func:`proposed_step` from the batch's ``loss``, ``grads`` and ``error`` at
    ``state.params`` (a sweep may compute those of all its configs at once,
    ``problems.sets_minor_form``)."""
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = apply_updates(state.params, updates)
    blew_up = ~jnp.isfinite(loss) | (loss > state.loss_bound)
    if state.last_good is not None:  # the loss checked state.params; the next one checks params
        passed = ~state.diverged & jnp.isfinite(loss)
        diverged = state.diverged | blew_up
    else:
        passed = None
        diverged = state.diverged | blew_up | ~_all_finite(params)
    return state._replace(params=params, opt_state=opt_state, diverged=diverged), passed, error


def select_params(flag, on_true: Params, on_false: Params) -> Params:
    """``jnp.where(flag, on_true, on_false)`` leaf by leaf, for one run's ``flag``."""
    return jax.tree.map(lambda a, b: jnp.where(flag, a, b), on_true, on_false)


def guarded(state: RunState, proposed: RunState, passed, select=select_params) -> RunState:
    """The state after a step from ``state``: ``proposed`` (:func:`proposed_step`) with
    its parameters frozen where it has diverged, at ``state.params`` or, with
    ``last_good``, at the last parameters that ``passed``.

    ``select(flag, on_true, on_false)`` picks between two parameter trees. A sweep
    passes one that spreads the flags of all its runs over the layout of their
    parameters: picked inside a ``vmap``, a flag of each config would make ``vmap``
    move the config axis of the parameters to the front, and those transposes of
    every parameter at every step XLA does not always remove."""
    if state.last_good is None:
        return proposed._replace(params=select(proposed.diverged, state.params, proposed.params))
    last_good = select(passed, state.params, state.last_good)
    return proposed._replace(
        params=select(proposed.diverged, last_good, proposed.params), last_good=last_good
    )


def passes_check(state: RunState) -> jax.Array:
    """Whether a run has not diverged and its parameters are finite."""
    return ~state.diverged & _all_finite(state.params)


def checked(state: RunState, passed=None, select=select_params) -> RunState:
    """The state as it is reported: for a state whose loss checks the parameters
    (:func:`train_step`), its latest parameters if they are finite and it has not
    diverged, else the last ones that passed (and then flagged ``diverged``).
    ``passed`` (:func:`passes_check`, computed if not given) and ``select`` (see
    :func:`guarded`) let a sweep check all its runs at once."""
    if state.last_good is None:
        return state
    passed = passes_check(state) if passed is None else passed
    return state._replace(params=select(passed, state.params, state.last_good), diverged=~passed)


class Metrics(NamedTuple):
    """Per-logged-step measurements."""

    loss: jax.Array
    excess_loss: jax.Array
    dist_to_opt: jax.Array
    grad_norm: jax.Array
    batch_error: jax.Array


def _tree_norm(tree):
    return jnp.sqrt(sum(jnp.sum(jnp.square(leaf)) for leaf in jax.tree.leaves(tree)))


def measure(fns: ProblemFns, params, aux, w_star, min_loss, batch_error) -> Metrics:
    """Full-data loss, excess loss, distance to the optimum and full-gradient norm (from
    the problem's ``measures_fn`` when it has one, whose excess and distance are to its
    own optimum)."""
    if fns.forms.measures_fn is not None:
        return measured_metrics(fns.forms.measures_fn(params, aux), w_star, min_loss, batch_error)
    loss, grads = jax.value_and_grad(fns.full_loss_fn)(params, aux)
    dist_to_opt = None if w_star is None else _tree_norm(jax.tree.map(jnp.subtract, params, w_star))
    return measured_metrics((loss, _tree_norm(grads), dist_to_opt), w_star, min_loss, batch_error)


def measured_metrics(measured, w_star, min_loss, batch_error) -> Metrics:
    """:class:`Metrics` from a problem's measures, ``(loss, excess loss, gradient norm,
    distance)`` or ``(loss, gradient norm, distance)`` (the excess is then ``loss −
    min_loss``), of one run or of many (arrays of any shape, alike)."""
    if len(measured) == 3:
        (loss, grad_norm, dist_to_opt), excess_loss = measured, None
    else:
        loss, excess_loss, grad_norm, dist_to_opt = measured
    nan = jnp.full(jnp.shape(loss), jnp.nan, loss.dtype)
    if min_loss is None:
        excess_loss = nan
    elif excess_loss is None:
        excess_loss = loss - min_loss
    return Metrics(
        loss=loss,
        excess_loss=excess_loss,
        dist_to_opt=nan if dist_to_opt is None or w_star is None else dist_to_opt,
        grad_norm=grad_norm,
        batch_error=batch_error.astype(loss.dtype),
    )


def simulate(step, log, carry, steps: int, log_every: int, record: Optional[Callable] = None):
    """``steps`` applications of ``step: carry -> (carry, batch_error)`` as a scan over
    ``steps // log_every`` chunks, each an inner scan of ``log_every`` steps followed by
    ``log(carry, mean batch error of the chunk)`` and, if given, ``record(carry)``.

    Returns the final carry, the stacked logs and the stacked records (or ``None``)."""

    def chunk(carry, _):
        carry, errors = jax.lax.scan(lambda c, _: step(c), carry, None, length=log_every)
        logged = log(carry, jnp.mean(errors, axis=0))
        return carry, (logged, None if record is None else record(carry))

    carry, (logs, records) = jax.lax.scan(chunk, carry, None, length=steps // log_every)
    return carry, logs, records


def _repeat(body, carry, count: int, size: int):
    """``body(carry, size)`` over ``count // size`` blocks, then the remainder block; the
    outputs concatenated along their leading (step) axis."""
    full, rest = divmod(count, size)
    carry, out = jax.lax.scan(lambda c, _: body(c, size), carry, None, length=full)
    out = jax.tree.map(lambda a: a.reshape((-1,) + a.shape[2:]), out)
    if rest:
        carry, tail = body(carry, rest)
        out = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), out, tail)
    return carry, out


#: Steps of the innermost scan per loop iteration: unrolling helped a little on an H200
#: and slowed the 2-core CPU (``benchmarks/gpu_unroll.py``, docs/benchmarks.md).
_SCAN_UNROLL = 1


def summed_scan(step, state, batches, zero):
    """``step: (state, batch) -> (state, value)`` over the batches (stacked on a leading
    axis); returns the final state and the sum of the values, started from ``zero``.

    The sum is carried, not stacked: a stacked value costs a write per step and, over a
    long log interval, a buffer of every step's value (4 MB per 1 000 steps of a
    1 024-config sweep) to fill and reduce."""

    def body(carry, batch):
        state, total = carry
        state, value = step(state, batch)
        return (state, total + value), None

    (state, total), _ = jax.lax.scan(body, (state, zero), batches, unroll=_SCAN_UNROLL)
    return state, total


def simulate_blocks(
    fetch, train_on, log, record, state, cursor, *, steps: int, log_every: int, target: int
):
    """Minibatch training with the batches of about ``target`` consecutive steps fetched at
    once: the block-wise counterpart of :func:`simulate`.

    Args:
      fetch: ``(cursor, count) -> (batches stacked on a leading step axis, cursor)``.
      train_on: ``(state, batches) -> (state, sum of the batch errors)`` (see
        :func:`summed_scan`).
      log: ``(state, mean batch error since the last log) -> logged values``.
      record: ``state -> recorded values`` (or ``None``), after each log.
      state, cursor: the initial state and batch cursor.
      steps, log_every: as in :func:`run`; ``target``: steps per block.

    Returns:
      The final state, the stacked logs and the stacked records."""
    if log_every >= target:  # one or more blocks between logs

        def train_block(carry, size):
            state, cursor = carry
            batches, cursor = fetch(cursor, size)
            state, error_sum = train_on(state, batches)
            return (state, cursor), error_sum[None]

        def chunk(carry, _):
            carry, error_sums = _repeat(
                train_block, carry, log_every, block_size(log_every, target)
            )
            return carry, (log(carry[0], jnp.sum(error_sums, axis=0) / log_every), record(carry[0]))

        (state, _), (logs, records) = jax.lax.scan(
            chunk, (state, cursor), None, length=steps // log_every
        )
        return state, logs, records

    def logged_block(carry, chunks):  # several logs per block
        state, cursor = carry
        batches, cursor = fetch(cursor, chunks * log_every)
        batches = jax.tree.map(lambda a: a.reshape((chunks, log_every) + a.shape[1:]), batches)

        def chunk(state, chunk_batches):
            state, error_sum = train_on(state, chunk_batches)
            return state, (log(state, error_sum / log_every), record(state))

        state, out = jax.lax.scan(chunk, state, batches)
        return (state, cursor), out

    n_logs = steps // log_every
    (state, _), (logs, records) = _repeat(
        logged_block, (state, cursor), n_logs, block_size(n_logs, target // log_every)
    )
    return state, logs, records
