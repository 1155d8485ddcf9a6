"""Atomic writes: all or nothing, permissions as any other file the user writes."""

from __future__ import annotations

import doctest
import math
import os
import stat

import pytest

from jaxopt_hw import _io


def test_docstring_example():
    results = doctest.testmod(_io)
    assert results.attempted >= 1 and results.failed == 0


def test_a_failed_write_leaves_the_old_content_and_no_temporary_file(tmp_path):
    path = tmp_path / "result.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with _io.atomic_write(path) as file:
            file.write("half")
            raise RuntimeError("killed mid-way")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.txt"]


def test_writing_over_a_folder_or_under_a_file_names_the_path(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"results: it is a folder"):
        with _io.atomic_write(tmp_path / "results"):
            pass
    with pytest.raises(ValueError, match=r"notes.txt is a file, not a folder"):
        with _io.atomic_write(tmp_path / "notes.txt" / "deeper" / "a.npz"):
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "results"]


def test_written_files_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        with _io.atomic_write(tmp_path / "a.npz", binary=True) as file:
            file.write(b"x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "a.npz").st_mode) == 0o644


def test_results_json_is_strict_json_and_keeps_non_finite_numbers_as_strings(tmp_path):
    import json

    import numpy as np

    from jaxopt_hw.studies import write_json

    def refuse(name):
        raise ValueError(f"bare {name} in strict JSON")

    path = tmp_path / "r.json"
    write_json(
        path,
        {
            "steps": [12.0, math.inf],
            "half": np.array([0.5, np.inf]),
            "nan": np.float32("nan"),
            "low": -math.inf,
            "nested": ({"n": np.int64(3)},),
            "where": tmp_path,
        },
    )
    loaded = json.loads(path.read_text(), parse_constant=refuse)  # refuses Infinity / NaN tokens
    assert loaded["steps"] == [12.0, "Infinity"] and loaded["half"] == [0.5, "Infinity"]
    assert (
        loaded["low"] == "-Infinity"
        and loaded["nested"] == [{"n": 3}]
        and loaded["where"] == str(tmp_path)
    )
    assert math.isnan(float(loaded["nan"])) and [float(v) for v in loaded["steps"]] == [
        12.0,
        math.inf,
    ]
