"""Dotted field paths that name list items as the planner wrote them.

Errors and warnings raised after validation (building the plant, loading weather and grid
data) point at a field of the scenario. They name list items by ``name``
(``sites.campus.buildings.b3.halls.h1``), as the user wrote them and as ``--set`` accepts
them, and fall back to the index for an item whose name cannot address it: no name, a name
used twice among its siblings, one that reads as an index, or one holding a dot. These are
the rules by which :func:`dcsim.scenario.load.error_where` names items of a validation error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["hall_path", "index_path", "item_key", "site_key", "site_path"]


def item_key(items: Sequence[Any], i: int) -> str:
    """The path segment of ``items[i]``: its name when that names it alone, else its index.

    Parameters
    ----------
    items
        The list the item belongs to (siblings with a ``name`` attribute or key).
    i
        Index of the item.

    Returns
    -------
    str
        ``"b3"`` or ``"2"``.
    """

    def name_of(item: Any) -> Any:
        return item.get("name") if isinstance(item, dict) else getattr(item, "name", None)

    name = name_of(items[i])
    if not isinstance(name, str) or not name or "." in name or name.isdigit():
        return str(i)
    if sum(1 for item in items if name_of(item) == name) != 1:
        return str(i)
    return name


def site_key(site: Any, s: int) -> str:
    """``sites.<site>`` of one site without its siblings at hand.

    Site names are unique (``check_unique_names``), so only the form of the name decides.
    """
    name = getattr(site, "name", None)
    if not isinstance(name, str) or not name or "." in name or name.isdigit():
        return f"sites.{s}"
    return f"sites.{name}"


def site_path(scenario: Any, s: int) -> str:
    """``sites.<site>`` of the site at index ``s``."""
    return f"sites.{item_key(scenario.sites, s)}"


def hall_path(scenario: Any, s: int, b: int, h: int) -> str:
    """``sites.<site>.buildings.<building>.halls.<hall>`` of a hall by its indexes."""
    building = scenario.sites[s].buildings[b]
    return (
        f"{site_path(scenario, s)}.buildings.{item_key(scenario.sites[s].buildings, b)}"
        f".halls.{item_key(building.halls, h)}"
    )


def index_path(data: Any, dotted: str) -> tuple[Any, ...]:
    """A dotted path, list items named or indexed, as the path of indexes into ``data``.

    The inverse of the naming above, for locating a field's line: ``sites.main.buildings.b1``
    in the data of a scenario is ``("sites", 0, "buildings", 0)``.

    Parameters
    ----------
    data
        The scenario as plain data (``model_dump``), or None (digits become indexes, names
        stay as they are).
    dotted
        The path, e.g. ``"sites.main.buildings.b1.halls.h1.feed_mw"``.

    Returns
    -------
    tuple
        Keys and list indexes.
    """
    out: list[Any] = []
    node = data
    for part in dotted.split("."):
        if isinstance(node, list):
            names = [item.get("name") if isinstance(item, dict) else None for item in node]
            key: Any = (
                int(part)
                if part.isdigit()
                else next((i for i, name in enumerate(names) if name == part), part)
            )
            node = node[key] if isinstance(key, int) and 0 <= key < len(node) else None
        else:
            key = int(part) if part.isdigit() and data is None else part
            node = node.get(part) if isinstance(node, dict) else None
        out.append(key)
    return tuple(out)
