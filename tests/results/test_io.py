import json
import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from dcsim.errors import ConfigError
from dcsim.results import io
from dcsim.results.io import is_run_dir, list_runs, read_run, write_run
from dcsim.results.meta import build_metadata, run_id, scenario_hash
from dcsim.results.run_result import EVENT_COLUMNS, RunResult, empty_events

SCENARIO_YAML = "name: tiny\nseed: 42\nhorizon: 1h\nhalls:\n  - id: hall-1\n    it_power_mw: 2.5\n"


def make_result(n=8, with_extra=True):
    # freq="15min": the in-memory index carries a freq that Parquet cannot store. Runs are
    # stamped in UTC.
    index = pd.date_range("2026-01-01", periods=n, freq="15min", name="time", tz="UTC")
    rng = np.random.default_rng(0)
    timeseries = pd.DataFrame(
        {
            "it_power_w": rng.uniform(1e6, 2e6, n),
            "served_tok_per_s": rng.uniform(0, 1e7, n),
            "outdoor_temp_degc": rng.normal(20.0, 5.0, n),
        },
        index=index,
    )
    events = pd.DataFrame(
        {
            "time": pd.to_datetime(["2026-01-01 00:10", "2026-01-01 01:05"], utc=True),
            "kind": ["rack_failure", "curtailment_start"],
            "asset": ["hall-1/rack-0001", ""],
            "detail": ["fan", "grid operator request"],
            "value": [np.nan, 5e5],
        }
    )
    extra = {}
    if with_extra:
        halls = pd.DataFrame(
            {"hall": ["hall-1", "hall-2"] * 2, "it_power_w": [1.0, 2.0, 3.0, 4.0]},
            index=pd.DatetimeIndex(np.repeat(index[:2].to_numpy(), 2), name="time"),
        )
        extra["hall_timeseries"] = halls
    kpis = {
        "served_tok": 123456789,
        "energy_j": 3.6e12,
        "pue": 1.21,
        "availability_frac": float("nan"),
        "binding_constraint": "cooling",
    }
    started = datetime(2026, 11, 22, 0, 40, 12, tzinfo=UTC)
    digest = scenario_hash(SCENARIO_YAML)
    meta = build_metadata(42, digest, 1.5, started, {"scenario_name": "tiny"})
    return RunResult(timeseries, events, kpis, {"name": "tiny"}, meta, extra)


def rid(seed=42, second=12):
    now = datetime(2026, 11, 22, 0, 40, second, tzinfo=UTC)
    return run_id("tiny", seed, scenario_hash(SCENARIO_YAML), now)


def write(result, root, run=None):
    return write_run(
        result,
        root,
        resolved_scenario_yaml=SCENARIO_YAML,
        run_id=run or rid(),
        scenario_name="tiny",
    )


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_round_trip(tmp_path):
    result = make_result()
    path = write(result, tmp_path)
    assert path == tmp_path / "tiny" / rid()
    assert sorted(p.name for p in path.iterdir()) == sorted(
        [*io.REQUIRED_FILES, "hall_timeseries.parquet"]
    )
    back = read_run(path)

    # Parquet does not store the index freq: the only permitted difference.
    assert back.timeseries.index.freq is None
    expected_ts = result.timeseries.copy()
    expected_ts.index.freq = None
    pd.testing.assert_frame_equal(back.timeseries, expected_ts)
    assert back.timeseries.index.name == "time"
    pd.testing.assert_frame_equal(back.events, result.events)
    assert list(back.events.columns) == list(EVENT_COLUMNS)
    pd.testing.assert_frame_equal(
        back.extra_tables["hall_timeseries"], result.extra_tables["hall_timeseries"]
    )
    assert set(back.extra_tables) == {"hall_timeseries"}

    # NaN is stored as null and comes back as NaN; every other KPI comes back equal and typed.
    assert math.isnan(back.kpis.pop("availability_frac"))
    expected_kpis = {k: v for k, v in result.kpis.items() if k != "availability_frac"}
    assert back.kpis == expected_kpis
    assert type(back.kpis["served_tok"]) is int

    assert back.meta == result.meta
    assert back.scenario == {
        "name": "tiny",
        "seed": 42,
        "horizon": "1h",
        "halls": [{"id": "hall-1", "it_power_mw": 2.5}],
    }
    assert (path / "scenario.yaml").read_text(encoding="utf-8") == SCENARIO_YAML
    assert back.scenario_name == "tiny"


def test_kpis_json_is_strict_sorted_json(tmp_path):
    result = make_result()
    result.kpis["np_float"] = np.float32(0.5)
    result.kpis["np_int"] = np.int64(7)
    result.kpis["infinite"] = float("inf")
    path = write(result, tmp_path)
    text = (path / "kpis.json").read_text(encoding="utf-8")
    # Strict JSON: Python's parser must not need its NaN/Infinity extension.
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert list(data) == sorted(data)
    assert data["availability_frac"] is None and data["infinite"] is None
    assert data["np_float"] == 0.5 and data["np_int"] == 7 and data["pue"] == 1.21
    assert '"served_tok": 123456789' in text  # a JSON number, not a string


def test_empty_events_round_trip(tmp_path):
    result = make_result(with_extra=False)
    result.events = empty_events(tz="UTC")
    back = read_run(write(result, tmp_path))
    pd.testing.assert_frame_equal(back.events, result.events)
    assert back.extra_tables == {}


def test_old_run_folders_with_naive_stamps_read_back_in_utc(tmp_path):
    # Before the stamps were UTC, a run stored the naive wall clock of its first site. A
    # site at UTC-5 (its scenario.yaml says so): 00:00 there is 05:00 UTC.
    result = make_result()
    result.timeseries.index = result.timeseries.index.tz_localize(None)
    result.events["time"] = result.events["time"].dt.tz_localize(None)
    halls = result.extra_tables["hall_timeseries"]
    halls.index = halls.index.tz_localize(None)
    result.extra_tables["site_timeseries"] = halls.rename(columns={"hall": "site"}).reset_index()
    old_yaml = "name: tiny\nsites:\n  - name: main\n    location: {utc_offset_h: -5}\n"
    path = write_run(
        result, tmp_path, resolved_scenario_yaml=old_yaml, run_id=rid(), scenario_name="tiny"
    )
    back = read_run(path)
    five_h = pd.Timedelta(hours=5)
    assert back.timeseries.index[0] == pd.Timestamp("2026-01-01 05:00", tz="UTC")
    assert (back.timeseries.index.tz_localize(None) == result.timeseries.index + five_h).all()
    assert list(back.events["time"]) == [
        pd.Timestamp("2026-01-01 05:10", tz="UTC"),
        pd.Timestamp("2026-01-01 06:05", tz="UTC"),
    ]
    assert back.extra_tables["hall_timeseries"].index[0] == pd.Timestamp("2026-01-01 05:00Z")
    assert back.extra_tables["site_timeseries"]["time"].iloc[0] == pd.Timestamp("2026-01-01 05:00Z")
    # The wall clock of the site comes back as it was stored.
    local = back.local_time()
    assert (local.dt.tz_localize(None).to_numpy() == result.timeseries.index.to_numpy()).all()
    assert str(local.dt.tz) == "UTC-05:00"


def test_existing_run_folder_is_refused_when_not_unique(tmp_path):
    result = make_result()
    path = write(result, tmp_path)
    before = snapshot(path)
    with pytest.raises(ConfigError, match="already exists"):
        write_run(
            result,
            tmp_path,
            resolved_scenario_yaml=SCENARIO_YAML,
            run_id=rid(),
            scenario_name="tiny",
            unique=False,
        )
    assert snapshot(path) == before
    assert [p.name for p in (tmp_path / "tiny").iterdir()] == [path.name]


def test_same_second_runs_get_distinct_folders(tmp_path):
    # Two runs of one scenario text and seed started in the same second share a run id;
    # both must be kept, the second as "<id>-2", the third "<id>-3", the first untouched.
    first = write(make_result(), tmp_path)
    before = snapshot(first)
    second = write(make_result(), tmp_path)
    third = write(make_result(), tmp_path)
    assert (second.name, third.name) == (f"{rid()}-2", f"{rid()}-3")
    assert snapshot(first) == before
    assert list_runs(tmp_path, "tiny") == [first, second, third]


def test_existing_empty_folder_is_never_replaced(tmp_path):
    # POSIX rename would replace an empty folder silently; write_run takes the next name.
    squatter = tmp_path / "tiny" / rid()
    squatter.mkdir(parents=True)
    path = write(make_result(), tmp_path)
    assert path.name == f"{rid()}-2" and list(squatter.iterdir()) == []


def test_killed_writer_temporary_is_ignored_then_cleaned(tmp_path):
    # A run killed while writing leaves ".tmp-<id>-<random>" (its lock file released by the
    # kernel). Readers refuse it; the next write into the folder removes it.
    sibling = write(make_result(), tmp_path, run=rid(seed=1))
    dead = tmp_path / "tiny" / f".tmp-{rid(seed=4)}-dead0000"
    dead.mkdir()
    for name in io.REQUIRED_FILES:
        (dead / name).write_bytes((sibling / name).read_bytes())
    (tmp_path / "tiny" / f"{dead.name}.lock").write_text("")  # lock file, nobody holds it
    assert not is_run_dir(dead) and list_runs(tmp_path) == [sibling]
    with pytest.raises(ConfigError, match="temporary folder of an unfinished or killed run"):
        read_run(dead)
    path = write(make_result(), tmp_path, run=rid(seed=2))
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == sorted(
        [sibling.name, path.name]
    )


def test_live_writer_temporary_is_kept(tmp_path):
    import fcntl
    import os

    base = tmp_path / "tiny"
    base.mkdir()
    live = base / ".tmp-x-live0000"
    live.mkdir()
    fd = os.open(base / ".tmp-x-live0000.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # what a writer in another process holds
        # flock locks belong to the open file: a second open (as the cleaner does) conflicts.
        assert io.remove_stale_temporaries(base) == []
        assert live.is_dir()
    finally:
        os.close(fd)
    assert io.remove_stale_temporaries(base) == [live] and not live.exists()


# Writing order: timeseries, events, extras (parquet); scenario.yaml (text); kpis, metadata
# (json, which writes through _write_text). Each case fails with a half-full temporary folder.
@pytest.mark.parametrize(
    ("failing", "fail_at_call"),
    [("_write_parquet", 2), ("_write_parquet", 3), ("_write_text", 1), ("_write_json", 2)],
)
def test_failed_write_leaves_nothing_and_spares_siblings(
    tmp_path, monkeypatch, failing, fail_at_call
):
    sibling = write(make_result(), tmp_path, run=rid(seed=1))
    before = snapshot(sibling)
    real = getattr(io, failing)
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) == fail_at_call:
            raise OSError("disk full (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(io, failing, flaky)
    with pytest.raises(ConfigError, match=r"cannot write the run \(disk full \(simulated\)\)"):
        write(make_result(), tmp_path, run=rid(seed=2))

    assert len(calls) == fail_at_call
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == [sibling.name]
    assert snapshot(sibling) == before
    assert list_runs(tmp_path) == [sibling]


def test_failed_rename_leaves_nothing(tmp_path, monkeypatch):
    sibling = write(make_result(), tmp_path, run=rid(seed=1))

    def no_rename(src, dst):
        raise PermissionError("rename refused (simulated)")

    monkeypatch.setattr(io.os, "rename", no_rename)
    with pytest.raises(ConfigError, match=r"cannot write \(rename refused \(simulated\)\)"):
        write(make_result(), tmp_path, run=rid(seed=2))
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == [sibling.name]


def test_failed_first_write_removes_created_scenario_folder(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(io, "_write_parquet", boom)
    with pytest.raises(RuntimeError, match="boom"):
        write(make_result(), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_bad_kpi_fails_before_anything_is_written(tmp_path):
    result = make_result()
    result.kpis["bad"] = [1, 2]
    with pytest.raises(TypeError, match="bad"):
        write(result, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["", "..", "../x", "a/b", ".hidden"])
def test_unsafe_names_are_refused(tmp_path, name):
    with pytest.raises(ConfigError, match="plain folder name"):
        write_run(
            make_result(),
            tmp_path,
            resolved_scenario_yaml=SCENARIO_YAML,
            run_id=name,
            scenario_name="tiny",
        )
    with pytest.raises(ConfigError, match="plain folder name"):
        write_run(
            make_result(),
            tmp_path,
            resolved_scenario_yaml=SCENARIO_YAML,
            run_id=rid(),
            scenario_name=name,
        )
    assert list(tmp_path.rglob("*")) == []


@pytest.mark.parametrize("name", ["events", "timeseries", "a/b", ""])
def test_bad_extra_table_names_are_refused(tmp_path, name):
    result = make_result(with_extra=False)
    result.extra_tables[name] = pd.DataFrame({"x_w": [1.0]})
    with pytest.raises(ConfigError, match="extra_tables"):
        write(result, tmp_path)


def test_incomplete_folder_raises_config_error(tmp_path):
    path = write(make_result(), tmp_path)
    (path / "kpis.json").unlink()
    (path / "metadata.json").unlink()
    assert not is_run_dir(path)
    with pytest.raises(ConfigError) as info:
        read_run(path)
    assert str(info.value) == f"{path}: not a dcsim run folder (missing kpis.json, metadata.json)"


def test_non_run_folders_raise_config_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        read_run(tmp_path)
    assert str(info.value) == (
        f"{tmp_path}: not a dcsim run folder (missing timeseries.parquet, events.parquet, "
        "kpis.json, scenario.yaml, metadata.json)"
    )
    with pytest.raises(ConfigError, match="no such directory"):
        read_run(tmp_path / "nope")


def test_corrupt_file_is_named(tmp_path):
    path = write(make_result(), tmp_path)
    (path / "kpis.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"kpis\.json: not valid JSON"):
        read_run(path)
    path2 = write(make_result(), tmp_path, run=rid(seed=3))
    (path2 / "events.parquet").write_bytes(b"garbage")
    with pytest.raises(ConfigError, match=r"events\.parquet: not a readable Parquet"):
        read_run(path2)


def test_list_runs_sorted_and_filtered(tmp_path):
    result = make_result(with_extra=False)
    late = write(result, tmp_path, run=rid(seed=1, second=30))
    early = write(result, tmp_path, run=rid(seed=9, second=5))
    other = write_run(
        result,
        tmp_path,
        resolved_scenario_yaml=SCENARIO_YAML,
        run_id=rid(),
        scenario_name="another",
    )
    # Things that are not runs: a stray folder, a leftover temporary, a file.
    (tmp_path / "tiny" / "notes").mkdir()
    tmp_copy = tmp_path / "tiny" / f".tmp-{rid(seed=4)}-abcd"
    tmp_copy.mkdir()
    for name in io.REQUIRED_FILES:
        (tmp_copy / name).write_text("", encoding="utf-8")
    (tmp_path / "README.txt").write_text("x", encoding="utf-8")

    assert is_run_dir(early) and not is_run_dir(tmp_copy)
    # Run ids start with the UTC second, so 00:40:05 sorts before 00:40:30.
    assert list_runs(tmp_path, "tiny") == [early, late]
    assert list_runs(tmp_path) == [other, early, late]
    assert list_runs(tmp_path / "missing") == []
    assert list_runs(tmp_path, "missing") == []


def test_run_result_validates_shape_and_repr_is_short():
    result = make_result()
    text = repr(result)
    assert text.startswith("RunResult(scenario='tiny', horizon=2026-01-01 00:00:00+00:00 .. ")
    assert "8 rows x 3 cols" in text and "events=2" in text
    assert "pue=1.21" in text and "(5 total)" in text
    assert len(text) < 400

    with pytest.raises(TypeError, match="DatetimeIndex"):
        RunResult(result.timeseries.reset_index(), result.events, {}, None, {})
    with pytest.raises(ValueError, match="named 'time'"):
        RunResult(result.timeseries.rename_axis("t"), result.events, {}, None, {})
    with pytest.raises(ValueError, match="missing columns"):
        RunResult(result.timeseries, result.events.drop(columns="value"), {}, None, {})
