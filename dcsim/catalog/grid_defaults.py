"""Sourced defaults of the grid contract and on-site energy blocks.

Shipped data: ``data/grid_defaults.yaml``, a flat mapping ``name -> {value, source,
confidence}``. A scenario field of the grid block left at ``null`` takes the value named here
(see :mod:`dcsim.model.grid`); the unit is given by the key's suffix, in YAML practical units.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import TypeAdapter

from dcsim.catalog.equipment import _validate
from dcsim.catalog.schema import Sourced
from dcsim.catalog.yaml_file import read_yaml
from dcsim.errors import ConfigError

__all__ = ["GRID_DEFAULTS_PATH", "grid_default", "load_grid_defaults"]

GRID_DEFAULTS_PATH = Path(__file__).parent / "data" / "grid_defaults.yaml"

_ADAPTER = TypeAdapter(dict[str, Sourced])


@functools.cache
def _cached(path: Path) -> dict[str, Sourced]:
    return _validate(_ADAPTER, read_yaml(path), path)


def load_grid_defaults(path: str | Path | None = None) -> dict[str, Sourced]:
    """Load the grid defaults, keyed by name.

    Parameters
    ----------
    path
        YAML file; the shipped ``data/grid_defaults.yaml`` when None.

    Returns
    -------
    Name -> sourced number (frozen models, so the cached mapping is safe to share).

    Raises
    ------
    ConfigError
        If the file cannot be read or an entry lacks value, source or confidence.
    """
    return dict(_cached(Path(path) if path is not None else GRID_DEFAULTS_PATH))


def grid_default(name: str) -> float:
    """The value of one shipped grid default.

    Parameters
    ----------
    name
        Key in ``data/grid_defaults.yaml``, e.g. ``"battery_round_trip_frac"``.

    Returns
    -------
    float
        The value, in the unit named by the key's suffix.

    Raises
    ------
    ConfigError
        For an unknown key (a programming error surfaced with the file name).
    """
    return sourced_default(GRID_DEFAULTS_PATH, name)


def sourced_default(path: Path, name: str) -> float:
    """The value of one entry of a flat sourced-defaults file (this module's format).

    Parameters
    ----------
    path
        A YAML file ``name -> {value, source, confidence}``.
    name
        The entry's key.

    Returns
    -------
    float
        The value, in the unit named by the key's suffix.

    Raises
    ------
    ConfigError
        For an unknown key (a programming error surfaced with the file name).
    """
    table = _cached(Path(path))
    if name not in table:
        raise ConfigError(f"no default named '{name}'", str(path))
    return table[name].value
