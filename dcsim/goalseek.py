"""Goal seeking: the smallest (or largest) value of a setting that meets a KPI target.

``dcsim sweep SCENARIO --solve PATH=LO..HI --target 'KPI<=VALUE'`` and :func:`solve` search
a numeric scenario field over ``[LO, HI]`` for the boundary where a KPI target starts (or
stops) holding, assuming the KPI is monotone in the setting. Each evaluation is a one-point
sweep (:func:`dcsim.sweep.sweep`) over the seeds; the KPI of a setting is its percentile
over those seeds, so ``--percentile 90`` asks that the target hold in 9 seeds out of 10.

The direction comes from the two ends: if the target holds at HI and not at LO, the answer
is the smallest value that meets it (e.g. the import limit that avoids power capping); if
it holds at LO and not at HI, the largest (e.g. the most racks a fixed contract carries).
The bracket is then halved (bisection) until it is narrower than the tolerance; the answer
is the end of the final bracket that meets the target, so it is on the safe side by at most
the tolerance. Bisection needs ``ceil(log2((HI - LO) / tol))`` evaluations after the two ends.

References
----------
Press, W. H., et al. (2007). Numerical Recipes, 3rd ed., section 9.1, "Bracketing and
Bisection". Cambridge University Press.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dcsim.errors import ConfigError
from dcsim.fileio import write_text_atomic

#: Default tolerance as a share of the searched range, when none is given [-].
DEFAULT_REL_TOL = 1e-3

#: File written to the sweep folder with the target, the iterations and the answer.
SOLVE_FILE = "solve.json"

_TARGET = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|>=)\s*([^\s]+)\s*$")
_RANGE = re.compile(r"^\s*([^=\s]+)\s*=\s*([^\s]+?)\s*\.\.\s*([^\s]+)\s*$")


@dataclass(frozen=True)
class Target:
    """A KPI target ``kpi <= value`` or ``kpi >= value`` (value in the KPI's SI unit)."""

    kpi: str
    op: str
    value: float

    def met(self, kpi_value: float) -> bool:
        """Whether a KPI value meets the target (NaN never does)."""
        if math.isnan(kpi_value):
            return False
        return kpi_value <= self.value if self.op == "<=" else kpi_value >= self.value

    def miss(self, kpi_value: float) -> float:
        """By how much a KPI value misses the target (> 0), 0 when it meets it."""
        gap = kpi_value - self.value if self.op == "<=" else self.value - kpi_value
        return max(gap, 0.0)

    def __str__(self) -> str:
        return f"{self.kpi}{self.op}{self.value:g}"


def _number(text: str, what: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{what} {text!r} is not a number", where) from None
    if not math.isfinite(value):
        raise ConfigError(f"{what} {text!r} is not a finite number", where)
    return value


def parse_target(text: str) -> Target:
    """Parse ``'KPI<=VALUE'`` or ``'KPI>=VALUE'``.

    Raises
    ------
    ConfigError
        ``--target: 'x' is not KPI<=VALUE or KPI>=VALUE`` for anything else.
    """
    m = _TARGET.match(text or "")
    if not m:
        raise ConfigError(
            f"{text!r} is not KPI<=VALUE or KPI>=VALUE (e.g. 'unserved_frac<=0.005')", "--target"
        )
    return Target(m.group(1), m.group(2), _number(m.group(3), "target value", "--target"))


def parse_solve(text: str) -> tuple[str, float, float]:
    """Parse ``'PATH=LO..HI'`` into the field path and the two ends (LO < HI).

    Raises
    ------
    ConfigError
        For a malformed spec, ends that are not numbers, or LO >= HI.
    """
    m = _RANGE.match(text or "")
    if not m:
        raise ConfigError(f"{text!r} is not PATH=LO..HI (e.g. 'sites.main.import_limit_mw=1..3')",
                          "--solve")  # fmt: skip
    path = m.group(1)
    lo = _number(m.group(2), f"{path}: lower end", "--solve")
    hi = _number(m.group(3), f"{path}: upper end", "--solve")
    if not lo < hi:
        raise ConfigError(f"{path}: lower end {lo:g} must be below upper end {hi:g}", "--solve")
    return path, lo, hi


@dataclass(frozen=True)
class Iteration:
    """One evaluated setting: its value, the KPI at the percentile, whether it meets the target."""

    step: int
    value: float
    kpi_value: float
    met: bool
    seed_values: tuple[float, ...]


@dataclass
class SolveResult:
    """What :func:`solve` found.

    Attributes
    ----------
    path : str
        The searched field.
    target : Target
        The KPI target.
    percentile : float
        Percentile over seeds the KPI is taken at [%].
    seeds : list of int
        Seeds of every evaluation.
    answer : float
        The boundary setting that meets the target (NaN only if none was searched).
    seeking : str
        ``"smallest"`` or ``"largest"`` value meeting the target.
    bracket : tuple of float
        Final bracket (meets, does not meet); equal ends when the whole range meets it.
    iterations : list of Iteration
        Every evaluation in order: the two ends first, then the bisection midpoints.
    note : str
        A remark for the reader (e.g. the whole range meets the target).
    """

    path: str
    target: Target
    percentile: float
    seeds: list[int]
    answer: float
    seeking: str
    bracket: tuple[float, float]
    iterations: list[Iteration] = field(default_factory=list)
    note: str = ""
    out_dir: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (what ``solve.json`` holds)."""
        return {
            "path": self.path,
            "target": {"kpi": self.target.kpi, "op": self.target.op, "value": self.target.value},
            "percentile": self.percentile,
            "seeds": self.seeds,
            "answer": self.answer,
            "seeking": self.seeking,
            "bracket": list(self.bracket),
            "note": self.note,
            "iterations": [
                {
                    "step": it.step,
                    "value": it.value,
                    "kpi_value": it.kpi_value,
                    "met": it.met,
                    "seed_values": list(it.seed_values),
                }
                for it in self.iterations
            ],
        }


def bracket_search(
    evaluate: Any, lo: float, hi: float, tgt: Target, tol: float, path: str = "setting"
) -> tuple[str, float, float, str]:
    """Bisection for the boundary of a monotone target inside ``[lo, hi]``.

    Parameters
    ----------
    evaluate
        ``evaluate(value) -> Iteration`` (only ``.met`` and ``.kpi_value`` are read).
    lo, hi
        Range ends [unit of the setting].
    tgt
        The target (for the error message).
    tol
        Width at which the bracket stops [unit of the setting].
    path
        Name of the setting (for the error message).

    Returns
    -------
    seeking : str
        ``"smallest"`` (the target holds at ``hi``) or ``"largest"`` (it holds at ``lo``).
    good, bad : float
        Final bracket: ``good`` meets the target, ``bad`` does not, ``|good - bad| <= tol``
        (both ``lo`` when the whole range meets it).
    note : str
        Non-empty when the whole range meets the target.

    Raises
    ------
    ConfigError
        When neither end meets the target: both ends' KPI and by how much each misses.
    """
    at_lo, at_hi = evaluate(lo), evaluate(hi)
    if not at_lo.met and not at_hi.met:
        raise ConfigError(
            f"no value of {path} in [{lo:g}, {hi:g}] meets {tgt}: at {lo:g} {tgt.kpi} = "
            f"{at_lo.kpi_value:.6g} (misses by {tgt.miss(at_lo.kpi_value):.3g}), at {hi:g} "
            f"{tgt.kpi} = {at_hi.kpi_value:.6g} (misses by {tgt.miss(at_hi.kpi_value):.3g})",
            "--solve",
        )
    if at_lo.met and at_hi.met:
        # No boundary inside the range: every value meets the target.
        note = f"every value in [{lo:g}, {hi:g}] meets {tgt}: the boundary is outside the range"
        return "smallest", lo, lo, note
    seeking = "smallest" if at_hi.met else "largest"
    good, bad = (hi, lo) if at_hi.met else (lo, hi)
    while abs(good - bad) > tol:
        mid = 0.5 * (good + bad)
        if evaluate(mid).met:
            good = mid
        else:
            bad = mid
    return seeking, good, bad, ""


def _check_numeric_field(scenario: Any, path: str, lo: float, hi: float, overrides: Any) -> None:
    """Fail in one line unless ``path`` is a field that takes numbers, and both ends are valid."""
    from dcsim.sweep import plan_sweep

    try:
        plan_sweep(scenario, [f"{path}=not-a-number"], 1, overrides)
    except ConfigError:
        pass  # a numeric field rejects text: as it should
    else:
        raise ConfigError(f"{path} is not a numeric setting (it accepts text)", "--solve")
    plan_sweep(scenario, [f"{path}={lo!r},{hi!r}"], 1, overrides)


def solve(
    scenario: Any,
    path: str,
    lo: float,
    hi: float,
    target: str | Target,
    *,
    seeds: int | Sequence[int] = 1,
    percentile: float = 50.0,
    tol: float | None = None,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
    out: str | Path | None = None,
    workers: int | None = 0,
    on_iteration: Any = None,
    **sweep_options: Any,
) -> SolveResult:
    """Find the smallest (or largest) value of a monotone setting that meets a KPI target.

    Parameters
    ----------
    scenario
        Scenario file or loaded :class:`~dcsim.scenario.Scenario`.
    path
        Numeric field to search, as for ``--set`` (e.g. ``sites.main.import_limit_mw``).
    lo, hi
        Ends of the searched range [unit of the field], ``lo < hi``.
    target
        ``"KPI<=VALUE"`` / ``"KPI>=VALUE"`` or a :class:`Target` (VALUE in the KPI's SI unit).
    seeds
        Seeds per evaluation (count or list), as for :func:`dcsim.sweep.sweep`.
    percentile
        Percentile over seeds at which the KPI is taken [%], in [0, 100]; 50 = median,
        90 = the target must hold in 90 % of seeds (for ``<=``).
    tol
        Width of the final bracket [unit of the field]; default
        ``DEFAULT_REL_TOL * (hi - lo)``.
    overrides
        Fixed overrides for every run.
    out
        Sweep folder (every run and ``solve.json``); default
        ``results/sweeps/<scenario name>-solve``.
    workers
        As for :func:`dcsim.sweep.sweep` (default 0: in this process).
    on_iteration
        Callback ``on_iteration(Iteration)`` after each evaluation.
    **sweep_options
        Passed to :func:`dcsim.sweep.sweep` (``scheduler``, ``resume``, ...).

    Returns
    -------
    SolveResult
        The answer, the final bracket and every iteration (also in ``<out>/solve.json``).

    Raises
    ------
    ConfigError
        A field that is not numeric, a malformed target, a KPI the runs do not report, a
        percentile outside [0, 100], or a range where neither end meets the target (naming
        both ends' KPI and by how much each misses).
    """
    from dcsim.sweep import sweep as run_sweep

    tgt = target if isinstance(target, Target) else parse_target(target)
    if not (isinstance(percentile, int | float) and 0.0 <= percentile <= 100.0):
        raise ConfigError(f"{percentile!r} is not a percentile in [0, 100]", "--percentile")
    if not lo < hi:
        raise ConfigError(f"{path}: lower end {lo:g} must be below upper end {hi:g}", "--solve")
    tol_ = (hi - lo) * DEFAULT_REL_TOL if tol is None else float(tol)
    if not (math.isfinite(tol_) and tol_ > 0.0):
        raise ConfigError(f"{tol!r} is not a positive tolerance", "--tol")
    _check_numeric_field(scenario, path, lo, hi, overrides)
    if out is None:
        from dcsim.runner import resolve_scenario

        out = Path("results") / "sweeps" / f"{resolve_scenario(scenario, overrides).name}-solve"
    iterations: list[Iteration] = []
    used_seeds: list[int] = []

    def evaluate(value: float) -> Iteration:
        res = run_sweep(
            scenario, {path: [value]}, seeds=seeds, overrides=overrides, out=out,
            workers=workers, **sweep_options,
        )  # fmt: skip
        if res.failed:
            key, error = next(iter(res.failed.items()))
            raise ConfigError(f"run {key} at {path}={value:g} failed: {error}", "--solve")
        if tgt.kpi not in res.results.columns:
            import difflib

            known = [c for c in res.results.columns if c not in ("point", "seed", "run", path)]
            close = difflib.get_close_matches(tgt.kpi, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{tgt.kpi!r} is not a KPI of the runs{hint}", "--target")
        vals = res.results[tgt.kpi].to_numpy(dtype=np.float64)
        used_seeds[:] = [int(s) for s in res.results["seed"]]
        kpi = float(np.percentile(vals, percentile)) if len(vals) else math.nan
        it = Iteration(len(iterations), value, kpi, tgt.met(kpi), tuple(float(v) for v in vals))
        iterations.append(it)
        if on_iteration is not None:
            on_iteration(it)
        return it

    seeking, good, bad, note = bracket_search(evaluate, lo, hi, tgt, tol_, path)
    result = SolveResult(
        path=path, target=tgt, percentile=float(percentile), seeds=used_seeds, answer=good,
        seeking=seeking, bracket=(good, bad), iterations=iterations, note=note,
        out_dir=Path(out).resolve(),
    )  # fmt: skip
    write_text_atomic(json.dumps(result.to_dict(), indent=2) + "\n", result.out_dir / SOLVE_FILE)
    return result
