"""Typed entries of the equipment catalog: accelerators, rack systems, LLMs, efficiencies.

Every number in a shipped catalog file carries its source and a confidence grade
(``P`` primary source read, ``S`` secondary, ``U`` weakly sourced, ``fit`` fitted by dcsim on
published points, ``scenario`` given by a scenario file). A scenario may add or override
entries with bare numbers; those are graded ``scenario``.

YAML units are practical (GB, TB/s, TFLOPS, kW, billions of parameters); the plant builder
converts them to SI once with :mod:`dcsim.units`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

Confidence = Literal["P", "S", "U", "fit", "scenario"]
Precision = Literal["bf16", "fp8", "fp4"]


class Sourced(BaseModel):
    """A number with its provenance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float = Field(description="The number, in the unit named by the field that holds it.")
    source: str = Field(min_length=1, description="Where the number comes from.")
    confidence: Confidence = Field(description="P, S, U, fit or scenario (see module docs).")


def _bare_number_is_scenario(v: Any) -> Any:
    # Scenario files add catalog entries with plain numbers; keep them honest by grading them.
    if isinstance(v, int | float) and not isinstance(v, bool):
        return {"value": float(v), "source": "scenario file", "confidence": "scenario"}
    return v


SNum = Annotated[Sourced, BeforeValidator(_bare_number_is_scenario)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Human-readable name.")
    notes: str = Field(default="", description="Free text: caveats, what a figure means.")


class Accelerator(_Entry):
    """One accelerator (GPU or TPU-like chip) as seen by the compute core."""

    vendor: str = Field(description="Maker.")
    tdp_w: SNum = Field(description="Board power limit (TDP) [W].")
    idle_w: SNum = Field(description="Power at idle clocks with weights resident [W].")
    hbm_usable_gb: SNum = Field(description="Usable HBM capacity per chip [GB = 1e9 B].")
    hbm_bw_tb_per_s: SNum = Field(description="Peak HBM bandwidth per chip [TB/s = 1e12 B/s].")
    dense_tflops: dict[Precision, SNum] = Field(
        description="Dense (non-sparse) peak throughput by precision [1e12 FLOP/s]."
    )
    scaleup_bw_gb_per_s: SNum = Field(
        description="Scale-up link bandwidth per chip, one direction [GB/s]."
    )
    scaleup_latency_s: SNum = Field(description="Latency of one small collective step [s].")
    max_power_limit_w: SNum | None = Field(
        default=None,
        description=(
            "Highest board power limit an operator may set [W] (nvidia-smi 'Max Power Limit'); "
            "default: tdp_w."
        ),
    )
    min_power_limit_w: SNum | None = Field(
        default=None,
        description=(
            "Lowest board power limit an operator may set [W] (nvidia-smi 'Min Power Limit', "
            "Redfish 'AllowableMin'); below it a power cap parks a share of the racks. "
            "Default: idle_w (no published minimum)."
        ),
    )
    knee_clock_frac: SNum = Field(
        default=Sourced(
            value=0.6,
            source=(
                "default DVFS law: GPU power is linear in the clock below a transition "
                "frequency and super-linear above it (Modeling and Chasing the "
                "Energy-Efficiency Sweet Spots in Modern GPUs, arXiv 2607.00819, A100/H100/"
                "H200); 0.6 of the boost clock is the value of {0.3, 0.4, ..., 0.7} that "
                "reproduces NVIDIA's MLPerf Inference v4.1 MaxQ Llama-2-70B settings (H200 at "
                "500 W, H100 at 450 W; calibration_points.yaml power_limit_points) within 3%"
            ),
            confidence="U",
        ),
        description="Clock ratio below which the core voltage stays at its floor [0..1).",
    )
    v_min_frac: SNum = Field(
        default=Sourced(
            value=0.73,
            source=(
                "default DVFS law: GPU core voltage ranges from ~0.8 V in low P-states to "
                "~1.1 V in P0 (eeumee.net DVFS overview); 0.8 / 1.1 = 0.73"
            ),
            confidence="U",
        ),
        description="Floor core voltage / core voltage at the maximum clock (0..1].",
    )
    c_leak_frac: SNum = Field(
        default=Sourced(
            value=0.0,
            source=(
                "default: no leakage rise above idle. The published points cannot separate it "
                "from the compute power share (the fits fold it into c_cmp_frac), and decode "
                "on an H200 at full clock draws only 137-300 W of 700 W (Ma et al., arXiv "
                "2605.11999), so a voltage-driven static term is not supported by data; the "
                "term is kept for chips that measure it"
            ),
            confidence="U",
        ),
        description="Leakage power at full voltage above idle / (TDP - idle) [0..1].",
    )


class RackSystem(_Entry):
    """A rack or node system: accelerators plus hosts, switches, fans and power shelves."""

    accelerator: str = Field(description="Accelerator id in the catalog.")
    gpus_per_rack_count: int = Field(gt=0, description="Accelerators per rack (or per node).")
    scaleup_domain_gpus_count: int = Field(
        gt=0, description="Accelerators reachable over the scale-up fabric (NVLink domain)."
    )
    host_idle_kw: SNum = Field(description="CPUs, switches, NICs, fans at idle, per rack [kW].")
    host_max_kw: SNum = Field(description="The same at full activity, per rack [kW].")
    psu_efficiency_frac: SNum = Field(description="Rack power-shelf (AC->DC) efficiency [0..1].")
    design_power_kw: SNum = Field(description="Design (nameplate) rack power at the wall [kW].")
    liquid_heat_frac: SNum = Field(description="Share of rack heat removed by liquid [0..1].")
    max_supply_temp_degc: SNum = Field(
        description=(
            "Highest coolant supply temperature at the rack inlet for full performance [degC]: "
            "technology-loop (TCS) water for liquid-cooled systems (liquid_heat_frac > 0), "
            "inlet air for air-cooled ones."
        )
    )
    hbm_reserve_frac: SNum = Field(
        description="Share of HBM kept for activations, workspace and fragmentation [0..1]."
    )
    gpu_power_limit_w: SNum | None = Field(
        default=None,
        description=(
            "Board power limit the system sets on each accelerator [W] (e.g. MaxQ settings); "
            "default: the accelerator's tdp_w. A scenario's rack group may override it."
        ),
    )


class MoE(BaseModel):
    """Mixture-of-experts structure of an LLM."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    experts_count: int = Field(gt=0, description="Routed experts per MoE layer.")
    active_experts_count: int = Field(gt=0, description="Routed experts each token uses (k).")
    shared_b_params: SNum = Field(
        description="Parameters every token reads (attention, dense layers, shared experts) [1e9]."
    )
    shared_experts_count: int = Field(
        default=0,
        ge=0,
        description="Shared (always-active) experts per MoE layer (in shared_b_params).",
    )
    moe_layers_count: int | None = Field(
        default=None,
        gt=0,
        description="Layers whose MLP is routed experts; default: all layers.",
    )
    expert_imbalance_frac: SNum = Field(
        default=Sourced(
            value=1.3,
            source=(
                "default: tokens at the busiest expert-parallel GPU over the mean; routing "
                "skew of real workloads is 1.2-1.8 before expert replication (EPLB), which "
                "lowers it towards 1 (impala-blog EPLB explainer; DeepSeek-V3 report sec. "
                "3.4 redundant experts); 1.3 taken for a deployment with redundant experts"
            ),
            confidence="U",
        ),
        description="Expert load imbalance: busiest GPU's routed tokens over the mean (>= 1).",
    )


class LatentAttention(BaseModel):
    """Multi-head latent attention (MLA) shape (DeepSeek-V2/V3)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    q_heads_count: int = Field(gt=0, description="Query heads.")
    kv_lora_rank_count: int = Field(gt=0, description="Compressed KV latent width (kv_lora_rank).")
    rope_head_dim_count: int = Field(gt=0, description="Decoupled RoPE key width per head.")
    nope_head_dim_count: int = Field(gt=0, description="Non-RoPE query/key width per head.")
    v_head_dim_count: int = Field(gt=0, description="Value width per head.")


class LLM(_Entry):
    """A large language model as seen by the roofline: sizes and attention shape."""

    total_b_params: SNum = Field(description="Total parameters [1e9].")
    active_b_params: SNum = Field(description="Parameters used per token [1e9].")
    layers_count: int = Field(gt=0, description="Transformer layers.")
    hidden_count: int = Field(gt=0, description="Hidden (model) dimension.")
    kv_heads_count: int = Field(ge=0, description="KV heads (GQA); 0 for latent attention.")
    head_dim_count: int = Field(ge=0, description="Head dimension of the KV heads.")
    kv_latent_count: int = Field(
        default=0, ge=0, description="Cached latent width per layer (MLA); 0 for GQA models."
    )
    moe: MoE | None = Field(default=None, description="Expert structure; absent for dense models.")
    q_heads_count: int = Field(
        default=0,
        ge=0,
        description="Query heads of GQA attention; 0: query width = hidden_count.",
    )
    mla: LatentAttention | None = Field(
        default=None, description="Latent-attention shape; required with kv_latent_count > 0."
    )


class PrecisionSpec(_Entry):
    """A number format: storage bytes and which FLOPS column of an accelerator it runs on."""

    bytes_per_param: SNum = Field(description="Storage per weight incl. block scales [B].")
    flops_key: Precision = Field(description="Key into Accelerator.dense_tflops.")


class Efficiency(_Entry):
    """Fitted efficiency factors of one accelerator on one software stack.

    They turn roofline peaks into achieved rates (eta_*), add host time to each decode step
    (t_fixed_s per step, t_seq_s per sequence in the step) and split dynamic power between
    compute and memory activity (c_*). Fitted by ``dcsim.calibration`` on the points
    of ``shared/reference/calibration.md``; ``fit_error`` records the result.
    """

    accelerator: str = Field(description="Accelerator id.")
    stack: str = Field(description="Software stack the factors belong to.")
    eta_bw_frac: SNum = Field(description="Achieved share of peak HBM bandwidth in decode.")
    eta_f_frac: SNum = Field(description="Achieved share of peak FLOP/s in decode GEMMs.")
    eta_pf_frac: SNum = Field(description="Achieved share of peak FLOP/s in prefill.")
    t_fixed_s: SNum = Field(description="Fixed per-step overhead (launch, sampling) [s].")
    t_seq_s: SNum = Field(
        default=Sourced(value=0.0, source="default: no per-sequence overhead", confidence="U"),
        description="Host overhead per sequence per decode step (scheduler, sampler) [s].",
    )
    c_cmp_frac: SNum = Field(description="Dynamic compute power at full clock / (TDP - idle).")
    c_mem_frac: SNum = Field(description="Dynamic memory power / (TDP - idle).")
    eta_moe_frac: SNum = Field(
        default=Sourced(value=1.0, source="default: expert GEMMs as fast as dense", confidence="U"),
        description=(
            "Routed-expert (grouped GEMM) rate over the dense GEMM rate; one value shared by "
            "all stacks, fitted on the MoE calibration points."
        ),
    )
    release: str = Field(
        default="",
        description=(
            "Version of the stack the factors describe: release or benchmark round of its "
            "points (e.g. 'MLPerf Inference v5.1')."
        ),
    )
    factors_source: Literal["fit", "proxy", "scenario"] = Field(
        default="fit",
        description=(
            "'fit': fitted on this accelerator and stack's own points (or a fit group sharing "
            "its silicon); 'proxy': declared copy of another entry (proxy_of); 'scenario': "
            "given by a scenario."
        ),
    )
    proxy_of: str | None = Field(
        default=None, description="For a proxy: the '<accelerator>/<stack>' entry copied."
    )
    proxy_confidence: Confidence | None = Field(
        default=None,
        description="For a proxy: confidence grade of the copy itself (how alike the chips are).",
    )
    proxy_same_process: bool = Field(
        default=False,
        description=(
            "For a proxy: the chip is made on the source chip's process (same die or node), "
            "so it spends the same energy per operation; pools then scale the compute power "
            "share by the ratio of peak FLOP/s at their precision (see dcsim.model.pool)."
        ),
    )
    fit_error: dict[str, float] = Field(
        default_factory=dict, description="Relative error at each calibration point."
    )


class Catalog(BaseModel):
    """All catalog tables, keyed by entry id."""

    model_config = ConfigDict(extra="forbid")

    accelerators: dict[str, Accelerator] = Field(default_factory=dict)
    rack_systems: dict[str, RackSystem] = Field(default_factory=dict)
    models: dict[str, LLM] = Field(default_factory=dict)
    precisions: dict[str, PrecisionSpec] = Field(default_factory=dict)
    efficiencies: dict[str, Efficiency] = Field(
        default_factory=dict, description="Keyed '<accelerator>/<stack>'."
    )
    cooling_equipment: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Cooling equipment merged with a scenario's additions (empty: the shipped table; "
            "see dcsim.catalog.cooling_equipment)."
        ),
    )
