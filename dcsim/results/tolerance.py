"""Tolerances: when two values of a metric count as the same.

Used by ``dcsim check`` (a run against its baseline) and ``dcsim compare`` (which KPIs
changed, and whether a relative difference means anything). Runs are bit-identical for the
same code, seed and platform; across platforms and library versions, summation order moves
results by ~1e-12..1e-9 relative, and quantities that are zero in exact arithmetic come out
as residues of ~1e-17 (a share) or a few 1e-6 tokens. A difference within the tolerance of
a metric's family is such noise, not a change.
"""

from __future__ import annotations

import fnmatch
import math
import numbers
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tolerance:
    """How far a value may move from its baseline.

    Parameters
    ----------
    rel
        Relative tolerance [-], of the baseline's magnitude.
    abs
        Absolute tolerance [unit of the metric].
    """

    rel: float = 0.0
    abs: float = 0.0

    def allows(self, current: Any, baseline: Any) -> bool:
        """True when ``current`` is within tolerance of ``baseline``.

        NaN equals NaN; text compares equal or not; a number never equals text.
        """
        cur_num = isinstance(current, numbers.Real) and not isinstance(current, bool)
        base_num = isinstance(baseline, numbers.Real) and not isinstance(baseline, bool)
        if not (cur_num and base_num):
            return current == baseline
        c, b = float(current), float(baseline)
        if math.isnan(c) or math.isnan(b):
            return math.isnan(c) and math.isnan(b)
        if math.isinf(c) or math.isinf(b):
            return c == b
        return abs(c - b) <= self.abs + self.rel * abs(b)

    def __str__(self) -> str:
        parts = []
        if self.rel:
            parts.append(f"rel {self.rel:g}")
        if self.abs:
            parts.append(f"abs {self.abs:g}")
        return ", ".join(parts) if parts else "exact"


#: Relative tolerance of every family. Runs are bit-identical for the same code, seed and
#: platform; across platforms and library versions, summation order moves results by
#: ~1e-12..1e-9 relative. 1e-6 ignores that and flags any change of the model.
_REL = 1e-6

#: Default tolerances by metric family, first match wins (fnmatch globs on the metric name).
#: The absolute parts are floors for values that are numerically zero (a few 1e-6 tokens of
#: rounding residue), where a relative tolerance means nothing.
DEFAULT_TOLERANCES: tuple[tuple[str, Tolerance], ...] = (
    # A numerical residual of ~1e-16: only a material imbalance (1 ppb) is a change.
    ("energy_balance_residual_frac", Tolerance(rel=0.0, abs=1e-9)),
    ("*_frac", Tolerance(rel=0.0, abs=1e-6)),  # shares: 1e-4 percentage points
    ("*_tok_per_s", Tolerance(rel=_REL, abs=1.0)),  # token rates [tok/s]
    ("*_tok_per_j", Tolerance(rel=_REL)),
    ("*_tok", Tolerance(rel=_REL, abs=1e3)),  # token counts: 1 ktok of a campus-day's 1e11+
    ("*_w", Tolerance(rel=_REL, abs=1.0)),  # powers [W]
    ("*_j", Tolerance(rel=_REL, abs=1e3)),  # energies [J]: 1 kJ
    ("*_usd", Tolerance(rel=_REL, abs=0.01)),
    ("*_kg", Tolerance(rel=_REL, abs=1e-3)),
    ("*_l", Tolerance(rel=_REL, abs=1e-3)),
    ("*_count", Tolerance(rel=_REL, abs=1e-6)),
    ("*_h", Tolerance(rel=_REL, abs=1e-6)),
    ("*_s", Tolerance(rel=_REL, abs=1e-6)),
    ("*_degc", Tolerance(rel=0.0, abs=1e-6)),
    ("pue", Tolerance(rel=_REL)),
    ("seed", Tolerance()),
    ("*", Tolerance(rel=_REL, abs=1e-12)),
)


def default_tolerance(name: str) -> Tolerance:
    """The default tolerance of a metric, by family (see :data:`DEFAULT_TOLERANCES`).

    Parameters
    ----------
    name
        Metric name, e.g. ``"facility_energy_j"`` or ``"chat.served_tok"``.

    Returns
    -------
    Tolerance
        The first matching family's tolerance.

    Examples
    --------
    >>> default_tolerance("chat.served_tok")
    Tolerance(rel=1e-06, abs=1000.0)
    """
    for pattern, tol in DEFAULT_TOLERANCES:
        if fnmatch.fnmatchcase(name, pattern):
            return tol
    return Tolerance(rel=_REL)
