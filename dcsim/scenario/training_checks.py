"""Named cross-field checks of the ``training_jobs`` block (docs/training.md).

Same contract as :mod:`dcsim.scenario.checks`: ``check_x(scenario, catalog) -> None`` raises
:class:`~dcsim.errors.ConfigError` with ``where`` = the dotted field path it blames.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dcsim import units
from dcsim.catalog.training_defaults import training_default
from dcsim.errors import ConfigError
from dcsim.scenario.buildout_checks import _groups, _unknown, match_rack_groups

if TYPE_CHECKING:
    from dcsim.catalog.schema import Catalog

__all__ = [
    "PROFILE_LEVELS",
    "TRAINING_CHECKS",
    "check_training_dates",
    "check_training_ramp_limit",
    "check_training_racks",
    "job_groups",
    "job_swing_w",
    "resolved_profile",
]

Check = Callable[[Any, "Catalog"], None]

#: Profile fields that are power levels [frac of design power].
PROFILE_LEVELS = (
    "compute_power_frac",
    "comm_power_frac",
    "checkpoint_power_frac",
    "idle_power_frac",
)


def resolved_profile(job: Any) -> dict[str, Any]:
    """A job's profile with every field left out taken from the sourced catalog defaults.

    ``checkpoint_interval_s`` stays None when not given (Daly's optimum at the job's MTBF,
    resolved when the plant is built).
    """
    out: dict[str, Any] = {}
    for name in type(job.profile).model_fields:
        v = getattr(job.profile, name)
        if v is None and name != "checkpoint_interval_s":
            v = training_default(name)
        out[name] = v
    return out


def job_groups(s: Any, job: Any) -> list[tuple[str, Any, int, Any]]:
    """(label, hall, site index, group) of every rack group a job occupies."""
    labels = {lab for x in job.rack_groups for lab, _, _ in match_rack_groups(s, x)}
    return [
        (lab, hall, i, g)
        for lab, hall, i, g in _groups(s)
        if hall.name in job.halls or lab in labels
    ]


def _full_power_w(s: Any, catalog: Any, job: Any) -> float:
    return sum(
        g.count * catalog.rack_systems[g.system].design_power_kw.value * units.KW_W
        for _, _, _, g in job_groups(s, job)
        if g.system in catalog.rack_systems
    )


def job_swing_w(s: Any, catalog: Any, job: Any, floor_frac: float = 0.0) -> float:
    """Largest swing of a job's power within seconds [W]: highest level to lowest, floored.

    Parameters
    ----------
    s, catalog
        The scenario and its catalog.
    job
        The training job.
    floor_frac
        Power floor of its smoothing [frac of design power].
    """
    prof = resolved_profile(job)
    levels = [prof[name] for name in PROFILE_LEVELS]
    low = max(min(levels), floor_frac)
    return max(max(levels) - low, 0.0) * _full_power_w(s, catalog, job)


def check_training_racks(s: Any, catalog: Catalog) -> None:
    """Each job names halls or rack groups that exist, on one site, in no other job."""
    halls = {hall.name: i for _, hall, i, _ in _groups(s)}
    labels = [lab for lab, _, _, _ in _groups(s)]
    owner: dict[str, str] = {}
    for k, job in enumerate(getattr(s, "training_jobs", None) or []):
        if not job.halls and not job.rack_groups:
            raise ConfigError(
                "the job occupies no racks; expected halls: [...] or rack_groups: [...]",
                f"training_jobs.{k}",
            )
        for i, name in enumerate(job.halls):
            if name not in halls:
                raise ConfigError(
                    _unknown(name, list(halls), "hall"), f"training_jobs.{k}.halls.{i}"
                )
        for i, label in enumerate(job.rack_groups):
            if not match_rack_groups(s, label):
                raise ConfigError(
                    _unknown(label, labels, "rack group"), f"training_jobs.{k}.rack_groups.{i}"
                )
        groups = job_groups(s, job)
        sites = sorted({i for _, _, i, _ in groups})
        if len(sites) > 1:
            raise ConfigError(
                f"the job spans sites {', '.join(s.sites[i].name for i in sites)}; expected "
                "the racks of one site (a synchronous job shares one fabric)",
                f"training_jobs.{k}",
            )
        for lab, _, _, _ in groups:
            if lab in owner:
                raise ConfigError(
                    f"rack group '{lab}' is already in training job '{owner[lab]}'; expected "
                    "each rack group in at most one job",
                    f"training_jobs.{k}",
                )
            owner[lab] = job.name


def check_training_dates(s: Any, catalog: Catalog) -> None:
    """A job starts inside the horizon and is repurposed after it starts."""
    for k, job in enumerate(getattr(s, "training_jobs", None) or []):
        start = job.start if job.start is not None else s.start
        if not s.start <= start < s.end:
            raise ConfigError(
                f"start {start:%Y-%m-%d %H:%M} is outside the run ({s.start:%Y-%m-%d} to "
                f"{s.end:%Y-%m-%d}); expected a start inside it",
                f"training_jobs.{k}.start",
            )
        if job.until is not None and job.until <= start:
            raise ConfigError(
                f"until {job.until:%Y-%m-%d %H:%M} is not after the job's start "
                f"{start:%Y-%m-%d %H:%M}; expected a repurposing date after the start",
                f"training_jobs.{k}.until",
            )


def check_training_ramp_limit(s: Any, catalog: Catalog) -> None:
    """Each job's swing meets its site's ramp limit, alone or by its smoothing policy.

    The swing (highest to lowest level of the profile, raised to a power floor) happens
    within seconds, so a limit of R MW/min allows a swing of at most R MW. A battery meets
    it when its power covers the swing; a power floor when the swing above it is within the
    limit (a floor left at null is sized to that).
    """
    for k, job in enumerate(getattr(s, "training_jobs", None) or []):
        groups = job_groups(s, job)
        if not groups:
            continue
        site = s.sites[groups[0][2]]
        where = f"training_jobs.{k}.smoothing"
        sm = job.smoothing
        battery = site.onsite.battery if site.onsite is not None else None
        if sm.type == "battery" and battery is None:
            raise ConfigError(
                f"smoothing by battery, but site '{site.name}' has no battery; expected "
                f"sites.{site.name}.onsite.battery or another smoothing type",
                where,
            )
        limit = site.grid.ramp_limit_mw_per_min if site.grid is not None else None
        if limit is None:
            continue
        allowed_mw = limit  # the swing one minute of the limit allows [MW]
        swing_mw = job_swing_w(s, catalog, job) / units.MW_W
        if swing_mw <= allowed_mw:
            continue
        if sm.type == "none":
            raise ConfigError(
                f"training job '{job.name}' swings {swing_mw:.3g} MW within seconds, above the "
                f"ramp limit of {limit:g} MW/min of site '{site.name}', with no battery or "
                "smoothing to meet it; expected smoothing: {type: battery} or "
                "{type: power_floor}",
                where,
            )
        if sm.type == "battery" and battery.power_mw < swing_mw:
            raise ConfigError(
                f"training job '{job.name}' swings {swing_mw:.3g} MW, above the ramp limit of "
                f"{limit:g} MW/min of site '{site.name}', and the battery's "
                f"{battery.power_mw:g} MW cannot take it; expected a battery of at least "
                f"{swing_mw:.3g} MW or smoothing: {{type: power_floor}}",
                where,
            )
        if sm.type == "power_floor" and sm.floor_frac is not None:
            left_mw = job_swing_w(s, catalog, job, sm.floor_frac) / units.MW_W
            if left_mw > allowed_mw:
                raise ConfigError(
                    f"training job '{job.name}' still swings {left_mw:.3g} MW above its power "
                    f"floor of {sm.floor_frac:g}, above the ramp limit of {limit:g} MW/min of "
                    f"site '{site.name}'; expected a higher floor_frac or null (sized to the "
                    "limit)",
                    f"{where}.floor_frac",
                )


#: The checks of this module, in the order they run (after the core checks).
TRAINING_CHECKS: tuple[Check, ...] = (
    check_training_racks,
    check_training_dates,
    check_training_ramp_limit,
)
