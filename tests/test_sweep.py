"""dcsim.sweep: the plan, validation before any run, dask execution, resume, the tables.

The reference for a sweep's numbers is the same runs made one by one with ``dcsim.run``:
a sweep must not change a single bit of any KPI. Runs are small-hall over one day
(~0.3 s each once numba's cache is warm).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import signal
import socket

import numpy as np
import pandas as pd
import pytest

import dcsim
from dcsim.errors import ConfigError
from dcsim.sweep import (
    RESULTS_FILE,
    RUNS_DIR,
    SUMMARY_FILE,
    parse_vary,
    plan_sweep,
    read_sweep,
    sweep,
)

LIMIT = "sites.main.import_limit_mw"
DAY = ["horizon_s=1d"]


def test_parse_vary_reads_yaml_values():
    got = parse_vary([f"{LIMIT}=1.1,3.2", "horizon_s=1d, 2d", 'notes="a,b",c', "x=[1, 2],[3]"])
    assert got == {
        LIMIT: [1.1, 3.2],
        "horizon_s": ["1d", "2d"],
        "notes": ["a,b", "c"],
        "x": [[1, 2], [3]],
    }
    assert parse_vary({LIMIT: (1, 2)}) == {LIMIT: [1, 2]}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (["nonsense"], "--vary nonsense: expected path=v1,v2,..., got 'nonsense'"),
        (["horizon_s="], "--vary horizon_s: expected at least one value"),
        (["seed=1,2"], "--vary seed: vary the seed with --seeds N"),
        (["horizon_s=1d", "horizon_s=2d"], "--vary horizon_s: given twice"),
    ],
)
def test_parse_vary_errors(spec, message):
    with pytest.raises(ConfigError) as err:
        parse_vary(spec)
    assert str(err.value).startswith(message)


def test_plan_is_the_cartesian_product_times_seeds(small_hall):
    runs = plan_sweep(small_hall, [f"{LIMIT}=1.1,3.2", "horizon_s=1d,2d,3d"], seeds=2)
    # 2 x 3 points x 2 seeds; the first path varies slowest, seeds innermost.
    assert len(runs) == 12
    assert [r.point for r in runs] == [p for p in range(6) for _ in range(2)]
    assert [(r.values[LIMIT], r.values["horizon_s"]) for r in runs[::2]] == [
        (1.1, "1d"),
        (1.1, "2d"),
        (1.1, "3d"),
        (3.2, "1d"),
        (3.2, "2d"),
        (3.2, "3d"),
    ]
    # Seeds: the scenario's (7), then 8.
    assert [r.seed for r in runs[:2]] == [7, 8]
    assert len({r.key for r in runs}) == 12
    assert all(r.key.startswith(f"s{r.seed}-") for r in runs)
    assert runs[0].overrides == {LIMIT: 1.1, "horizon_s": "1d", "seed": 7}


def test_run_key_is_the_hash_of_the_resolved_scenario(small_hall):
    # The same resolved scenario through another spelling lands in the same folder;
    # "sites.0" is "sites.main" and 3.2 is the file's own value.
    a = plan_sweep(small_hall, [f"{LIMIT}=3.2"], overrides=DAY)
    b = plan_sweep(small_hall, ["sites.0.import_limit_mw=3.2"], overrides=DAY)
    c = plan_sweep(small_hall, None, overrides=DAY)
    assert a[0].key == b[0].key == c[0].key
    # ... and it is the hash `dcsim run` records for that scenario and seed.
    res = dcsim.run(small_hall, overrides={"horizon_s": "1d"})
    assert a[0].scenario_hash == res.meta["scenario_hash"]
    assert plan_sweep(small_hall, [f"{LIMIT}=3.1"], overrides=DAY)[0].key != a[0].key


def test_a_variant_file_is_read_with_its_base(small_hall, tmp_path):
    variant = tmp_path / "tight.yaml"
    variant.write_text(f"extends: {small_hall}\nname: small-hall-tight\nset:\n  {LIMIT}: 1.1\n")
    (run,) = plan_sweep(variant, None, overrides=DAY)
    res = dcsim.run(variant, overrides={"horizon_s": "1d"})
    assert run.scenario_hash == res.meta["scenario_hash"]
    assert res.kpis["power_capped_tok"] > 0  # the variant's 1.1 MW limit is in force


@pytest.mark.parametrize(
    ("vary", "message"),
    [
        (
            [f"{LIMIT}=1.1", "sites.main.import_limt_mw=1,2"],
            "--vary sites.main.import_limt_mw: unknown field 'import_limt_mw'; "
            "did you mean 'import_limit_mw'?",
        ),
        ([f"{LIMIT}=1.1,abc"], "--vary sites.main.import_limit_mw: expected a number, got 'abc'"),
        (["horizon_s=1d,2x"], "--vary horizon_s: expected a duration"),
        (["sites.mian.import_limit_mw=1"], "--vary sites.mian.import_limit_mw: no such field"),
    ],
)
def test_every_point_is_validated_before_any_run(small_hall, tmp_path, vary, message):
    with pytest.raises(ConfigError) as err:
        sweep(small_hall, vary, overrides=DAY, out=tmp_path / "sw", workers=0)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "sw").exists()  # nothing ran, nothing was written


def test_bad_seeds_and_workers(small_hall, tmp_path):
    with pytest.raises(ConfigError, match="--seeds: 0 must be >= 1"):
        plan_sweep(small_hall, None, seeds=0)
    with pytest.raises(ConfigError, match="distinct"):
        plan_sweep(small_hall, None, seeds=[1, 1])
    with pytest.raises(ConfigError, match="--workers: -1 must be an integer >= 0"):
        sweep(small_hall, None, out=tmp_path, workers=-1)


def one_by_one(small_hall, runs):
    """KPIs of each planned run made with plain dcsim.run: the reference."""
    return {
        r.key: dcsim.run(small_hall, overrides={"horizon_s": "1d", **r.values}, seed=r.seed).kpis
        for r in runs
    }


def assert_same_kpis(results, reference):
    assert sorted(results["run"]) == sorted(reference)
    for _, row in results.iterrows():
        for key, value in reference[row["run"]].items():
            got = row[key]
            assert got == value or (math.isnan(got) and math.isnan(value)), (row["run"], key)


def test_local_cluster_sweep_equals_runs_made_one_by_one(small_hall, tmp_path):
    vary = [f"{LIMIT}=1.1,3.2"]
    # The reference first: it also leaves numba's on-disk cache warm for the workers.
    reference = one_by_one(small_hall, plan_sweep(small_hall, vary, seeds=2, overrides=DAY))
    seen = []
    res = sweep(
        small_hall,
        vary,
        seeds=2,
        overrides=DAY,
        out=tmp_path / "sw",
        workers=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert (res.n_run, res.n_skipped, res.failed) == (4, 0, {})
    assert seen[0] == (0, 4) and seen[-1] == (4, 4) and len(seen) == 5
    assert_same_kpis(res.results, reference)
    for key in res.results["run"]:
        # Every run has its own complete folder, loadable as a run.
        back = dcsim.read_run(res.run_dir(key))
        assert back.meta["sweep"]["key"] == key
        # Workers load the compiled kernels from numba's on-disk cache: a cold compile of
        # the kernels takes ~30 s, a day of small-hall well under a second once compiled.
        assert back.meta["wall_time_s"] < 10.0
    # The tight limit withholds tokens, the shipped 3.2 MW does not (P50 over seeds).
    s = res.summary.set_index(["kpi", LIMIT])
    assert s.loc[("power_capped_tok", 1.1), "p50"] > 1e9
    assert s.loc[("power_capped_tok", 3.2), "p50"] < 1.0


def test_a_scenario_object_sweeps_like_its_file(small_hall, tmp_path):
    sc = dcsim.load_scenario(small_hall, overrides=DAY)
    from_object = sweep(sc, [f"{LIMIT}=1.1"], out=tmp_path / "a", workers=0)
    from_file = sweep(small_hall, [f"{LIMIT}=1.1"], overrides=DAY, out=tmp_path / "b", workers=0)
    assert from_object.runs[0].key == from_file.runs[0].key
    pd.testing.assert_frame_equal(from_object.results, from_file.results)


def test_tables_are_tidy_and_written(small_hall, tmp_path):
    res = sweep(
        small_hall,
        {LIMIT: [1.1, 3.2], "horizon_s": ["1d"]},
        seeds=3,
        out=tmp_path / "sw",
        workers=0,
    )
    r = res.results
    assert list(r.columns[:5]) == ["point", LIMIT, "horizon_s", "seed", "run"]
    assert len(r) == 6 and r[LIMIT].dtype == np.float64 and r["seed"].tolist() == [7, 8, 9] * 2
    assert {"served_tok", "pue", "chat.served_tok"} <= set(r.columns)
    # Summary: one row per point and numeric KPI; quantiles recomputed with pandas.
    n_kpis = r.shape[1] - 5
    assert len(res.summary) == 2 * n_kpis
    for (point, kpi), row in res.summary.set_index(["point", "kpi"]).iterrows():
        vals = r.loc[r["point"] == point, kpi].dropna()  # NaN: "not defined for this run"
        assert row["runs_count"] == len(vals)
        if vals.empty:
            assert math.isnan(row["p50"]) and math.isnan(row["mean"])
            continue
        assert row["p10"] == pytest.approx(vals.quantile(0.1), rel=1e-12, abs=1e-300)
        assert row["p50"] == pytest.approx(vals.median(), rel=1e-12, abs=1e-300)
        assert row["p90"] == pytest.approx(vals.quantile(0.9), rel=1e-12, abs=1e-300)
        assert row["mean"] == pytest.approx(vals.mean(), rel=1e-12, abs=1e-300)
    back = read_sweep(res.out_dir)
    pd.testing.assert_frame_equal(back.results, r)
    pd.testing.assert_frame_equal(back.summary, res.summary)
    pd.testing.assert_frame_equal(pd.read_parquet(res.out_dir / RESULTS_FILE), r)
    assert (res.out_dir / SUMMARY_FILE).is_file()
    manifest = json.loads((res.out_dir / "sweep.json").read_text())
    assert manifest["vary"] == {LIMIT: [1.1, 3.2], "horizon_s": ["1d"]}
    assert [e["run"] for e in manifest["runs"]] == r["run"].tolist()


def test_resume_skips_finished_runs(small_hall, tmp_path):
    out = tmp_path / "sw"
    first = sweep(small_hall, [f"{LIMIT}=1.1,3.2"], seeds=1, overrides=DAY, out=out, workers=0)
    assert (first.n_run, first.n_skipped) == (2, 0)
    stamps = {k: os.stat(first.run_dir(k) / "kpis.json").st_mtime_ns for k in first.results["run"]}
    # One more seed: only the two new runs are simulated; old folders are untouched.
    second = sweep(small_hall, [f"{LIMIT}=1.1,3.2"], seeds=2, overrides=DAY, out=out, workers=0)
    assert (second.n_run, second.n_skipped) == (2, 2)
    for key, stamp in stamps.items():
        assert os.stat(second.run_dir(key) / "kpis.json").st_mtime_ns == stamp
    # A damaged folder (kpis.json lost) is simulated again; the results table is complete.
    damaged = second.results["run"].iloc[0]
    (second.run_dir(damaged) / "kpis.json").unlink()
    third = sweep(small_hall, [f"{LIMIT}=1.1,3.2"], seeds=2, overrides=DAY, out=out, workers=0)
    assert (third.n_run, third.n_skipped) == (1, 3)
    pd.testing.assert_frame_equal(third.results, second.results)
    # --no-resume simulates everything again, with the same numbers.
    fourth = sweep(
        small_hall, [f"{LIMIT}=1.1,3.2"], seeds=2, overrides=DAY, out=out, workers=0, resume=False
    )
    assert (fourth.n_run, fourth.n_skipped) == (4, 0)
    pd.testing.assert_frame_equal(fourth.results, second.results)


def test_an_interrupted_sweep_keeps_finished_runs(small_hall, tmp_path):
    out = tmp_path / "sw"

    def stop_after_first(done, total):
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(
            small_hall,
            [f"{LIMIT}=1.1,3.2"],
            overrides=DAY,
            out=out,
            workers=0,
            progress=stop_after_first,
        )
    finished = [p for p in (out / RUNS_DIR).iterdir()]
    assert len(finished) == 1 and dcsim.read_run(finished[0]).kpis["served_tok"] > 0
    again = sweep(small_hall, [f"{LIMIT}=1.1,3.2"], overrides=DAY, out=out, workers=0)
    assert (again.n_run, again.n_skipped) == (1, 1)


def test_a_failing_run_does_not_stop_the_others(small_hall, tmp_path, monkeypatch):
    import dcsim.runner

    real = dcsim.runner.run

    def flaky(scenario, *, overrides=None, **kw):
        if overrides[LIMIT] == 1.1:
            raise RuntimeError("solver diverged\nsecond line")
        return real(scenario, overrides=overrides, **kw)

    monkeypatch.setattr(dcsim.runner, "run", flaky)
    res = sweep(small_hall, [f"{LIMIT}=1.1,3.2"], overrides=DAY, out=tmp_path / "sw", workers=0)
    (bad,) = [r for r in res.runs if r.values[LIMIT] == 1.1]
    assert res.failed == {bad.key: "RuntimeError: solver diverged second line"}
    assert res.n_run == 1 and res.results[LIMIT].tolist() == [3.2]
    assert not (tmp_path / "sw" / RUNS_DIR / bad.key).exists()
    # Once the cause is fixed, a resumed sweep runs only the failed point.
    monkeypatch.setattr(dcsim.runner, "run", real)
    again = sweep(small_hall, [f"{LIMIT}=1.1,3.2"], overrides=DAY, out=tmp_path / "sw", workers=0)
    assert (again.n_run, again.n_skipped, again.failed) == (1, 1, {})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_connection_fails_at_once(small_hall, tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    out = tmp_path / "sw"
    # A long timeout: the refusal is final, so the error must not wait for it (before the
    # probe, dask retried until the timeout and said "no scheduler answered within 60 s").
    with pytest.raises(ConfigError) as err:
        sweep(small_hall, None, overrides=DAY, out=out, scheduler=address, scheduler_timeout_s=60)
    assert str(err.value) == (
        f"--scheduler {address}: connection refused (no dask scheduler listens there)"
    )
    assert not out.exists()  # connected before anything was written
    with pytest.raises(ConfigError, match="--scheduler nohost: not a scheduler address"):
        sweep(small_hall, None, overrides=DAY, out=tmp_path, scheduler="nohost")


class _FakeServer:
    """A TCP listener on 127.0.0.1 that accepts and then sends ``reply`` (or nothing).

    Connections are held open until :meth:`close`; the accept loop polls a flag, so the
    thread ends within 0.1 s of closing.
    """

    def __init__(self, reply: bytes | None) -> None:
        import threading

        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.address = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.conns: list[socket.socket] = []
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(conn)
            if self.reply is not None:
                conn.sendall(self.reply)

    def close(self) -> None:
        self.stop = True
        self.thread.join(timeout=5)
        for conn in self.conns:
            conn.close()
        self.sock.close()


def _sweep_in_thread(small_hall, out, address, timeout_s):
    """Run a sweep against ``address`` in a daemon thread; return (finished, error)."""
    import threading

    box: dict[str, BaseException] = {}

    def target():
        try:
            sweep(
                small_hall,
                None,
                overrides=DAY,
                out=out,
                scheduler=address,
                scheduler_timeout_s=timeout_s,
            )
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    # Bounded: before the fix a silent scheduler hung forever; give it 30x its timeout.
    thread.join(timeout=30)
    return not thread.is_alive(), box.get("error")


def test_a_silent_listener_is_bounded_by_the_timeout(small_hall, tmp_path):
    server = _FakeServer(reply=None)  # accepts TCP, never says a word
    try:
        finished, error = _sweep_in_thread(small_hall, tmp_path / "sw", server.address, 1)
    finally:
        server.close()
    assert finished, "the handshake with a silent listener was not bounded"
    assert isinstance(error, ConfigError)
    assert str(error) == (
        f"--scheduler {server.address}: no dask scheduler answered within 1 s "
        "(connected, no handshake)"
    )
    assert not (tmp_path / "sw").exists()


def test_a_server_speaking_http_is_not_a_scheduler(small_hall, tmp_path):
    # Read as a dask frame, b"HTTP/1.1" is a length of 3.5e18 bytes = 3.07 EiB (little-endian
    # dask tried to allocate that much.
    reply = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    assert (
        int.from_bytes(reply[:8], "little") == 0x312E312F50545448
    )  # bytes 48 54 54 50 2F 31 2E 31, reversed
    server = _FakeServer(reply=reply)
    try:
        finished, error = _sweep_in_thread(small_hall, tmp_path / "sw", server.address, 5)
    finally:
        server.close()
    assert finished and isinstance(error, ConfigError)
    assert str(error) == (
        f"--scheduler {server.address}: is not a dask scheduler (its first message announces "
        "3543824036068086856 bytes; a dask handshake is under 1048576 bytes)"
    )
    assert "\n" not in str(error)


def test_the_local_cluster_listens_on_loopback_only():
    import urllib.error
    import urllib.request

    import psutil

    from dcsim.sweep import dask_client, probe_scheduler

    me = psutil.Process()
    with dask_client(1, None) as client:
        info = client.scheduler_info()
        # The scheduler's HTTP server (health, metrics) runs, but without the dashboard.
        http = f"http://127.0.0.1:{info['services']['dashboard']}"
        with urllib.request.urlopen(f"{http}/health", timeout=10) as reply:
            assert reply.read() == b"ok"
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{http}/status", timeout=10)
        assert missing.value.code == 404
        missing.value.close()  # an HTTPError is also the open response
        # The handshake probe accepts a real scheduler (the other side of the fakes above).
        probe_scheduler(info["address"], 10)
        procs = [me, *me.children(recursive=True)]
        listening = {
            (c.laddr.ip, c.laddr.port)
            for p in procs
            for c in p.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN
        }
    assert info["address"].startswith("tcp://127.0.0.1:")
    assert all(w.startswith("tcp://127.0.0.1:") for w in info["workers"])
    # Scheduler, nanny and worker at least; none on 0.0.0.0, ::, or an outside address.
    assert len(listening) >= 3
    assert {ip for ip, _ in listening} == {"127.0.0.1"}


@pytest.mark.slow
def test_a_worker_killed_mid_sweep_loses_no_finished_run(small_hall, tmp_path):
    # LocalCluster worker processes are children of this process (their nannies run here).
    killed = []

    def kill_one_worker(done, total):
        if done == 1 and not killed:
            workers = multiprocessing.active_children()
            assert workers
            os.kill(workers[0].pid, signal.SIGKILL)
            killed.append(workers[0].pid)

    res = sweep(
        small_hall,
        [f"{LIMIT}=1.1,1.3,3.2"],
        seeds=2,
        overrides=["horizon_s=2d"],
        out=tmp_path / "sw",
        workers=2,
        progress=kill_one_worker,
    )
    assert killed
    assert res.failed == {} and len(res.results) == 6
    reference = {
        r.key: dcsim.run(small_hall, overrides={"horizon_s": "2d", **r.values}, seed=r.seed).kpis
        for r in res.runs
    }
    assert_same_kpis(res.results, reference)
