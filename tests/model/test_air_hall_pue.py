"""Air-cooled legacy hall: annual PUE against published surveys, and the energy balance.

Survey band. Uptime Institute's Global Data Center Survey puts the industry-average annual
PUE of operators' largest sites at 1.55-1.59 every year since about 2020 (Uptime Intelligence
Update 221, "Large data centers are mostly more efficient, analysis confirms", Nov 2023:
1.58 in 2023; 1.55 in 2022; 1.56 in the 2024 survey), an average lifted by "older and less
efficient legacy facilities", while new builds reach 1.3 or better (Uptime 2024 survey
summary). A legacy chilled-water air hall, without economiser, should therefore land near
that average: the band asserted is 1.40-1.70 (the average +- ~0.15, covering climate:
Greensboro NC humid subtropical, Miami FL hot-humid, Sand Point AK cold marine; the pvlib
sample weather files). The 1.2 of the previous model (no pumps, no part load, no lighting,
no humidification, no UPS-room heat) is outside it.
"""

import pytest

import dcsim

SCENARIO = "scenarios/hall-air-legacy.yaml"
WEATHER = "sites.site.weather.file"


def test_air_hall_energy_balance_and_components_short_run():
    res = dcsim.run(SCENARIO, overrides={"horizon_s": "3d"})
    ts, k = res.timeseries, res.kpis
    parts = ["pumps_power_w", "heat_rejection_fans_power_w", "chillers_power_w", "crah_power_w"]
    for c in parts:
        assert ts[c].mean() > 0.0, c
    # The rest of the cooling power is humidification (winter) and lighting + ancillary:
    # 700 m2 x (15 + 20) W/m2 = 24.5 kW, at least, every hour.
    rest = ts["cooling_power_w"] - ts[parts].sum(axis=1)
    assert rest.min() >= 24.5e3 * (1 - 1e-9)
    # Facility = IT + cooling + losses at every record (no on-site supply in this scenario).
    bal = ts["facility_power_w"] - ts["it_power_w"] - ts["cooling_power_w"] - ts["losses_power_w"]
    assert abs(bal).max() <= 1e-6 * ts["facility_power_w"].max()
    assert 1.3 < k["pue"] < 1.9


@pytest.mark.slow
@pytest.mark.parametrize(
    "weather", ["pvlib:723170TYA.CSV", "pvlib:12839.tm2", "pvlib:703165TY.csv"]
)
def test_legacy_air_hall_annual_pue_inside_the_survey_band(weather):
    res = dcsim.run(SCENARIO, overrides={WEATHER: weather})
    assert 1.40 <= res.kpis["pue"] <= 1.70, (weather, res.kpis["pue"])
