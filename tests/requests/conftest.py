"""Pool parameter vectors for the request-level tests.

``toy_params`` builds a replica whose iteration time is known by hand: one GPU (no
collectives), an HBM so fast that the memory term never binds, no attention FLOPs, so
``t_iter = t_fixed + (n_d + p) * 2 A / (F r)`` (decode and prompt tokens cost the same
compute) and ``kv_cap = hbm_usable / kv`` tokens.
"""

from __future__ import annotations

import numpy as np
import pytest

from dcsim.physics import compute as C


def _toy_params(t_fixed_s=0.1, tok_compute_s=0.001, kv_cap_tok=1000):
    p = np.zeros(C.PARAMS_COUNT)
    p[C.I_HBM_BW] = 1e30
    p[C.I_PEAK_FLOP] = 1.0
    p[C.I_ACTIVE_PARAMS] = 0.5 * tok_compute_s  # 2 A / F = tok_compute_s
    p[C.I_HBM_USABLE] = float(kv_cap_tok)
    p[C.I_KV] = 1.0
    p[C.I_LAYERS] = 1.0
    p[C.I_HIDDEN] = 1.0
    p[C.I_ACT_ELEM] = 2.0
    p[C.I_REPLICA_GPUS] = 1.0
    p[C.I_SCALEUP_BW] = 1e12
    p[C.I_ETA_BW] = p[C.I_ETA_F] = p[C.I_ETA_PF] = p[C.I_ETA_MOE] = 1.0
    p[C.I_IMBALANCE] = 1.0
    p[C.I_T_FIXED] = t_fixed_s
    p[C.I_OUTPUT_TOK] = 10.0
    p[C.I_INPUT_TOK] = 10.0
    return p


@pytest.fixture
def toy_params():
    """Factory ``toy_params(t_fixed_s, tok_compute_s, kv_cap_tok)`` -> parameter vector."""
    return _toy_params


@pytest.fixture(scope="session")
def chat_params():
    """gw-campus's chat pool: Llama-3.1-70B FP8 on GB200 NVL72 (trtllm), TP2."""
    from dcsim.catalog.load import load_catalog
    from dcsim.model.pool import throughput_optimal_pool_spec

    spec = throughput_optimal_pool_spec(
        load_catalog(), "gb200-nvl72", "llama-3.1-70b", "fp8", "trtllm", 2000.0, 400.0, 0.05, 2.0
    )
    return spec.to_params()
