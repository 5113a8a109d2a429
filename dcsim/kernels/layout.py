"""Column layout of the array tables shared by the plant, the fused step and the recorder.

Per-asset parameters and state live in 2-D float64 tables (one row per asset, one column per
quantity), so that a new coupled block adds columns, not kernel arguments. Numba treats these
module-level integers as compile-time constants.
"""

from __future__ import annotations

# --- hall parameters: hall_par[h, :]
H_SITE = 0  # site index
H_FEED_LIMIT_W = 1  # UPS-output (critical) capacity of the feed [W]
H_PDU_EFF = 2  # PDU/busway efficiency [frac]
H_UPS_MODULE_W = 3  # rated output of one UPS module [W]
H_UPS_MODULES_ACTIVE = 4  # modules sharing the load [count]
H_UPS_A0 = 5
H_UPS_A1 = 6
H_UPS_A2 = 7
H_COOL_COP = 8  # fixed-COP cooling: heat removed per W of mechanical power [W/W]
# IT power outside the racks (fabric, storage, management), per rack unit of the hall
# (dcsim.model.fabric.build_facility_it): a serving rack, an idle or burn-in rack [W]
H_OUTSIDE_SERVING_W = 9
H_OUTSIDE_IDLE_W = 10
H_FABRIC_SERVING_W = 11  # the fabric's share of H_OUTSIDE_SERVING_W [W]
H_FABRIC_IDLE_W = 12
H_STORAGE_SERVING_W = 13  # the storage share (management = outside - fabric - storage) [W]
H_STORAGE_IDLE_W = 14
H_NCOLS = 15

# --- site parameters: site_par[s, :]
S_IMPORT_LIMIT_W = 0  # grid import limit at the meter [W]
S_XFMR_RATED_W = 1
S_XFMR_NO_LOAD = 2
S_XFMR_LOAD_LOSS = 3
S_NCOLS = 4

# --- per-tick site series: site_series[s, t, :] (built by dcsim.model.grid and weather)
ST_CONTRACT_W = 0  # contracted import capacity before curtailment (firm ramp + non-firm) [W]
ST_GRID_AVAIL_W = 1  # import the meter may take this tick (0 in a disconnect) [W]
ST_SOLAR_W = 2  # solar PV AC output available [W]
ST_CLEAN_W = 3  # firm clean block available [W]
ST_BATT_CMD = 4  # arbitrage price signal: +1 discharge, -1 charge, 0 hold [-]
ST_CP_SHED = 5  # 1 where deferrable work is shed to avoid a coincident peak [-]
ST_T_DB_DEGC = 6  # outdoor dry bulb [degC]
ST_T_WB_DEGC = 7  # outdoor wet bulb [degC]
ST_NCOLS = 8

# --- site state carried from tick to tick: site_state[s, :]
SS_SOC_J = 0  # battery state of charge [J]
SS_TURB_ONLINE = 1  # turbine units running [count]
SS_TURB_STARTING = 2  # turbine units starting [count]
SS_TURB_START_LEFT_S = 3  # time until the starting units synchronise [s]
SS_TURB_SURPLUS_S = 4  # time the need has stayed below the running units [s]
SS_BATT_MODE = 5  # battery mode of the last tick: +1 discharge, -1 charge, 0 idle
SS_NCOLS = 6

# --- kernel events: events[i, :] (written by the site-balance stage, logged by the recorder)
EV_TICK = 0  # global tick in which the change was decided
EV_KIND = 1  # one of EV_KIND_*
EV_SITE = 2  # site index
EV_VALUE = 3  # turbine units online after the change [count]; battery power [W]
EV_NCOLS = 4
EV_KIND_TURBINE_START = 0
EV_KIND_TURBINE_STOP = 1
EV_KIND_BATTERY_CHARGE = 2
EV_KIND_BATTERY_DISCHARGE = 3
EV_KIND_BATTERY_IDLE = 4
#: Event-table kind of each EV_KIND_* code.
EV_KIND_NAMES = (
    "turbine_start",
    "turbine_stop",
    "battery_charge",
    "battery_discharge",
    "battery_idle",
)

# --- per-site time series at the campus record interval: site_rec[row, s, :]
SR_FACILITY = 0
SR_GRID_IMPORT = 1
SR_SOLAR = 2
SR_CLEAN = 3
SR_TURBINE = 4
SR_BATTERY = 5  # + discharge, - charge
SR_SOC = 6
SR_SPILL = 7
SR_CURTAILED = 8
SR_GRID_AVAIL = 9
SR_TURB_ONLINE = 10
SR_SHED = 11
SR_UNMET = 12
SR_TURBINE_GROSS = 13  # turbine output incl. minimum-load output spilled (burns fuel)
SR_POLICY_ACTED = 14  # share of the time the site's power policy lowered power [frac]
SR_PARKED = 15  # racks switched off: park policy, caps below the lowest limit (mean) [racks]
SR_NCOLS = 16
SR_NAMES = (
    "facility_power_w",
    "grid_import_w",
    "solar_w",
    "clean_w",
    "turbine_w",
    "battery_w",
    "battery_soc_j",
    "spilled_w",
    "curtailed_w",
    "grid_available_w",
    "turbines_online_count",
    "shed_w",
    "unmet_w",
    "turbine_gross_w",
    "power_policy_acted_frac",
    "parked_racks_count",
)

# --- cell state: cell_state[c, :]; a cell = racks of one pool in one hall
C_SERVING = 0  # racks in service, weighted by their healthy share [racks]
C_BURNIN = 1  # racks in burn-in (draw stress power, serve nothing) [racks]
C_IDLE = 2  # racks installed and powered but not serving [racks]
C_NCOLS = 3
# (Cooling does not derate racks through a per-cell column: it acts through the hall's heat
# limit, which joins the feed limit in the cap solve of the tick.)

# --- workload-class parameters: class_par[k, :]
K_DEFERRABLE = 0  # 1 if deferrable
K_BUCKET_TICKS = 1  # ticks per backlog age bucket (deferrable only)
K_INTERACTIVE = 2  # 1 if the class has a latency SLO
K_BUCKETS = 3  # backlog age buckets in use by the class (ring length) [count]
K_NCOLS = 4

# --- recorded campus time series: rec[row, :] (time-weighted means over the record interval)
R_DEMAND = 0
R_SERVED = 1
R_CAPACITY = 2
R_UNSERVED = 3
R_BACKLOG = 4
R_POWER_CAPPED = 5
R_SLO_WEIGHTED = 6  # sum over interactive classes of attainment x served [tok/s]
R_INTERACTIVE_DEMAND = 7
R_IT = 8
R_COOLING = 9
R_LOSSES = 10
R_FACILITY = 11
R_GRID_IMPORT = 12
R_GPUS = 13
R_HEAT = 14  # white-space heat: rack IT power + PDU loss
R_HEAT_REJECTED = 15
R_HEAT_STORED = 16  # rate of change of heat stored in the cooling loops
R_PUMPS = 17
R_REJECTION_FANS = 18
R_CHILLERS = 19
R_CRAH = 20
R_WATER = 21  # water withdrawn [L/s]
R_THERMAL_CAPPED = 22  # tokens lost to thermal throttling [tok/s]
R_THROTTLED_CAPACITY = 23  # capacity withheld by thermal limits [tok/s]
R_UNTHROTTLED_CAPACITY = 24  # capacity at the state caps, before thermal limits [tok/s]
R_T_FWS_MEAN = 25  # mean over liquid-cooled halls
R_T_FWS_MAX = 26
R_T_TCS_MAX = 27
R_OUTSIDE_IT = 28  # IT power outside the racks: fabric + storage + management [W]
R_FABRIC = 29  # scale-out fabric: switches, optics, NICs [W]
R_STORAGE = 30
R_MANAGEMENT = 31
R_HUMIDIFICATION = 32  # air halls; inside R_COOLING [W]
R_LIGHTING_ANCILLARY = 33  # air halls; inside R_COOLING [W]
R_PROXY_SERVED = 34  # served on pools whose efficiency factors are a declared proxy [tok/s]
R_NCOLS = 35

#: Names of the campus columns, in order. Ratio columns (SLO attainment, PUE, tok/J) are
#: derived from these in :mod:`dcsim.sim.recorder`.
R_NAMES = (
    "demand_tok_per_s",
    "served_tok_per_s",
    "capacity_tok_per_s",
    "unserved_tok_per_s",
    "backlog_tok",
    "power_capped_tok_per_s",
    "slo_served_tok_per_s",
    "interactive_demand_tok_per_s",
    "it_power_w",
    "cooling_power_w",
    "losses_power_w",
    "facility_power_w",
    "grid_import_w",
    "gpus_in_service_count",
    "heat_w",
    "heat_rejected_w",
    "heat_stored_rate_w",
    "pumps_power_w",
    "heat_rejection_fans_power_w",
    "chillers_power_w",
    "crah_power_w",
    "water_l_per_s",
    "thermal_capped_tok_per_s",
    "throttled_capacity_tok_per_s",
    "unthrottled_capacity_tok_per_s",
    "temp_fws_degc",
    "temp_fws_max_degc",
    "temp_tcs_supply_max_degc",
    "outside_racks_it_power_w",
    "fabric_power_w",
    "storage_power_w",
    "management_power_w",
    "humidification_power_w",
    "lighting_ancillary_power_w",
    "proxy_served_tok_per_s",
)

# --- per-class time series: class_rec[row, k, :]
KR_DEMAND = 0
KR_SERVED = 1
KR_UNSERVED = 2
KR_BACKLOG = 3
KR_CAPACITY = 4
# Latency of interactive classes, each summed x served tokens [tok/s x unit]: the recorder
# divides by KR_LATENCY_SERVED (served tokens on cells with a latency) for served-weighted
# means. Order as the latency columns of Work.latency_cls.
KR_LATENCY_SERVED = 5  # [tok/s]
KR_SLO_W = 6  # SLO attainment [frac]
KR_TTFT_P50_W = 7  # [s]
KR_TTFT_P99_W = 8
KR_TPOT_P50_W = 9
KR_TPOT_P99_W = 10
KR_NCOLS = 11
KR_NAMES = (
    "demand_tok_per_s",
    "served_tok_per_s",
    "unserved_tok_per_s",
    "backlog_tok",
    "capacity_tok_per_s",
    "latency_served_tok_per_s",
    "slo_served_tok_per_s",
    "ttft_p50_x_served_tok",
    "ttft_p99_x_served_tok",
    "tpot_p50_x_served_tok",
    "tpot_p99_x_served_tok",
)
#: Per-class columns written to the time series as they are.
KR_PUBLIC = 5
#: Served-weighted latency columns derived by the recorder: (name, weighted column).
KR_LATENCY_NAMES = (
    ("slo_attainment_frac", KR_SLO_W),
    ("ttft_p50_s", KR_TTFT_P50_W),
    ("ttft_p99_s", KR_TTFT_P99_W),
    ("tpot_p50_s", KR_TPOT_P50_W),
    ("tpot_p99_s", KR_TPOT_P99_W),
)

# --- per-hall time series at the coarser interval: hall_rec[row, h, :]
HR_IT = 0
HR_UPS_OUT = 1
HR_COOLING = 2
HR_CAP = 3  # sum over cells of cap x serving racks (divided by HR_SERVING when reported)
HR_SERVING = 4  # racks in service [racks]
HR_T_FWS = 5
HR_T_TCS_SUPPLY = 6
HR_WATER = 7
HR_THERMAL_BOUND = 8  # share of the interval the thermal limit bound the hall [frac]
HR_OUTSIDE_IT = 9  # IT power outside the racks (inside HR_IT) [W]
HR_NCOLS = 10
HR_NAMES = (
    "it_power_w",
    "ups_output_w",
    "cooling_power_w",
    "cap_frac",
    "serving_racks_count",
    "temp_fws_degc",
    "temp_tcs_supply_degc",
    "water_l_per_s",
    "thermal_bound_frac",
    "outside_racks_it_power_w",
)
