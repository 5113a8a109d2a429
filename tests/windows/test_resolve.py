"""Window rules resolved on hand-built series; dated windows against the horizon."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pytest

from dcsim.errors import ConfigError
from dcsim.scenario.windows_schema import Window
from dcsim.windows.resolve import (
    RuleInputs,
    clock_hour_argmax,
    hour_means,
    resolve_window,
    window_spans,
)


def test_clock_hour_argmax_hand_series():
    # 4 ticks per hour; hour means 1, 2.5, 4, 3 (last partial hour: (3 + 3) / 2): hour 2.
    series = np.array([1, 1, 1, 1, 2, 3, 2, 3, 4, 4, 4, 4, 3, 3], dtype=float)
    assert clock_hour_argmax(series, 4) == (8, 4.0)
    # A tie goes to the earliest hour; a single spike does not beat a higher mean hour.
    assert clock_hour_argmax(np.array([2, 2, 0, 4, 2, 2, 2, 2.0]), 4)[0] == 0


def _plant(n_ticks=24 * 60, tick_s=60.0):
    return SimpleNamespace(
        tick_s=tick_s, n_ticks=n_ticks, class_names=["chat", "batch"],
        start=dt.datetime(2027, 1, 4),
    )  # fmt: skip


def _inputs(demand, contract=100e6, avail=None):
    # What rule_inputs keeps of a run: hour means (1-minute ticks, 60 per hour) of the
    # demand and of the curtailed power (contract minus import available).
    avail = np.full(demand.shape[1], contract) if avail is None else avail
    curtailed = np.maximum(contract - avail, 0.0)
    return RuleInputs(60, hour_means(demand, 60), hour_means(curtailed, 60))


def test_hour_means_by_hand():
    # 4 ticks per hour: means 1, 2.5, 4 and the last partial hour (3 + 3) / 2 = 3.
    series = np.array([1, 1, 1, 1, 2, 3, 2, 3, 4, 4, 4, 4, 3, 3], dtype=float)
    np.testing.assert_array_equal(hour_means(series, 4), [1.0, 2.5, 4.0, 3.0])
    np.testing.assert_array_equal(hour_means(np.vstack([series, 2 * series]), 4)[1], [2, 5, 8, 6])


def test_peak_rule_starts_on_the_peak_hour():
    n = 24 * 60
    demand = np.ones((2, n))
    demand[0, 14 * 60 + 5 : 14 * 60 + 50] = 3.0  # the peak falls in 14:00-15:00
    demand[1, 3 * 60 : 4 * 60] = 9.0  # another class's peak does not count
    win = Window(name="w", start="peak:chat", duration_s=1800, warmup_s=600)
    assert resolve_window(win, 0, _plant(), _inputs(demand)) == (14 * 60, 30)
    # The span to record holds the 10-minute warm-up before it.
    assert window_spans([win], _plant(), _inputs(demand)) == [(14 * 60 - 10, 40)]


def test_rule_window_at_the_end_moves_back_inside():
    n = 24 * 60
    demand = np.ones((2, n))
    demand[0, 23 * 60 :] = 2.0
    win = Window(name="w", start="peak:chat", duration_s=7200)
    assert resolve_window(win, 0, _plant(), _inputs(demand)) == (22 * 60, 120)


def test_curtailment_rule_finds_the_deepest_hour():
    n = 24 * 60
    avail = np.full(n, 100e6)
    avail[6 * 60 : 8 * 60] = 80e6  # 20 MW for two hours
    avail[17 * 60 + 30 : 18 * 60] = 40e6  # 60 MW for half an hour: mean 30 MW over 17:00
    win = Window(name="w", start="curtailment:deepest")
    assert resolve_window(win, 3, _plant(), _inputs(np.ones((2, n)), avail=avail)) == (17 * 60, 60)


def test_no_curtailment_is_a_rule_without_match():
    win = Window(name="w", start="curtailment:deepest")
    with pytest.raises(ConfigError) as err:
        resolve_window(win, 2, _plant(), _inputs(np.ones((2, 24 * 60))))
    assert str(err.value) == (
        "windows.2.start: rule 'curtailment:deepest' has no match: no curtailment in the run "
        "(no grid curtailment or disconnect in the horizon); give a date-time or add "
        "curtailment events"
    )


def test_class_without_demand_is_a_rule_without_match():
    demand = np.ones((2, 24 * 60))
    demand[0] = 0.0
    win = Window(name="w", start="peak:chat")
    with pytest.raises(ConfigError, match="rule 'peak:chat' has no match: class 'chat' has no"):
        resolve_window(win, 0, _plant(), _inputs(demand))


def test_dated_window_in_ticks_and_outside():
    win = Window(name="w", start="2027-01-04T06:30", duration_s=3600)
    assert resolve_window(win, 0, _plant(), None) == (390, 60)
    late = Window(name="w", start="2027-01-04T23:30", duration_s=3600)
    with pytest.raises(ConfigError, match="outside the horizon 2027-01-04 to 2027-01-05"):
        resolve_window(late, 0, _plant(), None)
