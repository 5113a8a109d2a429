"""proxy_tok_frac: the share of served tokens computed on declared-proxy efficiency factors.

small-hall with its chat racks swapped to GB300 NVL72 (gb300/trtllm is a declared proxy of
gb200/trtllm, ``dcsim catalog efficiencies``) and its batch racks left on GB200 (fitted):
the pool table marks the chat pool proxy, and the KPI equals chat's served tokens over all
served tokens (chat is served only by that pool). On the unmodified hall it is 0.
"""

import numpy as np

import dcsim

SCENARIO = "scenarios/small-hall.yaml"
GB300 = {"horizon_s": "6h", "sites.0.buildings.0.halls.0.rack_groups.0.system": "gb300-nvl72"}


def test_proxy_tok_frac_is_the_served_share_of_proxy_pools():
    res = dcsim.run(SCENARIO, overrides=GB300)
    pools = res.extra_tables["pools"].set_index("pool")
    assert pools.loc["chat@gb300-nvl72", "proxy"]
    assert pools.loc["chat@gb300-nvl72", "proxy_of"] == "gb200/trtllm"
    assert not pools.loc["batch@gb200-nvl72", "proxy"]
    assert pools.loc["batch@gb200-nvl72", "proxy_of"] == ""
    k = res.kpis
    share = k["chat.served_tok"] / k["served_tok"]
    assert 0.05 < share < 0.95
    np.testing.assert_allclose(k["proxy_tok_frac"], share, rtol=1e-9)


def test_no_proxy_pools_no_proxy_tokens():
    res = dcsim.run(SCENARIO, overrides={"horizon_s": "6h"})
    assert res.kpis["proxy_tok_frac"] == 0.0
    assert not res.extra_tables["pools"]["proxy"].any()
