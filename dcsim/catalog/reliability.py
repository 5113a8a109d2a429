"""Typed catalog of component failure rates, blast radii and repair times, and its loader.

Shipped data: ``data/reliability.yaml``, derived from the Llama 3 interruption table (see the
file header for the derivation). Rates are per unit-hour of each cause's ``basis`` (GPU,
host, rack or NVLink switch tray); repair times in hours (swap/restart) and days (RMA).
The model layer (:mod:`dcsim.model.capacity`) converts them to SI once.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from dcsim.catalog.schema import Confidence, SNum, Sourced
from dcsim.catalog.yaml_file import read_yaml
from dcsim.errors import ConfigError

__all__ = [
    "BASES",
    "BLASTS",
    "FailureCause",
    "LlamaReference",
    "ReliabilityCatalog",
    "SystemReliability",
    "load_reliability",
    "validate_catalog_data",
]

_DATA_DIR = Path(__file__).parent / "data"
RELIABILITY_PATH = _DATA_DIR / "reliability.yaml"

#: Units a failure rate is counted per (see the data file header).
BASES: tuple[str, ...] = ("gpu", "host", "rack", "nvlink_tray")
#: Blast radii, from least to most capacity removed.
BLASTS: tuple[str, ...] = ("none", "replica", "host", "rack")

Basis = Literal["gpu", "host", "rack", "nvlink_tray"]
Blast = Literal["none", "replica", "host", "rack"]


def _non_negative(v: Sourced) -> Sourced:
    if not v.value >= 0.0:  # also refuses NaN
        raise ValueError(f"{v.value} must be >= 0")
    return v


class FailureCause(BaseModel):
    """One cause of failure: its rate, what it takes out of service and for how long."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Human-readable name.")
    notes: str = Field(default="", description="Free text.")
    basis: Basis = Field(description="Unit the rate is counted per: gpu, host, rack, nvlink_tray.")
    llama3_count: int | None = Field(
        default=None, ge=0, description="Unexpected interruptions in Llama 3 Table 5 [count]."
    )
    rate_per_h: SNum = Field(description="Failures per basis unit per hour [1/h].")
    blast: Blast = Field(description="What leaves service: none, replica, host or rack.")
    blast_reason: str = Field(min_length=1, description="Why this blast radius.")
    needs_part: bool = Field(description="The repair consumes a spare part.")
    repair_swap_h: SNum = Field(
        description="Time out of service with a part on hand, or to restart [h]."
    )
    repair_rma_d: SNum = Field(description="Wait for a part when no spare is on hand [d].")

    @field_validator("rate_per_h", "repair_swap_h", "repair_rma_d")
    @classmethod
    def _check_non_negative(cls, v: Sourced) -> Sourced:
        return _non_negative(v)


class SystemReliability(BaseModel):
    """Counts of the host and switch-tray basis units in one rack unit of a rack system."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hosts_per_rack_count: SNum = Field(description="Hosts (CPU complexes) per rack unit [count].")
    nvlink_trays_count: SNum = Field(description="NVLink switch trays per rack unit [count].")

    @field_validator("hosts_per_rack_count", "nvlink_trays_count")
    @classmethod
    def _check_non_negative(cls, v: Sourced) -> Sourced:
        return _non_negative(v)


class LlamaReference(BaseModel):
    """The cluster the rates were derived from (Llama 3 Table 5)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="What the reference is.")
    gpus_count: int = Field(gt=0, description="GPUs in the job [count].")
    gpus_per_host_count: int = Field(gt=0, description="GPUs per host [count].")
    duration_d: float = Field(gt=0, description="Observation window [d].")
    unexpected_interruptions_count: int = Field(ge=0, description="Unexpected [count].")
    planned_interruptions_count: int = Field(ge=0, description="Planned [count].")
    source: str = Field(min_length=1, description="Where the figures come from.")
    confidence: Confidence = Field(description="P, S or U.")


class ReliabilityCatalog(BaseModel):
    """The reliability table: causes by id, basis-unit counts per rack system, reference."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: LlamaReference = Field(description="The cluster the rates come from.")
    causes: dict[str, FailureCause] = Field(min_length=1, description="Failure causes by id.")
    systems: dict[str, SystemReliability] = Field(
        description="Host and switch-tray counts per rack system id."
    )


_T = TypeVar("_T")


def validate_catalog_data(adapter: TypeAdapter[_T], data: object, path: Path) -> _T:
    """Validate parsed catalog data, turning the first problem into a one-line ConfigError.

    Parameters
    ----------
    adapter
        Pydantic adapter of the file's model.
    data
        Parsed YAML.
    path
        The file, for the message.

    Returns
    -------
    The validated model.

    Raises
    ------
    ConfigError
        ``<file>: <dotted.field>: <value> <what was expected>``.
    """
    try:
        return adapter.validate_python(data)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{field}: {err.get('input')!r} {err['msg']}", where=str(path)) from e


_ADAPTER = TypeAdapter(ReliabilityCatalog)


def load_reliability(path: str | Path | None = None) -> ReliabilityCatalog:
    """Load the reliability catalog.

    Parameters
    ----------
    path
        YAML file; the shipped ``data/reliability.yaml`` when None.

    Returns
    -------
    ReliabilityCatalog
        Causes (rates per basis unit-hour [1/h], repair times [h] and [d]) and per-system
        basis-unit counts. The shipped file is read once and cached (the model is frozen).

    Raises
    ------
    ConfigError
        If the file cannot be read, or a rate or repair time is negative or missing.
    """
    if path is None:
        return _shipped()
    p = Path(path)
    return validate_catalog_data(_ADAPTER, read_yaml(p), p)


@functools.cache
def _shipped() -> ReliabilityCatalog:
    return validate_catalog_data(_ADAPTER, read_yaml(RELIABILITY_PATH), RELIABILITY_PATH)
