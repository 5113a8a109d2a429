"""dcsim.fileio: output locations checked up front, files replaced atomically.

The references are the POSIX facts the module relies on: a path component may not exceed
``NAME_MAX`` bytes (255 on the file systems used here), ``/proc`` accepts no new entries
even from root, and ``os.replace`` within one folder is atomic, so a failed write must
leave the previous content byte for byte.
"""

from __future__ import annotations

import errno
import os

import pytest

from dcsim.errors import ConfigError
from dcsim.fileio import (
    TMP_PREFIX,
    atomic_path,
    check_output_dir,
    check_output_file,
    write_text_atomic,
)


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old\n")
    with pytest.raises(ConfigError) as err, atomic_path(target) as tmp:
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert str(err.value) == f"{target}: cannot write (No space left on device)"
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_a_write_replaces_the_file_whole(tmp_path):
    target = tmp_path / "sub" / "report.md"  # missing folders are created
    write_text_atomic("first\n", target)
    write_text_atomic("second\n", target)
    assert target.read_text() == "second\n"
    assert [p.name for p in target.parent.iterdir()] == ["report.md"]


def test_check_output_file_cases(tmp_path):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    assert check_output_file(tmp_path / "new" / "deeper" / "r.csv", "--csv").name == "r.csv"
    with pytest.raises(ConfigError, match=r"afile is a file, not a folder"):
        check_output_file(tmp_path / "afile" / "r.csv", "--csv")
    with pytest.raises(ConfigError, match=r"adir is a folder; expected a file name"):
        check_output_file(tmp_path / "adir", "--csv")
    with pytest.raises(ConfigError, match=r"unknown file type '\.gif'"):
        check_output_file(tmp_path / "p.gif", "--plot", suffixes=(".png", ".pdf"))
    with pytest.raises(ConfigError, match=r"cannot write in /proc"):
        check_output_file("/proc/dcsim-report.md", "--markdown")
    # 255 bytes is the limit; the temporary sibling ".tmp-<8 hex>-" takes 14 of them.
    assert check_output_file(tmp_path / ("n" * 241), "--csv")
    with pytest.raises(ConfigError, match=r"has 242 characters; this file system allows 241"):
        check_output_file(tmp_path / ("n" * 242), "--csv")
    # Nothing was created by any of the checks.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "afile"]


def test_check_output_dir_cases(tmp_path):
    (tmp_path / "afile").write_text("x")
    assert check_output_dir(tmp_path / "a" / "b", "--out") == tmp_path / "a" / "b"
    with pytest.raises(ConfigError, match=r"--out .*afile: .*afile is a file, not a folder"):
        check_output_dir(tmp_path / "afile", "--out")
    with pytest.raises(ConfigError, match=r"afile is a file, not a folder"):
        check_output_dir(tmp_path / "afile" / "x", "--out")
    with pytest.raises(ConfigError, match=r"has 256 characters; this file system allows 255"):
        check_output_dir(tmp_path / ("d" * 256), "--out")
    assert check_output_dir(tmp_path / ("d" * 255), "--out")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(TMP_PREFIX)]
    assert leftovers == [] and sorted(p.name for p in tmp_path.iterdir()) == ["afile"]
