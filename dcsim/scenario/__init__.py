"""The scenario boundary: text -> validated, checked :class:`Scenario`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dcsim.catalog.load import load_catalog
from dcsim.catalog.schema import Catalog
from dcsim.errors import ConfigError
from dcsim.scenario.load import LineIndex, dump_resolved, error_where
from dcsim.scenario.paths import index_path
from dcsim.scenario.schema import Scenario

__all__ = [
    "Scenario",
    "base_dir",
    "dump_resolved",
    "scenario_catalog",
    "set_base_dir",
]


def _path_tuple(dotted: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in dotted.split("."))


def _at_line(
    err: ConfigError, source: str, index: LineIndex, scenario: Scenario | None = None
) -> ConfigError:
    """Re-raise a check's error (``where`` = dotted field path) as ``file:line: path: ...``.

    List items are named by their ``name`` when ``scenario`` is given, else by index.
    """
    if err.where is None:
        return ConfigError(err.message, where=source)
    data = None if scenario is None else scenario.model_dump(by_alias=True)
    # Paths built after validation name list items (scenario.paths): back to indexes.
    path = _path_tuple(err.where) if data is None else index_path(data, err.where)
    where, text, _ = error_where(source, index, data, path, err.message)
    return ConfigError(text, where=where)


def scenario_catalog(scenario: Scenario) -> Catalog:
    """The catalog with the scenario's additions and overrides merged."""
    return load_catalog(scenario.catalog or None)


def base_dir(scenario: Scenario) -> Path:
    """Folder that relative file names in the scenario (weather, prices) are resolved from.

    The folder of the scenario file when it was loaded from one, else the working directory.
    """
    folder = getattr(scenario, "_base_dir", None)
    return Path(folder) if folder is not None else Path.cwd()


def set_base_dir(scenario: Scenario, folder: Path | str | None) -> Scenario:
    """Attach the folder that relative file names resolve from (see :func:`base_dir`)."""
    scenario._base_dir = None if folder is None else str(folder)
    return scenario
