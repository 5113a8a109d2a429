"""IT load outside the racks: scale-out fabric, storage and management (issue 11, item 7).

A non-blocking fat tree of radix ``k`` switches reaches ``2 (k/2)^T`` endpoints with ``T``
tiers, and uses ``2T - 1`` switch ports per endpoint (one leaf down-port; an up- and a
down-port in every tier above). Each switch port carries its share of a transceiver. Per
endpoint the fabric then draws

.. math:: P = (2T - 1) (P_{sw} / k + P_{tr} / n_{tr})

with ``P_sw`` a switch without optics and ``P_tr`` one transceiver serving ``n_tr`` ports.
Storage scales with GPUs, management with rack units; all three are mostly static, so an idle
rack keeps a large share of its load (``idle_frac``).

References
----------
Al-Fares, Loukissas, Vahdat, "A scalable, commodity data center network architecture",
SIGCOMM 2008 (fat-tree port and switch counts).
"""

from __future__ import annotations

import math

__all__ = ["fabric_tiers_count", "fabric_w_per_endpoint", "hall_outside_it_w"]


def fabric_tiers_count(endpoints_count: float, switch_ports_count: float) -> int:
    """Tiers of a non-blocking fat tree that reaches ``endpoints_count`` endpoints [count].

    Parameters
    ----------
    endpoints_count
        Endpoints (scale-out ports) to connect [count].
    switch_ports_count
        Ports per switch (radix) [count].

    Returns
    -------
    The smallest ``T >= 1`` with ``2 (k/2)^T >= endpoints`` (``T = 1``: one switch of ``k``).
    """
    if endpoints_count <= switch_ports_count:
        return 1
    half = switch_ports_count / 2.0
    return max(1, math.ceil(math.log(endpoints_count / 2.0) / math.log(half) - 1e-12))


def fabric_w_per_endpoint(
    tiers_count: int, switch_w: float, switch_ports_count: float, transceiver_w: float,
    ports_per_transceiver_count: float,
) -> float:  # fmt: skip
    """Fabric power per endpoint of a fat tree: switches and their optics [W].

    Parameters
    ----------
    tiers_count
        Tiers of the tree [count].
    switch_w
        One switch without transceivers [W].
    switch_ports_count
        Ports per switch [count].
    transceiver_w
        One transceiver [W].
    ports_per_transceiver_count
        Switch ports one transceiver serves [count].

    Returns
    -------
    ``(2T - 1) (switch_w / ports + transceiver_w / ports_per_transceiver)`` [W].
    """
    ports = 2 * tiers_count - 1
    return ports * (switch_w / switch_ports_count + transceiver_w / ports_per_transceiver_count)


def hall_outside_it_w(serving_racks, idle_racks, w_per_serving_rack, w_per_idle_rack):
    """IT power outside the racks of a hall for the racks in service [W].

    Parameters
    ----------
    serving_racks, idle_racks
        Racks serving and racks powered but idle [count] (arrays broadcast).
    w_per_serving_rack, w_per_idle_rack
        Fabric + storage + management per rack in each state [W].

    Returns
    -------
    ``serving * w_serving + idle * w_idle`` [W].
    """
    return serving_racks * w_per_serving_rack + idle_racks * w_per_idle_rack
