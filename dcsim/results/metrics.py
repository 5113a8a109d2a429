"""KPIs of a run, computed from its recorded time series (MODEL.md section 8).

Energy KPIs integrate the time-weighted means over their record interval; ratios are
energy-weighted (annual PUE = facility energy / IT energy), never means of ratios.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dcsim import units

#: A record row counts as capped when caps withheld more than this share of its demand.
CAPPED_REL_THRESHOLD = 1e-6


def _row_s(ts: pd.DataFrame, horizon_s: float, record_s: float) -> np.ndarray:
    # Every row spans record_s except possibly the last, which holds the remainder.
    n = len(ts)
    dur = np.full(n, record_s)
    if n:
        dur[-1] = horizon_s - record_s * (n - 1)
    return dur


def compute_kpis(
    ts: pd.DataFrame, class_names: list[str], horizon_s: float, record_s: float
) -> dict[str, float]:
    """Headline KPIs of a run.

    Parameters
    ----------
    ts
        Campus time series (columns of :data:`dcsim.kernels.layout.R_NAMES` and per-class).
    class_names
        Workload class names (per-class columns are ``<class>.<column>``).
    horizon_s
        Simulated horizon [s].
    record_s
        Record interval [s].

    Returns
    -------
    dict
        Unit-suffixed KPIs (SI): tokens, energies [J], powers [W], ratios.
    """
    dur = _row_s(ts, horizon_s, record_s)

    def integral(col: str) -> float:
        return float(np.sum(ts[col].to_numpy() * dur))

    served = integral("served_tok_per_s")
    demand = integral("demand_tok_per_s")
    it_j = integral("it_power_w")
    fac_j = integral("facility_power_w")
    k: dict[str, float] = {
        "served_tok": served,
        "demand_tok": demand,
        "unserved_tok": integral("unserved_tok_per_s"),
        "unserved_frac": integral("unserved_tok_per_s") / demand if demand > 0 else 0.0,
        "power_capped_tok": integral("power_capped_tok_per_s"),
        "mean_served_tok_per_s": served / horizon_s,
        "peak_capacity_tok_per_s": float(ts["capacity_tok_per_s"].max()),
        "it_energy_j": it_j,
        "cooling_energy_j": integral("cooling_power_w"),
        "losses_energy_j": integral("losses_power_w"),
        "facility_energy_j": fac_j,
        "grid_import_energy_j": integral("grid_import_w"),
        "peak_facility_power_w": float(ts["facility_power_w"].max()),
        "mean_facility_power_w": fac_j / horizon_s,
        "pue": fac_j / it_j if it_j > 0 else float("nan"),
        "it_tok_per_j": served / it_j if it_j > 0 else float("nan"),
        "facility_tok_per_j": served / fac_j if fac_j > 0 else float("nan"),
        # Rounding in the cap solve leaves ~1e-12 relative residue; count material capping only.
        "power_capped_h": float(
            np.sum(
                dur
                * (
                    ts["power_capped_tok_per_s"].to_numpy()
                    > CAPPED_REL_THRESHOLD * ts["demand_tok_per_s"].to_numpy()
                )
            )
        )
        / units.H_S,
        "mean_gpus_in_service_count": float(np.sum(ts["gpus_in_service_count"] * dur)) / horizon_s,
    }
    inter = integral("interactive_demand_tok_per_s")
    k["slo_attainment_frac"] = (
        integral("slo_served_tok_per_s") / inter if inter > 0 else float("nan")
    )
    for name in class_names:
        d = integral(f"{name}.demand_tok_per_s")
        k[f"{name}.served_tok"] = integral(f"{name}.served_tok_per_s")
        k[f"{name}.unserved_frac"] = integral(f"{name}.unserved_tok_per_s") / d if d else 0.0
    return k
