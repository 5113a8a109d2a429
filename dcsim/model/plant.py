"""Validated scenario -> array-shaped plant (SI, tables indexed by asset id).

This is the one place where scenario units (MW, h, dates) become SI. Everything downstream
(the SimPy processes, the fused kernel, the recorder) reads the arrays of :class:`Plant`.

Asset tables
------------
- *racks*: one entry per rack (or node) with its cell and status;
- *pools*: (rack system, workload class, stack, replica size) with operating-point tables;
- *cells*: racks of one pool in one hall; the kernel's unit of vectorisation;
- *halls* and *sites*: parameter tables with columns from :mod:`dcsim.kernels.layout`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from dcsim import units
from dcsim.catalog.equipment import load_power_equipment
from dcsim.catalog.facility_it import load_facility_it
from dcsim.catalog.schema import Catalog
from dcsim.kernels import cooling_layout as CL
from dcsim.kernels import grid_layout as G
from dcsim.kernels import layout as L
from dcsim.kernels.stages.policy import POWER_POLICIES
from dcsim.model.cooling import CoolingPlant, build_cooling
from dcsim.model.fabric import build_facility_it
from dcsim.model.grid import GridPlant, build_grid
from dcsim.model.pool import PoolSpec, pool_spec, throughput_optimal_pool_spec
from dcsim.model.regions import RegionPlan, build_regions
from dcsim.model.site_inputs import SiteInputs
from dcsim.model.streams import rng_for
from dcsim.model.table_cache import pool_tables
from dcsim.model.tables import PoolTables
from dcsim.model.weather import site_weather_hourly
from dcsim.physics.compute import on_cap_frac
from dcsim.physics.power_chain import TOPOLOGY_CODES, ups_modules_sharing
from dcsim.scenario.paths import hall_path, item_key
from dcsim.scenario.schema import Scenario

#: Rack status codes (MODEL.md section 0).
PLANNED, DELIVERED, INSTALLED, BURN_IN, IN_SERVICE, FAILED, RETIRED = range(7)
STATUS_NAMES = ("planned", "delivered", "installed", "burn_in", "in_service", "failed", "retired")


@dataclass
class ClassDemand:
    """Demand settings of one workload class, in SI."""

    base_tok_per_s: float
    daily_profile_frac: np.ndarray
    weekly_profile_frac: np.ndarray
    growth_per_y_frac: float
    noise_sigma_frac: float
    noise_corr_s: float
    bursts: np.ndarray  # (n, 3): start_s, duration_s, multiplier


@dataclass
class Plant:
    """The campus as arrays; see the module docstring for the tables.

    Times are seconds since the scenario start; powers W; rates tok/s.
    """

    name: str
    start: dt.datetime
    tick_s: float
    n_ticks: int
    ticks_per_rec: int
    ticks_per_hall_rec: int
    pack: bool
    # workload classes
    class_names: list[str]
    class_priority: np.ndarray
    class_par: np.ndarray
    class_demand: list[ClassDemand]
    n_backlog_buckets: int
    # pools
    pool_names: list[str]
    pool_specs: list[PoolSpec]
    pool_tables: list[PoolTables]
    pool_class: np.ndarray
    pool_rank: np.ndarray
    n_ranks: int
    pool_gpus_per_rack: np.ndarray
    pool_proxy: np.ndarray  # (n_pool,) bool: efficiency factors a declared proxy
    #: (n_pool,) cap below which racks park, lowest settable limit over the board limit [frac]
    pool_on_cap: np.ndarray
    x_star: np.ndarray
    tab_xcap: np.ndarray
    tab_p: np.ndarray
    tab_slo: np.ndarray  # (n_pool, n_lat_cap, n_u): SLO attainment [frac]
    tab_latency: np.ndarray  # (n_pool, 4, n_lat_cap, n_u): TTFT p50, p99, TPOT p50, p99 [s]
    #: (n_pool,) lowest cap of the latency tables' cap axis, share of the board limit [frac]
    lat_cap_lo: np.ndarray
    # cells
    cell_pool: np.ndarray
    cell_hall: np.ndarray
    cell_state: np.ndarray
    # racks
    rack_cell: np.ndarray
    rack_status: np.ndarray
    rack_in_service_s: np.ndarray
    rack_group_label: list[str]
    rack_group: np.ndarray
    # halls and sites
    hall_names: list[str]
    hall_par: np.ndarray
    site_names: list[str]
    site_par: np.ndarray
    site_utc_offset_h: np.ndarray
    # per-tick site inputs, produced per chunk (None: none built); on-site energy (grid block)
    site_inputs: SiteInputs | None = None
    site_grid_par: np.ndarray = field(default_factory=lambda: np.zeros((0, G.G_NCOLS)))
    site_state: np.ndarray = field(default_factory=lambda: np.zeros((0, L.SS_NCOLS)))
    # cooling plant per hall (cooling block); default: fixed COP from hall_par
    cool_par: np.ndarray = field(default_factory=lambda: np.zeros((0, CL.CP_NCOLS)))
    cool_state: np.ndarray = field(default_factory=lambda: np.zeros((0, CL.CS_NCOLS)))
    # cooling plant units (for the fault processes); None: fixed-COP tables only
    cooling: CoolingPlant | None = None
    # per site: stages.policy code of its power policy (0 priority_caps, 1 uniform, 2 park)
    site_power_policy: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # grid block: per-site accounts data and the events its arrays contain (None: no block)
    grid: GridPlant | None = None
    notes: dict[str, str] = field(default_factory=dict)
    # user regions and routing tables (scenario.regions); None: one implicit region
    regions: RegionPlan | None = None

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return int(self.cell_pool.shape[0])

    @property
    def horizon_s(self) -> float:
        """Simulated horizon [s]."""
        return self.n_ticks * self.tick_s


def _profile(value: str | list[float], kind: str, profiles: dict) -> np.ndarray:
    if isinstance(value, str):
        entry = profiles[value]
        seq = entry.daily_profile_frac if kind == "daily" else entry.weekly_profile_frac
        return np.asarray(seq.value, dtype=float)
    return np.asarray(value, dtype=float)


def _seconds_since(start: dt.datetime, t: dt.datetime) -> float:
    return (t - start).total_seconds()


def build_plant(scenario: Scenario, catalog: Catalog) -> Plant:
    """Build the array plant of a validated scenario.

    Parameters
    ----------
    scenario
        A scenario that passed :func:`dcsim.model.checks.load_scenario` (schema and checks).
    catalog
        The catalog with the scenario's additions merged.

    Returns
    -------
    The plant, in SI.

    Raises
    ------
    ConfigError
        For what only the catalog can tell: an unknown system or model, a model that does not
        fit its replica's HBM (messages name the field path).
    """
    from dcsim.catalog.equipment import load_demand_profiles
    from dcsim.scenario import base_dir

    tick_s = scenario.tick_s
    n_ticks = int(round(scenario.horizon_s / tick_s))
    ticks_per_rec = max(int(round(scenario.record_every_s / tick_s)), 1)
    ticks_per_hall_rec = max(int(round(scenario.hall_record_every_s / tick_s)), 1)
    equipment = load_power_equipment()
    profiles = load_demand_profiles()

    # --- classes
    wl_index = {w.name: i for i, w in enumerate(scenario.workloads)}
    class_par = np.zeros((len(scenario.workloads), L.K_NCOLS))
    n_buckets = 1
    for k, w in enumerate(scenario.workloads):
        class_par[k, L.K_INTERACTIVE] = 1.0 if w.tpot_s is not None else 0.0
        if w.deferrable:
            class_par[k, L.K_DEFERRABLE] = 1.0
            # Age buckets of one hour (or one tick if the deadline is shorter): the deadline
            # is honoured to within one bucket, never exceeded.
            b_ticks = max(int(round(min(units.H_S, w.deadline_s) / tick_s)), 1)
            ring_n = max(int(np.floor(w.deadline_s / (b_ticks * tick_s))), 1)
            n_buckets = max(n_buckets, ring_n)
            class_par[k, L.K_BUCKET_TICKS] = b_ticks
            class_par[k, L.K_BUCKETS] = ring_n
        else:
            class_par[k, L.K_BUCKET_TICKS] = 1.0
            class_par[k, L.K_BUCKETS] = 1.0

    priorities = sorted({w.priority for w in scenario.workloads})
    rank_of_priority = {p: r for r, p in enumerate(priorities)}

    # --- halls and sites, pools and cells
    pool_key_index: dict[tuple, int] = {}
    pool_specs: list[PoolSpec] = []
    pool_names: list[str] = []
    pool_class: list[int] = []
    cell_index: dict[tuple[int, int], int] = {}
    cell_pool: list[int] = []
    cell_hall: list[int] = []
    hall_rows: list[np.ndarray] = []
    hall_names: list[str] = []
    site_rows: list[np.ndarray] = []
    site_names: list[str] = []
    utc_offsets: list[float] = []
    rack_cell: list[np.ndarray] = []
    rack_in_service: list[np.ndarray] = []
    rack_group: list[np.ndarray] = []
    group_labels: list[str] = []

    for s_idx, site in enumerate(scenario.sites):
        chain = site.power_chain
        xfmr = equipment[chain.transformer]
        ups = equipment[chain.ups]
        pdu = equipment[chain.pdu]
        s_row = np.zeros(L.S_NCOLS)
        s_row[L.S_IMPORT_LIMIT_W] = site.import_limit_mw * units.MW_W
        rated_mva = chain.transformer_mva or site.import_limit_mw
        s_row[L.S_XFMR_RATED_W] = rated_mva * units.MW_W
        s_row[L.S_XFMR_NO_LOAD] = xfmr.no_load_frac.value
        s_row[L.S_XFMR_LOAD_LOSS] = xfmr.load_loss_frac.value
        site_rows.append(s_row)
        site_names.append(site.name)
        utc_offsets.append(site.location.utc_offset_h)
        for b_idx, building in enumerate(site.buildings):
            for h_local, hall in enumerate(building.halls):
                h_idx = len(hall_names)
                hall_names.append(f"{site.name}/{building.name}/{hall.name}")
                h_row = np.zeros(L.H_NCOLS)
                h_row[L.H_SITE] = s_idx
                h_row[L.H_FEED_LIMIT_W] = hall.feed_mw * units.MW_W
                h_row[L.H_PDU_EFF] = pdu.efficiency_frac.value
                module_w = hall.ups_module_mw * units.MW_W
                modules_n = int(np.ceil(hall.feed_mw / hall.ups_module_mw))
                h_row[L.H_UPS_MODULE_W] = module_w
                h_row[L.H_UPS_MODULES_ACTIVE] = ups_modules_sharing(
                    TOPOLOGY_CODES[hall.ups_topology], modules_n
                )
                h_row[L.H_UPS_A0] = ups.a0_frac.value
                h_row[L.H_UPS_A1] = ups.a1_frac.value
                h_row[L.H_UPS_A2] = ups.a2_frac.value
                h_row[L.H_COOL_COP] = getattr(hall.cooling, "cop", np.nan)  # fixed-COP halls
                hall_rows.append(h_row)
                for g_idx, group in enumerate(hall.rack_groups):
                    where = (
                        f"{hall_path(scenario, s_idx, b_idx, h_local)}"
                        f".rack_groups.{item_key(hall.rack_groups, g_idx)}"
                    )
                    workload = scenario.workloads[wl_index[group.workload]]
                    key = (
                        group.system, group.workload, group.stack, group.replica_gpus_count,
                        group.gpu_power_limit_w, group.max_batch_count,
                    )  # fmt: skip
                    if key not in pool_key_index:
                        pool_key_index[key] = len(pool_specs)
                        name = f"{group.workload}@{group.system}"
                        if any(n == name for n in pool_names):
                            name = f"{name}#{len(pool_names)}"
                        pool_names.append(name)
                        pool_args = (
                            catalog, group.system, workload.model, workload.precision,
                            group.stack, workload.input_tok, workload.output_tok,
                            workload.tpot_s, workload.ttft_s,
                        )  # fmt: skip
                        spread = {
                            "output_tok_cv_frac": workload.output_tok_cv_frac,
                            "input_tok_cv_frac": workload.input_tok_cv_frac,
                            "gpu_power_limit_w": group.gpu_power_limit_w,
                            "max_batch_count": group.max_batch_count,
                        }
                        if group.replica_gpus_count is None:
                            spec = throughput_optimal_pool_spec(
                                *pool_args,
                                kv_precision=workload.kv_precision,
                                pool_name=where,
                                **spread,
                            )
                        else:
                            spec = pool_spec(
                                *pool_args,
                                replica_gpus=group.replica_gpus_count,
                                kv_precision=workload.kv_precision,
                                pool_name=where,
                                **spread,
                            )
                        pool_specs.append(spec)
                        pool_class.append(wl_index[group.workload])
                    p_idx = pool_key_index[key]
                    ck = (h_idx, p_idx)
                    if ck not in cell_index:
                        cell_index[ck] = len(cell_pool)
                        cell_pool.append(p_idx)
                        cell_hall.append(h_idx)
                    in_service_s = (
                        _seconds_since(scenario.start, group.in_service)
                        if group.in_service is not None
                        else 0.0
                    )
                    rack_cell.append(np.full(group.count, cell_index[ck], dtype=np.int64))
                    rack_in_service.append(np.full(group.count, max(in_service_s, 0.0)))
                    rack_group.append(np.full(group.count, len(group_labels), dtype=np.int64))
                    group_labels.append(f"{hall_names[h_idx]}/{group.name or g_idx}")

    tables = [pool_tables(spec) for spec in pool_specs]
    n_pool = len(pool_specs)
    racks_cell = np.concatenate(rack_cell)
    racks_in_service = np.concatenate(rack_in_service)
    cell_pool_a = np.asarray(cell_pool, dtype=np.int64)
    cell_hall_a = np.asarray(cell_hall, dtype=np.int64)
    rack_status = np.where(racks_in_service <= 0.0, IN_SERVICE, PLANNED).astype(np.int8)

    cell_state = np.zeros((len(cell_pool), L.C_NCOLS))
    np.add.at(cell_state[:, L.C_SERVING], racks_cell[rack_status == IN_SERVICE], 1.0)

    pool_class_a = np.asarray(pool_class, dtype=np.int64)
    pool_rank = np.array(
        [rank_of_priority[scenario.workloads[k].priority] for k in pool_class], dtype=np.int64
    )
    x_star = np.array([t.x_star_tok_per_s for t in tables])

    # --- demand levels (base_capacity_frac is relative to all racks of the class in service)
    installed_racks_per_pool = np.zeros(n_pool)
    np.add.at(installed_racks_per_pool, cell_pool_a[racks_cell], 1.0)

    def demand_of(d, k: int) -> ClassDemand:
        """A demand block of class k in SI (workloads[k].demand or a region's own block)."""
        if d.base_tok_per_s is not None:
            base = d.base_tok_per_s
        else:
            full = float(np.sum((pool_class_a == k) * installed_racks_per_pool * x_star))
            base = d.base_capacity_frac * full
        if d.growth_from is not None:
            # The base holds at growth_from: by the start it has grown (or is still to come).
            since_s = _seconds_since(d.growth_from, scenario.start)
            base *= float(np.exp(np.log1p(d.growth_per_y_frac) * since_s / units.Y_S))
        bursts = np.array(
            [
                [_seconds_since(scenario.start, b.start), b.duration_s, b.multiplier_frac]
                for b in d.bursts
            ],
            dtype=float,
        ).reshape(-1, 3)
        return ClassDemand(
            base_tok_per_s=base,
            daily_profile_frac=_profile(d.daily_profile_frac, "daily", profiles),
            weekly_profile_frac=_profile(d.weekly_profile_frac, "weekly", profiles),
            growth_per_y_frac=d.growth_per_y_frac,
            noise_sigma_frac=d.noise_sigma_frac,
            noise_corr_s=d.noise_corr_s,
            bursts=bursts,
        )

    class_demand = [demand_of(w.demand, k) for k, w in enumerate(scenario.workloads)]

    site_par = np.vstack(site_rows)
    inputs, site_grid_par, site_state, grid = site_inputs(
        scenario, catalog, site_par, n_ticks, tick_s
    )
    hall_par = np.vstack(hall_rows)
    _set_outside_it(hall_par, scenario, catalog)
    cooling = build_cooling(scenario, catalog, base_dir(scenario))
    plant = Plant(
        name=scenario.name,
        start=scenario.start,
        tick_s=tick_s,
        n_ticks=n_ticks,
        ticks_per_rec=ticks_per_rec,
        ticks_per_hall_rec=ticks_per_hall_rec,
        pack=scenario.dispatch == "pack",
        class_names=[w.name for w in scenario.workloads],
        class_priority=np.array([w.priority for w in scenario.workloads]),
        class_par=class_par,
        class_demand=class_demand,
        n_backlog_buckets=n_buckets,
        pool_names=pool_names,
        pool_specs=pool_specs,
        pool_tables=tables,
        pool_class=pool_class_a,
        pool_rank=pool_rank,
        n_ranks=len(priorities),
        pool_gpus_per_rack=np.array([s.gpus_per_rack_count for s in pool_specs], dtype=float),
        pool_proxy=np.array([s.proxy for s in pool_specs], dtype=bool),
        pool_on_cap=np.array([on_cap_frac(s.to_params()) for s in pool_specs], dtype=float),
        x_star=x_star,
        tab_xcap=np.stack([t.x_cap_tok_per_s for t in tables]),
        tab_p=np.stack([t.p_rack_w for t in tables]),
        tab_slo=np.stack([t.slo_attainment_frac for t in tables]),
        tab_latency=np.stack(
            [np.stack([t.ttft_p50_s, t.ttft_p99_s, t.tpot_p50_s, t.tpot_p99_s]) for t in tables]
        ),
        lat_cap_lo=np.array([t.lat_cap_lo_frac for t in tables], dtype=float),
        cell_pool=cell_pool_a,
        cell_hall=cell_hall_a,
        cell_state=cell_state,
        rack_cell=racks_cell,
        rack_status=rack_status,
        rack_in_service_s=racks_in_service,
        rack_group_label=group_labels,
        rack_group=np.concatenate(rack_group),
        hall_names=hall_names,
        hall_par=hall_par,
        site_names=site_names,
        site_par=site_par,
        site_utc_offset_h=np.asarray(utc_offsets),
        site_inputs=inputs,
        site_grid_par=site_grid_par,
        site_state=site_state,
        grid=grid,
        cool_par=cooling.cool_par,
        cool_state=cooling.cool_state0,
        cooling=cooling,
        site_power_policy=np.array(
            [POWER_POLICIES.index(site.power_policy) for site in scenario.sites], dtype=np.int64
        ),
    )
    plant.regions = build_regions(scenario, plant, demand_of)
    return plant


def _set_outside_it(hall_par: np.ndarray, scenario: Scenario, catalog: Catalog) -> None:
    """Fill the ``H_OUTSIDE_*``, ``H_FABRIC_*`` and ``H_STORAGE_*`` columns of ``hall_par``.

    Per rack unit of each hall [W] (:func:`dcsim.model.fabric.build_facility_it`). The idle
    split follows from the catalog's storage idle share; management has no idle reduction,
    so the fabric's idle share is what is left of the idle total.
    """
    fit = build_facility_it(scenario, catalog)
    sto_idle_frac = load_facility_it().per_rack.storage_idle_frac.value
    mgmt = fit.management_w_per_rack
    hall_par[:, L.H_OUTSIDE_SERVING_W] = fit.w_per_serving_rack
    hall_par[:, L.H_OUTSIDE_IDLE_W] = fit.w_per_idle_rack
    hall_par[:, L.H_FABRIC_SERVING_W] = fit.fabric_w_per_rack
    hall_par[:, L.H_STORAGE_SERVING_W] = fit.storage_w_per_rack
    hall_par[:, L.H_STORAGE_IDLE_W] = fit.storage_w_per_rack * sto_idle_frac
    hall_par[:, L.H_FABRIC_IDLE_W] = fit.w_per_idle_rack - hall_par[:, L.H_STORAGE_IDLE_W] - mgmt


def default_cool_arrays(hall_par: np.ndarray):
    """Cooling tables of halls with fixed-COP cooling (``hall_par[:, H_COOL_COP]``).

    Parameters
    ----------
    hall_par
        Hall parameter table (columns ``layout.H_*``).

    Returns
    -------
    (cool_par, cool_state)
        Tables with columns ``cooling_layout.CP_*`` and ``CS_*``.
    """
    n_hall = hall_par.shape[0]
    cool_par = np.zeros((n_hall, CL.CP_NCOLS))
    cool_par[:, CL.CP_TYPE] = CL.COOLING_FIXED_COP
    cool_par[:, CL.CP_FIXED_COP] = hall_par[:, L.H_COOL_COP]
    cool_state = np.full((n_hall, CL.CS_NCOLS), np.nan)
    return cool_par, cool_state


def site_inputs(
    scenario: Scenario, catalog: Catalog, site_par: np.ndarray, n_ticks: int, tick_s: float
):
    """Per-tick site inputs: weather, contract, on-site supply (MODEL.md sections 4 and 5).

    Parameters
    ----------
    scenario, catalog
        The validated scenario and its catalog.
    site_par
        Site parameter table (columns ``layout.S_*``).
    n_ticks, tick_s
        Ticks in the horizon [count] and tick length [s].

    Returns
    -------
    (site_inputs, site_grid_par, site_state, grid)
        The :class:`~dcsim.model.site_inputs.SiteInputs` (produced per chunk of ticks, from
        the weather files and the grid blocks), on-site energy parameters and their initial
        state (as :func:`default_site_arrays`), and the
        :class:`~dcsim.model.grid.GridPlant` (accounts data, events).
    """
    from dcsim.scenario import base_dir

    folder = base_dir(scenario)
    state = np.zeros((site_par.shape[0], L.SS_NCOLS))
    hourly = site_weather_hourly(scenario, folder, tick_s, n_ticks)
    grid = build_grid(
        scenario,
        catalog,
        folder,
        [w.frame() for w in hourly],
        n_ticks,
        tick_s,
        rng_for,
    )
    state[:, L.SS_SOC_J] = grid.site_grid_par[:, G.G_BATT_SOC0_J]
    return SiteInputs(grid, hourly, tick_s, n_ticks), grid.site_grid_par, state, grid


def default_site_arrays(site_par: np.ndarray, n_ticks: int):
    """Site inputs of a campus without a grid block: the import limit, always available.

    Parameters
    ----------
    site_par
        Site parameter table (columns ``layout.S_*``).
    n_ticks
        Ticks in the horizon [count].

    Returns
    -------
    (site_series, site_grid_par, site_state)
        Per-tick inputs (n_site, n_ticks, ST_NCOLS), on-site energy parameters (no battery,
        no turbines) and their initial state.
    """
    n_site = site_par.shape[0]
    series = np.zeros((n_site, n_ticks, L.ST_NCOLS))
    series[:, :, L.ST_CONTRACT_W] = site_par[:, L.S_IMPORT_LIMIT_W, None]
    series[:, :, L.ST_GRID_AVAIL_W] = site_par[:, L.S_IMPORT_LIMIT_W, None]
    return series, np.zeros((n_site, G.G_NCOLS)), np.zeros((n_site, L.SS_NCOLS))
