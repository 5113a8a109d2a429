"""Training-job power per tick (physics/training.py) against hand-built profiles and a plain
NumPy reference that builds the piecewise-linear power from its breakpoints."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from dcsim.physics.training import (
    TS_BURN,
    TS_CYCLE,
    TS_MAX,
    TS_MEAN,
    TS_MIN,
    TS_NCOLS,
    TS_RAMP,
    positive_part_integral,
    tick_stats,
)

NO_DOWN = (np.zeros(0), np.zeros(0))


def _par(
    period=2.0, duty=0.75, r=0.1, hi=0.9, lo=0.3, interval=1e9, ckpt_s=0.0, ckpt=0.2, idle=0.1
):
    return np.array([period, duty, r, hi, lo, interval, ckpt_s, ckpt, idle])


def _stats(par, n, dt=60.0, down=NO_DOWN, floor=0.0, t0=0.0):
    out = np.zeros((n, TS_NCOLS))
    tick_stats(t0, dt, n, down[0], down[1], 0.0, par, floor, out)
    return out


def test_iteration_swing_by_hand():
    # T = 2 s, 75% compute at 0.9, troughs at 0.3, 0.1 s transitions. Per iteration the ramp
    # up loses 0.05 s x 0.6 and the ramp down adds as much: mean = 0.3 + 0.6 x 0.75 = 0.75.
    # min 0.3, max 0.9, steepest slope 0.6 / 0.1 s = 6 /s.
    # Battery cycling: (P - 0.75)^+ over one iteration = plateau 1.4 s x 0.15 = 0.21, plus
    # two triangles 0.5 x 0.15 x 0.025 s = 0.001875 each: 0.21375 per 2 s = 0.106875 /s.
    s = _stats(_par(), 3)[1:]  # tick 0 starts on a plateau (no ramp up at t = 0)
    assert_allclose(s[:, TS_MEAN], 0.75, rtol=1e-12)
    assert_allclose(s[:, TS_MIN], 0.3, rtol=1e-12)
    assert_allclose(s[:, TS_MAX], 0.9, rtol=1e-12)
    assert_allclose(s[:, TS_RAMP], 6.0, rtol=1e-9)
    assert_allclose(s[:, TS_CYCLE], 0.106875, rtol=1e-9)
    assert_allclose(s[:, TS_BURN], 0.0, atol=0)


def test_power_floor_burn_by_hand():
    # Floor 0.6: the 0.4 s trough at 0.3 burns 0.4 x 0.3 = 0.12; each ramp spends 0.05 s
    # below 0.6, a triangle 0.5 x 0.3 x 0.05 = 0.0075: 0.135 per 2 s = 0.0675 /s, so the
    # drawn mean is 0.75 + 0.0675 and the minimum is the floor.
    s = _stats(_par(), 3, floor=0.6)[1:]
    assert_allclose(s[:, TS_BURN], 0.0675, rtol=1e-9)
    assert_allclose(s[:, TS_MEAN], 0.8175, rtol=1e-12)
    assert_allclose(s[:, TS_MIN], 0.6, rtol=1e-12)
    assert_allclose(s[:, TS_MAX], 0.9, rtol=1e-12)


def test_checkpoint_and_restart_levels():
    # Checkpoint every 1800 s of iterations for 60 s at 0.2: the tick [1800, 1860) holds the
    # pause; its mean is 0.2 plus the ramp from the last level (0.3 trough at t = 1800:
    # 1800 s is a whole number of 2 s iterations, ending in a trough) down to 0.2 over 0.1 s:
    # + 0.5 x 0.1 x 0.1 s / 60 s.
    par = _par(interval=1800.0, ckpt_s=60.0)
    s = _stats(par, 40)
    assert_allclose(s[30, TS_MEAN], 0.2 + 0.5 * 0.1 * 0.1 / 60.0, rtol=1e-9)
    assert_allclose(s[30, TS_MIN], 0.2)
    # A failure at 4000 s with a 600 s restart: ticks [4020, 4560) sit at the idle level.
    down = (np.array([4000.0]), np.array([4600.0]))
    s = _stats(par, 80, down=down)
    assert_allclose(s[68:75, TS_MEAN], 0.1, rtol=1e-12)
    assert_allclose(s[68:75, TS_RAMP], 0.0, atol=0)
    # After the restart the iterations begin again at 4600 s: ticks from 4620 s are steady.
    assert_allclose(s[77:79, TS_MEAN], 0.75, rtol=1e-9)


def test_positive_part_integral_by_hand():
    # A line from 0 to 1 over 2 s above 0.5: a triangle 0.5 x 0.5 x 1 s = 0.25.
    assert positive_part_integral(0.0, 1.0, 0.5, 2.0) == pytest.approx(0.25)
    assert positive_part_integral(1.0, 1.0, 0.5, 2.0) == pytest.approx(1.0)
    assert positive_part_integral(0.0, 0.2, 0.5, 2.0) == 0.0


# --------------------------------------------------------------------------- reference


def _breakpoints(par, t_end, down):
    """Times and powers of the piecewise-linear power, built iteration by iteration."""
    period, duty, r, hi, lo, interval, ckpt_s, ckpt, idle = par
    levels = []  # (time, level) of each change of target level
    t = 0.0
    resumes = [0.0] + list(down[1])
    stops = list(down[0]) + [np.inf]
    for resume, stop in zip(resumes, stops, strict=True):
        t = resume
        while t < min(stop, t_end):
            seg_end = t + interval
            u = t
            while u < seg_end and u < stop and u < t_end:
                levels.append((u, hi))
                if u + duty * period < min(seg_end, stop):
                    levels.append((u + duty * period, lo))
                u += period
            if seg_end < stop:
                levels.append((seg_end, ckpt))
            t = seg_end + ckpt_s
        if stop < t_end:
            levels.append((stop, idle))
    times, powers = [levels[0][0]], [levels[0][1]]
    for (t0, lev), (t1, _) in zip(levels, levels[1:] + [(t_end, None)], strict=True):
        if t1 <= t0:
            continue
        p0 = powers[-1]
        # Linear to the new level over r (the phases are longer than r in this reference).
        if lev != p0:
            times.append(t0 + r)
            powers.append(lev)
        times.append(t1)
        powers.append(lev)
    return np.array(times), np.array(powers)


@pytest.mark.parametrize(
    "par, down, floor",
    [
        (_par(period=1.7, duty=0.6, r=0.05, hi=0.95, lo=0.35), NO_DOWN, 0.0),
        (
            _par(period=3.0, duty=0.8, r=0.2, hi=0.9, lo=0.4, interval=900.0, ckpt_s=45.0),
            NO_DOWN,
            0.5,
        ),
        (
            _par(period=2.5, duty=0.7, r=0.1, interval=600.0, ckpt_s=30.0),
            (np.array([1000.0, 2500.0]), np.array([1300.0, 2800.0])),
            0.0,
        ),
    ],
)
def test_compiled_against_numpy_reference(par, down, floor):
    dt, n = 60.0, 60
    got = _stats(par, n, dt=dt, down=down, floor=floor)
    times, powers = _breakpoints(par, n * dt + 10.0, down)
    # Where the power crosses the floor the clipped power has a kink: a grid point there keeps
    # the trapezoid rule exact.
    d0, d1 = powers[:-1] - floor, powers[1:] - floor
    cross = (d0 * d1) < 0
    t_cross = times[:-1][cross] + d0[cross] / (d0[cross] - d1[cross]) * np.diff(times)[cross]
    kinks = np.union1d(times, t_cross)
    for i in range(1, n):
        a, b = i * dt, (i + 1) * dt
        inside = kinks[(kinks > a) & (kinks < b)]
        grid = np.union1d(np.linspace(a, b, 120001), inside)
        p = np.maximum(np.interp(grid, times, powers), floor)
        mean = np.trapezoid(p, grid) / dt
        assert_allclose(got[i, TS_MEAN], mean, rtol=1e-9, err_msg=f"tick {i}")
        assert_allclose(got[i, TS_MIN], p.min(), rtol=1e-9)
        assert_allclose(got[i, TS_MAX], p.max(), rtol=1e-9)
        cycle = np.trapezoid(np.maximum(p - mean, 0.0), grid) / dt
        assert_allclose(got[i, TS_CYCLE], cycle, rtol=1e-4, atol=1e-9)
        slopes = np.abs(np.diff(powers)) / np.maximum(np.diff(times), 1e-300)
        seg_in = (times[1:] > a) & (times[:-1] < b) & (np.maximum(powers[1:], powers[:-1]) > floor)
        ramp = slopes[seg_in].max() if seg_in.any() else 0.0
        assert_allclose(got[i, TS_RAMP], ramp, rtol=1e-9)
