"""Checks of a scenario that need the model's computations, and the checked loader.

The scenario layer validates text against the schema and runs the checks that read the
scenario and the catalog alone (:mod:`dcsim.scenario.checks` and its siblings). The checks
here build model objects (a pool's memory fit, the cooling plant's design capacity, the run's
memory estimate), so they sit on the model layer, above the scenario. :data:`CHECKS` is the
one ordered list that :func:`load_scenario` and ``dcsim validate`` run: cheap structural
checks first, then the ones that look up rack systems and build pools and plants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dcsim.catalog.schema import Catalog
from dcsim.errors import ConfigError
from dcsim.model import memory
from dcsim.model.cooling_checks import COOLING_CHECKS
from dcsim.model.pool import pool_spec
from dcsim.scenario import _at_line, scenario_catalog, set_base_dir
from dcsim.scenario.buildout_checks import BUILDOUT_CHECKS
from dcsim.scenario.checks import (
    Check,
    _groups,
    check_hall_feed_covers_racks,
    check_horizon_in_calendar,
    check_rack_groups_known,
    check_site_can_serve,
    check_time_grid,
    check_unique_names,
    check_workload_models_known,
    check_workloads_served,
)
from dcsim.scenario.grid_checks import GRID_CHECKS
from dcsim.scenario.load import load_model
from dcsim.scenario.regions_checks import REGION_CHECKS
from dcsim.scenario.schema import RackGroup, Scenario, Workload
from dcsim.scenario.training_checks import TRAINING_CHECKS
from dcsim.scenario.windows_checks import WINDOW_CHECKS

__all__ = [
    "CHECKS",
    "check_models_fit_replicas",
    "check_run_fits_in_memory",
    "load_scenario",
    "run_checks",
]


def check_run_fits_in_memory(s: Scenario, catalog: Catalog) -> None:
    """The run's inputs and recorded outputs fit in this machine's memory.

    The estimate (:func:`dcsim.model.memory.estimate_run_memory`) counts what grows with the
    horizon (inputs are produced per compiled call, so mostly the recorded outputs); the
    message names the setting that drives the largest part.
    """
    available_b = memory.machine_memory_bytes()
    est = memory.estimate_run_memory(**memory.scenario_sizes(s))
    if available_b is None or est.total_b <= available_b:
        return
    where, change = est.setting_to_change()
    raise ConfigError(
        f"the run needs about {memory.format_bytes(est.total_b)} ({est.total_b} bytes) for its "
        f"recorded outputs ({est.n_rows} rows, {memory.format_bytes(est.recorded_b)}) and inputs "
        f"({est.n_ticks} ticks, {memory.format_bytes(est.inputs_b)}), more than the "
        f"{memory.format_bytes(available_b)} of memory of this machine; {change}",
        where,
    )


def check_models_fit_replicas(s: Scenario, catalog: Catalog) -> None:
    """Each pool's model fits the HBM of its replica, with room for a KV cache."""
    by_name = {w.name: w for w in s.workloads}
    for where, _, g in _groups(s):
        w = by_name[g.workload]
        try:
            _pool_spec_at(where, g, w, catalog)
        except ConfigError as err:
            # The pool builder names its own field ("pool <name>: replica_gpus"); blame the
            # rack group's line and keep the field in the message.
            field = err.where.rsplit(": ", 1)[-1] if err.where and ": " in err.where else ""
            msg = f"{field}: {err.message}" if field else err.message
            raise ConfigError(f"{g.workload} on {g.system}: {msg}", where) from None


def _pool_spec_at(where: str, g: RackGroup, w: Workload, catalog: Catalog) -> None:
    pool_spec(
        catalog,
        g.system,
        w.model,
        w.precision,
        g.stack,
        w.input_tok,
        w.output_tok,
        w.tpot_s,
        w.ttft_s,
        replica_gpus=g.replica_gpus_count,
        kv_precision=w.kv_precision,
        pool_name=where,
    )


#: The checks, in the order they run (cheap structural checks first).
CHECKS: tuple[Check, ...] = (
    check_horizon_in_calendar,
    check_unique_names,
    check_time_grid,
    check_run_fits_in_memory,
    check_rack_groups_known,
    check_workload_models_known,
    check_workloads_served,
    check_hall_feed_covers_racks,
    check_site_can_serve,
    *COOLING_CHECKS,
    check_models_fit_replicas,
    *GRID_CHECKS,
    *BUILDOUT_CHECKS,
    *WINDOW_CHECKS,
    *TRAINING_CHECKS,
    *REGION_CHECKS,
)


def run_checks(s: Scenario, catalog: Catalog) -> list[str]:
    """Run every check; return the names of those that passed (all, or raise).

    Raises
    ------
    ConfigError
        The first failing check's error, with ``where`` the blamed field path.
    """
    passed = []
    for check in CHECKS:
        check(s, catalog)
        passed.append(check.__name__)
    return passed


def load_scenario(
    path: str | Path,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
) -> Scenario:
    """Load, validate and check a scenario file.

    Parameters
    ----------
    path
        Scenario YAML file.
    overrides
        ``["a.b.c=value", ...]`` or ``{"a.b.c": value}``; list items may be addressed by
        index or by ``name`` (``sites.main.import_limit_mw=500``).

    Returns
    -------
    The validated scenario; every named check in :data:`CHECKS` passed.

    Raises
    ------
    ConfigError
        One line ``file:line: field: value, expectation`` for the first problem found.
    """
    source = str(path)
    scenario, index = load_model(Scenario, path, overrides)
    try:
        catalog = scenario_catalog(scenario)
        run_checks(scenario, catalog)
    except ConfigError as err:
        raise _at_line(err, source, index, scenario) from None
    set_base_dir(scenario, Path(path).resolve().parent)
    return scenario
