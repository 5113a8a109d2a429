"""Halls that are not energised draw nothing; energised but not cooled, only their UPS no-load.

One site, two halls: h0 serves from the start, h1 is built by a phase (energised on day 2,
cooling commissioned on day 4). The recorded losses of a tick are recomputed by hand from the
physics functions and the recorded hall powers: PDU + UPS of every energised hall at its
UPS output, plus the site transformer at the sum of what passes it.
"""

from __future__ import annotations

import numpy as np
import pytest

from dcsim import units
from dcsim.catalog.load import load_catalog
from dcsim.kernels import layout as L
from dcsim.model.capacity import build_capacity_plan
from dcsim.model.plant import build_plant
from dcsim.physics.power_chain import pdu_loss_w, transformer_loss_w, ups_loss_w
from dcsim.scenario.buildout_schema import Buildout
from dcsim.scenario.schema import Scenario
from dcsim.sim.engine import simulate

D = units.D_S


def _scenario() -> Scenario:
    def hall(name, group, count):
        return {
            "name": name,
            "feed_mw": 2.0,
            "rack_groups": [
                {"name": group, "system": "gb200-nvl72", "count": count, "workload": "batch"}
            ],
        }

    return Scenario.model_validate(
        {
            "name": "two-halls",
            "start": "2027-01-01",
            "horizon_s": "6d",
            "tick_s": "10min",
            "record_every_s": "10min",
            "hall_record_every_s": "10min",
            "workloads": [
                {
                    "name": "batch",
                    "model": "llama-3.1-70b",
                    "precision": "fp8",
                    "input_tok": 1000,
                    "output_tok": 500,
                    "demand": {"base_capacity_frac": 0.3, "daily_profile_frac": "flat"},
                }
            ],
            "sites": [
                {
                    "name": "s",
                    "location": {"latitude_deg": 40.0, "longitude_deg": -100.0},
                    "import_limit_mw": 20,
                    "buildings": [
                        {"name": "b", "halls": [hall("h0", "g0", 8), hall("h1", "g1", 8)]}
                    ],
                }
            ],
        }
    )


BUILDOUT = {
    "phases": [
        {
            "name": "p1",
            "halls": ["h1"],
            "shell_ready": "2027-01-01",
            "energised": "2027-01-03",
            "cooling_commissioned": "2027-01-05",
        }
    ],
    # No rack of h1 arrives within the horizon: its cells stay empty throughout.
    "supply": [{"system": "gb200-nvl72", "racks_per_month": 0.01, "shipment_every_s": "30d"}],
    "installation": {"racks_per_week": 1},
    "burn_in": {"duration_s": "2d"},
}


@pytest.fixture(scope="module")
def run():
    sc = _scenario()
    catalog = load_catalog()
    plant = build_plant(sc, catalog)
    plan = build_capacity_plan(sc, catalog, plant, buildout=Buildout.model_validate(BUILDOUT))
    state = simulate(plant, sc.seed, plan=plan)
    return plant, state.recorder


def _losses_by_hand_w(plant, hall_it_w, hall_mech_w, energised):
    xfmr_out = 0.0
    losses = 0.0
    for h, it_w in enumerate(hall_it_w):
        if not energised[h]:
            continue
        hp = plant.hall_par[h]
        pdu = pdu_loss_w(it_w, hp[L.H_PDU_EFF])
        ups = ups_loss_w(
            it_w + pdu,
            hp[L.H_UPS_MODULE_W],
            hp[L.H_UPS_MODULES_ACTIVE],
            hp[L.H_UPS_A0],
            hp[L.H_UPS_A1],
            hp[L.H_UPS_A2],
        )
        losses += pdu + ups
        xfmr_out += it_w + pdu + ups + hall_mech_w[h]
    sp = plant.site_par[0]
    xfmr = transformer_loss_w(
        xfmr_out, sp[L.S_XFMR_RATED_W], sp[L.S_XFMR_NO_LOAD], sp[L.S_XFMR_LOAD_LOSS]
    )
    return losses + xfmr


@pytest.mark.parametrize(
    ("day", "energised"),
    [(1.0, (True, False)), (3.0, (True, True)), (5.0, (True, True))],
)
def test_losses_count_only_energised_halls(run, day, energised):
    plant, rec = run
    row = int(day * D / (plant.ticks_per_rec * plant.tick_s))
    hall_it = rec.hall_rec[row, :, L.HR_IT]
    hall_mech = rec.hall_rec[row, :, L.HR_COOLING]
    assert hall_it[1] == 0.0  # h1 holds no rack
    expected = _losses_by_hand_w(plant, hall_it, hall_mech, energised)
    assert rec.rec[row, L.R_LOSSES] == pytest.approx(expected, rel=1e-12)
    # The UPS no-load loss of h1 alone (a0 x module rating x modules) is far above rounding:
    hp = plant.hall_par[1]
    no_load_w = hp[L.H_UPS_A0] * hp[L.H_UPS_MODULE_W] * hp[L.H_UPS_MODULES_ACTIVE]
    assert no_load_w > 1e3


@pytest.mark.parametrize(("day", "cooling_w_is_zero"), [(1.0, True), (3.0, True)])
def test_cooling_draws_nothing_before_commissioning(run, day, cooling_w_is_zero):
    plant, rec = run
    row = int(day * D / (plant.ticks_per_hall_rec * plant.tick_s))
    assert (rec.hall_rec[row, 1, L.HR_COOLING] == 0.0) == cooling_w_is_zero
    assert rec.hall_rec[row, 1, L.HR_UPS_OUT] == 0.0


def test_a_hall_not_energised_is_as_if_absent_from_the_campus_balance(run):
    plant, rec = run
    # Facility = IT + cooling + losses every row (the balance still closes).
    r = rec.rec
    assert np.allclose(r[:, L.R_FACILITY], r[:, L.R_IT] + r[:, L.R_COOLING] + r[:, L.R_LOSSES],
                       rtol=1e-12)  # fmt: skip
