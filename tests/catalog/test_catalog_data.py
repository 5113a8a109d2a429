"""The shipped catalog data: provenance of every number, the reference figures, derived checks.

Reference values are copied by hand from shared/reference/accelerators.md and
shared/reference/calibration.md (not read from the YAML), so a typo in either side fails.
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

import pytest
from ruamel.yaml import YAML

from dcsim.catalog.load import load_catalog
from dcsim.catalog.schema import Sourced

SHIPPED_TABLES = ("accelerators", "rack_systems", "models", "precisions")


def _raw(table: str) -> dict[str, Any]:
    path = resources.files("dcsim.catalog") / "data" / f"{table}.yaml"
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def _sourced_leaves(node: Any, path: str = ""):
    """Yield (path, mapping) for every {value, ...} mapping and (path, number) for bare numbers."""
    if isinstance(node, dict):
        if "value" in node:
            yield path, node
            return
        for key, child in node.items():
            yield from _sourced_leaves(child, f"{path}.{key}" if path else str(key))
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield path, node


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


# --------------------------------------------------------------------------- provenance


@pytest.mark.parametrize("table", SHIPPED_TABLES)
def test_every_shipped_number_has_source_and_grade(table):
    # Integer architecture counts (layers_count, hidden_count, ...) are the only bare numbers
    # allowed: they are copied from config files cited in the entry's notes.
    checked = 0
    for path, leaf in _sourced_leaves(_raw(table)):
        if isinstance(leaf, dict):
            assert set(leaf) == {"value", "source", "confidence"}, path
            assert isinstance(leaf["value"], int | float), path
            assert isinstance(leaf["source"], str) and leaf["source"].strip(), path
            assert leaf["confidence"] in {"P", "S", "U"}, path
            checked += 1
        else:
            assert path.endswith("_count") and isinstance(leaf, int), f"bare number at {path}"
    assert checked > 0


def test_loaded_catalog_has_no_scenario_or_fit_grades_outside_efficiencies(cat):
    for table in SHIPPED_TABLES:
        for key, entry in getattr(cat, table).items():
            for name, value in entry:
                numbers = value.values() if isinstance(value, dict) else [value]
                if name == "moe" and value is not None:
                    numbers = [value.shared_b_params]
                for number in numbers:
                    if isinstance(number, Sourced):
                        assert number.confidence in {"P", "S", "U"}, (table, key, name)


def test_estimates_are_graded_u(cat):
    # Fields the reference does not give are dcsim estimates and must say so.
    for key, chip in cat.accelerators.items():
        assert chip.idle_w.confidence == "U", key
        assert chip.scaleup_latency_s.confidence == "U", key
    for key in ("tpu-v6e", "tpu7x"):  # TDP "n/p" in the reference
        assert cat.accelerators[key].tdp_w.confidence == "U"
        assert "Estimate" in cat.accelerators[key].tdp_w.source
    for key, system in cat.rack_systems.items():
        assert system.hbm_reserve_frac.confidence == "U", key
        assert system.host_idle_kw.confidence == "U", key


# --------------------------------------------------------------------------- reference table

# accelerators.md: (TDP W, HBM GB usable, HBM TB/s, BF16, FP8, FP4 TFLOPS); None = "-".
# Rubin gives ranges (HBM 13-22, FP4 35,000-50,000): checked separately below. TPU TDP is
# "n/p" (None here, an estimate in the catalog).
REFERENCE = {
    "h100-sxm": (700, 80, 3.35, 989, 1979, None),
    "h200-sxm": (700, 141, 4.8, 989, 1979, None),
    "b200": (1000, 180, 8.0, 2250, 4500, 9000),
    "gb200": (1200, 186, 8.0, 2500, 5000, 10000),
    "gb300": (1400, 279, 8.0, 2500, 5000, 15000),
    "mi300x": (750, 192, 5.3, 1307, 2615, None),
    "mi325x": (1000, 256, 6.0, 1307, 2615, None),
    "mi355x": (1400, 288, 8.0, 2500, 5000, 10000),
    "tpu-v6e": (None, 32, 1.64, 918, None, None),
    "tpu7x": (None, 192, 7.4, 2307, 4614, None),
    "trainium2": (500, 96, 2.9, 667, 1299, None),
}

# Scale-up per chip as quoted (bidirectional sum) in accelerators.md [GB/s]; the catalog
# stores one direction, i.e. half.
SCALEUP_QUOTED_GB_PER_S = {
    "h100-sxm": 900,  # NVLink4
    "h200-sxm": 900,
    "b200": 1800,  # NVLink5
    "gb200": 1800,
    "gb300": 1800,
    "rubin": 3600,  # NVLink6
    "mi300x": 896,  # Infinity Fabric
    "tpu-v6e": 800,  # ICI
    "tpu7x": 1200,
    "trainium2": 1280,  # NeuronLink
}


def test_catalog_has_every_reference_accelerator(cat):
    assert set(cat.accelerators) == set(REFERENCE) | {"rubin"}


@pytest.mark.parametrize("key", sorted(REFERENCE))
def test_reference_figures_reproduced_exactly(cat, key):
    tdp, hbm_gb, bw, bf16, fp8, fp4 = REFERENCE[key]
    chip = cat.accelerators[key]
    if tdp is not None:
        assert chip.tdp_w.value == tdp
    assert chip.hbm_usable_gb.value == hbm_gb
    assert chip.hbm_bw_tb_per_s.value == bw
    for precision, expected in (("bf16", bf16), ("fp8", fp8), ("fp4", fp4)):
        if expected is None:
            # "-" in the reference: either omitted (no native support) or a graded estimate.
            if precision in chip.dense_tflops:
                assert chip.dense_tflops[precision].confidence == "U"
        else:
            assert chip.dense_tflops[precision].value == expected


def test_no_fp4_where_hardware_has_none(cat):
    # Hopper, CDNA3, TPUs and Trainium2 have no native FP4: the key must be absent.
    for key in ("h100-sxm", "h200-sxm", "mi300x", "mi325x", "tpu-v6e", "tpu7x", "trainium2"):
        assert "fp4" not in cat.accelerators[key].dense_tflops, key
    assert "fp8" not in cat.accelerators["tpu-v6e"].dense_tflops  # BF16 and INT8 only


def test_rubin_within_announced_ranges(cat):
    rubin = cat.accelerators["rubin"]
    assert rubin.hbm_usable_gb.value == 288
    assert 13 <= rubin.hbm_bw_tb_per_s.value <= 22
    assert 35_000 <= rubin.dense_tflops["fp4"].value <= 50_000
    assert rubin.tdp_w.value == 1800  # "~1,800 (U)"
    assert all(n.confidence == "U" for n in rubin.dense_tflops.values())


@pytest.mark.parametrize("key", sorted(SCALEUP_QUOTED_GB_PER_S))
def test_scaleup_is_one_direction(cat, key):
    assert cat.accelerators[key].scaleup_bw_gb_per_s.value == SCALEUP_QUOTED_GB_PER_S[key] / 2


def test_gb200_notes_azure_measured_bandwidth(cat):
    # accelerators.md: Azure measured 7.35 TB/s HBM stream on GB200 (below the 8.0 peak).
    assert "7.35" in cat.accelerators["gb200"].hbm_bw_tb_per_s.source


def test_idle_is_a_plausible_share_of_tdp(cat):
    # Public idle readings put GPUs at roughly 10-15% of TDP; allow 8-20%.
    for key, chip in cat.accelerators.items():
        assert 0.08 <= chip.idle_w.value / chip.tdp_w.value <= 0.20, key


def test_latency_is_microseconds(cat):
    for key, chip in cat.accelerators.items():
        assert 1e-6 <= chip.scaleup_latency_s.value <= 5e-5, key


# --------------------------------------------------------------------------- rack systems


def test_rack_systems_present_and_wired(cat):
    expected = {
        "dgx-h100": ("h100-sxm", 8, 8),
        "hgx-h200": ("h200-sxm", 8, 8),
        "dgx-b200": ("b200", 8, 8),
        "b200-water-node": ("b200", 8, 8),
        "gb200-nvl72": ("gb200", 72, 72),
        "gb200-tray": ("gb200", 4, 72),
        "gb300-nvl72": ("gb300", 72, 72),
        "vr-nvl144": ("rubin", 72, 72),  # 72 packages = 144 dies
        "mi300x-8": ("mi300x", 8, 8),
        "mi325x-8": ("mi325x", 8, 8),
        "mi355x-8": ("mi355x", 8, 8),
    }
    assert set(cat.rack_systems) == set(expected)
    for key, (chip, per_rack, domain) in expected.items():
        system = cat.rack_systems[key]
        assert system.accelerator == chip
        assert system.gpus_per_rack_count == per_rack
        assert system.scaleup_domain_gpus_count == domain


def test_gb200_nvl72_design_covers_gpu_tdp(cat):
    # 72 GPUs x 1,200 W = 86.4 kW must fit in the 132 kW design power (accelerators.md).
    nvl72 = cat.rack_systems["gb200-nvl72"]
    assert nvl72.design_power_kw.value == 132
    assert nvl72.design_power_kw.value >= 72 * 1200 / 1000
    assert nvl72.liquid_heat_frac.value == 0.85  # "~85% of heat to liquid (U)"


def test_every_design_power_covers_gpus_and_host(cat):
    # (GPUs x TDP + host_max) / psu must not exceed the design (wall) power.
    for key, s in cat.rack_systems.items():
        chip = cat.accelerators[s.accelerator]
        full_kw = (s.gpus_per_rack_count * chip.tdp_w.value / 1000 + s.host_max_kw.value) / (
            s.psu_efficiency_frac.value
        )
        assert full_kw <= s.design_power_kw.value * 1.001, key
        assert s.host_idle_kw.value < s.host_max_kw.value, key
        assert 0.94 <= s.psu_efficiency_frac.value <= 0.97, key


def test_host_max_arithmetic_of_nvl72_racks(cat):
    # host_max = design x psu - GPUs x TDP, as written in the sources.
    for key, design, gpus_kw in (
        ("gb200-nvl72", 132, 72 * 1.2),
        ("gb300-nvl72", 142, 72 * 1.4),
        ("vr-nvl144", 190, 72 * 1.8),
    ):
        s = cat.rack_systems[key]
        assert s.host_max_kw.value == pytest.approx(design * 0.96 - gpus_kw, abs=0.05), key


def test_dgx_b200_matches_lenovo_power_log(cat):
    # calibration.md: Lenovo SR680a V3, 8x B200, Llama-2-70B Offline: 10,401 W avg,
    # 11,837 W max at the wall. All 8 GPUs at TDP plus host at max reproduces the max;
    # the average lies between the idle and full-load wall power.
    s = cat.rack_systems["dgx-b200"]
    chip = cat.accelerators["b200"]
    psu = s.psu_efficiency_frac.value
    full_kw = (8 * chip.tdp_w.value / 1000 + s.host_max_kw.value) / psu
    idle_kw = (8 * chip.idle_w.value / 1000 + s.host_idle_kw.value) / psu
    assert full_kw == pytest.approx(11.837, rel=0.01)
    assert idle_kw < 10.401 < full_kw
    assert s.design_power_kw.value == 14.3


def test_b200_water_node_below_air_node(cat):
    # calibration/accelerators.md: the water node drew 9.89 kW avg on 405B (no GPU fans).
    air, water = cat.rack_systems["dgx-b200"], cat.rack_systems["b200-water-node"]
    assert water.host_max_kw.value < air.host_max_kw.value
    assert water.liquid_heat_frac.value > 0 == air.liquid_heat_frac.value
    full_kw = (8 * 1.0 + water.host_max_kw.value) / water.psu_efficiency_frac.value
    assert full_kw > 9.89


def test_gb200_tray_is_an_eighteenth_of_the_rack(cat):
    tray, rack = cat.rack_systems["gb200-tray"], cat.rack_systems["gb200-nvl72"]
    assert tray.design_power_kw.value == pytest.approx(rack.design_power_kw.value / 18, rel=0.01)
    assert tray.host_max_kw.value == pytest.approx(rack.host_max_kw.value / 18, rel=0.01)


def test_h200_maxq_power_log_is_below_full_load(cat):
    # accelerators.md: HGX H200 MaxQ measured 6.15-6.28 kW wall on Llama-2-70B.
    s = cat.rack_systems["hgx-h200"]
    full_kw = (8 * 0.7 + s.host_max_kw.value) / s.psu_efficiency_frac.value
    idle_kw = (8 * 0.075 + s.host_idle_kw.value) / s.psu_efficiency_frac.value
    assert idle_kw < 6.15 < 6.28 < full_kw


# --------------------------------------------------------------------------- models

# accelerators.md LLM table + HF config.json hidden sizes:
# (total B, active B, layers, kv heads, head dim, hidden)
MODELS = {
    "llama-2-70b": (70, 70, 80, 8, 128, 8192),
    "llama-3.1-8b": (8, 8, 32, 8, 128, 4096),
    "llama-3.1-70b": (70, 70, 80, 8, 128, 8192),
    "llama-3.1-405b": (405, 405, 126, 8, 128, 16384),
    "deepseek-r1": (671, 37, 61, 0, 0, 7168),
    "gpt-oss-120b": (117, 5.1, 36, 8, 64, 2880),
    # Mistral AI, "Mixtral of experts" (2024) and config.json.
    "mixtral-8x7b": (46.7, 12.9, 32, 8, 128, 4096),
}


@pytest.mark.parametrize("key", sorted(MODELS))
def test_model_table_reproduced(cat, key):
    total, active, layers, kv_heads, head_dim, hidden = MODELS[key]
    m = cat.models[key]
    assert (m.total_b_params.value, m.active_b_params.value) == (total, active)
    assert (m.layers_count, m.kv_heads_count, m.head_dim_count) == (layers, kv_heads, head_dim)
    assert m.hidden_count == hidden


def test_model_set(cat):
    assert set(cat.models) == set(MODELS)


def test_kv_bytes_per_token_from_shape(cat):
    # Llama-2-70B, BF16 KV: 2 (K,V) x 80 layers x 8 heads x 128 x 2 B = 327,680 B = 320 KiB.
    m = cat.models["llama-2-70b"]
    assert 2 * m.layers_count * m.kv_heads_count * m.head_dim_count * 2 == 327_680
    # DeepSeek MLA caches one 512 + 64 latent per layer: 61 x 576 x 2 B = 70,272 B per token.
    ds = cat.models["deepseek-r1"]
    assert ds.kv_latent_count == 512 + 64
    assert ds.layers_count * ds.kv_latent_count * 2 == 70_272


def test_deepseek_moe_structure(cat):
    ds = cat.models["deepseek-r1"]
    assert ds.active_b_params.value < ds.total_b_params.value
    assert (ds.moe.experts_count, ds.moe.active_experts_count) == (256, 8)
    # Routed active params from config.json: 8 experts x 58 MoE layers x 3 x 7168 x 2048.
    routed_active_b = 8 * 58 * 3 * 7168 * 2048 / 1e9
    assert routed_active_b == pytest.approx(20.43, abs=0.01)
    shared = ds.moe.shared_b_params.value
    assert shared < ds.active_b_params.value
    # Shared + routed reproduces DeepSeek's 36.6B activated (README_WEIGHTS) to 0.1B.
    assert shared + routed_active_b == pytest.approx(36.6, abs=0.1)
    # All 256 routed experts: 256 x 58 x 44.04M = 653.9B; plus the shared part and the
    # 0.93B input embedding gives the 671B total to within 0.5%.
    routed_total_b = 256 * 58 * 3 * 7168 * 2048 / 1e9
    assert routed_total_b + shared + 0.927 == pytest.approx(ds.total_b_params.value, rel=0.005)


def test_gpt_oss_moe_structure(cat):
    m = cat.models["gpt-oss-120b"]
    assert (m.moe.experts_count, m.moe.active_experts_count) == (128, 4)
    # One expert: gate_up 2880 x 5760 (+ 5760 bias) and down 2880 x 2880 (+ 2880 bias).
    expert = 2880 * 5760 + 5760 + 2880 * 2880 + 2880
    routed_active_b = 4 * 36 * expert / 1e9
    shared = m.moe.shared_b_params.value
    assert shared < m.active_b_params.value
    # Model card: 5.13B active.
    assert shared + routed_active_b == pytest.approx(5.13, abs=0.01)


def test_dense_models_have_no_moe(cat):
    for key in ("llama-2-70b", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b"):
        assert cat.models[key].moe is None
        assert cat.models[key].kv_latent_count == 0


# --------------------------------------------------------------------------- precisions


def test_precision_bytes(cat):
    assert cat.precisions["bf16"].bytes_per_param.value == 2
    assert cat.precisions["fp8"].bytes_per_param.value == 1
    # NVFP4: 16 x 4-bit values + one 8-bit E4M3 scale = 72 bits per 16 values.
    assert cat.precisions["fp4"].bytes_per_param.value == (16 * 4 + 8) / 16 / 8 == 0.5625
    for key, spec in cat.precisions.items():
        assert spec.flops_key == key


def test_every_precision_key_exists_on_some_chip(cat):
    for spec in cat.precisions.values():
        assert any(spec.flops_key in chip.dense_tflops for chip in cat.accelerators.values())


def test_values_are_finite(cat):
    for table in SHIPPED_TABLES:
        for path, leaf in _sourced_leaves(_raw(table)):
            value = leaf["value"] if isinstance(leaf, dict) else leaf
            assert math.isfinite(value), (table, path)
