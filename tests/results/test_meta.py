import hashlib
import json
import re
import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from dcsim.results import meta
from dcsim.results.meta import build_metadata, git_sha, run_id, scenario_hash

REPO = str(Path(__file__).resolve().parents[2])  # this checkout, wherever it is
HASH = hashlib.sha256(b"name: tiny\n").hexdigest()


def test_scenario_hash_is_sha256_of_utf8_text():
    # Independent reference: the SHA-256 of the empty string is a published test vector.
    assert scenario_hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    text = "name: Zürich\npower_mw: 10\n"
    assert scenario_hash(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    # One changed byte changes the hash: no normalisation happens.
    assert scenario_hash(text) != scenario_hash(text.replace("\n", "\r\n"))


def test_run_id_format_and_determinism():
    now = datetime(2026, 11, 22, 0, 40, 12, 999_999, tzinfo=UTC)
    rid = run_id("gw-campus", 42, "1a2b3c4d" + "0" * 56, now)
    # The example of the design brief, character for character (sub-seconds truncated).
    assert rid == "20261122T004012Z-s42-1a2b3c4d"
    assert run_id("gw-campus", 42, "1a2b3c4d" + "0" * 56, now) == rid
    assert re.fullmatch(r"\d{8}T\d{6}Z-s-?\d+-[0-9a-f]{8}", run_id("x", -7, HASH, now))


def test_run_id_converts_to_utc():
    # 01:40:12 at UTC+1 is 00:40:12 UTC.
    cet = timezone(timedelta(hours=1))
    now = datetime(2026, 11, 22, 1, 40, 12, tzinfo=cet)
    assert run_id("s", 1, HASH, now).startswith("20261122T004012Z-")


def test_run_ids_sort_chronologically():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # Offsets chosen to cross second, minute, day, month and year boundaries, where a
    # non-zero-padded or local-time id would sort wrongly.
    offsets_s = [0, 9, 10, 59, 60, 3599, 86_399, 86_400, 31 * 86_400, 400 * 86_400]
    times = [start + timedelta(seconds=s) for s in offsets_s]
    ids = [
        run_id("s", seed, HASH, t)
        for seed, t in zip([5, 100, 3, 42, 0, 9, 1, 77, 8, 2], times, strict=True)
    ]
    assert sorted(ids) == ids
    assert len(set(ids)) == len(ids)


def test_run_id_differs_by_seed_and_hash_within_a_second():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    other_hash = hashlib.sha256(b"name: other\n").hexdigest()
    ids = {run_id("s", 1, HASH, now), run_id("s", 2, HASH, now), run_id("s", 1, other_hash, now)}
    assert len(ids) == 3


def test_run_id_accepts_numpy_seed_and_rejects_bad_input():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert run_id("s", np.int64(3), HASH, now) == run_id("s", 3, HASH, now)
    with pytest.raises(ValueError, match="timezone-aware"):
        run_id("s", 1, HASH, datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="hex"):
        run_id("s", 1, "XYZ", now)
    with pytest.raises(ValueError, match="folder name"):
        run_id("../evil", 1, HASH, now)
    with pytest.raises(TypeError, match="integer"):
        run_id("s", 1.5, HASH, now)
    with pytest.raises(TypeError, match="integer"):
        run_id("s", True, HASH, now)


def test_git_sha_none_outside_a_repository(tmp_path, monkeypatch):
    # Stop git's upward search at tmp_path, in case the temp dir sits inside some checkout.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert git_sha(tmp_path) is None
    assert meta.git_dirty(tmp_path) is None


def test_git_sha_none_for_missing_folder_and_missing_git(tmp_path, monkeypatch):
    assert git_sha(tmp_path / "does-not-exist") is None
    monkeypatch.setenv("PATH", str(tmp_path))  # no git executable on PATH
    assert git_sha(REPO) is None


def test_git_sha_inside_the_checkout():
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    sha = git_sha(REPO)
    if sha is None:
        pytest.skip(f"{REPO} has no commits (or is not a checkout)")
    assert re.fullmatch(r"[0-9a-f]{40}", sha)
    # The default path (the package's folder) belongs to the same checkout.
    assert git_sha() == sha
    assert isinstance(meta.git_dirty(REPO), bool)


def test_build_metadata_contents():
    started = datetime(2026, 11, 22, 0, 40, 12, 500_000, tzinfo=UTC)
    md = build_metadata(42, HASH, 12.5, started, {"run_id": "r1", "scenario_name": "tiny"})
    assert md["seed"] == 42
    assert md["scenario_hash"] == HASH
    assert md["wall_time_s"] == 12.5
    assert md["started_utc"] == "2026-11-22T00:40:12.500000Z"
    assert md["run_id"] == "r1" and md["scenario_name"] == "tiny"
    assert md["numpy_version"] == np.__version__
    import numba

    assert md["numba_version"] == numba.__version__
    assert re.fullmatch(r"3\.\d+\.\d+.*", md["python_version"])
    assert isinstance(md["dcsim_version"], str) and md["dcsim_version"]
    assert md["platform"]
    assert md["git_sha"] is None or re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", md["git_sha"])
    # Everything must survive strict JSON, since it becomes metadata.json.
    assert json.loads(json.dumps(md, allow_nan=False)) == md


def test_build_metadata_rejects_naive_time_and_key_clash():
    with pytest.raises(ValueError, match="timezone-aware"):
        build_metadata(1, HASH, 1.0, datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="seed"):
        build_metadata(1, HASH, 1.0, datetime(2026, 1, 1, tzinfo=UTC), {"seed": 2})


def test_dcsim_version_fallbacks(monkeypatch):
    import importlib.metadata

    import dcsim

    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    monkeypatch.delattr(dcsim, "__version__", raising=False)
    assert meta.dcsim_version() == "0+unknown"
    monkeypatch.setattr(dcsim, "__version__", "9.9.9", raising=False)
    assert meta.dcsim_version() == "9.9.9"
