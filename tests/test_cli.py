"""The ``dcsim`` command line, in-process with typer's CliRunner (CONVENTIONS.md point 14).

The assertions are on what the commands print and write, not only on exit codes: the KPI
table shows the numbers of kpis.json, the run folder reproduces its run, ``validate`` lists
the checks, ``schema`` is JSON Schema, ``catalog`` lists the entries.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

import dcsim
import dcsim.cli as cli
from dcsim.model.checks import CHECKS
from dcsim.report_format import format_quantity

RUN_FILES = {
    "timeseries.parquet",
    "events.parquet",
    "kpis.json",
    "scenario.yaml",
    "metadata.json",
    "hall_timeseries.parquet",
    "pools.parquet",
    "site_timeseries.parquet",
    "capacity.parquet",
}


def invoke(*args: str):
    return CliRunner().invoke(cli.app, list(args))


def table_cells(line: str) -> list[str]:
    """Cells of one line of a rich table (light or heavy vertical rules)."""
    return [c.strip() for c in re.split(r"[│┃]", line.strip().strip("│┃"))]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory, small_hall):
    """``dcsim run scenarios/small-hall.yaml --set horizon_s=1d --out <tmp>``, once."""
    out = tmp_path_factory.mktemp("results")
    result = invoke("run", str(small_hall), "--set", "horizon_s=1d", "--out", str(out))
    return out, result


def run_dir_of(out: Path) -> Path:
    dirs = [p for p in out.rglob("*") if p.is_dir()]
    # Exactly one run folder, under the scenario's name, and nothing else (no temporaries).
    assert len(dirs) == 2, dirs
    (scenario_dir,) = [d for d in dirs if d.parent == out]
    assert scenario_dir.name == "small-hall"
    (run_dir,) = [d for d in dirs if d.parent == scenario_dir]
    return run_dir


def test_run_exits_0_and_writes_one_complete_folder(cli_run):
    out, result = cli_run
    assert result.exit_code == 0, (result.output, result.exception)
    # Only logged warnings (the weather file's distance from the site) on stderr.
    assert all(line.startswith("dcsim: warning: ") for line in result.stderr.splitlines())
    run_dir = run_dir_of(out)
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES
    # Seed 7 (from the file) and the first 8 hex digits of the scenario hash are in the id.
    meta = json.loads((run_dir / "metadata.json").read_text())
    assert re.fullmatch(rf"\d{{8}}T\d{{6}}Z-s7-{meta['scenario_hash'][:8]}", run_dir.name)


def kpi_rows(text: str) -> list[list[str]]:
    """The body rows (label, value) of the KPI table printed by ``dcsim run``."""
    rows = [cells for line in text.splitlines() if len(cells := table_cells(line)) == 2]
    assert rows[0] == ["KPI", "value"]
    return rows[1:]


def test_run_prints_the_kpi_values_of_kpis_json(cli_run):
    out, result = cli_run
    kpis = json.loads((run_dir_of(out) / "kpis.json").read_text())
    assert "small-hall (seed 7)" in result.stdout
    causes = {"unserved_capacity_tok", "unserved_power_tok", "unserved_thermal_tok"}
    shown = [row for row in cli.KPI_ROWS if kpis.get(row[0]) is not None or row[0] in causes]
    rows = kpi_rows(result.stdout)
    # One row per KPI of the table definition present in kpis.json (the final backlog KPIs
    # only once the metrics module writes them), plus the three unserved causes computed
    # from the series, in that order, each formatted from the stored kpis.json.
    assert len(rows) == len(shown)
    for (key, _), (_, value) in zip(shown, rows, strict=True):
        if key not in causes:
            assert value == format_quantity(key, kpis[key]), key
    # 1 day of ~1.4 Mtok/s mean is ~121 Gtok (1.4e6 * 86400 = 1.21e11).
    served = dict(rows)["tokens served"]
    assert served.endswith(" Gtok") and 100 < float(served.split()[0]) < 150
    assert "results: " in result.stdout


def test_run_prints_every_kpi_label_with_its_unit(cli_run):
    _, result = cli_run
    labels = [label for label, _ in kpi_rows(result.stdout)]
    assert set(labels) <= {label.strip() for _, label in cli.KPI_ROWS}
    for must in (
        "cost per Mtok, all-in",
        "cost per Mtok, energy",
        "water",
        "WUE",
        "revenue",
        "gross margin (revenue - all-in cost)",
        "tok/s per MW per $M of capital",
    ):
        assert must in labels
    assert {"carbon, location-based", "unserved: power and grid caps"} <= set(labels)


def test_kpis_json_served_tok_is_the_integral_of_the_series(cli_run):
    out, _ = cli_run
    run_dir = run_dir_of(out)
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    kpis = json.loads((run_dir / "kpis.json").read_text())
    # 1 day at record_every_s = 15 min: 96 rows of 900 s each.
    assert len(ts) == 96
    assert kpis["served_tok"] == pytest.approx(ts["served_tok_per_s"].sum() * 900.0, rel=1e-12)
    assert kpis["facility_energy_j"] == pytest.approx(
        ts["facility_power_w"].sum() * 900.0, rel=1e-12
    )


def test_metadata_identifies_the_run(cli_run):
    out, _ = cli_run
    run_dir = run_dir_of(out)
    meta = json.loads((run_dir / "metadata.json").read_text())
    assert meta["seed"] == 7
    # The hash is the SHA-256 of scenario.yaml byte for byte.
    text = (run_dir / "scenario.yaml").read_bytes()
    assert meta["scenario_hash"] == hashlib.sha256(text).hexdigest()
    assert "git_sha" in meta  # None outside a checkout, 40 hex digits inside
    assert meta["git_sha"] is None or re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", meta["git_sha"])
    assert meta["wall_time_s"] > 0
    assert meta["n_ticks"] == 1440  # 1 day of 1-minute ticks
    assert meta["n_racks"] == 16


def test_resolved_scenario_reproduces_the_run(cli_run):
    out, _ = cli_run
    run_dir = run_dir_of(out)
    sc = dcsim.load_scenario(run_dir / "scenario.yaml")
    assert sc.horizon_s == 86400.0  # the --set override is part of the resolved file
    meta = json.loads((run_dir / "metadata.json").read_text())
    again = dcsim.run(sc, seed=meta["seed"])
    stored = json.loads((run_dir / "kpis.json").read_text())
    # JSON floats round-trip exactly; NaN is stored as null.
    fresh = {
        k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in again.kpis.items()
    }
    assert fresh == stored
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    pd.testing.assert_frame_equal(again.timeseries, ts, check_exact=True, check_freq=False)
    # The same scenario text gives the same hash.
    assert dcsim.run(sc).meta["scenario_hash"] == meta["scenario_hash"]


def test_run_without_write_leaves_no_folder(tmp_path, small_hall):
    result = invoke(
        "run", str(small_hall), "--set", "horizon_s=1h", "--out", str(tmp_path / "r"), "--no-write"
    )
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "r").exists()
    assert "tokens served" in result.stdout


def test_run_seed_option(tmp_path, small_hall):
    result = invoke(
        "run", str(small_hall), "--set", "horizon_s=1h", "--seed", "11", "--no-write", "-q"
    )
    assert result.exit_code == 0, result.output
    assert "small-hall (seed 11)" in result.stdout


def test_validate_lists_files_and_checks(repo, monkeypatch):
    monkeypatch.chdir(repo)  # short relative paths keep rich from wrapping the lines
    result = invoke("validate", "scenarios/gw-campus.yaml", "scenarios/small-hall.yaml")
    assert result.exit_code == 0, (result.output, result.exception)
    text = " ".join(result.stdout.split())
    # small-hall: 2 workloads, 12 + 4 racks, 7 days; gw-campus: 3 workloads, 24 x 400 racks,
    # 1y = 365 days.
    assert "scenarios/small-hall.yaml: ok (2 workloads, 16 racks, 7 days)" in text
    assert "scenarios/gw-campus.yaml: ok (3 workloads, 9600 racks, 365 days)" in text
    for check in CHECKS:
        assert check.__name__ in text
    assert text.index("checks:") > text.index("small-hall.yaml: ok")


def test_schema_is_json_schema_of_the_scenario():
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    props = schema["properties"]
    assert {"sites", "workloads", "horizon_s", "tick_s", "seed"} <= set(props)
    assert {"name", "start", "horizon_s", "workloads", "sites"} <= set(schema["else"]["required"])
    # Nested models come as $defs that editors resolve: a hall's feed is in there.
    assert "feed_mw" in schema["$defs"]["Hall"]["properties"]


def test_catalog_lists_rack_systems_in_a_wide_terminal(monkeypatch):
    monkeypatch.setattr(cli, "console", Console(width=400))
    result = invoke("catalog", "rack_systems")
    assert result.exit_code == 0
    rows = {
        cells[0]: cells
        for line in result.stdout.splitlines()
        if len(cells := table_cells(line)) > 3
    }
    assert {"gb200-nvl72", "gb300-nvl72"} <= set(rows)
    header = rows["id"]
    gb200 = dict(zip(header, rows["gb200-nvl72"], strict=True))
    # GB200 NVL72: 72 GPUs a rack, 132 kW design, graded S (catalog, accelerators.md).
    assert gb200["accelerator"] == "gb200"
    assert gb200["gpus_per_rack_count"] == "72"
    assert gb200["design_power_kw"] == "132 (S)"


def test_catalog_lists_rack_systems():
    result = invoke("catalog", "rack_systems")
    assert result.exit_code == 0
    assert "gb200-nvl72" in result.stdout
    assert "gb300-nvl72" in result.stdout


def test_catalog_unknown_table_is_one_line():
    result = invoke("catalog", "rack_system")
    assert result.exit_code == 2
    assert result.stderr.startswith("dcsim: error: catalog: unknown table 'rack_system'")
    assert "did you mean 'rack_systems'" in result.stderr
    assert len(result.stderr.splitlines()) == 1
