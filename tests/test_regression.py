"""dcsim.regression: tolerances, baseline files, comparison and the check itself.

The tolerance rule is checked against hand arithmetic; the end-to-end check runs
small-hall for one day (about a second) into a temporary baseline folder, then edits the
baseline by a known relative amount, so the expected verdict follows from the tolerance.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML

from dcsim.errors import ConfigError
from dcsim.regression import (
    BASELINE_FORMAT_VERSION,
    DEFAULT_TOLERANCES,
    Tolerance,
    baseline_path,
    check,
    compare_to_baseline,
    compatible_version,
    default_tolerance,
    read_baseline,
    table_record,
    write_baseline,
)
from dcsim.results.meta import build_metadata, dcsim_version, scenario_hash
from dcsim.results.run_result import RunResult, empty_events

# -- tolerances -------------------------------------------------------------------------------


def test_tolerance_rule_by_hand():
    tol = Tolerance(rel=0.01, abs=0.5)
    # Allowed band around 100: 0.5 + 0.01 * 100 = 1.5.
    assert tol.allows(101.5, 100.0)
    assert not tol.allows(101.6, 100.0)
    assert tol.allows(98.5, 100.0) and not tol.allows(98.4, 100.0)
    # Around 0 only the absolute part counts.
    assert tol.allows(0.5, 0.0) and not tol.allows(0.51, 0.0)
    # NaN equals NaN only; infinities must match; text must be equal.
    assert tol.allows(math.nan, math.nan) and not tol.allows(1.0, math.nan)
    assert tol.allows(math.inf, math.inf) and not tol.allows(math.inf, 1e300)
    assert tol.allows("grid", "grid") and not tol.allows("grid", "cooling")
    assert not tol.allows("1", 1.0)
    assert Tolerance().allows(1.0, 1.0) and not Tolerance().allows(1.0 + 1e-15, 1.0)


def test_default_tolerances_by_family():
    assert default_tolerance("pue") == Tolerance(rel=1e-6)
    assert default_tolerance("facility_energy_j") == Tolerance(rel=1e-6, abs=1e3)
    assert default_tolerance("chat.served_tok") == Tolerance(rel=1e-6, abs=1e3)
    assert default_tolerance("mean_served_tok_per_s") == Tolerance(rel=1e-6, abs=1.0)
    assert default_tolerance("slo_attainment_frac") == Tolerance(abs=1e-6)
    # The residual is matched before the *_frac family.
    assert default_tolerance("energy_balance_residual_frac") == Tolerance(abs=1e-9)
    assert default_tolerance("something_else") == Tolerance(rel=1e-6, abs=1e-12)
    # The catch-all is last, so every family above is reachable.
    assert DEFAULT_TOLERANCES[-1][0] == "*"


def test_version_compatibility():
    assert compatible_version("0.1.0", "0.1.9")
    assert not compatible_version("0.1.0", "0.2.0")
    assert compatible_version("1.2.0", "1.9.1")
    assert not compatible_version("1.2.0", "2.0.0")
    assert not compatible_version("garbage", "0.1.0")
    assert compatible_version(dcsim_version())


# -- files and comparison on synthetic runs ------------------------------------------------------


def synthetic(kpis, capacity=None, seed=7):
    index = pd.date_range("2027-01-04", periods=4, freq="15min", name="time")
    ts = pd.DataFrame({"it_power_w": np.ones(4)}, index=index)
    meta = build_metadata(seed, scenario_hash("x"), 0.1, datetime(2026, 1, 1, tzinfo=UTC))
    extra = {} if capacity is None else {"capacity": capacity}
    return RunResult(ts, empty_events(), dict(kpis), {"name": "x"}, meta, extra)


def capacity(values):
    return pd.DataFrame(
        {
            "month": pd.date_range("2027-01-01", periods=len(values), freq="MS"),
            "capacity_tok_per_s": np.asarray(values, float),
        }
    )


KPIS = {
    "served_tok": 2.448511500256003e11,
    "pue": 1.1879924100307477,
    "unserved_tok": 2.137385308742523e-06,
    "availability_frac": math.nan,
    "binding": "grid",
    "gpus_count": 1152,
}


def make_baseline(tmp_path, kpis=KPIS, cap=None, scenario="scen.yaml"):
    (tmp_path / scenario).write_text("name: x\n")
    path = tmp_path / "bl" / "scen.yaml"
    write_baseline(path, synthetic(kpis, cap), tmp_path / scenario, {"horizon_s": "1d"})
    return path


def test_write_read_round_trip_is_exact(tmp_path):
    path = make_baseline(tmp_path, cap=capacity([1.5, 2.5]))
    b = read_baseline(path)
    assert b.scenario == tmp_path / "scen.yaml"
    assert b.overrides == {"horizon_s": "1d"}
    assert b.seed == 7
    assert b.dcsim_version == dcsim_version()
    assert set(b.kpis) == set(KPIS)
    for k, v in KPIS.items():
        if isinstance(v, float) and math.isnan(v):
            assert math.isnan(b.kpis[k])
        else:
            assert b.kpis[k] == v and type(b.kpis[k]) is type(v), k
    assert b.capacity == {
        "columns": ["month", "capacity_tok_per_s"],
        "rows": [["2027-01-01T00:00:00", 1.5], ["2027-02-01T00:00:00", 2.5]],
    }
    text = path.read_text()
    assert text.startswith("# dcsim KPI baseline")
    assert "scenario: ../scen.yaml" in text  # relative to the baseline's folder
    assert f"format_version: {BASELINE_FORMAT_VERSION}" in text


def test_table_record_moves_a_meaningful_index_into_the_columns():
    rec = table_record(capacity([3.0]).set_index("month"))
    assert rec == {
        "columns": ["month", "capacity_tok_per_s"],
        "rows": [["2027-01-01T00:00:00", 3.0]],
    }


def test_identical_run_passes_every_metric(tmp_path):
    b = read_baseline(make_baseline(tmp_path))
    metrics = compare_to_baseline(synthetic(KPIS), b)
    assert [m.name for m in metrics] == ["seed", *sorted(KPIS)]  # stored sorted
    assert {m.status for m in metrics} == {"pass"}
    assert not any(m.changed for m in metrics)


def test_drift_beyond_tolerance_is_named(tmp_path):
    b = read_baseline(make_baseline(tmp_path))
    served = KPIS["served_tok"]
    # Default for *_tok: 1e3 + 1e-6 * 2.45e11 = 2.46e5 tokens. 1e5 passes, 1e6 drifts.
    within = compare_to_baseline(synthetic({**KPIS, "served_tok": served + 1e5}), b)
    assert {m.status for m in within} == {"pass"}
    assert [m.name for m in within if m.changed] == ["served_tok"]
    drift = compare_to_baseline(synthetic({**KPIS, "served_tok": served + 1e6}), b)
    (bad,) = [m for m in drift if m.failed]
    assert bad.name == "served_tok" and bad.status == "drift"
    assert bad.abs_diff == pytest.approx(1e6)
    assert bad.rel_diff_frac == pytest.approx(1e6 / served)
    assert bad.describe().startswith("served_tok: 2.44851e+11 -> 2.44852e+11 (+1e+06, ")


def test_missing_new_text_and_seed(tmp_path):
    b = read_baseline(make_baseline(tmp_path))
    kpis = {k: v for k, v in KPIS.items() if k != "pue"}
    kpis.update({"binding": "cooling", "new_w": 3.0})
    by_name = {m.name: m for m in compare_to_baseline(synthetic(kpis, seed=8), b)}
    assert by_name["pue"].status == "missing" and by_name["pue"].failed
    assert by_name["new_w"].status == "new" and not by_name["new_w"].failed
    assert by_name["binding"].status == "drift"
    assert by_name["seed"].status == "drift"
    assert (by_name["seed"].baseline, by_name["seed"].current) == (7, 8)


def test_capacity_cell_drift_names_column_and_month(tmp_path):
    b = read_baseline(make_baseline(tmp_path, cap=capacity([10.0, 20.0, 30.0])))
    same = compare_to_baseline(synthetic(KPIS, capacity([10.0, 20.0, 30.0])), b)
    assert {m.status for m in same} == {"pass"}
    drift = compare_to_baseline(synthetic(KPIS, capacity([10.0, 25.0, 30.0])), b)
    (bad,) = [m for m in drift if m.failed]
    assert bad.name == "capacity.capacity_tok_per_s[2027-02-01T00:00:00]"
    assert (bad.baseline, bad.current) == (20.0, 25.0)
    shorter = compare_to_baseline(synthetic(KPIS, capacity([10.0, 20.0])), b)
    assert [(m.name, m.status) for m in shorter if m.failed] == [("capacity.rows", "drift")]
    gone = compare_to_baseline(synthetic(KPIS), b)
    assert [(m.name, m.status) for m in gone if m.failed] == [("capacity", "missing")]


def test_tolerances_in_the_file_win_and_survive_an_update(tmp_path):
    path = make_baseline(tmp_path)
    text = path.read_text().replace(
        "tolerances: {}",
        "tolerances:\n  pue: {rel: 0.01}   # PUE may move by 1 %\n  '*_tok': {abs: 1.0e+9}",
    )
    path.write_text(text)
    b = read_baseline(path)
    assert b.tolerance("pue") == Tolerance(rel=0.01)
    assert b.tolerance("served_tok") == Tolerance(abs=1e9)
    assert b.tolerance("it_energy_j") == default_tolerance("it_energy_j")
    # 1 % of 1.188 is 0.0119: +0.01 passes under the file's tolerance (the default would fail).
    res = synthetic({**KPIS, "pue": KPIS["pue"] + 0.01, "served_tok": KPIS["served_tok"] + 5e8})
    assert not any(m.failed for m in compare_to_baseline(res, b))
    write_baseline(path, res, tmp_path / "scen.yaml", {"horizon_s": "1d"}, previous=b)
    again = read_baseline(path)
    assert again.tolerances == b.tolerances
    assert "# PUE may move by 1 %" in path.read_text()
    assert again.kpis["pue"] == KPIS["pue"] + 0.01


def test_bad_tolerance_entry_is_one_line(tmp_path):
    path = make_baseline(tmp_path)
    path.write_text(path.read_text().replace("tolerances: {}", "tolerances: {pue: {rel: -1}}"))
    with pytest.raises(ConfigError, match=r"tolerances.pue.rel: -1 must be a finite number >= 0"):
        read_baseline(path)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("format_version", "99", "baseline format_version 99 is not supported by dcsim"),
        ("dcsim_version", "9.0.0", "baseline made by dcsim 9.0.0 is incompatible with dcsim"),
    ],
)
def test_incompatible_baseline_is_refused(tmp_path, field, value, message):
    path = make_baseline(tmp_path)
    yaml = YAML(typ="rt")
    doc = yaml.load(path.read_text())
    doc[field] = int(value) if field == "format_version" else value
    with open(path, "w") as fh:
        yaml.dump(doc, fh)
    with pytest.raises(ConfigError) as err:
        read_baseline(path)
    text = str(err.value)
    assert text.startswith(f"{path}: {message}")
    assert "regenerate it with: dcsim check --baseline" in text and "--update" in text
    assert "\n" not in text
    # An update may read it, to replace it.
    assert read_baseline(path, check_version=False).kpis["pue"] == KPIS["pue"]


def test_not_a_baseline(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("- a list\n")
    with pytest.raises(ConfigError, match="not a dcsim baseline"):
        read_baseline(p)
    p.write_text(
        f"format_version: {BASELINE_FORMAT_VERSION}\ndcsim_version: {dcsim_version()}\nkpis: {{}}\n"
    )
    with pytest.raises(ConfigError, match="missing 'scenario'"):
        read_baseline(p)


# -- the check end to end (small-hall, one day) --------------------------------------------------


@pytest.fixture(scope="module")
def made(tmp_path_factory, small_hall):
    """A baseline folder made by ``check(..., update=True)`` for small-hall over one day."""
    folder = tmp_path_factory.mktemp("baselines")
    report = check([small_hall], folder, update=True, overrides=["horizon_s=1d"])
    return folder, report


def test_update_creates_the_baseline(made, small_hall):
    folder, report = made
    (c,) = report.checks
    assert c.created and c.updated and report.passed
    b = read_baseline(baseline_path(folder, small_hall))
    assert b.scenario == small_hall
    assert b.overrides == {"horizon_s": "1d"}
    assert b.seed == 7  # small-hall's own seed


def test_unchanged_scenario_passes(made, tmp_path):
    folder, _ = made
    report = check(baseline_dir=folder, junit=tmp_path / "j.xml", markdown=tmp_path / "s.md")
    (c,) = report.checks
    assert report.passed and c.passed and not c.drifted
    assert all(not m.changed for m in c.metrics)
    suite = ET.parse(tmp_path / "j.xml").getroot()
    assert suite.tag == "testsuites" and suite.get("tests") == "1" and suite.get("failures") == "0"
    assert suite.find("testsuite/testcase").get("name") == "small-hall"
    assert suite.find("testsuite/testcase/failure") is None
    assert "all 1 scenario(s) within tolerance" in (tmp_path / "s.md").read_text()


def test_changed_scenario_fails_and_names_the_metric(made, tmp_path):
    folder, _ = made
    # A 1.1 MW import limit under a ~1.3 MW mean draw forces power caps: tokens are withheld.
    report = check(
        baseline_dir=folder,
        overrides=["sites.main.import_limit_mw=1.1"],
        junit=tmp_path / "j.xml",
        markdown=tmp_path / "s.md",
    )
    assert not report.passed
    names = {m.name for m in report.drifted}
    assert {"power_capped_tok", "served_tok", "peak_facility_power_w"} <= names
    assert "demand_tok" not in names  # demand does not depend on the limit
    root = ET.parse(tmp_path / "j.xml").getroot()
    assert root.get("failures") == "1"
    failure = root.find("testsuite/testcase/failure")
    assert "power_capped_tok" in failure.get("message")
    assert "power_capped_tok: " in failure.text
    md = (tmp_path / "s.md").read_text()
    assert "1 of 1 scenario(s) drifted" in md and "| power_capped_tok |" in md


def test_edited_baseline_value_is_refused_not_compared(made, tmp_path):
    # Before the checksum, a value edited by hand was compared as if it were the model's:
    # moved by 1e-7 it passed, so anyone could lower the bar without a trace.
    folder, _ = made
    src = next(folder.glob("*.yaml"))
    b = read_baseline(src)
    pue = b.kpis["pue"]
    copy = tmp_path / "edited"
    copy.mkdir()
    text = src.read_text().replace(f"pue: {pue!r}", f"pue: {pue * (1 + 1e-7)!r}")
    text = text.replace(f"scenario: {read_yaml(src)['scenario']}", f"scenario: {b.scenario}")
    assert text.count("pue: ") == 1
    (copy / src.name).write_text(text)
    with pytest.raises(ConfigError) as err:
        check(baseline_dir=copy)
    message = str(err.value)
    assert message.startswith(f"{copy / src.name}: the metrics, seed, overrides or ")
    assert "do not match the file's checksum" in message and "--update" in message
    assert "\n" not in message


def read_yaml(path):
    return YAML(typ="safe", pure=True).load(path.read_text())


def test_update_rewrites_and_shows_the_change(made, tmp_path, small_hall):
    folder, _ = made
    copy = tmp_path / "bl"
    copy.mkdir()
    src = next(folder.glob("*.yaml"))
    data = read_yaml(src)
    (copy / src.name).write_text(
        src.read_text().replace(f"scenario: {data['scenario']}", f"scenario: {small_hall}")
    )
    report = check(baseline_dir=copy, update=True, overrides=["sites.main.import_limit_mw=1.1"])
    (c,) = report.checks
    assert c.updated and not c.created and report.passed
    assert "power_capped_tok" in {m.name for m in c.changed}
    b = read_baseline(copy / src.name)
    assert b.overrides == {"horizon_s": "1d", "sites.main.import_limit_mw": 1.1}
    # The rewritten baseline now passes without the override: it is recorded in the file.
    assert check(baseline_dir=copy).passed
    # A second update with nothing changed leaves the file alone.
    before = (copy / src.name).read_bytes()
    (again,) = check(baseline_dir=copy, update=True).checks
    assert again.unchanged and not again.updated
    assert (copy / src.name).read_bytes() == before


def test_missing_baseline_and_empty_folder_are_one_line(tmp_path, small_hall):
    with pytest.raises(ConfigError) as err:
        check([small_hall], tmp_path)
    assert "no baseline for" in str(err.value) and "--update" in str(err.value)
    with pytest.raises(ConfigError, match="no baselines here"):
        check(baseline_dir=tmp_path)


# -- a gate that cannot be weakened by accident ------------------------------------------------


def test_count_and_checksum_are_written_and_verified(tmp_path):
    path = make_baseline(tmp_path, cap=capacity([1.5, 2.5]))
    doc = read_yaml(path)
    # The count is len(KPIS) by construction; the checksum is recomputed from the file.
    assert doc["kpis_count"] == len(KPIS) == 6
    assert doc["checksum"].startswith("sha256:") and len(doc["checksum"]) == 7 + 64
    assert read_baseline(path).kpis["pue"] == KPIS["pue"]


def test_truncated_baseline_is_an_error(tmp_path):
    path = make_baseline(tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    # Cut at a line boundary after the first metric: still valid YAML, 5 metrics lost.
    first = next(i for i, line in enumerate(lines) if line.startswith("kpis:")) + 2
    path.write_text("".join(lines[:first]))
    with pytest.raises(ConfigError) as err:
        read_baseline(path)
    assert str(err.value).startswith(
        f"{path}: holds 1 metrics but kpis_count says 6: the file was truncated or edited"
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("pue: 1.1879924100307477", "pue: 1.19", "do not match the file's checksum"),
        ("pue: 1.1879924100307477", "pue:", "kpis.pue: no value"),
        ("seed: 7", "seed: 8", "do not match the file's checksum"),
        ("horizon_s: 1d", "horizon_s: 2d", "do not match the file's checksum"),
    ],
)
def test_edited_or_emptied_values_are_errors(tmp_path, old, new, message):
    path = make_baseline(tmp_path)
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    with pytest.raises(ConfigError, match=message):
        read_baseline(path)


def test_text_value_where_the_run_has_a_number_is_bad_input(tmp_path):
    # A text value is bad input (exit 2), not drift (exit 1). The checksum alone would catch
    # an edit; a baseline written with a text value (a KPI that was text) must be refused too.
    path = make_baseline(tmp_path, kpis={**KPIS, "pue": "n/a"})
    b = read_baseline(path)
    with pytest.raises(ConfigError) as err:
        compare_to_baseline(synthetic(KPIS), b)
    assert str(err.value) == (
        f"{path}: kpis.pue: 'n/a' is text, but the metric is a number (1.18799 in this run); "
        "a baseline value must be a number"
    )
    # Text against text (a categorical KPI) still compares.
    by_name = {m.name: m for m in compare_to_baseline(synthetic({**KPIS, "pue": "n/a"}), b)}
    assert by_name["pue"].status == "pass"


@pytest.mark.parametrize("value", [".inf", "-1", ".nan", "abc"])
def test_bad_tolerances_are_bad_input(tmp_path, value):
    # An infinite tolerance used to pass everything but report identical values as drift
    # (inf * 0 = nan); a negative one, nan or text can never be meant.
    path = make_baseline(tmp_path)
    path.write_text(
        path.read_text().replace("tolerances: {}", f"tolerances: {{pue: {{rel: {value}}}}}")
    )
    with pytest.raises(ConfigError) as err:
        read_baseline(path)
    assert "tolerances.pue.rel: " in str(err.value)
    assert str(err.value).endswith("must be a finite number >= 0")


def test_a_baseline_of_another_scenario_is_an_error(made, tmp_path, small_hall):
    folder, _ = made
    src = next(folder.glob("*.yaml"))
    # The same baseline pointed at an edited copy of its scenario: another resolved text.
    scen = tmp_path / "small-hall.yaml"
    scen.write_text(small_hall.read_text().replace("seed: 7", "seed: 8"))
    assert scen.read_text() != small_hall.read_text()
    copy = tmp_path / "bl"
    copy.mkdir()
    data = read_yaml(src)
    (copy / src.name).write_text(
        src.read_text().replace(f"scenario: {data['scenario']}", f"scenario: {scen}")
    )
    with pytest.raises(ConfigError) as err:
        check(baseline_dir=copy)
    message = str(err.value)
    assert message.startswith(f"{copy / src.name}: the scenario (file and recorded overrides)")
    assert f"hash {data['scenario_hash'][:8]} -> " in message and "--update" in message


def test_update_lists_what_it_removes(tmp_path):
    path = make_baseline(tmp_path)
    b = read_baseline(path)
    kpis = {k: v for k, v in KPIS.items() if k not in ("pue", "gpus_count")}
    metrics = compare_to_baseline(synthetic(kpis), b)
    from dcsim.regression import ScenarioCheck

    c = ScenarioCheck("scen", path, tmp_path / "scen.yaml", {}, metrics=metrics, updated=True)
    assert sorted(m.name for m in c.removed) == ["gpus_count", "pue"]
    assert {m.name: m.baseline for m in c.removed}["gpus_count"] == 1152


def test_update_after_a_scenario_edit_that_moves_no_metric_writes_the_new_hash(tmp_path):
    # A free-text description changes the resolved scenario (its hash) but no KPI: the update
    # must still rewrite the baseline, or the next check refuses it as another scenario's.
    scenario = tmp_path / "hall.yaml"
    text = (Path(__file__).parent.parent / "scenarios" / "small-hall.yaml").read_text()
    scenario.write_text(text)
    folder = tmp_path / "bl"
    check([scenario], folder, update=True, overrides=["horizon_s=1h"])
    assert "description: >-\n  " in text
    scenario.write_text(text.replace("description: >-\n  ", "description: >-\n  Edited. ", 1))
    with pytest.raises(ConfigError, match="no longer resolves"):
        check(baseline_dir=folder)
    (c,) = check(baseline_dir=folder, update=True).checks
    assert c.updated and not c.unchanged
    assert check(baseline_dir=folder).passed
