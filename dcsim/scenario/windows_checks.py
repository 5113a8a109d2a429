"""Named cross-field checks of the request-level windows (``windows:``, docs/windows.md).

Same contract as :mod:`dcsim.scenario.checks`: ``check_x(scenario, catalog) -> None`` raises
:class:`~dcsim.errors.ConfigError` with ``where`` the dotted field path it blames. Rules
(``peak:<class>``, ``curtailment:deepest``) are resolved when the run's inputs exist
(:mod:`dcsim.windows.resolve`); a rule with no match is refused there.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from typing import TYPE_CHECKING

from dcsim.errors import ConfigError
from dcsim.scenario.types import format_date, format_duration
from dcsim.scenario.windows_schema import start_datetime

if TYPE_CHECKING:
    from dcsim.catalog.schema import Catalog
    from dcsim.scenario.schema import Scenario

__all__ = ["WINDOW_CHECKS", "check_windows_classes_known", "check_windows_in_horizon"]

Check = Callable[["Scenario", "Catalog"], None]


def _unknown(value: str, known: list[str], what: str) -> str:
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(sorted(known))}"
    return f"unknown {what} '{value}'{hint}"


def _pool_names(s: Scenario) -> list[str]:
    """Pool names as the plant builds them for plain rack groups (``<class>@<system>``)."""
    return sorted(
        {
            f"{g.workload}@{g.system}"
            for site in s.sites
            for b in site.buildings
            for h in b.halls
            for g in h.rack_groups
        }
    )


def check_windows_classes_known(s: Scenario, catalog: Catalog) -> None:
    """Window names are unique; classes, length tables, pools and rule classes exist."""
    classes = [w.name for w in s.workloads]
    pools = _pool_names(s)
    seen: set[str] = set()
    for i, win in enumerate(s.windows):
        where = f"windows.{i}"
        if win.name in seen:
            raise ConfigError(f"window name '{win.name}' is used twice", f"{where}.name")
        seen.add(win.name)
        for j, name in enumerate(win.classes or []):
            if name not in classes:
                raise ConfigError(_unknown(name, classes, "workload class"), f"{where}.classes.{j}")
        for name in win.lengths:
            if name not in classes:
                raise ConfigError(_unknown(name, classes, "workload class"), f"{where}.lengths")
        for name in win.pool_replicas_count:
            if name not in pools:
                raise ConfigError(_unknown(name, pools, "pool"), f"{where}.pool_replicas_count")
        if win.start.startswith("peak:"):
            name = win.start.split(":", 1)[1]
            if name not in classes:
                raise ConfigError(
                    f"rule '{win.start}': " + _unknown(name, classes, "workload class"),
                    f"{where}.start",
                )
        if win.classes is None and not any(w.ttft_s is not None for w in s.workloads):
            raise ConfigError(
                "no interactive class to simulate; list the classes of this window",
                f"{where}.classes",
            )


def check_windows_in_horizon(s: Scenario, catalog: Catalog) -> None:
    """A window lasts at least one tick; a dated window lies inside the horizon."""
    for i, win in enumerate(s.windows):
        where = f"windows.{i}"
        if win.duration_s < s.tick_s:
            raise ConfigError(
                f"{format_duration(win.duration_s)} is shorter than a tick "
                f"({format_duration(s.tick_s)}); expected at least one tick",
                f"{where}.duration_s",
            )
        start = start_datetime(win.start)
        if start is None:
            continue
        end = start + dt.timedelta(seconds=win.duration_s)
        if start < s.start or end > s.end:
            raise ConfigError(
                f"window {format_date(start)} to {format_date(end)} is outside the horizon "
                f"{format_date(s.start)} to {format_date(s.end)}; expected a window inside it",
                f"{where}.start",
            )


WINDOW_CHECKS: tuple[Check, ...] = (check_windows_classes_known, check_windows_in_horizon)
