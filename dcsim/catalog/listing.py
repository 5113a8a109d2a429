"""Every catalog table as a data frame, for ``dcsim catalog TABLE`` and notebooks.

The entry tables (accelerators, rack systems, models, precisions, efficiencies) come from
:func:`dcsim.catalog.load.catalog_table`, one row per entry, one column per figure with its
grade beside it; the weather library from
:func:`dcsim.catalog.weather_sites.weather_sites_table`. The equipment and parameter files
(cooling, power, economics, reliability, grid defaults, facility IT, demand profiles) are
nested mappings whose leaves are sourced figures (``value``, ``source``, ``confidence``):
they are listed in long form, one row per figure, named by its dotted path in the file.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pandas as pd
from ruamel.yaml import YAML

from dcsim.errors import ConfigError

#: Confidence grades of catalog figures, as defined in :mod:`dcsim.catalog.schema`.
CONFIDENCE_LEGEND: dict[str, str] = {
    "P": "primary source read (datasheet, paper, standard)",
    "S": "secondary source (a report or article quoting a primary one)",
    "U": "weakly sourced: an estimate or an assumption of dcsim",
    "fit": "fitted by dcsim on published points",
    "scenario": "given by a scenario file",
}

#: Entry tables listed one row per entry (:func:`dcsim.catalog.load.catalog_table`).
ENTRY_TABLES = ("accelerators", "rack_systems", "models", "precisions", "efficiencies")

#: Parameter tables listed one row per sourced figure: table name -> shipped file stem.
FIGURE_TABLES: dict[str, str] = {
    "cooling": "cooling_equipment",
    "power": "power_equipment",
    "economics": "economics",
    "reliability": "reliability",
    "grid_defaults": "grid_defaults",
    "facility_it": "facility_it",
    "demand_profiles": "demand_profiles",
}

#: Every table ``dcsim catalog`` knows, in the order it lists them.
ALL_TABLES: tuple[str, ...] = (*ENTRY_TABLES, *FIGURE_TABLES, "weather_sites")


@functools.cache
def _shipped_yaml(stem: str) -> Any:
    path = resources.files("dcsim.catalog") / "data" / f"{stem}.yaml"
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def _is_sourced(node: Any) -> bool:
    return isinstance(node, dict) and "value" in node and "confidence" in node


def _figures(node: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], dict]]:
    """Every sourced figure below ``node`` with its key path."""
    if _is_sourced(node):
        yield path, node
        return
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _figures(child, (*path, str(key)))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _figures(child, (*path, str(i)))


def figure_table(table: str) -> pd.DataFrame:
    """A parameter table in long form: one row per sourced figure.

    Parameters
    ----------
    table
        A key of :data:`FIGURE_TABLES`.

    Returns
    -------
    pandas.DataFrame
        Columns ``entry`` (the top-level key: an equipment id, a cause, a parameter),
        ``field`` (the dotted path below it; the unit is its suffix), ``value`` (a number,
        or a list for profiles), ``confidence`` and ``source``.
    """
    raw = _shipped_yaml(FIGURE_TABLES[table]) or {}
    rows = []
    for path, leaf in _figures(raw, ()):
        value = leaf["value"]
        rows.append(
            {
                "entry": path[0],
                "field": ".".join(path[1:]) or path[0],
                "value": value,
                "confidence": str(leaf["confidence"]),
                "source": " ".join(str(leaf.get("source", "")).split()),
            }
        )
    return pd.DataFrame(rows, columns=["entry", "field", "value", "confidence", "source"])


def list_table(table: str, catalog: Any = None) -> pd.DataFrame:
    """Any catalog table by name.

    Parameters
    ----------
    table
        One of :data:`ALL_TABLES`.
    catalog
        A loaded catalog (with a scenario's additions) for the entry tables; the shipped
        one when None.

    Returns
    -------
    pandas.DataFrame
        Entry and weather tables indexed by id (a ``<column>_confidence`` column beside each
        graded figure); parameter tables in the long form of :func:`figure_table`.

    Raises
    ------
    ConfigError
        ``catalog: unknown table 'x' (did you mean ...?); known: accelerators, ...``.
    """
    if table in ENTRY_TABLES:
        from dcsim.catalog.load import catalog_table, load_catalog

        return catalog_table(catalog if catalog is not None else load_catalog(), table)
    if table in FIGURE_TABLES:
        return figure_table(table)
    if table == "weather_sites":
        from dcsim.catalog.weather_sites import weather_sites_table

        return weather_sites_table()
    close = difflib.get_close_matches(str(table), ALL_TABLES, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    known = ", ".join(ALL_TABLES)
    raise ConfigError(f"unknown table {table!r}{hint}; known: {known}", where="catalog")
