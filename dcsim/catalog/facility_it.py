"""Typed catalog of the IT load outside the racks, and its loader.

Shipped data: ``data/facility_it.yaml``: scale-out fabrics (fat trees of switches and their
transceivers), storage and management per rack, and which fabric each rack system uses. Every
number carries a source and a confidence grade (:mod:`dcsim.catalog.schema`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dcsim.catalog.schema import SNum
from dcsim.catalog.yaml_file import read_yaml
from dcsim.errors import ConfigError

__all__ = ["FACILITY_IT_PATH", "Fabric", "FacilityIT", "PerRack", "load_facility_it"]

FACILITY_IT_PATH = Path(__file__).parent / "data" / "facility_it.yaml"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fabric(_Model):
    """A scale-out fabric: a non-blocking fat tree of identical switches."""

    name: str = Field(description="Human-readable name.")
    notes: str = Field(default="", description="Caveats.")
    switch_ports_count: SNum = Field(description="Ports per switch (radix) [count].")
    switch_w: SNum = Field(description="One switch without transceivers [W].")
    transceiver_w: SNum = Field(description="One transceiver [W].")
    ports_per_transceiver_count: SNum = Field(description="Switch ports per transceiver [count].")
    endpoints_per_gpu_count: SNum = Field(description="Scale-out ports per GPU [count].")
    idle_power_frac: SNum = Field(description="Power with the GPUs idle over loaded [frac].")


class PerRack(_Model):
    """Storage and management charged per rack unit."""

    storage_w_per_gpu: SNum = Field(description="Storage and its network per GPU [W].")
    management_w_per_rack: SNum = Field(description="Management network per rack unit [W].")
    storage_idle_frac: SNum = Field(description="Storage power with no I/O over loaded [frac].")


class FacilityIT(_Model):
    """The whole file."""

    fabrics: dict[str, Fabric] = Field(description="Fabric id -> fabric.")
    per_rack: PerRack = Field(description="Storage and management.")
    rack_systems: dict[str, str] = Field(description="Rack system id -> fabric id.")


def load_facility_it(path: str | Path | None = None) -> FacilityIT:
    """Load the IT-outside-the-racks catalog.

    Parameters
    ----------
    path
        YAML file; the shipped ``data/facility_it.yaml`` when None.

    Returns
    -------
    FacilityIT

    Raises
    ------
    ConfigError
        For an unreadable file, an invalid field, or a rack system naming an unknown fabric.
    """
    p = Path(path) if path is not None else FACILITY_IT_PATH
    try:
        data = FacilityIT.model_validate(read_yaml(p))
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"{field}: {err['msg']}", where=str(p)) from e
    for system, fabric in data.rack_systems.items():
        if fabric not in data.fabrics:
            raise ConfigError(
                f"rack_systems.{system}: '{fabric}' is not a fabric; known: "
                f"{', '.join(sorted(data.fabrics))}",
                where=str(p),
            )
    return data
