"""Shared paths and cached short runs for the integration tests.

pytest runs with ``--import-mode=importlib``, so test modules cannot import this file; they
get what they share through the fixtures below. The cached runs are session-scoped: a test
that reads them must not modify them (copy a frame before changing it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    """Root of the checkout (holds scenarios/ and dcsim/)."""
    return REPO


@pytest.fixture(scope="session")
def small_hall() -> Path:
    """scenarios/small-hall.yaml: 1 hall, 12 chat + 4 batch GB200 NVL72 racks, 7 days."""
    return REPO / "scenarios" / "small-hall.yaml"


@pytest.fixture(scope="session")
def gw_campus() -> Path:
    """scenarios/gw-campus.yaml: 16 halls, 6,400 NVL72 racks, one year."""
    return REPO / "scenarios" / "gw-campus.yaml"


@pytest.fixture(scope="session")
def small_hall_1d(small_hall):
    """small-hall over one day (96 rows of 15 min) with its own seed (7)."""
    import dcsim

    return dcsim.run(small_hall, overrides={"horizon_s": "1d"})


@pytest.fixture(scope="session")
def small_hall_tight(small_hall):
    """small-hall over one day under a 1.2 MW site import limit (site "main").

    Uncapped, the hall draws about 1.3 MW on average and 1.4 MW at peak at the meter, so the
    limit binds for most of the day and the caps must act.
    """
    import dcsim

    return dcsim.run(small_hall, overrides={"horizon_s": "1d", "sites.main.import_limit_mw": 1.1})
