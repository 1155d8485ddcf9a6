"""Atomic writes: all or nothing, permissions as any other file the user writes."""

from __future__ import annotations

import doctest
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


def test_written_files_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        with _io.atomic_write(tmp_path / "a.npz", binary=True) as file:
            file.write(b"x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "a.npz").st_mode) == 0o644
