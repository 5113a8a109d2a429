"""Named cross-field checks of the build-out, reliability, training and economics blocks.

Same contract as :mod:`dcsim.scenario.checks`: ``check_x(scenario, catalog) -> None`` raises
:class:`~dcsim.errors.ConfigError` with ``where`` = the dotted field path it blames. The
blocks are read with ``getattr`` so the checks pass on scenarios without them.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from dcsim.errors import ConfigError

if TYPE_CHECKING:
    from dcsim.catalog.schema import Catalog

__all__ = [
    "BUILDOUT_CHECKS",
    "check_buildout_deliveries",
    "check_buildout_phases",
    "check_buildout_supply",
    "check_economics_systems",
    "check_reliability_inputs",
    "check_training_groups",
    "group_label",
    "match_rack_groups",
]

Check = Callable[[Any, "Catalog"], None]


def group_label(hall_name: str, group: Any, index: int) -> str:
    """Label of a rack group as scenario blocks write it: ``'<hall>/<group name or index>'``."""
    return f"{hall_name}/{group.name if group.name is not None else index}"


def _groups(s: Any) -> Iterator[tuple[str, Any, int, Any]]:
    # (hall name, hall, site index, group) in plant order, with each group's label.
    for i, site in enumerate(s.sites):
        for b in site.buildings:
            for hall in b.halls:
                for g_idx, group in enumerate(hall.rack_groups):
                    yield group_label(hall.name, group, g_idx), hall, i, group


def match_rack_groups(s: Any, label: str) -> list[tuple[str, Any, Any]]:
    """Rack groups a label names: ``'<hall>/<group>'``, or a group name in every hall.

    Parameters
    ----------
    s
        The scenario.
    label
        ``"b1h1/chat"`` (one group) or ``"chat"`` (the group named chat in every hall).

    Returns
    -------
    list of (label, hall, group)
        In plant order; empty when nothing matches.
    """
    out = []
    for full, hall, _, group in _groups(s):
        if full == label or ("/" not in label and full.split("/", 1)[1] == label):
            out.append((full, hall, group))
    return out


def _unknown(value: str, known: list[str], what: str) -> str:
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    if close:
        return f"unknown {what} '{value}'; did you mean '{close[0]}'?"
    shown = ", ".join(sorted(known)[:8]) + (", ..." if len(known) > 8 else "")
    return f"unknown {what} '{value}'; known: {shown}"


def _built_halls(s: Any) -> dict[str, int]:
    bo = getattr(s, "buildout", None)
    if bo is None:
        return {}
    return {h: i for i, phase in enumerate(bo.phases) for h in phase.halls}


def _racks_to_deliver(s: Any) -> dict[str, int]:
    # Racks per system in built halls: every one of them must be shipped.
    built = _built_halls(s)
    need: dict[str, int] = {}
    for _, hall, _, group in _groups(s):
        if hall.name in built:
            need[group.system] = need.get(group.system, 0) + group.count
    return need


def check_buildout_phases(s: Any, catalog: Catalog) -> None:
    """Phase dates in order (shell <= energised <= cooling); halls known, in one phase each."""
    bo = getattr(s, "buildout", None)
    if bo is None:
        return
    halls = [hall.name for site in s.sites for b in site.buildings for hall in b.halls]
    seen: dict[str, str] = {}
    for i, phase in enumerate(bo.phases):
        where = f"buildout.phases.{i}"
        if phase.energised < phase.shell_ready:
            raise ConfigError(
                f"{phase.energised:%Y-%m-%d} is before shell_ready {phase.shell_ready:%Y-%m-%d}; "
                "expected shell_ready <= energised <= cooling_commissioned",
                f"{where}.energised",
            )
        if phase.cooling_commissioned < phase.energised:
            raise ConfigError(
                f"{phase.cooling_commissioned:%Y-%m-%d} is before energised "
                f"{phase.energised:%Y-%m-%d}; expected shell_ready <= energised <= "
                "cooling_commissioned",
                f"{where}.cooling_commissioned",
            )
        for j, name in enumerate(phase.halls):
            if name not in halls:
                raise ConfigError(_unknown(name, halls, "hall"), f"{where}.halls.{j}")
            if name in seen:
                raise ConfigError(
                    f"hall '{name}' is already built by phase '{seen[name]}'; expected each "
                    "hall in one phase",
                    f"{where}.halls.{j}",
                )
            seen[name] = phase.name


def check_buildout_deliveries(s: Any, catalog: Catalog) -> None:
    """Deliveries name known rack groups or systems, in halls that a phase builds."""
    bo = getattr(s, "buildout", None)
    if bo is None:
        return
    built = _built_halls(s)
    ordered: dict[str, int] = {}
    labels = [label for label, _, _, _ in _groups(s)]
    for i, d in enumerate(bo.deliveries):
        where = f"buildout.deliveries.{i}"
        if d.rack_group is not None:
            matched = match_rack_groups(s, d.rack_group)
            if not matched:
                raise ConfigError(
                    _unknown(d.rack_group, labels, "rack group"), f"{where}.rack_group"
                )
            in_built = [(lab, hall, g) for lab, hall, g in matched if hall.name in built]
            if not in_built:
                hall_name = matched[0][1].name
                raise ConfigError(
                    f"'{d.rack_group}' is in hall '{hall_name}', which is never built (in no "
                    "phase of buildout.phases); expected a rack group in a built hall",
                    f"{where}.rack_group",
                )
            capacity = sum(g.count for _, _, g in in_built)
            if d.count is not None:
                key = d.rack_group
                ordered[key] = ordered.get(key, 0) + d.count
                if ordered[key] > capacity:
                    raise ConfigError(
                        f"{d.count} racks bring the orders for '{d.rack_group}' to "
                        f"{ordered[key]}; expected at most its {capacity} racks",
                        f"{where}.count",
                    )
        else:
            systems = list(catalog.rack_systems)
            if d.system not in systems:
                raise ConfigError(_unknown(d.system, systems, "rack system"), f"{where}.system")
            need = _racks_to_deliver(s).get(d.system, 0)
            if need == 0:
                raise ConfigError(
                    f"no hall built by buildout.phases holds '{d.system}' racks; expected a "
                    "system with racks in a built hall",
                    f"{where}.system",
                )
            if d.count is not None and d.count > need:
                raise ConfigError(
                    f"{d.count} racks of '{d.system}' ordered; expected at most the {need} "
                    "racks of that system in built halls",
                    f"{where}.count",
                )


def check_buildout_supply(s: Any, catalog: Catalog) -> None:
    """Every system to deliver has a supply rate > 0; shortages name known systems, in order."""
    bo = getattr(s, "buildout", None)
    if bo is None:
        return
    systems = list(catalog.rack_systems)
    need = _racks_to_deliver(s)
    seen: set[str] = set()
    for i, sup in enumerate(bo.supply):
        where = f"buildout.supply.{i}"
        if sup.system not in systems:
            raise ConfigError(_unknown(sup.system, systems, "rack system"), f"{where}.system")
        if sup.system in seen:
            raise ConfigError(
                f"rack system '{sup.system}' has two supply entries; expected one",
                f"{where}.system",
            )
        seen.add(sup.system)
        if sup.racks_per_month <= 0.0 and need.get(sup.system, 0) > 0:
            raise ConfigError(
                f"{sup.racks_per_month:g} racks/month, but {need[sup.system]} "
                f"'{sup.system}' racks are to be delivered; expected a supply rate > 0",
                f"{where}.racks_per_month",
            )
    for system, count in need.items():
        if system not in seen:
            raise ConfigError(
                f"no supply entry for rack system '{system}', but {count} of its racks are to "
                f"be delivered; expected an entry {{system: {system}, racks_per_month: ...}}",
                "buildout.supply",
            )
    for i, sh in enumerate(bo.shortages):
        where = f"buildout.shortages.{i}"
        if sh.system is not None and sh.system not in systems:
            raise ConfigError(_unknown(sh.system, systems, "rack system"), f"{where}.system")
        if sh.end <= sh.start:
            raise ConfigError(
                f"{sh.end:%Y-%m-%d} is not after start {sh.start:%Y-%m-%d}; expected end > start",
                f"{where}.end",
            )


def check_reliability_inputs(s: Any, catalog: Catalog) -> None:
    """Failure-rate and repair-time overrides name known causes and are not negative."""
    rel = getattr(s, "reliability", None)
    if rel is None:
        return
    from dcsim.catalog.reliability import load_reliability

    causes = list(load_reliability().causes)
    for cause, rate in rel.rate_overrides_per_h.items():
        where = f"reliability.rate_overrides_per_h.{cause}"
        if cause not in causes:
            raise ConfigError(_unknown(cause, causes, "failure cause"), where)
        if not (math.isfinite(rate) and rate >= 0.0):
            raise ConfigError(f"failure rate {rate:g} /h; expected a rate >= 0", where)
    for cause, repair_s in rel.repair_overrides_s.items():
        where = f"reliability.repair_overrides_s.{cause}"
        if cause not in causes:
            raise ConfigError(_unknown(cause, causes, "failure cause"), where)
        if repair_s < 0.0:
            raise ConfigError(f"repair time {repair_s:g} s; expected a time >= 0", where)
    spares = rel.spares
    if spares is not None and spares.rma_turnaround_s is not None and spares.rma_turnaround_s < 0:
        raise ConfigError(
            f"repair time {spares.rma_turnaround_s:g} s; expected a time >= 0",
            "reliability.spares.rma_turnaround_s",
        )


def check_training_groups(s: Any, catalog: Catalog) -> None:
    """A training block's rack groups exist and serve its workload."""
    for k, w in enumerate(s.workloads):
        tr = getattr(w, "training", None)
        if tr is None:
            continue
        for j, label in enumerate(tr.rack_groups):
            where = f"workloads.{k}.training.rack_groups.{j}"
            matched = match_rack_groups(s, label)
            if not matched:
                labels = [lab for lab, _, _, _ in _groups(s)]
                raise ConfigError(_unknown(label, labels, "rack group"), where)
            wrong = [lab for lab, _, g in matched if g.workload != w.name]
            if wrong:
                raise ConfigError(
                    f"rack group '{wrong[0]}' serves another workload; expected a group with "
                    f"workload: {w.name}",
                    where,
                )


def check_economics_systems(s: Any, catalog: Catalog) -> None:
    """Capex overrides name known rack systems."""
    econ = getattr(s, "economics", None)
    if econ is None:
        return
    systems = list(catalog.rack_systems)
    for system in econ.rack_capex_usd:
        if system not in systems:
            raise ConfigError(
                _unknown(system, systems, "rack system"), f"economics.rack_capex_usd.{system}"
            )


#: The checks of this module, in the order they should run (after the core checks).
BUILDOUT_CHECKS: tuple[Check, ...] = (
    check_buildout_phases,
    check_buildout_deliveries,
    check_buildout_supply,
    check_reliability_inputs,
    check_training_groups,
    check_economics_systems,
)
