"""Prices of served tokens per workload class: what a campus earns (docs/economics.md).

A class's customers pay per million input (prompt) and per million output tokens. A
workload gives its own prices (``input_price_usd_per_mtok``, ``output_price_usd_per_mtok``)
or takes the catalog's list price for its model (``catalog/data/economics.yaml``,
``token_price_usd_per_mtok``). A training reservation sells no tokens: its default price
is 0. A model with no catalog price and no price in the scenario has an unknown price
(NaN), and the run's revenue is then unknown, not zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dcsim import units
from dcsim.catalog.economics import load_economics

__all__ = ["TokenPrices", "token_prices"]


@dataclass(frozen=True)
class TokenPrices:
    """Prices and prompt share of each workload class, in the plant's class order.

    Attributes
    ----------
    class_names
        Workload class names.
    input_usd_per_tok, output_usd_per_tok
        Price per input and per output token [USD/tok]; NaN when unknown.
    input_per_output_frac
        Mean prompt length over mean output length [-]: the input tokens a class's served
        requests brought per output token served.
    """

    class_names: list[str]
    input_usd_per_tok: np.ndarray
    output_usd_per_tok: np.ndarray
    input_per_output_frac: np.ndarray


def token_prices(workloads: Sequence[Any], class_names: Sequence[str]) -> TokenPrices:
    """Prices of each class's tokens: the workload's own, else the catalog's list price.

    Parameters
    ----------
    workloads
        The scenario's :class:`dcsim.scenario.schema.Workload` entries.
    class_names
        Class names in the plant's order (the order of the per-class columns).

    Returns
    -------
    TokenPrices
        Per-token prices [USD/tok] and prompt-to-output ratios [-].
    """
    catalog = load_economics().token_price_usd_per_mtok
    by_name = {w.name: w for w in workloads}
    p_in, p_out, ratio = [], [], []
    for name in class_names:
        w = by_name[name]
        listed = catalog.get(w.model)
        if getattr(w, "training", None) is not None:
            default_in = default_out = 0.0  # a reservation is not sold by the token
        elif listed is not None:
            default_in, default_out = listed.input.value, listed.output.value
        else:
            default_in = default_out = float("nan")
        given_in, given_out = w.input_price_usd_per_mtok, w.output_price_usd_per_mtok
        p_in.append((default_in if given_in is None else given_in) / units.MTOK_TOK)
        p_out.append((default_out if given_out is None else given_out) / units.MTOK_TOK)
        ratio.append(float(w.input_tok) / float(w.output_tok))
    return TokenPrices(
        class_names=list(class_names),
        input_usd_per_tok=np.array(p_in, float),
        output_usd_per_tok=np.array(p_out, float),
        input_per_output_frac=np.array(ratio, float),
    )
