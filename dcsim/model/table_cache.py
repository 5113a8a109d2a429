"""Pool tables kept between builds: a pool's tables are a function of its parameter vector.

:func:`dcsim.model.tables.build_pool_tables` runs ~1,700 operating points per pool (41 x 41
bisections of the batch, 21 x 101 latency points), ~0.3-1 s per pool: most of building the
gw-campus plant. A sweep, a notebook, a second run in one process or the next ``dcsim run``
builds the same pools again. The tables depend only on the pool's parameter vector
(``spec.to_params()``), on whether the pool has a TTFT bound, and on the code that computes
them, so they are kept

- in memory for the process, and
- on disk beside the compiled kernels, in ``kernel_cache_dir() / "pool_tables"``: that
  folder is named by a digest of every compiled source (:mod:`dcsim.kernels`), and each file
  by a digest of the parameter vector and of ``model/tables.py``, so an edit of the physics,
  the kernels or the table code can never load tables computed by other code.

A file that cannot be read is rebuilt; a folder that cannot be written is skipped (the tables
are then computed each time). The tables read back are the float64 arrays written, bit for
bit.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import fields
from pathlib import Path

import numpy as np

from dcsim.errors import ConfigError
from dcsim.model.pool import PoolSpec
from dcsim.model.tables import PoolTables, build_pool_tables

__all__ = ["pool_tables"]

_TABLES_SOURCE = Path(__file__).with_name("tables.py")
_memory: dict[str, PoolTables] = {}
#: Pools kept in memory at most (~0.1 MB each); the oldest goes first.
_MEMORY_POOLS = 64
_code_digest: list[bytes] = []


def cache_folder() -> Path:
    """Folder of the pool tables on disk (beside the kernels compiled from these sources)."""
    from dcsim.kernels import kernel_cache_dir

    return kernel_cache_dir() / "pool_tables"


def _key(params: np.ndarray, bounded: bool) -> str:
    if not _code_digest:
        _code_digest.append(hashlib.sha256(_TABLES_SOURCE.read_bytes()).digest())
    sha = hashlib.sha256(_code_digest[0])
    sha.update(np.ascontiguousarray(params, dtype=np.float64).tobytes())
    sha.update(b"ttft-bound" if bounded else b"no-ttft-bound")
    return sha.hexdigest()[:32]


def _read(path: Path) -> PoolTables | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            values = {f.name: data[f.name] for f in fields(PoolTables)}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    return PoolTables(**{k: (v.copy() if v.ndim else float(v)) for k, v in values.items()})


def _write(path: Path, tables: PoolTables) -> None:
    from dcsim.fileio import write_bytes_atomic

    buf = io.BytesIO()
    np.savez(buf, **{f.name: np.asarray(getattr(tables, f.name)) for f in fields(PoolTables)})
    try:
        write_bytes_atomic(buf.getvalue(), path)
    except ConfigError:
        pass  # a read-only cache folder: the tables are computed each time


def pool_tables(spec: PoolSpec) -> PoolTables:
    """The tables of a pool, as :func:`~dcsim.model.tables.build_pool_tables`, kept.

    Parameters
    ----------
    spec
        The pool.

    Returns
    -------
    The pool's tables (shared between the plants that hold the same pool; nothing writes
    them).
    """
    key = _key(spec.to_params(), spec.ttft_slo_s is not None)
    tables = _memory.get(key)
    if tables is not None:
        return tables
    path = cache_folder() / f"{key}.npz"
    tables = _read(path) if path.is_file() else None
    if tables is None:
        tables = build_pool_tables(spec)
        _write(path, tables)
    _memory[key] = tables
    if len(_memory) > _MEMORY_POOLS:
        del _memory[next(iter(_memory))]
    return tables
