"""Scenario schema of a site's grid contract, tariff, carbon accounting and on-site energy.

Four optional blocks of a site (MODEL.md sections 4 and 7): ``grid`` (:class:`GridContract`),
``tariff`` (:class:`Tariff`), ``carbon`` (:class:`Carbon`) and ``onsite`` (:class:`OnSite`).
Field names carry their unit; YAML uses MW, MWh, h, USD/MWh, kg/MWh, USD/MMBtu. A field left at
``null`` takes the sourced default of ``dcsim/catalog/data/grid_defaults.yaml`` when the plant
is built. Months are written ``jan`` ... ``dec`` and weekdays ``mon`` ... ``sun``; hours of
day are local standard time, ``from_h`` inclusive and ``to_h`` exclusive, and a window with
``to_h <= from_h`` wraps past midnight.

Cross-field rules that need the whole scenario (horizon, import limit, record interval) are
named checks in :mod:`dcsim.scenario.grid_checks`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from dcsim.scenario.base import Frac, NonNeg, Pos
from dcsim.scenario.base import ScenarioModel as _Model
from dcsim.scenario.types import DataPath, Date, DurationS

__all__ = [
    "MONTHS",
    "WEEKDAYS",
    "Arbitrage",
    "Battery",
    "Carbon",
    "CleanBlock",
    "CoincidentPeak",
    "ConstantCarbon",
    "CpAvoidance",
    "Curtailment",
    "CurtailmentEvent",
    "Disconnect",
    "ExponentialDuration",
    "FileCarbon",
    "FilePrice",
    "FixedDepth",
    "FixedDuration",
    "FlatPrice",
    "GridContract",
    "OnSite",
    "PeakShaving",
    "RampStep",
    "RandomCurtailment",
    "RideThrough",
    "Solar",
    "Tariff",
    "TouPeriod",
    "TouPrice",
    "Turbines",
    "UniformDepth",
    "UniformDuration",
]

#: Month names in calendar order (index + 1 = month number).
MONTHS: tuple[str, ...] = (
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
)  # fmt: skip
#: Weekday names, Monday first (index = ``datetime.weekday()``).
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Month = Literal["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
HourOfDay = Annotated[float, Field(ge=0, lt=24)]
HourEnd = Annotated[float, Field(gt=0, le=24)]


def _all_months() -> list[str]:
    return list(MONTHS)


def _all_weekdays() -> list[str]:
    return list(WEEKDAYS)


def _window_not_empty(from_h: float | None, to_h: float | None) -> None:
    if from_h is not None and to_h is not None and from_h == to_h:
        raise ValueError(
            f"from_h = to_h = {from_h:g} is an empty window; expected different hours "
            "(0 and 24 for the whole day)"
        )


# --------------------------------------------------------------------------- contract


class RampStep(_Model):
    """An energisation step: from ``date`` on, the capacity is ``mw``."""

    date: Date = Field(description="Date the new capacity is energised (local standard time).")
    mw: NonNeg = Field(description="Capacity from this date on [MW].")


class CurtailmentEvent(_Model):
    """A scheduled curtailment of the non-firm block.

    Give the depth as a share of the non-firm capacity (``depth_frac``) or in MW
    (``depth_mw``); neither means the whole non-firm block.
    """

    start: Date = Field(description="When the curtailment starts (local standard time).")
    duration_s: DurationS = Field(gt=0, description="How long it lasts [s], e.g. '2h'.")
    depth_frac: Frac | None = Field(
        default=None, description="Curtailed share of the non-firm capacity [0..1]."
    )
    depth_mw: NonNeg | None = Field(
        default=None, description="Curtailed import capacity [MW] (at most the non-firm block)."
    )

    @model_validator(mode="after")
    def _one_depth(self) -> CurtailmentEvent:
        if self.depth_frac is not None and self.depth_mw is not None:
            raise ValueError("give depth_frac or depth_mw, not both")
        return self


class FixedDuration(_Model):
    """Every random event lasts the same time."""

    type: Literal["fixed"] = "fixed"
    duration_s: DurationS = Field(gt=0, description="Event duration [s], e.g. '2h'.")


class UniformDuration(_Model):
    """Event durations uniform between two bounds."""

    type: Literal["uniform"] = "uniform"
    min_s: DurationS = Field(gt=0, description="Shortest event [s].")
    max_s: DurationS = Field(gt=0, description="Longest event [s].")

    @model_validator(mode="after")
    def _ordered(self) -> UniformDuration:
        if self.max_s < self.min_s:
            raise ValueError(f"max_s {self.max_s:g} s is below min_s {self.min_s:g} s")
        return self


class ExponentialDuration(_Model):
    """Exponentially distributed event durations, optionally cut at a maximum."""

    type: Literal["exponential"] = "exponential"
    mean_s: DurationS = Field(gt=0, description="Mean event duration before the cut [s].")
    max_s: DurationS | None = Field(
        default=None, gt=0, description="Longest event [s]; longer draws are cut to it."
    )


class FixedDepth(_Model):
    """Every random event curtails the same share of the non-firm block."""

    type: Literal["fixed"] = "fixed"
    depth_frac: Frac = Field(default=1.0, description="Curtailed share of non-firm [0..1].")


class UniformDepth(_Model):
    """Event depths uniform between two shares of the non-firm block."""

    type: Literal["uniform"] = "uniform"
    min_frac: Frac = Field(description="Smallest curtailed share of non-firm [0..1].")
    max_frac: Frac = Field(description="Largest curtailed share of non-firm [0..1].")

    @model_validator(mode="after")
    def _ordered(self) -> UniformDepth:
        if self.max_frac < self.min_frac:
            raise ValueError(f"max_frac {self.max_frac:g} is below min_frac {self.min_frac:g}")
        return self


DurationDist = Annotated[
    FixedDuration | UniformDuration | ExponentialDuration, Field(discriminator="type")
]
DepthDist = Annotated[FixedDepth | UniformDepth, Field(discriminator="type")]


class RandomCurtailment(_Model):
    """Seeded random curtailment events: Poisson arrivals inside a season and hour window.

    Arrivals are uniform over the eligible time (the listed months, the hour window of each
    day), ``events_per_y`` on average per 365-day contract year; an event arriving while the
    previous one lasts is dropped. Durations and depths are drawn per event.
    """

    events_per_y: NonNeg = Field(description="Mean number of events per contract year [1/y].")
    months: list[Month] = Field(
        default_factory=_all_months, min_length=1, description="Months events may start in."
    )
    from_h: HourOfDay = Field(default=0.0, description="Start of the daily window [h].")
    to_h: HourEnd = Field(default=24.0, description="End of the daily window [h].")
    duration: DurationDist = Field(description="Distribution of event durations.")
    depth: DepthDist = Field(
        default_factory=FixedDepth, description="Distribution of event depths (share of non-firm)."
    )

    @model_validator(mode="after")
    def _window(self) -> RandomCurtailment:
        _window_not_empty(self.from_h, self.to_h)
        return self


class Curtailment(_Model):
    """Curtailment of the non-firm block: scheduled events, random events and a budget.

    The budget counts hours with any curtailment (whatever its depth) per 365-day contract
    year from the scenario start; random events are cut so that it is never exceeded, and
    scheduled events above it are an error.
    """

    events: list[CurtailmentEvent] = Field(
        default_factory=list, description="Scheduled curtailment events."
    )
    random: RandomCurtailment | None = Field(default=None, description="Seeded random events.")
    annual_budget_h: NonNeg | None = Field(
        default=None,
        description="Most curtailment hours per contract year [h]; null for no limit.",
    )


class Disconnect(_Model):
    """A sudden loss of the grid connection: import is zero for the duration.

    As on 2024-07-10 in Northern Virginia (~1,500 MW of data-center load moved to backup at
    once after voltage dips; NERC incident review as reported), the whole load must move to
    on-site supply within seconds.
    """

    start: Date = Field(description="When the connection is lost (local standard time).")
    duration_s: DurationS = Field(gt=0, description="How long import stays at zero [s].")


class GridContract(_Model):
    """The site's grid contract: firm and non-firm import capacity over time.

    Firm capacity is always available (except in a disconnect); non-firm capacity may be
    curtailed. Their sum never exceeds the site's ``import_limit_mw`` (the physical
    connection), which a named check verifies.
    """

    firm_mw: NonNeg = Field(description="Firm import capacity at the scenario start [MW].")
    firm_ramp: list[RampStep] = Field(
        default_factory=list,
        description="Later energisation steps of firm capacity, in date order.",
    )
    nonfirm_mw: NonNeg = Field(
        default=0.0, description="Non-firm (curtailable) import capacity at the start [MW]."
    )
    nonfirm_ramp: list[RampStep] = Field(
        default_factory=list, description="Later changes of the non-firm capacity, in date order."
    )
    curtailment: Curtailment | None = Field(
        default=None, description="Curtailment of the non-firm block."
    )
    disconnects: list[Disconnect] = Field(
        default_factory=list, description="Sudden disconnects (grid import zero)."
    )
    min_take_frac: Frac | None = Field(
        default=None,
        description=(
            "Minimum-take clause: monthly billed demand is at least this share of the "
            "contracted (firm + non-firm) capacity [0..1]; needs a demand charge."
        ),
    )
    ramp_limit_mw_per_min: Pos | None = Field(
        default=None,
        description=(
            "Largest change of the site's import the utility accepts within one minute "
            "[MW/min]; null: no limit. Training jobs' swings must meet it (docs/training.md)."
        ),
    )


# --------------------------------------------------------------------------- tariff


class FlatPrice(_Model):
    """One energy price for every hour."""

    type: Literal["flat"] = "flat"
    price_usd_per_mwh: float = Field(description="Energy price [USD/MWh].")


class TouPeriod(_Model):
    """A time-of-use period: its months, weekdays and whole hours of day share one price."""

    name: str = Field(default="", description="Label, e.g. 'summer-peak'.")
    months: list[Month] = Field(
        default_factory=_all_months, min_length=1, description="Months of the period."
    )
    weekdays: list[Weekday] = Field(
        default_factory=_all_weekdays, min_length=1, description="Weekdays of the period."
    )
    from_h: int = Field(default=0, ge=0, lt=24, description="First hour of day [h].")
    to_h: int = Field(default=24, gt=0, le=24, description="Hour of day the period ends [h].")
    price_usd_per_mwh: float = Field(description="Energy price in the period [USD/MWh].")

    @model_validator(mode="after")
    def _window(self) -> TouPeriod:
        _window_not_empty(self.from_h, self.to_h)
        return self


class TouPrice(_Model):
    """Time-of-use prices: periods that must not overlap, a base price elsewhere."""

    type: Literal["tou"] = "tou"
    base_usd_per_mwh: float = Field(description="Price in hours no period covers [USD/MWh].")
    periods: list[TouPeriod] = Field(min_length=1, description="Time-of-use periods.")


class FilePrice(_Model):
    """Hourly prices from a CSV file (columns ``time``, ``price_usd_per_mwh``).

    The path is relative to the folder of the scenario file that declares it. A one-year
    file (8760 or 8784 rows from 1 January 00:00) repeats over longer horizons; a file
    covering the horizon is used as is. Header lines starting with ``#`` should say how the
    file was made.
    """

    type: Literal["file"] = "file"
    path: DataPath = Field(
        description="CSV file, relative to the folder of the file that declares it."
    )


EnergyPrice = Annotated[FlatPrice | TouPrice | FilePrice, Field(discriminator="type")]


class CpAvoidance(_Model):
    """Shed deferrable work on likely system-peak afternoons (coincident-peak avoidance).

    A day of a coincident-peak month is a likely peak day when its maximum temperature (from
    the site weather, taken as a perfect day-ahead forecast) is within ``margin_delta_k`` of
    the highest daily maximum earlier in the month (the first day of a month always
    qualifies). Deferrable work is then shed in the hour window.
    """

    margin_delta_k: NonNeg | None = Field(
        default=None, description="Margin below the month's running maximum [K]."
    )
    from_h: HourOfDay | None = Field(default=None, description="Start of the shed window [h].")
    to_h: HourEnd | None = Field(default=None, description="End of the shed window [h].")
    weekdays_only: bool = Field(
        default=True,
        description="Only weekdays (no ERCOT 4CP fell on a weekend 2002-2018, Grid Monitor).",
    )

    @model_validator(mode="after")
    def _window(self) -> CpAvoidance:
        _window_not_empty(self.from_h, self.to_h)
        return self


class CoincidentPeak(_Model):
    """Coincident-peak (4CP-style) transmission charge.

    The site's import in the system-peak 15-minute interval of each listed month, averaged
    over the months, times ``charge_usd_per_kw_per_y``. The system peak comes from an hourly
    system-load file (the first quarter-hour of the peak hour) or, by default, from the site
    weather: the interval starting at ``peak_hour_h`` on the day whose temperature at that
    hour is the month's highest (a proxy: system load in summer follows afternoon heat).
    """

    charge_usd_per_kw_per_y: NonNeg = Field(
        description="Charge per kW of mean coincident-peak import per year [USD/kW-y]."
    )
    months: list[Month] = Field(
        default_factory=lambda: ["jun", "jul", "aug", "sep"],
        min_length=1,
        description="Months with a coincident peak (ERCOT: June-September).",
    )
    system_load_path: DataPath | None = Field(
        default=None,
        description=(
            "Hourly system-load CSV (columns time, system_load_mw), relative to the folder "
            "of the file that declares it; null for the weather proxy."
        ),
    )
    peak_hour_h: HourOfDay | None = Field(
        default=None,
        description="Weather proxy: start of the peak interval, on a quarter hour [h].",
    )
    avoidance: CpAvoidance | None = Field(
        default=None, description="Shed deferrable work on likely peak afternoons."
    )

    @model_validator(mode="after")
    def _quarter_hour(self) -> CoincidentPeak:
        if self.peak_hour_h is not None and (self.peak_hour_h * 4) % 1 != 0:
            raise ValueError(
                f"peak_hour_h {self.peak_hour_h:g} is not on a quarter hour; "
                "expected e.g. 15, 15.25, 15.5"
            )
        return self


class Tariff(_Model):
    """What the site pays for grid supply: energy, demand and coincident-peak charges."""

    energy: EnergyPrice = Field(description="Energy price: flat, tou or file.")
    allow_negative_prices: bool = Field(
        default=False, description="Accept prices below zero (wholesale markets have them)."
    )
    demand_charge_usd_per_kw_per_month: NonNeg = Field(
        default=0.0,
        description="Charge on the monthly peak of 15-minute average import [USD/kW-month].",
    )
    coincident_peak: CoincidentPeak | None = Field(
        default=None, description="Coincident-peak (4CP-style) charge."
    )


# --------------------------------------------------------------------------- carbon


class ConstantCarbon(_Model):
    """One grid carbon intensity for every hour."""

    type: Literal["constant"] = "constant"
    intensity_kg_per_mwh: NonNeg = Field(description="Grid carbon intensity [kg CO2/MWh].")


class FileCarbon(_Model):
    """Hourly grid carbon intensity from a CSV file (columns ``time``, ``carbon_kg_per_mwh``)."""

    type: Literal["file"] = "file"
    path: DataPath = Field(
        description="CSV file, relative to the folder of the file that declares it."
    )


CarbonIntensity = Annotated[ConstantCarbon | FileCarbon, Field(discriminator="type")]


class Carbon(_Model):
    """Carbon accounting of grid import: location-based and market-based.

    Location-based: import x grid intensity. Market-based: the share of import covered by
    contracted clean supply (annual matching) counts as zero, the rest at the grid intensity
    (the residual mix is not modelled). On-site fuel emissions add to both.
    """

    intensity: CarbonIntensity | None = Field(
        default=None, description="Grid intensity; null for the US average of the catalog."
    )
    clean_supply_mwh_per_y: NonNeg | None = Field(
        default=None, description="Contracted clean energy (PPAs, certificates) [MWh/y]."
    )
    clean_share_frac: Frac | None = Field(
        default=None, description="Or: share of grid import matched by clean supply [0..1]."
    )

    @model_validator(mode="after")
    def _one_clean(self) -> Carbon:
        if self.clean_supply_mwh_per_y is not None and self.clean_share_frac is not None:
            raise ValueError("give clean_supply_mwh_per_y or clean_share_frac, not both")
        return self


# --------------------------------------------------------------------------- on-site


class RideThrough(_Model):
    """Battery kept full for shortfalls (curtailment, disconnect, turbine start delay)."""

    type: Literal["ride_through"] = "ride_through"


class PeakShaving(_Model):
    """Battery discharges (above its reserve) to keep import at or below a threshold."""

    type: Literal["peak_shaving"] = "peak_shaving"
    threshold_mw: NonNeg = Field(description="Import threshold [MW].")


class Arbitrage(_Model):
    """Battery charges at low and discharges at high prices (above its reserve).

    Give price thresholds, or quantiles of each day's hourly prices (charge in the cheapest
    hours of the day, discharge in the dearest).
    """

    type: Literal["arbitrage"] = "arbitrage"
    charge_below_usd_per_mwh: float | None = Field(
        default=None, description="Charge when the price is at or below this [USD/MWh]."
    )
    discharge_above_usd_per_mwh: float | None = Field(
        default=None, description="Discharge when the price is at or above this [USD/MWh]."
    )
    charge_below_quantile_frac: Frac | None = Field(
        default=None, description="Or: charge at or below this quantile of the day's prices."
    )
    discharge_above_quantile_frac: Frac | None = Field(
        default=None, description="Or: discharge at or above this quantile of the day's prices."
    )

    @model_validator(mode="after")
    def _one_rule(self) -> Arbitrage:
        prices = (self.charge_below_usd_per_mwh, self.discharge_above_usd_per_mwh)
        quants = (self.charge_below_quantile_frac, self.discharge_above_quantile_frac)
        has_p = all(v is not None for v in prices) and all(v is None for v in quants)
        has_q = all(v is not None for v in quants) and all(v is None for v in prices)
        if not (has_p or has_q):
            raise ValueError(
                "give both charge_below_usd_per_mwh and discharge_above_usd_per_mwh, or both "
                "charge_below_quantile_frac and discharge_above_quantile_frac"
            )
        lo, hi = prices if has_p else quants
        if hi <= lo:
            raise ValueError(f"the discharge bound {hi:g} must be above the charge bound {lo:g}")
        return self


BatteryPolicy = Annotated[RideThrough | PeakShaving | Arbitrage, Field(discriminator="type")]


class Battery(_Model):
    """A battery at the site meter."""

    power_mw: Pos = Field(description="Inverter rating, charge and discharge [MW].")
    energy_mwh: Pos = Field(description="Usable energy [MWh].")
    round_trip_frac: Annotated[float, Field(gt=0, le=1)] | None = Field(
        default=None, description="AC round-trip efficiency [0..1]; null for the catalog's."
    )
    reserve_mwh: NonNeg = Field(
        default=0.0,
        description="Energy kept for ride-through; voluntary policies stay above it [MWh].",
    )
    initial_soc_frac: Frac | None = Field(
        default=None, description="State of charge at the start [0..1]; null: full."
    )
    policy: BatteryPolicy = Field(
        default_factory=RideThrough, description="ride_through, peak_shaving or arbitrage."
    )


class Turbines(_Model):
    """A block of identical gas turbines (e.g. aeroderivative units)."""

    units_count: int = Field(gt=0, description="Number of units.")
    unit_mw: Pos = Field(description="Rating of one unit [MW].")
    start_s: DurationS | None = Field(
        default=None, description="Start order to synchronised [s]; null for the catalog's."
    )
    min_load_frac: Frac | None = Field(
        default=None, description="Minimum stable load of a running unit [0..1]."
    )
    min_run_s: DurationS | None = Field(
        default=None, description="Minimum run time once started [s]."
    )
    heat_rate_mmbtu_per_mwh: Pos | None = Field(
        default=None, description="Fuel per electricity, HHV [MMBtu/MWh]."
    )
    fuel_usd_per_mmbtu: NonNeg | None = Field(
        default=None, description="Delivered fuel price [USD/MMBtu]."
    )
    emission_kg_per_mmbtu: NonNeg | None = Field(
        default=None, description="CO2 per fuel energy, HHV [kg/MMBtu]."
    )


class Solar(_Model):
    """Solar PV computed with pvlib (PVWatts chain) from the site weather."""

    dc_mw: Pos = Field(description="Module nameplate (DC) [MW].")
    ac_mw: Pos = Field(description="Inverter rating (AC) [MW].")
    mount: Literal["fixed", "single_axis"] = Field(
        default="fixed", description="Fixed tilt or single-axis (north-south axis) trackers."
    )
    tilt_deg: float | None = Field(
        default=None, ge=0, le=90, description="Fixed tilt [deg]; null: the site latitude."
    )
    azimuth_deg: float = Field(
        default=180.0, ge=0, lt=360, description="Fixed array azimuth, 180 = south [deg]."
    )
    losses_frac: Frac | None = Field(
        default=None, description="DC system losses [0..1]; null: PVWatts 14.08%."
    )
    module_type: Literal["standard", "premium", "thin_film"] = Field(
        default="standard", description="PVWatts module type (temperature coefficient)."
    )


class CleanBlock(_Model):
    """A firm clean supply on site (e.g. a small modular reactor) with its availability.

    With ``mtbf_h`` and ``mttr_h`` the block has seeded outages (exponential times between
    failures and repairs); otherwise it delivers ``availability_frac`` of its rating at all
    times (the expected value).
    """

    power_mw: Pos = Field(description="Net electrical rating [MW].")
    availability_frac: Frac | None = Field(
        default=None, description="Mean available share [0..1]; null for the catalog's."
    )
    mtbf_h: Pos | None = Field(default=None, description="Mean time between outages [h].")
    mttr_h: Pos | None = Field(default=None, description="Mean outage duration [h].")

    @model_validator(mode="after")
    def _outage_model(self) -> CleanBlock:
        if (self.mtbf_h is None) != (self.mttr_h is None):
            raise ValueError("give both mtbf_h and mttr_h, or neither")
        if self.mtbf_h is not None and self.availability_frac is not None:
            raise ValueError("give availability_frac or mtbf_h/mttr_h, not both")
        return self


class OnSite(_Model):
    """On-site supply behind the site meter."""

    battery: Battery | None = Field(default=None, description="Battery storage.")
    turbines: Turbines | None = Field(default=None, description="Gas turbine block.")
    solar: Solar | None = Field(default=None, description="Solar PV.")
    clean: CleanBlock | None = Field(default=None, description="Firm clean block.")
