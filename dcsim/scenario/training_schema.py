"""Scenario block ``training_jobs``: training as a power state of racks (docs/training.md).

A training job occupies the racks of whole halls or of named rack groups from its start
until its end (``until``): while it runs, those racks serve no inference and draw the job's
power profile instead (iteration swings between compute and communication, checkpoint
pauses, restarts after failures; :mod:`dcsim.physics.training`). On ``until`` the hall is
repurposed: its racks return to the workloads of their rack groups. Fractions are of the
racks' design (nameplate) power; a field left at ``null`` takes the sourced default of
``dcsim/catalog/data/training_profiles.yaml``.

Cross-field rules (the racks exist, the site's ramp limit is met) are named checks in
:mod:`dcsim.scenario.training_checks`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from dcsim.scenario.base import Frac, Name, Pos
from dcsim.scenario.base import ScenarioModel as _Model
from dcsim.scenario.types import Date, DurationS

__all__ = ["BatterySmoothing", "NoSmoothing", "PowerFloor", "TrainingJob", "TrainingProfile"]


class TrainingProfile(_Model):
    """Power profile of one job; every field defaults to the sourced catalog value."""

    iteration_period_s: DurationS | None = Field(
        default=None, gt=0, description="Period of one training iteration [s]."
    )
    compute_duty_frac: Frac | None = Field(
        default=None, description="Share of an iteration in the compute phase [0..1]."
    )
    compute_power_frac: Frac | None = Field(
        default=None, description="Power in the compute phase, share of design power [0..1]."
    )
    comm_power_frac: Frac | None = Field(
        default=None,
        description="Power in the communication phase, share of design power [0..1].",
    )
    transition_s: DurationS | None = Field(
        default=None, description="Time the power takes to move to a new level [s]."
    )
    checkpoint_interval_s: DurationS | None = Field(
        default=None,
        gt=0,
        description="Iteration time between checkpoints [s]; null: Daly's optimum for the MTBF.",
    )
    checkpoint_write_s: DurationS | None = Field(
        default=None, description="Length of a checkpoint pause [s]."
    )
    checkpoint_power_frac: Frac | None = Field(
        default=None, description="Power during a checkpoint pause [0..1]."
    )
    restart_s: DurationS | None = Field(
        default=None, description="Restart after a failure (job at idle power) [s]."
    )
    idle_power_frac: Frac | None = Field(
        default=None, description="Power while the job restarts [0..1]."
    )


class NoSmoothing(_Model):
    """The grid sees the job's swings as they are."""

    type: Literal["none"] = "none"


class BatterySmoothing(_Model):
    """The site battery takes the swings around each tick's mean power."""

    type: Literal["battery"] = "battery"


class PowerFloor(_Model):
    """GPU power smoothing: the racks burn power up to a floor in the troughs."""

    type: Literal["power_floor"] = "power_floor"
    floor_frac: Frac | None = Field(
        default=None,
        description=(
            "Floor, share of design power [0..1]; null: the lowest floor that keeps the swing "
            "within the site's ramp limit."
        ),
    )


Smoothing = Annotated[NoSmoothing | BatterySmoothing | PowerFloor, Field(discriminator="type")]


class TrainingJob(_Model):
    """One synchronous training job on whole halls or named rack groups."""

    name: Name = Field(description="Job name (events, KPIs).")
    halls: list[str] = Field(default_factory=list, description="Halls the job occupies.")
    rack_groups: list[str] = Field(
        default_factory=list,
        description="Rack groups the job occupies, as '<hall>/<group>' or a group name.",
    )
    start: Date | None = Field(default=None, description="Job start; default: scenario start.")
    until: Date | None = Field(
        default=None,
        description=(
            "Repurposing date: the racks return to their rack groups' (inference) workloads; "
            "default: the job runs to the end of the horizon."
        ),
    )
    profile: TrainingProfile = Field(
        default_factory=TrainingProfile, description="Power profile (catalog defaults)."
    )
    smoothing: Smoothing = Field(
        default_factory=NoSmoothing,
        description="How the site keeps the job's swings within its ramp limit.",
    )
    mtbf_s: Pos | None = Field(
        default=None,
        description="Mean time between job failures [s]; default: from the catalog failure rates.",
    )
