"""Every command and Python block of README.md runs, so the README cannot drift from the code.

The commands of the ```console blocks (lines starting with ``$ ``), of the ```bash blocks and
the ```python blocks are taken from README.md in order and run in a temporary folder holding
a copy of ``scenarios/`` and ``results/baselines/``, as a reader following the README would.
Python blocks share one namespace, as in one interactive session.

What a test cannot run as written is changed by the visible tables below, so a reader sees
what was shortened and why:

* ``SKIPPED``: commands not run at all, each with the reason;
* ``SUBSTITUTIONS``: text replaced before running (shorter horizons, fewer seeds, the
  worktree's ``dcsim``);
* placeholders ``<run-a>``, ``<run-b>``, ``<run-id>`` are filled with the run folders the
  earlier ``dcsim run`` commands wrote (the two latest small-hall runs; the latest).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

#: Commands the test does not run: (regex on the command, reason).
SKIPPED: list[tuple[str, str]] = [
    (r"^python -m pip install", "installs into the environment; the test runs this worktree"),
    (r"^python -m pytest", "the test suite itself"),
    (r"^dask (scheduler|worker)", "starts a dask cluster on other nodes"),
    (r"--scheduler tcp://10\.", "needs a remote dask scheduler"),
    (r"^git ", "changes the reader's git repository"),
]

#: Replacements applied to a command or Python block before it runs: (regex, replacement,
#: why). Applied in this order; each must match somewhere in README.md (tested).
SUBSTITUTIONS: list[tuple[str, str, str]] = [
    (r"horizon_s=30d", "horizon_s=2d", "a month of the gigawatt campus: 2 days"),
    (r"--set horizon_s=14d", "--set horizon_s=2d", "a 14-day CI baseline: 2 days"),
    (
        r"^(dcsim run (?:(?!horizon_s).)*)$",
        r"\1 --set horizon_s=2d",
        "a run without a horizon (a week or a year): 2 days",
    ),
    (r"--vary horizon_s=2d,7d", "--vary horizon_s=1d,2d", "sweep horizons of 2 and 7 days: 1, 2"),
    (r"--seeds 8", "--seeds 2", "8 seeds per sweep point: 2"),
    (r"--workers 4", "--workers 0", "a 4-process dask cluster: runs in the calling process"),
    (r"seeds=8", "seeds=2", "Python sweep: 8 seeds: 2"),
    (r"workers=4", "workers=0", "Python sweep: 4 processes: in the calling process"),
    (r'overrides=\["horizon_s=7d"\]', 'overrides=["horizon_s=2d"]', "Python sweep: 7 days: 2"),
    (
        r'overrides=\["sites\.campus\.grid\.firm_mw=500"\]',
        'overrides=["sites.campus.grid.firm_mw=500", "horizon_s=3d"]',
        "the gigawatt year from Python: 3 days (the plot example needs 2027-01-05..06)",
    ),
    (r"^dcsim ", f"{sys.executable} -m dcsim.cli ", "the `dcsim` of this worktree"),
]

#: Files a command needs that a reader provides: (path in the run folder, made from, why).
READER_FILES = [
    ("scenarios/my-campus.yaml", "scenarios/small-hall.yaml", "the reader's own scenario"),
]

_FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.S | re.M)


def readme_steps(text: str) -> list[tuple[str, str]]:
    """The runnable steps of a README in order: ``("shell", command)`` or ``("python", code)``."""
    steps: list[tuple[str, str]] = []
    for lang, body in _FENCE.findall(text):
        if lang == "python":
            steps.append(("python", body))
            continue
        if lang not in ("console", "bash"):
            continue
        lines = body.replace("\\\n", " ").splitlines()
        if lang == "console":
            lines = [ln[2:] for ln in lines if ln.startswith("$ ")]
        for line in lines:
            for command in line.split(" && "):
                command = re.sub(r"\s+#.*$", "", " ".join(command.split()))
                if command:
                    steps.append(("shell", command))
    return steps


def skip_reason(command: str) -> str | None:
    """The reason a command is not run, from ``SKIPPED``, or None."""
    for pattern, reason in SKIPPED:
        if re.search(pattern, command):
            return reason
    return None


def substitute(text: str, multiline: bool = False) -> str:
    """``text`` with every ``SUBSTITUTIONS`` entry applied, in order."""
    flags = re.M if multiline else 0
    for pattern, replacement, _why in SUBSTITUTIONS:
        text = re.sub(pattern, replacement, text, flags=flags)
    return text


def fill_placeholders(text: str, runs: list[str]) -> str:
    """Fill ``<run-a>``, ``<run-b>``, ``<run-id>`` from the small-hall run folders so far."""
    ids = [Path(r).name for r in runs if "/small-hall/" in r]
    # A placeholder in a comment ("# results/gw-campus/<run-id>/") is left as it is.
    if re.search(r"<run-[ab]>|<run-id>", re.sub(r"#[^\n]*", "", text)):
        assert len(ids) >= 2, f"no earlier runs to fill the placeholders of: {text}"
        text = text.replace("<run-a>", ids[-2]).replace("<run-b>", ids[-1])
        text = text.replace("<run-id>", ids[-1])
    return text


@pytest.fixture
def reader_dir(tmp_path, monkeypatch):
    """A folder laid out as a reader's checkout: scenarios and baselines, no run outputs."""
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    shutil.copytree(ROOT / "results" / "baselines", tmp_path / "results" / "baselines")
    for dest, src, _why in READER_FILES:
        shutil.copy(ROOT / src, tmp_path / dest)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_shell(command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120"}
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


# ------------------------------------------------------------------ fast: the tables hold


def test_readme_has_runnable_steps():
    steps = readme_steps(README.read_text())
    shells = [c for kind, c in steps if kind == "shell"]
    # Hand count of the README's console and bash blocks: 2 bash lines of 2 commands each,
    # the tour's 5, compare's 3, sweep's 1, cluster's 3, check's 1 + 3, plot's 3.
    assert len(shells) >= 20
    assert sum(kind == "python" for kind, _ in steps) >= 5
    assert "dcsim validate scenarios/*.yaml" in shells


def test_every_table_entry_matches_the_readme():
    # A table entry that matches nothing is stale: the README changed and the table did not.
    steps = readme_steps(README.read_text())
    shells = [c for kind, c in steps if kind == "shell"]
    code = "\n".join(c for _, c in steps)
    for pattern, reason in SKIPPED:
        assert any(re.search(pattern, c) for c in shells), (pattern, reason)
    for pattern, _replacement, why in SUBSTITUTIONS:
        assert re.search(pattern, code, flags=re.M), (pattern, why)


def test_substitutions_shorten_every_simulating_command():
    steps = readme_steps(README.read_text())
    for kind, command in steps:
        if kind != "shell" or skip_reason(command) or not command.startswith("dcsim run"):
            continue
        assert re.search(r"horizon_s=[123]d\b", substitute(command)), command
    assert substitute("dcsim run scenarios/gw-campus.yaml").endswith("--set horizon_s=2d")


def test_placeholders_take_the_latest_runs():
    runs = ["results/small-hall/A", "results/gw-campus/G", "results/small-hall/B"]
    assert fill_placeholders("x <run-a> <run-b> <run-id>", runs) == "x A B B"
    assert fill_placeholders("x  # <run-id>", []) == "x  # <run-id>"


@pytest.mark.parametrize(
    "command",
    [
        "dcsim validate scenarios/*.yaml",
        "dcsim catalog rack_systems",
        "dcsim schema > scenario.schema.json",
    ],
)
def test_readme_commands_without_simulation(command, reader_dir):
    # The quick commands of the tour, run as written (no substitution but the worktree's dcsim).
    assert ("shell", command) in readme_steps(README.read_text())
    proc = run_shell(substitute(command), reader_dir)
    assert proc.returncode == 0, proc.stderr
    if "validate" in command:
        assert "scenarios/gw-campus.yaml: ok" in proc.stdout
    elif "schema" in command:
        schema = json.loads((reader_dir / "scenario.schema.json").read_text())
        assert "horizon_s" in schema["properties"]
    else:
        assert "gb200-nvl72" in proc.stdout.lower() or "GB200" in proc.stdout


# ------------------------------------------------------------------ slow: the whole README


@pytest.mark.slow
def test_readme_runs_end_to_end(reader_dir):
    steps = readme_steps(README.read_text())
    namespace: dict = {"__name__": "__readme__"}
    runs: list[str] = []
    ran, skipped = [], []
    for kind, text in steps:
        if kind == "python":
            code = fill_placeholders(substitute(text, multiline=True), runs)
            exec(compile(code, "README.md python block", "exec"), namespace)  # noqa: S102
            ran.append(code)
            continue
        reason = skip_reason(text)
        if reason:
            skipped.append((text, reason))
            continue
        command = fill_placeholders(substitute(text), runs)
        proc = run_shell(command, reader_dir)
        assert proc.returncode == 0, f"{text}\n-> {command}\n{proc.stdout[-2000:]}{proc.stderr}"
        runs += re.findall(r"^results: (\S+)$", proc.stdout, flags=re.M)
        ran.append(command)
        if command.endswith("check --baseline results/baselines/"):
            # The README shows this output: one "ok" line per baseline.
            for name in ("small-hall", "gw-campus"):
                assert re.search(rf"^{name}: ok \(\d+ metrics within tolerance", proc.stdout, re.M)
    assert len(skipped) == 7  # 2 pip installs, pytest, 3 cluster lines, git add
    # What the commands promise exists: the schema, compare's tables, sweep's files, plots.
    assert "properties" in json.loads((reader_dir / "scenario.schema.json").read_text())
    assert (reader_dir / "cmp.csv").stat().st_size > 0 and (reader_dir / "cmp.png").exists()
    sweep = reader_dir / "results" / "sweeps" / "import-limit"
    assert (sweep / "results.parquet").exists() and (sweep / "summary.parquet").exists()
    assert (reader_dir / "dash.pdf").read_bytes()[:4] == b"%PDF"
    assert (reader_dir / "ci" / "baselines" / "my-campus.yaml").exists()
    # The Python session's results: the gigawatt run with a smaller firm block was written.
    assert namespace["res"].kpis["served_tok"] > 0
    assert namespace["report"].passed
