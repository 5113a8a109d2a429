"""The catalog's YAML reader: parsed once per file content, and never shared between callers."""

from __future__ import annotations

import os

import pytest

from dcsim.catalog.yaml_file import read_yaml
from dcsim.errors import ConfigError


def test_an_edited_file_is_read_again(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("a: 1\n", encoding="utf-8")
    assert read_yaml(p) == {"a": 1}
    # Same size, new modification time: the key changes, so the new content is read.
    p.write_text("a: 2\n", encoding="utf-8")
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert read_yaml(p) == {"a": 2}
    # Longer content at the same time stamp: the size is part of the key too.
    mtime_ns = p.stat().st_mtime_ns
    p.write_text("a: 30\n", encoding="utf-8")
    os.utime(p, ns=(mtime_ns, mtime_ns))
    assert read_yaml(p) == {"a": 30}


def test_callers_get_their_own_copy(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("a: {b: [1, 2]}\n", encoding="utf-8")
    first = read_yaml(p)
    first["a"]["b"].append(3)
    assert read_yaml(p) == {"a": {"b": [1, 2]}}


def test_unreadable_and_invalid_files_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"cannot read file \(No such file or directory\)") as e:
        read_yaml(tmp_path / "missing.yaml")
    assert e.value.where.endswith("missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid YAML: ") as e:
        read_yaml(bad)
    assert "\n" not in str(e.value)
