"""Saved sweeps: fingerprints, the folder a sweep owns, its chunks on disk, resume."""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import warnings
from typing import Optional

import jax
import numpy as np

from jaxopt_hw._io import atomic_write, npz_arrays
from jaxopt_hw.problems import GENERIC_FORMS, Problem
from jaxopt_hw.sweep.result import METRIC_NAMES, json_default


def chunk_keys(problem: Problem, kept_leaves: int) -> set:
    """The arrays a saved chunk holds: each logged metric's curves, the divergence flags,
    the initial losses and, when kept, each parameter leaf."""
    curves = {f"curve_{name}" for name in METRIC_NAMES + problem.eval_names}
    return curves | {f"param_{i}" for i in range(kept_leaves)} | {"diverged", "initial_loss"}


def saved_chunk(path, keys: set) -> Optional[dict]:
    """The arrays of the chunk saved at ``path``; ``None`` when there is none, or when it
    cannot be read whole (then a warning names it, and the chunk is computed again: the
    writes are atomic, but a disk can still corrupt a file)."""
    if not os.path.exists(path):
        return None
    try:
        arrays = npz_arrays(path)
        if set(arrays) != keys:
            raise ValueError(f"it holds {sorted(arrays)}")
        return arrays
    except (OSError, ValueError) as error:
        warnings.warn(
            f"{path} cannot be read ({error}); computing that chunk again",
            RuntimeWarning,
            stacklevel=3,
        )
        return None


def fingerprint_of(spec: dict) -> str:
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
        return [
            "array",
            array.dtype.str,
            list(array.shape),
            hashlib.sha256(np.ascontiguousarray(array).data).hexdigest(),
        ]
    if isinstance(value, functools.partial):
        return [
            "partial",
            _token(value.func, inside),
            _token(value.args, inside),
            _token(value.keywords, inside),
        ]
    code = getattr(value, "__code__", None)
    if callable(value) and code is not None:
        cells = []
        for cell in getattr(value, "__closure__", None) or ():
            try:
                cells.append(_token(cell.cell_contents, inside))
            except ValueError:  # an empty cell
                cells.append(None)
        namespace = getattr(value, "__globals__", {})
        read = {
            name: _global_token(namespace[name])
            for name in sorted(_global_names(code))
            if name in namespace
        }
        return [
            "function",
            getattr(value, "__module__", ""),
            getattr(value, "__qualname__", ""),
            _code_token(code),
            _token(getattr(value, "__defaults__", None), inside),
            _token(getattr(value, "__kwdefaults__", None), inside),
            cells,
            read,
        ]
    inner = getattr(value, "__wrapped__", None) or getattr(
        value, "fun", None
    )  # jax.jit, custom_vmap, …
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
    if value is None or isinstance(
        value, (bool, int, float, complex, str, bytes, np.ndarray, np.generic, jax.Array)
    ):
        return _token(value)
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        items = value.values() if isinstance(value, dict) else value
        return repr(type(value)) if any(callable(item) for item in items) else _token(value)
    if callable(value) or inspect.ismodule(value):
        return f"{getattr(value, '__module__', '') or ''}.{getattr(value, '__qualname__', getattr(value, '__name__', ''))}"
    text = repr(value)
    return type(value).__qualname__ if " at 0x" in text else text


def problem_signature(problem: Problem) -> dict:
    """What a sweep's results depend on in ``problem``: its data, the arrays its full loss
    reads, its optimum and its functions."""
    forms = problem.forms or GENERIC_FORMS
    functions = {
        "loss_fn": problem.loss_fn,
        "full_loss_fn": problem.full_loss_fn,
        "error_fn": problem.error_fn,
        "batch_fn": forms.batch_fn,
        "measures_fn": forms.measures_fn,
        "eval_fn": problem.eval_fn,
    }
    return {
        "name": problem.name,
        "data": problem.data,
        "aux": problem.aux,
        "w_star": problem.w_star,
        "min_loss": problem.min_loss,
        "functions": functions,
    }


def _manifest(out) -> Optional[dict]:
    """The manifest of the sweep folder ``out``, ``None`` if it has none."""
    path = os.path.join(out, "manifest.json")
    if not os.path.exists(path):
        return None
    with open(path) as file:
        return json.load(file)


def resumed_chunks(out, spec: dict, fingerprint: str, identity: dict) -> tuple:
    """``spec`` and ``fingerprint``, with the chunk size of the folder ``out`` instead when
    it holds this same sweep in chunks of another size: the size a sweep derives depends on
    its devices and its machine's cache, and a folder resumes in the chunks it was started in."""
    stored = _manifest(out) if os.path.isdir(out) else None
    chunk = (stored or {}).get("spec", {}).get("chunk")
    if type(chunk) is not int or chunk < 1 or chunk == spec["chunk"]:
        return spec, fingerprint
    other = {**spec, "chunk": chunk}
    other_fingerprint = fingerprint_of({**other, **identity})
    return (
        (other, other_fingerprint)
        if other_fingerprint == stored.get("fingerprint")
        else (spec, fingerprint)
    )


def check_out(out) -> None:
    """A TypeError or ValueError naming ``out`` when it cannot be made a folder: not a
    path, or a file that is it or one of its parents."""
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(
            f"out must be a folder's path (str or os.PathLike), got {type(out).__name__}"
        )
    path = os.path.abspath(os.fspath(out))
    while (
        not os.path.exists(path) and os.path.dirname(path) != path
    ):  # its nearest existing ancestor
        path = os.path.dirname(path)
    if not os.path.isdir(path):
        where = (
            "is a file"
            if path == os.path.abspath(os.fspath(out))
            else f"lies under the file {path!r}"
        )
        raise ValueError(
            f"out={os.fspath(out)!r} must be a folder, but it {where}; pass the path of a folder "
            "(one that does not exist yet is made)"
        )


def claim_folder(out, fingerprint, spec) -> None:
    """Makes ``out`` the home of this sweep, or checks that it already is. A folder of
    another sweep is refused even without chunks: that sweep may still be computing its
    first (taking the folder over would let both write ``chunk_0000_00000.npz``)."""
    os.makedirs(out, exist_ok=True)
    manifest = os.path.join(out, "manifest.json")
    stored = _manifest(out)
    if stored is not None:
        if stored.get("fingerprint") == fingerprint:
            return
        saved = _saved_file_count(out)
        held = (
            f"{saved} saved file(s)"
            if saved
            else "nothing saved: if no sweep is running there, delete it"
        )
        raise ValueError(
            f"out={out!r} belongs to a different sweep "
            f"({_what_differs(stored.get('spec', {}), spec)}; "
            f"{held}); use another folder"
        )
    orphans = _saved_file_count(out)
    if orphans:  # results whose manifest is gone: which sweep wrote them cannot be told
        raise ValueError(
            f"out={out!r} holds {orphans} saved file(s) but no manifest.json, so which sweep "
            "wrote them cannot be told; use another folder, or delete them"
        )
    if jax.process_index() != 0:
        return
    with atomic_write(manifest) as file:
        json.dump({"fingerprint": fingerprint, "spec": spec}, file, default=json_default, indent=1)


def _saved_file_count(out) -> int:
    """The results saved in ``out``: a sweep's chunks, a search's rungs and result (not a
    ``.tmp`` a killed write left)."""
    return sum(name.endswith(".npz") for name in os.listdir(out))


def _what_differs(stored: dict, spec: dict) -> str:
    """Which arguments of the sweep in a folder differ from ``spec``, in words."""
    now = json.loads(json.dumps(spec, default=json_default))
    names = sorted(key for key in set(stored) | set(now) if stored.get(key) != now.get(key))
    if names:
        return "other " + ", ".join(names)
    return (
        "the same arguments, but other data, initial points or code of the problem or the optimizer"
    )
