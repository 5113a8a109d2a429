"""The planner-workflow commands: ``dcsim compare``, ``sweep``, ``check`` and ``plot``.

In-process with typer's CliRunner; assertions are on what the commands write (CSV, Parquet,
JUnit XML, PNG) and on the exit codes: 0 fine, 1 drift or failed runs, 2 bad input with one
line ``dcsim: error: ...`` on stderr. ``test_committed_baselines_pass`` is the project's own
regression check on short variants of the shipped scenarios (regenerate the baselines with
``dcsim check --baseline results/baselines --update`` after a deliberate model change).
"""

from __future__ import annotations

import json
import re
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import dcsim.cli as cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def invoke(*args: str):
    return CliRunner().invoke(cli.app, [str(a) for a in args])


def one_error_line(result) -> str:
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dcsim: error: ")
    return lines[0]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, small_hall):
    """Run folders of small-hall over a day: as shipped, and under a 1.1 MW import limit."""
    out = tmp_path_factory.mktemp("runs")
    dirs = []
    for extra in ([], ["--set", "sites.main.import_limit_mw=1.1"]):
        before = set(out.rglob("kpis.json"))
        r = invoke("run", small_hall, "--set", "horizon_s=1d", *extra, "--out", out, "-q")
        assert r.exit_code == 0, r.output
        (new,) = set(out.rglob("kpis.json")) - before
        dirs.append(new.parent)
    return dirs


# -- compare ----------------------------------------------------------------------------------


def test_compare_writes_csv_markdown_and_overlay(two_runs, tmp_path):
    a, b = two_runs
    r = invoke(
        "compare",
        a,
        b,
        "--label",
        "base",
        "--label",
        "tight",
        "--csv",
        tmp_path / "k.csv",
        "--markdown",
        tmp_path / "k.md",
        "--series",
        "facility_power_w,served_tok_per_s",
        "--plot",
        tmp_path / "o.png",
    )
    assert r.exit_code == 0, (r.output, r.exception)
    assert "KPIs vs base" in r.stdout
    ka = json.loads((a / "kpis.json").read_text())
    kb = json.loads((b / "kpis.json").read_text())
    table = pd.read_csv(tmp_path / "k.csv", index_col="kpi")
    for key in ("served_tok", "pue", "power_capped_tok"):
        assert table.loc[key, "base"] == ka[key]
        assert table.loc[key, "tight.abs_diff"] == pytest.approx(kb[key] - ka[key], rel=1e-15)
    assert table.loc["power_capped_tok", "tight.abs_diff"] > 0
    assert "| pue |" in (tmp_path / "k.md").read_text()
    assert (tmp_path / "o.png").read_bytes()[:8] == PNG_MAGIC


def table_cells(line: str) -> list[str]:
    """Cells of one line of a rich table (light or heavy vertical rules)."""
    return [c.strip() for c in re.split(r"[│┃]", line.strip().strip("│┃"))]


def test_compare_prints_numbers_for_people(two_runs):
    r = invoke("compare", *two_runs)
    assert r.exit_code == 0, r.output
    kpi_part, cap_part = r.stdout.split("Monthly capacity forecast")
    rows = {c[0]: c for line in kpi_part.splitlines() if len(c := table_cells(line)) == 5}
    # No float noise: no exponent anywhere, residues of 1e-17 are 0, equal values are "=".
    assert not re.search(r"\de[+-]\d", kpi_part)
    assert rows["demand_tok"][3:] == ["=", "="]
    # The 1.1 MW limit caps the ~1.24 MW peak: the facility peak is 1.10 MW in the second run.
    assert rows["peak_facility_power_w"][2] == "1.10 MW"
    assert rows["facility_energy_j"][1].endswith(" MWh")
    # The monthly table: one row per quantity and run, January 2027 as a column.
    assert "2027-01" in cap_part and "racks_in_service_count" in cap_part


def test_compare_changed_only(two_runs):
    r = invoke("compare", *two_runs, "--changed")
    assert r.exit_code == 0
    kpi_table = r.stdout.split("Monthly capacity forecast")[0]
    assert "power_capped_tok" in kpi_table
    assert "demand_tok" not in kpi_table  # identical demand in both runs


def test_compare_incomplete_run_folder_is_one_line(two_runs, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in two_runs[1].iterdir():
        if f.name != "metadata.json":
            (broken / f.name).write_bytes(f.read_bytes())
    line = one_error_line(invoke("compare", two_runs[0], broken))
    assert line == f"dcsim: error: {broken}: not a dcsim run folder (missing metadata.json)"
    line = one_error_line(invoke("compare", two_runs[0], tmp_path / "nothing"))
    assert "no such directory" in line


def test_compare_bad_series(two_runs, tmp_path):
    assert "needs --plot" in one_error_line(invoke("compare", *two_runs, "--series", "pue"))
    line = one_error_line(
        invoke("compare", *two_runs, "--series", "it_pwer_w", "--plot", tmp_path / "x.png")
    )
    assert "did you mean 'it_power_w'" in line
    assert not (tmp_path / "x.png").exists()


# -- sweep ------------------------------------------------------------------------------------


def test_sweep_in_process_and_resume(small_hall, tmp_path):
    args = (
        "sweep",
        small_hall,
        "--vary",
        "sites.main.import_limit_mw=1.1,3.2",
        "--seeds",
        "1",
        "--set",
        "horizon_s=1d",
        "--workers",
        "0",
        "--out",
        tmp_path / "sw",
    )
    r = invoke(*args)
    assert r.exit_code == 0, (r.output, r.exception)
    assert "2 point(s) x 1 seed(s) = 2 run(s)" in r.stdout
    assert "2 run(s) simulated, 0 already finished, 0 failed" in r.stdout
    results = pd.read_parquet(tmp_path / "sw" / "results.parquet")
    assert results["sites.main.import_limit_mw"].tolist() == [1.1, 3.2]
    summary = pd.read_parquet(tmp_path / "sw" / "summary.parquet")
    assert set(summary["kpi"]) >= {"served_tok", "pue"}
    again = invoke(*args)
    assert again.exit_code == 0
    assert "0 run(s) simulated, 2 already finished, 0 failed" in again.stdout


def test_sweep_failed_runs_exit_1(small_hall, tmp_path, monkeypatch):
    import dcsim.runner

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(dcsim.runner, "run", broken)
    r = invoke("sweep", small_hall, "--set", "horizon_s=1d", "--workers", "0", "--out", tmp_path)
    assert r.exit_code == 1
    assert "0 run(s) simulated, 0 already finished, 1 failed" in r.stdout
    assert r.stderr.startswith("dcsim: run s7-") and r.stderr.rstrip().endswith(
        "failed: RuntimeError: boom"
    )
    assert pd.read_parquet(tmp_path / "results.parquet").empty


@pytest.mark.parametrize(
    ("vary", "expected"),
    [
        ("sites.main.import_limt_mw=1", "did you mean 'import_limit_mw'?"),
        ("horizon_s=1d,2x", "--vary horizon_s: expected a duration"),
        ("sites.main.import_limit_mw=1,abc", "expected a number, got 'abc'"),
    ],
)
def test_sweep_bad_vary_is_one_line(small_hall, tmp_path, vary, expected):
    line = one_error_line(invoke("sweep", small_hall, "--vary", vary, "--out", tmp_path / "s"))
    assert expected in line
    assert not (tmp_path / "s").exists()


def test_sweep_scheduler_that_refuses_the_connection(small_hall, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    r = invoke(
        "sweep", small_hall, "--scheduler", address, "--scheduler-timeout", "1", "--out", tmp_path
    )
    assert one_error_line(r) == (
        f"dcsim: error: --scheduler {address}: connection refused (no dask scheduler listens there)"
    )


# -- check ------------------------------------------------------------------------------------


def test_committed_baselines_pass(repo, tmp_path):
    # The project's regression check: short variants of the shipped scenarios.
    baselines = repo / "results" / "baselines"
    assert {p.stem for p in baselines.glob("*.yaml")} >= {"small-hall", "gw-campus"}
    r = invoke(
        "check",
        "--baseline",
        baselines,
        "--junit",
        tmp_path / "j.xml",
        "--markdown",
        tmp_path / "s.md",
    )
    assert r.exit_code == 0, r.stdout
    assert "small-hall: ok" in r.stdout and "gw-campus: ok" in r.stdout
    root = ET.parse(tmp_path / "j.xml").getroot()
    assert root.get("failures") == "0" and int(root.get("tests")) >= 2


@pytest.fixture()
def own_baseline(small_hall, tmp_path):
    folder = tmp_path / "bl"
    r = invoke("check", small_hall, "--baseline", folder, "--set", "horizon_s=1d", "--update")
    assert r.exit_code == 0, r.output
    assert "small-hall: baseline created" in r.stdout
    return folder


def test_check_drift_exits_1_and_names_the_metric(own_baseline, tmp_path):
    r = invoke(
        "check",
        "--baseline",
        own_baseline,
        "--set",
        "sites.main.import_limit_mw=1.1",
        "--junit",
        tmp_path / "j.xml",
        "--markdown",
        tmp_path / "s.md",
    )
    assert r.exit_code == 1, r.output
    assert "small-hall: DRIFT in" in r.stdout
    assert "power_capped_tok" in r.stdout
    failure = ET.parse(tmp_path / "j.xml").getroot().find("testsuite/testcase/failure")
    assert failure is not None and "power_capped_tok" in failure.get("message")
    assert "**DRIFT**" in (tmp_path / "s.md").read_text()


def test_check_update_shows_the_change_then_passes(own_baseline):
    r = invoke(
        "check", "--baseline", own_baseline, "--set", "sites.main.import_limit_mw=1.1", "--update"
    )
    assert r.exit_code == 0, r.output
    assert "small-hall: baseline updated" in r.stdout
    assert "power_capped_tok" in r.stdout  # the table of changes
    assert invoke("check", "--baseline", own_baseline).exit_code == 0


def test_check_incompatible_baseline_is_one_line(own_baseline):
    path = own_baseline / "small-hall.yaml"
    text = path.read_text()
    assert text.count("format_version: 2\n") == 1
    path.write_text(text.replace("format_version: 2\n", "format_version: 99\n"))
    line = one_error_line(invoke("check", "--baseline", own_baseline))
    assert f"{path}: baseline format_version 99 is not supported" in line
    assert "dcsim check --baseline" in line and "--update" in line


def test_check_without_baseline_is_one_line(small_hall, tmp_path):
    line = one_error_line(invoke("check", small_hall, "--baseline", tmp_path))
    assert "no baseline for" in line


# -- plot -------------------------------------------------------------------------------------


def test_plot_writes_the_dashboard(two_runs, tmp_path):
    r = invoke("plot", two_runs[0], "--out", tmp_path / "d.png")
    assert r.exit_code == 0, (r.output, r.exception)
    assert (tmp_path / "d.png").read_bytes()[:8] == PNG_MAGIC
    default = invoke("plot", two_runs[1])
    assert default.exit_code == 0
    assert (Path(two_runs[1]) / "dashboard.png").is_file()


def test_plot_not_a_run_is_one_line(tmp_path):
    assert "not a dcsim run folder" in one_error_line(invoke("plot", tmp_path))
