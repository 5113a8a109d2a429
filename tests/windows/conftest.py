"""Shared runs of the window tests: a short small-hall run with a window on its peak hour."""

from __future__ import annotations

import pytest

#: A short small-hall run with a 30-minute window on its peak chat hour, 4 replicas.
WINDOW_OVERRIDES = {
    "horizon_s": "1d",
    "windows": [{"name": "pk", "start": "peak:chat", "duration_s": "30min", "replicas_count": 4}],
}


@pytest.fixture
def window_overrides():
    """Overrides of small-hall for the short window run (a copy per test)."""
    import copy

    return copy.deepcopy(WINDOW_OVERRIDES)


@pytest.fixture(scope="module")
def window_run(small_hall, tmp_path_factory):
    """The short window run, written to a run folder (``meta['run_dir']``)."""
    import dcsim

    root = tmp_path_factory.mktemp("runs")
    return dcsim.run(small_hall, overrides=WINDOW_OVERRIDES, write=True, root=root)
