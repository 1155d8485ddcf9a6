"""Hyperparameter sweeps: a whole grid × seeds in one compiled call.

``sweep(problem, factory, grid, seeds=...)`` runs every combination of the grid's values
and every seed as one ``jax.jit`` of ``vmap(configs) ∘ vmap(seeds)`` inside one ``lax.scan``:

* **traced hyperparameters** (axes whose values are all real numbers, at least one a
  float) become arrays of shape ``(configs,)``; the factory is called *inside* the vmap
  on scalars, so ``optax.adam``, ``optax.lion``… need no ``inject_hyperparams``;
* **static hyperparameters** (bools, strings, ints, ``None``, callables: ``nesterov``,
  ``eps_in_sqrt``, a schedule) change the program: one compile per static combination,
  merged into one :class:`SweepResult` whose axes read as one grid;
* **common random numbers**: configs that share a seed share the initial point and the
  batch order, and each step gathers the batch once per seed for all configs, so the
  per-step work is one product over the config axis (for least squares laid out with
  the configs on the minor axis, see ``problems.mse_batch_values_minor``); the optimizer's
  step counts, equal in every config, are held once;
* **chunks**: the memory a chunk needs (its results and its training state) is predicted
  up front; grids over ``memory_budget``
  run in equal chunks through the same compiled executable (a tqdm bar counts them);
* **devices**: with several devices (or processes after ``jax.distributed.initialize()``)
  the config axis is sharded over a 1-D mesh, each device running the one-device program
  on its share (``shard_map``), and every process gets the whole result;
* **divergence**: a config that blows up is frozen and flagged (see :mod:`jaxopt_hw.loop`);
  it cannot affect its neighbours, which share nothing with it but the batch indices;
* **saving**: ``out=dir`` saves each finished chunk atomically; re-running the same call
  skips the chunks on disk, so an interrupted sweep resumes without losing work.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import itertools
import json
import math
import numbers
import os
import time
import warnings
import zipfile
from typing import Any, Callable, NamedTuple, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxopt_hw import metrics as metrics_lib
from jaxopt_hw._compile import jit_with_options, platform_options, with_accepted_options
from jaxopt_hw._io import atomic_write
from jaxopt_hw.loop import (
    Cursor,
    Metrics,
    ProblemFns,
    _host_shuffle_words,
    _optimum,
    check_int,
    check_number,
    check_run_args,
    checked,
    guarded,
    initial_state,
    measure,
    block_target,
    fetch_block,
    simulate,
    simulate_blocks,
    measured_metrics,
    passes_check,
    proposed_step,
    proposed_update,
    summed_scan,
)
from jaxopt_hw.problems import Problem, matvec_as_product, sets_minor_form

__all__ = ["sweep", "SweepResult", "METRIC_NAMES", "SUMMARY_METRICS", "use_cpu_cores"]

METRIC_NAMES = Metrics._fields
#: The per-config, per-seed metrics that ``best``, ``summary`` and ``table`` summarise.
SUMMARY_METRICS = ("final_loss", "final_excess_loss", "steps_to_tol")
_RESULT_FORMAT = 1


# --------------------------------------------------------------------------- the result


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
    """

    axes: dict
    curves: dict
    steps: np.ndarray
    diverged: np.ndarray
    initial_loss: np.ndarray
    tol: float
    meta: dict = dataclasses.field(default_factory=dict)

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
            raise ValueError(f"{method}() summarises over seeds, and this result has no seed axis (sel(seed=...) removed it)")
        if metric not in SUMMARY_METRICS:
            raise ValueError(f"{method}() takes one of {', '.join(SUMMARY_METRICS)} (one value per config and seed), "
                             f"got {metric!r}")
        return np.asarray(getattr(self, metric), dtype=float)

    def best(self, metric: str = "final_loss") -> dict:
        """The config with the lowest mean of ``metric`` over seeds, among those that no
        seed flagged as diverged: ``{hyperparameter: value, ..., metric: mean}``."""
        values = self._per_seed("best", metric)
        mean = np.where(self.diverged.any(axis=-1), np.inf, values.mean(axis=-1))
        if not np.isfinite(mean).any():
            raise ValueError(f"no config has a finite mean {metric} without diverging")
        index = np.unravel_index(int(np.nanargmin(mean)), mean.shape)
        chosen = {name: self.axes[name][i] for name, i in zip(self.config_names(), index)}
        chosen[metric] = float(mean[index])
        return chosen

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
            initial_loss=self.initial_loss[index[-1]] if "seed" in self.axes and "seed" not in axes else self.initial_loss,
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
        return metrics_lib.Interval(mean=np.where(infinite, np.inf, interval.mean),
                                    half_width=np.where(infinite, np.nan, interval.half_width))

    def table(self, metric: str = "final_loss", sort: bool = True, limit: Optional[int] = None) -> str:
        """A markdown table, one row per config: its hyperparameters, the mean of
        ``metric`` over seeds ± the 95% half-width (with one seed, its value: one seed has
        no interval), the seeds that diverged and the median steps to ``tol``; best first
        when ``sort``; at most ``limit`` rows (a positive int) when given."""
        if limit is not None:
            limit = check_int("limit", limit)
        interval = self._summary("table", metric)
        diverged = self.diverged.sum(axis=-1)
        reach = np.median(self.steps_to_tol, axis=-1)
        names = self.config_names()
        n_seeds = self.diverged.shape[-1]
        rows = []
        for index in np.ndindex(*self.shape[:-1]):
            mean = float(interval.mean[index])
            rank = mean if np.isfinite(mean) and not diverged[index] else np.inf
            rows.append((rank, [_cell(self.axes[n][i]) for n, i in zip(names, index)] + [
                metrics_lib.interval_text(mean, float(interval.half_width[index]), n_seeds),
                f"{int(diverged[index])}/{n_seeds}",
                "never" if not np.isfinite(reach[index]) else f"{reach[index]:.0f}",
            ]))
        if sort:
            rows.sort(key=lambda row: row[0])
        rows = rows[:limit]
        target = "loss" if np.all(np.isnan(self.excess_loss)) else "excess loss"  # as steps_to_tol reads
        statistic = "mean ± 95%" if n_seeds > 1 else "one seed"
        header = names + [f"{metric} ({statistic})", "diverged", f"median steps to {target} ≤ {self.tol:.3g}"]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cells) + " |" for _, cells in rows]
        return "\n".join(lines)

    # -- storage ----------------------------------------------------------------------

    def save(self, path) -> None:
        """Writes the result to ``path`` (an ``.npz`` with the metadata as JSON), atomically."""
        arrays = {f"curve_{k}": v for k, v in self.curves.items()}
        arrays.update(steps=self.steps, diverged=self.diverged, initial_loss=self.initial_loss)
        header = {"format": _RESULT_FORMAT, "axes": self.axes, "tol": self.tol, "meta": self.meta}
        arrays["header_json"] = np.array(json.dumps(header, default=_json_default))
        _atomic_savez(path, arrays)

    @classmethod
    def load(cls, path) -> "SweepResult":
        """Reads a result written by :meth:`save`.

        Raises:
          FileNotFoundError: nothing is at ``path``.
          ValueError: the file at ``path`` is not a saved result (damaged, or another
            file), saying why.
        """
        try:
            stored = _npz_arrays(path)
            header = json.loads(str(stored["header_json"]))
            return cls(
                axes={name: [_as_tuples(value) for value in values] for name, values in header["axes"].items()},
                curves={k[len("curve_"):]: v for k, v in stored.items() if k.startswith("curve_")},
                steps=stored["steps"],
                diverged=stored["diverged"],
                initial_loss=stored["initial_loss"],
                tol=header["tol"],
                meta=header["meta"],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            reason = (str(error) if type(error) is ValueError else f"{type(error).__name__}: {error}").rstrip(".")
            # from None: the reason is in the message; the chain would end six frames down in zipfile
            raise ValueError(f"{os.fspath(path)!r} is not a saved SweepResult (damaged, or not written by "
                             f"SweepResult.save): {reason}; rerun the sweep that made it (with out= it "
                             "reloads its saved chunks) or load another file") from None


def _as_tuples(value):
    """A value read back from JSON with its lists as the tuples they were written from (a
    grid value can be a tuple, never a list: values compiled in must be hashable)."""
    return tuple(_as_tuples(item) for item in value) if isinstance(value, list) else value


def _cell(value) -> str:
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
    named = isinstance(value, str)  # a function on the axis is also selected by the name tables show
    exact = [i for i, candidate in enumerate(axis_values)
             if _same(candidate, value) or (named and callable(candidate) and _label(candidate) == value)]
    if len(exact) > 1:  # e.g. two schedules of the same name
        raise ValueError(f"{name}={value!r} is ambiguous: axis positions {exact} hold it; index the arrays instead")
    if exact:
        return exact[0]
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        near = [i for i, candidate in enumerate(axis_values)
                if isinstance(candidate, float) and math.isclose(candidate, value, rel_tol=_SEL_REL_TOL)]
        if len(near) == 1:
            return near[0]
    raise ValueError(f"{name}={value!r} is not on the axis {axis_values}")


def _json_default(value):
    if isinstance(value, (np.generic,)):
        return value.item()
    if callable(value):
        return _label(value)
    return repr(value)


def _atomic_savez(path, arrays) -> None:
    """``np.savez`` of ``arrays`` to ``path``, atomically."""
    with atomic_write(path, binary=True) as file:
        np.savez(file, **arrays)


#: What a zip archive (an ``.npz``) starts with: a member, or the end of an empty archive.
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _npz_arrays(path) -> dict:
    """Every array of the ``.npz`` at ``path``, read whole (checksums included).

    Raises:
      FileNotFoundError: nothing is at ``path``.
      ValueError: it is not an ``.npz`` or is damaged, saying why.
    """
    with open(path, "rb") as file:
        magic = file.read(4)
    if magic not in _ZIP_MAGIC:  # np.load would take other bytes for a pickle and advise allow_pickle
        raise ValueError("it is not an .npz (zip) archive")
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {key: stored[key] for key in stored.files}
    # zipfile takes damaged flags for encryption (RuntimeError) or a new version (NotImplementedError)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError) as error:
        if "pickle" in str(error):  # never advise loading it unsafely
            raise ValueError("it holds pickled objects, which a saved result never does") from None
        raise ValueError(f"{type(error).__name__}: {error}") from error


_CHUNK_KEYS = {f"curve_{name}" for name in METRIC_NAMES} | {"diverged", "initial_loss"}


def _saved_chunk(path) -> Optional[dict]:
    """The arrays of the chunk saved at ``path``; ``None`` when there is none, or when it
    cannot be read whole (then a warning names it, and the chunk is computed again: the
    writes are atomic, but a disk can still corrupt a file)."""
    if not os.path.exists(path):
        return None
    try:
        arrays = _npz_arrays(path)
        if set(arrays) != _CHUNK_KEYS:
            raise ValueError(f"it holds {sorted(arrays)}")
        return arrays
    except (OSError, ValueError) as error:
        warnings.warn(f"{path} cannot be read ({error}); computing that chunk again", RuntimeWarning, stacklevel=3)
        return None


# --------------------------------------------------------------------------- validation


def _accepted_names(factory) -> Optional[set]:
    """Keyword names ``factory`` accepts, or ``None`` if it takes ``**kwargs``."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {
        p.name
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }


def _is_traceable_axis(values) -> bool:
    """An axis is traced when all its values are real numbers and one is a float."""
    numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)
    return numeric and any(isinstance(v, (float, np.floating)) for v in values)


def _check_grid(factory, grid, fixed, static) -> tuple:
    if not callable(factory):
        raise TypeError(f"optimizer_factory must be callable, got {type(factory).__name__}")
    if not isinstance(grid, dict) or not grid:
        raise TypeError("grid must be a non-empty dict {hyperparameter name: list of values}")
    fixed = dict(fixed or {})
    accepted = _accepted_names(factory)
    factory_name = getattr(factory, "__name__", repr(factory))
    for name in list(grid) + list(fixed):
        if not isinstance(name, str):
            raise TypeError(f"hyperparameter names must be strings, got {name!r}")
        if accepted is not None and name not in accepted:
            raise ValueError(
                f"unknown hyperparameter {name!r} for {factory_name}; it accepts: {', '.join(sorted(accepted))}"
            )
        if name == "seed":
            raise ValueError("'seed' is not a hyperparameter: pass seeds=[...]")
    overlap = set(grid) & set(fixed)
    if overlap:
        raise ValueError(f"hyperparameters {sorted(overlap)} are both in grid and fixed")
    cleaned = {}
    for name, values in grid.items():
        if isinstance(values, (np.ndarray, jax.Array)):
            if values.ndim != 1:
                raise TypeError(f"grid[{name!r}] must be a list of values or a 1-D array, got shape {values.shape}")
            values = list(np.asarray(values))
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise TypeError(f"grid[{name!r}] must be a list of values, got {type(values).__name__}")
        values = [_plain(v) for v in values]
        if not values:
            raise ValueError(f"grid[{name!r}] is empty")
        repeated = _first_repeat(values)
        if repeated is not _NO_REPEAT:
            raise ValueError(f"grid[{name!r}] holds {repeated!r} twice")
        for value in values:
            if isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isfinite(value):
                raise ValueError(f"grid[{name!r}] contains a non-finite value {value!r}")
        cleaned[name] = values
    fixed = {name: _plain(value) for name, value in fixed.items()}
    for name, value in fixed.items():
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isfinite(value):
            raise ValueError(f"fixed[{name!r}] is not finite: {value!r}")
        _check_hashable(f"fixed[{name!r}]", value)
    static = {static} if isinstance(static, str) else set(static or ())
    unknown_static = static - set(cleaned)
    if unknown_static:
        raise ValueError(f"static names {sorted(unknown_static)} are not grid axes")
    traced = [n for n in cleaned if n not in static and _is_traceable_axis(cleaned[n])]
    for name in set(cleaned) - set(traced):  # compiled in as constants: hashable ones only
        for value in cleaned[name]:
            _check_hashable(f"grid[{name!r}] value", value)
    # Build each value once with Python numbers, so the factory's own checks run eagerly.
    first = {name: values[0] for name, values in cleaned.items()}
    _build("fixed and the first grid values", factory, {**fixed, **first})
    for name, values in cleaned.items():
        for value in values[1:]:
            _build(f"grid[{name!r}] = {value!r}", factory, {**fixed, **first, name: value})
    return cleaned, fixed, traced


def _plain(value):
    """A NumPy or JAX scalar (or 0-d array) as the Python number it holds; else ``value``."""
    if isinstance(value, (np.generic, np.ndarray, jax.Array)) and np.ndim(value) == 0:
        return np.asarray(value).item()
    return value


def _check_hashable(what: str, value) -> None:
    """Static hyperparameters key the compiled program, so they must be hashable."""
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"{what} must be hashable to be compiled in (a number, string, bool, tuple or "
                        f"function), got {type(value).__name__}; pass numbers one by one") from None


def _build(what: str, factory, kwargs: dict) -> None:
    """Calls ``factory(**kwargs)`` so that its own checks run before any compile, naming
    ``what`` and the whole call in the error."""
    try:
        factory(**kwargs)
    except (ValueError, TypeError) as error:
        call = ", ".join(f"{key}={value!r}" for key, value in kwargs.items())
        name = getattr(factory, "__name__", "optimizer_factory")
        raise type(error)(f"{what}: {name}({call}) refused: {error}") from error


_NO_REPEAT = object()


def _first_repeat(values):
    """The first value equal to an earlier one (``_NO_REPEAT`` if none): a set lookup for
    hashable values (a 10 000-value axis in milliseconds), one comparison with every
    earlier value for the others."""
    hashed, unhashable = set(), []
    for i, value in enumerate(values):
        try:
            repeated = value in hashed or any(_same(value, other) for other in unhashable)
            hashed.add(value)
        except TypeError:  # unhashable, such as a list or an array
            repeated = any(_same(value, earlier) for earlier in values[:i])
            unhashable.append(value)
        if repeated:
            return value
    return _NO_REPEAT


def _same(a, b) -> bool:
    """Whether two grid values are equal (values that do not compare, such as arrays, are not)."""
    try:
        return a is b or bool(a == b)
    except (TypeError, ValueError):
        return False


def _check_representable(values: dict, dtype, where: str = "grid") -> None:
    """Traced values reach the program in ``dtype``: one that overflows it (1e39 in
    float32) is refused rather than turned into ``inf``, one that underflows it (1e-50)
    rather than turned into 0, and two that round to the same ``dtype`` value rather
    than run as one config twice. ``values``: ``{name: list of values}``."""
    for name, listed in values.items():
        exact = np.asarray(listed, dtype=float)
        with np.errstate(over="ignore", under="ignore"):
            cast = exact.astype(dtype)
        if not np.all(np.isfinite(cast)):
            raise ValueError(f"{where}[{name!r}] holds a value beyond the range of {np.dtype(dtype).name}")
        if np.any((cast == 0) & (exact != 0)):
            raise ValueError(f"{where}[{name!r}] holds a value too small for {np.dtype(dtype).name} (it would be 0)")
        if len(np.unique(cast)) < len(cast):
            raise ValueError(f"{where}[{name!r}] holds values that are equal in {np.dtype(dtype).name}")


_TRACER_ERRORS = (jax.errors.ConcretizationTypeError, jax.errors.TracerIntegerConversionError,
                  jax.errors.TracerArrayConversionError)


def _traceable_fixed(factory, kwargs: dict, candidates: dict, params) -> dict:
    """The ``candidates`` (numeric ``fixed`` values) that ``factory`` takes as traced values:
    its ``init`` and ``update`` traced abstractly (nothing compiled) with all of them
    traced, else one by one. A factory that branches on a value in Python (``if eps > 0``)
    gets that one compiled in, as before."""

    def traces(names) -> bool:
        def build_and_step(values):
            tx = factory(**{**kwargs, **values})
            state = tx.init(params)
            return tx.update(params, state, params)

        try:
            jax.eval_shape(build_and_step, {name: np.float32(candidates[name]) for name in names})
        except _TRACER_ERRORS:
            return False
        return True

    if not candidates or traces(list(candidates)):
        return dict(candidates)
    return {name: value for name, value in candidates.items() if traces([name])}


def _check_devices(devices) -> list:
    """``devices`` as a list of distinct JAX devices."""
    if isinstance(devices, np.ndarray) and devices.ndim == 1:
        devices = list(devices)
    if isinstance(devices, (jax.Device, str, bytes)) or not isinstance(devices, Sequence):
        raise TypeError(f"devices must be a list of JAX devices (e.g. jax.devices()[:2]), got {type(devices).__name__}")
    devices = list(devices)
    if not devices:
        raise ValueError("devices must not be empty")
    for device in devices:
        if not isinstance(device, jax.Device):
            raise TypeError(f"devices must hold JAX devices (e.g. jax.devices()[:2]), got {device!r}")
    if len(set(devices)) != len(devices):
        raise ValueError(f"devices must be distinct, got {devices}")
    return devices


def _check_seeds(seeds) -> list:
    if isinstance(seeds, numbers.Integral):
        seeds = [seeds]
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, (Sequence, np.ndarray, range)):
        raise TypeError(f"seeds must be an int or a list of ints, got {type(seeds).__name__}")
    seeds = [check_int("seeds", s, minimum=0, maximum=2**32 - 1) for s in seeds]
    if not seeds:
        raise ValueError("seeds must not be empty")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    return seeds


# --------------------------------------------------------------------------- the program


def _sweep_body(fns, factory, static_kwargs, data, aux, w_star, min_loss, hyper, params0, words, divergence_factor, *, steps, batch_size, log_every):
    """Metrics ``(configs, seeds, logs)``, final divergence flags ``(configs, seeds)`` and
    the full loss at each seed's initial point ``(seeds,)``.

    ``hyper`` holds ``(configs,)`` arrays; ``params0``/``words`` have a leading seed axis."""
    kwargs = dict(static_kwargs)
    # a grid without traced axes has one config per static combination
    n_configs = jax.tree.leaves(hyper)[0].shape[0] if jax.tree.leaves(hyper) else 1

    def optimizer(h):
        return factory(**kwargs, **h)

    # the guard through the loss (loop.train_step) pays off for many parameters per config
    # (1 024 × 100: 311 → 270 ms); for a few it costs more than the scan it replaces
    # (1 024 × 5: 28 → 33 ms)
    check_by_loss = sum(math.prod(leaf.shape[1:]) for leaf in jax.tree.leaves(params0)) > _CHECK_BY_LOSS_ABOVE

    def start(h, params):
        return initial_state(fns, optimizer(h), params, aux, divergence_factor, check_by_loss=check_by_loss)

    def start_all(axes):
        """The initial states, laid out as ``axes`` (:class:`StateAxes`) says, and the initial
        losses (seeds, configs)."""
        per_config = jax.vmap(start, in_axes=(0, None), out_axes=(axes.config, 0), axis_size=n_configs)
        return jax.vmap(per_config, in_axes=(None, 0), out_axes=(axes.seed, 0))(hyper, params0)

    def sets_minor(fn, axes):
        """``fn`` for many parameter sets held as columns (``problems.sets_minor_form``)
        if it has such a form and ``axes`` holds every parameter's configs on the minor
        axis, else ``None``."""
        form = sets_minor_form(fn)
        return form if form is not None and all(axis == -1 for axis in jax.tree.leaves(axes.config.params)) else None

    def step_all_with(axes, states, batch, seed_axis):
        """One step of every config and seed (``loop.train_step``); ``batch`` has a seed
        axis (or none: shared). Configs are vmapped innermost: there they share one batch
        (``problems.mse_batch_values``). The freeze of diverged runs is applied to all
        runs at once, in the layout of their parameters (:func:`_select_runs`)."""
        batch_values = sets_minor(fns.batch_fn, axes)
        if batch_values is not None:
            proposed, passed, errors = proposed_all_minor(axes, batch_values, states, batch, seed_axis)
        else:
            step = lambda h, state, b: proposed_step(fns, optimizer(h), state, b)  # noqa: E731
            per_config = jax.vmap(step, in_axes=(0, axes.config, None), out_axes=(axes.config, 0, 0),
                                  axis_size=n_configs)
            proposed, passed, errors = jax.vmap(
                per_config, in_axes=(None, axes.seed, seed_axis), out_axes=(axes.seed, 0, 0))(hyper, states, batch)
        return guarded(states, proposed, passed, _select_runs(axes.config.params)), errors

    def proposed_all_minor(axes, batch_values_minor, states, batch, seed_axis):
        """The proposed steps with the batch values of all configs of a seed from one call
        of ``batch_values_minor`` (the form of ``batch_fn`` for sets as columns) on their
        parameters as laid out (no transposes)."""
        batch_values = jax.vmap(batch_values_minor, in_axes=(0, seed_axis, seed_axis))(
            states.params, batch["X"], batch["y"])
        step = lambda h, state, loss, grads, error: proposed_update(optimizer(h), state, loss, grads, error)  # noqa: E731
        per_config = jax.vmap(step, in_axes=(0, axes.config, 0, axes.config.params, 0), out_axes=(axes.config, 0, 0),
                              axis_size=n_configs)
        return jax.vmap(per_config, in_axes=(None, axes.seed, 0, 0, 0), out_axes=(axes.seed, 0, 0))(
            hyper, states, *batch_values)

    batch_axis = None if batch_size is None else 0
    example_batch = data if batch_size is None else jax.tree.map(
        lambda a: jax.ShapeDtypeStruct((words.shape[0], batch_size) + a.shape[1:], a.dtype), data)
    axes = _state_axes(start_all, step_all_with, example_batch, batch_axis, configs_minor=fns.parameter_sets_minor)
    states, initial_loss = start_all(axes)
    n_seeds = words.shape[0]
    cursors = Cursor(epoch=jnp.zeros(n_seeds, jnp.int32), offset=jnp.zeros(n_seeds, jnp.int32))

    def step_all(states, batch, seed_axis):
        return step_all_with(axes, states, batch, seed_axis)

    def train_on(states, batches):  # batches: (block steps, seeds, B, ...)
        return summed_scan(lambda s, b: step_all(s, b, 0), states, batches, jnp.zeros_like(initial_loss))

    def checked_all(states):
        if states.last_good is None:
            return states
        passed = jax.vmap(jax.vmap(passes_check, in_axes=(axes.config,)), in_axes=(axes.seed,))(states)
        return checked(states, passed, _select_runs(axes.config.params))

    def log(states, batch_error):
        params = checked_all(states).params
        measures = sets_minor(fns.measures_fn, axes)
        if measures is not None:
            measured = jax.vmap(measures, in_axes=(0, None))(params, aux)
            return measured_metrics(measured, w_star, min_loss, batch_error)
        measure_one = lambda p, e: measure(fns, p, aux, w_star, min_loss, e)  # noqa: E731
        per_config = jax.vmap(measure_one, in_axes=(axes.config.params, 0))
        return jax.vmap(per_config)(params, batch_error)

    if batch_size is None:  # full batch: every step's batch is all the data
        states, logs, _ = simulate(lambda states: step_all(states, data, None), log, states, steps, log_every)
    else:
        def fetch(cursors, count):  # the same rows for every config of a seed
            batches, cursors = jax.vmap(lambda c, w: fetch_block(data, c, w, batch_size, count))(cursors, words)
            return jax.tree.map(lambda a: jnp.swapaxes(a, 0, 1), batches), cursors

        target = block_target(data, batch_size, copies=n_seeds)
        states, logs, _ = simulate_blocks(
            fetch, train_on, log, lambda states: None, states, cursors,
            steps=steps, log_every=log_every, target=target,
        )
    logs = jax.tree.map(lambda a: jnp.moveaxis(a, 0, -1).swapaxes(0, 1), logs)  # (configs, seeds, logs)
    return logs, checked_all(states).diverged.T, initial_loss[:, 0]


def _select_runs(config_axes):
    """``loop.select_params`` for all the runs of a sweep at once: ``flags`` (seeds,
    configs) spread over parameter leaves laid out ``(seeds, …)`` with their configs
    on axis ``config_axes`` of each seed's share (a tree like the parameters')."""
    def select(flags, on_true, on_false):
        def leaf(config_axis, a, b):
            config_at = 1 + config_axis % (a.ndim - 1)
            spread = jnp.expand_dims(flags, [axis for axis in range(a.ndim) if axis not in (0, config_at)])
            return jnp.where(spread, a, b)
        return jax.tree.map(leaf, config_axes, on_true, on_false)
    return select


class StateAxes(NamedTuple):
    """Where a sweep's state keeps its seeds and configs: ``vmap`` axes, one per leaf, of the
    seed axis (``seed``: 0, or ``None`` for a leaf held once for all) and, inside it, of the
    config axis (``config``: 0, -1 or ``None``)."""

    seed: Any
    config: Any


def _state_axes(start_all, step_all_with, example_batch, batch_axis, configs_minor: bool) -> StateAxes:
    """The layout of a sweep's state.

    * The optimizer's integer leaves are held once for all configs and seeds (``None``).
      They are step counts, which advance in lockstep in every config; held per config,
      they cost Adam a power per config per step in its bias correction. A factory whose
      integer leaf depends on its config (vmap then refuses ``None``) gets every leaf per
      config.
    * With ``configs_minor`` (``Problem.parameter_sets_minor``: least squares), the
      configs are the minor axis of every per-config array (``(seeds, d, configs)``):
      the problem's batch products then read and write the parameters in place, where
      ``(seeds, configs, d)`` cost a transpose of them per step (1 024 Adam configs at
      d = 20: 137 → 64 ms per 1 000 steps; d = 5: 37 → 35 ms; d = 100 with the
      products called directly, ``problems.sets_minor_form``: 263 → 212 ms). Elsewhere the
      configs are the major axis (a logistic regression at d = 10 with them minor:
      398 → 530 ms)."""
    every = StateAxes(seed=0, config=0)
    shapes = jax.eval_shape(lambda: start_all(every)[0])

    def is_count(leaf):
        return jnp.issubdtype(leaf.dtype, jnp.integer)

    axes = jax.tree.map(lambda leaf: 0, shapes)
    if any(is_count(leaf) for leaf in jax.tree.leaves(shapes.opt_state)):
        counts_shared = axes._replace(opt_state=jax.tree.map(lambda leaf: None if is_count(leaf) else 0, shapes.opt_state))
        try:
            states = jax.eval_shape(lambda: start_all(StateAxes(counts_shared, counts_shared))[0])
            jax.eval_shape(lambda s, b: step_all_with(StateAxes(counts_shared, counts_shared), s, b, batch_axis),
                           states, example_batch)
            axes = counts_shared
        except ValueError:  # a config-dependent integer leaf
            pass
    if not configs_minor:
        return StateAxes(seed=axes, config=axes)
    config_axes = jax.tree.map(lambda axis, leaf: -1 if axis == 0 and leaf.ndim > 2 else axis, axes, shapes,
                               is_leaf=lambda x: x is None)
    return StateAxes(seed=axes, config=config_axes)


#: Parameters per config above which a sweep checks them through the loss when it can.
_CHECK_BY_LOSS_ABOVE = 32

_SWEEP_STATIC = ("fns", "factory", "static_kwargs", "steps", "batch_size", "log_every")


def _sharded_sweep_body(mesh, fns, factory, static_kwargs, data, aux, w_star, min_loss, hyper, params0, words,
                        divergence_factor, *, steps, batch_size, log_every):
    """:func:`_sweep_body` on every device of ``mesh`` for its share of the configs
    (``shard_map``): each device runs the one-device program on its shard, so a sharded
    sweep computes every config exactly as one device would. The initial losses depend
    on the seeds only and are the same on every device."""
    body = functools.partial(_sweep_body, fns, factory, static_kwargs, steps=steps, batch_size=batch_size,
                             log_every=log_every)
    configs, whole = jax.sharding.PartitionSpec("config"), jax.sharding.PartitionSpec()
    return _shard_map(
        body, mesh, in_specs=(whole, whole, whole, whole, configs, whole, whole, whole),
        out_specs=(configs, configs, whole),
    )(data, aux, w_star, min_loss, hyper, params0, words, divergence_factor)


def _shard_map(fun, mesh, in_specs, out_specs):
    """``jax.shard_map`` without its replication checks (the body's outputs are per
    config or equal on every device by construction)."""
    return jax.shard_map(fun, mesh=mesh, in_specs=in_specs, out_specs=out_specs, check_vma=False)


def _program(devices):
    """The jitted sweep for these devices: with several, one that takes their mesh first.

    No XLA:CPU options: measured on the 2-core AMD EPYC of docs/benchmarks.md (1 024 Adam
    configs), XLA's defaults, which hand products and reductions over the config axis to
    YNNPACK, are as fast as or faster than products through YNNPACK one by one (d = 100
    logging every step: 0.73 vs 0.97 s; d = 5: 45 vs 51 ms) and than XLA's legacy fusion
    emitters (~40% slower here, ~15% faster on an Intel Xeon before)."""
    body, static = (_sharded_sweep_body, ("mesh",) + _SWEEP_STATIC) if len(devices) > 1 else (_sweep_body, _SWEEP_STATIC)
    platform = devices[0].platform
    return jit_with_options(body, static, platform, platform_options(platform))


def _initial_points(problem: Problem, seeds):
    """Each seed's initial point, ``problem.init_params(seed)``, stacked on a seed axis
    (host arrays: nothing is compiled)."""
    points = [problem.initial_params(seed) for seed in seeds]
    return jax.tree.map(lambda *leaves: np.stack(leaves), *points)


def use_cpu_cores(count: Optional[int] = None) -> int:
    """Presents ``count`` CPU cores to JAX as as many CPU devices, over which
    :func:`sweep` then shards its configs (one share per core).

    XLA:CPU runs one program's kernels one after another, handing them between its
    threads; a sweep gains more from running a share of its configs on each core (1 024
    Adam configs × 1 000 steps on 2 cores: 258 → 193 ms at d = 100, see
    docs/benchmarks.md). Each config trains the same, bit for bit, for least squares.
    Programs that do not shard (:func:`jaxopt_hw.run`, any ``jax.jit``) still run on the
    first device, as before. The ``jaxopt-hw`` command does this by default.

    JAX reads the setting (``jax_num_cpu_devices``, also the environment variable
    ``JAX_NUM_CPU_DEVICES``) when it starts its CPU backend: call this right after
    ``import jax``, before any computation, or JAX raises a ``RuntimeError``.

    Args:
      count: CPU devices to present (default: the cores this process may run on).

    Returns:
      The count set.

    Example (a fresh process)::

      import jax, jaxopt_hw as jh
      jh.use_cpu_cores()       # 2 on a 2-core machine: jax.devices() lists two CPUs
      res = jh.sweep(prob, jh.adam, grid=...)  # each core runs half of the configs
    """
    if count is None:
        count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    count = check_int("count", count)
    jax.config.update("jax_num_cpu_devices", count)
    return count


#: A sweep left to choose its devices gives each at least this many configs.
_MIN_CONFIGS_PER_DEVICE = 64


def _default_devices(n_configs: int) -> list:
    """``jax.devices()``, or in one process only as many of them as get 64 configs or more
    each: least squares pads a device's share to 64 parameter sets
    (``problems._MIN_PARAMETER_SETS``) and its products want long rows, so thinner
    shares cost more than they save (64 cores as 64 devices would compute 4 096 sets for
    a 4-config sweep). Each config trains the same on any number of devices."""
    devices = jax.devices()
    if jax.process_count() > 1:
        return devices
    return devices[: max(1, min(len(devices), n_configs // _MIN_CONFIGS_PER_DEVICE))]


def _mesh_sharding(devices):
    mesh = jax.sharding.Mesh(np.asarray(devices), ("config",))
    return (
        jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("config")),
        jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec()),
    )


def _global_array(host_array, sharding):
    """A (possibly multi-process) global array from the same host array on every process."""
    host_array = np.asarray(host_array)
    return jax.make_array_from_callback(host_array.shape, sharding, lambda index: host_array[index])


def _to_host(tree):
    """The whole value of every leaf on every process (all-gather across processes), as
    writable NumPy arrays that share one host allocation, each filled from zero-copy
    views of its shards.

    One allocation, not one per leaf: NumPy asks the kernel for huge pages for 4 MiB or
    more, so the 20 MB of logs of 1 024 configs × 1 000 steps fault in ten pages, not
    five thousand (≈ 2 µs each on the 2-core VM of docs/benchmarks.md: the copy of a
    sweep sharded over two devices took 12–23 ms, now ≈ 2)."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        tree = multihost_utils.process_allgather(tree, tiled=True)  # host arrays
    leaves, treedef = jax.tree.flatten(jax.tree.map(_array, tree))
    starts = np.cumsum([0] + [_aligned(leaf.nbytes) for leaf in leaves])
    buffer = np.empty(starts[-1], np.uint8)
    hosts = [buffer[start:start + leaf.nbytes].view(leaf.dtype).reshape(leaf.shape) for start, leaf in zip(starts, leaves)]
    for leaf, host in zip(leaves, hosts):
        for index, part in _parts(leaf):
            host[index] = part
    return jax.tree.unflatten(treedef, hosts)


def _array(leaf):
    return leaf if isinstance(leaf, (jax.Array, np.ndarray)) else np.asarray(leaf)


def _aligned(nbytes: int, alignment: int = 64) -> int:
    return -(-nbytes // alignment) * alignment


def _parts(array):
    """``(index, host view)`` of each distinct shard of a JAX array (a NumPy array: itself)."""
    if isinstance(array, jax.Array):
        return [(shard.index, np.asarray(shard.data)) for shard in array.addressable_shards if shard.replica_id == 0]
    return [(..., array)]


# --------------------------------------------------------------------------- chunking


def _state_bytes(factory, kwargs: dict, params) -> int:
    """Bytes of one run's parameters and optimizer state (an abstract trace of ``init``:
    nothing is computed), remembered for hashable hyperparameters: the trace takes
    ≈ 0.5 ms, 2% of a 1 024-config sweep at d = 5."""
    leaves, structure = jax.tree.flatten(params)
    key = (factory, tuple(sorted(kwargs.items())), structure,
           tuple((np.shape(leaf), np.result_type(leaf).str) for leaf in leaves))
    try:
        hash(key)
    except TypeError:  # an unhashable hyperparameter (an array, say): traced every time
        return _abstract_state_bytes.__wrapped__(*key)
    return _abstract_state_bytes(*key)


@functools.lru_cache(maxsize=256)
def _abstract_state_bytes(factory, kwargs: tuple, structure, leaf_types: tuple) -> int:
    params = jax.tree.unflatten(structure, [jax.ShapeDtypeStruct(shape, dtype) for shape, dtype in leaf_types])
    shapes = jax.eval_shape(lambda p: (p, factory(**dict(kwargs)).init(p)), params)
    return sum(math.prod(leaf.shape) * np.dtype(leaf.dtype).itemsize for leaf in jax.tree.leaves(shapes))


def _bytes_per_config(n_seeds, n_logs, itemsize, state_bytes) -> int:
    """Memory one config of a chunk takes over its seeds: its logged metrics and divergence
    flags, and its training state counted twice (a step reads one and writes the next)."""
    return n_seeds * (n_logs * len(METRIC_NAMES) * itemsize + 1 + 2 * state_bytes)


def _chunk_size(n_configs, per_config, memory_budget, chunk_size) -> int:
    """Configs per chunk: ``chunk_size``, or as many as ``memory_budget`` holds. It does not
    depend on the devices, so a folder of chunks resumes on another number of them."""
    if chunk_size is None:
        chunk_size = max(1, int(memory_budget // per_config))
    return int(min(chunk_size, n_configs))


def _chunk_rows(chunk: int, size: int, n_configs: int, n_devices: int) -> tuple:
    """The config indices one program call computes for ``chunk``, padded with repeats of
    its last config to a multiple of ``n_devices`` (every device gets an equal share), and
    how many of them are the chunk's own."""
    start, stop = chunk * size, min((chunk + 1) * size, n_configs)
    padded = math.ceil(size / n_devices) * n_devices  # the same for every chunk: one program
    return np.concatenate([np.arange(start, stop), np.full(padded - (stop - start), stop - 1)]), stop - start


def _fingerprint(spec: dict) -> str:
    """A digest of ``spec`` that two processes agree on exactly when they describe the
    same sweep (see :func:`_token`)."""
    return hashlib.sha256(json.dumps(_token(spec), sort_keys=True).encode()).hexdigest()[:16]


def _token(value, within: tuple = ()):
    """``value`` as JSON that determines it: arrays by dtype, shape and a digest of their
    bytes; functions by module, name, code and the values they close over or default to
    (two lambdas differ by their code and constants, two schedules by their parameters);
    ``functools.partial`` by its function and arguments. Other callables fall back to
    their ``repr``, whose memory address makes a rerun in a new process refuse to resume
    rather than risk mixing sweeps. ``within``: the ids of the containers being described
    (a function that closes over itself is described once)."""
    if id(value) in within:
        return "<itself>"
    inside = within + (id(value),)
    if isinstance(value, dict):
        return {str(k): _token(v, inside) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_token(v, inside) for v in value]
    if isinstance(value, (set, frozenset)):  # in an order that does not depend on the hash seed
        return ["set", sorted(json.dumps(_token(v, inside), sort_keys=True) for v in value)]
    if isinstance(value, (np.ndarray, np.generic, jax.Array)):
        array = np.asarray(value)
        return ["array", array.dtype.str, list(array.shape), hashlib.sha256(np.ascontiguousarray(array).data).hexdigest()]
    if isinstance(value, functools.partial):
        return ["partial", _token(value.func, inside), _token(value.args, inside), _token(value.keywords, inside)]
    code = getattr(value, "__code__", None)
    if callable(value) and code is not None:
        cells = []
        for cell in getattr(value, "__closure__", None) or ():
            try:
                cells.append(_token(cell.cell_contents, inside))
            except ValueError:  # an empty cell
                cells.append(None)
        namespace = getattr(value, "__globals__", {})
        read = {name: _global_token(namespace[name]) for name in sorted(_global_names(code)) if name in namespace}
        return ["function", getattr(value, "__module__", ""), getattr(value, "__qualname__", ""), _code_token(code),
                _token(getattr(value, "__defaults__", None), inside), _token(getattr(value, "__kwdefaults__", None), inside),
                cells, read]
    inner = getattr(value, "__wrapped__", None) or getattr(value, "fun", None)  # jax.jit, custom_vmap, …
    if callable(value) and callable(inner):
        return [type(value).__qualname__, _token(inner, inside)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _code_token(code) -> str:
    """A digest of a code object: its bytecode, names and constants, nested code included."""
    digest = hashlib.sha256(code.co_code)
    digest.update(repr(code.co_names).encode())
    for constant in code.co_consts:
        if hasattr(constant, "co_code"):
            digest.update(_code_token(constant).encode())
        else:
            digest.update(json.dumps(_token(constant), sort_keys=True).encode())
    return digest.hexdigest()


def _global_names(code) -> set:
    """The global names a code object (and the code nested in it) may read."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if hasattr(constant, "co_code"):
            names |= _global_names(constant)
    return names


def _global_token(value):
    """A module-level value a function reads, one level deep: plain data in full (a
    ``B1 = 0.9`` the factory uses), functions, classes and modules by name (their own
    globals are not followed), other objects by a ``repr`` free of memory addresses, else
    by type."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.ndarray, np.generic, jax.Array)):
        return _token(value)
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        items = value.values() if isinstance(value, dict) else value
        return repr(type(value)) if any(callable(item) for item in items) else _token(value)
    if callable(value) or inspect.ismodule(value):
        return f"{getattr(value, '__module__', '') or ''}.{getattr(value, '__qualname__', getattr(value, '__name__', ''))}"
    text = repr(value)
    return type(value).__qualname__ if " at 0x" in text else text


def _problem_signature(problem: Problem) -> dict:
    """What a sweep's results depend on in ``problem``: its data, the arrays its full loss
    reads, its optimum and its functions."""
    functions = {name: getattr(problem, name, None) for name in ("loss_fn", "full_loss_fn", "error_fn", "batch_fn", "measures_fn")}
    return {"name": problem.name, "data": problem.data, "aux": problem.aux, "w_star": problem.w_star,
            "min_loss": problem.min_loss, "functions": functions}


# --------------------------------------------------------------------------- the sweep


def sweep(
    problem: Problem,
    optimizer_factory: Callable,
    grid: dict,
    fixed: Optional[dict] = None,
    seeds=(0,),
    steps: int = 1000,
    batch_size: Optional[int] = None,
    log_every: int = 1,
    tol: Optional[float] = None,
    divergence_factor: float = 1e6,
    memory_budget: float = 2**30,
    chunk_size: Optional[int] = None,
    static: Sequence[str] = (),
    out=None,
    devices=None,
    progress: bool = True,
) -> SweepResult:
    """Runs ``optimizer_factory(**config)`` on ``problem`` for every config of ``grid`` ×
    ``seeds``, as one compiled program per static combination (see the module docstring).

    Args:
      problem: a :class:`~jaxopt_hw.problems.Problem`.
      optimizer_factory: any callable with keyword hyperparameters returning an
        :class:`optax.GradientTransformation` (``jh.adam``, ``optax.lion``, …).
      grid: ``{name: [values]}``; the Cartesian product is swept.
      fixed: ``{name: value}`` passed to every config (a float is traced, as the
        hyperparameters of our optimizers are in :func:`jaxopt_hw.run`, so that a config
        rounds as its run does; compiled in where the factory branches on it in Python,
        and for half-precision problems).
      seeds: seeds (ints ≥ 0); each keys an initial point and a batch order shared by
        all configs.
      steps, batch_size, log_every, divergence_factor: as in :func:`jaxopt_hw.run`.
      tol: tolerance for ``steps_to_tol`` on the excess loss (default: 1% of
        ``min_loss`` when it is positive, else 1e-6).
      memory_budget: bytes per chunk of its logged results and its training state
        (parameters and optimizer state of every config and seed, counted twice); larger
        grids run in chunks.
      chunk_size: configs per chunk (overrides ``memory_budget``).
      static: grid names to treat as static even though their values are numbers.
      out: a folder (made if missing; a file is refused before anything runs); each
        finished chunk is saved there atomically and a rerun of the same sweep skips the
        chunks already saved. The merged result is saved as ``out/result.npz``.
      devices: devices to shard the config axis over (default: ``jax.devices()``, as
        many of them as get 64 configs or more each; all of them with several processes).
      progress: show a tqdm progress bar over chunks.

    Returns:
      A :class:`SweepResult`.

    Example:
      >>> import jaxopt_hw as jh
      >>> prob = jh.linear_regression(500, 2)
      >>> res = jh.sweep(prob, jh.adam, grid={"learning_rate": [1e-2, 1e-1], "b1": [0.8, 0.9]},
      ...                seeds=[0, 1], steps=200, batch_size=32, progress=False)
      >>> res.loss.shape
      (2, 2, 2, 200)
      >>> sorted(res.best())
      ['b1', 'final_loss', 'learning_rate']
    """
    steps, batch_size, log_every = check_run_args(problem, None, steps, batch_size, log_every, divergence_factor)
    grid, fixed, traced = _check_grid(optimizer_factory, grid, fixed, static)
    seeds = _check_seeds(seeds)
    tol = (0.01 * problem.min_loss if problem.min_loss else 1e-6) if tol is None else check_number("tol", tol, allow_zero=True)
    memory_budget = check_number("memory_budget", memory_budget)
    chunk_size = None if chunk_size is None else check_int("chunk_size", chunk_size)
    if out is not None:
        _check_out(out)
    n_logs = steps // log_every

    names = list(grid)
    static_names = [n for n in names if n not in traced]
    traced_shape = tuple(len(grid[n]) for n in traced)
    n_configs = int(np.prod(traced_shape)) if traced else 1
    devices = _default_devices(n_configs) if devices is None else _check_devices(devices)
    dtype = jnp.asarray(problem.X).dtype
    # traced hyperparameters at least in float32: a half-precision problem would round β2 = 0.999 to 1
    hyper_dtype = jnp.promote_types(dtype, jnp.float32)
    # numeric fixed values are traced too, as one value shared by all configs: compiled in
    # as constants they let XLA fuse and round the update otherwise than a run, which
    # traces its hyperparameters (momentum at 64 configs: 2.7e-6 apart after 100 steps)
    # (not in half precision: a float32 value would promote an optax state kept in float16,
    # as jh.run leaves such a problem's hyperparameters compiled in)
    candidates = {name: value for name, value in fixed.items()
                  if _is_traceable_axis([value]) and np.dtype(dtype).itemsize >= 4}
    _check_representable({name: grid[name] for name in traced}, hyper_dtype)
    _check_representable({name: [value] for name, value in candidates.items()}, hyper_dtype, where="fixed")
    first_config = {**fixed, **{name: values[0] for name, values in grid.items()}}
    one_point = problem.initial_params(0)
    fixed_traced = _traceable_fixed(optimizer_factory, first_config, candidates, one_point)
    state_bytes = _state_bytes(optimizer_factory, first_config, one_point)
    per_config = _bytes_per_config(len(seeds), n_logs, dtype.itemsize, state_bytes)
    size = _chunk_size(n_configs, per_config, memory_budget, chunk_size)
    n_chunks = math.ceil(n_configs / size)
    static_combos = list(itertools.product(*(grid[n] for n in static_names)))

    optimizer_name = f"{getattr(optimizer_factory, '__module__', None) or ''}.{getattr(optimizer_factory, '__qualname__', None) or repr(optimizer_factory)}"
    params0 = _initial_points(problem, seeds)
    fingerprint = None
    if out is not None:  # hashing the data costs time: only for a sweep that can resume
        spec = {
            "problem": problem.name, "optimizer": optimizer_name,
            "names": names, "grid": grid, "fixed": fixed, "seeds": seeds, "steps": steps, "batch_size": batch_size,
            "log_every": log_every, "divergence_factor": divergence_factor, "chunk": size, "traced": traced,
            # 3: initial points drawn on the host; 4: the fingerprint covers data and code;
            # 5: initial points drawn apart from the data, least squares' excess loss in closed form;
            # 6: numeric fixed values traced (they round as in a run); 7: least squares with
            # d > 32 computed with the configs on the minor axis (it rounds otherwise);
            # 8: other batch orders (epochs of n ≤ 64 drawn exactly, more Feistel rounds)
            "chunk_format": 8,
        }
        fingerprint = _fingerprint({**spec, "problem": _problem_signature(problem), "optimizer": optimizer_factory,
                                    "initial_points": params0})
        _claim_folder(out, fingerprint, spec)

    fns = ProblemFns.of(problem)
    w_star, min_loss = _optimum(problem)
    words = np.stack([_host_shuffle_words(s) for s in seeds])  # on the host: compiles nothing
    traced_values = np.array(list(itertools.product(*(grid[n] for n in traced)))) if traced else np.zeros((1, 0))

    # the arguments every chunk shares, placed once: replicated over the mesh, or on the
    # one device asked for (not the default one); each chunk's hyperparameters alike
    shared = [problem.data, problem.aux, w_star, min_loss, params0, words]
    mesh_arg = ()
    if len(devices) > 1:
        config_sharding, replicated = _mesh_sharding(devices)
        mesh_arg = (config_sharding.mesh,)
        shared = [jax.tree.map(lambda a: _global_array(a, replicated), x) if x is not None else None for x in shared]
        place_configs = functools.partial(_global_array, sharding=config_sharding)
    else:
        shared = jax.device_put(shared, devices[0])
        place_configs = functools.partial(jax.device_put, device=devices[0])
    data, aux, w_star_placed, min_loss_placed, params0_placed, words_placed = shared

    timings = {"compile_seconds": 0.0, "run_seconds": 0.0, "chunks_loaded": 0}
    per_static = []
    bar = _progress_bar(len(static_combos) * n_chunks, progress)
    fixed_static = {name: value for name, value in fixed.items() if name not in fixed_traced}
    for static_index, combo in enumerate(static_combos):
        static_kwargs = tuple(sorted({**fixed_static, **dict(zip(static_names, combo))}.items()))
        program = None
        pieces = []
        for chunk in range(n_chunks):
            chunk_path = None if out is None else os.path.join(out, f"chunk_{static_index:04d}_{chunk:05d}.npz")
            stored = None if chunk_path is None else _saved_chunk(chunk_path)
            if stored is not None:
                pieces.append(stored)
                timings["chunks_loaded"] += 1
                bar.update(1)
                continue
            rows, valid = _chunk_rows(chunk, size, n_configs, len(devices))
            hyper_host = {name: traced_values[rows, i].astype(hyper_dtype) for i, name in enumerate(traced)}
            hyper_host.update({name: np.full(len(rows), value, hyper_dtype) for name, value in fixed_traced.items()})
            hyper = {name: place_configs(values) for name, values in hyper_host.items()}
            args = [data, aux, w_star_placed, min_loss_placed, hyper, params0_placed, words_placed, divergence_factor]
            if program is None:
                started = time.perf_counter()
                with matvec_as_product():  # one matrix product over the configs per step
                    program = with_accepted_options(devices[0].platform, lambda: _program(devices).lower(
                        *mesh_arg, fns, optimizer_factory, static_kwargs, *args,
                        steps=steps, batch_size=batch_size, log_every=log_every,
                    ).compile())
                timings["compile_seconds"] += time.perf_counter() - started
            started = time.perf_counter()
            logs, diverged, initial_loss = _to_host(program(*args))
            timings["run_seconds"] += time.perf_counter() - started
            piece = {f"curve_{k}": v[:valid] for k, v in logs._asdict().items()}
            piece["diverged"] = diverged[:valid]
            piece["initial_loss"] = initial_loss
            if chunk_path is not None and jax.process_index() == 0:
                _atomic_savez(chunk_path, piece)
            pieces.append(piece)
            bar.update(1)
        initial = np.array(pieces[0].pop("initial_loss"))  # the same in every piece; a copy, not a view of a chunk's buffer
        for piece in pieces[1:]:
            piece.pop("initial_loss")
        per_static.append({k: _concatenated([p[k] for p in pieces]) for k in pieces[0]})
    bar.close()

    result = _assemble(per_static, grid, names, static_names, traced, traced_shape, seeds)
    res = SweepResult(
        axes={**{n: grid[n] for n in names}, "seed": seeds},
        curves=result["curves"],
        steps=np.arange(log_every, steps + 1, log_every),
        diverged=result["diverged"],
        initial_loss=initial,
        tol=float(tol),
        meta={
            "problem": problem.name,
            "optimizer": optimizer_name,
            "fixed": fixed,
            "batch_size": batch_size,
            "steps": steps,
            "log_every": log_every,
            "traced": traced,
            "static": static_names,
            "chunk_size": size,
            "n_chunks": n_chunks,
            "devices": len(devices),
            "processes": jax.process_count(),
            "fingerprint": fingerprint,
            **timings,
        },
    )
    if out is not None and jax.process_index() == 0:
        res.save(os.path.join(out, "result.npz"))
    return res


def _assemble(per_static, grid, names, static_names, traced, traced_shape, seeds):
    """Merges the per-static-combination pieces ``(configs, seeds, ...)`` into arrays over
    the grid's axes in the user's order."""
    static_shape = tuple(len(grid[n]) for n in static_names)
    stacked = {k: _concatenated([piece[k][None] for piece in per_static]) for k in per_static[0]}
    order = static_names + traced  # the axes as stacked
    permutation = [order.index(n) for n in names]
    assembled = {}
    for key, array in stacked.items():
        trailing = array.shape[2:]  # (seeds, [logs])
        array = array.reshape(static_shape + traced_shape + trailing)
        tail = list(range(len(order), array.ndim))
        assembled[key] = np.transpose(array, permutation + tail)
    return {
        "curves": {k[len("curve_"):]: v for k, v in assembled.items() if k.startswith("curve_")},
        "diverged": assembled["diverged"],
    }


def _concatenated(arrays):
    """``np.concatenate(arrays)``, without copying a lone array (a 1 024-config sweep
    logging five metrics every step returns 20 MB per 1 000 steps: a copy costs ms)."""
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _check_out(out) -> None:
    """A TypeError or ValueError naming ``out`` when it cannot be made a folder: not a
    path, or a file that is it or one of its parents."""
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a folder's path (str or os.PathLike), got {type(out).__name__}")
    path = os.path.abspath(os.fspath(out))
    while not os.path.exists(path) and os.path.dirname(path) != path:  # its nearest existing ancestor
        path = os.path.dirname(path)
    if not os.path.isdir(path):
        where = "is a file" if path == os.path.abspath(os.fspath(out)) else f"lies under the file {path!r}"
        raise ValueError(f"out={os.fspath(out)!r} must be a folder, but it {where}; pass the path of a folder "
                         "(one that does not exist yet is made)")


def _claim_folder(out, fingerprint, spec) -> None:
    """Makes ``out`` the home of this sweep, or checks that it already is. A folder of
    another sweep is refused even without chunks: that sweep may still be computing its
    first (taking the folder over would let both write ``chunk_0000_00000.npz``)."""
    os.makedirs(out, exist_ok=True)
    manifest = os.path.join(out, "manifest.json")
    if os.path.exists(manifest):
        with open(manifest) as file:
            stored = json.load(file)
        if stored.get("fingerprint") == fingerprint:
            return
        saved = _saved_chunk_count(out)
        held = f"{saved} saved chunk(s)" if saved else "no saved chunk: if no sweep is running there, delete it"
        raise ValueError(f"out={out!r} belongs to a different sweep ({_what_differs(stored.get('spec', {}), spec)}; "
                         f"{held}); use another folder")
    orphans = _saved_chunk_count(out)
    if orphans:  # chunks whose manifest is gone: which sweep wrote them cannot be told
        raise ValueError(f"out={out!r} holds {orphans} saved chunk(s) but no manifest.json, so which sweep wrote "
                         "them cannot be told; use another folder, or delete the chunks")
    if jax.process_index() != 0:
        return
    with atomic_write(manifest) as file:
        json.dump({"fingerprint": fingerprint, "spec": spec}, file, default=_json_default, indent=1)


def _saved_chunk_count(out) -> int:
    """The chunk files in ``out`` (not a ``.tmp`` a killed write left)."""
    return sum(name.startswith("chunk_") and name.endswith(".npz") for name in os.listdir(out))


def _what_differs(stored: dict, spec: dict) -> str:
    """Which arguments of the sweep in a folder differ from ``spec``, in words."""
    now = json.loads(json.dumps(spec, default=_json_default))
    names = sorted(key for key in set(stored) | set(now) if stored.get(key) != now.get(key))
    if names:
        return "other " + ", ".join(names)
    return "the same arguments, but other data, initial points or code of the problem or the optimizer"


def _progress_bar(total, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="sweep chunks", unit="chunk", disable=not enabled or total <= 1)
