"""Typed catalog of cost figures (capex, depreciation, maintenance, prices) and its loader.

Shipped data: ``data/economics.yaml``. YAML units are practical (USD per rack unit, USD per
MW, years, USD/MWh, USD/m3); :mod:`dcsim.model.capacity` converts them to SI once.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from dcsim.catalog.reliability import validate_catalog_data
from dcsim.catalog.schema import SNum, Sourced
from dcsim.catalog.yaml_file import read_yaml

__all__ = ["EconomicsCatalog", "TokenPrice", "load_economics"]

ECONOMICS_PATH = Path(__file__).parent / "data" / "economics.yaml"


class TokenPrice(BaseModel):
    """List price of a model's served tokens, per million input and output tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: SNum = Field(description="Price per 1e6 input (prompt) tokens [USD/Mtok].")
    output: SNum = Field(description="Price per 1e6 output tokens [USD/Mtok].")

    @field_validator("input", "output")
    @classmethod
    def _non_negative(cls, v: Sourced) -> Sourced:
        if not v.value >= 0.0:
            raise ValueError(f"{v.value} must be >= 0")
        return v


class EconomicsCatalog(BaseModel):
    """Default cost figures; a scenario's ``economics:`` block overrides any of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rack_capex_usd: dict[str, SNum] = Field(
        description="Purchase price per rack unit, by rack system id [USD]."
    )
    facility_capex_usd_per_mw: SNum = Field(
        description="Facility build cost per MW of critical IT capacity [USD/MW]."
    )
    it_depreciation_y: SNum = Field(description="Straight-line life of IT equipment [y].")
    facility_depreciation_y: SNum = Field(description="Straight-line life of the facility [y].")
    maintenance_per_y_frac: SNum = Field(
        description="Maintenance and support cost per year as a share of capex [1/y]."
    )
    energy_price_usd_per_mwh: SNum = Field(
        description="Energy price used when a run has no grid tariff [USD/MWh]."
    )
    water_price_usd_per_m3: SNum = Field(description="Water price [USD/m3].")
    token_price_usd_per_mtok: dict[str, TokenPrice] = Field(
        default_factory=dict,
        description=(
            "Default price of served tokens by model id (per 1e6 input and output tokens) "
            "[USD/Mtok]; a workload's own prices override it."
        ),
    )

    @field_validator("facility_capex_usd_per_mw", "it_depreciation_y", "facility_depreciation_y")
    @classmethod
    def _positive(cls, v: Sourced) -> Sourced:
        if not v.value > 0.0:
            raise ValueError(f"{v.value} must be > 0")
        return v

    @field_validator("maintenance_per_y_frac", "energy_price_usd_per_mwh", "water_price_usd_per_m3")
    @classmethod
    def _non_negative(cls, v: Sourced) -> Sourced:
        if not v.value >= 0.0:
            raise ValueError(f"{v.value} must be >= 0")
        return v

    @field_validator("rack_capex_usd")
    @classmethod
    def _positive_prices(cls, v: dict[str, Sourced]) -> dict[str, Sourced]:
        for key, price in v.items():
            if not price.value > 0.0:
                raise ValueError(f"{key}: {price.value} must be > 0")
        return v


_ADAPTER = TypeAdapter(EconomicsCatalog)


def load_economics(path: str | Path | None = None) -> EconomicsCatalog:
    """Load the economics catalog.

    Parameters
    ----------
    path
        YAML file; the shipped ``data/economics.yaml`` when None.

    Returns
    -------
    EconomicsCatalog
        Capex per rack unit [USD], facility capex [USD/MW], lives [y], maintenance share
        [1/y], fallback energy price [USD/MWh], water price [USD/m3]. The shipped file is
        read once and cached (the model is frozen).

    Raises
    ------
    ConfigError
        If the file cannot be read or a figure is missing, negative or zero where a
        positive value is needed.
    """
    if path is None:
        return _shipped()
    p = Path(path)
    return validate_catalog_data(_ADAPTER, read_yaml(p), p)


@functools.cache
def _shipped() -> EconomicsCatalog:
    return validate_catalog_data(_ADAPTER, read_yaml(ECONOMICS_PATH), ECONOMICS_PATH)
