"""The scenario schema: what a planner writes, validated once at the boundary.

Field names carry their unit (see :mod:`dcsim.units`); YAML uses practical units (MW, h) that
the plant builder converts to SI once. Durations accept strings such as ``"15min"`` or ``"1y"``.
``dcsim schema`` prints the JSON Schema of :class:`Scenario` for editor completion.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, model_serializer, model_validator

from dcsim.scenario.base import Name, NonNeg, Pos, ScenarioName
from dcsim.scenario.base import ScenarioModel as _Model
from dcsim.scenario.buildout_schema import Buildout, Economics, Reliability, Training
from dcsim.scenario.cooling_schema import AirCooling, CoolingFault, LiquidCooling
from dcsim.scenario.grid_schema import Carbon, GridContract, OnSite, Tariff
from dcsim.scenario.regions_schema import Latency, Region, RegionDemand, Routing
from dcsim.scenario.training_schema import TrainingJob
from dcsim.scenario.types import Date, DurationS
from dcsim.scenario.weather_schema import Weather
from dcsim.scenario.windows_schema import Window

# --------------------------------------------------------------------------- workloads


class Burst(_Model):
    """A period of demand above (or below) the profile."""

    start: Date = Field(description="When the burst starts.")
    duration_s: DurationS = Field(description="How long it lasts [s]; e.g. '6h'.")
    multiplier_frac: Pos = Field(description="Demand multiplier during the burst (2 = double).")


class Demand(_Model):
    """Demand of a workload class over time (MODEL.md section 2).

    Exactly one of ``base_tok_per_s`` and ``base_capacity_frac`` sets the long-run mean level at
    the start of the horizon; profiles are normalised to mean 1 so they shape, not scale.
    """

    base_tok_per_s: Pos | None = Field(
        default=None, description="Mean output-token demand at the start [tok/s]."
    )
    base_capacity_frac: Pos | None = Field(
        default=None,
        description=(
            "Mean demand at the start as a share of the class's full installed capacity "
            "(all its racks in service, uncapped) [0..]; convenient when sizing."
        ),
    )
    daily_profile_frac: Literal["flat", "interactive"] | list[Pos] = Field(
        default="interactive",
        description=(
            "24 hourly multipliers (local time of the site), or a named profile from "
            "catalog/data/demand_profiles.yaml."
        ),
    )
    weekly_profile_frac: Literal["flat", "interactive"] | list[Pos] = Field(
        default="flat", description="7 daily multipliers, Monday first, or a named profile."
    )
    growth_per_y_frac: float = Field(
        default=0.0, gt=-1, description="Compound growth of demand per year [frac/y]."
    )
    growth_from: Date | None = Field(
        default=None,
        description=(
            "Date at which the base level (base_tok_per_s or base_capacity_frac) holds and "
            "from which growth compounds; a run starting later continues the same curve. "
            "Null: the scenario's start (growth restarts at each run's start)."
        ),
    )
    noise_sigma_frac: NonNeg = Field(
        default=0.0, description="Standard deviation of multiplicative lognormal noise [frac]."
    )
    noise_corr_s: DurationS = Field(
        default=3600.0, description="Correlation time of the noise (AR(1)) [s]; e.g. '1h'."
    )
    bursts: list[Burst] = Field(default_factory=list, description="Demand bursts.")

    @model_validator(mode="after")
    def _one_level(self) -> Demand:
        if (self.base_tok_per_s is None) == (self.base_capacity_frac is None):
            raise ValueError("give exactly one of base_tok_per_s or base_capacity_frac")
        return self


RegionDemand.model_rebuild(_types_namespace={"Demand": Demand})


class Workload(_Model):
    """A workload class: one model served under one SLO (MODEL.md section 2)."""

    name: Name = Field(description="Class name; rack groups refer to it.")
    model: str = Field(description="LLM id in the catalog (see `dcsim catalog models`).")
    precision: Literal["bf16", "fp8", "fp4"] = Field(
        default="fp8", description="Weight and compute precision."
    )
    kv_precision: Literal["bf16", "fp8", "fp4"] | None = Field(
        default=None, description="KV-cache precision; defaults to the weight precision."
    )
    input_tok: Pos = Field(description="Mean prompt length [tok].")
    output_tok: Pos = Field(description="Mean output length [tok].")
    output_tok_cv_frac: NonNeg | None = Field(
        default=None,
        description=(
            "Coefficient of variation of the output length [-] (spread of the request queue's "
            "service time, docs/queueing.md); null takes the catalog default."
        ),
    )
    input_tok_cv_frac: NonNeg | None = Field(
        default=None,
        description=(
            "Coefficient of variation of the prompt length [-] (spread of prefill times, "
            "docs/queueing.md); null takes the catalog default."
        ),
    )
    tpot_s: Pos | None = Field(
        default=None,
        description="Time-per-output-token SLO [s]; null for an offline class (no bound).",
    )
    ttft_s: Pos | None = Field(
        default=None, description="Time-to-first-token SLO [s]; null for an offline class."
    )
    priority: int = Field(
        default=1,
        ge=0,
        description="Higher is more important; power caps hit the lowest priority first.",
    )
    deferrable: bool = Field(
        default=False, description="Work may wait in a backlog until its deadline."
    )
    deadline_s: DurationS | None = Field(
        default=None, description="Deadline of deferrable work [s], e.g. '24h'."
    )
    demand: Demand = Field(description="Demand over time.")
    input_price_usd_per_mtok: NonNeg | None = Field(
        default=None,
        description=(
            "Price the class's customers pay per 1e6 input (prompt) tokens [USD/Mtok]; null "
            "takes the catalog's list price for the model (`dcsim catalog economics`, "
            "token_price_usd_per_mtok), 0 for a training class (docs/economics.md)."
        ),
    )
    output_price_usd_per_mtok: NonNeg | None = Field(
        default=None,
        description=(
            "Price per 1e6 output tokens [USD/Mtok]; null takes the catalog's list price for "
            "the model, 0 for a training class (docs/economics.md)."
        ),
    )
    training: Training | None = Field(
        default=None,
        description=(
            "Run this class as a training reservation: checkpoint interval (Young/Daly by "
            "default), checkpoint write and restart costs; goodput under the simulated failures."
        ),
    )

    @model_validator(mode="after")
    def _deadline_iff_deferrable(self) -> Workload:
        if self.deferrable and self.deadline_s is None:
            raise ValueError("a deferrable workload needs deadline_s")
        if not self.deferrable and self.deadline_s is not None:
            raise ValueError("deadline_s is only meaningful with deferrable: true")
        if (self.tpot_s is None) != (self.ttft_s is None):
            raise ValueError("give both tpot_s and ttft_s (interactive) or neither (offline)")
        return self


# --------------------------------------------------------------------------- plant


class RackGroup(_Model):
    """Racks of one system serving one workload class in a hall."""

    name: Name | None = Field(default=None, description="Optional label; defaults to index.")
    system: str = Field(description="Rack system id in the catalog.")
    count: int = Field(gt=0, description="Number of racks (or nodes for node systems).")
    workload: str = Field(description="Workload class these racks serve.")
    stack: str = Field(default="trtllm", description="Software stack (efficiency factors).")
    replica_gpus_count: int | None = Field(
        default=None,
        gt=0,
        description=(
            "GPUs per model replica (tensor/expert parallel degree); default: the power of two "
            "that serves the most tokens per rack within the SLO."
        ),
    )
    in_service: Date | None = Field(
        default=None, description="Date the racks enter service; default: scenario start."
    )
    gpu_power_limit_w: Pos | None = Field(
        default=None,
        description=(
            "Board power limit of each GPU [W] (nvidia-smi -pl); the clock follows it through "
            "the DVFS law. Default: the rack system's limit, else the accelerator's TDP. Must "
            "be above the chip's idle power and at most its maximum."
        ),
    )
    max_batch_count: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Most sequences one replica runs at once (vLLM max_num_seqs, TensorRT-LLM "
            "max_batch_size); bounds the SLO batch and the KV limit. Default: no limit; >= 1."
        ),
    )


class FixedCopCooling(_Model):
    """Mechanical cooling power as heat divided by a fixed coefficient of performance.

    The simplest plant: no loop temperatures, so no thermal throttling. Use it when the
    cooling design is not the question.
    """

    type: Literal["fixed_cop"] = "fixed_cop"
    cop: Pos = Field(description="Heat removed per unit of electrical power [W/W].")


Cooling = Annotated[FixedCopCooling | LiquidCooling | AirCooling, Field(discriminator="type")]


class Hall(_Model):
    """A data hall: one electrical feed and one cooling system."""

    name: Name = Field(description="Hall name, unique within the campus.")
    feed_mw: Pos = Field(
        description="Critical (UPS output) capacity of the hall feed [MW]; never exceeded."
    )
    ups_topology: Literal["2N", "N+1"] = Field(default="2N", description="UPS redundancy.")
    ups_module_mw: Pos = Field(default=2.5, description="Rating of one UPS module [MW].")
    rack_groups: list[RackGroup] = Field(min_length=1, description="Racks in this hall.")
    cooling: Cooling = Field(
        default_factory=lambda: FixedCopCooling(cop=12.0),
        description="Cooling plant of the hall.",
    )


class Building(_Model):
    """A building: a shell holding halls."""

    name: Name = Field(description="Building name.")
    halls: list[Hall] = Field(min_length=1, description="Halls in the building.")


class Location(_Model):
    """Geographic location of a site."""

    latitude_deg: float = Field(ge=-90, le=90, description="Latitude [deg].")
    longitude_deg: float = Field(ge=-180, le=180, description="Longitude [deg].")
    utc_offset_h: float = Field(
        default=0.0, ge=-12, le=14, description="Local standard time offset from UTC [h]."
    )


class PowerChain(_Model):
    """Equipment of the power chain, by id in catalog/data/power_equipment.yaml."""

    pdu: str = Field(default="pdu_busway", description="PDU/busway entry.")
    ups: str = Field(default="ups_double_conversion", description="UPS loss-curve entry.")
    transformer: str = Field(default="transformer_mv_lv", description="Transformer entry.")
    transformer_mva: Pos | None = Field(
        default=None,
        description="Total transformer rating of the site [MVA ~ MW]; default: import limit.",
    )


class Site(_Model):
    """A site: location, grid connection and buildings."""

    name: Name = Field(description="Site name.")
    location: Location = Field(description="Where the site is.")
    import_limit_mw: Pos = Field(
        description="Grid import limit at the site meter [MW]; never exceeded."
    )
    power_chain: PowerChain = Field(default_factory=PowerChain, description="Loss models.")
    weather: Weather | None = Field(
        default=None,
        description=(
            "Site weather (typical-year file, warming offset, heat waves); default: pvlib's "
            "Greensboro NC TMY3 sample."
        ),
    )
    grid: GridContract | None = Field(
        default=None,
        description=(
            "Grid contract: firm and non-firm import, curtailment, disconnects, minimum take; "
            "default: the import limit, firm, always available."
        ),
    )
    tariff: Tariff | None = Field(
        default=None,
        description="Energy price, demand and coincident-peak charges; default: no costs.",
    )
    carbon: Carbon | None = Field(
        default=None,
        description="Grid carbon intensity and contracted clean supply; default: US average.",
    )
    onsite: OnSite | None = Field(
        default=None,
        description="On-site supply: battery, gas turbines, solar PV, a firm clean block.",
    )
    buildings: list[Building] = Field(min_length=1, description="Buildings on the site.")
    power_policy: Literal["priority_caps", "uniform_limit", "park"] = Field(
        default="priority_caps",
        description=(
            "How the site's racks meet a power shortfall (curtailment, import limit, hall "
            "feed or heat limit): 'priority_caps' lowers the GPU power limit of the "
            "lowest-priority pools first, one priority at a time; 'uniform_limit' lowers the "
            "GPU power limit of all its pools together; 'park' switches whole racks off, "
            "lowest priority first, and keeps the rest at their full limit (docs/compute.md)."
        ),
    )


#: Optional top-level fleet fields, left out of the resolved scenario when absent.
FLEET_FIELDS = ("regions", "latency", "routing")


class Scenario(_Model):
    """A dcsim scenario: the campus, its workloads and the run settings."""

    name: ScenarioName = Field(description="Scenario name; results go to results/<name>/.")
    description: str = Field(default="", description="Free text.")
    seed: int = Field(default=0, ge=0, description="Seed of the run's random streams.")
    start: Date = Field(
        description=(
            "Start of the simulated horizon, wall clock in the local standard time of the "
            "first site; results are stamped in UTC (README, run folders)."
        )
    )
    horizon_s: DurationS = Field(description="Simulated horizon [s], e.g. '1y', '7d'.")
    tick_s: DurationS = Field(default=60.0, description="Physics tick [s], e.g. '1min'.")
    record_every_s: DurationS = Field(
        default=900.0, description="Interval of the recorded time series [s], e.g. '15min'."
    )
    hall_record_every_s: DurationS = Field(
        default=3600.0, description="Interval of the per-hall detail table [s]."
    )
    dispatch: Literal["spread", "pack"] = Field(
        default="spread",
        description=(
            "How a pool's load spreads over its racks: evenly ('spread') or packed onto as "
            "few racks as needed with the rest idle ('pack')."
        ),
    )
    allow_oversubscription: bool = Field(
        default=False,
        description="Allow more rack design power than a hall feed carries (relies on capping).",
    )
    catalog: dict[str, dict[str, dict[str, Any]]] = Field(
        default_factory=dict,
        description="Catalog additions or overrides, same shape as the catalog files.",
    )
    workloads: list[Workload] = Field(min_length=1, description="Workload classes.")
    sites: list[Site] = Field(min_length=1, description="Sites of the campus.")
    cooling_faults: list[CoolingFault] = Field(
        default_factory=list,
        description="Scheduled outages of cooling units (CDUs, pumps, dry coolers, chillers).",
    )
    buildout: Buildout | None = Field(
        default=None,
        description=(
            "Phased build-out: hall energisation and cooling dates, rack supply with slips and "
            "shortages, installation crews, burn-in; default: racks enter service on their "
            "rack group's in_service date."
        ),
    )
    reliability: Reliability | None = Field(
        default=None,
        description=(
            "Component failures and repairs (catalog rates), spares, maintenance windows; "
            "default: no failures."
        ),
    )
    economics: Economics | None = Field(
        default=None,
        description=(
            "Capex, depreciation, maintenance and prices for cost per token; default: catalog."
        ),
    )
    windows: list[Window] = Field(
        default_factory=list,
        description=(
            "Request-level windows replayed after the fluid run on sampled replicas "
            "(docs/windows.md); default: none."
        ),
    )
    training_jobs: list[TrainingJob] = Field(
        default_factory=list,
        description=(
            "Training jobs as a power state of halls or rack groups (iteration swings, "
            "checkpoints, restarts), with an optional repurposing date (docs/training.md)."
        ),
    )
    regions: list[Region] | None = Field(
        default=None,
        description=(
            "User regions with their own demand in local time (docs/fleet.md); default: one "
            "region in the first site's local time, round trip 0, load spread by capacity."
        ),
    )
    latency: Latency | None = Field(
        default=None,
        description="Round-trip times between regions and sites (needs regions).",
    )
    routing: Routing | None = Field(
        default=None,
        description="Routing policy of the regions' load (needs regions); default: nearest.",
    )
    #: Folder of the scenario file (relative file names resolve from it); not a field.
    _base_dir: str | None = PrivateAttr(default=None)

    @model_serializer(mode="wrap")
    def _omit_absent_fleet(self, handler: Any) -> Any:
        # A scenario without the fleet blocks resolves to the same text (and hash) as before
        # they existed, so the regression baselines of such scenarios stay valid.
        data = handler(self)
        if isinstance(data, dict):
            for key in FLEET_FIELDS:
                if data.get(key, 0) is None:
                    del data[key]
        return data

    @property
    def end(self) -> dt.datetime:
        """End of the horizon."""
        return self.start + dt.timedelta(seconds=self.horizon_s)
