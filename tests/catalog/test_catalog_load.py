"""The catalog loader: caching, additions (override and add), error messages, lookup, table."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from pydantic import ValidationError

from dcsim.catalog import load as load_mod
from dcsim.catalog.load import CATALOG_TABLES, catalog_table, load_catalog, resolve_id
from dcsim.catalog.schema import Catalog
from dcsim.errors import ConfigError

NEW_CHIP = {
    "name": "Test chip",
    "vendor": "Acme",
    "tdp_w": {"value": 600, "source": "test", "confidence": "U"},
    "idle_w": 60,
    "hbm_usable_gb": 100,
    "hbm_bw_tb_per_s": 4.0,
    "dense_tflops": {"bf16": 1000, "fp8": 2000},
    "scaleup_bw_gb_per_s": 400,
    "scaleup_latency_s": 5e-6,
}

EFFICIENCY = {
    "name": "test factors",
    "accelerator": "h100-sxm",
    "stack": "trtllm",
    "eta_bw_frac": 0.8,
    "eta_f_frac": 0.6,
    "eta_pf_frac": 0.7,
    "t_fixed_s": 0.002,
    "c_cmp_frac": 0.6,
    "c_mem_frac": 0.3,
}


def _error(additions, where="catalog") -> str:
    with pytest.raises(ConfigError) as info:
        load_catalog(additions, where=where)
    message = str(info.value)
    assert "\n" not in message  # one line for the CLI
    return message


# --------------------------------------------------------------------------- packaged


def test_packaged_catalog_loads():
    cat = load_catalog()
    assert isinstance(cat, Catalog)
    assert {"h100-sxm", "gb200", "tpu7x"} <= set(cat.accelerators)
    assert cat.efficiencies == {} or all("/" in k for k in cat.efficiencies)


def test_packaged_catalog_is_cached_and_copied():
    first = load_catalog()
    first.accelerators.pop("h100-sxm")
    first.accelerators["gb200"].dense_tflops.pop("fp4")
    second = load_catalog()
    assert "h100-sxm" in second.accelerators
    assert second.accelerators["gb200"].dense_tflops["fp4"].value == 10000
    assert load_mod._packaged_catalog.cache_info().hits >= 1


def test_entries_are_immutable():
    chip = load_catalog().accelerators["h100-sxm"]
    with pytest.raises(ValidationError, match="frozen"):
        chip.tdp_w = 1.0


def test_empty_additions_equal_packaged():
    assert load_catalog({}) == load_catalog(None) == load_catalog()


def test_tables_constant():
    assert CATALOG_TABLES == (
        "accelerators",
        "rack_systems",
        "models",
        "precisions",
        "efficiencies",
    )


# --------------------------------------------------------------------------- additions


def test_override_bare_number_is_graded_scenario():
    cat = load_catalog({"accelerators": {"h100-sxm": {"tdp_w": 650}}})
    tdp = cat.accelerators["h100-sxm"].tdp_w
    assert (tdp.value, tdp.confidence, tdp.source) == (650, "scenario", "scenario file")
    # Other fields keep their shipped values and grades.
    hbm = cat.accelerators["h100-sxm"].hbm_bw_tb_per_s
    assert (hbm.value, hbm.confidence) == (3.35, "P")
    # The override does not leak into the next load.
    assert load_catalog().accelerators["h100-sxm"].tdp_w.value == 700


def test_override_with_full_sourced_mapping():
    cat = load_catalog(
        {
            "rack_systems": {
                "dgx-h100": {"host_max_kw": {"value": 3.0, "source": "meter", "confidence": "P"}}
            }
        }
    )
    assert cat.rack_systems["dgx-h100"].host_max_kw.confidence == "P"
    assert cat.rack_systems["dgx-h100"].design_power_kw.value == 10.2


def test_override_one_precision_keeps_the_others():
    cat = load_catalog({"accelerators": {"h100-sxm": {"dense_tflops": {"fp8": 2000}}}})
    tflops = cat.accelerators["h100-sxm"].dense_tflops
    assert tflops["fp8"].value == 2000 and tflops["fp8"].confidence == "scenario"
    assert tflops["bf16"].value == 989 and tflops["bf16"].confidence == "S"


def test_override_moe_field_keeps_the_others():
    cat = load_catalog({"models": {"deepseek-r1": {"moe": {"active_experts_count": 9}}}})
    moe = cat.models["deepseek-r1"].moe
    assert (moe.experts_count, moe.active_experts_count) == (256, 9)
    assert moe.shared_b_params.value == 16.2


def test_add_new_accelerator_and_rack():
    rack = {
        "name": "Test rack",
        "accelerator": "test-chip",
        "gpus_per_rack_count": 16,
        "scaleup_domain_gpus_count": 16,
        "host_idle_kw": 1,
        "host_max_kw": 3,
        "psu_efficiency_frac": 0.95,
        "design_power_kw": 14,
        "liquid_heat_frac": 0.5,
        "max_supply_temp_degc": 40,
        "hbm_reserve_frac": 0.1,
    }
    cat = load_catalog(
        {"accelerators": {"test-chip": NEW_CHIP}, "rack_systems": {"test-rack": rack}}
    )
    chip = cat.accelerators["test-chip"]
    assert chip.tdp_w.confidence == "U" and chip.idle_w.confidence == "scenario"
    assert chip.dense_tflops["fp8"].value == 2000
    assert cat.rack_systems["test-rack"].accelerator == "test-chip"
    assert "h100-sxm" in cat.accelerators  # packaged entries still there


def test_add_efficiency_entry():
    cat = load_catalog({"efficiencies": {"h100-sxm/trtllm": EFFICIENCY}})
    assert cat.efficiencies["h100-sxm/trtllm"].eta_bw_frac.value == 0.8
    # No t_seq_s given: the schema default, no per-sequence overhead, weakly sourced.
    t_seq = cat.efficiencies["h100-sxm/trtllm"].t_seq_s
    assert t_seq.value == 0.0 and t_seq.confidence == "U"


def test_negative_per_sequence_overhead_rejected():
    message = _error({"efficiencies": {"h100-sxm/vllm": {"t_seq_s": -1e-5}}})
    assert message == "catalog.efficiencies.h100-sxm/vllm.t_seq_s: -1e-05 must be >= 0"


def test_empty_table_in_additions_is_ignored():
    assert load_catalog({"accelerators": None}) == load_catalog()


# --------------------------------------------------------------------------- errors


def test_negative_tdp_message():
    assert _error({"accelerators": {"h100-sxm": {"tdp_w": -5}}}) == (
        "catalog.accelerators.h100-sxm.tdp_w: -5 must be > 0"
    )


def test_where_prefix_is_used():
    message = _error({"accelerators": {"h100-sxm": {"tdp_w": 0}}}, where="scenarios/x.yaml")
    assert message == "scenarios/x.yaml.accelerators.h100-sxm.tdp_w: 0 must be > 0"


def test_unknown_accelerator_did_you_mean():
    message = _error({"rack_systems": {"dgx-h100": {"accelerator": "h100"}}})
    assert message == (
        "catalog.rack_systems.dgx-h100.accelerator: 'h100' is not a known accelerator "
        "(did you mean 'h100-sxm'?)"
    )


def test_unknown_accelerator_without_close_match_lists_known():
    message = _error({"rack_systems": {"dgx-h100": {"accelerator": "zzz"}}})
    assert message.startswith("catalog.rack_systems.dgx-h100.accelerator: 'zzz' is not a known")
    assert "known: b200, gb200" in message


def test_unknown_field_did_you_mean():
    message = _error({"accelerators": {"h100-sxm": {"tdp_watts": 700}}})
    assert message.startswith(
        "catalog.accelerators.h100-sxm.tdp_watts: 'tdp_watts' is not a field of this entry "
        "(did you mean 'tdp_w'?)"
    )


def test_unknown_table_did_you_mean():
    message = _error({"accelerator": {"x": {}}})
    assert message == "catalog: 'accelerator' is not a catalog table (did you mean 'accelerators'?)"


def test_unknown_precision_key():
    message = _error({"accelerators": {"h100-sxm": {"dense_tflops": {"fp16": 1}}}})
    assert message == (
        "catalog.accelerators.h100-sxm.dense_tflops.fp16: 'fp16' should be 'bf16', 'fp8' or 'fp4'"
    )


def test_incomplete_new_entry_names_missing_fields():
    message = _error({"accelerators": {"new-chip": {"name": "x", "tdp_w": 500}}})
    assert message.startswith(
        "catalog.accelerators.new-chip: missing dense_tflops, hbm_bw_tb_per_s"
    )
    assert message.endswith("a new entry must give every required field")


def test_sourced_mapping_without_source():
    message = _error({"accelerators": {"h100-sxm": {"tdp_w": {"value": 800}}}})
    assert message == "catalog.accelerators.h100-sxm: missing tdp_w.confidence, tdp_w.source"


def test_non_number_value():
    message = _error({"accelerators": {"h100-sxm": {"tdp_w": "lots"}}})
    assert message == (
        "catalog.accelerators.h100-sxm.tdp_w: 'lots' should be a number or a mapping "
        "{value, source, confidence}"
    )


@pytest.mark.parametrize(
    ("field", "value", "expectation"),
    [
        ("psu_efficiency_frac", 1.2, "1.2 must be in (0, 1]"),
        ("psu_efficiency_frac", 0, "0 must be in (0, 1]"),
        ("liquid_heat_frac", -0.1, "-0.1 must be in [0, 1]"),
        ("hbm_reserve_frac", 1, "1 must be in [0, 1)"),
        ("host_idle_kw", -1, "-1 must be >= 0"),
        ("design_power_kw", math.inf, "inf must be a finite number"),
    ],
)
def test_range_checks(field, value, expectation):
    message = _error({"rack_systems": {"dgx-h100": {field: value}}})
    assert message == f"catalog.rack_systems.dgx-h100.{field}: {expectation}"


def test_zero_liquid_share_is_allowed():
    cat = load_catalog({"rack_systems": {"gb200-nvl72": {"liquid_heat_frac": 0}}})
    assert cat.rack_systems["gb200-nvl72"].liquid_heat_frac.value == 0


def test_idle_above_tdp_rejected():
    message = _error({"accelerators": {"h100-sxm": {"idle_w": 800}}})
    assert message == "catalog.accelerators.h100-sxm.idle_w: 800 must be < tdp_w (700)"


def test_host_idle_above_max_rejected():
    message = _error({"rack_systems": {"dgx-h100": {"host_idle_kw": 5}}})
    assert message == "catalog.rack_systems.dgx-h100.host_idle_kw: 5 must be <= host_max_kw (2.4)"


def test_design_power_must_carry_gpus():
    # 50 kW x 0.96 = 48 kW < 72 x 1.2 kW = 86.4 kW.
    message = _error({"rack_systems": {"gb200-nvl72": {"design_power_kw": 50}}})
    assert message.startswith("catalog.rack_systems.gb200-nvl72.design_power_kw: 50 x ")
    assert "cannot carry 72 x 1200 W of gb200 TDP (86.4 kW)" in message


def test_shipped_entry_broken_by_addition_says_so():
    # 72 x 2 kW = 144 kW > 132 kW x 0.96: the shipped rack no longer fits its GPUs.
    message = _error({"accelerators": {"gb200": {"tdp_w": 2000}}})
    assert message.startswith("dcsim/catalog/data/rack_systems.yaml:gb200-nvl72.design_power_kw")
    assert message.endswith("(after applying the additions in catalog)")


def test_moe_checks():
    message = _error({"models": {"deepseek-r1": {"moe": {"shared_b_params": 40}}}})
    assert (
        message
        == "catalog.models.deepseek-r1.moe.shared_b_params: 40 must be < active_b_params (37)"
    )
    message = _error({"models": {"deepseek-r1": {"moe": {"active_experts_count": 300}}}})
    assert message.endswith("moe.active_experts_count: 300 must be <= experts_count (256)")
    message = _error({"models": {"llama-3.1-8b": {"active_b_params": 9}}})
    assert message == "catalog.models.llama-3.1-8b.active_b_params: 9 must be <= total_b_params (8)"


def test_attention_shape_checks():
    message = _error({"models": {"llama-3.1-8b": {"kv_heads_count": 0}}})
    assert "give kv_heads_count and head_dim_count > 0 (GQA)" in message
    message = _error({"models": {"deepseek-r1": {"kv_heads_count": 8}}})
    assert message.endswith("latent-attention models need kv_heads_count 0 and head_dim_count 0")


def test_efficiency_unknown_accelerator_and_bad_key():
    bad = dict(EFFICIENCY, accelerator="h100-sx")
    message = _error({"efficiencies": {"h100-sx/trtllm": bad}})
    assert message.startswith(
        "catalog.efficiencies.h100-sx/trtllm.accelerator: 'h100-sx' is not a known accelerator "
        "(did you mean 'h100-sxm'"
    )
    message = _error({"efficiencies": {"h100/trtllm": EFFICIENCY}})
    assert message == (
        "catalog.efficiencies.h100/trtllm: id 'h100/trtllm' must be '<accelerator>/<stack>' "
        "= 'h100-sxm/trtllm'"
    )


def test_bad_shapes():
    assert _error([1]) == "catalog: [1] must be a mapping of table -> {id: entry}"
    assert _error({"accelerators": ["x"]}).startswith(
        "catalog.accelerators: ['x'] must be a mapping"
    )
    assert _error({"accelerators": {"h100-sxm": 5}}) == (
        "catalog.accelerators.h100-sxm: 5 must be a mapping of fields"
    )


def test_shipped_data_rejects_bare_numbers():
    # A bare number in a shipped file would be graded "scenario": refuse it.
    raw = {t: dict(entries) for t, entries in load_mod._packaged_raw().items()}
    raw["accelerators"]["h100-sxm"] = dict(raw["accelerators"]["h100-sxm"], tdp_w=700)
    with pytest.raises(ConfigError) as info:
        load_mod._catalog_from_raw(raw, "dcsim/catalog/data")
    assert str(info.value).startswith(
        "dcsim/catalog/data/accelerators.yaml:h100-sxm.tdp_w: confidence 'scenario' not allowed"
    )


# --------------------------------------------------------------------------- resolve_id


def test_resolve_id_returns_entry():
    cat = load_catalog()
    assert resolve_id(cat.rack_systems, "dgx-h100", "rack system", "x").accelerator == "h100-sxm"


def test_resolve_id_suggests_containing_ids_first():
    cat = load_catalog()
    with pytest.raises(ConfigError) as info:
        resolve_id(cat.rack_systems, "gb200", "rack system", "scenario.racks[0].system")
    assert str(info.value) == (
        "scenario.racks[0].system: 'gb200' is not a known rack system "
        "(did you mean 'gb200-nvl72', 'gb200-tray', 'dgx-b200'?)"
    )


# --------------------------------------------------------------------------- catalog_table


def test_catalog_table_accelerators():
    df = catalog_table(load_catalog(), "accelerators")
    assert isinstance(df, pd.DataFrame)
    assert df.index.name == "id" and len(df) == 12
    assert df.loc["h100-sxm", "tdp_w"] == 700
    assert df.loc["h100-sxm", "tdp_w_confidence"] == "P"
    assert df.loc["gb300", "hbm_usable_gb"] == 279
    assert df.loc["h100-sxm", "bf16_dense_tflops"] == 989
    assert math.isnan(df.loc["h100-sxm", "fp4_dense_tflops"])  # no FP4 on Hopper
    assert "notes" not in df.columns


def test_catalog_table_models_and_racks():
    cat = load_catalog()
    models = catalog_table(cat, "models")
    assert models.loc["deepseek-r1", "moe_experts_count"] == 256
    assert models.loc["deepseek-r1", "moe_shared_b_params_confidence"] == "S"
    assert math.isnan(models.loc["llama-2-70b", "moe_shared_b_params"])
    racks = catalog_table(cat, "rack_systems")
    assert racks.loc["gb200-nvl72", "design_power_kw"] == 132
    assert racks.loc["gb200-nvl72", "liquid_heat_frac_confidence"] == "U"


def test_catalog_table_shows_scenario_grade():
    cat = load_catalog({"accelerators": {"h100-sxm": {"tdp_w": 650}}})
    df = catalog_table(cat, "accelerators")
    assert df.loc["h100-sxm", "tdp_w_confidence"] == "scenario"


def test_catalog_table_efficiencies():
    df = catalog_table(
        load_catalog({"efficiencies": {"h100-sxm/trtllm": EFFICIENCY}}), "efficiencies"
    )
    assert df.loc["h100-sxm/trtllm", "eta_bw_frac"] == 0.8
    assert math.isnan(df.loc["h100-sxm/trtllm", "fit_error_max_frac"])


def test_catalog_table_unknown_table():
    with pytest.raises(
        ConfigError, match=r"'rack' is not a catalog table \(did you mean 'rack_systems'"
    ):
        catalog_table(load_catalog(), "rack")
