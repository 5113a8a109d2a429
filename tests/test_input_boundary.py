"""The input boundary through the CLI, in-process: hostile inputs give one line, exit 2.

Every case runs ``dcsim run <file> --out <tmp>`` (and ``validate`` where it reads the same
input) with typer's CliRunner and asserts the exit code 2, the message (file or field named,
what was expected), a single line on stderr, no traceback and no run folder written.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
    # Warnings (e.g. a weather file far from the site) may come first; the refusal is one line.
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith("dcsim: warning: ")]
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


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("setting", "shown"),
    [
        ("sites.0.import_limit_mw=.inf", "inf must be a finite number"),
        ("sites.0.buildings.0.halls.0.feed_mw=.nan", "nan must be a finite number"),
        ("workloads.0.demand.base_capacity_frac=-.inf", "-inf must be a finite number"),
        ("workloads.0.tpot_s=.inf", "inf must be a finite number"),
        ("sites.0.import_limit_mw=1e308", "1e+308 is larger than 1e+15"),
        ("workloads.1.deadline_s=1e308s", "1e+308 is larger than 1e+15"),
        ("workloads.0.input_tok=1e400", "inf must be a finite number"),
    ],
)
def test_non_finite_and_absurd_numbers_are_refused_in_any_field(tmp_path, setting, shown):
    path, _, _ = setting.partition("=")
    for command in ("run", "validate"):
        line = refused(tmp_path, str(SMALL_HALL), "--set", setting, command=command)
        assert line.startswith(f"dcsim: error: --set {path}")
        assert shown in line, line


def test_non_finite_numbers_in_a_file_name_the_line(tmp_path):
    text = small_hall_text().replace("import_limit_mw: 3.2", "import_limit_mw: .inf")
    path = write_variant(tmp_path, text)
    line_no = text.splitlines().index("    import_limit_mw: .inf") + 1
    line = refused(tmp_path, str(path))
    assert line == (
        f"dcsim: error: {path}:{line_no}: sites.main.import_limit_mw: inf must be a finite number"
    )


def test_null_still_means_no_limit_where_documented(tmp_path):
    # tpot_s: null is an offline class (no latency bound); the schema says so.
    result = CliRunner().invoke(
        cli.app,
        [
            "validate",
            str(SMALL_HALL),
            "-s",
            "workloads.chat.tpot_s=null",
            "-s",
            "workloads.chat.ttft_s=null",
        ],
    )
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------- dates and names


@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01", "1600-01-01", "2200-01-02"])
def test_dates_out_of_range(tmp_path, date):
    line = refused(tmp_path, str(SMALL_HALL), "--set", f"start={date}")
    assert line == (
        f"dcsim: error: --set start: date '{date}' is out of range; expected a date from "
        "1900-01-01 to 2200-01-01"
    )


def test_a_horizon_past_the_calendar(tmp_path):
    # 1e14 s is 3.2 million years; from 2027-01-04, 2200-01-01 is 173 years away.
    line = refused(tmp_path, str(SMALL_HALL), "--set", "horizon_s=1e14", command="validate")
    assert line == (
        "dcsim: error: --set horizon_s: 100000000000000s from 2027-01-04 ends after "
        "2200-01-01; expected a horizon of at most 173y from this start"
    )


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("..", "'..' cannot name a results folder"),
        (".", "'.' cannot name a results folder"),
        ("a/b", "'a/b' does not match the pattern"),
        ("x" * 300, "must have at most 100 character(s)"),
    ],
)
def test_scenario_names_that_cannot_be_folder_names(tmp_path, name, shown):
    line = refused(tmp_path, str(SMALL_HALL), "--set", f"name={name}")
    assert line.startswith("dcsim: error: --set name: ")
    assert shown in line


# --------------------------------------------------------------------------- data files

CSV_BLOCKS = {
    "price": lambda p: f"sites.main.tariff={{energy: {{type: file, path: '{p}'}}}}",
    "carbon": lambda p: f"sites.main.carbon={{intensity: {{type: file, path: '{p}'}}}}",
    "system load": lambda p: (
        "sites.main.tariff={energy: {type: flat, price_usd_per_mwh: 40}, coincident_peak: "
        f"{{charge_usd_per_kw_per_y: 100, system_load_path: '{p}'}}}}"
    ),
}
COLUMNS = {
    "price": "price_usd_per_mwh",
    "carbon": "carbon_kg_per_mwh",
    "system load": "system_load_mw",
}


def _hourly_text(column: str) -> str:
    rows = [f"2027-01-04T{h:02d}:00,{40 + h}" for h in range(24)]
    return "\n".join([f"time,{column}", *rows]) + "\n"


@pytest.mark.parametrize("block", list(CSV_BLOCKS))
def test_a_utf16_csv_is_one_line_naming_the_file(tmp_path, block):
    path = tmp_path / "data.csv"
    path.write_bytes(_hourly_text(COLUMNS[block]).encode("utf-16"))
    line = refused(tmp_path, str(SMALL_HALL), "-s", "horizon_s=1d", "-s", CSV_BLOCKS[block](path))
    assert line == (
        f"dcsim: error: {path}:1: not UTF-8 text (a UTF-16 byte-order mark): byte 0 cannot be "
        f"decoded; expected a UTF-8 CSV file 'time,{COLUMNS[block]}'"
    )


@pytest.mark.parametrize("block", list(CSV_BLOCKS))
def test_a_binary_csv_is_one_line_naming_the_file(tmp_path, block):
    path = tmp_path / "data.csv"
    # Valid UTF-8 with NUL bytes on line 3 (the csv module would raise on them).
    path.write_bytes(_hourly_text(COLUMNS[block]).encode().replace(b"\n2027-01-04T01", b"\n\0\0\0"))
    line = refused(tmp_path, str(SMALL_HALL), "-s", "horizon_s=1d", "-s", CSV_BLOCKS[block](path))
    assert line == (
        f"dcsim: error: {path}:3: binary data (a NUL byte); expected a UTF-8 CSV file "
        f"'time,{COLUMNS[block]}'"
    )


def test_an_oversized_csv_is_refused_before_reading(tmp_path):
    from dcsim.model.grid_files import MAX_CSV_BYTES

    path = tmp_path / "big.csv"
    with open(path, "wb") as fh:
        fh.truncate(MAX_CSV_BYTES + 1)
    line = refused(tmp_path, str(SMALL_HALL), "-s", "horizon_s=1d", "-s", CSV_BLOCKS["price"](path))
    assert line == (
        f"dcsim: error: {path}: {MAX_CSV_BYTES + 1} bytes, larger than the limit of "
        f"{MAX_CSV_BYTES} bytes for a CSV file of hourly price_usd_per_mwh"
    )


def test_a_csv_that_is_a_fifo(tmp_path):
    path = tmp_path / "prices.csv"
    os.mkfifo(path)
    line = refused(tmp_path, str(SMALL_HALL), "-s", "horizon_s=1d", "-s", CSV_BLOCKS["price"](path))
    assert line == (
        f"dcsim: error: {path}: is a FIFO, not a regular file; expected a CSV file of hourly "
        "price_usd_per_mwh"
    )


def test_a_csv_time_out_of_range(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("time,price_usd_per_mwh\n0001-01-01T00:00,40\n", encoding="utf-8")
    line = refused(tmp_path, str(SMALL_HALL), "-s", "horizon_s=1d", "-s", CSV_BLOCKS["price"](path))
    assert line == (
        f"dcsim: error: {path}:2: time: '0001-01-01T00:00' is out of range; expected a time "
        "from 1900-01-01 to 2200-01-01"
    )


# --------------------------------------------------------------------------- memory


def test_a_run_that_cannot_fit_is_refused_before_it_starts(tmp_path):
    # 100 years at a 1 s tick recorded every tick: about 3.4 TiB of recorded outputs
    # (tests/scenario/test_checks.py computes the figure by hand; inputs are produced per
    # compiled call and stay small); both commands refuse it up front.
    for command in ("run", "validate"):
        line = refused(
            tmp_path, str(SMALL_HALL), "-s", "tick_s=1s", "-s", "horizon_s=100y",
            "-s", "record_every_s=1s", command=command,
        )  # fmt: skip
        assert line.startswith("dcsim: error: --set record_every_s: the run needs about 3.4 TiB (")
        assert line.endswith("of memory of this machine; raise record_every_s or shorten horizon_s")


# --------------------------------------------------------------------------- never serves


def test_a_hall_feed_the_site_can_never_power(tmp_path):
    # The probe of issue 15: a 200 MW hall feed behind small-hall's 3.2 MW import limit
    # served no token at all, silently; its UPS alone loses 4.68 MW at no load
    # (tests/scenario/test_checks.py has the hand calculation).
    for command in ("run", "validate"):
        line = refused(
            tmp_path, str(SMALL_HALL), "-s", "sites.main.buildings.0.halls.0.feed_mw=200",
            command=command,
        )  # fmt: skip
        assert line.startswith(
            "dcsim: error: --set sites.main.buildings.0.halls.0.feed_mw: the hall's UPS loses "
            "4.68 MW with no load"
        )
        assert "the hall can never serve" in line


# --------------------------------------------------------------------------- mutations


def _numeric_leaves(node, path=()):
    """Dotted paths of every number in resolved scenario data (list items by index)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numeric_leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _numeric_leaves(value, (*path, i))
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield ".".join(str(p) for p in path)


def _resolved_paths(name: str) -> list[str]:
    from ruamel.yaml import YAML

    from dcsim.model.checks import load_scenario
    from dcsim.scenario import dump_resolved

    data = YAML(typ="safe").load(dump_resolved(load_scenario(REPO / "scenarios" / name)))
    return sorted(_numeric_leaves(data))


NUMBERS = [
    (name, path)
    for name in ("small-hall.yaml", "hall-towers.yaml")
    for path in _resolved_paths(name)
]


def test_the_mutation_space_is_the_whole_schema():
    # Every number of two resolved files (defaults filled), plant and cooling blocks.
    paths = {path for _, path in NUMBERS}
    assert len(NUMBERS) > 50
    assert "sites.0.import_limit_mw" in paths
    assert "workloads.0.demand.base_capacity_frac" in paths
    assert any(".cooling." in p for p in paths)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=st.sampled_from(NUMBERS),
    value=st.sampled_from([math.inf, -math.inf, math.nan, 1e308, -1e308]),
)
def test_any_number_set_absurd_is_one_line_naming_its_field(case, value):
    from dcsim.errors import ConfigError
    from dcsim.model.checks import load_scenario

    name, path = case
    with pytest.raises(ConfigError) as info:
        load_scenario(REPO / "scenarios" / name, {path: value})
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith("--set ")
    reported = text.removeprefix("--set ").split(":", 1)[0]
    # The field itself, or the list or block it belongs to (a list item, a cross-field rule).
    assert path.startswith(reported) or reported.startswith(path.rsplit(".", 1)[0]), text
