"""Tests of dcsim.model.pool: catalog ids -> SI PoolSpec, replica rule, clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dcsim.catalog.load import load_catalog
from dcsim.errors import ConfigError
from dcsim.kernels.oppoints import pool_operating_point
from dcsim.model.pool import MIN_USEFUL_BATCH_COUNT, PoolSpec, pool_spec
from dcsim.physics.compute import PARAM_NAMES


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_units_resolved_to_si(catalog):
    spec = pool_spec(catalog, "dgx-h100", "llama-2-70b", "fp8", "trtllm", 295, 294, None, None)
    assert isinstance(spec, PoolSpec)
    # Catalog: 3.35 TB/s, 1,979 TFLOPS FP8, 80 GB, 70B params x 1 B, NVLink4 450 GB/s.
    assert spec.hbm_bw_b_per_s == pytest.approx(3.35e12)
    assert spec.peak_flop_per_s == pytest.approx(1979e12)
    assert spec.hbm_usable_b == pytest.approx(80e9)
    assert spec.weight_b == pytest.approx(70e9) and spec.weight_shared_b == spec.weight_b
    assert spec.kv_b_per_tok == 2 * 80 * 8 * 128 * 1.0
    assert spec.scaleup_bw_b_per_s == pytest.approx(450e9)
    assert spec.host_max_w == pytest.approx(2400.0)
    assert spec.efficiency_key == "h100-sxm/trtllm" and spec.offline
    # Default replica: 1 GPU holds 20 sequences (< 64), 2 GPUs hold 766 -> TP2, 4 per node.
    assert spec.replica_gpus_count == 2 and spec.replicas_per_rack_count == 4.0
    assert spec.kv_batch_count == 766


def test_to_params_order_and_open_bounds(catalog):
    spec = pool_spec(catalog, "hgx-h200", "llama-2-70b", "fp8", "trtllm", 295, 294, 0.2, None)
    params = spec.to_params()
    assert params.shape == (len(PARAM_NAMES),) and params.dtype == np.float64
    as_dict = dict(zip(PARAM_NAMES, params, strict=True))
    assert as_dict["tpot_slo_s"] == 0.2
    assert math.isinf(as_dict["ttft_slo_s"]) and math.isinf(as_dict["max_batch_count"])
    assert as_dict["replica_gpus_count"] == 1.0  # H200: 141 GB hold 70 GB + 589 sequences


@pytest.mark.parametrize(
    ("system", "model", "precision", "input_tok", "expected_n", "expected_replicas"),
    [
        ("hgx-h200", "llama-2-70b", "fp8", 295, 1, 8.0),  # NVIDIA v5.0: TP1
        ("dgx-b200", "llama-3.1-405b", "fp4", 9400, 4, 2.0),  # NVIDIA v5.1: TP2xPP2 / TP4
        ("dgx-h100", "llama-3.1-70b", "bf16", 150, 4, 2.0),  # ML.ENERGY: TP4
        ("dgx-h100", "llama-3.1-8b", "bf16", 150, 1, 8.0),
        ("gb200-tray", "deepseek-r1", "fp8", 1000, 8, 0.5),  # replica spans two trays
    ],
)
def test_default_replica_rule(catalog, system, model, precision, input_tok, expected_n,
                              expected_replicas):  # fmt: skip
    spec = pool_spec(catalog, system, model, precision, "trtllm", input_tok, 500, None, None)
    assert spec.replica_gpus_count == expected_n
    assert spec.replicas_per_rack_count == expected_replicas
    assert spec.kv_batch_count >= MIN_USEFUL_BATCH_COUNT


def test_moe_weights_and_kv_precision_default(catalog):
    spec = pool_spec(catalog, "gb200-nvl72", "deepseek-r1", "fp4", "trtllm", 1000, 500, None, None)
    assert spec.kv_precision == "fp8"  # FP4 weights keep an FP8 KV cache
    assert spec.weight_b == pytest.approx(671e9 * 0.5625)
    assert spec.weight_shared_b == pytest.approx(16.2e9 * 0.5625)
    assert (spec.experts_count, spec.active_experts_count) == (256.0, 8.0)
    assert spec.kv_b_per_tok == 61 * 576 * 1.0  # MLA latent, FP8


def test_unknown_ids_suggest_close_names(catalog):
    with pytest.raises(ConfigError, match="did you mean 'dgx-h100'"):
        pool_spec(catalog, "dgx-h10", "llama-2-70b", "fp8", "trtllm", 295, 294, None, None)
    with pytest.raises(ConfigError, match="did you mean 'llama-2-70b'"):
        pool_spec(catalog, "dgx-h100", "llama2-70b", "fp8", "trtllm", 295, 294, None, None)


def test_model_too_big_names_pool_model_n_and_sizes(catalog):
    with pytest.raises(ConfigError) as err:
        pool_spec(catalog, "dgx-h100", "deepseek-r1", "fp8", "trtllm", 1000, 500, None, None,
                  pool_name="chat@dgx-h100")  # fmt: skip
    message = str(err.value)
    # 8 x 80 GB x 0.9 = 576 GB usable < 671 GB of FP8 weights.
    assert "chat@dgx-h100" in message and "deepseek-r1" in message
    assert "8 x h100-sxm" in message and "576.0 GB" in message and "671.1 GB" in message
    with pytest.raises(ConfigError, match="does not fit a replica of 1 x h100-sxm"):
        pool_spec(catalog, "dgx-h100", "llama-3.1-70b", "bf16", "vllm", 150, 400, None, None,
                  replica_gpus=1)  # fmt: skip


def test_unknown_stack_is_an_error_listing_the_known_ones(catalog):
    with pytest.raises(ConfigError) as err:
        pool_spec(catalog, "dgx-h100", "llama-2-70b", "fp8", "sglang", 295, 294, None, None,
                  pool_name="sites.0.rack_groups.2")  # fmt: skip
    assert str(err.value) == (
        "pool sites.0.rack_groups.2: stack: stack 'sglang' has no efficiency factors for "
        "h100-sxm; expected one of trtllm, trtllm-2024, vllm"
    )
    vllm = pool_spec(catalog, "dgx-h100", "llama-2-70b", "fp8", "vllm", 295, 294, None, None)
    assert vllm.efficiency_key == "h100-sxm/vllm" and not vllm.proxy


def test_proxy_factors_are_declared_on_the_pool(catalog):
    # GB300 has no calibration point: its factors are GB200's, declared as a proxy (U).
    spec = pool_spec(catalog, "gb300-nvl72", "llama-2-70b", "fp4", "trtllm", 295, 294, None, None)
    assert spec.proxy and spec.proxy_of == "gb200/trtllm"
    entry = catalog.efficiencies["gb300/trtllm"]
    assert entry.proxy_confidence == "U" and entry.eta_bw_frac.value == (
        catalog.efficiencies["gb200/trtllm"].eta_bw_frac.value
    )
    fitted = pool_spec(catalog, "gb200-nvl72", "llama-2-70b", "fp4", "trtllm", 295, 294, None, None)
    assert not fitted.proxy and fitted.factors_source == "fit"


def test_bad_inputs_are_config_errors(catalog):
    with pytest.raises(ConfigError, match="'fp4' is not supported by h100-sxm"):
        pool_spec(catalog, "dgx-h100", "llama-2-70b", "fp4", "trtllm", 295, 294, None, None)
    with pytest.raises(ConfigError, match="exceeds the scale-up domain"):
        pool_spec(catalog, "dgx-h100", "llama-2-70b", "fp8", "trtllm", 295, 294, None, None,
                  replica_gpus=16)  # fmt: skip
    with pytest.raises(ConfigError, match="must be > 0"):
        pool_spec(catalog, "dgx-h100", "llama-2-70b", "fp8", "trtllm", 0, 294, None, None)
    with pytest.raises(ConfigError, match="tpot 0.0001 s cannot be met"):
        pool_spec(catalog, "dgx-h100", "llama-2-70b", "fp8", "trtllm", 295, 294, 1e-4, None)
    with pytest.raises(ConfigError, match="ttft 0.001 s cannot be met"):
        pool_spec(catalog, "dgx-h100", "llama-2-70b", "fp8", "trtllm", 295, 294, 0.2, 1e-3)


def test_explicit_efficiency_overrides_catalog(catalog):
    factors = {"eta_bw_frac": 0.5, "eta_f_frac": 0.4, "eta_pf_frac": 0.6, "t_fixed_s": 0.001,
               "c_cmp_frac": 0.8, "c_mem_frac": 0.3}  # fmt: skip
    spec = pool_spec(catalog, "dgx-h100", "llama-2-70b", "fp8", "trtllm", 295, 294, None, None,
                     efficiency=factors)  # fmt: skip
    assert spec.efficiency_key == "given" and spec.eta_bw_frac == 0.5
    # t_seq_s left out: the Efficiency schema default (no per-sequence overhead).
    assert spec.t_seq_s == 0.0
    spec = pool_spec(catalog, "dgx-h100", "llama-2-70b", "fp8", "trtllm", 295, 294, None, None,
                     efficiency={**factors, "t_seq_s": 4e-5})  # fmt: skip
    # Later entries are appended, so t_seq_s keeps the index it had when it was added.
    i_seq = PARAM_NAMES.index("t_seq_s")
    assert i_seq == 35 and spec.to_params()[i_seq] == 4e-5


def test_throughput_optimal_replica_beats_every_other_candidate():
    # DeepSeek-R1 FP4 on GB300 NVL72 under a 50 ms TPOT (the gw-campus reasoning pool): the
    # chosen replica size must serve at least as many tokens per rack as every other power of
    # two that pool_spec accepts; the smallest that fits (2 GPUs) is not the best here.
    from dcsim.catalog.load import load_catalog
    from dcsim.errors import ConfigError
    from dcsim.kernels.oppoints import pool_operating_point
    from dcsim.model.pool import pool_spec, throughput_optimal_pool_spec

    cat = load_catalog()
    args = (cat, "gb300-nvl72", "deepseek-r1", "fp4", "trtllm", 3000, 2000, 0.05, 3.0)
    best = throughput_optimal_pool_spec(*args)
    best_x = pool_operating_point(best.to_params())[5]
    tried = 0
    for n in (1, 2, 4, 8, 16, 32, 64):
        try:
            spec = pool_spec(*args, replica_gpus=n)
        except ConfigError:
            continue
        tried += 1
        assert pool_operating_point(spec.to_params())[5] <= best_x * (1 + 1e-9)
    assert tried >= 3
    assert best.replica_gpus_count > pool_spec(*args).replica_gpus_count


def test_latent_attention_and_moe_numbers_of_deepseek(catalog):
    from dcsim.model.pool import attention_widths

    llm = catalog.models["deepseek-r1"]
    # Decode on the compressed cache: 128 heads x (2 x 512 + 64) / 2 = 69,632; prefill
    # decompressed: 128 x (128 + 64 + 128) / 2 = 20,480 (config.json shapes).
    assert attention_widths(llm) == (69_632.0, 20_480.0)
    assert attention_widths(catalog.models["llama-2-70b"]) == (8192.0, 8192.0)
    assert attention_widths(catalog.models["gpt-oss-120b"]) == (4096.0, 4096.0)  # 64 x 64
    spec = pool_spec(catalog, "gb200-nvl72", "deepseek-r1", "fp4", "trtllm", 1000, 1000, None,
                     None, replica_gpus=8)  # fmt: skip
    # Latent KV: 61 layers x 576 x 1 B (FP8 cache) = 35,136 B per token.
    assert spec.kv_b_per_tok == 61 * 576
    # Routed active = (37 - 16.2) B = 20.8e9; 58 MoE layers; imbalance applies on 8 GPUs.
    assert spec.routed_active_params == pytest.approx(20.8e9)
    assert spec.moe_layers_count == 58 and spec.expert_imbalance_frac > 1.0
    one = pool_spec(catalog, "hgx-h200", "mixtral-8x7b", "fp8", "trtllm", 450, 146, None, None,
                    replica_gpus=1)  # fmt: skip
    assert one.expert_imbalance_frac == 1.0  # one GPU holds every expert


def test_expert_parallelism_beyond_the_domain_is_one_line_error(catalog):
    # DeepSeek-R1 in BF16 is 1,342 GB of weights; 8 x 80 GB of H100 cannot hold it.
    with pytest.raises(ConfigError) as err:
        pool_spec(catalog, "dgx-h100", "deepseek-r1", "bf16", "trtllm", 1000, 1000, None, None,
                  pool_name="sites.0.rack_groups.0")  # fmt: skip
    # Needed: 1,342 GB + 2,000 tokens x 61 x 576 x 2 B = 1,342.14 GB; held: 8 x 80 x 0.9.
    assert str(err.value) == (
        "pool sites.0.rack_groups.0: system: expert parallelism for 'deepseek-r1' (bf16) needs "
        "more GPUs than the scale-up domain of dgx-h100: 1342.1 GB (weights + one sequence of "
        "KV) but 8 x h100-sxm hold 576.0 GB; expected a larger domain or a smaller precision"
    )
    with pytest.raises(ConfigError) as err:
        pool_spec(catalog, "dgx-h100", "mixtral-8x7b", "fp8", "trtllm", 450, 146, None, None,
                  replica_gpus=16)  # fmt: skip
    assert str(err.value) == (
        "pool pool: replica_gpus: 16 exceeds the scale-up domain of dgx-h100 (8 GPUs); "
        "expected an expert-parallel replica inside one NVLink domain"
    )


def test_throughput_optimal_spec_passes_batch_and_power_limits(catalog):
    from dcsim.model.pool import throughput_optimal_pool_spec

    spec = throughput_optimal_pool_spec(
        catalog, "gb200-nvl72", "llama-3.1-70b", "fp8", "trtllm", 2000, 500, None, None,
        max_batch_count=32, gpu_power_limit_w=900,
    )  # fmt: skip
    assert spec.max_batch_count == 32 and spec.power_limit_w == 900
    # Offline: the SLO batch is the batch limit when the KV cache holds more.
    assert pool_operating_point(spec.to_params())[0] == 32
    with pytest.raises(ConfigError, match="gpu_power_limit_w: 100 W is outside"):
        throughput_optimal_pool_spec(
            catalog, "gb200-nvl72", "llama-3.1-70b", "fp8", "trtllm", 2000, 500, None, None,
            gpu_power_limit_w=100,
        )  # fmt: skip


def test_same_process_proxy_keeps_energy_per_operation(catalog):
    gb200 = pool_spec(catalog, "gb200-nvl72", "llama-3.1-70b", "fp4", "trtllm", 16000, 50, None,
                      None, replica_gpus=1, max_batch_count=64)  # fmt: skip
    gb300 = pool_spec(catalog, "gb300-nvl72", "llama-3.1-70b", "fp4", "trtllm", 16000, 50, None,
                      None, replica_gpus=1, max_batch_count=64)  # fmt: skip
    chips = catalog.accelerators
    # Same 4NP process: full-activity compute power in watts scales with the FP4 peak,
    # c_300 (1400 - idle_300) = c_200 (1200 - idle_200) x 15,000 / 10,000.
    watts_300 = gb300.c_cmp_frac * (chips["gb300"].tdp_w.value - chips["gb300"].idle_w.value)
    watts_200 = gb200.c_cmp_frac * (chips["gb200"].tdp_w.value - chips["gb200"].idle_w.value)
    assert watts_300 == pytest.approx(1.5 * watts_200, rel=1e-12)
    # A prefill-bound pool (16k-token prompts, 50 output tokens) then gains less than the
    # 1.5x FP4 peak: the GB300 runs into its 1,400 W limit and clocks down.
    x200, clock200 = (pool_operating_point(gb200.to_params())[i] for i in (5, 3))
    x300, clock300 = (pool_operating_point(gb300.to_params())[i] for i in (5, 3))
    assert clock300 < clock200 and 1.0 < x300 / x200 < 1.5
    # Factors given explicitly (calibration) are used as given.
    given = {
        f: getattr(catalog.efficiencies["gb300/trtllm"], f).value
        for f in (
            "eta_bw_frac",
            "eta_f_frac",
            "eta_pf_frac",
            "t_fixed_s",
            "c_cmp_frac",
            "c_mem_frac",
        )
    }
    raw = pool_spec(catalog, "gb300-nvl72", "llama-3.1-70b", "fp4", "trtllm", 16000, 50, None,
                    None, replica_gpus=1, efficiency=given)  # fmt: skip
    assert raw.c_cmp_frac == given["c_cmp_frac"]


def test_attention_peak_is_the_kv_precision_peak():
    # FP4 weights keep an FP8 KV cache, so attention runs at the FP8 column of the chip
    # (B200: 4.5 of 9 dense PFLOPS in accelerators.yaml); FP8 weights: one rate.
    catalog = load_catalog()
    chip = catalog.accelerators["b200"]
    fp4 = pool_spec(catalog, "dgx-b200", "deepseek-r1", "fp4", "trtllm", 800, 3698, None, None)
    assert fp4.kv_precision == "fp8"
    assert fp4.attn_peak_flop_per_s == chip.dense_tflops["fp8"].value * 1e12
    assert fp4.peak_flop_per_s == chip.dense_tflops["fp4"].value * 1e12
    fp8 = pool_spec(catalog, "dgx-b200", "llama-2-70b", "fp8", "trtllm", 295, 294, None, None)
    assert fp8.attn_peak_flop_per_s == fp8.peak_flop_per_s
