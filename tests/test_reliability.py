"""Hostile use of the command line: bad outputs, bad options, damaged files, bad schedulers.

Every case runs ``dcsim`` in-process (typer's CliRunner on ``dcsim.cli.app``) on small-hall
with a two-hour horizon and asserts what a user sees: exit code 2, exactly one line
``dcsim: error: ...`` on stderr naming the culprit, no Python traceback, and nothing written
(a snapshot of the working folder is unchanged). Cases that must fail *before* simulating
replace the simulation with a sentinel that fails the test if it is ever called.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dcsim
import dcsim.cli as cli
import dcsim.runner
from dcsim.results import io

SHORT = ("--set", "horizon_s=2h")
PDF_MAGIC = b"%PDF-"


def invoke(*args: object):
    return CliRunner().invoke(cli.app, [str(a) for a in args])


def snapshot(folder: Path) -> dict[str, int]:
    """Every path under ``folder`` (hidden ones included) with its size [B]."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size if p.is_file() else -1)
        for p in sorted(folder.rglob("*"))
    }


def assert_refused(result, *fragments: str) -> str:
    """Assert the one-line refusal: exit 2, one stderr line, no traceback; return the line."""
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output
    # Logged warnings (e.g. a weather file far from its site) may precede the refusal.
    lines = [x for x in result.stderr.splitlines() if not x.startswith("dcsim: warning: ")]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("dcsim: error: "), line
    for fragment in fragments:
        assert fragment in line, line
    return line


@pytest.fixture
def work(tmp_path, monkeypatch):
    """An empty working folder (the current directory) holding one ordinary file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("not a folder\n")
    return tmp_path


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if a simulation starts: these checks must come before any work."""

    def sentinel(*args, **kwargs):
        raise AssertionError("simulated although the output could not be written")

    monkeypatch.setattr(dcsim.runner, "simulate", sentinel)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, small_hall):
    """A complete run folder of small-hall over two hours."""
    root = tmp_path_factory.mktemp("runs")
    res = dcsim.run(small_hall, overrides={"horizon_s": "2h"}, write=True, root=root)
    return Path(res.meta["run_dir"])


# -- outputs are checked before any work ----------------------------------------------------


def test_run_out_under_a_file(work, small_hall, no_simulation):
    before = snapshot(work)
    assert_refused(
        invoke("run", small_hall, *SHORT, "--out", "afile/results", "-q"),
        "--out afile/results",
        "afile is a file, not a folder",
    )
    assert snapshot(work) == before


def test_run_out_in_a_place_nobody_can_write(work, small_hall, no_simulation):
    # /proc refuses new entries even to root, whom permission bits do not stop.
    before = snapshot(work)
    assert_refused(
        invoke("run", small_hall, *SHORT, "--out", "/proc/dcsim-results", "-q"),
        "--out /proc/dcsim-results: cannot write in /proc",
    )
    assert snapshot(work) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permission bits")
def test_run_out_in_a_read_only_folder(work, small_hall, no_simulation):
    ro = work / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert_refused(
            invoke("run", small_hall, *SHORT, "--out", ro / "results", "-q"),
            f"cannot write in {ro} (Permission denied)",
        )
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_run_out_with_a_300_character_name(work, small_hall, no_simulation):
    name = "d" * 300
    before = snapshot(work)
    line = assert_refused(
        invoke("run", small_hall, *SHORT, "--out", name, "-q"),
        "has 300 characters; this file system allows 255",
    )
    assert len(line) < 200  # the name is shortened in the message, not echoed in full
    assert snapshot(work) == before


def test_run_scenario_name_that_cannot_be_a_folder(work, small_hall, no_simulation):
    before = snapshot(work)
    assert_refused(
        invoke("run", small_hall, *SHORT, "--set", f"name={'n' * 300}", "--out", "res", "-q"),
        # The schema bounds names at 100 characters, before any output folder is checked.
        "must have at most 100 character",
    )
    assert snapshot(work) == before


def test_check_reports_into_a_files_child_or_a_folder(work, small_hall, no_simulation):
    before = snapshot(work)
    assert_refused(
        invoke("check", small_hall, "--baseline", "bl", "--update", "--junit", "afile/j.xml"),
        "--junit afile/j.xml: afile is a file, not a folder",
    )
    (work / "reports").mkdir()
    before = snapshot(work)
    assert_refused(
        invoke("check", small_hall, "--baseline", "bl", "--update", "--markdown", "reports"),
        "--markdown reports: reports is a folder; expected a file name",
    )
    assert_refused(
        invoke("check", small_hall, "--baseline", "afile/bl", "--update"),
        "--baseline afile/bl: afile is a file, not a folder",
    )
    assert snapshot(work) == before


def test_compare_outputs(work, run_dir):
    (work / "out").mkdir()
    before = snapshot(work)
    assert_refused(
        invoke("compare", run_dir, run_dir, "--label", "a", "--label", "b", "--csv", "out"),
        "--csv out: out is a folder; expected a file name",
    )
    assert_refused(
        invoke(
            "compare", run_dir, run_dir, "--label", "a", "--label", "b", "--plot", "afile/p.png"
        ),
        "--plot afile/p.png: afile is a file, not a folder",
    )
    assert_refused(
        invoke("compare", run_dir, run_dir, "--label", "a", "--label", "b", "--plot", "p.gif"),
        "--plot p.gif: unknown file type '.gif'; expected one of .png, .pdf, .svg",
    )
    assert snapshot(work) == before


def test_plot_outputs_and_dpi(work, run_dir):
    (work / "figs").mkdir()
    before = snapshot(work)
    assert_refused(invoke("plot", run_dir, "--out", "figs"), "--out figs: figs is a folder")
    assert_refused(invoke("plot", run_dir, "--out", "d.jpg"), "unknown file type '.jpg'")
    for dpi in ("0", "-5", "100000"):
        assert_refused(
            invoke("plot", run_dir, "--out", "d.png", "--dpi", dpi),
            f"--dpi: {dpi} must be an integer from 20 to 600",
        )
    assert snapshot(work) == before


def test_plot_pdf_is_a_real_pdf(work, run_dir):
    # Before: PNG bytes in a file named .pdf.
    r = invoke("plot", run_dir, "--out", "d.pdf")
    assert r.exit_code == 0, r.output
    assert (work / "d.pdf").read_bytes()[:5] == PDF_MAGIC


def test_sweep_outputs_and_options(work, small_hall, no_simulation):
    before = snapshot(work)
    assert_refused(
        invoke("sweep", small_hall, *SHORT, "--workers", "0", "--out", "afile/sw"),
        "--out afile/sw: afile is a file, not a folder",
    )
    for value in ("nan", "-1", "inf"):
        assert_refused(
            invoke("sweep", small_hall, *SHORT, "--scheduler-timeout", value, "--out", "sw"),
            f"--scheduler-timeout: {float(value)!r} must be a finite number of seconds > 0",
        )
    assert_refused(
        invoke("sweep", small_hall, *SHORT, "--workers", "-3", "--out", "sw"),
        "--workers: -3 must be an integer >= 0",
    )
    assert snapshot(work) == before


def test_seed_is_checked_as_the_schema_checks_it(work, small_hall, no_simulation):
    assert_refused(
        invoke("run", small_hall, *SHORT, "--seed", "-1", "--out", "res", "-q"),
        "--seed: -1 must be >= 0",
    )
    assert not (work / "res").exists()


def test_schema_into_a_full_disk_is_one_line():
    # A real /dev/full (ENOSPC on every write): the only case that needs a process of its own.
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "dcsim.cli", "schema"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            cwd=Path(__file__).resolve().parents[1],
            check=False,
        )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "dcsim: error: output: cannot write (No space left on device)\n"


# -- failures during the write: one line, nothing half-written ----------------------------------


def test_disk_full_while_writing_the_run_folder(work, small_hall, monkeypatch):
    real = io._write_parquet
    calls = []

    def full(frame, path):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(frame, path)

    monkeypatch.setattr(io, "_write_parquet", full)
    line = assert_refused(
        invoke("run", small_hall, *SHORT, "--out", "res", "-q"),
        "cannot write the run (No space left on device)",
    )
    assert "res/small-hall/" in line
    # The scenario folder this run created is gone again, temporaries and locks included.
    assert sorted(p.name for p in work.iterdir()) == ["afile"]


def test_permission_lost_while_writing_a_figure(work, run_dir, monkeypatch):
    from matplotlib.figure import Figure

    def denied(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(Figure, "savefig", denied)
    before = snapshot(work)
    assert_refused(
        invoke("plot", run_dir, "--out", "d.png"), "d.png: cannot write (Permission denied)"
    )
    assert snapshot(work) == before  # no d.png, no .tmp-* beside it


# -- run folders: same second, killed writers ---------------------------------------------------


def test_two_runs_in_the_same_second_both_succeed(work, small_hall, monkeypatch):
    # Before: the second failed with "run folder already exists".
    monkeypatch.setattr(dcsim.runner, "run_id", lambda *a, **k: "20270101T000000Z-s7-abcdef12")
    for _ in range(2):
        r = invoke("run", small_hall, *SHORT, "--out", "res", "-q")
        assert r.exit_code == 0, r.output
    names = sorted(p.name for p in (work / "res" / "small-hall").iterdir())
    assert names == ["20270101T000000Z-s7-abcdef12", "20270101T000000Z-s7-abcdef12-2"]


def test_a_killed_writers_folder_is_ignored_by_readers(work, run_dir, small_hall):
    dead = work / "runs" / "small-hall" / f".tmp-{run_dir.name}-dead0000"
    shutil.copytree(run_dir, dead)  # complete files, never renamed: the writer was killed
    assert_refused(
        invoke("compare", run_dir, dead),
        "the temporary folder of an unfinished or killed run",
    )
    assert_refused(invoke("plot", dead), "the temporary folder of an unfinished or killed run")
    # The next run into that folder removes it (its lock file is gone with the writer).
    r = invoke("run", small_hall, *SHORT, "--out", "runs", "-q")
    assert r.exit_code == 0, r.output
    left = sorted(p.name for p in (work / "runs" / "small-hall").iterdir())
    assert len(left) == 1 and not left[0].startswith(".")


def test_an_interrupted_baseline_write_is_not_a_baseline(work, small_hall):
    r = invoke("check", small_hall, *SHORT, "--baseline", "bl", "--update")
    assert r.exit_code == 0, r.output
    # What an atomic write killed before its rename leaves: a hidden half file.
    (work / "bl" / ".tmp-0000abcd-small-hall.yaml").write_text("format_version: 2\nkpis:\n")
    r = invoke("check", "--baseline", "bl")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("small-hall: ok (")


# -- compare: damaged KPI files and float noise ---------------------------------------------------


def _copy_with_kpis(run_dir: Path, dest: Path, **changes: object) -> Path:
    shutil.copytree(run_dir, dest)
    kpis = json.loads((dest / "kpis.json").read_text())
    kpis.update(changes)
    (dest / "kpis.json").write_text(json.dumps(kpis))
    return dest


def test_compare_refuses_text_in_a_quantity(work, run_dir):
    bad = _copy_with_kpis(run_dir, work / "bad", pue="1.2")
    assert_refused(
        invoke("compare", run_dir, bad),
        f"{bad / 'kpis.json'}: pue: '1.2' is not a number",
    )


def test_compare_float_noise_is_not_a_change(work, run_dir):
    kpis = json.loads((run_dir / "kpis.json").read_text())
    residual = kpis["energy_balance_residual_frac"]
    # A reference share that is zero up to rounding (2e-17), and a residual moved by 1e-16:
    # before, the first showed "+4.49e+18 %" and both were listed as changed.
    ref = _copy_with_kpis(run_dir, work / "ref", **{"chat.unserved_frac": 2.0571889010549497e-17})
    alt = _copy_with_kpis(
        run_dir,
        work / "alt",
        **{"chat.unserved_frac": 0.0923, "energy_balance_residual_frac": residual + 1e-16},
    )
    r = CliRunner().invoke(cli.app, ["compare", str(ref), str(alt), "--changed"])
    assert r.exit_code == 0, r.output
    rows = [line for line in r.stdout.splitlines() if "│" in line]
    assert any("chat.unserved_frac" in row for row in rows)
    assert not any("energy_balance_residual_frac" in row for row in rows)
    assert "e+1" not in r.stdout  # no 1e10..1e19 percentages
    cmp = dcsim.compare([ref, alt])
    row = cmp.table.loc["chat.unserved_frac"]
    assert row.iloc[2] == pytest.approx(0.0923)  # abs_diff stays
    assert row.isna().iloc[3]  # rel_diff_frac: undefined against a zero reference


# -- the CI gate ---------------------------------------------------------------------------


@pytest.fixture
def baseline(work, small_hall):
    r = invoke("check", small_hall, *SHORT, "--baseline", "bl", "--update")
    assert r.exit_code == 0, r.output
    return work / "bl" / "small-hall.yaml"


def test_truncated_baseline_is_exit_2(baseline, no_simulation):
    lines = baseline.read_text().splitlines(keepends=True)
    baseline.write_text("".join(lines[: len(lines) // 2]))  # cut at a line boundary
    assert_refused(invoke("check", "--baseline", "bl"), "the file was truncated or edited")


def test_hand_edited_baseline_is_exit_2(baseline, no_simulation):
    text = baseline.read_text()
    line = next(x for x in text.splitlines() if x.startswith("  pue: "))
    baseline.write_text(text.replace(line, "  pue: 1.5"))
    assert_refused(invoke("check", "--baseline", "bl"), "do not match the file's checksum")


def test_baseline_text_and_infinite_tolerance_are_exit_2(baseline, no_simulation):
    text = baseline.read_text()
    baseline.write_text(text.replace("tolerances: {}", "tolerances: {pue: {rel: .inf}}"))
    assert_refused(invoke("check", "--baseline", "bl"), "tolerances.pue.rel: inf must be a finite")
    baseline.write_text(text.replace("tolerances: {}", "tolerances: {pue: {abs: lots}}"))
    assert_refused(
        invoke("check", "--baseline", "bl"), "tolerances.pue.abs: 'lots' must be a finite"
    )


def test_update_shows_what_it_removes(baseline, small_hall):
    from dcsim.regression import read_baseline, write_baseline

    b = read_baseline(baseline)
    run = dcsim.run(small_hall, overrides={"horizon_s": "2h"})
    run.kpis["retired_metric_w"] = 42.0  # a metric a later model version no longer has
    write_baseline(baseline, run, small_hall, b.overrides, previous=b)
    r = invoke("check", "--baseline", "bl", "--update")
    assert r.exit_code == 0, r.output
    assert "1 removed" in r.stdout
    assert "removed (no longer checked): retired_metric_w (was 42)" in r.stdout


# -- schedulers that do not behave ---------------------------------------------------------------


def test_sweep_against_an_http_server_is_one_line(work, small_hall):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(10)
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"

    def answer():
        try:
            conn, _ = server.accept()
            with conn:
                conn.settimeout(10)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
                conn.recv(1)  # hold the connection until the client closes it
        except OSError:
            pass  # the client hung up first (a reset): that is its right

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        r = invoke(
            "sweep", small_hall, *SHORT, "--scheduler", address, "--scheduler-timeout", "5",
            "--out", "sw",
        )  # fmt: skip
    finally:
        thread.join(timeout=10)
        server.close()
    assert_refused(r, f"--scheduler {address}: is not a dask scheduler")
    assert not (work / "sw").exists()


# -- run folders under real concurrency and a real kill ------------------------------------------


def test_concurrent_writers_of_one_run_id_all_succeed(tmp_path, run_dir):
    result = io.read_run(run_dir)
    text = (run_dir / io.SCENARIO_FILE).read_text()
    found: list[Path] = []
    errors: list[BaseException] = []

    def write():
        try:
            found.append(
                io.write_run(
                    result, tmp_path, resolved_scenario_yaml=text, run_id="r", scenario_name="s"
                )
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(p.name for p in found) == ["r", "r-2", "r-3", "r-4"]
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["r", "r-2", "r-3", "r-4"]


def _write_slowly(root: str, started: str) -> None:  # pragma: no cover - runs in a child
    """Start writing a run, then hang after its first file (until killed)."""
    import time as _time

    import pandas as pd

    def first_then_hang(frame, path):
        pd.DataFrame({"x": [1.0]}).to_parquet(path)
        Path(started).write_text("writing")
        while True:
            _time.sleep(0.05)

    io._write_parquet = first_then_hang
    res = dcsim.results.run_result.RunResult(
        pd.DataFrame({"x_w": [1.0]}, index=pd.DatetimeIndex(["2027-01-01"], name="time")),
        dcsim.results.run_result.empty_events(),
        {"x_w": 1.0},
        {"name": "s"},
        {},
    )
    io.write_run(res, root, resolved_scenario_yaml="name: s\n", run_id="r", scenario_name="s")


def test_a_writer_killed_mid_write_is_cleaned_only_once_dead(tmp_path):
    import multiprocessing
    import signal
    import time

    started = tmp_path / "started"
    child = multiprocessing.get_context("fork").Process(
        target=_write_slowly, args=(str(tmp_path / "root"), str(started))
    )
    child.start()
    try:
        for _ in range(600):  # up to 60 s for the child to reach its first file
            if started.exists():
                break
            time.sleep(0.1)
        assert started.exists()
        folder = tmp_path / "root" / "s"
        (tmp,) = [p for p in folder.iterdir() if p.is_dir()]
        assert tmp.name.startswith(".tmp-r-")
        # The writer is alive and holds its lock: its folder is kept, and is no run.
        assert io.remove_stale_temporaries(folder) == [] and tmp.is_dir()
        assert io.list_runs(tmp_path / "root") == []
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.join(timeout=30)
    assert child.exitcode == -signal.SIGKILL
    # Killed: the kernel released the lock; the next cleaner removes folder and lock file.
    assert io.remove_stale_temporaries(folder) == [tmp]
    assert list(folder.iterdir()) == []
