"""Schema of a run's event table (``events.parquet``), shared by the recorder and results.

The recorder (:mod:`dcsim.sim.recorder`) builds the table and the results layer reads and
writes it; both take its columns from here, below both in the import arrows.
"""

from __future__ import annotations

#: Columns of the events table, in order, with their pandas dtype.
EVENT_COLUMNS: dict[str, str] = {
    "time": "datetime64[us]",
    "kind": "str",
    "asset": "str",
    "detail": "str",
    "value": "float64",
}
