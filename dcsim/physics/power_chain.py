"""Electrical power chain: rack IT power to the site meter (MODEL.md section 3).

The chain, from the racks up::

    rack IT power --PDU/busway--> UPS output --UPS--> UPS input --+--> transformer --> site meter
                                                     mechanical --+

* PDU/busway: a constant efficiency, loss = load x (1/eta - 1).
* UPS (double conversion): each active module loses
  ``P_rated x (a0 + a1 x + a2 x^2)`` with ``x`` its own load over its rating (no-load,
  proportional and square-law losses, as in Schneider Electric White Paper 108). The load is
  shared evenly by the modules that carry it, so redundancy (2N, N+1) lowers ``x`` and the
  fixed ``a0`` term makes the UPS less efficient at part load.
* Transformer: no-load (core) loss plus load (copper) loss growing with the load squared.
* Mechanical (cooling) loads bypass the UPS but pass the transformer.

All functions are pure arithmetic on scalars or NumPy arrays (broadcasting), and every one of
them is also valid numba nopython code: ``numba.njit(fn)`` compiles it, and a jitted kernel
may call it directly (``register_jitable``). The coefficients come from the catalog
(``dcsim/catalog/data/power_equipment.yaml``), never from this module.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

__all__ = [
    "TOPOLOGY_2N",
    "TOPOLOGY_CODES",
    "TOPOLOGY_N",
    "TOPOLOGY_N_PLUS_1",
    "feed_power_w",
    "it_limit_for_feed_w",
    "it_limit_for_site_w",
    "pdu_loss_w",
    "transformer_loss_w",
    "ups_efficiency_frac",
    "ups_loss_w",
    "ups_modules_sharing",
]

#: UPS topology codes (integers so that numba kernels can branch on them).
TOPOLOGY_N = 0
TOPOLOGY_N_PLUS_1 = 1
TOPOLOGY_2N = 2

#: Scenario spelling of a topology -> code.
TOPOLOGY_CODES: dict[str, int] = {"N": TOPOLOGY_N, "N+1": TOPOLOGY_N_PLUS_1, "2N": TOPOLOGY_2N}


@register_jitable
def pdu_loss_w(load_w, efficiency_frac):
    """Loss in PDUs and busway for the power they deliver to the racks [W].

    Parameters
    ----------
    load_w
        Power delivered to the racks (rack IT power) [W].
    efficiency_frac
        Delivered over drawn power of the PDU/busway stage [0..1].

    Returns
    -------
    Loss [W]; the stage draws ``load_w + loss``.
    """
    return load_w * (1.0 / efficiency_frac - 1.0)


@register_jitable
def ups_modules_sharing(topology_code, modules_n):
    """Count the UPS modules that share the load in normal operation.

    Parameters
    ----------
    topology_code
        ``TOPOLOGY_N``, ``TOPOLOGY_N_PLUS_1`` or ``TOPOLOGY_2N`` (see ``TOPOLOGY_CODES``).
    modules_n
        Modules needed to carry the design load (the "N") [count].

    Returns
    -------
    Modules carrying the load [count]: N for N; N + 1 for N+1 (all modules online share it);
    2N for 2N (two sides of N modules, each side carrying half the load).

    Raises
    ------
    ValueError
        On an unknown topology code.
    """
    if topology_code == TOPOLOGY_N:
        return modules_n
    if topology_code == TOPOLOGY_N_PLUS_1:
        return modules_n + 1
    if topology_code == TOPOLOGY_2N:
        return 2 * modules_n
    raise ValueError("ups_modules_sharing: unknown topology code")


@register_jitable
def ups_loss_w(load_w, module_rated_w, modules_active, a0_frac, a1_frac, a2_frac):
    """Loss of a group of UPS modules sharing a load evenly [W].

    Each module at load fraction ``x = load_w / (modules_active * module_rated_w)`` loses
    ``module_rated_w * (a0 + a1 x + a2 x^2)``.

    Parameters
    ----------
    load_w
        Power the UPS group delivers (UPS output) [W].
    module_rated_w
        Rated output power of one module [W].
    modules_active
        Modules sharing the load, e.g. from :func:`ups_modules_sharing` [count, > 0].
    a0_frac
        No-load loss of a module over its rating [-].
    a1_frac
        Proportional loss coefficient [-].
    a2_frac
        Square-law loss coefficient [-].

    Returns
    -------
    Loss of the whole group [W]; the group draws ``load_w + loss``.
    """
    group_rated_w = modules_active * module_rated_w
    module_load_frac = load_w / group_rated_w
    return group_rated_w * (a0_frac + (a1_frac + a2_frac * module_load_frac) * module_load_frac)


@register_jitable
def ups_efficiency_frac(module_load_frac, a0_frac, a1_frac, a2_frac):
    """Efficiency of a UPS module at a given load fraction [0..1].

    Parameters
    ----------
    module_load_frac
        Module output over its rating [-, > 0].
    a0_frac, a1_frac, a2_frac
        Loss coefficients as in :func:`ups_loss_w` [-].

    Returns
    -------
    Output over input power [0..1].
    """
    loss_frac = a0_frac + (a1_frac + a2_frac * module_load_frac) * module_load_frac
    return module_load_frac / (module_load_frac + loss_frac)


@register_jitable
def transformer_loss_w(load_w, rated_w, no_load_frac, load_loss_frac):
    """Loss of a transformer (or of a bank sharing the load evenly) [W].

    Parameters
    ----------
    load_w
        Power delivered on the secondary (low-voltage) side [W].
    rated_w
        Rated power; for a bank of identical units sharing the load, the sum of the units in
        service (the loss law is the same) [W].
    no_load_frac
        Core loss over rated power, drawn at any load [-].
    load_loss_frac
        Copper loss at rated load over rated power; scales with (load/rated)^2 [-].

    Returns
    -------
    Loss [W]; the transformer draws ``load_w + loss``.
    """
    load_frac = load_w / rated_w
    return rated_w * (no_load_frac + load_loss_frac * load_frac * load_frac)


@register_jitable
def feed_power_w(
    it_w,
    mech_w,
    pdu_efficiency_frac,
    ups_module_rated_w,
    ups_modules_active,
    ups_a0_frac,
    ups_a1_frac,
    ups_a2_frac,
    xfmr_rated_w,
    xfmr_no_load_frac,
    xfmr_load_loss_frac,
):
    """Power at the site meter for an IT and a mechanical load, with the loss breakdown.

    Parameters
    ----------
    it_w
        Rack IT power (at the rack inlet) [W].
    mech_w
        Mechanical (cooling) power; bypasses PDU and UPS, passes the transformer [W].
    pdu_efficiency_frac
        PDU/busway efficiency [0..1].
    ups_module_rated_w
        Rated output of one UPS module [W].
    ups_modules_active
        UPS modules sharing the load [count].
    ups_a0_frac, ups_a1_frac, ups_a2_frac
        UPS loss coefficients (see :func:`ups_loss_w`) [-].
    xfmr_rated_w
        Rated power of the transformers in service [W].
    xfmr_no_load_frac, xfmr_load_loss_frac
        Transformer loss coefficients (see :func:`transformer_loss_w`) [-].

    Returns
    -------
    site_w
        Power at the site meter [W]; equals
        ``it_w + mech_w + pdu_loss + ups_loss + xfmr_loss`` exactly (up to rounding).
    pdu_loss_w
        PDU/busway loss [W].
    ups_loss_w
        UPS loss [W].
    xfmr_loss_w
        Transformer loss [W].
    """
    pdu_loss = pdu_loss_w(it_w, pdu_efficiency_frac)
    ups_out_w = it_w + pdu_loss
    ups_loss = ups_loss_w(
        ups_out_w, ups_module_rated_w, ups_modules_active, ups_a0_frac, ups_a1_frac, ups_a2_frac
    )
    xfmr_out_w = ups_out_w + ups_loss + mech_w
    xfmr_loss = transformer_loss_w(xfmr_out_w, xfmr_rated_w, xfmr_no_load_frac, xfmr_load_loss_frac)
    return xfmr_out_w + xfmr_loss, pdu_loss, ups_loss, xfmr_loss


@register_jitable
def _quadratic_load_for_input_w(input_w, fixed_w, linear_frac, square_per_w):
    # Largest load L >= 0 with fixed + (1 + linear) L + square L^2 <= input. The root is written
    # as 2h / (b + sqrt(b^2 + 4 q h)) so it stays exact as square_per_w -> 0 (no cancellation)
    # and returns 0 when the fixed loss alone exceeds the input.
    headroom_w = np.maximum(input_w - fixed_w, 0.0)
    b = 1.0 + linear_frac
    return 2.0 * headroom_w / (b + np.sqrt(b * b + 4.0 * square_per_w * headroom_w))


@register_jitable
def it_limit_for_feed_w(
    feed_limit_w,
    pdu_efficiency_frac,
    ups_module_rated_w,
    ups_modules_active,
    ups_a0_frac,
    ups_a1_frac,
    ups_a2_frac,
):
    """Largest rack IT power whose draw at the UPS input stays within a hall feed limit [W].

    The UPS input is ``L + n R (a0 + a1 x + a2 x^2)`` with ``L = it / eta_pdu`` and
    ``x = L / (n R)``, i.e. ``n R a0 + (1 + a1) L + (a2 / (n R)) L^2``: a quadratic in ``L``,
    solved in closed form. Inverts the UPS-input part of :func:`feed_power_w` exactly.

    Parameters
    ----------
    feed_limit_w
        Limit on the power drawn by the hall's UPS group (UPS input) [W].
    pdu_efficiency_frac
        PDU/busway efficiency [0..1].
    ups_module_rated_w
        Rated output of one UPS module [W].
    ups_modules_active
        UPS modules sharing the load [count].
    ups_a0_frac, ups_a1_frac, ups_a2_frac
        UPS loss coefficients (see :func:`ups_loss_w`) [-].

    Returns
    -------
    IT power budget [W]; 0 when the UPS no-load loss alone exceeds the limit.
    """
    group_rated_w = ups_modules_active * ups_module_rated_w
    ups_out_w = _quadratic_load_for_input_w(
        feed_limit_w, group_rated_w * ups_a0_frac, ups_a1_frac, ups_a2_frac / group_rated_w
    )
    return ups_out_w * pdu_efficiency_frac


@register_jitable
def it_limit_for_site_w(
    site_limit_w,
    mech_w,
    pdu_efficiency_frac,
    ups_module_rated_w,
    ups_modules_active,
    ups_a0_frac,
    ups_a1_frac,
    ups_a2_frac,
    xfmr_rated_w,
    xfmr_no_load_frac,
    xfmr_load_loss_frac,
):
    """Largest rack IT power whose site-meter power stays within a limit, given mechanical load.

    Inverts :func:`feed_power_w` exactly: first the transformer (a quadratic in its load), then
    the UPS (see :func:`it_limit_for_feed_w`).

    Parameters
    ----------
    site_limit_w
        Limit at the site meter (e.g. a contract or a curtailment) [W].
    mech_w
        Mechanical power behind the same transformers [W].
    pdu_efficiency_frac, ups_module_rated_w, ups_modules_active, ups_a0_frac, ups_a1_frac,
    ups_a2_frac, xfmr_rated_w, xfmr_no_load_frac, xfmr_load_loss_frac
        As in :func:`feed_power_w`.

    Returns
    -------
    IT power budget [W]; 0 when fixed losses and mechanical load alone exceed the limit.
    """
    xfmr_out_w = _quadratic_load_for_input_w(
        site_limit_w, xfmr_rated_w * xfmr_no_load_frac, 0.0, xfmr_load_loss_frac / xfmr_rated_w
    )
    ups_in_w = np.maximum(xfmr_out_w - mech_w, 0.0)
    return it_limit_for_feed_w(
        ups_in_w,
        pdu_efficiency_frac,
        ups_module_rated_w,
        ups_modules_active,
        ups_a0_frac,
        ups_a1_frac,
        ups_a2_frac,
    )
