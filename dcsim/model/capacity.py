"""Validated scenario + plant -> capacity plan: build-out, failures, training, costs, in SI.

The plan holds what the capacity processes (:mod:`dcsim.sim.buildout`,
:mod:`dcsim.sim.failures`) and the capacity results need, as arrays indexed like the plant
(racks, cells, halls) plus a small table of rack systems. Scenario units (dates, MW, per
month, per hour, years) become SI here, once.

The blocks are read from the scenario with ``getattr`` (``scenario.buildout``,
``scenario.reliability``, ``scenario.economics``, ``workload.training``), or passed
explicitly (tests and notebooks that build them by hand).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dcsim import units
from dcsim.catalog.economics import load_economics
from dcsim.catalog.reliability import BLASTS, load_reliability
from dcsim.catalog.schema import Catalog
from dcsim.errors import ConfigError
from dcsim.kernels import layout as L
from dcsim.model.plant import Plant
from dcsim.physics.reliability import daly_interval_s, job_mtbf_s, young_interval_s
from dcsim.scenario.buildout_checks import match_rack_groups
from dcsim.scenario.buildout_schema import Buildout, Economics, Reliability, Training

__all__ = [
    "BLAST_CODES",
    "BuildoutPlan",
    "CapacityPlan",
    "EconomicsPlan",
    "ReliabilityPlan",
    "TrainingPlan",
    "build_capacity_plan",
]

#: Seconds in the month of a supply rate (1/12 of the 365-day year of ``units.Y_S``).
MONTH_S = units.Y_S / 12.0
#: Seconds in the week of an installation rate.
WEEK_S = 7.0 * units.D_S
#: Interval of the capacity snapshots [s].
SNAPSHOT_EVERY_S = units.D_S
#: Integer code of each blast radius (index in :data:`dcsim.catalog.reliability.BLASTS`).
BLAST_CODES = {name: i for i, name in enumerate(BLASTS)}


@dataclass
class BuildoutPlan:
    """Build-out in SI; see :mod:`dcsim.scenario.buildout_schema` for the semantics.

    Times are seconds since the scenario start; ``-inf`` for halls in no phase (built
    before the start). Rack arrays are indexed like the plant's racks.
    """

    step_s: float
    hall_phased: np.ndarray  # (n_hall,) bool
    hall_shell_s: np.ndarray
    hall_energised_s: np.ndarray
    hall_commissioned_s: np.ndarray
    rack_pipeline: np.ndarray  # (n_rack,) bool: the rack is delivered by the build-out
    rack_earliest_s: np.ndarray  # earliest shipping time [s]; inf outside the pipeline
    queues: list[np.ndarray]  # per system: pipeline racks in shipping order
    supply_rate_per_s: np.ndarray  # (n_sys,) [racks/s]
    shipment_every_s: np.ndarray  # (n_sys,)
    slip_probability_frac: np.ndarray  # (n_sys,)
    slip_mean_s: np.ndarray
    slip_max_s: np.ndarray
    shortage_start_s: np.ndarray  # (n_short,)
    shortage_end_s: np.ndarray
    shortage_cut_frac: np.ndarray
    shortage_systems: np.ndarray  # (n_short, n_sys) bool
    shortage_names: list[str]
    install_rate_per_s: float  # per crew unit [racks/s]
    hall_crew: np.ndarray  # (n_hall,) crew unit of each hall (hall or site index)
    n_crews: int
    burn_in_s: float
    infant_failure_frac: float
    rework_s: float


@dataclass
class ReliabilityPlan:
    """Failure causes and their effect per cell, in SI."""

    cause_names: list[str]
    rate_per_rack_s: np.ndarray  # (n_cell, n_cause) failures of one rack [1/s]
    blast_code: np.ndarray  # (n_cause,) index into BLASTS
    blast_gpus: np.ndarray  # (n_cell, n_cause) GPUs taken out per failure [count]
    swap_s: np.ndarray  # (n_cause,) repair with a part on hand [s]
    rma_s: np.ndarray  # (n_cause,) wait for a part without a spare [s]
    needs_part: np.ndarray  # (n_cause,) bool
    hall_spares_count: np.ndarray | None  # (n_hall,) or None: parts always on hand
    rma_turnaround_s: float | None  # time a used spare takes to come back; None: per cause
    maint_every_s: np.ndarray  # (n_window,)
    maint_duration_s: np.ndarray
    maint_racks_frac: np.ndarray
    maint_offset_s: np.ndarray
    quantum_s: float  # grid of failure and repair instants [s]
    refresh_s: float  # longest sleep before racks in service are recounted [s]


@dataclass
class TrainingPlan:
    """Training reservations: one job per workload with a ``training`` block."""

    names: list[str]
    rack_job: np.ndarray  # (n_rack,) job index or -1
    gpus_count: np.ndarray  # (n_job,)
    mtbf_s: np.ndarray  # (n_job,) at full reservation, catalog rates
    interval_s: np.ndarray
    write_s: np.ndarray
    restart_s: np.ndarray
    young_interval_s: np.ndarray
    daly_interval_s: np.ndarray


@dataclass
class EconomicsPlan:
    """Cost figures in SI (catalog defaults with the scenario's overrides)."""

    rack_capex_usd: np.ndarray  # (n_sys,) per rack unit
    facility_capex_usd_per_w: float
    it_life_s: float
    facility_life_s: float
    maintenance_per_y_frac: float
    energy_price_usd_per_mwh: float
    water_price_usd_per_m3: float


@dataclass
class CapacityPlan:
    """Everything the capacity processes and results need, indexed like the plant."""

    start: dt.datetime
    horizon_s: float
    tick_s: float
    snapshot_every_s: float
    hall_names: list[str]  # short names (as scenarios write them)
    hall_feed_w: np.ndarray  # (n_hall,) critical capacity [W]
    hall_site: np.ndarray  # (n_hall,)
    system_names: list[str]
    rack_system: np.ndarray  # (n_rack,) index into system_names
    rack_hall: np.ndarray  # (n_rack,)
    rack_gpus: np.ndarray  # (n_rack,) [count]
    rack_design_w: np.ndarray  # (n_rack,) design (nameplate) power [W]
    cell_racks: list[np.ndarray]  # racks of each cell
    economics: EconomicsPlan
    buildout: BuildoutPlan | None = None
    reliability: ReliabilityPlan | None = None
    training: TrainingPlan | None = None
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def n_racks(self) -> int:
        """Number of racks."""
        return int(self.rack_hall.shape[0])


def _since(start: dt.datetime, t: dt.datetime) -> float:
    return (t - start).total_seconds()


def build_capacity_plan(
    scenario: Any,
    catalog: Catalog,
    plant: Plant,
    *,
    buildout: Buildout | None = None,
    reliability: Reliability | None = None,
    economics: Economics | None = None,
    training: dict[str, Training] | None = None,
) -> CapacityPlan:
    """Build the capacity plan of a validated scenario and its plant.

    Parameters
    ----------
    scenario
        The validated scenario (its ``buildout``, ``reliability``, ``economics`` and
        workloads' ``training`` blocks are used when present).
    catalog
        The catalog with the scenario's additions merged.
    plant
        The plant built from the same scenario (racks, cells and halls in its order).
    buildout, reliability, economics
        Blocks to use instead of the scenario's (default: ``scenario.<block>``).
    training
        Training blocks by workload name (default: each workload's ``training``).

    Returns
    -------
    CapacityPlan
        In SI. ``reliability`` is None when the block is absent or disabled; ``buildout``
        None without a build-out (the fleet processes then apply the in-service dates).

    Raises
    ------
    ConfigError
        For a training job whose rack groups serve no rack.
    """
    buildout = buildout if buildout is not None else getattr(scenario, "buildout", None)
    reliability = reliability if reliability is not None else getattr(scenario, "reliability", None)
    economics = economics if economics is not None else getattr(scenario, "economics", None)
    if training is None:
        training = {w.name: w.training for w in scenario.workloads if getattr(w, "training", None)}

    hall_short = [name.rsplit("/", 1)[-1] for name in plant.hall_names]
    cell_pool = plant.cell_pool
    rack_pool = cell_pool[plant.rack_cell]
    rack_hall = plant.cell_hall[plant.rack_cell]
    pool_system = [spec.rack_system_id for spec in plant.pool_specs]
    system_names: list[str] = []
    for name in pool_system:
        if name not in system_names:
            system_names.append(name)
    pool_sys_idx = np.array([system_names.index(n) for n in pool_system], dtype=np.int64)
    rack_system = pool_sys_idx[rack_pool]
    design_w = np.array(
        [catalog.rack_systems[n].design_power_kw.value * units.KW_W for n in system_names]
    )
    order = np.argsort(plant.rack_cell, kind="stable")
    bounds = np.searchsorted(plant.rack_cell[order], np.arange(plant.n_cells + 1))
    cell_racks = [order[bounds[c] : bounds[c + 1]] for c in range(plant.n_cells)]

    plan = CapacityPlan(
        start=plant.start,
        horizon_s=plant.horizon_s,
        tick_s=plant.tick_s,
        snapshot_every_s=SNAPSHOT_EVERY_S,
        hall_names=hall_short,
        hall_feed_w=plant.hall_par[:, L.H_FEED_LIMIT_W].copy(),
        hall_site=plant.hall_par[:, L.H_SITE].astype(np.int64),
        system_names=system_names,
        rack_system=rack_system,
        rack_hall=rack_hall,
        rack_gpus=plant.pool_gpus_per_rack[rack_pool].copy(),
        rack_design_w=design_w[rack_system],
        cell_racks=cell_racks,
        economics=_economics_plan(economics, system_names),
    )
    missing = [n for n in system_names if n not in load_economics().rack_capex_usd]
    if missing and not (economics and all(n in economics.rack_capex_usd for n in missing)):
        plan.notes["economics"] = f"no capex for {', '.join(missing)}: counted as 0 USD"
    if buildout is not None:
        plan.buildout = _buildout_plan(scenario, plant, plan, buildout)
    rates = _rates_per_rack(plant, plan, reliability)
    if reliability is not None and reliability.enabled:
        plan.reliability = _reliability_plan(plant, plan, reliability, rates)
    if training:
        plan.training = _training_plan(scenario, plant, training, rates)
    return plan


# --------------------------------------------------------------------------- build-out


def _buildout_plan(scenario: Any, plant: Plant, plan: CapacityPlan, bo: Buildout) -> BuildoutPlan:
    start = plant.start
    n_hall = len(plan.hall_names)
    hall_index = {name: h for h, name in enumerate(plan.hall_names)}
    shell = np.full(n_hall, -np.inf)
    energised = np.full(n_hall, -np.inf)
    commissioned = np.full(n_hall, -np.inf)
    phased = np.zeros(n_hall, dtype=bool)
    for phase in bo.phases:
        for name in phase.halls:
            h = hall_index[name]
            phased[h] = True
            shell[h] = _since(start, phase.shell_ready)
            energised[h] = _since(start, phase.energised)
            commissioned[h] = _since(start, phase.cooling_commissioned)

    pipeline = phased[plan.rack_hall]
    # Times before the start stay negative: the build-out plays them before the first tick.
    earliest = np.where(pipeline, shell[plan.rack_hall], np.inf)
    assigned = np.zeros(plan.n_racks, dtype=bool)
    short_labels = np.array([lab.split("/", 2)[2] for lab in plant.rack_group_label])
    # Group orders first (they name racks precisely), then system orders in listed order.
    for d in [d for d in bo.deliveries if d.rack_group is not None]:
        labels = [lab for lab, _, _ in match_rack_groups(scenario, d.rack_group)]
        groups = np.flatnonzero(np.isin(short_labels, labels))
        racks = np.flatnonzero(np.isin(plant.rack_group, groups) & pipeline & ~assigned)
        racks = racks[: d.count] if d.count is not None else racks
        earliest[racks] = _since(start, d.earliest)
        assigned[racks] = True
    for d in [d for d in bo.deliveries if d.system is not None]:
        if d.system not in plan.system_names:
            continue
        s_idx = plan.system_names.index(d.system)
        racks = np.flatnonzero((plan.rack_system == s_idx) & pipeline & ~assigned)
        racks = racks[np.lexsort((racks, energised[plan.rack_hall[racks]]))]
        racks = racks[: d.count] if d.count is not None else racks
        earliest[racks] = _since(start, d.earliest)
        assigned[racks] = True

    n_sys = len(plan.system_names)
    queues = []
    for s_idx in range(n_sys):
        racks = np.flatnonzero((plan.rack_system == s_idx) & pipeline)
        hall = plan.rack_hall[racks]
        # Position of each rack among its hall's racks: halls that are ready together
        # receive racks in turn, so that every hall's crews have work.
        by_hall = np.argsort(hall, kind="stable")
        first = np.searchsorted(hall[by_hall], hall[by_hall], side="left")
        rank = np.empty(racks.size, dtype=np.int64)
        rank[by_hall] = np.arange(racks.size) - first
        keys = (hall, rank, commissioned[hall], energised[hall], earliest[racks])
        queues.append(racks[np.lexsort(keys)])

    rate = np.zeros(n_sys)
    every = np.full(n_sys, WEEK_S)
    slip_p = np.zeros(n_sys)
    slip_mean = np.zeros(n_sys)
    slip_max = np.zeros(n_sys)
    for sup in bo.supply:
        if sup.system not in plan.system_names:
            continue  # supplies a system the campus does not use
        s_idx = plan.system_names.index(sup.system)
        rate[s_idx] = sup.racks_per_month / MONTH_S
        every[s_idx] = max(sup.shipment_every_s, bo.step_s)
        slip_p[s_idx] = sup.slip.probability_frac
        slip_mean[s_idx] = sup.slip.mean_s
        slip_max[s_idx] = sup.slip.max_s

    n_short = len(bo.shortages)
    short_sys = np.zeros((n_short, n_sys), dtype=bool)
    for i, sh in enumerate(bo.shortages):
        if sh.component is not None:
            short_sys[i, :] = True  # every rack system carries GPUs with HBM
        elif sh.system in plan.system_names:
            short_sys[i, plan.system_names.index(sh.system)] = True
    per_site = bo.installation.per == "site"
    hall_crew = plan.hall_site.copy() if per_site else np.arange(n_hall, dtype=np.int64)
    return BuildoutPlan(
        step_s=bo.step_s,
        hall_phased=phased,
        hall_shell_s=shell,
        hall_energised_s=energised,
        hall_commissioned_s=commissioned,
        rack_pipeline=pipeline,
        rack_earliest_s=earliest,
        queues=queues,
        supply_rate_per_s=rate,
        shipment_every_s=every,
        slip_probability_frac=slip_p,
        slip_mean_s=slip_mean,
        slip_max_s=slip_max,
        shortage_start_s=np.array([_since(start, sh.start) for sh in bo.shortages]),
        shortage_end_s=np.array([_since(start, sh.end) for sh in bo.shortages]),
        shortage_cut_frac=np.array([sh.supply_cut_frac for sh in bo.shortages]),
        shortage_systems=short_sys,
        shortage_names=[
            sh.name or (sh.component or sh.system or f"shortage{i}")
            for i, sh in enumerate(bo.shortages)
        ],
        install_rate_per_s=bo.installation.racks_per_week / WEEK_S,
        hall_crew=hall_crew,
        n_crews=int(hall_crew.max()) + 1 if n_hall else 0,
        burn_in_s=bo.burn_in.duration_s,
        infant_failure_frac=bo.burn_in.infant_failure_frac,
        rework_s=bo.burn_in.rework_s,
    )


# --------------------------------------------------------------------------- reliability


@dataclass
class _Rates:
    cause_names: list[str]
    rate_per_rack_s: np.ndarray  # (n_cell, n_cause)
    hosts_per_rack: np.ndarray  # (n_cell,)


def _rates_per_rack(plant: Plant, plan: CapacityPlan, rel: Reliability | None) -> _Rates:
    cat = load_reliability()
    names = list(cat.causes)
    multiplier = rel.rate_multiplier_frac if rel is not None else 1.0
    overrides = rel.rate_overrides_per_h if rel is not None else {}
    rate_s = np.array(
        [
            overrides.get(k, c.rate_per_h.value) * multiplier / units.H_S
            for k, c in cat.causes.items()
        ]
    )
    n_cell = plant.n_cells
    per_rack = np.zeros((n_cell, len(names)))
    hosts_per_rack = np.zeros(n_cell)
    fallback: list[str] = []
    for c in range(n_cell):
        p = plant.cell_pool[c]
        system = plant.pool_specs[p].rack_system_id
        gpus = float(plant.pool_gpus_per_rack[p])
        entry = cat.systems.get(system)
        if entry is None:
            # Hosts as on the reference cluster (8-GPU HGX nodes), no switch trays.
            hosts, trays = max(gpus / cat.reference.gpus_per_host_count, 1.0), 0.0
            if system not in fallback:
                fallback.append(system)
        else:
            hosts, trays = entry.hosts_per_rack_count.value, entry.nvlink_trays_count.value
        hosts_per_rack[c] = hosts
        basis_units = {"gpu": gpus, "host": hosts, "rack": 1.0, "nvlink_tray": trays}
        for k, cause in enumerate(cat.causes.values()):
            per_rack[c, k] = basis_units[cause.basis]
    if fallback:
        plan.notes["reliability"] = (
            f"no reliability.yaml entry for {', '.join(fallback)}: one host per "
            f"{cat.reference.gpus_per_host_count} GPUs, no switch trays"
        )
    return _Rates(names, per_rack * rate_s[None, :], hosts_per_rack)


def _reliability_plan(
    plant: Plant, plan: CapacityPlan, rel: Reliability, rates: _Rates
) -> ReliabilityPlan:
    cat = load_reliability()
    causes = list(cat.causes.values())
    n_cell = plant.n_cells
    blast_code = np.array([BLAST_CODES[c.blast] for c in causes], dtype=np.int64)
    blast_gpus = np.zeros((n_cell, len(causes)))
    for c in range(n_cell):
        spec = plant.pool_specs[plant.cell_pool[c]]
        g = float(spec.gpus_per_rack_count)
        replica = float(spec.replica_gpus_count)
        hosts = rates.hosts_per_rack[c]
        host_gpus = g / hosts if hosts > 0 else g
        for k, cause in enumerate(causes):
            if cause.blast == "none":
                blast_gpus[c, k] = 0.0
            elif cause.blast == "replica":
                blast_gpus[c, k] = replica
            elif cause.blast == "host":
                # The host's GPUs, rounded up to the whole replicas they hold.
                blast_gpus[c, k] = math.ceil(host_gpus / replica - 1e-9) * replica
            else:
                blast_gpus[c, k] = max(g, replica)
    swap_s = np.array(
        [
            rel.repair_overrides_s.get(k, c.repair_swap_h.value * units.H_S)
            for k, c in cat.causes.items()
        ]
    )
    rma_s = np.array([c.repair_rma_d.value * units.D_S for c in causes])
    spares = rel.spares
    hall_spares = None
    if spares is not None:
        rack_hosts = rates.hosts_per_rack[plant.rack_cell]
        hosts_per_hall = np.bincount(plan.rack_hall, rack_hosts, minlength=len(plan.hall_names))
        if spares.per_hall_count is not None:
            hall_spares = np.full(len(plan.hall_names), spares.per_hall_count, dtype=np.int64)
        else:
            hall_spares = np.ceil(hosts_per_hall * spares.spares_frac - 1e-9).astype(np.int64)
    windows = rel.maintenance
    bo = plan.buildout
    return ReliabilityPlan(
        cause_names=rates.cause_names,
        rate_per_rack_s=rates.rate_per_rack_s,
        blast_code=blast_code,
        blast_gpus=blast_gpus,
        swap_s=swap_s,
        rma_s=rma_s,
        needs_part=np.array([c.needs_part for c in causes]),
        hall_spares_count=hall_spares,
        rma_turnaround_s=spares.rma_turnaround_s if spares is not None else None,
        maint_every_s=np.array([w.every_s for w in windows]),
        maint_duration_s=np.array([w.duration_s for w in windows]),
        maint_racks_frac=np.array([w.racks_frac for w in windows]),
        maint_offset_s=np.array(
            [w.offset_s if w.offset_s is not None else w.every_s for w in windows]
        ),
        quantum_s=rel.event_quantum_s if rel.event_quantum_s > 0 else plant.tick_s,
        refresh_s=bo.step_s if bo is not None else units.D_S,
    )


def _training_plan(
    scenario: Any, plant: Plant, training: dict[str, Training], rates: _Rates
) -> TrainingPlan:
    short_labels = np.array([lab.split("/", 2)[2] for lab in plant.rack_group_label])
    group_workload = []
    for site in scenario.sites:
        for b in site.buildings:
            for hall in b.halls:
                group_workload += [g.workload for g in hall.rack_groups]
    group_workload_a = np.array(group_workload)
    rack_job = np.full(plant.rack_cell.shape[0], -1, dtype=np.int64)
    names, gpus, mtbf, interval, write, restart, young, daly = ([] for _ in range(8))
    for j, (name, tr) in enumerate(training.items()):
        if tr.rack_groups:
            labels = [lab for x in tr.rack_groups for lab, _, _ in match_rack_groups(scenario, x)]
            groups = np.flatnonzero(np.isin(short_labels, labels))
        else:
            groups = np.flatnonzero(group_workload_a == name)
        racks = np.flatnonzero(np.isin(plant.rack_group, groups))
        if racks.size == 0:
            raise ConfigError(
                "the training job has no racks; expected rack groups serving the workload",
                f"workloads.{name}.training",
            )
        rack_job[racks] = j
        per_cell = np.bincount(plant.rack_cell[racks], minlength=plant.n_cells).astype(float)
        m = job_mtbf_s(rates.rate_per_rack_s, per_cell[:, None])
        y = float(young_interval_s(tr.checkpoint_write_s, m))
        d = float(daly_interval_s(tr.checkpoint_write_s, m))
        if tr.checkpoint_interval_s is not None:
            tau = tr.checkpoint_interval_s
        else:
            tau = d if tr.interval_rule == "daly" else y
        if not np.isfinite(tau):
            tau = plant.horizon_s  # nothing fails: one checkpoint per horizon is enough
        names.append(name)
        gpus.append(
            float(np.sum(plant.pool_gpus_per_rack[plant.cell_pool[plant.rack_cell[racks]]]))
        )
        mtbf.append(m)
        interval.append(tau)
        write.append(tr.checkpoint_write_s)
        restart.append(tr.restart_s)
        young.append(y)
        daly.append(d)
    return TrainingPlan(
        names=names,
        rack_job=rack_job,
        gpus_count=np.array(gpus),
        mtbf_s=np.array(mtbf),
        interval_s=np.array(interval),
        write_s=np.array(write),
        restart_s=np.array(restart),
        young_interval_s=np.array(young),
        daly_interval_s=np.array(daly),
    )


# --------------------------------------------------------------------------- economics


def _economics_plan(econ: Economics | None, system_names: list[str]) -> EconomicsPlan:
    cat = load_economics()
    over = econ if econ is not None else Economics()

    def pick(value: float | None, default: float) -> float:
        return float(value) if value is not None else float(default)

    capex = np.array(
        [
            pick(
                over.rack_capex_usd.get(n),
                cat.rack_capex_usd[n].value if n in cat.rack_capex_usd else 0.0,
            )
            for n in system_names
        ]
    )
    return EconomicsPlan(
        rack_capex_usd=capex,
        facility_capex_usd_per_w=pick(
            over.facility_capex_usd_per_mw, cat.facility_capex_usd_per_mw.value
        )
        / units.MW_W,
        it_life_s=pick(over.it_depreciation_s, cat.it_depreciation_y.value * units.Y_S),
        facility_life_s=pick(
            over.facility_depreciation_s, cat.facility_depreciation_y.value * units.Y_S
        ),
        maintenance_per_y_frac=pick(over.maintenance_per_y_frac, cat.maintenance_per_y_frac.value),
        energy_price_usd_per_mwh=pick(
            over.energy_price_usd_per_mwh, cat.energy_price_usd_per_mwh.value
        ),
        water_price_usd_per_m3=pick(over.water_price_usd_per_m3, cat.water_price_usd_per_m3.value),
    )
