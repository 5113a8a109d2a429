"""Scenario schema of a site's weather: a typical-year file, a warming offset, heat waves.

The integrator adds ``weather: Weather | None`` to ``Site``; ``None`` means the default file
(:data:`DEFAULT_WEATHER_FILE`, Greensboro NC, a humid subtropical Cfa climate). Files are
resolved relative to the folder of the scenario file that declares them; a name starting
with ``pvlib:`` is a sample shipped inside pvlib. Example::

    weather:
      file: pvlib:723170TYA.CSV
      warming_offset_delta_k: 1.0
      heat_waves:
        - {name: july-2027, start: 2027-07-14, duration_s: 5d, temp_rise_delta_k: 6}
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dcsim.scenario.base import Name
from dcsim.scenario.base import ScenarioModel as _Model
from dcsim.scenario.types import DataPath, Date, DurationS

__all__ = ["DEFAULT_WEATHER_FILE", "HeatWave", "Weather"]

#: Weather file used when a site gives none: pvlib's TMY3 sample for Greensboro NC (Cfa).
DEFAULT_WEATHER_FILE = "pvlib:723170TYA.CSV"


class HeatWave(_Model):
    """A period during which the dry bulb is raised above the file's values."""

    name: Name | None = Field(default=None, description="Optional label for reports.")
    start: Date = Field(description="Start (site local standard time).")
    duration_s: DurationS = Field(description="Length [s], e.g. '5d'.")
    temp_rise_delta_k: float = Field(
        ge=-30.0,
        le=30.0,
        description="Dry-bulb rise above the file during the period [K] (negative: cold snap).",
    )


class Weather(_Model):
    """Hourly weather of a site from a typical-year file (TMY3, TMY2 or EPW).

    The typical year repeats over multi-year horizons, matched by month, day and hour of the
    site's local standard time (29 February takes 28 February's hours). Offsets and heat
    waves shift the dry bulb; the wet bulb is recomputed holding ``humidity_held`` fixed.
    """

    file: DataPath = Field(
        default=DEFAULT_WEATHER_FILE,
        description=(
            "Weather file, relative to the folder of the scenario file that declares it, or "
            "'pvlib:<name>' for a pvlib sample "
            "(723170TYA.CSV Greensboro NC, 12839.tm2 Miami FL, 703165TY.csv Sand Point AK), "
            "or 'site:<id>' for the synthetic typical year of a library site (e.g. "
            "site:phoenix; list: dcsim.catalog.weather_sites.weather_sites_table())."
        ),
    )
    format: Literal["auto", "tmy3", "tmy2", "epw"] = Field(
        default="auto",
        description="File format; 'auto' reads the suffix (.csv TMY3, .tm2 TMY2, .epw EPW).",
    )
    warming_offset_delta_k: float = Field(
        default=0.0,
        ge=-10.0,
        le=10.0,
        description="Dry-bulb offset added to every hour (climate warming) [K].",
    )
    humidity_held: Literal["relative_humidity", "humidity_ratio"] = Field(
        default="relative_humidity",
        description=(
            "What stays fixed when the dry bulb is shifted: relative humidity (default; under "
            "warming near-surface RH stays roughly constant, and it is the conservative choice "
            "for evaporative cooling) or humidity ratio (moisture content; a dry heat wave)."
        ),
    )
    heat_waves: list[HeatWave] = Field(
        default_factory=list, description="Periods of dry bulb above the file."
    )
