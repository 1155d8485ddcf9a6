"""The result of a sweep: its measurements as arrays over the grid's axes, and their storage."""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
from typing import Any, Optional

import jax
import numpy as np

from jaxopt_hw import metrics as metrics_lib
from jaxopt_hw._io import atomic_savez, reading_saved
from jaxopt_hw.checks import check_int
from jaxopt_hw.problems.core import check_flag
from jaxopt_hw.step import Metrics
from jaxopt_hw.sweep.plan import plain_value, same_value

METRIC_NAMES = Metrics._fields


#: The per-config, per-seed metrics that ``best``, ``summary`` and ``table`` summarise.
SUMMARY_METRICS = ("final_loss", "final_excess_loss", "steps_to_tol")


_RESULT_FORMAT = 1


@dataclasses.dataclass
class SweepResult:
    """The measurements of a sweep, as arrays over the grid's axes, then seeds, then logs.

    Attributes:
      axes: ``{name: values}`` for each grid axis in the order given, then ``"seed"``.
      curves: ``{metric: array (*grid shape, n_seeds, n_logged_steps)}`` for each of
        ``loss``, ``excess_loss``, ``dist_to_opt``, ``grad_norm``, ``batch_error``.
      steps: the logged step numbers.
      diverged: ``(*grid shape, n_seeds)`` flags of the divergence guard.
      initial_loss: ``(n_seeds,)`` full loss at each seed's initial point.
      tol: the tolerance that ``steps_to_tol`` uses (on excess loss, or on loss when the
        optimum is unknown).
      meta: problem, optimizer, fixed hyperparameters, batch size, timings, …
      params: with ``keep_params=True``, the final parameters, leaves ``(*grid shape,
        n_seeds, ...)`` (read back by :meth:`load` as ``{key path: array}``); else ``None``.
    """

    axes: dict
    curves: dict
    steps: np.ndarray
    diverged: np.ndarray
    initial_loss: np.ndarray
    tol: float
    meta: dict = dataclasses.field(default_factory=dict)
    params: Any = None

    # -- views ------------------------------------------------------------------------

    @property
    def shape(self) -> tuple:
        """``(*grid shape, n_seeds)``."""
        return self.diverged.shape

    @property
    def loss(self) -> np.ndarray:
        """Full-data loss, ``(*grid shape, n_seeds, n_logged_steps)``."""
        return self.curves["loss"]

    @property
    def excess_loss(self) -> np.ndarray:
        return self.curves["excess_loss"]

    @property
    def final_loss(self) -> np.ndarray:
        """Loss after the last step, ``(*grid shape, n_seeds)`` (frozen value if diverged)."""
        return metrics_lib.final_value(self.loss)

    @property
    def final_excess_loss(self) -> np.ndarray:
        return metrics_lib.final_value(self.excess_loss)

    @property
    def steps_to_tol(self) -> np.ndarray:
        """First logged step with excess loss ≤ ``tol`` (``inf`` if never, or diverged)."""
        curve = self.loss if np.all(np.isnan(self.excess_loss)) else self.excess_loss
        reached = metrics_lib.steps_to_tolerance(curve, self.steps, self.tol)
        return np.where(self.diverged, np.inf, reached)

    def config_names(self) -> list:
        return [name for name in self.axes if name != "seed"]

    def _per_seed(self, method: str, metric: str) -> np.ndarray:
        """``metric``'s ``(*grid shape, n_seeds)`` values, for a method that summarises
        them over seeds."""
        if "seed" not in self.axes:
            raise ValueError(
                f"{method}() summarises over seeds, and this result has no seed axis "
                "(sel(seed=...) removed it)"
            )
        if metric in self.held_out_names():
            return np.asarray(metrics_lib.final_value(self.curves[metric]), dtype=float)
        if metric not in SUMMARY_METRICS:
            choices = ", ".join(SUMMARY_METRICS + self.held_out_names())
            raise ValueError(
                f"{method}() takes one of {choices} (one value per config and seed), got {metric!r}"
            )
        return np.asarray(getattr(self, metric), dtype=float)

    def held_out_names(self) -> tuple:
        """The names of the problem's held-out metrics (its ``eval_fn``), whose final
        values :meth:`best`, :meth:`summary` and :meth:`table` also take."""
        return tuple(name for name in self.curves if name not in METRIC_NAMES)

    def best(self, metric: str = "final_loss", maximize: bool = False) -> dict:
        """The config with the lowest (with ``maximize``, highest) mean of ``metric`` over
        seeds, among those that no seed flagged as diverged: ``{hyperparameter: value,
        ..., metric: mean}``. ``metric`` is one of :data:`SUMMARY_METRICS` or a held-out
        metric's name (its final value).

        Example: ``res.best("accuracy", maximize=True)``."""
        values = self._per_seed("best", metric)
        sign = -1.0 if check_flag("maximize", maximize) else 1.0
        mean = np.where(self.diverged.any(axis=-1), np.inf, sign * values.mean(axis=-1))
        if not np.isfinite(mean).any():
            raise ValueError(f"no config has a finite mean {metric} without diverging")
        index = np.unravel_index(int(np.nanargmin(mean)), mean.shape)
        chosen = {name: self.axes[name][i] for name, i in zip(self.config_names(), index)}
        chosen[metric] = sign * float(mean[index])
        return chosen

    def best_config(self, metric: str = "final_loss", maximize: bool = False) -> dict:
        """The best config's hyperparameters (:meth:`best`) as plain JSON values, such that
        ``factory(**fixed, **best_config)`` rebuilds its optimizer.

        Example: ``jh.adam(**res.best_config())``."""
        chosen = self.best(metric, maximize)
        del chosen[metric]
        return {name: plain_value(value) for name, value in chosen.items()}

    def sel(self, **values) -> "SweepResult":
        """The sub-result at the given hyperparameter values (those axes are dropped).

        Example: ``res.sel(learning_rate=1e-2, b1=0.9).final_loss`` → ``(n_seeds,)``."""
        index = []
        axes = {}
        for name, axis_values in self.axes.items():
            if name in values:
                index.append(_position(name, axis_values, values.pop(name)))
            else:
                index.append(slice(None))
                axes[name] = axis_values
        if values:
            raise ValueError(f"unknown axes {sorted(values)}; axes are {list(self.axes)}")
        index = tuple(index)
        return dataclasses.replace(
            self,
            axes=axes,
            curves={k: v[index] for k, v in self.curves.items()},
            diverged=self.diverged[index],
            params=jax.tree.map(lambda leaf: leaf[index], self.params),
            initial_loss=self.initial_loss[index[-1]]
            if "seed" in self.axes and "seed" not in axes
            else self.initial_loss,
        )

    def summary(self, metric: str = "final_loss") -> metrics_lib.Interval:
        """Mean and 95% interval of ``metric`` over seeds, ``(*grid shape)`` each. A config
        with an infinite value on some seed (``steps_to_tol`` never reached) has mean
        ``inf`` and half-width NaN, as :meth:`best` counts it."""
        return self._summary("summary", metric)

    def _summary(self, method: str, metric: str) -> metrics_lib.Interval:
        values = self._per_seed(method, metric)
        interval = metrics_lib.mean_interval(values, axis=-1)
        infinite = np.isinf(values).any(axis=-1)
        return metrics_lib.Interval(
            mean=np.where(infinite, np.inf, interval.mean),
            half_width=np.where(infinite, np.nan, interval.half_width),
        )

    def table(
        self,
        metric: str = "final_loss",
        sort: bool = True,
        limit: Optional[int] = None,
        maximize: bool = False,
    ) -> str:
        """A markdown table, one row per config: its hyperparameters, the mean of
        ``metric`` over seeds ± the 95% half-width (with one seed, its value: one seed has
        no interval), the seeds that diverged and, where the optimum is known, the median
        steps to ``tol``; best first when ``sort`` (highest first with ``maximize``); at
        most ``limit`` rows (a positive int) when given."""
        if limit is not None:
            limit = check_int("limit", limit)
        interval = self._summary("table", metric)
        diverged = self.diverged.sum(axis=-1)
        # steps to a tolerance mean something only against a known optimum
        reach = (
            None if np.all(np.isnan(self.excess_loss)) else np.median(self.steps_to_tol, axis=-1)
        )
        names = self.config_names()
        n_seeds = self.diverged.shape[-1]
        rows = []
        for index in np.ndindex(*self.shape[:-1]):
            mean = float(interval.mean[index])
            rank = mean if np.isfinite(mean) and not diverged[index] else np.inf
            cells = [table_cell(self.axes[n][i]) for n, i in zip(names, index)] + [
                metrics_lib.interval_text(mean, float(interval.half_width[index]), n_seeds),
                f"{int(diverged[index])}/{n_seeds}",
            ]
            if reach is not None:
                cells.append("never" if not np.isfinite(reach[index]) else f"{reach[index]:.0f}")
            rows.append((-rank if maximize and np.isfinite(rank) else rank, cells))
        if sort:
            rows.sort(key=lambda row: row[0])
        rows = rows[:limit]
        statistic = "mean ± 95%" if n_seeds > 1 else "one seed"
        header = names + [f"{metric} ({statistic})", "diverged"]
        if reach is not None:
            header.append(f"median steps to excess loss ≤ {self.tol:.3g}")
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cells) + " |" for _, cells in rows]
        return "\n".join(lines)

    # -- storage ----------------------------------------------------------------------

    def save(self, path) -> None:
        """Writes the result to ``path`` (an ``.npz`` with the metadata as JSON), atomically."""
        arrays = {f"curve_{k}": v for k, v in self.curves.items()}
        arrays.update(steps=self.steps, diverged=self.diverged, initial_loss=self.initial_loss)
        paths = jax.tree_util.tree_leaves_with_path(self.params)
        arrays.update({f"param_{i}": leaf for i, (_, leaf) in enumerate(paths)})
        header = {"format": _RESULT_FORMAT, "axes": self.axes, "tol": self.tol, "meta": self.meta}
        if self.params is not None:
            header["param_paths"] = [jax.tree_util.keystr(path) for path, _ in paths]
        arrays["header_json"] = np.array(json.dumps(header, default=json_default))
        atomic_savez(path, arrays)

    @classmethod
    def load(cls, path) -> "SweepResult":
        """Reads a result written by :meth:`save`.

        Raises:
          FileNotFoundError: nothing is at ``path``.
          ValueError: the file at ``path`` is not a saved result (damaged, or another
            file), saying why.
        """
        advice = (
            "rerun the sweep that made it (with out= it reloads its saved chunks) "
            "or load another file"
        )
        with reading_saved(path, "SweepResult", advice) as (stored, header):
            return cls(
                axes={
                    name: [_as_tuples(value) for value in values]
                    for name, values in header["axes"].items()
                },
                curves={k[len("curve_") :]: v for k, v in stored.items() if k.startswith("curve_")},
                steps=stored["steps"],
                diverged=stored["diverged"],
                initial_loss=stored["initial_loss"],
                tol=header["tol"],
                meta=header["meta"],
                params=None
                if "param_paths" not in header
                else {path: stored[f"param_{i}"] for i, path in enumerate(header["param_paths"])},
            )


def _as_tuples(value):
    """A value read back from JSON with its lists as the tuples they were written from (a
    grid value can be a tuple, never a list: values compiled in must be hashable)."""
    return tuple(_as_tuples(item) for item in value) if isinstance(value, list) else value


def table_cell(value) -> str:
    """A hyperparameter value as a table shows it: a float to four digits, a function
    (a schedule) by its name."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return _label(value) if callable(value) else str(value)


def _label(value) -> str:
    """A function by its name (a schedule of ours: the call that made it), not its address."""
    return getattr(value, "__qualname__", None) or repr(value)


#: How close (relative) a float given to ``sel`` must be to an axis value to pick it:
#: float32 rounding, so the ``0.01`` a table shows selects a float32 axis's 0.00999999977.
_SEL_REL_TOL = 1e-6


def _position(name, axis_values, value):
    named = isinstance(
        value, str
    )  # a function on the axis is also selected by the name tables show
    exact = [
        i
        for i, candidate in enumerate(axis_values)
        if same_value(candidate, value)
        or (named and callable(candidate) and _label(candidate) == value)
    ]
    if len(exact) > 1:  # e.g. two schedules of the same name
        raise ValueError(
            f"{name}={value!r} is ambiguous: axis positions {exact} hold it; index the arrays "
            "instead"
        )
    if exact:
        return exact[0]
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        near = [
            i
            for i, candidate in enumerate(axis_values)
            if isinstance(candidate, float) and math.isclose(candidate, value, rel_tol=_SEL_REL_TOL)
        ]
        if len(near) == 1:
            return near[0]
    raise ValueError(f"{name}={value!r} is not on the axis {axis_values}")


def json_default(value):
    if isinstance(value, (np.generic,)):
        return value.item()
    if callable(value):
        return _label(value)
    return repr(value)
