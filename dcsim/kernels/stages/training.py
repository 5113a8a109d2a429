"""Training jobs in the tick: racks taken from inference, their power, and what the grid sees.

Three small stages around the main ones (``docs/training.md``):

- :func:`occupy`, whenever the live rack counts are recomputed and at a job's start and end
  tick: the share of each cell's live racks that a running job occupies leaves inference
  (serving and idle counts) and runs the job (``cell_racks``);
- :func:`training_power`, before the limits: each hall's training IT power, the job's mean
  power over the tick (:mod:`dcsim.physics.training`, burn of a power floor included) plus
  the loaded IT outside the racks (scale-out fabric, storage) of its racks. It sits in
  ``halls.training_w``, which the cap solve and the power chain add to the racks' IT, so it
  passes the PDU, UPS and cooling like any rack power and is never capped;
- :func:`training_sites`, after the power chain: per site the job power's mean, minimum,
  maximum and largest ramp, the energy burnt, the battery's cycling and its round-trip
  loss (added to the site's losses, so the energy balance closes), the ramp the grid sees
  and whether it exceeded the contract's ramp limit; recorded in ``training.rec``.
"""

from __future__ import annotations

from dcsim.kernels import training_layout as TL
from dcsim.kernels.compiled import inline_fn, loop_fn
from dcsim.physics.training import TS_BURN, TS_CYCLE, TS_MAX, TS_MEAN, TS_MIN, TS_RAMP

#: Window over which a swing inside a tick counts against a ramp limit [s]: limits are
#: written per minute and the swings repeat every few seconds, so every minute sees them.
RAMP_WINDOW_S = 60.0


@loop_fn
def job_boundary(t, training):
    """True if a job starts or ends at tick t (the live racks must be recounted)."""
    for j in range(training.start_tick.shape[0]):
        if training.start_tick[j] == t or training.end_tick[j] == t:
            return True
    return False


@loop_fn
def occupy(t, live, training):
    """Move the racks of running jobs out of ``live`` into ``training.cell_racks``."""
    for c in range(training.cell_job.shape[0]):
        training.cell_racks[c] = 0.0
        j = training.cell_job[c]
        if j < 0 or not (training.start_tick[j] <= t < training.end_tick[j]):
            continue
        share = training.cell_share[c]
        training.cell_racks[c] = share * (live.serving[c] + live.idle[c])
        live.serving[c] -= share * live.serving[c]
        live.idle[c] -= share * live.idle[c]


@loop_fn
def training_power(t, cells, halls, training):
    """Each hall's training IT power this tick into ``halls.training_w`` [W]."""
    hall_w = halls.training_w
    hall_w[:] = 0.0
    for c in range(training.cell_job.shape[0]):
        j = training.cell_job[c]
        n = training.cell_racks[c]
        if j < 0 or n <= 0.0:
            continue
        h = cells.hall[c]
        rack_w = training.cell_rack_w[c] * training.stats[j, t, TS_MEAN]
        hall_w[h] += n * (rack_w + halls.outside_serving_w[h])


@inline_fn
def _job_full_w(j, training):
    full = 0.0
    for c in range(training.cell_job.shape[0]):
        if training.cell_job[c] == j:
            full += training.cell_racks[c] * training.cell_rack_w[c]
    return full


@loop_fn
def training_sites(t, dt_s, sites, work, training):
    """Per-site training figures of tick t; adds the battery's cycling loss to the site."""
    row = t // training.ticks_per_rec
    w = 1.0 / training.ticks_per_rec
    rec = training.rec
    stats = training.stats
    for s in range(sites.import_limit_w.shape[0]):
        mean = p_min = p_max = ramp = burn = cycled = grid_swing = racks = 0.0
        for j in range(training.job_site.shape[0]):
            if training.job_site[j] != s:
                continue
            full = _job_full_w(j, training)
            if full <= 0.0:
                continue
            for c in range(training.cell_job.shape[0]):
                if training.cell_job[c] == j:
                    racks += training.cell_racks[c]
            mean += full * stats[j, t, TS_MEAN]
            p_min += full * stats[j, t, TS_MIN]
            p_max += full * stats[j, t, TS_MAX]
            ramp += full * stats[j, t, TS_RAMP]
            burn += full * stats[j, t, TS_BURN]
            if training.battery[j]:
                cycled += full * stats[j, t, TS_CYCLE]
            else:
                grid_swing += full * (stats[j, t, TS_MAX] - stats[j, t, TS_MIN])
        # Discharging E at the bus takes E / eta_d from storage; putting it back takes
        # E / (eta_c eta_d) from the bus: the difference is lost in the battery.
        eta = sites.batt_eta_charge_frac[s] * sites.batt_eta_discharge_frac[s]
        loss = cycled * (1.0 / eta - 1.0) if cycled > 0.0 else 0.0
        if loss > 0.0 and work.site_on[s] > 0.0:
            work.site_xfmr_out[s] += loss
            work.site_loss[s] += loss
        grid_ramp = grid_swing / RAMP_WINDOW_S
        prev = training.prev_mean_w[s]
        if prev == prev:  # not the first tick (NaN)
            grid_ramp = max(grid_ramp, abs(mean - prev) / dt_s)
        training.prev_mean_w[s] = mean
        exceeded = 1.0 if grid_ramp > training.ramp_limit_w_per_s[s] * (1.0 + 1e-9) else 0.0
        rec[row, s, TL.TR_MEAN_W] += mean * w
        rec[row, s, TL.TR_MIN_W] = min(rec[row, s, TL.TR_MIN_W], p_min)
        rec[row, s, TL.TR_MAX_W] = max(rec[row, s, TL.TR_MAX_W], p_max)
        rec[row, s, TL.TR_RAMP] = max(rec[row, s, TL.TR_RAMP], ramp)
        rec[row, s, TL.TR_BURN_W] += burn * w
        rec[row, s, TL.TR_CYCLED_W] += cycled * w
        rec[row, s, TL.TR_BATT_LOSS_W] += loss * w
        rec[row, s, TL.TR_GRID_RAMP] = max(rec[row, s, TL.TR_GRID_RAMP], grid_ramp)
        rec[row, s, TL.TR_EXCEEDED] += exceeded * w
        rec[row, s, TL.TR_RACKS] += racks * w
