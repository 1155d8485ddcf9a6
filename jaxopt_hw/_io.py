"""Atomic file writes: the one way results reach the disk."""

from __future__ import annotations

import contextlib
import os
import tempfile

__all__ = ["atomic_write"]


@contextlib.contextmanager
def atomic_write(path, binary: bool = False):
    """Yields a file to write ``path``'s new content to; on success the content replaces
    ``path`` at once (a temporary file in the same folder, flushed, then ``os.replace``),
    on failure ``path`` is left as it was and the temporary file is removed.

    Example:
      >>> import tempfile, os
      >>> folder = tempfile.mkdtemp()
      >>> with atomic_write(os.path.join(folder, "a.txt")) as file:
      ...     _ = file.write("done")
      >>> open(os.path.join(folder, "a.txt")).read()
      'done'
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    _check_writable(path, folder)
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=os.path.basename(path), suffix=".tmp")
    try:
        try:
            os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 would hide results from a group
        except OSError:  # a file system without permissions
            pass
        with os.fdopen(handle, "wb" if binary else "w") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        _fsync_folder(folder)  # the new name survives a crash too
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _check_writable(path: str, folder: str) -> None:
    """Refuses a ``path`` that is a folder, or under a file, naming it (``os.replace``
    and ``os.makedirs`` would name a temporary file or nothing)."""
    if os.path.isdir(path):
        raise ValueError(f"cannot write {path}: it is a folder; give a file's path inside it")
    above = folder  # the nearest folder above that exists, or a file in its place
    while not os.path.exists(above) and os.path.dirname(above) != above:
        above = os.path.dirname(above)
    if os.path.exists(above) and not os.path.isdir(above):
        raise ValueError(f"cannot write {path}: {above} is a file, not a folder")


def _umask() -> int:
    """The process's umask, read from ``/proc`` where it can be (setting it to read it, the
    fallback, briefly changes it for every thread)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder: str) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # a platform whose folders cannot be opened (Windows)
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def atomic_savez(path, arrays) -> None:
    """``np.savez`` of ``arrays`` to ``path``, atomically (see :func:`atomic_write`)."""
    import numpy as np

    with atomic_write(path, binary=True) as file:
        np.savez(file, **arrays)


#: What a zip archive (an ``.npz``) starts with: a member, or the end of an empty archive.
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def npz_arrays(path) -> dict:
    """Every array of the ``.npz`` at ``path``, read whole (checksums included).

    Raises:
      FileNotFoundError: nothing is at ``path``.
      ValueError: it is not an ``.npz`` or is damaged, saying why.
    """
    import zipfile

    import numpy as np

    with open(path, "rb") as file:
        magic = file.read(4)
    if (
        magic not in _ZIP_MAGIC
    ):  # np.load would take other bytes for a pickle and advise allow_pickle
        raise ValueError("it is not an .npz (zip) archive")
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {key: stored[key] for key in stored.files}
    # zipfile takes damaged flags for encryption (RuntimeError) or a new version (NotImplementedError)
    except (
        zipfile.BadZipFile,
        EOFError,
        OSError,
        ValueError,
        RuntimeError,
        NotImplementedError,
    ) as error:
        if "pickle" in str(error):  # never advise loading it unsafely
            raise ValueError("it holds pickled objects, which a saved result never does") from None
        raise ValueError(f"{type(error).__name__}: {error}") from error


@contextlib.contextmanager
def reading_saved(path, kind: str, advice: str):
    """Yields ``(arrays, header)``: the arrays of the ``.npz`` that ``kind.save`` wrote at
    ``path`` and its parsed ``header_json``. A failure to read them, or to build the
    ``kind`` from them under this block, becomes one ValueError naming the path, why, and
    ``advice``; a ``path`` that is no path is a TypeError (NumPy would take an int for an
    open file descriptor).

    Example:
      >>> import numpy as np, tempfile, os
      >>> path = os.path.join(tempfile.mkdtemp(), "x.npz")
      >>> np.savez(path, a=np.ones(2))
      >>> try:
      ...     with reading_saved(path, "Thing", "load another file") as (arrays, header):
      ...         pass
      ... except ValueError as error:
      ...     print(str(error).split(": ", 1)[1])
      KeyError: 'header_json'; load another file
    """
    import json

    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    try:
        arrays = npz_arrays(path)
        yield arrays, json.loads(str(arrays["header_json"]))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        reason = (
            str(error) if type(error) is ValueError else f"{type(error).__name__}: {error}"
        ).rstrip(".")
        # from None: the reason is in the message; the chain would end six frames down in zipfile
        raise ValueError(
            f"{os.fspath(path)!r} is not a saved {kind} (damaged, or not written by "
            f"{kind}.save): {reason}; {advice}"
        ) from None
