"""Planning a sweep before anything compiles: grid and seed checks, devices, memory and chunk sizes."""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import os
from typing import Any, NamedTuple, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxopt_hw.checks import check_int
from jaxopt_hw.problems import MIN_PARAMETER_SETS, Problem
from jaxopt_hw.step import Metrics


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


def check_grid(factory, grid, fixed, static) -> tuple:
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
                f"unknown hyperparameter {name!r} for {factory_name}; it accepts: "
                f"{', '.join(sorted(accepted))}"
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
                raise TypeError(
                    f"grid[{name!r}] must be a list of values or a 1-D array, got shape "
                    f"{values.shape}"
                )
            values = list(np.asarray(values))
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise TypeError(f"grid[{name!r}] must be a list of values, got {type(values).__name__}")
        values = [plain_value(v) for v in values]
        if not values:
            raise ValueError(f"grid[{name!r}] is empty")
        repeated = _first_repeat(values)
        if repeated is not _NO_REPEAT:
            raise ValueError(f"grid[{name!r}] holds {repeated!r} twice")
        for value in values:
            if (
                isinstance(value, numbers.Real)
                and not isinstance(value, bool)
                and not math.isfinite(value)
            ):
                raise ValueError(f"grid[{name!r}] contains a non-finite value {value!r}")
        cleaned[name] = values
    fixed = {name: plain_value(value) for name, value in fixed.items()}
    for name, value in fixed.items():
        if (
            isinstance(value, numbers.Real)
            and not isinstance(value, bool)
            and not math.isfinite(value)
        ):
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
    grid_key = tuple((name, _items(dict(enumerate(values)))) for name, values in cleaned.items())
    _remembered(_build_each_value, factory, _items(fixed), grid_key)
    return cleaned, fixed, traced


def grid_rows(grid: dict, names: Sequence[str]) -> np.ndarray:
    """Every config of the Cartesian product of ``grid``'s ``names`` axes, one a row, the
    last axis varying fastest (as :func:`itertools.product`), built by NumPy: a Python tuple
    per config would dominate the host work of a sweep of millions."""
    axes = [np.asarray(grid[name]) for name in names]
    if not axes:
        return np.zeros((1, 0))
    return np.stack([mesh.reshape(-1) for mesh in np.meshgrid(*axes, indexing="ij")], axis=-1)


@functools.lru_cache(maxsize=256)
def _build_each_value(factory, fixed: tuple, grid: tuple) -> None:
    """Builds each grid value once with Python numbers, so that the factory's own checks
    run eagerly; remembered (a refusal is not), as a grid of many values builds many times."""
    fixed = {name: value for name, _, value in fixed}
    grid = {name: [value for _, _, value in values] for name, values in grid}
    first = {name: values[0] for name, values in grid.items()}
    _build("fixed and the first grid values", factory, {**fixed, **first})
    for name, values in grid.items():
        for value in values[1:]:
            _build(f"grid[{name!r}] = {value!r}", factory, {**fixed, **first, name: value})


def plain_value(value):
    """A NumPy or JAX scalar (or 0-d array) as the Python number it holds; else ``value``."""
    if isinstance(value, (np.generic, np.ndarray, jax.Array)) and np.ndim(value) == 0:
        return np.asarray(value).item()
    return value


def _check_hashable(what: str, value) -> None:
    """Static hyperparameters key the compiled program, so they must be hashable."""
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"{what} must be hashable to be compiled in (a number, string, bool, tuple or "
            f"function), got {type(value).__name__}; pass numbers one by one"
        ) from None


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
            repeated = value in hashed or any(same_value(value, other) for other in unhashable)
            hashed.add(value)
        except TypeError:  # unhashable, such as a list or an array
            repeated = any(same_value(value, earlier) for earlier in values[:i])
            unhashable.append(value)
        if repeated:
            return value
    return _NO_REPEAT


def same_value(a, b) -> bool:
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
            raise ValueError(
                f"{where}[{name!r}] holds a value beyond the range of {np.dtype(dtype).name}"
            )
        if np.any((cast == 0) & (exact != 0)):
            raise ValueError(
                f"{where}[{name!r}] holds a value too small for {np.dtype(dtype).name} (it would "
                "be 0)"
            )
        if len(np.unique(cast)) < len(cast):
            raise ValueError(
                f"{where}[{name!r}] holds values that are equal in {np.dtype(dtype).name}"
            )


_TRACER_ERRORS = (
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerIntegerConversionError,
    jax.errors.TracerArrayConversionError,
)


def _traceable_fixed(factory, kwargs: dict, candidates: dict, params) -> dict:
    """The ``candidates`` (numeric ``fixed`` values) that ``factory`` takes as traced values:
    its ``init`` and ``update`` traced abstractly (nothing compiled) with all of them
    traced, else one by one. A factory that branches on a value in Python (``if eps > 0``)
    gets that one compiled in, as before. Remembered per factory, values and parameter
    shapes, since the trace costs more than the rest of a small sweep's planning."""
    key = (factory, _items(kwargs), tuple(sorted(candidates)), *_shapes(params))
    return {name: candidates[name] for name in _remembered(_traced_names, *key)}


@functools.lru_cache(maxsize=256)
def _traced_names(factory, kwargs: tuple, names: tuple, structure, leaf_types: tuple) -> tuple:
    params = _abstract(structure, leaf_types)
    kwargs = {name: value for name, _, value in kwargs}

    def traces(traced) -> bool:
        def build_and_step(values, params):
            tx = factory(**{**kwargs, **values})
            state = tx.init(params)
            return tx.update(params, state, params)

        scalars = {name: jax.ShapeDtypeStruct((), np.float32) for name in traced}
        try:
            jax.eval_shape(build_and_step, scalars, params)
        except _TRACER_ERRORS:
            return False
        return True

    if not names or traces(names):
        return names
    return tuple(name for name in names if traces((name,)))


def _items(values: dict) -> tuple:
    """``values`` as a key: sorted ``(name, type, value)``, since ``1 == 1.0 == True``."""
    return tuple(sorted((name, type(value).__name__, value) for name, value in values.items()))


def _shapes(params) -> tuple:
    """``params``' tree structure and its leaves' shapes and dtypes, as a key."""
    leaves, structure = jax.tree.flatten(params)
    return structure, tuple((np.shape(leaf), np.result_type(leaf).str) for leaf in leaves)


def _abstract(structure, leaf_types: tuple):
    """The parameters of :func:`_shapes`' key, as shapes and dtypes only."""
    return jax.tree.unflatten(
        structure, [jax.ShapeDtypeStruct(shape, dtype) for shape, dtype in leaf_types]
    )


def _remembered(cached, *key):
    """``cached(*key)``, or its function called afresh where ``key`` holds an unhashable
    value (an array as a hyperparameter, say)."""
    try:
        hash(key)
    except TypeError:
        return cached.__wrapped__(*key)
    return cached(*key)


def _check_devices(devices) -> list:
    """``devices`` as a list of distinct JAX devices."""
    if isinstance(devices, np.ndarray) and devices.ndim == 1:
        devices = list(devices)
    if isinstance(devices, (jax.Device, str, bytes)) or not isinstance(devices, Sequence):
        raise TypeError(
            "devices must be a list of JAX devices (e.g. jax.devices()[:2]), got "
            f"{type(devices).__name__}"
        )
    devices = list(devices)
    if not devices:
        raise ValueError("devices must not be empty")
    for device in devices:
        if not isinstance(device, jax.Device):
            raise TypeError(
                f"devices must hold JAX devices (e.g. jax.devices()[:2]), got {device!r}"
            )
    if len(set(devices)) != len(devices):
        raise ValueError(f"devices must be distinct, got {devices}")
    return devices


def check_seeds(seeds) -> list:
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


def use_cpu_cores(count: Optional[int] = None) -> int:
    """Presents ``count`` CPU cores to JAX as as many CPU devices, over which
    :func:`sweep` then shards its configs (one share per core).

    XLA:CPU runs one program's kernels one after another, handing them between its
    threads; a sweep gains more from running a share of its configs on each core
    (docs/benchmarks.md). Each config trains the same, bit for bit, for least squares.
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
        count = (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1
        )
    count = check_int("count", count)
    jax.config.update("jax_num_cpu_devices", count)
    return count


#: A sweep left to choose its devices gives each at least this many configs.
_MIN_CONFIGS_PER_DEVICE = 64


def _default_devices(n_configs: int) -> list:
    """``jax.devices()``, or in one process only as many of them as get 64 configs or more
    each: least squares pads a device's share to 64 parameter sets
    (``problems.MIN_PARAMETER_SETS``) and its products want long rows, so thinner
    shares cost more than they save (64 cores as 64 devices would compute 4 096 sets for
    a 4-config sweep). Each config trains the same on any number of devices."""
    devices = jax.devices()
    if jax.process_count() > 1:
        return devices
    return devices[: max(1, min(len(devices), n_configs // _MIN_CONFIGS_PER_DEVICE))]


def _state_bytes(factory, kwargs: dict, params) -> int:
    """Bytes of one run's parameters and optimizer state (an abstract trace of ``init``:
    nothing is computed), remembered as :func:`_traceable_fixed` is."""
    return _remembered(_abstract_state_bytes, factory, _items(kwargs), *_shapes(params))


@functools.lru_cache(maxsize=256)
def _abstract_state_bytes(factory, kwargs: tuple, structure, leaf_types: tuple) -> int:
    kwargs = {name: value for name, _, value in kwargs}
    shapes = jax.eval_shape(
        lambda p: (p, factory(**kwargs).init(p)), _abstract(structure, leaf_types)
    )
    return sum(
        math.prod(leaf.shape) * np.dtype(leaf.dtype).itemsize for leaf in jax.tree.leaves(shapes)
    )


def _bytes_per_config(n_seeds, n_logged_values, itemsize, state_bytes, kept_bytes=0) -> int:
    """Memory one config of a chunk takes over its seeds: its logged values and divergence
    flags, its training state counted twice (a step reads one and writes the next) and
    the final parameters it keeps."""
    return n_seeds * (n_logged_values * itemsize + 1 + 2 * state_bytes + kept_bytes)


def _metric_count(problem: Problem) -> int:
    """Values a sweep logs per run at each logged step: the metrics and the held-out ones."""
    return len(Metrics._fields) + len(problem.eval_names)


def _params_bytes(params) -> int:
    return sum(np.asarray(leaf).nbytes for leaf in jax.tree.leaves(params))


def check_results_fit(
    what: str, problem: Problem, n_configs: int, n_seeds: int, n_logs: int, keep_params=False
) -> None:
    """Refuses ``n_configs`` configs whose results would take more than half the host's
    memory (three axes of 1 000 values are 10⁹ configs), naming ``what`` (the argument
    that asked for them) before anything is listed, placed or compiled."""
    kept = _params_bytes(problem.initial_params(0)) if keep_params else 0
    per_config = _bytes_per_config(
        n_seeds, n_logs * _metric_count(problem), problem.dtype.itemsize, 0, kept
    )
    need, have = n_configs * per_config, _host_memory_bytes()
    if have and need > have / 2:
        raise ValueError(
            f"{what} asks for {n_configs:,} configs, whose results ({n_seeds} seed(s), "
            f"{n_logs} log(s) each) would take {need / 2**30:,.1f} GiB of the host's "
            f"{have / 2**30:,.1f} GiB: ask for fewer configs or seeds, or log less often"
        )


def _host_memory_bytes() -> int:
    """The host's physical memory in bytes; 0 where the platform does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 0


#: On a CPU, a step's working set (all devices together: they share the last-level cache)
#: stays within this fraction of that cache; other cores' work and the data need the rest.
_CACHE_FRACTION = 0.25


#: The last-level cache assumed where the operating system does not tell its size.
_FALLBACK_CACHE_BYTES = 16 * 2**20


#: XLA:CPU hands sums over a batch to YNNPACK, which tiles them in fixed-size blocks: a device's
#: configs in one batch row must fit half a block, else a block holds one row and the sums slow
#: down several-fold (docs/benchmarks.md, "Chunk size and the cache"). Least squares sums its
#: rows as products instead (at d = 5 the cache bound gives the same 16 384 configs); this
#: bound is for the sums of other problems' steps.
_REDUCTION_ROW_BYTES = 2**16


#: Configs per device on GPUs and other accelerators: far past what fills them (not measured).
_ACCELERATOR_CONFIGS_PER_DEVICE = 2**18


def _step_bytes(n_seeds, state_bytes, batch_rows, itemsize) -> int:
    """Bytes one config's step reads and writes over its seeds: its training state twice (a
    step reads one and writes the next) and three values per batch row (the batch product,
    the residual and the residual weighted for the gradient, each over the configs)."""
    return n_seeds * (2 * state_bytes + 3 * batch_rows * itemsize)


def _configs_per_device(
    platform: str, step_bytes: int, n_devices: int, itemsize: int, cache_bytes: int
) -> int:
    """Configs each device gets in a chunk, before the memory budget: on a CPU, as many as
    keep the step's working set of all devices within :data:`_CACHE_FRACTION` of
    ``cache_bytes`` and a batch row of a device's configs within
    :data:`_REDUCTION_ROW_BYTES`; elsewhere :data:`_ACCELERATOR_CONFIGS_PER_DEVICE`. A
    multiple of 64 (the least-squares products' padding), at least 64."""
    if platform == "cpu":
        in_cache = int(_CACHE_FRACTION * cache_bytes) // (step_bytes * n_devices)
        count = min(_REDUCTION_ROW_BYTES // itemsize, in_cache)
    else:
        count = _ACCELERATOR_CONFIGS_PER_DEVICE
    return max(MIN_PARAMETER_SETS, count // MIN_PARAMETER_SETS * MIN_PARAMETER_SETS)


def _chunk_size(n_configs, per_config, memory_budget, chunk_size, per_device, n_devices) -> int:
    """Configs per chunk: ``chunk_size``; else ``per_device`` configs for each of the
    ``n_devices``, or fewer where ``memory_budget`` holds fewer (``per_config`` bytes each),
    rounded down to 64 per device (else to 64) where there are that many; all the configs if
    they fit; otherwise the fewest chunks of that size, made equal (the last chunk pads to
    the size of the others)."""
    if chunk_size is not None:
        return int(min(chunk_size, n_configs))
    cap = min(per_device * n_devices, max(1, int(memory_budget // per_config)))
    quantum = next((q for q in (MIN_PARAMETER_SETS * n_devices, MIN_PARAMETER_SETS) if cap >= q), 1)
    cap = cap // quantum * quantum
    if cap >= n_configs:
        return int(n_configs)
    even = math.ceil(n_configs / math.ceil(n_configs / cap))
    return int(min(cap, math.ceil(even / quantum) * quantum))


@functools.cache
def _cache_bytes() -> int:
    """Bytes of last-level cache of the cores this process may run on, each cache counted
    once (Linux's sysfs); :data:`_FALLBACK_CACHE_BYTES` where that cannot be read."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    caches = {}
    try:
        for cpu in cpus:
            folder = f"/sys/devices/system/cpu/cpu{cpu}/cache"
            levels = [
                os.path.join(folder, name)
                for name in os.listdir(folder)
                if name.startswith("index")
            ]
            levels = [path for path in levels if _read(path, "type") != "Instruction"]
            last = max(levels, key=lambda path: int(_read(path, "level")))
            caches[_read(last, "shared_cpu_list")] = _size_bytes(_read(last, "size"))
    except (OSError, ValueError):
        return _FALLBACK_CACHE_BYTES
    return sum(caches.values()) or _FALLBACK_CACHE_BYTES


def _read(folder: str, name: str) -> str:
    with open(os.path.join(folder, name)) as file:
        return file.read().strip()


def _size_bytes(text: str) -> int:
    """``"32768K"``, ``"32M"`` or ``"512"`` (sysfs cache sizes) in bytes."""
    scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:].upper(), 1)
    return int(text[:-1] if scale > 1 else text) * scale


class RunPlan(NamedTuple):
    """Where and how a list of configs runs: its devices, the dtype of its traced
    hyperparameters, the fixed values traced beside them, and the configs per chunk."""

    devices: list
    hyper_dtype: Any
    fixed_traced: dict
    chunk_size: int


def plan_run(
    problem: Problem,
    factory,
    traced: dict,
    fixed: dict,
    first_config: dict,
    seeds,
    n_configs: int,
    *,
    steps,
    batch_size,
    log_every,
    memory_budget,
    chunk_size,
    devices,
    keep_params,
) -> RunPlan:
    """The plan for ``n_configs`` configs (``traced``: each traced hyperparameter's values;
    ``first_config``: one whole config) on ``devices`` (default: as many as get 64 configs
    each): numeric ``fixed`` values traced where the factory allows, chunks of
    ``chunk_size`` or as derived from the cost of a step and ``memory_budget``."""
    devices = _default_devices(n_configs) if devices is None else _check_devices(devices)
    dtype = problem.dtype
    # traced hyperparameters at least in float32: a half-precision problem would round β2 = 0.999 to 1
    hyper_dtype = jnp.promote_types(dtype, jnp.float32)
    # numeric fixed values are traced too, as one value shared by all configs: compiled in
    # as constants they let XLA fuse and round the update otherwise than a run, which
    # traces its hyperparameters; not in half precision, where a float32 value would
    # promote an optax state kept in float16 (jh.run compiles such values in)
    candidates = {
        name: value
        for name, value in fixed.items()
        if _is_traceable_axis([value]) and np.dtype(dtype).itemsize >= 4
    }
    _check_representable(traced, hyper_dtype)
    _check_representable(
        {name: [value] for name, value in candidates.items()}, hyper_dtype, where="fixed"
    )
    one_point = problem.initial_params(0)
    fixed_traced = _traceable_fixed(factory, first_config, candidates, one_point)
    state_bytes = _state_bytes(factory, first_config, one_point)
    per_config = _bytes_per_config(
        len(seeds),
        steps // log_every * _metric_count(problem),
        dtype.itemsize,
        state_bytes,
        _params_bytes(one_point) if keep_params else 0,
    )
    step_bytes = _step_bytes(len(seeds), state_bytes, batch_size or problem.n, dtype.itemsize)
    platform = devices[0].platform
    per_device = _configs_per_device(
        platform,
        step_bytes,
        len(devices),
        dtype.itemsize,
        _cache_bytes() if platform == "cpu" else 0,
    )
    size = _chunk_size(n_configs, per_config, memory_budget, chunk_size, per_device, len(devices))
    return RunPlan(devices, hyper_dtype, fixed_traced, size)


def chunk_rows(chunk: int, size: int, n_configs: int, n_devices: int, multiple: int = 1) -> tuple:
    """The config indices one program call computes for ``chunk``, padded with repeats of
    its last config so that every device gets an equal share, a multiple of ``multiple``,
    and how many of them are the chunk's own."""
    start, stop = chunk * size, min((chunk + 1) * size, n_configs)
    share = math.ceil(size / (n_devices * multiple)) * multiple  # the same for every chunk
    return np.concatenate(
        [np.arange(start, stop), np.full(share * n_devices - (stop - start), stop - 1)]
    ), stop - start
