"""A serving pool as SI numbers: catalog ids resolved, units converted, replica size chosen.

A *pool* is (rack system, model, precision, stack, SLO class). :func:`pool_spec` resolves the
catalog entries once and returns a frozen :class:`PoolSpec` holding every number the compute
core needs (MODEL.md section 1) in SI; :meth:`PoolSpec.to_params` packs them into the float64
vector that the compiled operating-point kernel (:mod:`dcsim.kernels.oppoints`) reads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from dcsim import units
from dcsim.catalog.load import check_power_limit_w, min_power_limit_w, resolve_id
from dcsim.catalog.schema import LLM, Accelerator, Catalog, Efficiency, Sourced
from dcsim.catalog.workload_defaults import workload_default
from dcsim.errors import ConfigError
from dcsim.kernels.oppoints import pool_operating_point, slo_batch_count
from dcsim.physics.compute import (
    PARAM_NAMES,
    kv_bytes_per_token_b,
    kv_capacity_batch_count,
    replica_prefill_time_s,
    replica_state,
)

__all__ = [
    "ACTIVATION_ELEM_B",
    "EFFICIENCY_FACTORS",
    "MIN_USEFUL_BATCH_COUNT",
    "PoolSpec",
    "pool_spec",
]

#: Bytes per activation element in tensor-parallel all-reduces: 16-bit (NVIDIA's MLPerf v5.1
#: Llama configs set ``gemm_allreduce_plugin: float16`` even for FP8/FP4 weights).
ACTIVATION_ELEM_B = 2.0

#: Sequences a replica must be able to hold before the default replica-size rule accepts it.
#: Below a few dozen concurrent sequences a replica sits far left of the roofline ridge
#: (``B_ridge = F eta_f b_w / (2 bw eta_bw)``, 150-300 on current GPUs), so deployments add
#: GPUs instead; 64 reproduces the published choices: TP2 for Llama-2-70B FP8 on H100 80 GB,
#: TP1 on H200/B200/MI300X, TP4 for Llama-3.1-405B FP4 on B200, TP4 for Llama-3.1-70B BF16
#: on H100 (MLPerf v4.1-v5.1 NVIDIA configs, ML.ENERGY v3).
MIN_USEFUL_BATCH_COUNT = 64

#: Efficiency factors a PoolSpec takes from the catalog (Efficiency field names).
EFFICIENCY_FACTORS: tuple[str, ...] = (
    "eta_bw_frac",
    "eta_f_frac",
    "eta_pf_frac",
    "t_fixed_s",
    "c_cmp_frac",
    "c_mem_frac",
    "t_seq_s",
    "eta_moe_frac",
)


@dataclass(frozen=True)
class PoolSpec:
    """Everything the compute core needs about one pool, in SI.

    Per-GPU figures are for one accelerator; ``weight_b`` and ``kv_b_per_tok`` are for the whole
    model (one replica). ``None`` for an SLO or the batch limit means "no bound" (offline).
    """

    pool_name: str
    rack_system_id: str
    accelerator_id: str
    model_id: str
    precision: str
    kv_precision: str
    stack: str
    efficiency_key: str
    hbm_bw_b_per_s: float
    peak_flop_per_s: float
    hbm_usable_b: float
    hbm_reserve_frac: float
    weight_b: float
    weight_shared_b: float
    experts_count: float
    active_experts_count: float
    active_params: float
    layers_count: float
    hidden_count: float
    kv_b_per_tok: float
    act_elem_b: float
    input_tok: float
    output_tok: float
    replica_gpus_count: int
    replicas_per_rack_count: float
    gpus_per_rack_count: int
    scaleup_bw_b_per_s: float
    scaleup_latency_s: float
    idle_w: float
    tdp_w: float
    c_cmp_frac: float
    c_mem_frac: float
    eta_bw_frac: float
    eta_f_frac: float
    eta_pf_frac: float
    t_fixed_s: float
    t_seq_s: float
    eta_moe_frac: float
    host_idle_w: float
    host_max_w: float
    psu_efficiency_frac: float
    tpot_slo_s: float | None
    ttft_slo_s: float | None
    max_batch_count: float | None = None
    ttft_quantile_frac: float = 0.99
    moe_layers_count: float = 0.0
    routed_active_params: float = 0.0
    expert_imbalance_frac: float = 1.0
    attn_decode_width_count: float = math.nan
    attn_prefill_width_count: float = math.nan
    factors_source: str = "fit"
    proxy_of: str | None = None
    power_limit_w: float = math.nan
    knee_clock_frac: float = 0.5
    v_min_frac: float = 1.0
    c_leak_frac: float = 0.0
    # Length spread of the workload, for the M/G/c request queue (dcsim.physics.queueing).
    output_tok_cv_frac: float = field(
        default_factory=lambda: workload_default("output_tok_cv_frac")
    )
    input_tok_cv_frac: float = field(default_factory=lambda: workload_default("input_tok_cv_frac"))
    min_power_limit_w: float = math.nan
    # Dense peak per GPU at the attention (KV-cache) precision; NaN: the weights' peak.
    attn_peak_flop_per_s: float = math.nan

    def __post_init__(self) -> None:
        # A spec built by hand without a limit runs at the chip's TDP.
        if math.isnan(self.power_limit_w):
            object.__setattr__(self, "power_limit_w", self.tdp_w)
        # ... and without a lowest settable limit, at idle (the accelerator's default).
        if math.isnan(self.min_power_limit_w):
            object.__setattr__(self, "min_power_limit_w", self.idle_w)
        if math.isnan(self.attn_peak_flop_per_s):
            object.__setattr__(self, "attn_peak_flop_per_s", self.peak_flop_per_s)
        for name in ("attn_decode_width_count", "attn_prefill_width_count"):
            if math.isnan(getattr(self, name)):
                object.__setattr__(self, name, self.hidden_count)

    @property
    def proxy(self) -> bool:
        """True when the pool's efficiency factors are a declared proxy (another chip's fit).

        A run's ``proxy_tok_frac`` is the share of its tokens served by such pools.
        """
        return self.factors_source == "proxy"

    @property
    def offline(self) -> bool:
        """True when the pool has no latency bound (batch/offline class)."""
        return self.tpot_slo_s is None and self.ttft_slo_s is None

    @property
    def kv_batch_count(self) -> float:
        """Sequences whose KV cache fits one replica, ``B_kv`` [-]."""
        return float(
            kv_capacity_batch_count(
                self.hbm_usable_b, self.hbm_reserve_frac, self.replica_gpus_count,
                self.weight_b, self.kv_b_per_tok, self.input_tok + self.output_tok,
            )
        )  # fmt: skip

    def to_params(self) -> np.ndarray:
        """Pack the numbers into the kernel's float64 vector (``compute.PARAM_NAMES`` order).

        Returns
        -------
        numpy.ndarray
            Parameter vector; absent bounds become +inf.
        """
        fields = asdict(self)
        values = []
        for name in PARAM_NAMES:
            value = fields[name]
            values.append(math.inf if value is None else float(value))
        return np.array(values, dtype=np.float64)


def stacks_of(catalog: Catalog, accelerator_id: str) -> list[str]:
    """Stacks with efficiency factors for an accelerator, default first.

    Parameters
    ----------
    catalog : Catalog
        Loaded catalog.
    accelerator_id : str
        Accelerator id.

    Returns
    -------
    list of str
        Stack names.
    """
    return [e.stack for e in catalog.efficiencies.values() if e.accelerator == accelerator_id]


def _efficiency_values(
    catalog: Catalog, accelerator_id: str, stack: str, efficiency: object, where: str
) -> tuple[str, dict[str, float]]:
    if efficiency is not None:
        if isinstance(efficiency, Efficiency):
            return "given", {f: getattr(efficiency, f).value for f in EFFICIENCY_FACTORS}
        if isinstance(efficiency, Mapping):
            # Factors with a schema default (t_seq_s) may be left out, as in a catalog entry.
            defaults = {
                f: info.default.value
                for f, info in Efficiency.model_fields.items()
                if f in EFFICIENCY_FACTORS and isinstance(info.default, Sourced)
            }
            given = {**defaults, **efficiency}
            missing = [f for f in EFFICIENCY_FACTORS if f not in given]
            if missing:
                raise ConfigError(f"missing {', '.join(missing)}", where=f"{where}: efficiency")
            return "given", {f: float(given[f]) for f in EFFICIENCY_FACTORS}
        raise ConfigError(
            f"{efficiency!r} must be an Efficiency or a mapping of factors", where=where
        )
    key = f"{accelerator_id}/{stack}"
    if key not in catalog.efficiencies:
        known = stacks_of(catalog, accelerator_id)
        if known:
            expected = f"expected one of {', '.join(known)}"
        else:
            expected = (
                "it has no efficiency factors at all; add an efficiencies entry "
                f"'{key}' (fitted or a declared proxy)"
            )
        raise ConfigError(
            f"stack '{stack}' has no efficiency factors for {accelerator_id}; {expected}",
            where=f"{where}: stack",
        )
    eff = catalog.efficiencies[key]
    return key, {f: getattr(eff, f).value for f in EFFICIENCY_FACTORS}


def attention_widths(llm: LLM) -> tuple[float, float]:
    """Attention widths of a model in decode and in prefill [-].

    The attention FLOPs per token and cached token are ``4 * w`` per layer, ``w`` being the
    mean of the query-key and value widths over all heads:

    - GQA: ``w = q_heads * head_dim`` (the hidden width unless ``q_heads_count`` says
      otherwise, e.g. gpt-oss: 64 x 64 = 4096 > 2880);
    - latent attention (MLA): decode runs on the compressed cache with the up-projections
      absorbed, so each head scores ``kv_lora + rope`` wide and reads ``kv_lora`` wide values:
      ``w = heads (2 kv_lora + rope) / 2`` (DeepSeek-V3: 128 x 1088 / 2 = 69,632, 9.7x the
      hidden width); prefill decompresses: ``w = heads (nope + rope + v) / 2`` (20,480).

    Parameters
    ----------
    llm : LLM
        Catalog model.

    Returns
    -------
    tuple of float
        (decode width, prefill width) [-].

    References
    ----------
    DeepSeek-AI, "DeepSeek-V2", arXiv 2405.04434, sec. 2.1 (MLA, absorbed projections).
    """
    if llm.mla is not None:
        m = llm.mla
        decode_w = m.q_heads_count * (2 * m.kv_lora_rank_count + m.rope_head_dim_count) / 2
        prefill_w = (
            m.q_heads_count * (m.nope_head_dim_count + m.rope_head_dim_count + m.v_head_dim_count)
        ) / 2
        return float(decode_w), float(prefill_w)
    if llm.q_heads_count > 0:
        width = float(llm.q_heads_count * llm.head_dim_count)
        return width, width
    return float(llm.hidden_count), float(llm.hidden_count)


def _same_process_power_scale(
    catalog: Catalog, entry: Efficiency, chip: Accelerator, flops_key: str
) -> float:
    """Scale of a same-process proxy's compute power share at one precision [-].

    A proxy copies ``c_cmp_frac``, the source chip's dynamic compute power at full activity
    over its ``TDP - idle``. On the same process the energy per operation is the same, so at
    full activity the target draws the source's compute power times the ratio of their peak
    rates at the pool's precision: ``c_t = c_s (TDP_s - idle_s) / (TDP_t - idle_t) *
    F_t / F_s``. A chip with 1.5x the FP4 rate then does not get 1.5x the compute-bound
    throughput for free: its clock falls under its power limit (DVFS law). 1 when the source
    lacks the precision.
    """
    source = catalog.efficiencies[entry.proxy_of]
    src_chip = catalog.accelerators[source.accelerator]
    if flops_key not in src_chip.dense_tflops:
        return 1.0
    flop_ratio = chip.dense_tflops[flops_key].value / src_chip.dense_tflops[flops_key].value
    src_span_w = src_chip.tdp_w.value - src_chip.idle_w.value
    return flop_ratio * src_span_w / (chip.tdp_w.value - chip.idle_w.value)


def pool_spec(
    catalog: Catalog,
    rack_system_id: str,
    model_id: str,
    precision: str,
    stack: str,
    input_tok: float,
    output_tok: float,
    tpot_slo_s: float | None,
    ttft_slo_s: float | None,
    replica_gpus: int | None = None,
    kv_precision: str | None = None,
    pool_name: str = "pool",
    *,
    max_batch_count: float | None = None,
    ttft_quantile_frac: float = 0.99,
    efficiency: Efficiency | Mapping[str, float] | None = None,
    gpu_power_limit_w: float | None = None,
    output_tok_cv_frac: float | None = None,
    input_tok_cv_frac: float | None = None,
) -> PoolSpec:
    """Resolve a pool from catalog ids into SI numbers.

    Rules:

    - Efficiency factors come from the entry ``"<accelerator>/<stack>"``; a stack without an
      entry is an error listing the accelerator's stacks (no silent fallback). The entry may
      be a declared proxy of another chip's fit (``PoolSpec.proxy``).
    - KV-cache precision defaults to the weight precision, but never below 8 bits: with FP4
      weights the stacks modelled keep an FP8 KV cache (``kv_cache_dtype: fp8`` in NVIDIA's
      MLPerf v5.1 configs), so ``fp4`` maps to ``fp8``. Attention runs at the KV
      precision's tensor rate (``attn_peak_flop_per_s``), the weight GEMMs at the weights'.
    - ``replica_gpus=None`` picks the smallest power of two ``N`` (within the scale-up domain)
      whose free HBM holds at least :data:`MIN_USEFUL_BATCH_COUNT` sequences of
      ``input_tok + output_tok`` tokens; if none does, the smallest ``N`` that holds one.
      A replica larger than a rack (a tray inside an NVL72 domain) counts as a fraction of a
      replica per rack; a smaller one packs ``floor(gpus_per_rack / N)`` replicas and idles
      the GPUs left over.

    Parameters
    ----------
    catalog : Catalog
        Loaded catalog (``dcsim.catalog.load.load_catalog``).
    rack_system_id : str
        Rack system id.
    model_id : str
        LLM id.
    precision : str
        Weight precision id (``bf16``, ``fp8``, ``fp4``).
    stack : str
        Software stack (efficiency entry ``<accelerator>/<stack>``).
    input_tok : float
        Mean prompt length [tok].
    output_tok : float
        Mean output length [tok].
    tpot_slo_s : float or None
        Time-per-output-token bound [s]; None for no bound.
    ttft_slo_s : float or None
        Time-to-first-token bound [s] at ``ttft_quantile_frac``; None for no bound.
    replica_gpus : int or None
        GPUs per replica; None applies the default rule above.
    kv_precision : str or None
        KV-cache precision id; None applies the default rule above.
    pool_name : str
        Name (or scenario location) used in error messages.
    max_batch_count : float or None
        Batch limit per replica (vLLM ``max_num_seqs``, TensorRT-LLM ``max_batch_size``),
        honoured by the SLO batch and the KV limit; None for none; must be >= 1.
    ttft_quantile_frac : float
        Quantile of the TTFT bound (MLPerf: p99) [-].
    efficiency : Efficiency or mapping, optional
        Factors to use instead of the catalog's (calibration); keys ``EFFICIENCY_FACTORS``
        (``t_seq_s`` may be omitted: 0, the schema default).
    gpu_power_limit_w : float or None
        Board power limit of each GPU [W]; None takes the rack system's
        ``gpu_power_limit_w``, else the accelerator's TDP. Must be above idle power and at
        most the chip's ``max_power_limit_w``. The clock follows it (DVFS law of
        :func:`dcsim.physics.compute.gpu_power_w`).
    output_tok_cv_frac, input_tok_cv_frac : float or None
        Coefficients of variation of output and prompt length [-]; None takes the sourced
        default of ``catalog/data/workload_defaults.yaml``.

    Returns
    -------
    PoolSpec
        The pool in SI.

    Raises
    ------
    ConfigError
        Unknown ids (with "did you mean"), a precision the accelerator cannot run, a replica
        that does not fit the scale-up domain, a model that does not fit its replica's HBM
        (needed vs available GB), or an SLO that even one sequence cannot meet.
    """
    where = f"pool {pool_name}"
    rack = resolve_id(catalog.rack_systems, rack_system_id, "rack system", f"{where}: system")
    accelerator_id = rack.accelerator
    chip = resolve_id(catalog.accelerators, accelerator_id, "accelerator", f"{where}: system")
    llm = resolve_id(catalog.models, model_id, "model", f"{where}: model")
    prec = resolve_id(catalog.precisions, precision, "precision", f"{where}: precision")
    if prec.flops_key not in chip.dense_tflops:
        raise ConfigError(
            f"'{precision}' is not supported by {accelerator_id} (has "
            f"{', '.join(sorted(chip.dense_tflops))}); expected one of those",
            where=f"{where}: precision",
        )
    if kv_precision is None:
        kv_precision = precision if prec.bytes_per_param.value >= 1.0 else "fp8"
    kv_prec = resolve_id(catalog.precisions, kv_precision, "precision", f"{where}: kv_precision")
    if kv_prec.flops_key not in chip.dense_tflops:
        raise ConfigError(
            f"'{kv_precision}' is not supported by {accelerator_id} (has "
            f"{', '.join(sorted(chip.dense_tflops))}); expected one of those for the KV cache "
            "and attention",
            where=f"{where}: kv_precision",
        )
    for name, value in (("input_tok", input_tok), ("output_tok", output_tok)):
        if not value > 0:
            raise ConfigError(f"{value!r} must be > 0", where=f"{where}: {name}")
    for name, value in (("tpot_slo_s", tpot_slo_s), ("ttft_slo_s", ttft_slo_s)):
        if value is not None and not value > 0:
            raise ConfigError(f"{value!r} must be > 0 or absent", where=f"{where}: {name}")
    if max_batch_count is not None and not max_batch_count >= 1:
        raise ConfigError(
            f"{max_batch_count!r} must be >= 1 (sequences per replica) or absent",
            where=f"{where}: max_batch_count",
        )
    if gpu_power_limit_w is None:
        limit_w = (
            chip.tdp_w.value if rack.gpu_power_limit_w is None else rack.gpu_power_limit_w.value
        )
    else:
        limit_w = float(gpu_power_limit_w)
        check_power_limit_w(chip, accelerator_id, limit_w, f"{where}: gpu_power_limit_w")
    efficiency_key, factors = _efficiency_values(catalog, accelerator_id, stack, efficiency, where)
    entry = catalog.efficiencies.get(efficiency_key)
    factors_source = "scenario" if entry is None else entry.factors_source
    proxy_of = None if entry is None else entry.proxy_of
    if entry is not None and entry.proxy_same_process and efficiency is None:
        factors["c_cmp_frac"] *= _same_process_power_scale(catalog, entry, chip, prec.flops_key)

    b_w = prec.bytes_per_param.value
    weight_b = llm.total_b_params.value * units.B_PARAMS * b_w
    if llm.moe is None:
        weight_shared_b, experts, active_experts = weight_b, 0.0, 0.0
        moe_layers, routed_active, imbalance = 0.0, 0.0, 1.0
    else:
        weight_shared_b = llm.moe.shared_b_params.value * units.B_PARAMS * b_w
        experts = float(llm.moe.experts_count)
        active_experts = float(llm.moe.active_experts_count)
        moe_layers = float(llm.moe.moe_layers_count or llm.layers_count)
        routed_active = (llm.active_b_params.value - llm.moe.shared_b_params.value) * units.B_PARAMS
        imbalance = llm.moe.expert_imbalance_frac.value
    attn_decode_w, attn_prefill_w = attention_widths(llm)
    kv_b_per_tok = kv_bytes_per_token_b(
        llm.layers_count, llm.kv_heads_count, llm.head_dim_count, llm.kv_latent_count,
        kv_prec.bytes_per_param.value,
    )  # fmt: skip
    hbm_usable_b = chip.hbm_usable_gb.value * units.GB_B
    reserve = rack.hbm_reserve_frac.value
    seq_tok = float(input_tok) + float(output_tok)
    domain = rack.scaleup_domain_gpus_count
    per_rack = rack.gpus_per_rack_count

    def fits(n: int) -> float:
        return kv_capacity_batch_count(hbm_usable_b, reserve, n, weight_b, kv_b_per_tok, seq_tok)

    if replica_gpus is None:
        candidates = [2**k for k in range(int(math.log2(domain)) + 1)]
        useful = [n for n in candidates if fits(n) >= MIN_USEFUL_BATCH_COUNT]
        fitting = [n for n in candidates if fits(n) >= 1]
        n_gpus = useful[0] if useful else (fitting[0] if fitting else candidates[-1])
        if not fitting and llm.moe is not None:
            available_gb = domain * hbm_usable_b * (1.0 - reserve) / units.GB_B
            needed_gb = (weight_b + seq_tok * kv_b_per_tok) / units.GB_B
            raise ConfigError(
                f"expert parallelism for '{model_id}' ({precision}) needs more GPUs than the "
                f"scale-up domain of {rack_system_id}: {needed_gb:.1f} GB (weights + one "
                f"sequence of KV) but {domain} x {accelerator_id} hold {available_gb:.1f} GB; "
                "expected a larger domain or a smaller precision",
                where=f"{where}: system",
            )
    else:
        n_gpus = int(replica_gpus)
        if n_gpus != replica_gpus or n_gpus < 1:
            raise ConfigError(
                f"{replica_gpus!r} must be a whole number >= 1", where=f"{where}: replica_gpus"
            )
        if n_gpus > domain:
            what = "an expert-parallel replica" if llm.moe is not None else "a replica"
            raise ConfigError(
                f"{n_gpus} exceeds the scale-up domain of {rack_system_id} ({domain} GPUs); "
                f"expected {what} inside one NVLink domain",
                where=f"{where}: replica_gpus",
            )
        if n_gpus > per_rack and n_gpus % per_rack:
            raise ConfigError(
                f"{n_gpus} GPUs span racks of {per_rack}; expected a multiple of {per_rack}",
                where=f"{where}: replica_gpus",
            )
    if fits(n_gpus) < 1:
        available_gb = n_gpus * hbm_usable_b * (1.0 - reserve) / units.GB_B
        needed_gb = (weight_b + seq_tok * kv_b_per_tok) / units.GB_B
        raise ConfigError(
            f"model '{model_id}' ({precision}) does not fit a replica of {n_gpus} x "
            f"{accelerator_id}: needs {needed_gb:.1f} GB (weights + one sequence of KV) but "
            f"{available_gb:.1f} GB are usable; expected more replica_gpus or a smaller "
            "precision",
            where=where,
        )
    replicas_per_rack = per_rack / n_gpus if n_gpus > per_rack else float(per_rack // n_gpus)

    spec = PoolSpec(
        pool_name=pool_name,
        rack_system_id=rack_system_id,
        accelerator_id=accelerator_id,
        model_id=model_id,
        precision=precision,
        kv_precision=kv_precision,
        stack=stack,
        efficiency_key=efficiency_key,
        hbm_bw_b_per_s=chip.hbm_bw_tb_per_s.value * units.TB_PER_S_B_PER_S,
        peak_flop_per_s=chip.dense_tflops[prec.flops_key].value * units.TFLOPS_FLOP_PER_S,
        attn_peak_flop_per_s=chip.dense_tflops[kv_prec.flops_key].value * units.TFLOPS_FLOP_PER_S,
        hbm_usable_b=hbm_usable_b,
        hbm_reserve_frac=reserve,
        weight_b=weight_b,
        weight_shared_b=weight_shared_b,
        experts_count=experts,
        active_experts_count=active_experts,
        active_params=llm.active_b_params.value * units.B_PARAMS,
        layers_count=float(llm.layers_count),
        hidden_count=float(llm.hidden_count),
        kv_b_per_tok=kv_b_per_tok,
        act_elem_b=ACTIVATION_ELEM_B,
        input_tok=float(input_tok),
        output_tok=float(output_tok),
        replica_gpus_count=n_gpus,
        replicas_per_rack_count=replicas_per_rack,
        gpus_per_rack_count=per_rack,
        scaleup_bw_b_per_s=chip.scaleup_bw_gb_per_s.value * units.GB_PER_S_B_PER_S,
        scaleup_latency_s=chip.scaleup_latency_s.value,
        idle_w=chip.idle_w.value,
        tdp_w=chip.tdp_w.value,
        host_idle_w=rack.host_idle_kw.value * units.KW_W,
        host_max_w=rack.host_max_kw.value * units.KW_W,
        psu_efficiency_frac=rack.psu_efficiency_frac.value,
        tpot_slo_s=None if tpot_slo_s is None else float(tpot_slo_s),
        ttft_slo_s=None if ttft_slo_s is None else float(ttft_slo_s),
        max_batch_count=None if max_batch_count is None else float(max_batch_count),
        ttft_quantile_frac=float(ttft_quantile_frac),
        power_limit_w=limit_w,
        min_power_limit_w=min_power_limit_w(chip),
        moe_layers_count=moe_layers,
        routed_active_params=routed_active,
        # One GPU holds every expert: no GPU waits for a busier one.
        expert_imbalance_frac=imbalance if n_gpus > 1 else 1.0,
        attn_decode_width_count=attn_decode_w,
        attn_prefill_width_count=attn_prefill_w,
        factors_source=factors_source,
        proxy_of=proxy_of,
        knee_clock_frac=chip.knee_clock_frac.value,
        v_min_frac=chip.v_min_frac.value,
        c_leak_frac=chip.c_leak_frac.value,
        output_tok_cv_frac=float(
            workload_default("output_tok_cv_frac")
            if output_tok_cv_frac is None
            else output_tok_cv_frac
        ),
        input_tok_cv_frac=float(
            workload_default("input_tok_cv_frac")
            if input_tok_cv_frac is None
            else input_tok_cv_frac
        ),
        **factors,
    )
    _check_slo_feasible(spec, where)
    return spec


def _check_slo_feasible(spec: PoolSpec, where: str) -> None:
    if spec.offline:
        return
    params = spec.to_params()
    if slo_batch_count(params) > 0.0:
        return
    itl_s = replica_state(params, 1.0, 1.0)[1]
    if spec.ttft_slo_s is not None and spec.tpot_slo_s is not None and itl_s <= spec.tpot_slo_s:
        raise ConfigError(
            f"ttft {spec.ttft_slo_s:g} s cannot be met: one request's prefill alone takes "
            f"{replica_prefill_time_s(params, 1.0):.3g} s on {spec.replica_gpus_count} x "
            f"{spec.accelerator_id}; expected a larger bound or more replica GPUs",
            where=f"{where}: ttft_slo_s",
        )
    if spec.tpot_slo_s is not None and itl_s > spec.tpot_slo_s:
        raise ConfigError(
            f"tpot {spec.tpot_slo_s:g} s cannot be met: the inter-token latency at batch 1 is "
            f"{itl_s:.3g} s on {spec.replica_gpus_count} x {spec.accelerator_id}; expected a "
            "larger bound or more replica GPUs",
            where=f"{where}: tpot_slo_s",
        )
    raise ConfigError(
        f"ttft {spec.ttft_slo_s:g} s cannot be met: one request's prefill alone takes "
        f"{replica_prefill_time_s(params, 1.0):.3g} s on {spec.replica_gpus_count} x "
        f"{spec.accelerator_id}; expected a larger bound or more replica GPUs",
        where=f"{where}: ttft_slo_s",
    )


def throughput_optimal_pool_spec(
    catalog: Catalog,
    rack_system_id: str,
    model_id: str,
    precision: str,
    stack: str,
    input_tok: float,
    output_tok: float,
    tpot_slo_s: float | None,
    ttft_slo_s: float | None,
    kv_precision: str | None = None,
    pool_name: str = "pool",
    *,
    max_batch_count: float | None = None,
    gpu_power_limit_w: float | None = None,
    output_tok_cv_frac: float | None = None,
    input_tok_cv_frac: float | None = None,
) -> PoolSpec:
    """Pool with the replica size that maximises rack throughput under the SLO.

    An operator sizing a fleet picks the tensor/expert-parallel degree that serves the most
    tokens per rack within the latency bounds: for a large MoE model a wider replica reads the
    (mostly shared) expert weights over more HBM and holds a much larger batch within TPOT,
    so the smallest replica that fits is often far from best. Candidates are the powers of
    two inside the scale-up domain that :func:`pool_spec` accepts; ties go to the smaller.

    Parameters
    ----------
    catalog, rack_system_id, model_id, precision, stack, input_tok, output_tok, tpot_slo_s,
    ttft_slo_s, kv_precision, pool_name, max_batch_count, gpu_power_limit_w,
    output_tok_cv_frac, input_tok_cv_frac
        As in :func:`pool_spec`.

    Returns
    -------
    PoolSpec
        The spec of the best candidate.

    Raises
    ------
    ConfigError
        When no candidate works: the error of :func:`pool_spec` with its default size.
    """
    rack = catalog.rack_systems[rack_system_id]
    per_rack = rack.gpus_per_rack_count
    domain = rack.scaleup_domain_gpus_count
    best: tuple[float, PoolSpec] | None = None
    for k in range(int(math.log2(domain)) + 1):
        n = 2**k
        if n > per_rack and n % per_rack:
            continue
        try:
            spec = pool_spec(
                catalog, rack_system_id, model_id, precision, stack, input_tok, output_tok,
                tpot_slo_s, ttft_slo_s, replica_gpus=n, kv_precision=kv_precision,
                pool_name=pool_name, max_batch_count=max_batch_count,
                gpu_power_limit_w=gpu_power_limit_w, output_tok_cv_frac=output_tok_cv_frac,
                input_tok_cv_frac=input_tok_cv_frac,
            )  # fmt: skip
        except ConfigError:
            continue
        x_rack_tok_per_s = pool_operating_point(spec.to_params())[5]
        if best is None or x_rack_tok_per_s > best[0] * (1.0 + 1e-9):
            best = (x_rack_tok_per_s, spec)
    if best is None:
        return pool_spec(
            catalog, rack_system_id, model_id, precision, stack, input_tok, output_tok,
            tpot_slo_s, ttft_slo_s, kv_precision=kv_precision, pool_name=pool_name,
            max_batch_count=max_batch_count, gpu_power_limit_w=gpu_power_limit_w,
            output_tok_cv_frac=output_tok_cv_frac, input_tok_cv_frac=input_tok_cv_frac,
        )  # fmt: skip
    return best[1]
