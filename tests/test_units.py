"""Every name that carries a number carries its unit (CONVENTIONS.md points 2 and 3).

A name passes when it ends with a suffix of :data:`dcsim.units.KNOWN_SUFFIXES`, or *is* the
unit (``count``, ``pue``, ``cop``, ``tok_per_j``: ``"_" + name`` ends with the suffix).
Time-series columns, the per-class and per-hall columns, the pools table, the KPIs and every
numeric field of the scenario schema are checked; the few exceptions are listed below with
their reason.
"""

from __future__ import annotations

import types
import typing

import pandas as pd
import pytest
from pydantic import BaseModel

from dcsim.kernels import layout as L
from dcsim.scenario.schema import Scenario
from dcsim.units import KNOWN_SUFFIXES

#: Numeric schema fields without a unit suffix, and why that is right.
SCHEMA_EXCEPTIONS: dict[str, str] = {
    "seed": "an identifier of random streams, not a quantity",
    "workloads.priority": "an ordinal rank (higher = more important), not a quantity",
}

#: Numeric schema fields that break the rule today (bugs reported to the integrator).
SCHEMA_KNOWN_BAD: dict[str, str] = {}


def has_unit(name: str) -> bool:
    """Whether a (column, field, KPI) name ends in a known unit suffix or is the unit."""
    leaf = name.rsplit(".", 1)[-1]  # "<class>.served_tok_per_s" -> "served_tok_per_s"
    return any(("_" + leaf).endswith(suffix) for suffix in KNOWN_SUFFIXES)


def test_the_rule_itself():
    # Hand-picked names: unit at the end passes, unit elsewhere or absent fails.
    assert has_unit("it_power_w")
    assert has_unit("chat.served_tok_per_s")
    assert has_unit("pue") and has_unit("count") and has_unit("tok_per_j")
    assert not has_unit("tok_per_j_rack")
    assert not has_unit("power")
    assert not has_unit("seed")


# --------------------------------------------------------------------------- schema


def _leaf_types(tp: typing.Any) -> list[typing.Any]:
    """The plain types inside an annotation (through Annotated, unions, lists and dicts)."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _leaf_types(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, dict):
        return [leaf for arg in typing.get_args(tp) for leaf in _leaf_types(arg)]
    return [tp]


def _numeric(tp: typing.Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, int | float) and not issubclass(tp, bool)


def numeric_schema_fields(model: type[BaseModel] = Scenario, prefix: str = "") -> list[str]:
    """Dotted paths of every field of the schema that holds a number (or numbers)."""
    out: list[str] = []
    for name, info in model.model_fields.items():
        leaves = _leaf_types(info.annotation)
        if any(_numeric(t) for t in leaves):
            out.append(prefix + name)
        for t in leaves:
            if isinstance(t, type) and issubclass(t, BaseModel):
                out += numeric_schema_fields(t, f"{prefix}{name}.")
    return out


SCHEMA_FIELDS = numeric_schema_fields()


def test_the_schema_walk_finds_nested_fields():
    # A few fields at each depth, known from dcsim/scenario/schema.py: the walk is complete.
    for path in (
        "horizon_s",
        "workloads.input_tok",
        "workloads.demand.base_capacity_frac",
        "workloads.demand.bursts.multiplier_frac",
        "sites.import_limit_mw",
        "sites.buildings.halls.feed_mw",
        "sites.buildings.halls.rack_groups.count",
        "sites.buildings.halls.cooling.cop",
    ):
        assert path in SCHEMA_FIELDS
    assert "sites.buildings.halls.name" not in SCHEMA_FIELDS  # text, not a number
    assert "allow_oversubscription" not in SCHEMA_FIELDS  # a bool is not a number here


def _schema_param(path: str):
    if path in SCHEMA_KNOWN_BAD:
        return pytest.param(
            path, marks=pytest.mark.xfail(strict=True, reason=SCHEMA_KNOWN_BAD[path]), id=path
        )
    return pytest.param(path, id=path)


@pytest.mark.parametrize(
    "path", [_schema_param(p) for p in SCHEMA_FIELDS if p not in SCHEMA_EXCEPTIONS]
)
def test_numeric_schema_field_has_a_unit_suffix(path):
    assert has_unit(path), f"{path}: no suffix from dcsim.units.KNOWN_SUFFIXES"


def test_schema_exceptions_are_still_needed():
    # An exception for a field that no longer exists, or now has a unit, must be dropped.
    for path in SCHEMA_EXCEPTIONS:
        assert path in SCHEMA_FIELDS
        assert not has_unit(path)


# --------------------------------------------------------------------------- run outputs


def _numeric_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]


def test_every_timeseries_column_has_a_unit(small_hall_1d):
    ts = small_hall_1d.timeseries
    # The campus columns of the kernel layout and the per-class ones are all present (loop
    # temperatures only where halls are liquid-cooled; small-hall uses a fixed COP).
    temps = {"temp_fws_degc", "temp_fws_max_degc", "temp_tcs_supply_max_degc"}
    assert set(L.R_NAMES) - temps <= set(ts.columns)
    for cls in ("chat", "batch"):
        # The weighted accumulators past KR_PUBLIC are internal: their ratios are published.
        assert {f"{cls}.{c}" for c in L.KR_NAMES[: L.KR_PUBLIC]} <= set(ts.columns)
        assert not {f"{cls}.{c}" for c in L.KR_NAMES[L.KR_PUBLIC :]} & set(ts.columns)
    assert _numeric_columns(ts) == list(ts.columns)
    assert [c for c in ts.columns if not has_unit(c)] == []


def test_every_hall_column_has_a_unit(small_hall_1d):
    halls = small_hall_1d.extra_tables["hall_timeseries"]
    # Non-numeric columns are labels: the time stamp and the hall's name.
    assert set(halls.columns) - set(_numeric_columns(halls)) == {"time", "hall"}
    assert set(L.HR_NAMES) <= set(halls.columns)
    assert [c for c in _numeric_columns(halls) if not has_unit(c)] == []


def test_every_pool_column_has_a_unit(small_hall_1d):
    pools = small_hall_1d.extra_tables["pools"]
    # Labels: the pool's name and the fitted chip whose factors a proxy pool borrows.
    assert set(pools.columns) - set(_numeric_columns(pools)) == {"pool", "proxy_of"}
    # A yes/no flag (``proxy``: factors borrowed from another chip) is not a quantity.
    flags = [c for c in pools.columns if pools[c].dtype == bool]
    assert flags == ["proxy"]
    assert [c for c in _numeric_columns(pools) if not has_unit(c) and c not in flags] == []


def test_every_kpi_has_a_unit(small_hall_1d):
    assert [k for k in small_hall_1d.kpis if not has_unit(k)] == []
