"""Fit the compute core's efficiency factors to published measurements.

``python -m dcsim.calibration --fit`` reads ``dcsim/catalog/data/calibration_points.yaml``
(MLPerf Inference and ML.ENERGY points, with sources), fits ``eta_bw, eta_f, eta_pf, t_fixed,
t_seq, c_cmp, c_mem`` per fit group by least squares on log errors
(:func:`scipy.optimize.least_squares`, bounded, deterministic) on the dense-model points, then
one grouped-expert efficiency ``eta_moe`` shared by every stack on the mixture-of-experts
points with all dense factors fixed; rounds them to four significant digits, and writes
``dcsim/catalog/data/efficiencies.yaml`` with provenance and the relative error at every
point; it prints the error table.

Rules (MODEL.md section 1): a fit group is a set of ``<accelerator>/<stack>`` keys sharing one
set of factors (same silicon or the same stack); factors no point of the group constrains
are borrowed from a key fitted before it or fixed at a stated value (listed per group in the
points file); accelerators without any point get a declared proxy copy (``proxy_of``, with
the proxy's own confidence grade). No factor is ever tuned per point.

Modelling of each point: see the header of ``calibration_points.yaml``. A point's throughput
is the modelled replica throughput times the replicas on the measured GPUs; its power is the
GPU power (ML.ENERGY, GPU-only) or the rack wall power (MLPerf power analyzer, whole node).
"""

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ruamel.yaml import YAML
from scipy.optimize import least_squares

from dcsim.catalog.load import load_catalog
from dcsim.catalog.schema import Catalog
from dcsim.errors import ConfigError
from dcsim.fileio import write_text_atomic
from dcsim.kernels.oppoints import pool_operating_point
from dcsim.model.pool import EFFICIENCY_FACTORS, PoolSpec, pool_spec
from dcsim.units import MS_S

__all__ = [
    "CalibrationPoint",
    "FitGroup",
    "calibrate",
    "catalog_data_dir",
    "evaluate_points",
    "load_calibration",
    "main",
    "model_point",
    "point_pool_spec",
]

POINTS_FILE = "calibration_points.yaml"
EFFICIENCIES_FILE = "efficiencies.yaml"

#: Bounds of the fitted factors. Achieved shares of peak stay below 0.95 (HBM stream tests
#: reach ~92% of peak, e.g. 7.35 of 8.0 TB/s on GB200; large GEMMs ~80-90% of dense peak);
#: the step overhead is at most 50 ms; the per-sequence overhead at most 0.2 ms (100 ms of host
#: time per step at batch 512, more than any measured step of the points); memory activity
#: alone cannot draw more than TDP (c_mem <= 1); full compute at full clock may (c_cmp up to
#: 2: the GPU then clocks down).
FACTOR_BOUNDS: dict[str, tuple[float, float]] = {
    "eta_bw_frac": (0.05, 0.95),
    "eta_f_frac": (0.02, 0.95),
    "eta_pf_frac": (0.02, 0.95),
    "t_fixed_s": (0.0, 0.05),
    "t_seq_s": (0.0, 2e-4),
    "c_cmp_frac": (0.0, 2.0),
    "c_mem_frac": (0.0, 1.0),
    "eta_moe_frac": (0.05, 1.0),
}
#: Factors a fit group obtains; eta_moe_frac is fitted once on the MoE points afterwards
#: (shared by every stack: no group has enough MoE points of its own).
GROUP_FACTORS: tuple[str, ...] = tuple(f for f in EFFICIENCY_FACTORS if f != "eta_moe_frac")
#: Starting point of every fit (typical published roofline shares and a few ms overhead).
FACTOR_START: dict[str, float] = {
    "eta_bw_frac": 0.8,
    "eta_f_frac": 0.5,
    "eta_pf_frac": 0.5,
    "t_fixed_s": 0.005,
    "t_seq_s": 2e-5,
    "c_cmp_frac": 0.8,
    "c_mem_frac": 0.3,
}
#: Start variants of the multi-start fit (each overrides FACTOR_START where it gives a value).
FIT_STARTS: tuple[dict[str, float], ...] = (
    {},
    {"eta_f_frac": 0.3, "eta_pf_frac": 0.8},
    {"eta_f_frac": 0.8, "eta_pf_frac": 0.3},
    {"eta_bw_frac": 0.5, "t_fixed_s": 0.02},
    {"eta_bw_frac": 0.95, "t_fixed_s": 0.001, "c_cmp_frac": 0.5, "c_mem_frac": 0.8},
)
_SIGNIFICANT_DIGITS = 4


@dataclass(frozen=True)
class CalibrationPoint:
    """One measured configuration (see ``calibration_points.yaml``)."""

    point_id: str
    source: str
    system: str
    rack_system: str
    model: str
    precision: str
    stack: str
    scenario: str
    gpus_count: int
    replica_gpus_count: int | None
    max_batch_count: float | None
    input_tok: float
    output_tok: float
    tpot_slo_s: float | None
    ttft_slo_s: float | None
    tok_per_s: float
    power_w: float | None
    power_kind: str | None
    batch_count: float | None
    itl_s: float | None
    #: Coefficient of variation of the output length when the source gives it; None: the
    #: workload default (``workload_defaults.yaml``).
    output_tok_cv_frac: float | None = None


@dataclass(frozen=True)
class FitGroup:
    """Efficiency keys that share one set of factors, and how each factor is obtained."""

    name: str
    keys: tuple[str, ...]
    fit: tuple[str, ...]
    tie: dict[str, str]
    borrow: dict[str, str]
    fixed: dict[str, float]
    why: str
    release: str = ""
    #: The group's points may be mixture-of-experts points: it is fitted after the shared
    #: grouped-expert efficiency, with that held fixed (a stack measured only on MoE models).
    after_moe: bool = False


@dataclass(frozen=True)
class Calibration:
    """The contents of the points file."""

    points: dict[str, CalibrationPoint]
    groups: tuple[FitGroup, ...]
    proxies: dict[str, dict[str, str]]
    default_stacks: dict[str, str]
    #: Measured points the fit does not use: checks of what the model predicts beyond the
    #: fitted range (``validation_points`` in the points file).
    validation: dict[str, CalibrationPoint] = dataclasses.field(default_factory=dict)


def catalog_data_dir() -> Path:
    """Folder of the packaged catalog tables (where ``efficiencies.yaml`` is written).

    Returns
    -------
    pathlib.Path
        ``dcsim/catalog/data``.
    """
    return Path(str(resources.files("dcsim.catalog"))) / "data"


def _points_path() -> Any:
    return resources.files("dcsim.catalog") / "data" / POINTS_FILE


def load_calibration(path: str | Path | None = None) -> Calibration:
    """Read the calibration points, fit groups and proxies.

    Parameters
    ----------
    path : str or Path, optional
        Points file; the packaged ``calibration_points.yaml`` by default.

    Returns
    -------
    Calibration
        Points (by id), fit groups in fitting order, proxies and default stacks.
    """
    source = Path(path) if path is not None else _points_path()
    raw = YAML(typ="safe").load(source.read_text(encoding="utf-8"))
    where = str(path or f"dcsim/catalog/data/{POINTS_FILE}")
    scenarios = raw.get("scenarios", {})
    points = {
        point_id: _point(point_id, p, scenarios, where) for point_id, p in raw["points"].items()
    }
    validation = {
        point_id: _point(point_id, p, scenarios, where)
        for point_id, p in (raw.get("validation_points") or {}).items()
    }
    groups = tuple(
        FitGroup(
            name=g["name"],
            keys=tuple(g["keys"]),
            fit=tuple(g["fit"]),
            tie=dict(g.get("tie") or {}),
            borrow=dict(g.get("borrow") or {}),
            fixed={k: float(v) for k, v in (g.get("fixed") or {}).items()},
            why=" ".join(str(g.get("why", "")).split()),
            release=str(g.get("release", "")),
            after_moe=bool(g.get("after_moe", False)),
        )
        for g in raw["fit_groups"]
    )
    for g in groups:
        missing = set(GROUP_FACTORS) - set(g.fit) - set(g.tie) - set(g.borrow) - set(g.fixed)
        if missing:
            raise ConfigError(
                f"factors {sorted(missing)} are neither fitted, tied, borrowed nor fixed",
                where=f"{where}: fit_groups.{g.name}",
            )
        for factor, target in g.tie.items():
            if target not in g.fit:
                raise ConfigError(
                    f"{factor} is tied to {target}, which is not fitted",
                    where=f"{where}: fit_groups.{g.name}.tie",
                )
    return Calibration(
        points=points,
        groups=groups,
        validation=validation,
        proxies={k: dict(v) for k, v in (raw.get("proxies") or {}).items()},
        default_stacks=dict(raw.get("default_stacks") or {}),
    )


def _point(
    point_id: str, p: Mapping[str, Any], scenarios: Mapping[str, Any], where: str
) -> CalibrationPoint:
    if p["scenario"] not in scenarios:
        raise ConfigError(
            f"scenario {p['scenario']!r} is not defined under scenarios:",
            where=f"{where}: points.{point_id}",
        )
    slo = scenarios[p["scenario"]]
    measured = p["measured"]
    itl_ms = measured.get("itl_ms")
    max_batch = p.get("max_batch_count")
    return CalibrationPoint(
        point_id=point_id,
        source=p["source"],
        system=p["system"],
        rack_system=p["rack_system"],
        model=p["model"],
        precision=p["precision"],
        stack=p["stack"],
        scenario=p["scenario"],
        gpus_count=int(p["gpus_count"]),
        replica_gpus_count=p.get("replica_gpus_count"),
        max_batch_count=None if max_batch is None else float(max_batch),
        input_tok=float(p["input_tok"]),
        output_tok=float(p["output_tok"]),
        tpot_slo_s=slo.get("tpot_slo_s"),
        ttft_slo_s=slo.get("ttft_slo_s"),
        tok_per_s=float(measured["tok_per_s"]),
        power_w=None if measured.get("power_w") is None else float(measured["power_w"]),
        power_kind=measured.get("power_kind"),
        batch_count=measured.get("batch_count"),
        itl_s=None if itl_ms is None else float(itl_ms) * MS_S,
        output_tok_cv_frac=None
        if p.get("output_tok_cv_frac") is None
        else float(p["output_tok_cv_frac"]),
    )


def point_pool_spec(
    catalog: Catalog, point: CalibrationPoint, efficiency: Mapping[str, float] | None = None
) -> PoolSpec:
    """The pool a calibration point measures.

    Parameters
    ----------
    catalog : Catalog
        Loaded catalog.
    point : CalibrationPoint
        The point.
    efficiency : mapping, optional
        Factors to use; the catalog's entry for the point's stack if omitted.

    Returns
    -------
    PoolSpec
        The pool, with the point's replica size, batch limit, lengths and SLO.
    """
    return pool_spec(
        catalog, point.rack_system, point.model, point.precision, point.stack,
        point.input_tok, point.output_tok, point.tpot_slo_s, point.ttft_slo_s,
        replica_gpus=point.replica_gpus_count, pool_name=point.point_id,
        max_batch_count=point.max_batch_count, efficiency=efficiency,
        output_tok_cv_frac=point.output_tok_cv_frac,
    )  # fmt: skip


def model_point(spec: PoolSpec, point: CalibrationPoint) -> dict[str, float]:
    """Modelled throughput, power, batch and latency of a point.

    Parameters
    ----------
    spec : PoolSpec
        The point's pool (:func:`point_pool_spec`).
    point : CalibrationPoint
        The point.

    Returns
    -------
    dict
        ``tok_per_s`` over the measured GPUs [tok/s]; ``power_w`` per GPU or per node as
        the point measures it [W] (NaN if it has no power); ``batch_count`` per replica [-];
        ``itl_s`` mean inter-token latency [s].
    """
    b_star, x_rep, itl_s, _, gpu_w, _, rack_w = pool_operating_point(spec.to_params())
    replicas = point.gpus_count / spec.replica_gpus_count
    if point.power_kind == "gpu":
        power_w = gpu_w
    elif point.power_kind == "wall":
        if point.gpus_count != spec.gpus_per_rack_count:
            raise ConfigError(
                f"wall power covers {point.gpus_count} GPUs but {spec.rack_system_id} has "
                f"{spec.gpus_per_rack_count}",
                where=f"calibration point {point.point_id}",
            )
        power_w = rack_w
    else:
        power_w = math.nan
    return {
        "tok_per_s": replicas * x_rep,
        "power_w": power_w,
        "batch_count": b_star,
        "itl_s": itl_s,
    }


def _efficiency_key(catalog: Catalog, point: CalibrationPoint) -> str:
    return f"{catalog.rack_systems[point.rack_system].accelerator}/{point.stack}"


def _round(value: float) -> float:
    if value == 0.0:
        return 0.0
    digits = _SIGNIFICANT_DIGITS - int(math.floor(math.log10(abs(value)))) - 1
    return round(value, digits)


def _observations(
    specs: Sequence[PoolSpec], points: Sequence[CalibrationPoint], factors: Mapping[str, float]
) -> list[tuple[str, str, float, float]]:
    rows = []
    for spec, point in zip(specs, points, strict=True):
        modelled = model_point(dataclasses.replace(spec, **factors), point)
        rows.append((point.point_id, "tok_per_s", point.tok_per_s, modelled["tok_per_s"]))
        if point.power_w is not None:
            rows.append((point.point_id, "power_w", point.power_w, modelled["power_w"]))
    return rows


def _fit_group(
    catalog: Catalog, group: FitGroup, points: Sequence[CalibrationPoint],
    fitted: Mapping[str, Mapping[str, float]],
) -> dict[str, float]:  # fmt: skip
    fixed = dict(group.fixed)
    for factor, key in group.borrow.items():
        if key not in fitted:
            raise ConfigError(
                f"borrows {factor} from {key!r}, which is not fitted before it",
                where=f"calibration fit group {group.name}",
            )
        fixed[factor] = fitted[key][factor]
    start = {**FACTOR_START, **fixed}
    specs = [point_pool_spec(catalog, p, start) for p in points]
    lower = np.array([FACTOR_BOUNDS[f][0] for f in group.fit])
    upper = np.array([FACTOR_BOUNDS[f][1] for f in group.fit])

    def factors_of(x: np.ndarray) -> dict[str, float]:
        free = dict(zip(group.fit, x.tolist(), strict=True))
        tied = {factor: free[target] for factor, target in group.tie.items()}
        return {**fixed, **free, **tied}

    def residuals(x: np.ndarray) -> np.ndarray:
        obs = _observations(specs, points, factors_of(x))
        # A bound the model cannot meet gives 0 tok/s; keep the residual finite and large.
        return np.array([math.log(max(m, 1e-6 * y) / y) for _, _, y, m in obs])

    # The log-error surface has several minima (decode vs prefill efficiency trade off), so
    # the fit starts from a fixed set of points and keeps the lowest cost: deterministic.
    best = None
    for variant in FIT_STARTS:
        x0 = np.array([variant.get(f, FACTOR_START[f]) for f in group.fit])
        result = least_squares(
            residuals, x0, bounds=(lower, upper), diff_step=1e-3, x_scale="jac", max_nfev=2000
        )
        if best is None or result.cost < best.cost - 1e-12:
            best = result
    factors = factors_of(best.x)
    return {f: _round(factors[f]) for f in GROUP_FACTORS}


def calibrate(catalog: Catalog | None = None, calibration: Calibration | None = None) -> dict:
    """Fit every group and return the efficiencies table (YAML-ready mapping).

    Parameters
    ----------
    catalog : Catalog, optional
        Catalog to take accelerators, systems and models from (packaged by default; its own
        efficiencies are not used).
    calibration : Calibration, optional
        Points and groups (packaged file by default).

    Returns
    -------
    dict
        ``{"<accelerator>/<stack>": entry}`` in the order of ``efficiencies.yaml``.
    """
    catalog = catalog or load_catalog()
    calibration = calibration or load_calibration()
    late_keys = {k for g in calibration.groups if g.after_moe for k in g.keys}
    by_key: dict[str, list[CalibrationPoint]] = {}
    moe_points = []
    for point in calibration.points.values():
        key = _efficiency_key(catalog, point)
        if catalog.models[point.model].moe is not None and key not in late_keys:
            moe_points.append(point)  # fitted after the groups (eta_moe_frac)
            continue
        by_key.setdefault(key, []).append(point)
    unknown = sorted(set(by_key) - _group_keys(calibration))
    if unknown:
        raise ConfigError(f"points of {unknown} belong to no fit group", where="calibration")
    fitted: dict[str, dict[str, float]] = {}
    entries: dict[str, dict[str, Any]] = {}
    early = [g for g in calibration.groups if not g.after_moe]
    for group in early:
        _fit_and_enter(catalog, group, by_key, fitted, entries)
    eta_moe, moe_errors = _fit_moe(catalog, moe_points, fitted)
    moe_names = ", ".join(p.point_id for p in moe_points)
    for key, factors in fitted.items():
        factors["eta_moe_frac"] = eta_moe
        entries[key]["eta_moe_frac"] = _moe_factor(eta_moe, moe_names)
        entries[key]["fit_error"].update(moe_errors.get(key, {}))
    for group in (g for g in calibration.groups if g.after_moe):
        held = dataclasses.replace(group, fixed={**group.fixed, "eta_moe_frac": eta_moe})
        _fit_and_enter(catalog, held, by_key, fitted, entries)
        for key in group.keys:
            fitted[key]["eta_moe_frac"] = eta_moe
            entries[key]["eta_moe_frac"] = _moe_factor(eta_moe, moe_names)
    for key, proxy in calibration.proxies.items():
        source_key = proxy["from"]
        accelerator, stack = key.split("/", 1)
        entries[key] = {
            "name": f"{catalog.accelerators[accelerator].name} on {stack} (proxy)",
            "accelerator": accelerator,
            "stack": stack,
            "notes": f"No calibration point. Factors copied from {source_key}: {proxy['why']}.",
            "release": entries[source_key].get("release", ""),
            "factors_source": "proxy",
            "proxy_of": source_key,
            "proxy_confidence": proxy["confidence"],
            "proxy_same_process": bool(proxy.get("same_process", False)),
            **{
                f: {
                    "value": fitted[source_key][f],
                    "source": f"proxy: copied from {source_key} ({proxy['why']}); no "
                    "calibration point for this accelerator and stack",
                    "confidence": "U",
                }
                for f in EFFICIENCY_FACTORS
            },
        }
    return _ordered(catalog, entries, calibration.default_stacks)


def _fit_and_enter(
    catalog: Catalog, group: FitGroup, by_key: Mapping[str, list[CalibrationPoint]],
    fitted: dict[str, dict[str, float]], entries: dict[str, dict[str, Any]],
) -> None:  # fmt: skip
    """Fit one group on its points and record its factors and errors per key."""
    points = [p for key in group.keys for p in by_key.get(key, [])]
    if not points:
        raise ConfigError("has no calibration point", where=f"fit group {group.name}")
    factors = _fit_group(catalog, group, points, fitted)
    # A group fitted after the MoE efficiency models its points with it.
    used = {**factors, **{k: v for k, v in group.fixed.items() if k == "eta_moe_frac"}}
    specs = [point_pool_spec(catalog, p, used) for p in points]
    errors = {
        f"{pid}:{quantity}": round(m / y - 1.0, 4)
        for pid, quantity, y, m in _observations(specs, points, used)
    }
    names = ", ".join(p.point_id for p in points)
    for key in group.keys:
        fitted[key] = dict(factors)
        entries[key] = _entry(catalog, key, group, factors, errors, names, fitted)


def _fit_moe(
    catalog: Catalog, points: Sequence[CalibrationPoint], fitted: Mapping[str, Mapping[str, float]]
) -> tuple[float, dict[str, dict[str, float]]]:
    """Fit the one grouped-expert-GEMM efficiency on the MoE points, dense factors fixed.

    Returns the factor and the relative errors of the MoE points by efficiency key.
    """
    if not points:
        return 1.0, {}
    keys = [_efficiency_key(catalog, p) for p in points]
    missing = sorted({k for k in keys if k not in fitted})
    if missing:
        raise ConfigError(
            f"MoE points of {missing} have no fitted dense factors", where="calibration"
        )
    specs = [
        point_pool_spec(catalog, p, {**fitted[k], "eta_moe_frac": 1.0})
        for p, k in zip(points, keys, strict=True)
    ]

    def observations(eta: float) -> list[tuple[str, str, float, float]]:
        rows = []
        for spec, point in zip(specs, points, strict=True):
            modelled = model_point(dataclasses.replace(spec, eta_moe_frac=eta), point)
            rows.append((point.point_id, "tok_per_s", point.tok_per_s, modelled["tok_per_s"]))
            if point.power_w is not None:
                rows.append((point.point_id, "power_w", point.power_w, modelled["power_w"]))
        return rows

    def residuals(x: np.ndarray) -> np.ndarray:
        return np.array([math.log(max(m, 1e-6 * y) / y) for _, _, y, m in observations(x[0])])

    lo, hi = FACTOR_BOUNDS["eta_moe_frac"]
    result = least_squares(residuals, np.array([0.7]), bounds=([lo], [hi]), diff_step=1e-3)
    eta = _round(float(result.x[0]))
    errors: dict[str, dict[str, float]] = {}
    for (pid, quantity, y, m), key in zip(
        observations(eta), _repeat_keys(points, keys), strict=True
    ):
        errors.setdefault(key, {})[f"{pid}:{quantity}"] = round(m / y - 1.0, 4)
    return eta, errors


def _repeat_keys(points: Sequence[CalibrationPoint], keys: Sequence[str]) -> list[str]:
    # One key per observation: a point with a power figure gives two.
    return [
        k for p, k in zip(points, keys, strict=True) for _ in range(1 + (p.power_w is not None))
    ]


def _moe_factor(eta: float, names: str) -> dict[str, Any]:
    return {
        "value": eta,
        "source": f"fit by dcsim.calibration on the MoE points {names}, all other "
        "factors fixed at their dense fits (one value shared by every stack); the DeepSeek-R1 "
        "points (expert-parallel, stack trtllm-pytorch) are fitted after it with it held: "
        "docs/calibration.md",
        "confidence": "fit",
    }


def _group_keys(calibration: Calibration) -> set[str]:
    return {k for g in calibration.groups for k in g.keys}


def _entry(
    catalog: Catalog, key: str, group: FitGroup, factors: Mapping[str, float],
    errors: Mapping[str, float], names: str, fitted: Mapping[str, Mapping[str, float]],
) -> dict[str, Any]:  # fmt: skip
    accelerator, stack = key.split("/", 1)
    entry: dict[str, Any] = {
        "name": f"{catalog.accelerators[accelerator].name} on {stack}",
        "accelerator": accelerator,
        "stack": stack,
        "notes": f"Fit group {group.name} ({', '.join(group.keys)}). {group.why}",
        "release": group.release,
        "factors_source": "fit",
    }
    for factor in GROUP_FACTORS:
        if factor in group.fit:
            entry[factor] = {
                "value": factors[factor],
                "source": f"fit by dcsim.calibration on {names}",
                "confidence": "fit",
            }
        elif factor in group.tie:
            entry[factor] = {
                "value": factors[factor],
                "source": f"set equal to {group.tie[factor]}, fit by dcsim.calibration "
                f"on {names} (the group's points cannot separate the two)",
                "confidence": "fit",
            }
        elif factor in group.fixed:
            entry[factor] = {
                "value": factors[factor],
                "source": f"fixed by fit group {group.name}, not fitted (see notes)",
                "confidence": "U",
            }
        else:
            lender = group.borrow[factor]
            entry[factor] = {
                "value": factors[factor],
                "source": f"borrowed from the {lender} fit (no point of fit group "
                f"{group.name} constrains it)",
                "confidence": "U",
            }
    entry["fit_error"] = dict(errors)
    return entry


def _ordered(
    catalog: Catalog, entries: Mapping[str, dict[str, Any]], default_stacks: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    # The first entry of an accelerator is its default stack (listed first in errors).
    ordered: dict[str, dict[str, Any]] = {}
    for accelerator in catalog.accelerators:
        keys = sorted(k for k in entries if k.split("/", 1)[0] == accelerator)
        preferred = f"{accelerator}/{default_stacks.get(accelerator, '')}"
        if preferred in keys:
            keys.remove(preferred)
            keys.insert(0, preferred)
        for key in keys:
            ordered[key] = entries[key]
    return ordered


def evaluate_points(
    catalog: Catalog | None = None,
    calibration: Calibration | None = None,
    points: Mapping[str, CalibrationPoint] | None = None,
) -> pd.DataFrame:
    """Recompute every calibration point with the catalog's efficiency factors.

    Parameters
    ----------
    catalog : Catalog, optional
        Catalog including ``efficiencies`` (packaged by default).
    calibration : Calibration, optional
        Points (packaged file by default).
    points : mapping, optional
        Points to evaluate instead of the fitted ones (e.g. ``calibration.validation``).

    Returns
    -------
    pandas.DataFrame
        One row per point and quantity: ``point``, ``quantity`` (``tok_per_s`` or
        ``power_w``), ``measured``, ``modelled``, ``error_frac`` (modelled / measured - 1),
        ``efficiency_key``, ``batch_count``, ``itl_s`` and ``itl_measured_s``.
    """
    catalog = catalog or load_catalog()
    calibration = calibration or load_calibration()
    rows = []
    chosen = calibration.points if points is None else points
    for point in chosen.values():
        spec = point_pool_spec(catalog, point)
        modelled = model_point(spec, point)
        for quantity, measured in (("tok_per_s", point.tok_per_s), ("power_w", point.power_w)):
            if measured is None:
                continue
            rows.append(
                {
                    "point": point.point_id,
                    "quantity": quantity,
                    "measured": measured,
                    "modelled": modelled[quantity],
                    "error_frac": modelled[quantity] / measured - 1.0,
                    "efficiency_key": spec.efficiency_key,
                    "batch_count": modelled["batch_count"],
                    "itl_s": modelled["itl_s"],
                    "itl_measured_s": point.itl_s,
                }
            )
    return pd.DataFrame(rows)


_HEADER = """\
# Efficiency factors of the compute core per accelerator and software stack.
#
# GENERATED by `python -m dcsim.calibration --fit` from calibration_points.yaml; do not edit
# by hand (edit the points or the fit groups and regenerate). Units: fractions 0..1, t_fixed_s
# in seconds per step, t_seq_s in seconds per sequence per step; c_* are dynamic power at
# full activity and clock over (TDP - idle).
# The first entry of each accelerator is its default stack (listed first where the known
# stacks are named; a stack without an entry is an error). factors_source: fit, or proxy
# (a declared copy of proxy_of, graded by proxy_confidence). fit_error: modelled / measured - 1
# at each calibration point (<point>:tok_per_s, <point>:power_w).
"""


def efficiencies_yaml(entries: Mapping[str, Any]) -> str:
    """Render the efficiencies table as YAML text with its header.

    Parameters
    ----------
    entries : mapping
        Output of :func:`calibrate`.

    Returns
    -------
    str
        File contents.
    """
    yaml = YAML()
    yaml.width = 4096  # no folding: folded scalars leave trailing spaces
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(_plain(entries), buffer)
    return _HEADER + "\n" + buffer.getvalue()


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, float | np.floating):
        return float(value)
    return value


def error_table(frame: pd.DataFrame) -> str:
    """Format an :func:`evaluate_points` frame as a fixed-width table.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows of :func:`evaluate_points`.

    Returns
    -------
    str
        Table with point, quantity, measured, modelled and error [%], then max and mean
        absolute error.
    """
    lines = [f"{'point':44s} {'quantity':9s} {'measured':>10s} {'modelled':>10s} {'err %':>7s}"]
    for row in frame.itertuples():
        lines.append(
            f"{row.point:44s} {row.quantity:9s} {row.measured:10.0f} {row.modelled:10.0f} "
            f"{100 * row.error_frac:7.1f}"
        )
    abs_err = frame["error_frac"].abs()
    lines.append(
        f"max |error| {100 * abs_err.max():.1f} %, mean |error| {100 * abs_err.mean():.1f} % "
        f"over {len(frame)} values"
    )
    return "\n".join(lines)


def main(output: str | Path | None = None) -> None:
    """Regenerate ``efficiencies.yaml`` and print the error table.

    Parameters
    ----------
    output : str or Path, optional
        Where to write; the packaged ``data/efficiencies.yaml`` by default.
    """
    catalog = load_catalog()
    calibration = load_calibration()
    entries = calibrate(catalog, calibration)
    text = efficiencies_yaml(entries)
    path = Path(output) if output else catalog_data_dir() / EFFICIENCIES_FILE
    write_text_atomic(text, path)
    refreshed = load_catalog(additions={"efficiencies": entries})
    print(error_table(evaluate_points(refreshed, calibration)))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
