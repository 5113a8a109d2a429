"""Named cross-field checks of a scenario against itself and the catalog.

Each check is a small function ``check_x(scenario, catalog) -> None`` that raises
:class:`~dcsim.errors.ConfigError` with ``where`` set to the dotted field path it blames;
:func:`dcsim.model.checks.load_scenario` turns that path into ``file:line``. The checks
that need the model's own computations (cooling design capacity, the pools' memory fit, the
run's memory estimate) live in :mod:`dcsim.model.checks`, which also holds the ordered list
``CHECKS`` that ``dcsim validate`` runs and names.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterator

from dcsim import units
from dcsim.catalog.schema import Catalog
from dcsim.errors import ConfigError
from dcsim.scenario.schema import Hall, RackGroup, Scenario
from dcsim.scenario.types import DATE_MAX, format_date, format_duration

Check = Callable[[Scenario, Catalog], None]


def _groups(s: Scenario) -> Iterator[tuple[str, Hall, RackGroup]]:
    for i, site in enumerate(s.sites):
        for j, b in enumerate(site.buildings):
            for k, hall in enumerate(b.halls):
                for g, group in enumerate(hall.rack_groups):
                    yield f"sites.{i}.buildings.{j}.halls.{k}.rack_groups.{g}", hall, group


def _halls(s: Scenario) -> Iterator[tuple[str, int, Hall]]:
    for i, site in enumerate(s.sites):
        for j, b in enumerate(site.buildings):
            for k, hall in enumerate(b.halls):
                yield f"sites.{i}.buildings.{j}.halls.{k}", i, hall


def _unknown(value: str, known: list[str], what: str) -> str:
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(sorted(known))}"
    return f"unknown {what} '{value}'{hint}"


def check_unique_names(s: Scenario, catalog: Catalog) -> None:
    """Workload, site and hall names are unique (results and overrides address them)."""
    seen: set[str] = set()
    for k, w in enumerate(s.workloads):
        if w.name in seen:
            raise ConfigError(f"workload name '{w.name}' is used twice", f"workloads.{k}.name")
        seen.add(w.name)
    seen = set()
    for i, site in enumerate(s.sites):
        if site.name in seen:
            raise ConfigError(f"site name '{site.name}' is used twice", f"sites.{i}.name")
        seen.add(site.name)
    seen = set()
    for where, _, hall in _halls(s):
        if hall.name in seen:
            raise ConfigError(f"hall name '{hall.name}' is used twice", f"{where}.name")
        seen.add(hall.name)


def check_horizon_in_calendar(s: Scenario, catalog: Catalog) -> None:
    """The horizon ends by the last date a scenario may name (checked before any uses it)."""
    room_s = (DATE_MAX - s.start).total_seconds()
    if s.horizon_s > room_s:
        raise ConfigError(
            f"{format_duration(s.horizon_s)} from {format_date(s.start)} ends after "
            f"{format_date(DATE_MAX)}; expected a horizon of at most "
            f"{room_s / units.Y_S:.0f}y from this start",
            "horizon_s",
        )


def check_time_grid(s: Scenario, catalog: Catalog) -> None:
    """The horizon holds at least one tick; record intervals are whole numbers of ticks."""
    if s.horizon_s < s.tick_s:
        raise ConfigError(
            f"{s.horizon_s:g} s is shorter than one tick ({s.tick_s:g} s); "
            "expected a horizon of at least one tick",
            "horizon_s",
        )
    for name in ("record_every_s", "hall_record_every_s"):
        every = getattr(s, name)
        ratio = every / s.tick_s
        if ratio < 1 - 1e-9 or abs(ratio - round(ratio)) > 1e-9:
            raise ConfigError(f"{every:g} s is not a whole number of ticks ({s.tick_s:g} s)", name)


def check_rack_groups_known(s: Scenario, catalog: Catalog) -> None:
    """Every rack group names a known workload and a known rack system."""
    workloads = [w.name for w in s.workloads]
    systems = list(catalog.rack_systems)
    for where, _, g in _groups(s):
        if g.workload not in workloads:
            raise ConfigError(_unknown(g.workload, workloads, "workload"), f"{where}.workload")
        if g.system not in systems:
            raise ConfigError(_unknown(g.system, systems, "rack system"), f"{where}.system")


def check_workload_models_known(s: Scenario, catalog: Catalog) -> None:
    """Every workload names a model and precision the catalog knows."""
    models = list(catalog.models)
    for k, w in enumerate(s.workloads):
        if w.model not in models:
            raise ConfigError(_unknown(w.model, models, "model"), f"workloads.{k}.model")


def check_workloads_served(s: Scenario, catalog: Catalog) -> None:
    """Every workload is served by at least one rack group."""
    served = {g.workload for _, _, g in _groups(s)}
    for k, w in enumerate(s.workloads):
        if w.name not in served:
            raise ConfigError(
                f"workload '{w.name}' is served by no rack group; add a rack group with "
                f"workload: {w.name}",
                f"workloads.{k}.name",
            )


def check_hall_feed_covers_racks(s: Scenario, catalog: Catalog) -> None:
    """Rack design power fits each hall feed, unless oversubscription is allowed."""
    if s.allow_oversubscription:
        return
    for where, _, hall in _halls(s):
        design_mw = (
            sum(
                g.count * catalog.rack_systems[g.system].design_power_kw.value * units.KW_W
                for g in hall.rack_groups
            )
            / units.MW_W
        )
        if design_mw > hall.feed_mw * (1 + 1e-9):
            raise ConfigError(
                f"{hall.feed_mw:g} MW is below the racks' design power {design_mw:.3f} MW; "
                "expected a feed at least as large, or allow_oversubscription: true",
                f"{where}.feed_mw",
            )


def _no_load_draws_w(s: Scenario, site_index: int) -> tuple[list[tuple[str, float]], float]:
    """UPS no-load loss of each hall of a site [W] and the site's firm supply [W].

    At zero IT load each hall's UPS group still loses ``modules * rating * a0``
    (:func:`dcsim.physics.power_chain.ups_loss_w` at no load); the site's firm supply is its
    import limit plus its clean block and turbines (solar and the battery do not last).
    """
    from dcsim.catalog.equipment import load_power_equipment
    from dcsim.physics.power_chain import TOPOLOGY_CODES, ups_loss_w, ups_modules_sharing

    site = s.sites[site_index]
    ups = load_power_equipment().get(site.power_chain.ups)
    draws: list[tuple[str, float]] = []
    for where, i, hall in _halls(s):
        if i != site_index or ups is None:
            continue
        modules_n = int(math.ceil(hall.feed_mw / hall.ups_module_mw))
        active = ups_modules_sharing(TOPOLOGY_CODES[hall.ups_topology], modules_n)
        loss_w = ups_loss_w(
            0.0,
            hall.ups_module_mw * units.MW_W,
            active,
            ups.a0_frac.value,
            ups.a1_frac.value,
            ups.a2_frac.value,
        )
        draws.append((where, float(loss_w)))
    supply_w = site.import_limit_mw * units.MW_W
    onsite = getattr(site, "onsite", None)
    if onsite is not None and onsite.clean is not None:
        supply_w += onsite.clean.power_mw * units.MW_W
    if onsite is not None and onsite.turbines is not None:
        supply_w += onsite.turbines.units_count * onsite.turbines.unit_mw * units.MW_W
    return draws, supply_w


def _meter_w(s: Scenario, site_index: int, load_w: float) -> float:
    """Power at the site meter for a load behind the site transformers [W]."""
    from dcsim.catalog.equipment import load_power_equipment
    from dcsim.physics.power_chain import transformer_loss_w

    site = s.sites[site_index]
    xfmr = load_power_equipment().get(site.power_chain.transformer)
    if xfmr is None:
        return load_w
    rated_w = (site.power_chain.transformer_mva or site.import_limit_mw) * units.MW_W
    loss_w = transformer_loss_w(load_w, rated_w, xfmr.no_load_frac.value, xfmr.load_loss_frac.value)
    return load_w + float(loss_w)


def check_site_can_serve(s: Scenario, catalog: Catalog) -> None:
    """Every hall, and all halls together, can be powered at no load by its site's supply.

    A UPS group loses power at no load in proportion to its rating, so a feed far larger
    than the site's import limit draws more than the site can supply before any rack
    serves: the site would shed all load for the whole horizon.
    """
    for i, site in enumerate(s.sites):
        draws, supply_w = _no_load_draws_w(s, i)
        sources = "import limit" + (
            " and on-site firm supply" if getattr(site, "onsite", None) else ""
        )
        for where, loss_w in draws:
            meter_w = _meter_w(s, i, loss_w)
            if meter_w >= supply_w:
                raise ConfigError(
                    f"the hall's UPS loses {loss_w / units.MW_W:.2f} MW with no load, "
                    f"{meter_w / units.MW_W:.2f} MW at the meter with the transformers, not "
                    f"below the {supply_w / units.MW_W:g} MW site '{site.name}' can supply "
                    f"({sources}): the hall can never serve; expected a smaller feed_mw or "
                    "ups_module_mw, or more supply",
                    f"{where}.feed_mw",
                )
        total_w = sum(loss_w for _, loss_w in draws)
        meter_w = _meter_w(s, i, total_w)
        if draws and meter_w >= supply_w:
            raise ConfigError(
                f"the UPS no-load losses of its {len(draws)} halls, {total_w / units.MW_W:.2f} "
                f"MW ({meter_w / units.MW_W:.2f} MW at the meter), are not below the "
                f"{supply_w / units.MW_W:g} MW the site can supply ({sources}): the site can "
                "never serve with every hall energised; expected smaller feeds or more supply",
                f"sites.{i}.import_limit_mw",
            )
