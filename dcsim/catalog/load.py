"""Load the equipment catalog: the packaged YAML tables plus a scenario's additions.

The packaged tables live in ``dcsim/catalog/data/<table>.yaml`` (``efficiencies.yaml`` is
optional), each a mapping ``id -> entry``. They are read once per process and cached; every
call returns a deep copy, so callers may not change the cache by accident.

A scenario's ``catalog:`` block has the same shape (``{table: {id: {field: value}}}``):

* an existing id is overridden field by field (a shallow merge of the entry's mapping; the
  keyed fields ``dense_tflops``, ``moe`` and ``fit_error`` are merged one level deeper, so
  ``dense_tflops: {fp8: 2000}`` changes FP8 and keeps the other precisions);
* a new id is added and must then give every required field;
* a bare number stands for ``{value: number, source: "scenario file", confidence: scenario}``.

Every problem raises :class:`dcsim.errors.ConfigError` with one line naming the table, id,
field, value and what was expected, e.g. ``catalog.accelerators.h100-sxm.tdp_w: -5 must be
> 0``. Problems in the shipped files are located as ``dcsim/catalog/data/<table>.yaml:<id>``.
"""

from __future__ import annotations

import copy
import difflib
import functools
import math
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any, get_args

import pandas as pd
from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from dcsim.catalog.schema import (
    LLM,
    Accelerator,
    Catalog,
    Efficiency,
    MoE,
    Precision,
    PrecisionSpec,
    RackSystem,
    Sourced,
)
from dcsim.errors import ConfigError
from dcsim.units import KW_W

__all__ = [
    "CATALOG_TABLES",
    "catalog_table",
    "check_power_limit_w",
    "load_catalog",
    "max_power_limit_w",
    "min_power_limit_w",
    "resolve_id",
]

_ENTRY_MODELS: dict[str, type[BaseModel]] = {
    "accelerators": Accelerator,
    "rack_systems": RackSystem,
    "models": LLM,
    "precisions": PrecisionSpec,
    "efficiencies": Efficiency,
}

#: Names of the catalog tables, in load order (also the YAML file stems).
CATALOG_TABLES: tuple[str, ...] = tuple(_ENTRY_MODELS)

# Tables whose file may be absent from the package (written by the calibration step).
_OPTIONAL_TABLES = frozenset({"efficiencies"})

_WHAT = {
    "accelerators": "accelerator",
    "rack_systems": "rack system",
    "models": "model",
    "precisions": "precision",
    "efficiencies": "efficiency entry",
}

# Mapping-valued fields whose keys a scenario may override one at a time.
_NESTED_MERGE_FIELDS = frozenset({"dense_tflops", "moe", "fit_error"})

_SHIPPED_DIR = "dcsim/catalog/data"
_SHIPPED_CONFIDENCE = frozenset({"P", "S", "U"})
# Efficiency factors are fitted by dcsim itself, so "fit" is an honest grade there.
_SHIPPED_CONFIDENCE_EFFICIENCIES = _SHIPPED_CONFIDENCE | {"fit"}

# Allowed range of each Sourced value, by field name; anything not listed must be > 0
# (sizes, rates, powers, latencies). Idle and host powers may be zero; c_* are dynamic power
# shares that a power cap clips, so they may exceed 1.
_NON_NEGATIVE = frozenset(
    {
        "idle_w", "host_idle_kw", "host_max_kw", "t_fixed_s", "t_seq_s", "c_cmp_frac",
        "c_mem_frac", "c_leak_frac",
    }
)  # fmt: skip
_HALF_OPEN_UNIT = frozenset({"knee_clock_frac"})
_AT_LEAST_ONE = frozenset({"expert_imbalance_frac"})
_OPEN_UNIT = frozenset({"psu_efficiency_frac", "eta_bw_frac", "eta_f_frac", "eta_pf_frac"})
_CLOSED_UNIT = frozenset({"liquid_heat_frac"})
_RESERVE = frozenset({"hbm_reserve_frac"})


# --------------------------------------------------------------------------- public API


def load_catalog(additions: Mapping[str, Any] | None = None, where: str = "catalog") -> Catalog:
    """Load the packaged catalog, merged with a scenario's additions.

    Parameters
    ----------
    additions
        A scenario's ``catalog:`` block, ``{table: {id: {field: value}}}`` with tables from
        :data:`CATALOG_TABLES`. Existing ids are overridden field by field, new ids added.
        ``None`` or ``{}`` returns the packaged catalog.
    where
        Prefix of error locations, e.g. ``"scenarios/x.yaml: catalog"``.

    Returns
    -------
    Catalog
        A validated catalog (a fresh deep copy; YAML units as in the files).

    Raises
    ------
    ConfigError
        One line naming table, id, field, value and expectation.
    """
    packaged = _packaged_catalog()
    cooling = None
    if isinstance(additions, Mapping) and "cooling_equipment" in additions:
        # Cooling equipment has its own typed loader (dcsim.catalog.cooling_equipment).
        cooling = additions["cooling_equipment"]
        additions = {k: v for k, v in additions.items() if k != "cooling_equipment"}
    if not additions:
        catalog = packaged.model_copy(deep=True)
    else:
        raw, touched, new = _merge_additions(_packaged_raw(), additions, where)
        catalog = _catalog_from_raw(raw, where, base=packaged, touched=touched, new=new)
        catalog = catalog.model_copy(deep=True)
    if cooling:
        from dcsim.catalog.cooling_equipment import load_cooling_equipment

        catalog.cooling_equipment = load_cooling_equipment(
            additions=cooling, where=f"{where}.cooling_equipment"
        )
    return catalog


def resolve_id(table: Mapping[str, Any], key: str, what: str, where: str) -> Any:
    """Look an id up in a catalog table, with a "did you mean" error for unknown ids.

    Parameters
    ----------
    table
        A catalog table (``catalog.accelerators``, ...) or any mapping id -> entry.
    key
        The id to look up.
    what
        What an entry is, for the message (``"accelerator"``, ``"rack system"``).
    where
        Location of the reference, e.g. ``"scenarios/x.yaml:12: racks[0].system"``.

    Returns
    -------
    Any
        The entry.

    Raises
    ------
    ConfigError
        If ``key`` is not in ``table``; the message suggests close ids.
    """
    if isinstance(key, str) and key in table:
        return table[key]
    raise ConfigError(f"{_fmt(key)} is not a known {what}{_suggest(key, table)}", where=where)


def catalog_table(catalog: Catalog, table: str) -> pd.DataFrame:
    """One row per catalog entry with its main numbers and the confidence of each.

    Parameters
    ----------
    catalog
        A loaded catalog.
    table
        One of :data:`CATALOG_TABLES`.

    Returns
    -------
    pandas.DataFrame
        Indexed by entry id. Each sourced field ``f`` gives columns ``f`` (value, in the
        catalog's YAML unit) and ``f_confidence``; ``dense_tflops`` becomes
        ``<precision>_dense_tflops`` per precision (NaN where the chip has none), ``moe``
        becomes ``moe_*`` columns, ``fit_error`` its largest absolute value
        (``fit_error_max_frac``). Notes are left out.

    Raises
    ------
    ConfigError
        If ``table`` is not a catalog table.
    """
    if table not in _ENTRY_MODELS:
        raise ConfigError(
            f"{_fmt(table)} is not a catalog table{_suggest(table, _ENTRY_MODELS)}",
            where="catalog",
        )
    rows = [_row(key, entry) for key, entry in getattr(catalog, table).items()]
    if not rows:
        return pd.DataFrame(index=pd.Index([], name="id", dtype=str))
    return pd.DataFrame(rows).set_index("id")


# --------------------------------------------------------------------------- reading


@functools.lru_cache(maxsize=1)
def _packaged_raw() -> dict[str, dict[str, Any]]:
    # Raw mappings of the shipped files; never mutated (merges build new dicts).
    data_dir = resources.files("dcsim.catalog") / "data"
    yaml = YAML(typ="safe")
    raw: dict[str, dict[str, Any]] = {}
    for table in _ENTRY_MODELS:
        path = data_dir / f"{table}.yaml"
        where = f"{_SHIPPED_DIR}/{table}.yaml"
        if not path.is_file():
            if table in _OPTIONAL_TABLES:
                raw[table] = {}
                continue
            raise ConfigError("packaged catalog file is missing", where=where)
        try:
            content = yaml.load(path.read_text(encoding="utf-8"))
        except YAMLError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"cannot parse YAML: {first}", where=where) from exc
        raw[table] = _as_table(content, where)
    return raw


@functools.lru_cache(maxsize=1)
def _packaged_catalog() -> Catalog:
    return _catalog_from_raw(_packaged_raw(), _SHIPPED_DIR)


def _as_table(content: Any, where: str) -> dict[str, Any]:
    if content is None:
        return {}
    if not isinstance(content, Mapping):
        raise ConfigError(f"{_fmt(content)} must be a mapping of entry id -> entry", where=where)
    for key, entry in content.items():
        if not isinstance(key, str) or not key:
            raise ConfigError(f"{_fmt(key)} must be a non-empty string id", where=where)
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{_fmt(entry)} must be a mapping of fields", where=f"{where}.{key}")
    return dict(content)


# --------------------------------------------------------------------------- merging


def _merge_additions(
    raw: Mapping[str, Mapping[str, Any]], additions: Mapping[str, Any], where: str
) -> tuple[dict[str, dict[str, Any]], set[tuple[str, str]], set[tuple[str, str]]]:
    if not isinstance(additions, Mapping):
        raise ConfigError(
            f"{_fmt(additions)} must be a mapping of table -> {{id: entry}}", where=where
        )
    merged = {table: dict(raw.get(table, {})) for table in _ENTRY_MODELS}
    touched: set[tuple[str, str]] = set()
    new: set[tuple[str, str]] = set()
    for table, entries in additions.items():
        if table not in _ENTRY_MODELS:
            raise ConfigError(
                f"{_fmt(table)} is not a catalog table{_suggest(table, _ENTRY_MODELS)}",
                where=where,
            )
        if entries is None:
            continue
        entries = _as_table(entries, f"{where}.{table}")
        for key, entry in entries.items():
            base = merged[table].get(key)
            if base is None:
                merged[table][key] = copy.deepcopy(dict(entry))
                new.add((table, key))
            else:
                merged[table][key] = _merge_entry(base, entry)
                if table == "efficiencies" and _changes_factors(entry):
                    # The stored fit error describes the fitted factors, not the new ones.
                    merged[table][key]["fit_error"] = dict(entry.get("fit_error", {}))
            touched.add((table, key))
    return merged, touched, new


def _changes_factors(entry: Mapping[str, Any]) -> bool:
    return any(k not in ("name", "notes", "fit_error") for k in entry)


def _merge_entry(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for field, value in override.items():
        old = out.get(field)
        if (
            field in _NESTED_MERGE_FIELDS
            and isinstance(value, Mapping)
            and isinstance(old, Mapping)
        ):
            out[field] = {**old, **copy.deepcopy(dict(value))}
        else:
            out[field] = copy.deepcopy(value)
    return out


# --------------------------------------------------------------------------- validation


def _catalog_from_raw(
    raw: Mapping[str, Mapping[str, Any]],
    where: str,
    *,
    base: Catalog | None = None,
    touched: set[tuple[str, str]] | None = None,
    new: set[tuple[str, str]] | None = None,
) -> Catalog:
    """Validate raw tables into a Catalog.

    With ``base`` given, entries outside ``touched`` are taken from it as they are (they were
    validated when the packaged catalog was built); ``touched`` entries are located under
    ``where``, all others under the shipped files.
    """
    touched = touched or set()
    new = new or set()

    def loc(table: str, key: str) -> str:
        if base is not None and (table, key) in touched:
            return f"{where}.{table}.{key}"
        return f"{_SHIPPED_DIR}/{table}.yaml:{key}"

    tables: dict[str, dict[str, Any]] = {}
    for table, model in _ENTRY_MODELS.items():
        entries: dict[str, Any] = {}
        for key, entry_raw in raw.get(table, {}).items():
            if base is not None and (table, key) not in touched:
                entries[key] = getattr(base, table)[key]
                continue
            shipped = base is None
            entry = _validate_entry(model, entry_raw, loc(table, key), (table, key) in new)
            _check_values(table, entry, loc(table, key), shipped=shipped)
            _check_entry(entry, loc(table, key))
            entries[key] = entry
        tables[table] = entries
    catalog = Catalog(**tables)
    try:
        _check_references(catalog, loc)
    except ConfigError as exc:
        if base is None or not (exc.where or "").startswith(f"{_SHIPPED_DIR}/"):
            raise
        # A shipped entry broke because an addition changed what it refers to: say so.
        raise ConfigError(
            f"{exc.message} (after applying the additions in {where})", where=exc.where
        ) from None
    return catalog


def _validate_entry(
    model: type[BaseModel], entry: Mapping[str, Any], where: str, is_new: bool
) -> BaseModel:
    try:
        return model.model_validate(dict(entry))
    except ValidationError as exc:
        raise _config_error(exc, model, where, is_new) from None


def _config_error(
    exc: ValidationError, model: type[BaseModel], where: str, is_new: bool
) -> ConfigError:
    errors = exc.errors(include_url=False)
    missing = [e for e in errors if e["type"] == "missing"]
    if missing:
        fields = ", ".join(sorted({_loc_str(e["loc"]) for e in missing}))
        hint = "; a new entry must give every required field" if is_new else ""
        return ConfigError(f"missing {fields}{hint}", where=where)
    err = errors[0]
    path = _loc_str(err["loc"])
    at = f"{where}.{path}" if path else where
    if err["type"] == "extra_forbidden":
        field = str(err["loc"][-1])
        allowed = _fields_at(model, err["loc"][:-1])
        hint = _suggest(field, allowed, list_known=False)
        return ConfigError(
            f"{_fmt(field)} is not a field of this entry{hint}; expected one of "
            f"{', '.join(allowed)}",
            where=at,
        )
    if (
        err["type"] in ("model_type", "model_attributes_type")
        and _model_at(model, err["loc"]) is Sourced
    ):
        return ConfigError(
            f"{_fmt(err.get('input'))} should be a number or a mapping "
            "{value, source, confidence}",
            where=at,
        )
    msg = str(err["msg"]).replace("\n", " ")
    msg = msg[len("Input ") :] if msg.startswith("Input ") else msg[:1].lower() + msg[1:]
    return ConfigError(f"{_fmt(err.get('input'))} {msg}", where=at)


def _loc_str(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "[key]")


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    return list(getattr(_model_at(model, loc), "model_fields", {}))


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    # Walk down nested models (moe, Sourced) to the model that holds the location.
    current: Any = model
    for part in loc:
        fields = getattr(current, "model_fields", {})
        if part in fields:
            annotation = fields[part].annotation
            nested = [a for a in (annotation, *get_args(annotation)) if _is_model(a)]
            current = nested[0] if nested else Sourced
        # dict keys (dense_tflops.bf16) keep the value model of the dict: Sourced.
        elif current is not Sourced:
            current = Sourced
    return current


def _is_model(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def _iter_sourced(entry: BaseModel, prefix: str = "") -> Iterator[tuple[str, str, Sourced]]:
    """Yield (path, rule field name, Sourced) for every sourced number of an entry."""
    for name in type(entry).model_fields:
        value = getattr(entry, name)
        if isinstance(value, Sourced):
            yield f"{prefix}{name}", name, value
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if isinstance(item, Sourced):
                    yield f"{prefix}{name}.{key}", name, item
        elif isinstance(value, BaseModel):
            yield from _iter_sourced(value, prefix=f"{prefix}{name}.")


def _check_values(table: str, entry: BaseModel, where: str, *, shipped: bool) -> None:
    allowed = _SHIPPED_CONFIDENCE_EFFICIENCIES if table == "efficiencies" else _SHIPPED_CONFIDENCE
    for path, rule, number in _iter_sourced(entry):
        at = f"{where}.{path}"
        if shipped and number.confidence not in allowed:
            raise ConfigError(
                f"confidence {_fmt(number.confidence)} not allowed in a shipped file; give "
                f"{{value, source, confidence}} with confidence in {sorted(allowed)}",
                where=at,
            )
        expectation = _range_violation(rule, number.value)
        if expectation:
            raise ConfigError(f"{_fmt(number.value)} {expectation}", where=at)


def _range_violation(rule: str, v: float) -> str:
    if not math.isfinite(v):
        return "must be a finite number"
    if rule in _NON_NEGATIVE:
        return "" if v >= 0 else "must be >= 0"
    if rule in _OPEN_UNIT:
        return "" if 0 < v <= 1 else "must be in (0, 1]"
    if rule in _CLOSED_UNIT:
        return "" if 0 <= v <= 1 else "must be in [0, 1]"
    if rule in _AT_LEAST_ONE:
        return "" if v >= 1 else "must be >= 1"
    if rule in _RESERVE or rule in _HALF_OPEN_UNIT:
        return "" if 0 <= v < 1 else "must be in [0, 1)"
    if rule.endswith("_frac"):
        return "" if 0 < v <= 1 else "must be in (0, 1]"
    return "" if v > 0 else "must be > 0"


def _check_entry(entry: BaseModel, where: str) -> None:
    """Cross-field checks inside one entry."""
    if isinstance(entry, Accelerator):
        if entry.idle_w.value >= entry.tdp_w.value:
            raise ConfigError(
                f"{_fmt(entry.idle_w.value)} must be < tdp_w ({_fmt(entry.tdp_w.value)})",
                where=f"{where}.idle_w",
            )
        if not entry.dense_tflops:
            raise ConfigError("{} must give at least one precision", where=f"{where}.dense_tflops")
        if entry.max_power_limit_w is not None and not (
            entry.idle_w.value < entry.max_power_limit_w.value
        ):
            raise ConfigError(
                f"{_fmt(entry.max_power_limit_w.value)} must be > idle_w "
                f"({_fmt(entry.idle_w.value)})",
                where=f"{where}.max_power_limit_w",
            )
        if entry.min_power_limit_w is not None and not (
            entry.idle_w.value < entry.min_power_limit_w.value <= max_power_limit_w(entry)
        ):
            raise ConfigError(
                f"{_fmt(entry.min_power_limit_w.value)} must be > idle_w "
                f"({_fmt(entry.idle_w.value)}) and <= the highest limit "
                f"({_fmt(max_power_limit_w(entry))})",
                where=f"{where}.min_power_limit_w",
            )
    elif isinstance(entry, RackSystem):
        if entry.host_idle_kw.value > entry.host_max_kw.value:
            raise ConfigError(
                f"{_fmt(entry.host_idle_kw.value)} must be <= host_max_kw "
                f"({_fmt(entry.host_max_kw.value)})",
                where=f"{where}.host_idle_kw",
            )
    elif isinstance(entry, LLM):
        _check_llm(entry, where)


def _check_llm(model: LLM, where: str) -> None:
    total, active = model.total_b_params.value, model.active_b_params.value
    if active > total:
        raise ConfigError(
            f"{_fmt(active)} must be <= total_b_params ({_fmt(total)})",
            where=f"{where}.active_b_params",
        )
    gqa = model.kv_heads_count > 0 and model.head_dim_count > 0
    latent = model.kv_latent_count > 0
    if gqa == latent:
        raise ConfigError(
            f"kv_heads_count {model.kv_heads_count}, head_dim_count {model.head_dim_count}, "
            f"kv_latent_count {model.kv_latent_count}: give kv_heads_count and head_dim_count "
            "> 0 (GQA) or kv_latent_count > 0 with both others 0 (latent attention)",
            where=f"{where}.kv_heads_count",
        )
    if latent and (model.kv_heads_count or model.head_dim_count):
        raise ConfigError(
            "latent-attention models need kv_heads_count 0 and head_dim_count 0",
            where=f"{where}.kv_heads_count",
        )
    if latent:
        mla = model.mla
        if mla is None:
            raise ConfigError(
                "a latent-attention model (kv_latent_count > 0) needs mla: {q_heads_count, "
                "kv_lora_rank_count, rope_head_dim_count, nope_head_dim_count, v_head_dim_count}",
                where=f"{where}.mla",
            )
        if mla.kv_lora_rank_count + mla.rope_head_dim_count != model.kv_latent_count:
            raise ConfigError(
                f"kv_latent_count {model.kv_latent_count} must equal kv_lora_rank_count + "
                f"rope_head_dim_count ({mla.kv_lora_rank_count} + {mla.rope_head_dim_count})",
                where=f"{where}.kv_latent_count",
            )
    moe: MoE | None = model.moe
    if moe is None:
        return
    if moe.active_experts_count > moe.experts_count:
        raise ConfigError(
            f"{moe.active_experts_count} must be <= experts_count ({moe.experts_count})",
            where=f"{where}.moe.active_experts_count",
        )
    if moe.moe_layers_count is not None and moe.moe_layers_count > model.layers_count:
        raise ConfigError(
            f"{moe.moe_layers_count} must be <= layers_count ({model.layers_count})",
            where=f"{where}.moe.moe_layers_count",
        )
    if moe.expert_imbalance_frac.value < 1.0:
        raise ConfigError(
            f"{_fmt(moe.expert_imbalance_frac.value)} must be >= 1 (busiest GPU over the mean)",
            where=f"{where}.moe.expert_imbalance_frac",
        )
    if moe.shared_b_params.value >= active:
        raise ConfigError(
            f"{_fmt(moe.shared_b_params.value)} must be < active_b_params ({_fmt(active)})",
            where=f"{where}.moe.shared_b_params",
        )


def max_power_limit_w(chip: Accelerator) -> float:
    """Highest board power limit of an accelerator [W]: ``max_power_limit_w`` or its TDP.

    Parameters
    ----------
    chip : Accelerator
        Catalog entry.

    Returns
    -------
    float
        Limit [W].
    """
    return chip.tdp_w.value if chip.max_power_limit_w is None else chip.max_power_limit_w.value


def min_power_limit_w(chip: Accelerator) -> float:
    """Lowest board power limit of an accelerator [W]: ``min_power_limit_w`` or its idle power.

    Parameters
    ----------
    chip : Accelerator
        Catalog entry.

    Returns
    -------
    float
        Limit [W].
    """
    return chip.idle_w.value if chip.min_power_limit_w is None else chip.min_power_limit_w.value


def check_power_limit_w(chip: Accelerator, chip_id: str, limit_w: float, where: str) -> None:
    """Raise a one-line ConfigError unless the limit is one an operator can set on the chip.

    That is ``min_power_limit_w <= limit_w <= max_power_limit_w`` for a chip with a published
    minimum, else ``idle_w < limit_w <= max_power_limit_w`` (a running GPU cannot hold its
    idle power).

    Parameters
    ----------
    chip : Accelerator
        Catalog entry of the accelerator.
    chip_id : str
        Its id, for the message.
    limit_w : float
        Board power limit asked for [W].
    where : str
        Location of the field (file and dotted field).

    Raises
    ------
    ConfigError
        Limit below the settable minimum (or at or below idle power) or above the maximum.
    """
    top_w = max_power_limit_w(chip)
    if chip.min_power_limit_w is None:
        idle_w = chip.idle_w.value
        ok = math.isfinite(limit_w) and idle_w < limit_w <= top_w
        low = f"> idle_w ({_fmt(idle_w)} W)"
    else:
        low_w = chip.min_power_limit_w.value
        ok = math.isfinite(limit_w) and low_w <= limit_w <= top_w
        low = f">= its minimum ({_fmt(low_w)} W)"
    if not ok:
        raise ConfigError(
            f"{_fmt(limit_w)} W is outside the board power limits of {chip_id}; expected "
            f"{low} and <= its maximum ({_fmt(top_w)} W)",
            where=where,
        )


def _check_references(catalog: Catalog, loc: Any) -> None:
    """Check across tables: referred ids exist, rack power covers its accelerators."""
    for key, system in catalog.rack_systems.items():
        at = loc("rack_systems", key)
        chip = resolve_id(
            catalog.accelerators, system.accelerator, "accelerator", f"{at}.accelerator"
        )
        if system.gpu_power_limit_w is not None:
            check_power_limit_w(chip, system.accelerator, system.gpu_power_limit_w.value,
                                f"{at}.gpu_power_limit_w")  # fmt: skip
        gpu_kw = system.gpus_per_rack_count * chip.tdp_w.value / KW_W
        usable_kw = system.design_power_kw.value * system.psu_efficiency_frac.value
        if usable_kw < gpu_kw:
            raise ConfigError(
                f"{_fmt(system.design_power_kw.value)} x psu_efficiency_frac "
                f"{_fmt(system.psu_efficiency_frac.value)} = {usable_kw:.4g} kW cannot carry "
                f"{system.gpus_per_rack_count} x {_fmt(chip.tdp_w.value)} W of "
                f"{system.accelerator} TDP ({gpu_kw:.4g} kW)",
                where=f"{at}.design_power_kw",
            )
    for key, eff in catalog.efficiencies.items():
        at = loc("efficiencies", key)
        resolve_id(catalog.accelerators, eff.accelerator, "accelerator", f"{at}.accelerator")
        if eff.factors_source == "proxy":
            if eff.proxy_of is None or eff.proxy_confidence is None:
                raise ConfigError(
                    "a proxy entry must give proxy_of ('<accelerator>/<stack>') and "
                    "proxy_confidence",
                    where=f"{at}.proxy_of",
                )
            resolve_id(catalog.efficiencies, eff.proxy_of, "efficiency entry", f"{at}.proxy_of")
        expected = f"{eff.accelerator}/{eff.stack}"
        if key != expected:
            raise ConfigError(
                f"id {_fmt(key)} must be '<accelerator>/<stack>' = {_fmt(expected)}", where=at
            )


# --------------------------------------------------------------------------- formatting


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float):
        return f"{value:g}"
    if isinstance(value, str):
        return repr(value)
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def _suggest(key: Any, choices: Mapping[str, Any] | list[str], *, list_known: bool = True) -> str:
    names = list(choices)
    close: list[str] = []
    if isinstance(key, str) and key:
        lowered = key.lower()
        # Ids that contain what was typed ('gb200' -> 'gb200-nvl72') rank before fuzzy matches.
        close = [n for n in names if lowered in n.lower()]
        close += [
            n for n in difflib.get_close_matches(key, names, n=3, cutoff=0.6) if n not in close
        ]
    if close:
        return f" (did you mean {', '.join(repr(c) for c in close[:3])}?)"
    if not list_known:
        return ""
    shown = sorted(names)
    more = f", ... ({len(shown)} in all)" if len(shown) > 20 else ""
    return f"; known: {', '.join(shown[:20])}{more}"


def _row(key: str, entry: BaseModel) -> dict[str, Any]:
    row: dict[str, Any] = {"id": key}
    for name in type(entry).model_fields:
        if name == "notes":
            continue
        value = getattr(entry, name)
        if isinstance(value, Sourced):
            row[name] = value.value
            row[f"{name}_confidence"] = value.confidence
        elif name == "dense_tflops":
            for precision in get_args(Precision):
                number = value.get(precision)
                row[f"{precision}_dense_tflops"] = number.value if number else math.nan
                row[f"{precision}_dense_tflops_confidence"] = number.confidence if number else None
        elif name == "moe":
            row["moe_experts_count"] = value.experts_count if value else None
            row["moe_active_experts_count"] = value.active_experts_count if value else None
            row["moe_shared_b_params"] = value.shared_b_params.value if value else math.nan
            row["moe_shared_b_params_confidence"] = (
                value.shared_b_params.confidence if value else None
            )
        elif name == "proxy_confidence":
            # Shown as the grade of proxy_of: "gb200/trtllm (U)".
            row["proxy_of_confidence"] = value
        elif name == "fit_error":
            row["fit_error_max_frac"] = max((abs(v) for v in value.values()), default=math.nan)
        else:
            row[name] = value
    return row
