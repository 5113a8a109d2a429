"""Every calibration point recomputed from the catalog, with its error.

Three kinds of point (``dcsim/catalog/data/calibration_points.yaml``):

- throughput and power points (MLPerf Inference, ML.ENERGY), modelled with the catalog's
  efficiency factors (:func:`dcsim.calibration.fit.evaluate_points`);
- power-limit points: throughput at a lowered board power limit over the same pool at TDP
  (MaxQ settings), which tests the DVFS law with the stack's factors cancelling;
- validation points: measurements the fit does not use (DeepSeek-R1 on Blackwell, MLPerf
  v5.1), listed apart with their own summary (:func:`validation_report`), so that what the
  model predicts beyond its fitted range is in view.

The error is ``modelled / measured - 1``. The summary gives the median and the largest
absolute error over all values; no factor is fitted per point (shared factors per fit group
and one grouped-expert efficiency for all MoE points, see :mod:`dcsim.calibration.fit`).
"""

from __future__ import annotations

from importlib import resources

import pandas as pd
from ruamel.yaml import YAML

from dcsim.calibration.fit import POINTS_FILE, evaluate_points, load_calibration
from dcsim.catalog.load import load_catalog
from dcsim.catalog.schema import Catalog
from dcsim.kernels.oppoints import pool_operating_point
from dcsim.model.pool import pool_spec

__all__ = [
    "calibration_report",
    "power_limit_points",
    "report_markdown",
    "report_text",
    "validation_markdown",
    "validation_report",
    "validation_text",
]


def power_limit_points(catalog: Catalog) -> pd.DataFrame:
    """Modelled and published throughput ratios at lowered board power limits.

    Parameters
    ----------
    catalog : Catalog
        Catalog with efficiencies.

    Returns
    -------
    pandas.DataFrame
        One row per power-limit point: ``point``, ``quantity`` (``tok_ratio@<limit>W``),
        ``measured``, ``modelled``, ``error_frac``, ``efficiency_key``.
    """
    text = (resources.files("dcsim.catalog") / "data" / POINTS_FILE).read_text(encoding="utf-8")
    points = YAML(typ="safe").load(text).get("power_limit_points") or {}
    rows = []
    for point_id, p in points.items():
        rates = []
        for limit_w in (None, p["limit_w"]):
            spec = pool_spec(
                catalog, p["rack_system"], p["model"], p["precision"], p["stack"],
                p["input_tok"], p["output_tok"], None, None,
                replica_gpus=p["replica_gpus_count"], max_batch_count=p["max_batch_count"],
                pool_name=point_id, gpu_power_limit_w=limit_w,
            )  # fmt: skip
            rates.append(pool_operating_point(spec.to_params())[5])
        modelled = rates[1] / rates[0]
        rows.append(
            {
                "point": point_id,
                "quantity": f"tok_ratio@{p['limit_w']:g}W",
                "measured": float(p["throughput_ratio"]),
                "modelled": modelled,
                "error_frac": modelled / float(p["throughput_ratio"]) - 1.0,
                "efficiency_key": spec.efficiency_key,
            }
        )
    return pd.DataFrame(rows)


def calibration_report(catalog: Catalog | None = None) -> pd.DataFrame:
    """All calibration values with their errors.

    Parameters
    ----------
    catalog : Catalog, optional
        Catalog to evaluate (the packaged one by default).

    Returns
    -------
    pandas.DataFrame
        Columns ``point``, ``quantity``, ``measured``, ``modelled``, ``error_frac``,
        ``efficiency_key``.
    """
    catalog = catalog or load_catalog()
    columns = ["point", "quantity", "measured", "modelled", "error_frac", "efficiency_key"]
    frame = evaluate_points(catalog)[columns]
    return pd.concat([frame, power_limit_points(catalog)[columns]], ignore_index=True)


def validation_report(catalog: Catalog | None = None) -> pd.DataFrame:
    """The validation points (not fitted) with their errors.

    Parameters
    ----------
    catalog : Catalog, optional
        Catalog to evaluate (the packaged one by default).

    Returns
    -------
    pandas.DataFrame
        Columns as :func:`calibration_report`, plus ``batch_count`` (modelled sequences per
        replica) and ``itl_s`` (modelled mean inter-token latency [s]).
    """
    calibration = load_calibration()
    frame = evaluate_points(catalog or load_catalog(), calibration, calibration.validation)
    columns = ["point", "quantity", "measured", "modelled", "error_frac", "efficiency_key"]
    return frame[[*columns, "batch_count", "itl_s"]]


def _summary(frame: pd.DataFrame, what: str = "values") -> str:
    abs_err = frame["error_frac"].abs()
    worst = frame.loc[abs_err.idxmax()]
    return (
        f"{len(frame)} {what}: median |error| {100 * abs_err.median():.1f} %, mean "
        f"{100 * abs_err.mean():.1f} %, max {100 * abs_err.max():.1f} % ({worst['point']} "
        f"{worst['quantity']}); {int((abs_err > 0.10).sum())} values beyond 10 %"
    )


def _fmt(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.0f}"


def report_text(frame: pd.DataFrame) -> str:
    """Fixed-width table of :func:`calibration_report` with its summary line.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`calibration_report`.

    Returns
    -------
    str
        The table.
    """
    lines = [
        f"{'point':42s} {'quantity':16s} {'measured':>10s} {'modelled':>10s} {'err %':>7s} factors"
    ]
    for row in frame.itertuples():
        lines.append(
            f"{row.point:42s} {row.quantity:16s} {_fmt(row.measured):>10s} "
            f"{_fmt(row.modelled):>10s} {100 * row.error_frac:7.1f} {row.efficiency_key}"
        )
    lines.append(_summary(frame))
    return "\n".join(lines)


def report_markdown(frame: pd.DataFrame) -> str:
    """Markdown table of :func:`calibration_report` (for ``docs/calibration.md``).

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`calibration_report`.

    Returns
    -------
    str
        The table and its summary line.
    """
    lines = [
        "| point | quantity | measured | modelled | error % | factors |",
        "|---|---|---:|---:|---:|---|",
    ]
    for row in frame.itertuples():
        lines.append(
            f"| {row.point} | {row.quantity} | {_fmt(row.measured)} | {_fmt(row.modelled)} | "
            f"{100 * row.error_frac:.1f} | {row.efficiency_key} |"
        )
    return "\n".join(lines) + "\n\n" + _summary(frame) + "\n"


def validation_text(frame: pd.DataFrame) -> str:
    """Fixed-width table of :func:`validation_report` with its summary line.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`validation_report`.

    Returns
    -------
    str
        The table, headed "validation points (not fitted)".
    """
    lines = [
        "validation points (not fitted)",
        f"{'point':42s} {'measured':>10s} {'modelled':>10s} {'err %':>7s} {'batch':>7s} "
        f"{'ITL ms':>7s} factors",
    ]
    for row in frame.itertuples():
        lines.append(
            f"{row.point:42s} {_fmt(row.measured):>10s} {_fmt(row.modelled):>10s} "
            f"{100 * row.error_frac:7.1f} {row.batch_count:7.0f} {1e3 * row.itl_s:7.1f} "
            f"{row.efficiency_key}"
        )
    lines.append(_summary(frame, "validation values"))
    return "\n".join(lines)


def validation_markdown(frame: pd.DataFrame) -> str:
    """Markdown table of :func:`validation_report` (for ``docs/calibration.md``).

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`validation_report`.

    Returns
    -------
    str
        The table (tok/s, modelled batch per replica and mean inter-token latency) and its
        summary line.
    """
    lines = [
        "| point | measured tok/s | modelled tok/s | error % | modelled batch | modelled ITL ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in frame.itertuples():
        lines.append(
            f"| {row.point} | {_fmt(row.measured)} | {_fmt(row.modelled)} | "
            f"{100 * row.error_frac:.1f} | {row.batch_count:.0f} | {1e3 * row.itl_s:.1f} |"
        )
    return "\n".join(lines) + "\n\n" + _summary(frame, "validation values") + "\n"
