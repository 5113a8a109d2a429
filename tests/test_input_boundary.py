"""The input boundary through the CLI, in-process: hostile inputs give one line, exit 2.

Every case runs ``dcsim run <file> --out <tmp>`` (and ``validate`` where it reads the same
input) with typer's CliRunner and asserts the exit code 2, the message (file or field named,
what was expected), a single line on stderr, no traceback and no run folder written.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dcsim.cli as cli
from dcsim.scenario.load import MAX_EXTENDS_DEPTH, MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_VALUES

REPO = Path(__file__).resolve().parents[1]
SMALL_HALL = REPO / "scenarios" / "small-hall.yaml"


def refused(tmp_path: Path, *args: str, command: str = "run") -> str:
    """Run the command, check the refusal, return its one line of stderr."""
    out = tmp_path / "results"
    extra = ["--out", str(out), "--quiet"] if command == "run" else []
    result = CliRunner().invoke(cli.app, [command, *args, *extra])
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    err = result.stderr
    assert "Traceback" not in result.output and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("dcsim: error: ")
    assert not out.exists() or not any(out.iterdir())  # no run folder
    return lines[0]


def small_hall_text() -> str:
    return SMALL_HALL.read_text(encoding="utf-8")


def write_variant(tmp_path: Path, text: str, name: str = "x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- files


def test_a_folder_is_not_a_scenario(tmp_path):
    line = refused(tmp_path, str(tmp_path))
    assert line == f"dcsim: error: {tmp_path}: is a directory, expected a YAML file"


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for command in ("run", "validate"):
        line = refused(tmp_path, str(fifo), command=command)
        assert line == (
            f"dcsim: error: {fifo}: is a FIFO, not a regular file; expected a YAML file"
        )


def test_a_device_is_refused(tmp_path):
    line = refused(tmp_path, "/dev/zero")
    assert line == (
        "dcsim: error: /dev/zero: is a character device, not a regular file; expected a YAML file"
    )


def test_an_oversized_file_is_refused_before_reading(tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(MAX_YAML_BYTES + 1)  # sparse: no need to write the bytes
    line = refused(tmp_path, str(big))
    assert line == (
        f"dcsim: error: {big}: {MAX_YAML_BYTES + 1} bytes, larger than the limit of "
        f"{MAX_YAML_BYTES} bytes for a YAML file"
    )


# --------------------------------------------------------------------------- YAML structure


def test_an_alias_bomb_stops_at_the_value_budget(tmp_path):
    # Nine levels of nine aliases expand to 9**9 (387 million) strings: the billion laughs.
    lines = ['a0: &a0 "lol"']
    for k in range(1, 10):
        refs = ", ".join([f"*a{k - 1}"] * 9)
        lines.append(f"a{k}: &a{k} [{refs}]")
    path = write_variant(tmp_path, "\n".join(lines) + "\n")
    line = refused(tmp_path, str(path))
    assert f"YAML expands to more than {MAX_YAML_VALUES} values" in line
    assert line.startswith(f"dcsim: error: {path}:")


@pytest.mark.parametrize("depth", [MAX_YAML_DEPTH + 1, 5000])
def test_deep_nesting_is_refused(tmp_path, depth):
    # Block mappings below the parser's recursion limit, flow lists far beyond it.
    if depth < 1000:
        text = "".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + f"{'  ' * depth}1\n"
    else:
        text = "x: " + "[" * depth + "]" * depth + "\n"
    path = write_variant(tmp_path, text)
    line = refused(tmp_path, str(path))
    assert f"YAML nesting too deep; expected at most {MAX_YAML_DEPTH} levels" in line
    assert line.startswith(f"dcsim: error: {path}")


def test_an_extends_chain_deeper_than_the_limit(tmp_path):
    # 1,200 files extending each other overflowed Python's recursion before.
    n = 1200
    write_variant(tmp_path, small_hall_text(), "v0.yaml")
    for k in range(1, n):
        write_variant(tmp_path, f"extends: v{k - 1}.yaml\nset: {{}}\n", f"v{k}.yaml")
    top = tmp_path / f"v{n - 1}.yaml"
    line = refused(tmp_path, str(top))
    assert f"a chain of more than {MAX_EXTENDS_DEPTH} files" in line
    # A chain within the limit still loads.
    ok = tmp_path / f"v{MAX_EXTENDS_DEPTH - 1}.yaml"
    result = CliRunner().invoke(cli.app, ["validate", str(ok), "--set", "horizon_s=1d"])
    assert result.exit_code == 0, result.output
