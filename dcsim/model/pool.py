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
from dcsim.catalog.load import resolve_id
from dcsim.catalog.schema import Catalog, Efficiency, Sourced
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
    "default_efficiency_key",
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
    host_idle_w: float
    host_max_w: float
    psu_efficiency_frac: float
    tpot_slo_s: float | None
    ttft_slo_s: float | None
    max_batch_count: float | None = None
    ttft_quantile_frac: float = 0.99
    # Length spread of the workload, for the M/G/c request queue (dcsim.physics.queueing).
    output_tok_cv_frac: float = field(
        default_factory=lambda: workload_default("output_tok_cv_frac")
    )
    input_tok_cv_frac: float = field(default_factory=lambda: workload_default("input_tok_cv_frac"))

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


def default_efficiency_key(catalog: Catalog, accelerator_id: str) -> str | None:
    """Key of an accelerator's default efficiency entry, or None if it has none.

    The default stack of an accelerator is its first entry in ``efficiencies.yaml`` (the file
    lists the most representative stack first for each accelerator).

    Parameters
    ----------
    catalog : Catalog
        Loaded catalog.
    accelerator_id : str
        Accelerator id.

    Returns
    -------
    str or None
        ``"<accelerator>/<stack>"``.
    """
    for key, eff in catalog.efficiencies.items():
        if eff.accelerator == accelerator_id:
            return key
    return None


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
        fallback = default_efficiency_key(catalog, accelerator_id)
        if fallback is None:
            known = ", ".join(sorted(catalog.efficiencies)) or "none"
            raise ConfigError(
                f"no efficiency factors for accelerator '{accelerator_id}' (stack '{stack}'); "
                f"expected an efficiencies entry '{key}' (known: {known})",
                where=f"{where}: stack",
            )
        key = fallback
    eff = catalog.efficiencies[key]
    return key, {f: getattr(eff, f).value for f in EFFICIENCY_FACTORS}


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
    output_tok_cv_frac: float | None = None,
    input_tok_cv_frac: float | None = None,
) -> PoolSpec:
    """Resolve a pool from catalog ids into SI numbers.

    Rules:

    - Efficiency factors come from the entry ``"<accelerator>/<stack>"``; if the catalog has
      none for that stack, the accelerator's default entry (its first in
      ``efficiencies.yaml``) is used instead and ``PoolSpec.efficiency_key`` names it.
    - KV-cache precision defaults to the weight precision, but never below 8 bits: with FP4
      weights the stacks modelled keep an FP8 KV cache (``kv_cache_dtype: fp8`` in NVIDIA's
      MLPerf v5.1 configs), so ``fp4`` maps to ``fp8``.
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
        The stack's batch limit per replica (e.g. TensorRT-LLM ``max_batch_size``); None for
        none.
    ttft_quantile_frac : float
        Quantile of the TTFT bound (MLPerf: p99) [-].
    efficiency : Efficiency or mapping, optional
        Factors to use instead of the catalog's (calibration); keys ``EFFICIENCY_FACTORS``
        (``t_seq_s`` may be omitted: 0, the schema default).
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
    for name, value in (("input_tok", input_tok), ("output_tok", output_tok)):
        if not value > 0:
            raise ConfigError(f"{value!r} must be > 0", where=f"{where}: {name}")
    for name, value in (("tpot_slo_s", tpot_slo_s), ("ttft_slo_s", ttft_slo_s)):
        if value is not None and not value > 0:
            raise ConfigError(f"{value!r} must be > 0 or absent", where=f"{where}: {name}")
    efficiency_key, factors = _efficiency_values(catalog, accelerator_id, stack, efficiency, where)

    b_w = prec.bytes_per_param.value
    weight_b = llm.total_b_params.value * units.B_PARAMS * b_w
    if llm.moe is None:
        weight_shared_b, experts, active_experts = weight_b, 0.0, 0.0
    else:
        weight_shared_b = llm.moe.shared_b_params.value * units.B_PARAMS * b_w
        experts = float(llm.moe.experts_count)
        active_experts = float(llm.moe.active_experts_count)
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
    else:
        n_gpus = int(replica_gpus)
        if n_gpus != replica_gpus or n_gpus < 1:
            raise ConfigError(
                f"{replica_gpus!r} must be a whole number >= 1", where=f"{where}: replica_gpus"
            )
        if n_gpus > domain:
            raise ConfigError(
                f"{n_gpus} exceeds the scale-up domain of {rack_system_id} ({domain} GPUs); "
                "expected a replica inside one NVLink domain",
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
    ttft_slo_s, kv_precision, pool_name, output_tok_cv_frac, input_tok_cv_frac
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
                pool_name=pool_name, output_tok_cv_frac=output_tok_cv_frac,
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
            output_tok_cv_frac=output_tok_cv_frac, input_tok_cv_frac=input_tok_cv_frac,
        )  # fmt: skip
    return best[1]
