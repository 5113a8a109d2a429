"""Pool tables kept between builds are the tables built afresh, bit for bit."""

from dataclasses import fields, replace

import numpy as np
import pytest

from dcsim.catalog.load import load_catalog
from dcsim.model import table_cache
from dcsim.model.pool import pool_spec
from dcsim.model.tables import PoolTables, build_pool_tables


@pytest.fixture(scope="module")
def chat_spec():
    # gw-campus's chat class: Llama-3.1-70B FP8 on GB200, TPOT 50 ms, TTFT 2 s at p99.
    return pool_spec(
        load_catalog(), "gb200-nvl72", "llama-3.1-70b", "fp8", "trtllm", 2000, 400, 0.05, 2.0,
        replica_gpus=2,
    )  # fmt: skip


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(table_cache, "cache_folder", lambda: tmp_path / "pool_tables")
    monkeypatch.setattr(table_cache, "_memory", {})
    return tmp_path / "pool_tables"


def _assert_identical(a: PoolTables, b: PoolTables) -> None:
    for f in fields(PoolTables):
        x, y = np.asarray(getattr(a, f.name)), np.asarray(getattr(b, f.name))
        # Byte equality: NaN cells (offline pools' latencies) compare equal too.
        assert x.dtype == y.dtype and x.shape == y.shape, f.name
        assert x.tobytes() == y.tobytes(), f.name


def test_tables_from_disk_and_memory_are_the_built_ones(chat_spec, cache_dir):
    fresh = build_pool_tables(chat_spec)
    first = table_cache.pool_tables(chat_spec)  # built, written
    assert [p.suffix for p in cache_dir.iterdir()] == [".npz"]
    _assert_identical(first, fresh)
    table_cache._memory.clear()
    from_disk = table_cache.pool_tables(chat_spec)
    assert from_disk is not first
    _assert_identical(from_disk, fresh)
    assert table_cache.pool_tables(chat_spec) is from_disk  # kept in memory


def test_another_pool_or_no_ttft_bound_is_another_entry(chat_spec, cache_dir):
    table_cache.pool_tables(chat_spec)
    offline = replace(chat_spec, ttft_slo_s=None)
    t = table_cache.pool_tables(offline)
    # Without a TTFT bound no request queue is tabulated: NaN latencies (build_pool_tables).
    assert np.isnan(t.ttft_p99_s).all()
    assert len(list(cache_dir.iterdir())) == 2


def test_an_unreadable_file_is_rebuilt(chat_spec, cache_dir):
    table_cache.pool_tables(chat_spec)
    (path,) = cache_dir.iterdir()
    path.write_bytes(b"not a zip file")
    table_cache._memory.clear()
    _assert_identical(table_cache.pool_tables(chat_spec), build_pool_tables(chat_spec))
    # ... and written again, readable.
    assert table_cache._read(path) is not None
