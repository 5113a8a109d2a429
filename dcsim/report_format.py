"""Numbers for people: a quantity named with a unit suffix, printed in engineering notation.

One formatter for every table a person reads (``dcsim run``, ``dcsim compare``, the
dashboard's KPI box): the unit is chosen from the name's suffix (:mod:`dcsim.units`
glossary), the value is scaled to an SI prefix whose exponent is a multiple of three and
printed with three significant digits, so ``1.417e6`` W reads ``1.42 MW`` and
``7.6e11`` J reads ``211 MWh``. Values far below the unit's smallest step (a residual of
``1e-17`` of a fraction, ``6.7e-6`` tokens) print as ``0``: they are float noise, not
quantities anyone can act on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dcsim import units


@dataclass(frozen=True)
class Unit:
    """How a family of quantities is shown.

    Parameters
    ----------
    symbol
        Unit after the prefix, e.g. ``"W"``, ``"Wh"``, ``"tok/s"``.
    scale
        Factor from the SI value to the shown unit (``1 / KWH_J * 1e3`` for J to Wh).
    prefixes
        Allowed prefix exponents (multiples of 3), the smallest first; the largest that
        keeps the mantissa >= 1 is used.
    words
        Prefix words instead of letters ("million L"), for units whose letter prefixes
        read badly (ML, kt of litres).
    floor
        Smallest magnitude that is a quantity, in the shown unit; below it the value is
        float noise and prints as 0 (half a token: a token count is whole).
    """

    symbol: str
    scale: float = 1.0
    prefixes: tuple[int, ...] = (0,)
    words: bool = False
    floor: float = 5e-4


_SI_LETTERS = {-3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P"}
_SI_WORDS = {0: "", 3: "thousand ", 6: "million ", 9: "billion ", 12: "trillion "}
_USD_LETTERS = {0: "", 3: "k", 6: "M", 9: "B", 12: "T"}

_BIG = (0, 3, 6, 9, 12, 15)

#: Unit per name suffix, longest suffix first (``_tok_per_s`` before ``_s``).
SUFFIX_UNITS: tuple[tuple[str, Unit], ...] = (
    ("_usd_per_mtok", Unit("$/Mtok")),
    # Served tok/s per W of facility power per USD of capital held: per MW and per $M.
    ("tok_per_s_per_w_per_usd", Unit("tok/s/MW/$M", scale=units.MW_W * 1e6)),
    ("_kg_per_mtok", Unit("kg/Mtok")),
    ("_l_per_mtok", Unit("L/Mtok")),
    ("_l_per_kwh", Unit("L/kWh")),
    ("_tok_per_j", Unit("tok/J")),
    ("_tok_per_s", Unit("tok/s", prefixes=_BIG)),
    ("_l_per_s", Unit("L/s")),
    ("_tok", Unit("tok", prefixes=_BIG, floor=0.5)),
    ("_w", Unit("W", prefixes=_BIG)),
    ("_j", Unit("Wh", scale=1.0 / units.H_S, prefixes=_BIG)),
    ("_usd", Unit("$", prefixes=(0, 3, 6, 9, 12))),
    # Carbon masses: kg below a tonne, then t, kt, Mt (of CO2).
    ("_kg", Unit("t CO2", scale=1e-3, prefixes=(0, 3, 6))),
    ("_l", Unit("L", prefixes=(0, 3, 6, 9, 12), words=True)),
    ("_frac", Unit("%", scale=100.0)),
    ("_degc", Unit("°C")),
    ("_h", Unit("h")),
    ("_s", Unit("s")),
    ("_count", Unit("")),
)

#: Smallest magnitude shown in the shown unit; below it the value is noise and prints 0.
NOISE_FLOOR = 5e-4

#: Significant digits of every formatted number.
SIGNIFICANT_DIGITS = 3


def unit_of(name: str) -> Unit | None:
    """The display unit of a quantity named with a unit suffix, or None (a plain number)."""
    for suffix, unit in SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit
    return None


def _mantissa(value: float) -> str:
    """``value`` with :data:`SIGNIFICANT_DIGITS` significant digits, no exponent, no noise."""
    if value == 0.0:
        return "0"
    if abs(value) >= 1e6:  # beyond every prefix of the unit: an exponent, not 19 digits
        return f"{value:.{SIGNIFICANT_DIGITS}g}"
    # Round first: rounding may carry into the next decade (0.9996 -> 1.00, not 1.000).
    rounded = float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    digits = SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(abs(rounded)))
    return f"{rounded:.{max(digits, 0)}f}"


def format_quantity(name: str, value: Any, signed: bool = False) -> str:
    """A KPI or column value for people, its unit chosen from the name's suffix.

    Parameters
    ----------
    name
        Quantity name ending in a unit suffix (``peak_facility_power_w``,
        ``carbon_location_kg``); a name without a known suffix prints as a plain number.
    value
        The SI value [unit of the suffix]; strings and None pass through (``-`` for None
        and NaN).
    signed
        Print a leading ``+`` for positive values (differences).

    Returns
    -------
    str
        E.g. ``"1.42 MW"``, ``"211 MWh"``, ``"77.5 t CO2"``, ``"0.323 $/Mtok"``,
        ``"1,152"`` for counts, ``"0 %"`` for a residual of 1e-17.

    Examples
    --------
    >>> format_quantity("peak_facility_power_w", 1417152.6)
    '1.42 MW'
    >>> format_quantity("facility_energy_j", 7.607e11)
    '211 MWh'
    >>> format_quantity("unserved_frac", 8e-18)
    '0 %'
    """
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)
        except (TypeError, ValueError):
            return str(value)
    v = float(value)
    if math.isnan(v):
        return "-"
    if math.isinf(v):
        return ("+" if signed and v > 0 else "") + ("inf" if v > 0 else "-inf")
    unit = unit_of(name)
    sign = "+" if signed and v > 0 else ""
    if unit is None:
        return sign + (_mantissa(v) if abs(v) >= NOISE_FLOOR else "0")
    shown = v * unit.scale
    if unit.symbol == "t CO2" and 5e-4 <= abs(v) < 1e3:
        return f"{sign}{_mantissa(v)} kg CO2"
    if unit.symbol == "" and name.endswith("_count"):
        return sign + (f"{shown:,.0f}" if abs(shown) >= 0.5 else "0")
    if abs(shown) < unit.floor * 10.0 ** min(unit.prefixes):
        return "$0" if unit.symbol == "$" else f"0 {unit.symbol}".rstrip()
    rounded = abs(float(f"{shown:.{SIGNIFICANT_DIGITS}g}"))
    exp = max((e for e in unit.prefixes if rounded >= 10.0**e), default=unit.prefixes[0])
    mantissa = _mantissa(shown / 10.0**exp)
    if unit.symbol == "$":
        body = f"${mantissa.lstrip('-')}{_USD_LETTERS[exp]}"
        return ("-" if shown < 0 else sign) + body
    if unit.symbol == "t CO2":
        return f"{sign}{mantissa} {_SI_LETTERS[exp]}t CO2"
    prefix = (_SI_WORDS if unit.words else _SI_LETTERS)[exp]
    return f"{sign}{mantissa} {prefix}{unit.symbol}"


def format_percent(value: Any) -> str:
    """A relative difference [-] as a signed percentage with 3 significant digits."""
    if value is None:
        return "-"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "-"
    pct = 100.0 * v
    if abs(pct) < NOISE_FLOOR:
        return "0 %"
    return f"{'+' if pct > 0 else ''}{_mantissa(pct)} %"
