"""Scenario schema of request-level windows (``windows:``, docs/windows.md).

A window is a stretch of the run (an hour, typically) that dcsim replays request by request
on a sample of replicas, after the fluid run, at the load, power cap and clock the fluid run
recorded for it. Example (the peak chat hour of gw-campus)::

    windows:
      - name: chat-peak
        start: peak:chat
        duration_s: 1h
        classes: [chat]
        replicas_count: 64

``start`` is an ISO date-time, or a rule resolved from the run's own inputs:
``peak:<class>`` (the clock hour of the class's highest demand) or ``curtailment:deepest``
(the clock hour of the deepest grid curtailment summed over the sites).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from dcsim.scenario.base import Name, NonNeg, Pos
from dcsim.scenario.base import ScenarioModel as _Model
from dcsim.scenario.types import DurationS, format_date, parse_date

__all__ = [
    "WINDOW_RULES",
    "ClassLengths",
    "LengthDist",
    "Window",
    "is_rule",
    "start_datetime",
]

#: Rules a window's ``start`` may name instead of a date-time (``<class>`` is a class name).
WINDOW_RULES = ("peak:<class>", "curtailment:deepest")
_RULE_RE = re.compile(r"^(peak:[A-Za-z0-9_.-]+|curtailment:deepest)$")


def is_rule(start: object) -> bool:
    """True when a window's ``start`` is a rule (``peak:<class>``, ``curtailment:deepest``)."""
    return isinstance(start, str) and _RULE_RE.match(start) is not None


def _start(value: object) -> str:
    # A rule stays text; anything else must be a date-time (same parser as every date field),
    # kept in its canonical text so the resolved scenario reads back the same.
    if isinstance(value, str) and not value[:1].isdigit():
        if not is_rule(value):
            raise ValueError(
                f"{value!r} is not a window start; expected a date-time such as "
                f"'2027-07-15T14:00' or a rule: {', '.join(WINDOW_RULES)}"
            )
        return value
    return format_date(parse_date(value))


def start_datetime(start: str) -> dt.datetime | None:
    """The date-time of a window's ``start``; None for a rule."""
    return None if is_rule(start) else parse_date(start)


WindowStart = Annotated[str, BeforeValidator(_start, json_schema_input_type=str)]


class LengthDist(_Model):
    """A token-length distribution: gamma with a mean and spread, or an empirical table."""

    mean_tok: Pos | None = Field(
        default=None,
        description="Mean length [tok]; default: the class's input_tok or output_tok (> 0).",
    )
    cv_frac: NonNeg | None = Field(
        default=None,
        description=(
            "Coefficient of variation [-]; default: the class's input_tok_cv_frac or "
            "output_tok_cv_frac (catalog default when null)."
        ),
    )
    table_tok: list[Pos] | None = Field(
        default=None,
        min_length=1,
        description=(
            "Empirical table of lengths [tok], drawn uniformly (e.g. a trace's lengths); "
            "replaces mean and spread when given."
        ),
    )


class ClassLengths(_Model):
    """Prompt and output length distributions of one class in a window."""

    input: LengthDist = Field(default_factory=LengthDist, description="Prompt lengths.")
    output: LengthDist = Field(default_factory=LengthDist, description="Output lengths.")


ReplicaCount = int | Literal["auto"]


class Window(_Model):
    """One request-level window: when, how long, which classes, how many replicas."""

    name: Name = Field(description="Window name; KPIs are window.<name>.<class>.<metric>.")
    start: WindowStart = Field(
        description=(
            "Start: an ISO date-time (local standard time, inside the horizon), or a rule "
            "resolved from the run's inputs: 'peak:<class>' (the clock hour of the class's "
            "highest demand) or 'curtailment:deepest' (the clock hour of deepest curtailment)."
        )
    )
    duration_s: DurationS = Field(
        default=3600.0, description="Length of the window [s], e.g. '1h'; at least one tick."
    )
    warmup_s: DurationS = Field(
        default=600.0,
        description=(
            "Simulated before the window at the load recorded then, so the window starts with "
            "busy replicas; requests arriving in it are not reported [s]."
        ),
    )
    classes: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Workload classes simulated; default: every interactive class.",
    )
    replicas_count: ReplicaCount = Field(
        default=16,
        description=(
            "Replicas sampled per pool of each class (>= 1), or 'auto': enough for the p99 "
            "confidence below."
        ),
    )
    pool_replicas_count: dict[str, ReplicaCount] = Field(
        default_factory=dict,
        description="Per-pool overrides of replicas_count, keyed by pool '<class>@<system>'.",
    )
    p99_confidence_frac: Annotated[float, Field(gt=0, lt=1)] = Field(
        default=0.95, description="Confidence of the reported p99 intervals (and of 'auto')."
    )
    p99_rel_halfwidth_frac: Pos = Field(
        default=0.2,
        description=(
            "'auto' samples enough requests that the p99's interval spans at most this share "
            "of the 1 % tail on each side [-] (0.2: p98.8 to p99.2)."
        ),
    )
    max_auto_replicas_count: int = Field(
        default=256, ge=1, description="Most replicas per pool 'auto' may choose."
    )
    router: Literal["round_robin", "least_loaded", "kv_aware"] = Field(
        default="least_loaded", description="How requests are routed among the sampled replicas."
    )
    arrival_cv_frac: NonNeg = Field(
        default=1.0,
        description="Coefficient of variation of inter-arrival times [-] (1 = Poisson).",
    )
    chunk_tok: int | None = Field(
        default=None, ge=1, description="Chunked-prefill size [tok]; null: whole prompts."
    )
    lengths: dict[str, ClassLengths] = Field(
        default_factory=dict,
        description=(
            "Length distributions per class; default: gamma with the class's means "
            "(input_tok, output_tok) and spreads (input_tok_cv_frac, output_tok_cv_frac)."
        ),
    )
    requests_sample_count: int = Field(
        default=200_000,
        ge=0,
        description="Most requests per window and class written to requests.parquet.",
    )

    @field_validator("replicas_count")
    @classmethod
    def _at_least_one(cls, value: ReplicaCount) -> ReplicaCount:
        if value != "auto" and value < 1:
            raise ValueError(f"{value} sampled replicas; expected at least 1 (or 'auto')")
        return value

    @field_validator("pool_replicas_count")
    @classmethod
    def _each_at_least_one(cls, value: dict[str, ReplicaCount]) -> dict[str, ReplicaCount]:
        for pool, n in value.items():
            if n != "auto" and n < 1:
                raise ValueError(f"{pool}: {n} sampled replicas; expected at least 1 (or 'auto')")
        return value

    @model_validator(mode="after")
    def _lengths_of_listed_classes(self) -> Window:
        if self.classes is not None:
            extra = sorted(set(self.lengths) - set(self.classes))
            if extra:
                raise ValueError(
                    f"lengths given for {', '.join(extra)}, not in this window's classes "
                    f"{self.classes}"
                )
        return self
