"""The fleet blocks of a scenario: user regions, the latency between them and the sites, routing.

Without ``regions`` a scenario has one implicit region in the first site's local time with a
round trip of zero to every site, and each class's load is spread over all its racks by
capacity (``docs/demand.md``). With ``regions`` every workload's demand comes from the regions
(in each region's local time), and a routing policy sends each region's load to the sites
that keep the class's time-to-first-token SLO including the network round trip
(``docs/fleet.md``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from dcsim.scenario.base import Name, Pos
from dcsim.scenario.base import ScenarioModel as _Model
from dcsim.scenario.types import DurationS

#: Routing policies, in the order ``docs/fleet.md`` describes them.
ROUTING_POLICIES = ("nearest", "cost", "carbon")


class RegionDemand(_Model):
    """A region's demand of one workload class: a share of the workload's demand, or its own.

    ``share_frac`` takes the workload's own ``demand`` block, evaluated in the region's local
    time, times the share. ``demand`` is a full demand block (same fields as a workload's,
    profiles in the region's local time) that replaces the workload's for this region.
    """

    share_frac: Pos | None = Field(
        default=None,
        description="Share of the workload's demand block that comes from this region [frac].",
    )
    # "Demand" is resolved by dcsim.scenario.schema (RegionDemand.model_rebuild), which
    # imports this module: importing it here would be a cycle.
    demand: "Demand | None" = Field(  # noqa: F821, UP037
        default=None,
        description=(
            "The region's own demand block (fields of workloads[].demand, local time of the "
            "region); instead of share_frac."
        ),
    )

    @model_validator(mode="after")
    def _one_level(self) -> RegionDemand:
        if (self.share_frac is None) == (self.demand is None):
            raise ValueError("give exactly one of share_frac or demand")
        return self


class Region(_Model):
    """A user region: where requests come from, in which local time."""

    name: Name = Field(description="Region name, unique; the latency matrix rows name it.")
    utc_offset_h: float = Field(
        ge=-12, le=14, description="Local standard time offset of the region from UTC [h]."
    )
    latitude_deg: float | None = Field(
        default=None,
        ge=-90,
        le=90,
        description="Where the region's users are, for latency.type great_circle [deg].",
    )
    longitude_deg: float | None = Field(
        default=None, ge=-180, le=180, description="Longitude of the users [deg]."
    )
    demand: dict[str, RegionDemand] = Field(
        min_length=1,
        description="Demand per workload class (by workload name): a share or its own block.",
    )


class MatrixLatency(_Model):
    """Round-trip times given per region and site."""

    type: Literal["matrix"] = "matrix"
    rtt_s: dict[str, dict[str, DurationS]] = Field(
        description=(
            "Round-trip time from each region (outer key) to each site (inner key) [s]; "
            "durations with a unit, e.g. '35ms'. Every region has a row naming every site."
        )
    )


class GreatCircleLatency(_Model):
    """Round-trip times from the great-circle distance between the users and the sites.

    ``rtt = 2 x distance x route factor / (c / group index)``, with the catalog's fibre group
    index and route factor (``dcsim catalog grid_defaults``) unless given here.
    """

    type: Literal["great_circle"] = "great_circle"
    route_factor_frac: Pos | None = Field(
        default=None,
        description="Fibre path length / great-circle distance [-]; null: the catalog's.",
    )
    extra_rtt_s: DurationS = Field(
        default=0.0,
        description="Round trip added on every path (switching, last mile) [s], e.g. '2ms'.",
    )


Latency = Annotated[MatrixLatency | GreatCircleLatency, Field(discriminator="type")]


class Routing(_Model):
    """How each region's load is assigned to the sites that keep the SLO."""

    policy: Literal["nearest", "cost", "carbon"] = Field(
        default="nearest",
        description=(
            "Site order per region and tick: 'nearest' (lowest round trip), 'cost' (lowest "
            "marginal energy cost per token), 'carbon' (lowest grid carbon per token)."
        ),
    )
    spill_over: bool = Field(
        default=True,
        description=(
            "When the first site is full, send the rest to the next eligible site; false: "
            "what does not fit at the first site is unserved."
        ),
    )
