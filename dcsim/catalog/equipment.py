"""Typed catalog entries for power-chain equipment and demand profiles, and their loaders.

Shipped data: ``data/power_equipment.yaml`` (UPS loss curves, PDU/busway, transformers) and
``data/demand_profiles.yaml`` (daily and weekly demand shapes). Every number carries a source
and a confidence grade (see :mod:`dcsim.catalog.schema`). Values are dimensionless
fractions, so no unit conversion is needed when the plant is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from dcsim.catalog.schema import Confidence, SNum, Sourced
from dcsim.catalog.yaml_file import read_yaml
from dcsim.errors import ConfigError

__all__ = [
    "PDU",
    "DemandProfile",
    "PowerEquipment",
    "SourcedSeries",
    "Transformer",
    "UPSCurve",
    "UPSFitPoint",
    "load_demand_profiles",
    "load_power_equipment",
]

_DATA_DIR = Path(__file__).parent / "data"
POWER_EQUIPMENT_PATH = _DATA_DIR / "power_equipment.yaml"
DEMAND_PROFILES_PATH = _DATA_DIR / "demand_profiles.yaml"

_HOURS_PER_DAY = 24
_DAYS_PER_WEEK = 7


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Human-readable name.")
    notes: str = Field(default="", description="Free text: caveats, what a figure means.")


def _check_frac(v: Sourced, upper_inclusive: bool) -> Sourced:
    ok = 0.0 < v.value <= 1.0 if upper_inclusive else 0.0 <= v.value < 1.0
    if not ok:
        expected = "in (0, 1]" if upper_inclusive else "in [0, 1)"
        raise ValueError(f"{v.value} must be {expected}")
    return v


class UPSFitPoint(BaseModel):
    """A published (load, efficiency) point a UPS curve was fitted to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    load_frac: float = Field(gt=0.0, description="Module output over rating [-].")
    efficiency_frac: float = Field(gt=0.0, lt=1.0, description="Output over input power [-].")


class UPSCurve(_Entry):
    """Loss curve of one UPS module: loss = rating x (a0 + a1 x + a2 x^2), x = load/rating."""

    type: Literal["ups"] = Field(description="Discriminator.")
    a0_frac: SNum = Field(description="No-load loss over module rating [-].")
    a1_frac: SNum = Field(description="Proportional loss coefficient [-].")
    a2_frac: SNum = Field(description="Square-law loss coefficient [-].")
    fit_points: list[UPSFitPoint] = Field(
        default_factory=list, description="Points the coefficients were fitted to, if any."
    )

    @field_validator("a0_frac", "a1_frac", "a2_frac")
    @classmethod
    def _non_negative(cls, v: Sourced) -> Sourced:
        return _check_frac(v, upper_inclusive=False)


class PDU(_Entry):
    """PDU and busway stage between UPS output and rack inlet, as a constant efficiency."""

    type: Literal["pdu"] = Field(description="Discriminator.")
    efficiency_frac: SNum = Field(description="Delivered over drawn power [0..1].")

    @field_validator("efficiency_frac")
    @classmethod
    def _in_unit_interval(cls, v: Sourced) -> Sourced:
        return _check_frac(v, upper_inclusive=True)


class Transformer(_Entry):
    """Transformer: loss = rating x (no_load + load_loss x (load/rating)^2)."""

    type: Literal["transformer"] = Field(description="Discriminator.")
    no_load_frac: SNum = Field(description="Core (no-load) loss over rating [-].")
    load_loss_frac: SNum = Field(description="Copper loss at rated load over rating [-].")

    @field_validator("no_load_frac", "load_loss_frac")
    @classmethod
    def _non_negative(cls, v: Sourced) -> Sourced:
        return _check_frac(v, upper_inclusive=False)


PowerEquipment = Annotated[UPSCurve | PDU | Transformer, Field(discriminator="type")]


class SourcedSeries(BaseModel):
    """A list of numbers with its provenance (e.g. an hourly profile)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: list[float] = Field(description="The numbers, in the unit named by the holding field.")
    source: str = Field(min_length=1, description="Where the numbers come from.")
    confidence: Confidence = Field(description="P, S, U, fit or scenario.")


def _check_profile(v: SourcedSeries, length: int) -> SourcedSeries:
    if len(v.value) != length:
        raise ValueError(f"{len(v.value)} values; expected {length}")
    if min(v.value) < 0.0 or max(v.value) <= 0.0:
        raise ValueError(f"{v.value} must be >= 0 with at least one value > 0")
    return v


class DemandProfile(_Entry):
    """Relative daily and weekly demand shape of a workload class.

    Only the shape matters: :func:`dcsim.physics.demand.demand_tok_per_s` divides each profile
    by its mean, so the workload's base rate is its long-run mean.
    """

    daily_profile_frac: SourcedSeries = Field(
        description="24 relative values; value i is the mean of local hour i [-]."
    )
    weekly_profile_frac: SourcedSeries = Field(
        description="7 relative values, Monday first, one per local calendar day [-]."
    )

    @field_validator("daily_profile_frac")
    @classmethod
    def _daily_len(cls, v: SourcedSeries) -> SourcedSeries:
        return _check_profile(v, _HOURS_PER_DAY)

    @field_validator("weekly_profile_frac")
    @classmethod
    def _weekly_len(cls, v: SourcedSeries) -> SourcedSeries:
        return _check_profile(v, _DAYS_PER_WEEK)


_T = TypeVar("_T")


def _validate(adapter: TypeAdapter[_T], data: object, path: Path) -> _T:
    try:
        return adapter.validate_python(data)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{field}: {err.get('input')!r} {err['msg']}", where=str(path)) from e


_POWER_EQUIPMENT_ADAPTER = TypeAdapter(dict[str, PowerEquipment])
_DEMAND_PROFILES_ADAPTER = TypeAdapter(dict[str, DemandProfile])


def load_power_equipment(
    path: str | Path | None = None,
) -> dict[str, UPSCurve | PDU | Transformer]:
    """Load power-chain equipment entries, keyed by entry id.

    Parameters
    ----------
    path
        YAML file; the shipped ``data/power_equipment.yaml`` when None.

    Returns
    -------
    Entry id -> :class:`UPSCurve`, :class:`PDU` or :class:`Transformer` (by ``type:``).

    Raises
    ------
    ConfigError
        If the file cannot be read or an entry is invalid.
    """
    p = Path(path) if path is not None else POWER_EQUIPMENT_PATH
    return _validate(_POWER_EQUIPMENT_ADAPTER, read_yaml(p), p)


def load_demand_profiles(path: str | Path | None = None) -> dict[str, DemandProfile]:
    """Load demand profiles, keyed by profile id.

    Parameters
    ----------
    path
        YAML file; the shipped ``data/demand_profiles.yaml`` when None.

    Returns
    -------
    Profile id -> :class:`DemandProfile`.

    Raises
    ------
    ConfigError
        If the file cannot be read or a profile is invalid.
    """
    p = Path(path) if path is not None else DEMAND_PROFILES_PATH
    return _validate(_DEMAND_PROFILES_ADAPTER, read_yaml(p), p)
