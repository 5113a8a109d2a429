"""Rows of the request-level windows for the KPI table of ``dcsim run``."""

from __future__ import annotations

import math
from typing import Any

from dcsim.report_format import format_quantity
from dcsim.windows.replay import LATENCY_KPIS

__all__ = ["window_kpi_rows"]


def _stems(kpis: dict[str, Any]) -> list[str]:
    """``window.<window>.<class>`` of every class with latency KPIs, in KPI order."""
    seen: list[str] = []
    for key in kpis:
        if key.startswith("window.") and key.endswith(".requests_count"):
            stem = key[: -len(".requests_count")]
            if stem.count(".") == 2 and stem not in seen:
                seen.append(stem)
    return seen


def window_kpi_rows(kpis: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value text) per window and class: percentiles with their intervals.

    Parameters
    ----------
    kpis
        A run's KPIs.

    Returns
    -------
    Rows such as ``("window chat-peak, chat: TTFT p99", "1.52 s [1.47, 1.60]")``, then the
    sample (requests over replicas) and the SLO attainment against the fluid model's.
    """
    rows: list[tuple[str, str]] = []
    for stem in _stems(kpis):
        _, win, klass = stem.split(".")
        label = f"window {win}, {klass}:"
        for _, _, name in LATENCY_KPIS:
            value = kpis.get(f"{stem}.{name}_s")
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            lo = kpis.get(f"{stem}.{name}_lo_s")
            hi = kpis.get(f"{stem}.{name}_hi_s")
            metric, q = name.split("_")
            text = format_quantity(f"{name}_s", value)
            text += f" [{format_quantity(f'{name}_s', lo)}, {format_quantity(f'{name}_s', hi)}]"
            rows.append((f"{label} {metric.upper()} {q}", text))
        n = kpis.get(f"{stem}.requests_count")
        r = kpis.get(f"{stem}.replicas_count")
        rows.append((f"{label} requests / replicas", f"{n:,.0f} / {r:,.0f}" if r else f"{n:,.0f}"))
        slo = kpis.get(f"{stem}.slo_attainment_frac")
        if slo is not None:
            fluid = kpis.get(f"{stem}.fluid_slo_attainment_frac")
            text = format_quantity("slo_attainment_frac", slo)
            if fluid is not None:
                text += f" (fluid {format_quantity('slo_attainment_frac', fluid)})"
            rows.append((f"{label} TTFT SLO attainment", text))
    return rows
