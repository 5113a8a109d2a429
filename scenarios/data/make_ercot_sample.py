"""Write the synthetic ERCOT North sample price and carbon files (deterministic).

Run from anywhere: ``python scenarios/data/make_ercot_sample.py``. It writes, next to itself,

- ``ercot_north_price_2023.csv`` (``time,price_usd_per_mwh``),
- ``ercot_north_carbon_2023.csv`` (``time,carbon_kg_per_mwh``),

one calendar year of hourly values (8760 rows, 2023, local standard time CST = UTC-6, no
daylight saving). The files are SYNTHETIC: no network was available, so no market data was
downloaded. They are shaped and scaled to published summary figures, cited below and in each
file's header, so that a planner gets realistic magnitudes and patterns (daily evening peak,
midday solar dip, hot-summer scarcity spikes, a few negative hours) but not any real hour.
Replace them with ERCOT settlement-point prices and a marginal or average emissions series
for real studies.

Published figures used
----------------------
- ERCOT North hub day-ahead average price in 2023: 55.90 USD/MWh; August 2023 real-time
  average 196.1 USD/MWh after scarcity events (market recap of 2023, as reported; S).
- ERCOT high system-wide offer cap 5,000 USD/MWh since 2022-01-01 (ERCOT market notice
  M-A120721-01; P): spikes never exceed it.
- US average grid carbon intensity 2023: 0.81 lb CO2/kWh = 367 kg/MWh (EIA FAQ; P). This is
  the US average, not ERCOT's; the file keeps that annual mean.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
YEAR = 2023
SEED = 20230810  # ERCOT's 2023 peak day; any fixed seed makes the files reproducible

ANNUAL_MEAN_USD_PER_MWH = 55.90  # ERCOT North hub DA average 2023 (S)
AUGUST_MEAN_USD_PER_MWH = 196.1  # ERCOT North hub RT average, August 2023 (S)
PRICE_CAP_USD_PER_MWH = 5000.0  # ERCOT HCAP since 2022 (P)
CARBON_MEAN_KG_PER_MWH = 367.0  # EIA US average 2023 (P)

# Relative hourly shape of price by hour of day (CST), normalised below: low overnight, a
# morning shoulder, a midday dip from solar, the evening net-load peak (17-20 CST).
PRICE_HOURLY_SHAPE = np.array(
    [0.78, 0.74, 0.72, 0.71, 0.73, 0.80, 0.92, 0.98, 0.92, 0.85, 0.80, 0.78,
     0.78, 0.82, 0.92, 1.10, 1.35, 1.60, 1.75, 1.55, 1.30, 1.10, 0.95, 0.85]
)  # fmt: skip
# Relative monthly level: hot summers, a winter shoulder, mild and windy spring and autumn.
PRICE_MONTHLY_SHAPE = np.array(
    [1.05, 1.10, 0.85, 0.80, 0.85, 1.10, 1.35, 1.50, 1.20, 0.90, 0.85, 0.95]
)  # fmt: skip
# Scarcity spikes: hours per month, on late summer afternoons/evenings (14-20 CST).
SPIKE_HOURS_PER_MONTH = {6: 3, 7: 6, 8: 30, 9: 8}
# Carbon: relative monthly level (windy spring low, summer gas high) and midday solar dip.
CARBON_MONTHLY_SHAPE = np.array(
    [1.03, 1.00, 0.93, 0.90, 0.95, 1.03, 1.07, 1.08, 1.03, 0.98, 0.99, 1.02]
)  # fmt: skip
CARBON_SOLAR_DIP_FRAC = 0.22  # depth of the midday dip at full sun (shape assumption, U)
CARBON_EVENING_RISE_FRAC = 0.08  # evening gas peakers (shape assumption, U)


def _ar1(rng: np.random.Generator, n: int, sigma: float, corr_h: float) -> np.ndarray:
    phi = np.exp(-1.0 / corr_h)
    e = rng.normal(0.0, sigma * np.sqrt(1.0 - phi**2), n)
    x = np.empty(n)
    x[0] = rng.normal(0.0, sigma)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


def _fill_to_total(weights: np.ndarray, total: float, cap: float) -> np.ndarray:
    """Values proportional to weights, summing to total, none above cap (water filling)."""
    values = np.zeros(len(weights))
    free = np.ones(len(weights), dtype=bool)
    for _ in range(len(weights)):
        left = total - values[~free].sum()
        values[free] = left * weights[free] / weights[free].sum()
        over = free & (values > cap)
        if not over.any():
            break
        values[over] = cap
        free &= ~over
    return values


def make(seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the two hourly frames (index ``time``, local standard time)."""
    rng = np.random.default_rng(seed)
    times = pd.date_range(f"{YEAR}-01-01", periods=8760, freq="h")
    hour = times.hour.to_numpy()
    month = times.month.to_numpy()
    doy = times.day_of_year.to_numpy()

    # --- price: shape x level x lognormal weather noise, negative spring nights, spikes
    base = PRICE_HOURLY_SHAPE[hour] / PRICE_HOURLY_SHAPE.mean()
    base *= PRICE_MONTHLY_SHAPE[month - 1] / PRICE_MONTHLY_SHAPE.mean()
    base *= np.exp(_ar1(rng, len(times), 0.25, 36.0))
    spring_night = np.isin(month, [3, 4, 5]) & (hour <= 5)
    negative = spring_night & (rng.random(len(times)) < 0.06)
    spikes = np.zeros(len(times), dtype=bool)
    for m, n_spike in SPIKE_HOURS_PER_MONTH.items():
        pool = np.flatnonzero((month == m) & (hour >= 14) & (hour <= 20))
        spikes[rng.choice(pool, n_spike, replace=False)] = True
    spike_shape = rng.uniform(0.15, 1.0, len(times))
    # Scale: August hits its published mean with its spikes; the rest of the year fills the
    # annual mean. Spikes are capped at the offer cap.
    aug = month == 8
    normal = ~spikes & ~negative
    price = np.zeros(len(times))
    price[negative] = -rng.uniform(0.5, 20.0, negative.sum())
    # Non-August normal hours: one level k chosen so the annual mean comes out right once
    # August is fixed.
    aug_norm_level = 70.0  # USD/MWh mean of August non-spike hours before the spikes (U)
    price[aug & normal] = aug_norm_level * base[aug & normal] / base[aug & normal].mean()
    aug_spike_total = AUGUST_MEAN_USD_PER_MWH * aug.sum() - price[aug & ~spikes].sum()
    aug_spikes = aug & spikes
    price[aug_spikes] = _fill_to_total(
        spike_shape[aug_spikes], aug_spike_total, PRICE_CAP_USD_PER_MWH
    )
    other_spikes = spikes & ~aug
    price[other_spikes] = spike_shape[other_spikes] * 0.5 * PRICE_CAP_USD_PER_MWH
    rest = normal & ~aug
    target_total = ANNUAL_MEAN_USD_PER_MWH * len(times)
    k = (target_total - price[~rest].sum()) / base[rest].sum()
    price[rest] = k * base[rest]
    price = np.round(price, 2)

    # --- carbon: monthly level, midday solar dip, evening rise, noise; mean fixed to EIA
    sun = np.clip(np.sin(np.pi * (hour + 0.5 - 6.5) / 12.0), 0.0, None)
    season_sun = 0.75 + 0.25 * np.cos(2.0 * np.pi * (doy - 172) / 365.0)
    shape = CARBON_MONTHLY_SHAPE[month - 1] * (1.0 - CARBON_SOLAR_DIP_FRAC * sun * season_sun)
    shape *= 1.0 + CARBON_EVENING_RISE_FRAC * ((hour >= 17) & (hour <= 21))
    shape *= np.exp(_ar1(rng, len(times), 0.06, 24.0))
    carbon = np.round(CARBON_MEAN_KG_PER_MWH * shape / shape.mean(), 1)

    stamp = times.strftime("%Y-%m-%dT%H:%M")
    price_df = pd.DataFrame({"time": stamp, "price_usd_per_mwh": price})
    carbon_df = pd.DataFrame({"time": stamp, "carbon_kg_per_mwh": carbon})
    return price_df, carbon_df


PRICE_HEADER = """\
# ERCOT North hub hourly energy price, SYNTHETIC sample for one typical year (2023 calendar).
# Made by scenarios/data/make_ercot_sample.py (seed {seed}); no market data was downloaded.
# Time: local standard time (CST, UTC-6, no daylight saving); a row labelled T covers [T, T+1h).
# Shape: evening net-load peak (17-20 CST), midday solar dip, hot-summer months dearer,
#   lognormal AR(1) noise (sigma 0.25, 36 h), a few negative spring-night hours (wind),
#   scarcity spikes on Jun-Sep afternoons (3/6/30/8 h), capped at the 5,000 USD/MWh ERCOT
#   offer cap (ERCOT notice M-A120721-01, P).
# Scale: annual mean {annual:.2f} USD/MWh = ERCOT North hub day-ahead average 2023 (55.90, as
#   reported in a 2023 market recap, S); August mean {august:.1f} USD/MWh = the reported August
#   2023 real-time average (196.1, S). Not real prices: replace with ERCOT data for studies.
"""

CARBON_HEADER = """\
# Grid carbon intensity, hourly, SYNTHETIC sample for one typical year (2023 calendar).
# Made by scenarios/data/make_ercot_sample.py (seed {seed}); no emissions data was downloaded.
# Time: local standard time (CST, UTC-6, no daylight saving); a row labelled T covers [T, T+1h).
# Scale: annual mean {mean:.1f} kg CO2/MWh = EIA US average 2023, 0.81 lb/kWh (EIA FAQ, P);
#   this is the US average, not an ERCOT figure.
# Shape (assumptions, U): monthly level (windy spring lower, summer gas higher), a midday dip
#   of up to 22% with the sun, +8% in the 17-21 CST evening, AR(1) noise (sigma 0.06, 24 h).
"""


def main() -> None:
    """Write both files next to this script."""
    price_df, carbon_df = make()
    p_path = HERE / "ercot_north_price_2023.csv"
    c_path = HERE / "ercot_north_carbon_2023.csv"
    aug = pd.to_datetime(price_df["time"]).dt.month == 8
    header = PRICE_HEADER.format(
        seed=SEED,
        annual=price_df["price_usd_per_mwh"].mean(),
        august=price_df.loc[aug, "price_usd_per_mwh"].mean(),
    )
    p_path.write_text(header + price_df.to_csv(index=False, lineterminator="\n"), "utf-8")
    c_header = CARBON_HEADER.format(seed=SEED, mean=carbon_df["carbon_kg_per_mwh"].mean())
    c_path.write_text(c_header + carbon_df.to_csv(index=False, lineterminator="\n"), "utf-8")
    print(f"wrote {p_path.name} and {c_path.name}")


if __name__ == "__main__":
    main()
