"""Grid economics and events as pure functions: charges, fuel, carbon and curtailment draws.

Everything here is NumPy on SI arrays (W, J, s, USD, kg): money per energy is USD/J, a heat
rate is J of fuel per J of electricity, an emission factor kg per J of fuel. Calendar
quantities (month, weekday, hour of day) are computed from a ``numpy.datetime64`` start in
site local standard time plus seconds, so the functions need no time-zone library.

Tariff definitions used here:

- *demand charge*: rate x the month's highest 15-minute average import (the metering interval
  of US utility demand charges and of ERCOT settlement), prorated by the share of the month
  that the horizon covers; a minimum-take clause raises the billed demand to at least a share
  of the contracted capacity;
- *coincident-peak charge* (ERCOT 4CP style): rate per kW-year x the import in the system-peak
  15-minute interval of each coincident-peak month, averaged over the months of a year, so
  each month carries 1/n of the annual charge;
- *market-based carbon* with annual matching: contracted clean energy covers the same share of
  every hour's import.
"""

from __future__ import annotations

import numpy as np

from dcsim import units

__all__ = [
    "DEMAND_INTERVAL_S",
    "alternating_outages",
    "billed_demand_w",
    "calendar_fields",
    "coincident_peak_charge_usd",
    "curtailment_events",
    "demand_charge_usd",
    "energy_cost_usd",
    "hour_window_mask",
    "interval_mean_w",
    "location_carbon_kg",
    "market_carbon_kg",
    "monthly_peak_w",
    "sample_depths_frac",
    "sample_durations_s",
    "step_mean",
    "turbine_fuel",
]

#: Demand metering interval: a tariff definition (15-minute average demand), not a fit.
DEMAND_INTERVAL_S = 15.0 * units.MIN_S

_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


# --------------------------------------------------------------------------- calendar


def calendar_fields(start: np.datetime64, t_s: np.ndarray):
    """Calendar fields of instants given as seconds after a local-standard-time start.

    Parameters
    ----------
    start
        Start instant, naive local standard time.
    t_s
        Seconds after ``start`` [s].

    Returns
    -------
    (month_key, month, weekday, hour_of_day_h, day_index)
        ``year * 12 + month - 1`` (a sortable month id), calendar month 1..12, weekday
        (Monday = 0), hour of day [h] in [0, 24), and days since 1970-01-01 [d].
    """
    t_ms = np.round(np.asarray(t_s, dtype=float) * 1e3).astype(np.int64)
    stamps = np.datetime64(start, "ms") + t_ms.astype("timedelta64[ms]")
    months_since_1970 = stamps.astype("datetime64[M]").astype(np.int64)
    days = stamps.astype("datetime64[D]")
    day_index = days.astype(np.int64)
    hour_h = (stamps - days).astype("timedelta64[ms]").astype(np.int64) / (units.H_S * 1e3)
    month = months_since_1970 % 12 + 1
    month_key = (months_since_1970 // 12 + 1970) * 12 + month - 1
    weekday = (day_index + _EPOCH_WEEKDAY) % 7
    return month_key, month, weekday, hour_h, day_index


def hour_window_mask(hour_h: np.ndarray, from_h: float, to_h: float) -> np.ndarray:
    """Whether hours of day fall in a daily window ``[from_h, to_h)`` (wrapping at midnight).

    Parameters
    ----------
    hour_h
        Hours of day [h].
    from_h, to_h
        Window start (inclusive) and end (exclusive) [h]; ``to_h <= from_h`` wraps.

    Returns
    -------
    numpy.ndarray of bool
    """
    hour_h = np.asarray(hour_h, dtype=float)
    if from_h < to_h:
        return (hour_h >= from_h) & (hour_h < to_h)
    return (hour_h >= from_h) | (hour_h < to_h)


def step_mean(values: np.ndarray, step_s: float, offset_s: float, a_s, b_s) -> np.ndarray:
    """Time mean of a step function over intervals ``[a, b)``.

    Parameters
    ----------
    values
        Value of each step; step k covers ``[k*step_s - offset_s, (k+1)*step_s - offset_s)``.
    step_s
        Step length [s] (3600 for an hourly series).
    offset_s
        Time from the start of step 0 to t = 0 [s].
    a_s, b_s
        Interval bounds [s], ``b > a``, inside the steps.

    Returns
    -------
    numpy.ndarray
        Mean value over each interval (exact: the integral of the steps over the length).
    """
    values = np.asarray(values, dtype=float)
    cum = np.concatenate(([0.0], np.cumsum(values) * step_s))

    def integral(t_s):
        x = np.asarray(t_s, dtype=float) + offset_s
        k = np.clip(np.floor(x / step_s).astype(np.int64), 0, len(values) - 1)
        return cum[k] + values[k] * (x - k * step_s)

    a = np.asarray(a_s, dtype=float)
    b = np.asarray(b_s, dtype=float)
    return (integral(b) - integral(a)) / (b - a)


# --------------------------------------------------------------------------- charges


def energy_cost_usd(power_w, duration_s, price_usd_per_j):
    """Cost of energy drawn at a mean power over a duration [USD].

    Parameters
    ----------
    power_w
        Mean import [W].
    duration_s
        Duration [s].
    price_usd_per_j
        Energy price over the duration [USD/J].
    """
    return np.asarray(power_w) * np.asarray(duration_s) * np.asarray(price_usd_per_j)


def interval_mean_w(power_w, row_start_s, row_s, interval_s: float = DEMAND_INTERVAL_S):
    """Average power over fixed metering intervals from finer record rows.

    Parameters
    ----------
    power_w
        Mean power of each record row [W].
    row_start_s
        Start of each row [s]; rows must not straddle an interval boundary (the record
        interval divides ``interval_s`` and the rows start on interval boundaries).
    row_s
        Duration of each row [s] (the last one may be shorter).
    interval_s
        Metering interval [s].

    Returns
    -------
    (interval_start_s, mean_w, row_interval)
        Start of each interval holding rows [s], its time-weighted mean power [W] (over the
        time the rows cover), and the interval index of every row.
    """
    power_w = np.asarray(power_w, dtype=float)
    row_s = np.asarray(row_s, dtype=float)
    idx = np.floor(np.asarray(row_start_s, dtype=float) / interval_s + 1e-9).astype(np.int64)
    uniq, inv = np.unique(idx, return_inverse=True)
    energy = np.bincount(inv, weights=power_w * row_s)
    covered = np.bincount(inv, weights=row_s)
    return uniq * interval_s, energy / covered, inv


def monthly_peak_w(mean_w, month_key):
    """Highest interval mean of each month.

    Parameters
    ----------
    mean_w
        Interval means [W].
    month_key
        Month id of each interval (e.g. ``year * 12 + month - 1``).

    Returns
    -------
    (months, peak_w, argmax)
        Sorted unique month ids, the peak of each [W], and the index of the first interval
        that reaches it.
    """
    mean_w = np.asarray(mean_w, dtype=float)
    month_key = np.asarray(month_key)
    months = np.unique(month_key)
    peaks = np.empty(len(months))
    arg = np.empty(len(months), dtype=np.int64)
    for i, m in enumerate(months):
        where = np.flatnonzero(month_key == m)
        j = where[np.argmax(mean_w[where])]
        peaks[i] = mean_w[j]
        arg[i] = j
    return months, peaks, arg


def billed_demand_w(peak_w, contracted_w, min_take_frac: float):
    """Billed demand under a minimum-take clause [W].

    Parameters
    ----------
    peak_w
        Measured monthly peak [W].
    contracted_w
        Contracted capacity of the month [W].
    min_take_frac
        Share of contracted capacity billed at least [frac] (0 for no clause).

    Returns
    -------
    ``max(peak, min_take_frac x contracted)`` [W].
    """
    return np.maximum(np.asarray(peak_w, dtype=float), min_take_frac * np.asarray(contracted_w))


def demand_charge_usd(billed_w, rate_usd_per_w_month: float, covered_frac=1.0):
    """Monthly demand charge [USD].

    Parameters
    ----------
    billed_w
        Billed demand of each month [W].
    rate_usd_per_w_month
        Demand rate [USD/W-month].
    covered_frac
        Share of each month inside the simulated horizon [frac] (proration).
    """
    return np.asarray(billed_w) * rate_usd_per_w_month * np.asarray(covered_frac)


def coincident_peak_charge_usd(cp_import_w, rate_usd_per_w_y: float, cp_months_per_y: int):
    """Coincident-peak charge of each coincident-peak month [USD].

    Parameters
    ----------
    cp_import_w
        Site import in each month's system-peak interval [W].
    rate_usd_per_w_y
        Annual rate on the mean coincident-peak demand [USD/W-y].
    cp_months_per_y
        Coincident-peak months in a year [count] (4 for ERCOT 4CP).

    Returns
    -------
    numpy.ndarray
        ``rate x import / n`` per month: a full year sums to ``rate x mean(import)``.
    """
    return np.asarray(cp_import_w, dtype=float) * rate_usd_per_w_y / cp_months_per_y


# --------------------------------------------------------------------------- fuel and carbon


def turbine_fuel(energy_j, heat_rate_j_per_j: float, fuel_usd_per_j: float, kg_per_j: float):
    """Fuel, fuel cost and CO2 of turbine generation at a constant heat rate.

    Parameters
    ----------
    energy_j
        Electricity generated [J].
    heat_rate_j_per_j
        Fuel energy per electricity (HHV) [J/J].
    fuel_usd_per_j
        Fuel price [USD/J of fuel].
    kg_per_j
        CO2 emission factor [kg/J of fuel].

    Returns
    -------
    (fuel_j, cost_usd, co2_kg)
    """
    fuel_j = np.asarray(energy_j, dtype=float) * heat_rate_j_per_j
    return fuel_j, fuel_j * fuel_usd_per_j, fuel_j * kg_per_j


def location_carbon_kg(import_j, intensity_kg_per_j):
    """Location-based emissions of grid import [kg].

    Parameters
    ----------
    import_j
        Grid import [J].
    intensity_kg_per_j
        Grid carbon intensity over the same periods [kg/J].
    """
    return np.asarray(import_j) * np.asarray(intensity_kg_per_j)


def market_carbon_kg(location_kg, import_j, clean_j: float = 0.0, clean_share_frac=None):
    """Market-based emissions of grid import with annually matched clean supply [kg].

    Parameters
    ----------
    location_kg
        Location-based emissions of each period [kg].
    import_j
        Grid import of each period [J].
    clean_j
        Contracted clean energy over all the periods [J].
    clean_share_frac
        Or the matched share of import directly [frac]; overrides ``clean_j``.

    Returns
    -------
    numpy.ndarray
        ``location x (1 - covered)``, with ``covered = min(1, clean / total import)``: clean
        energy covers the same share of every period (annual matching); the uncovered part
        keeps the grid intensity (no residual-mix factor).
    """
    location_kg = np.asarray(location_kg, dtype=float)
    if clean_share_frac is not None:
        covered = float(clean_share_frac)
    else:
        total = float(np.sum(import_j))
        covered = min(clean_j / total, 1.0) if total > 0.0 else 0.0
    return location_kg * (1.0 - covered)


# --------------------------------------------------------------------------- random events


def sample_durations_s(rng: np.random.Generator, n: int, kind: str, a_s: float, b_s: float):
    """Draw event durations.

    Parameters
    ----------
    rng
        Random stream.
    n
        Number of draws.
    kind
        ``"fixed"`` (all ``a_s``), ``"uniform"`` on ``[a_s, b_s]``, or ``"exponential"`` with
        mean ``a_s`` cut at ``b_s`` (``inf`` for no cut).
    a_s, b_s
        Parameters [s].

    Returns
    -------
    numpy.ndarray
        Durations [s].
    """
    if kind == "fixed":
        return np.full(n, float(a_s))
    if kind == "uniform":
        return rng.uniform(a_s, b_s, n)
    if kind == "exponential":
        return np.minimum(rng.exponential(a_s, n), b_s)
    raise ValueError(f"unknown duration distribution '{kind}'")


def sample_depths_frac(rng: np.random.Generator, n: int, kind: str, a: float, b: float):
    """Draw event depths as shares of the curtailable block.

    Parameters
    ----------
    rng
        Random stream.
    n
        Number of draws.
    kind
        ``"fixed"`` (all ``a``) or ``"uniform"`` on ``[a, b]``.
    a, b
        Parameters [frac].

    Returns
    -------
    numpy.ndarray
        Depths [frac].
    """
    if kind == "fixed":
        return np.full(n, float(a))
    if kind == "uniform":
        return rng.uniform(a, b, n)
    raise ValueError(f"unknown depth distribution '{kind}'")


def curtailment_events(
    rng: np.random.Generator,
    start: np.datetime64,
    horizon_s: float,
    events_per_y: float,
    month_mask: np.ndarray,
    from_h: float,
    to_h: float,
    duration: tuple[str, float, float],
    depth: tuple[str, float, float],
    budget_s: float = np.inf,
    used_s: np.ndarray | None = None,
    year_s: float = units.Y_S,
    grid_s: float = units.MIN_S,
):
    """Seeded curtailment events: Poisson arrivals in a season and hour window, within a budget.

    Time is cut into contract years of ``year_s`` from the start. In each, the number of
    events is Poisson with mean ``events_per_y`` x (eligible time of the year inside the
    horizon) / (eligible time of the whole year), and the arrivals are uniform over the
    eligible time (months in ``month_mask``, hours in ``[from_h, to_h)``, resolved on a grid
    of ``grid_s``). In arrival order, an event starting before the previous one ends is
    dropped; each event is cut to the horizon and to what is left of its year's budget
    (events after the budget is spent are dropped), so the hours of a year never exceed
    ``budget_s``. The same generator state gives the same events.

    Parameters
    ----------
    rng
        Random stream of this process (e.g. ``rng_for(seed, "curtailment", site)``).
    start
        Scenario start (local standard time).
    horizon_s
        Simulated horizon [s].
    events_per_y
        Mean events per contract year [1/y].
    month_mask
        12 booleans, January first: months in which events may start.
    from_h, to_h
        Daily window in which events may start [h] (wrapping if ``to_h <= from_h``).
    duration, depth
        ``(kind, a, b)`` of :func:`sample_durations_s` [s] and :func:`sample_depths_frac`.
    budget_s
        Most curtailment time per contract year [s] (``inf`` for none).
    used_s
        Time already used per contract year by scheduled events [s].
    year_s
        Length of a contract year [s].
    grid_s
        Resolution of the eligibility grid [s].

    Returns
    -------
    (start_s, duration_s, depth_frac)
        Event starts after the scenario start [s], durations [s] and depths [frac], in time
        order.
    """
    n_years = max(int(np.ceil(horizon_s / year_s - 1e-12)), 1)
    used = np.zeros(n_years) if used_s is None else np.asarray(used_s, dtype=float)
    month_mask = np.asarray(month_mask, dtype=bool)
    starts: list[np.ndarray] = []
    for y in range(n_years):
        t_grid = y * year_s + np.arange(int(round(year_s / grid_s))) * grid_s
        _, month, _, hour_h, _ = calendar_fields(start, t_grid)
        ok = month_mask[month - 1] & hour_window_mask(hour_h, from_h, to_h)
        n_ok_year = int(ok.sum())
        ok &= t_grid < horizon_s
        cells = np.flatnonzero(ok)
        mean_n = events_per_y * len(cells) / n_ok_year if n_ok_year else 0.0
        n = int(rng.poisson(mean_n)) if mean_n > 0.0 else 0
        if n == 0:
            continue
        pick = cells[rng.integers(0, len(cells), n)]
        starts.append(np.sort(t_grid[pick] + rng.uniform(0.0, grid_s, n)))
    t0 = np.concatenate(starts) if starts else np.zeros(0)
    t0 = t0[t0 < horizon_s]
    dur = sample_durations_s(rng, len(t0), *duration)
    dep = sample_depths_frac(rng, len(t0), *depth)

    keep_t: list[float] = []
    keep_d: list[float] = []
    keep_x: list[float] = []
    left = np.full(n_years, float(budget_s)) - used
    end_prev = -np.inf
    for t, d, x in zip(t0, dur, dep, strict=True):
        if t < end_prev:
            continue  # the utility does not call an event while one is running
        y = min(int(t // year_s), n_years - 1)
        d = min(d, horizon_s - t, max(left[y], 0.0))
        if d <= 0.0:
            continue
        left[y] -= d
        end_prev = t + d
        keep_t.append(t)
        keep_d.append(d)
        keep_x.append(x)
    return np.asarray(keep_t), np.asarray(keep_d), np.asarray(keep_x)


def alternating_outages(rng: np.random.Generator, horizon_s: float, mtbf_s: float, mttr_s: float):
    """Outages of a repairable unit: exponential up times and repair times.

    The unit starts up; up times have mean ``mtbf_s`` and outages mean ``mttr_s``, so the
    long-run availability is ``mtbf / (mtbf + mttr)``.

    Parameters
    ----------
    rng
        Random stream.
    horizon_s
        Simulated horizon [s].
    mtbf_s, mttr_s
        Mean time between failures and mean time to repair [s].

    Returns
    -------
    (start_s, duration_s)
        Outage starts [s] and durations, cut at the horizon [s].
    """
    t = 0.0
    out_t: list[float] = []
    out_d: list[float] = []
    while True:
        t += float(rng.exponential(mtbf_s))
        if t >= horizon_s:
            break
        d = float(rng.exponential(mttr_s))
        out_t.append(t)
        out_d.append(min(d, horizon_s - t))
        t += d
    return np.asarray(out_t), np.asarray(out_d)
