"""Grid events reach the run's event table (events.parquet) with their times and values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import dcsim
from dcsim import units

REPO = Path(__file__).resolve().parents[2]
#: small-hall's clock (site "main", utc_offset_h: -5): scenario dates are wall-clock times
#: there, the event table is stamped in UTC.
CLOCK = "UTC-05:00"

# small-hall (one site "main", 3.2 MW import limit, start 2027-01-04) with a contract of
# 2 MW firm + 1.2 MW non-firm, one scheduled curtailment of 0.5 MW for 2 h on day 1 and a
# 30-minute disconnect on day 2.
GRID = {
    "firm_mw": 2.0,
    "nonfirm_mw": 1.2,
    "curtailment": {"events": [{"start": "2027-01-05T10:00", "duration_s": "2h", "depth_mw": 0.5}]},
    "disconnects": [{"start": "2027-01-06T15:00", "duration_s": "30min"}],
}


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    res = dcsim.run(
        REPO / "scenarios" / "small-hall.yaml",
        overrides={"horizon_s": "3d", "sites.main.grid": GRID},
    )
    return res.events


def test_curtailment_start_and_end_are_logged(events):
    cur = events[events["kind"].str.startswith("grid_curtailment")].reset_index(drop=True)
    assert cur["kind"].tolist() == ["grid_curtailment_start", "grid_curtailment_end"]
    assert cur["time"].tolist() == [
        pd.Timestamp("2027-01-05T10:00", tz=CLOCK),
        pd.Timestamp("2027-01-05T12:00", tz=CLOCK),
    ]
    assert (cur["asset"] == "main").all()
    assert cur["detail"].tolist() == ["scheduled", "scheduled"]
    # Depth 0.5 MW, below the 1.2 MW non-firm block, so curtailed as given [W].
    assert cur["value"].tolist() == [0.5 * units.MW_W, 0.0]


def test_disconnect_start_and_end_are_logged(events):
    dis = events[events["kind"].str.startswith("grid_disconnect")].reset_index(drop=True)
    assert dis["kind"].tolist() == ["grid_disconnect_start", "grid_disconnect_end"]
    assert dis["time"].tolist() == [
        pd.Timestamp("2027-01-06T15:00", tz=CLOCK),
        pd.Timestamp("2027-01-06T15:30", tz=CLOCK),
    ]
    # The import lost is the whole contract, 2 + 1.2 = 3.2 MW [W].
    assert dis["value"].tolist() == [pytest.approx(3.2 * units.MW_W), 0.0]


def test_event_table_stays_in_time_order(events):
    assert events["time"].is_monotonic_increasing
