"""Prompt and output lengths of requests: a parametric spread or an empirical table.

A workload class gives a mean length and its coefficient of variation (the two moments the
fluid queue of :mod:`dcsim.physics.queueing` uses), or a table of observed lengths.

Parametric lengths are lognormal: ``ln L ~ N(mu, s^2)`` with ``s^2 = ln(1 + cv^2)`` and
``mu = ln(mean) - s^2 / 2``, so ``E[L] = mean`` and ``sd(L) / E[L] = cv`` exactly before
rounding. Why lognormal: lengths are positive and right-skewed, and for a given mean and CV
the lognormal has the heavier upper tail of the usual two-parameter choices (the gamma's is
exponential), which errs on the side of long requests at p99; it is the standard model of
message and object sizes in network workloads (Downey 2005). The fluid queue uses only the
first two moments (``docs/queueing.md``), so the two models share their inputs. Draws are
rounded to the nearest token and held at 1 or more; for means of a few tokens that changes
the moments, which :meth:`LengthDist.moments` reports exactly for a table.

References
----------
.. [1] Downey, A. B. (2005). Lognormal and Pareto distributions in the Internet. Computer
   Communications 28(7), 790-801.
.. [2] Johnson, N. L., Kotz, S. and Balakrishnan, N. (1994). Continuous Univariate
   Distributions, vol. 1, 2nd ed., Wiley, chapter 14 (lognormal moments).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dcsim.errors import ConfigError

__all__ = ["LengthDist"]


@dataclass(frozen=True)
class LengthDist:
    """Distribution of a request length in tokens.

    Parameters
    ----------
    mean_tok : float
        Mean length [tok] (ignored when ``table_tok`` is given).
    cv_frac : float
        Coefficient of variation, standard deviation over mean [-]; 0 is a constant length.
    table_tok : numpy.ndarray or None
        Observed lengths [tok]; when given, draws resample it uniformly with replacement.
    """

    mean_tok: float
    cv_frac: float
    table_tok: np.ndarray | None = None

    def check(self, where: str = "length") -> None:
        """Refuse a length that no request can have.

        Parameters
        ----------
        where : str
            Dotted name of the field, used in the message.

        Raises
        ------
        ConfigError
            Mean <= 0 or not finite, a negative or not finite CV, an empty table or a table
            with an entry below 1 token.
        """
        if self.table_tok is not None:
            table = np.asarray(self.table_tok, dtype=np.float64)
            if table.size == 0:
                raise ConfigError(
                    "the length table is empty; expected at least one length", f"{where}.table_tok"
                )
            if not np.all(np.isfinite(table)) or table.min() < 1.0:
                raise ConfigError(
                    f"{float(table.min())!r} is not a length; expected every entry >= 1 token",
                    f"{where}.table_tok",
                )
            return
        if not (math.isfinite(self.mean_tok) and self.mean_tok > 0.0):
            raise ConfigError(f"{self.mean_tok!r} must be > 0 tokens", f"{where}.mean_tok")
        if not (math.isfinite(self.cv_frac) and self.cv_frac >= 0.0):
            raise ConfigError(f"{self.cv_frac!r} must be >= 0", f"{where}.cv_frac")

    def draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """Draw whole lengths of at least one token.

        Parameters
        ----------
        rng : numpy.random.Generator
            Source of randomness (one per stream, spawned from the run's seed).
        count : int
            Number of lengths [-].

        Returns
        -------
        numpy.ndarray
            int64 lengths >= 1 [tok].
        """
        if self.table_tok is not None:
            table = np.asarray(self.table_tok, dtype=np.float64)
            picks = table[rng.integers(0, table.size, size=count)]
            return np.maximum(np.rint(picks), 1.0).astype(np.int64)
        if self.cv_frac == 0.0:
            return np.full(count, max(round(self.mean_tok), 1), dtype=np.int64)
        sigma2 = math.log1p(self.cv_frac * self.cv_frac)
        mu = math.log(self.mean_tok) - 0.5 * sigma2
        x = rng.lognormal(mu, math.sqrt(sigma2), size=count)
        return np.maximum(np.rint(x), 1.0).astype(np.int64)

    def moments(self) -> tuple[float, float]:
        """Mean and second moment of the length before rounding (exact for a table).

        Returns
        -------
        tuple of float
            ``E[L]`` [tok] and ``E[L^2]`` [tok^2].
        """
        if self.table_tok is not None:
            table = np.maximum(np.rint(np.asarray(self.table_tok, dtype=np.float64)), 1.0)
            return float(table.mean()), float(np.mean(table * table))
        mean = float(self.mean_tok)
        return mean, mean * mean * (1.0 + self.cv_frac * self.cv_frac)
