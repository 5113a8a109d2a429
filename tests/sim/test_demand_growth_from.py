"""Demand growth anchored to a date: a run that starts later continues the same curve.

small-hall's chat class at +100 % a year, noise off. Run A starts Monday 2027-01-04 for two
days; run B starts Tuesday 2027-01-05 for one day. Anchored at 2027-01-04, B's demand is A's
second day; unanchored, growth restarts at B's start, so B is A's second day divided by one
day of growth, 2^(1/365).
"""

from __future__ import annotations

import numpy as np
import pytest

import dcsim

CHAT = "workloads.chat.demand"


def _chat_demand(small_hall, start, horizon, anchor=None):
    over = {
        "start": start,
        "horizon_s": horizon,
        f"{CHAT}.growth_per_y_frac": 1.0,
        f"{CHAT}.noise_sigma_frac": 0.0,
    }
    if anchor is not None:
        over[f"{CHAT}.growth_from"] = anchor
    return dcsim.run(small_hall, overrides=over).timeseries["chat.demand_tok_per_s"]


@pytest.fixture(scope="module")
def runs(small_hall):
    a = _chat_demand(small_hall, "2027-01-04", "2d", anchor="2027-01-04")
    b_anchored = _chat_demand(small_hall, "2027-01-05", "1d", anchor="2027-01-04")
    b_restart = _chat_demand(small_hall, "2027-01-05", "1d")
    return a, b_anchored, b_restart


def test_a_late_start_continues_the_anchored_curve(runs):
    a, b, _ = runs
    second_day = a.iloc[96:]  # 15-min rows: day 2 of run A
    assert (second_day.index == b.index).all()
    np.testing.assert_allclose(b.to_numpy(), second_day.to_numpy(), rtol=1e-12)


def test_without_an_anchor_growth_restarts_at_the_start(runs):
    a, _, restart = runs
    # One day of +100 %/y growth: 2^(1/365) = 1.001901.
    np.testing.assert_allclose(
        restart.to_numpy() * 2.0 ** (1.0 / 365.0), a.iloc[96:].to_numpy(), rtol=1e-12
    )


def test_anchor_at_the_start_changes_nothing(small_hall, runs):
    a, _, _ = runs
    plain = _chat_demand(small_hall, "2027-01-04", "2d")
    np.testing.assert_allclose(plain.to_numpy(), a.to_numpy(), rtol=1e-15)
