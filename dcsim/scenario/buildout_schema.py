"""Scenario blocks for capacity over time: build-out, reliability, training and economics.

``buildout:`` (MODEL.md section 6) says when each hall gets its shell, power and cooling,
when racks may ship, how fast they are supplied and installed, and how burn-in goes.
``reliability:`` switches component failures on and tunes them, ``economics:`` overrides
the cost catalog, and a workload's ``training:`` block makes it a training reservation
with checkpoint/restart goodput.

Semantics of the build-out, in one place:

- Halls named by a phase are built: their racks (every rack group of the hall) are
  delivered, installed, burnt in and put in service by the build-out processes. Halls in
  no phase already exist: their racks follow their rack group's ``in_service`` date.
- Every built rack ships no earlier than its delivery's ``earliest`` date; racks no
  delivery names may ship from their hall's ``shell_ready`` date. Deliveries by ``system``
  take racks of that system in built halls, in the order the halls are energised.
- Shipments per rack system are limited by its supply rate (racks per month, cut by the
  shortages in force) and leave every ``shipment_every_s``; a shipment may slip (seeded).
- Installation crews install delivered racks once the hall's shell is ready, at most
  ``racks_per_week`` per hall (or per site). Installed racks start burn-in once the hall is
  energised and its cooling commissioned; until then they (and delivered racks waiting for
  a shell) are *stranded*.
- Burn-in draws full power and serves nothing; a rack that fails it (infant mortality)
  goes back to the vendor for ``rework_s`` and then repeats burn-in.
- The build-out advances in steps of ``step_s`` (one day by default): every date takes
  effect at the first step at or after it.

YAML units: durations as text (``"3d"``), rates per month or week, dates as ISO text.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dcsim.scenario.base import Frac, Name, NonNeg, Pos
from dcsim.scenario.base import ScenarioModel as _Model
from dcsim.scenario.types import Date, DurationS, SignedDurationS
from dcsim.units import D_S

__all__ = [
    "BurnIn",
    "Buildout",
    "Delivery",
    "Economics",
    "Installation",
    "MaintenanceWindow",
    "Phase",
    "Reliability",
    "Shortage",
    "Slip",
    "Spares",
    "Supply",
    "Training",
]

# --------------------------------------------------------------------------- build-out


class Phase(_Model):
    """A construction phase: halls that get their shell, power and cooling together."""

    name: Name = Field(description="Phase name, e.g. 'p1'.")
    halls: list[Name] = Field(min_length=1, description="Names of the halls this phase builds.")
    shell_ready: Date = Field(description="Building shell ready: racks may be installed.")
    energised: Date = Field(description="Hall feed energised: power available to racks.")
    cooling_commissioned: Date = Field(
        description="Cooling commissioned: racks may start burn-in (needs power as well)."
    )


class Delivery(_Model):
    """An order of racks: which racks, how many, and the earliest date they may ship."""

    rack_group: str | None = Field(
        default=None,
        description=(
            "Rack group as '<hall>/<group name>' (or a group name, meaning that group in "
            "every built hall)."
        ),
    )
    system: str | None = Field(
        default=None, description="Rack system id: racks of this system in the built halls."
    )
    count: int | None = Field(
        default=None,
        gt=0,
        description="Racks in this order [count]; default: all not yet ordered.",
    )
    earliest: Date = Field(description="Earliest date the racks may ship.")

    @model_validator(mode="after")
    def _one_target(self) -> Delivery:
        if (self.rack_group is None) == (self.system is None):
            raise ValueError("give exactly one of rack_group or system")
        return self


class Slip(_Model):
    """Seeded delays of shipments."""

    probability_frac: Frac = Field(
        default=0.0, description="Probability that a shipment slips [0..1]."
    )
    mean_s: DurationS = Field(
        default=0.0, description="Mean slip of a slipping shipment (exponential) [s], e.g. '14d'."
    )
    max_s: DurationS = Field(
        default=90 * D_S, description="Longest slip (the exponential is cut here) [s]."
    )


class Supply(_Model):
    """Supply of one rack system to the campus."""

    system: str = Field(description="Rack system id.")
    racks_per_month: NonNeg = Field(
        description="Racks the vendor can ship per month (a month = 1/12 year) [racks/month]."
    )
    shipment_every_s: DurationS = Field(
        default=7 * D_S, description="Interval between shipments [s], e.g. '7d'."
    )
    slip: Slip = Field(default_factory=Slip, description="Seeded shipment delays.")


class Shortage(_Model):
    """A period in which supply is cut, e.g. an HBM shortage."""

    name: Name | None = Field(default=None, description="Label for the event log.")
    system: str | None = Field(default=None, description="Rack system id the cut applies to.")
    component: Literal["gpu", "hbm"] | None = Field(
        default=None, description="Component in short supply; cuts every GPU rack system."
    )
    start: Date = Field(description="First day of the shortage.")
    end: Date = Field(description="Day the shortage ends (exclusive).")
    supply_cut_frac: Frac = Field(description="Share of the supply rate lost [0..1].")

    @model_validator(mode="after")
    def _one_target(self) -> Shortage:
        if (self.system is None) == (self.component is None):
            raise ValueError("give exactly one of system or component")
        return self


class Installation(_Model):
    """Installation crews."""

    racks_per_week: Pos = Field(description="Racks the crews install per week [racks/week].")
    per: Literal["hall", "site"] = Field(
        default="hall", description="Whether the rate is per hall or shared by a site's halls."
    )


class BurnIn(_Model):
    """Burn-in before service: full power, no tokens, some racks fail and return later."""

    duration_s: DurationS = Field(default=3 * D_S, description="Burn-in time [s], e.g. '3d'.")
    infant_failure_frac: Frac = Field(
        default=0.0, description="Share of burn-ins that fail (infant mortality) [0..1]."
    )
    rework_s: DurationS = Field(
        default=14 * D_S,
        description="Time a rack that failed burn-in is away before it repeats burn-in [s].",
    )


class Buildout(_Model):
    """Phased construction, supply-limited deliveries, installation and burn-in."""

    step_s: DurationS = Field(
        default=D_S,
        gt=0,
        description="Step of the build-out processes [s]; dates take effect at a step.",
    )
    phases: list[Phase] = Field(min_length=1, description="Construction phases.")
    deliveries: list[Delivery] = Field(
        default_factory=list, description="Rack orders (by rack group or by rack system)."
    )
    supply: list[Supply] = Field(min_length=1, description="Supply rate per rack system.")
    shortages: list[Shortage] = Field(default_factory=list, description="Supply cuts.")
    installation: Installation = Field(description="Installation crews.")
    burn_in: BurnIn = Field(default_factory=BurnIn, description="Burn-in settings.")


# --------------------------------------------------------------------------- reliability


class Spares(_Model):
    """Spare field-replaceable units kept in each hall, and how fast used ones come back.

    A spare is one field-replaceable unit: a node of an 8-GPU system, a compute tray (or
    switch tray) of a rack-scale system. Every repair of a cause that needs a part uses one.
    """

    spares_frac: Frac | None = Field(
        default=None,
        description=(
            "Spares per hall as a share of the hall's hosts (nodes or compute trays) [0..1], "
            "rounded up."
        ),
    )
    per_hall_count: int | None = Field(
        default=None, ge=0, description="Spares per hall [count]; overrides spares_frac."
    )
    rma_turnaround_s: SignedDurationS | None = Field(
        default=None,
        description=(
            "Time a used spare takes to be replaced (RMA) [s]; default: each cause's RMA "
            "time from the catalog."
        ),
    )

    @model_validator(mode="after")
    def _one_size(self) -> Spares:
        if self.spares_frac is None and self.per_hall_count is None:
            raise ValueError("give spares_frac or per_hall_count")
        return self


class MaintenanceWindow(_Model):
    """Recurring planned maintenance: a share of racks out of service for a while."""

    every_s: DurationS = Field(gt=0, description="Interval between windows [s], e.g. '7d'.")
    duration_s: DurationS = Field(gt=0, description="Length of a window [s], e.g. '4h'.")
    racks_frac: Frac = Field(
        description="Share of each cell's in-service racks taken out per window [0..1]."
    )
    offset_s: DurationS | None = Field(
        default=None, description="Start of the first window after the scenario start [s]."
    )


class Reliability(_Model):
    """Component failures and repairs, spares and planned maintenance."""

    enabled: bool = Field(default=True, description="Simulate failures (false: none).")
    rate_multiplier_frac: NonNeg = Field(
        default=1.0, description="Multiplier on every catalog failure rate [-] (1 = catalog)."
    )
    rate_overrides_per_h: dict[str, float] = Field(
        default_factory=dict,
        description="Failure rate by cause id, per basis unit per hour [1/h].",
    )
    repair_overrides_s: dict[str, SignedDurationS] = Field(
        default_factory=dict,
        description="Swap/restart time by cause id [s], e.g. {gpu: '2h'}.",
    )
    spares: Spares | None = Field(
        default=None,
        description="Spares policy; default: a part is always on hand (every repair a swap).",
    )
    maintenance: list[MaintenanceWindow] = Field(
        default_factory=list, description="Planned maintenance windows."
    )
    event_quantum_s: DurationS = Field(
        default=0.0,
        description=(
            "Failures and repairs take effect on a grid of this spacing [s]; 0 = the tick. "
            "A coarser grid (e.g. '15min') splits the compiled physics less often."
        ),
    )


# --------------------------------------------------------------------------- training


class Training(_Model):
    """A training reservation: the workload's racks run one job that checkpoints."""

    rack_groups: list[str] = Field(
        default_factory=list,
        description=(
            "Rack groups of the job, as '<hall>/<group>' or a group name; default: every "
            "rack group serving this workload."
        ),
    )
    checkpoint_interval_s: DurationS | None = Field(
        default=None,
        gt=0,
        description="Compute time between checkpoints [s]; default: the optimum (rule).",
    )
    interval_rule: Literal["daly", "young"] = Field(
        default="daly",
        description="Optimum used when no interval is given: Daly (2006) or Young (1974).",
    )
    checkpoint_write_s: DurationS = Field(gt=0, description="Time to write a checkpoint [s].")
    restart_s: DurationS = Field(
        description="Restart cost after an interruption (reload, re-form communicators) [s]."
    )


# --------------------------------------------------------------------------- economics


class Economics(_Model):
    """Cost figures; each one overrides the catalog's (catalog/data/economics.yaml)."""

    rack_capex_usd: dict[str, Pos] = Field(
        default_factory=dict, description="Price per rack unit by rack system id [USD]."
    )
    facility_capex_usd_per_mw: Pos | None = Field(
        default=None, description="Facility build cost per MW of hall feed [USD/MW]."
    )
    it_depreciation_s: DurationS | None = Field(
        default=None, gt=0, description="Straight-line life of IT equipment [s], e.g. '5y'."
    )
    facility_depreciation_s: DurationS | None = Field(
        default=None, gt=0, description="Straight-line life of the facility [s], e.g. '20y'."
    )
    maintenance_per_y_frac: NonNeg | None = Field(
        default=None, description="Yearly maintenance as a share of capex [1/y]."
    )
    energy_price_usd_per_mwh: NonNeg | None = Field(
        default=None, description="Energy price when there is no grid tariff [USD/MWh]."
    )
    water_price_usd_per_m3: NonNeg | None = Field(default=None, description="Water price [USD/m3].")
