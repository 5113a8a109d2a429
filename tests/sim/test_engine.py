"""The engine on small-hall: reproducibility, conservation, limits, event timing, recording.

These are invariants of the whole chain (demand -> dispatch -> power chain -> recorder ->
KPIs), so the expected values come from the model's own definitions, not from a fit:
``facility = IT + cooling + losses`` exactly, served <= capacity, limits never exceeded,
tokens neither created nor lost, a row holds the time-weighted mean of its ticks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dcsim

#: Relative slack for sums of float64 terms in a different order (~1e-16 per operation).
REL = 1e-9
#: A constant recorded as the sum of n ticks weighted 1/n is itself to a few ulps.
CONST = 1e-13
GROUP = "sites.main.buildings.b1.halls.h1.rack_groups"
#: small-hall's clock: its site's local standard time (utc_offset_h: -5); runs stamp UTC.
CLOCK = "UTC-05:00"


def _wall(at: pd.Timestamp) -> str:
    """A scenario date (wall clock of the campus, no offset) for an aware time stamp."""
    return at.tz_convert(CLOCK).tz_localize(None).isoformat()


def lost_share(ts: pd.DataFrame, cls: str) -> float:
    """Share of a class's demand not served over the run (all rows are 15 min here)."""
    return 1.0 - ts[f"{cls}.served_tok_per_s"].sum() / ts[f"{cls}.demand_tok_per_s"].sum()


# --------------------------------------------------------------------------- reproducibility


def test_same_seed_is_bit_identical(small_hall, small_hall_1d):
    again = dcsim.run(small_hall, overrides={"horizon_s": "1d"})
    pd.testing.assert_frame_equal(again.timeseries, small_hall_1d.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(again.events, small_hall_1d.events, check_exact=True)
    for name, table in small_hall_1d.extra_tables.items():
        pd.testing.assert_frame_equal(again.extra_tables[name], table, check_exact=True)
    assert again.kpis == small_hall_1d.kpis


def test_same_seed_with_events_is_bit_identical(small_hall):
    over = {"horizon_s": "1d", f"{GROUP}.batch.in_service": "2027-01-04T12:00"}
    a = dcsim.run(small_hall, overrides=over, seed=3)
    b = dcsim.run(small_hall, overrides=over, seed=3)
    assert len(a.events) == 1
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(a.events, b.events, check_exact=True)


def test_another_seed_changes_the_noisy_demand(small_hall, small_hall_1d):
    other = dcsim.run(small_hall, overrides={"horizon_s": "1d"}, seed=8)
    assert small_hall_1d.meta["seed"] == 7 and other.meta["seed"] == 8
    a = small_hall_1d.timeseries
    b = other.timeseries
    # chat has 5 % lognormal noise: every 15-min mean differs; batch has none: identical.
    assert np.all(a["chat.demand_tok_per_s"] != b["chat.demand_tok_per_s"])
    pd.testing.assert_series_equal(
        a["batch.demand_tok_per_s"], b["batch.demand_tok_per_s"], check_exact=True
    )
    # The noise is small and mean-preserving: the day's chat demand moves by a few percent.
    ratio = b["chat.demand_tok_per_s"].sum() / a["chat.demand_tok_per_s"].sum()
    assert 0.9 < ratio < 1.1


# --------------------------------------------------------------------------- conservation


@pytest.mark.parametrize("case", ["uncapped", "tight"])
def test_energy_balance_closes_in_every_row(case, small_hall_1d, small_hall_tight):
    res = small_hall_1d if case == "uncapped" else small_hall_tight
    ts = res.timeseries
    parts = ts["it_power_w"] + ts["cooling_power_w"] + ts["losses_power_w"]
    np.testing.assert_allclose(ts["facility_power_w"], parts, rtol=REL, atol=0)
    # No on-site supply yet: the meter sees the whole facility.
    np.testing.assert_allclose(ts["grid_import_w"], ts["facility_power_w"], rtol=REL, atol=0)
    assert 0 <= res.kpis["energy_balance_residual_frac"] < 1e-9
    # Every term is a real draw: positive IT, cooling and losses.
    assert (ts["it_power_w"] > 0).all() and (ts["cooling_power_w"] > 0).all()
    assert (ts["losses_power_w"] > 0).all()


def test_kpi_energies_are_the_integrals_of_the_rows(small_hall_1d):
    ts, k = small_hall_1d.timeseries, small_hall_1d.kpis
    # 96 rows of 900 s.
    assert len(ts) == 96
    for kpi, col in [
        ("facility_energy_j", "facility_power_w"),
        ("it_energy_j", "it_power_w"),
        ("served_tok", "served_tok_per_s"),
        ("demand_tok", "demand_tok_per_s"),
    ]:
        assert k[kpi] == pytest.approx(ts[col].sum() * 900.0, rel=1e-12)
    assert k["pue"] == pytest.approx(k["facility_energy_j"] / k["it_energy_j"], rel=1e-12)
    assert k["pue"] > 1.0


@pytest.mark.parametrize("case", ["uncapped", "tight"])
def test_served_never_exceeds_capacity_or_interactive_demand(case, small_hall_1d, small_hall_tight):
    ts = (small_hall_1d if case == "uncapped" else small_hall_tight).timeseries
    slack = 1.0 + 1e-12
    assert (ts["served_tok_per_s"] <= ts["capacity_tok_per_s"] * slack).all()
    for cls in ("chat", "batch"):
        assert (ts[f"{cls}.served_tok_per_s"] <= ts[f"{cls}.capacity_tok_per_s"] * slack).all()
    # chat is interactive (no backlog): it can serve at most what is asked now.
    assert (ts["chat.served_tok_per_s"] <= ts["chat.demand_tok_per_s"] * slack).all()
    assert (ts["chat.backlog_tok"] == 0).all()
    # Campus columns are the sums of the class columns.
    for col in ("served_tok_per_s", "demand_tok_per_s", "capacity_tok_per_s", "backlog_tok"):
        np.testing.assert_allclose(
            ts[col], ts[f"chat.{col}"] + ts[f"batch.{col}"], rtol=1e-12, atol=1e-6
        )


def test_deferred_tokens_are_conserved(small_hall):
    # Record every tick, so the last row's backlog is the backlog at the end of the run.
    # Over 2 days under a tight limit the 24 h deadline expires part of the batch backlog:
    # demand = served + expired (unserved) + backlog left, token for token.
    res = dcsim.run(
        small_hall,
        overrides={
            "horizon_s": "2d",
            "record_every_s": "1min",
            "hall_record_every_s": "1min",
            "sites.main.import_limit_mw": 1.0,
        },
    )
    ts = res.timeseries
    dt_s = 60.0
    demand = ts["batch.demand_tok_per_s"].sum() * dt_s
    served = ts["batch.served_tok_per_s"].sum() * dt_s
    expired = ts["batch.unserved_tok_per_s"].sum() * dt_s
    left = ts["batch.backlog_tok"].iloc[-1]
    assert expired > 0 and left > 0  # both paths are exercised
    assert served + expired + left == pytest.approx(demand, rel=1e-9)
    # Served never exceeds what was asked so far: cumulative demand bounds cumulative served.
    cum_d = ts["batch.demand_tok_per_s"].cumsum() * dt_s
    cum_s = ts["batch.served_tok_per_s"].cumsum() * dt_s
    assert (cum_s <= cum_d * (1 + 1e-12)).all()


# --------------------------------------------------------------------------- limits


def test_limits_hold_without_capping(small_hall_1d):
    k = small_hall_1d.kpis
    assert k["max_power_to_limit_frac"] <= 1.0 + 1e-9
    halls = small_hall_1d.extra_tables["hall_timeseries"]
    assert (halls["ups_output_w"] <= 2.4e6).all()
    assert (small_hall_1d.timeseries["facility_power_w"] <= 3.2e6).all()
    # The stock hall is sized with headroom: caps never bite, nothing is withheld.
    assert k["power_capped_h"] == 0.0
    assert k["power_capped_tok"] < 1e-6 * k["served_tok"]


def test_tight_import_limit_caps_batch_before_chat(small_hall_tight, small_hall_1d):
    k = small_hall_tight.kpis
    ts = small_hall_tight.timeseries
    limit_w = 1.1e6
    # The limit holds at every tick (KPI) and therefore in every 15-min mean (rows).
    assert k["max_power_to_limit_frac"] <= 1.0 + 1e-9
    assert (ts["facility_power_w"] <= limit_w * (1 + 1e-9)).all()
    # Uncapped, the same day peaks above the limit: the caps did the work.
    assert small_hall_1d.kpis["peak_facility_power_w"] > limit_w
    assert k["power_capped_tok"] > 0
    assert k["power_capped_h"] > 0
    # Same demand (same seed): capping changes what is served, not what is asked.
    np.testing.assert_array_equal(
        ts["demand_tok_per_s"], small_hall_1d.timeseries["demand_tok_per_s"]
    )
    # Lowest priority first: batch (priority 1) loses a larger share than chat (3).
    batch_lost = lost_share(ts, "batch")
    chat_lost = lost_share(ts, "chat")
    assert batch_lost > chat_lost
    assert batch_lost > 0.01
    # With the fabric, storage and management load outside the racks, the excess over the
    # limit at the uncapped peak is larger than what parking the 4 batch racks saves in IT
    # power: batch is parked first, and chat is capped for the rest, by less.
    pools = small_hall_tight.extra_tables["pools"].set_index("pool")
    batch_pool = pools.loc["batch@gb200-nvl72"]
    sheddable_it_w = 4 * (batch_pool["rack_power_full_w"] - batch_pool["rack_power_idle_w"])
    assert small_hall_1d.kpis["peak_facility_power_w"] - limit_w > sheddable_it_w
    # Chat's cap slows it without losing tokens: its lost share is 0 to rounding (1e-16).
    assert -1e-12 < chat_lost < batch_lost
    # Tokens withheld by caps are tokens not served relative to the uncapped run.
    assert k["served_tok"] < small_hall_1d.kpis["served_tok"]


def test_tight_hall_feed_caps_at_the_ups_output(small_hall):
    # A 1.0 MW feed under 16 racks of 132 kW design needs allow_oversubscription; the caps
    # then keep the UPS output at or below 1.0 MW in every tick.
    res = dcsim.run(
        small_hall,
        overrides={
            "horizon_s": "1d",
            "allow_oversubscription": True,
            "sites.main.buildings.b1.halls.h1.feed_mw": 1.0,
        },
    )
    assert res.kpis["max_power_to_limit_frac"] <= 1.0 + 1e-9
    halls = res.extra_tables["hall_timeseries"]
    assert (halls["ups_output_w"] <= 1.0e6 * (1 + 1e-9)).all()
    assert res.kpis["power_capped_tok"] > 0
    # UPS output = IT + PDU loss, so IT stays below the feed as well.
    assert (halls["it_power_w"] < halls["ups_output_w"]).all()
    # Mean cap of the racks is below 1 in some hour (1 = uncapped).
    assert halls["cap_frac"].min() < 1.0


# --------------------------------------------------------------------------- events


def test_racks_enter_service_at_their_date(small_hall):
    # The 4 batch racks (4 x 72 = 288 GPUs) join the 12 chat racks (864 GPUs) at 06:00 on
    # day 2: the 15-min row of 06:00 is the first with 16 x 72 = 1152 GPUs.
    at = pd.Timestamp("2027-01-05T06:00", tz=CLOCK)
    res = dcsim.run(
        small_hall, overrides={"horizon_s": "2d", f"{GROUP}.batch.in_service": _wall(at)}
    )
    gpus = res.timeseries["gpus_in_service_count"]
    # Rows are sums of 15 weights of 1/15: equal to the constant within float rounding.
    np.testing.assert_allclose(gpus[gpus.index < at], 12 * 72, rtol=CONST)
    np.testing.assert_allclose(gpus[gpus.index >= at], 16 * 72, rtol=CONST)
    assert gpus.loc[at] == pytest.approx(1152.0, rel=CONST)
    ev = res.events
    assert list(ev["kind"]) == ["racks_in_service"]
    assert ev["time"].iloc[0] == at
    assert ev["asset"].iloc[0] == "main/b1/h1/batch"
    assert ev["value"].iloc[0] == 4.0
    # Before the racks arrive, batch has no capacity and its demand waits in the backlog.
    ts = res.timeseries
    assert (ts.loc[ts.index < at, "batch.capacity_tok_per_s"] == 0).all()
    assert (ts.loc[ts.index < at, "batch.served_tok_per_s"] == 0).all()
    assert ts["batch.backlog_tok"].loc[at - pd.Timedelta("15min")] > 0


def test_entry_inside_a_row_gives_the_time_weighted_mean(small_hall):
    # Entry at 06:05: of the 15 ticks of the 06:00 row, 5 run with 864 GPUs and 10 with
    # 1152, so the row's mean is (5 x 864 + 10 x 1152) / 15 = 1056.
    at = pd.Timestamp("2027-01-05T06:05", tz=CLOCK)
    res = dcsim.run(
        small_hall, overrides={"horizon_s": "2d", f"{GROUP}.batch.in_service": _wall(at)}
    )
    gpus = res.timeseries["gpus_in_service_count"]
    assert gpus.loc[pd.Timestamp("2027-01-05T06:00", tz=CLOCK)] == pytest.approx(1056.0, rel=1e-12)
    assert gpus.loc[pd.Timestamp("2027-01-05T05:45", tz=CLOCK)] == pytest.approx(864.0, rel=CONST)
    assert gpus.loc[pd.Timestamp("2027-01-05T06:15", tz=CLOCK)] == pytest.approx(1152.0, rel=CONST)
    assert res.events["time"].iloc[0] == at


def test_racks_due_after_the_horizon_never_serve(small_hall):
    # Batch racks due on day 3 of a 1-day run: no event, 12 x 72 GPUs all day, and the batch
    # demand (sized on all 4 racks) waits in the backlog.
    res = dcsim.run(
        small_hall, overrides={"horizon_s": "1d", f"{GROUP}.batch.in_service": "2027-01-06"}
    )
    ts = res.timeseries
    assert res.events.empty
    np.testing.assert_allclose(ts["gpus_in_service_count"], 12 * 72, rtol=CONST)
    assert (ts["batch.capacity_tok_per_s"] == 0).all()
    assert (ts["batch.served_tok_per_s"] == 0).all()
    assert (ts["batch.demand_tok_per_s"] > 0).all()
    assert ts["batch.backlog_tok"].is_monotonic_increasing


# --------------------------------------------------------------------------- recording


def test_partial_last_row_is_a_mean(small_hall):
    # 1 day = 1440 ticks; 7-minute rows give 205 full rows and a last row of 5 ticks.
    seven = dcsim.run(
        small_hall,
        overrides={"horizon_s": "1d", "record_every_s": "7min", "hall_record_every_s": "7min"},
    )
    one = dcsim.run(
        small_hall,
        overrides={"horizon_s": "1d", "record_every_s": "1min", "hall_record_every_s": "1min"},
    )
    ts7, ts1 = seven.timeseries, one.timeseries
    assert len(ts7) == 206 and len(ts1) == 1440
    assert ts7.index[-1] == pd.Timestamp("2027-01-04T23:55", tz=CLOCK)  # 205 x 7 min
    # A constant stays itself in the short row (a scaled sum would give 1152 x 5/7).
    assert ts7["gpus_in_service_count"].iloc[-1] == pytest.approx(1152.0, rel=CONST)
    # The short row is the mean of its 5 ticks, as recorded one by one.
    for col in ("it_power_w", "facility_power_w", "served_tok_per_s", "chat.demand_tok_per_s"):
        assert ts7[col].iloc[-1] == pytest.approx(ts1[col].iloc[-5:].mean(), rel=1e-12)
        # and a full row is the mean of its 7.
        assert ts7[col].iloc[10] == pytest.approx(ts1[col].iloc[70:77].mean(), rel=1e-12)
    # KPIs weigh the short row by its 300 s: both runs integrate to the same totals.
    for kpi in ("served_tok", "facility_energy_j", "it_energy_j", "mean_gpus_in_service_count"):
        assert seven.kpis[kpi] == pytest.approx(one.kpis[kpi], rel=1e-12)
    h7 = seven.extra_tables["hall_timeseries"]
    h1 = one.extra_tables["hall_timeseries"]
    assert h7["ups_output_w"].iloc[-1] == pytest.approx(
        h1["ups_output_w"].iloc[-5:].mean(), rel=1e-12
    )
    assert h7["serving_racks_count"].iloc[-1] == pytest.approx(16.0, rel=CONST)
