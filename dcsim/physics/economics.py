"""Capital and running costs, and cost per token (MODEL.md section 7).

Capex is written off by straight-line depreciation: an asset that cost ``C`` with a useful
life ``L`` costs ``C / L`` per unit of time while it is held, whether it serves or not (a
stranded rack depreciates too). Maintenance is a yearly share of capex. Cost per million
tokens divides a cost by the tokens served in the same window.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from dcsim import units

__all__ = [
    "annualised_capex_usd_per_y",
    "cost_per_mtok_usd",
    "depreciation_usd",
    "energy_cost_usd",
    "maintenance_usd",
    "token_revenue_usd",
]


def annualised_capex_usd_per_y(capex_usd: ArrayLike, life_s: ArrayLike) -> np.ndarray:
    """Straight-line depreciation per year.

    Parameters
    ----------
    capex_usd
        Purchase or build cost [USD].
    life_s
        Useful life [s].

    Returns
    -------
    Cost per year of 365 days [USD/y].
    """
    return np.asarray(capex_usd, float) * units.Y_S / np.asarray(life_s, float)


def depreciation_usd(capex_held_usd_s: ArrayLike, life_s: ArrayLike) -> np.ndarray:
    """Straight-line depreciation of assets held for a while.

    Parameters
    ----------
    capex_held_usd_s
        Integral over the window of the capex of the assets held, e.g. 3 MUSD held for
        30 days = 3e6 x 2.592e6 [USD s].
    life_s
        Useful life [s] (the window is assumed shorter than the life: no asset is fully
        written off inside it).

    Returns
    -------
    Depreciation charged to the window [USD].
    """
    return np.asarray(capex_held_usd_s, float) / np.asarray(life_s, float)


def maintenance_usd(capex_held_usd_s: ArrayLike, maintenance_per_y_frac: float) -> np.ndarray:
    """Maintenance and support cost as a yearly share of the capex held.

    Parameters
    ----------
    capex_held_usd_s
        Integral over the window of the capex of the assets held [USD s].
    maintenance_per_y_frac
        Yearly cost as a share of capex [1/y].

    Returns
    -------
    Maintenance cost of the window [USD].
    """
    return np.asarray(capex_held_usd_s, float) * maintenance_per_y_frac / units.Y_S


def energy_cost_usd(energy_j: ArrayLike, price_usd_per_mwh: ArrayLike) -> np.ndarray:
    """Cost of energy at a flat price.

    Parameters
    ----------
    energy_j
        Energy bought [J].
    price_usd_per_mwh
        Price [USD/MWh].

    Returns
    -------
    Cost [USD].
    """
    return np.asarray(energy_j, float) / units.MWH_J * np.asarray(price_usd_per_mwh, float)


def cost_per_mtok_usd(cost_usd: ArrayLike, tokens_tok: ArrayLike) -> np.ndarray:
    """Cost per million tokens.

    Parameters
    ----------
    cost_usd
        Cost of a window [USD].
    tokens_tok
        Tokens served in the same window [tok].

    Returns
    -------
    [USD per 1e6 tok]; NaN when no token was served.
    """
    tok = np.asarray(tokens_tok, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(tok > 0, np.asarray(cost_usd, float) / (tok / units.MTOK_TOK), np.nan)


def token_revenue_usd(
    output_tok: ArrayLike,
    input_per_output_frac: ArrayLike,
    input_usd_per_tok: ArrayLike,
    output_usd_per_tok: ArrayLike,
) -> np.ndarray:
    """Revenue of served requests billed per input and per output token.

    A served request of mean prompt ``L_in`` and mean output ``L_out`` bills ``L_in`` input
    and ``L_out`` output tokens, so ``N_out`` output tokens served bring
    ``N_in = N_out L_in / L_out`` input tokens, and the revenue is
    ``N_in p_in + N_out p_out``.

    Parameters
    ----------
    output_tok
        Output tokens served [tok].
    input_per_output_frac
        ``L_in / L_out``, mean prompt over mean output length [-].
    input_usd_per_tok, output_usd_per_tok
        Prices per input and per output token [USD/tok].

    Returns
    -------
    Revenue [USD].
    """
    out = np.asarray(output_tok, float)
    return out * np.asarray(input_per_output_frac, float) * np.asarray(
        input_usd_per_tok, float
    ) + out * np.asarray(output_usd_per_tok, float)
