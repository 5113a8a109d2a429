"""Bad input of the training_jobs block: one line naming the field and value, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dcsim import cli

REPO = Path(__file__).resolve().parents[2]
SMALL_HALL = str(REPO / "scenarios" / "small-hall.yaml")
JOB = "training_jobs=[{name: pre, rack_groups: [h1/batch]}]"
LIMIT = "sites.main.grid={firm_mw: 3.2, ramp_limit_mw_per_min: 0.1}"


def _validate(*sets: str):
    args = ["validate", SMALL_HALL]
    for s in sets:
        args += ["--set", s]
    return CliRunner().invoke(cli.app, args)


def _error_line(result) -> str:
    lines = [ln for ln in result.output.splitlines() if ln.startswith("dcsim: error:")]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize(
    "sets, expected",
    [
        (
            ["training_jobs=[{name: pre, halls: [h9]}]"],
            "training_jobs.pre.halls.0: unknown hall 'h9'; known: h1",
        ),
        (
            ["training_jobs=[{name: pre, rack_groups: [h1/bach]}]"],
            "training_jobs.pre.rack_groups.0: unknown rack group 'h1/bach'; did you mean "
            "'h1/batch'?",
        ),
        (
            ["training_jobs=[{name: pre, halls: [h1], profile: {compute_duty_frac: 1.5}}]"],
            "training_jobs.pre.profile.compute_duty_frac: 1.5 must be <= 1",
        ),
        (
            ["training_jobs=[{name: pre, halls: [h1], profile: {comm_power_frac: -0.1}}]"],
            "training_jobs.pre.profile.comm_power_frac: -0.1 must be >= 0",
        ),
        (
            ["training_jobs=[{name: pre, halls: [h1], until: 2027-01-01}]"],
            "training_jobs.pre.until: until 2027-01-01 00:00 is not after the job's start "
            "2027-01-04 00:00",
        ),
        (
            # 4 racks x 132 kW x (0.95 - 0.30) = 343 kW of swing against 0.1 MW/min.
            [JOB, LIMIT],
            "training_jobs.pre.smoothing: training job 'pre' swings 0.343 MW within seconds, "
            "above the ramp limit of 0.1 MW/min of site 'main', with no battery or smoothing "
            "to meet it",
        ),
        (
            ["training_jobs=[{name: pre, rack_groups: [h1/batch], smoothing: {type: battery}}]"],
            "training_jobs.pre.smoothing: smoothing by battery, but site 'main' has no battery",
        ),
        (
            [
                "training_jobs=[{name: pre, rack_groups: [h1/batch], smoothing: {type: battery}}]",
                LIMIT,
                "sites.main.onsite={battery: {power_mw: 0.2, energy_mwh: 0.4}}",
            ],
            "training job 'pre' swings 0.343 MW, above the ramp limit of 0.1 MW/min of site "
            "'main', and the battery's 0.2 MW cannot take it; expected a battery of at least "
            "0.343 MW",
        ),
        (
            # A floor at 0.5 leaves 4 x 132 kW x (0.95 - 0.5) = 238 kW of swing.
            [
                "training_jobs=[{name: pre, rack_groups: [h1/batch], "
                "smoothing: {type: power_floor, floor_frac: 0.5}}]",
                LIMIT,
            ],
            "training_jobs.pre.smoothing.floor_frac: training job 'pre' still swings 0.238 MW "
            "above its power floor of 0.5",
        ),
    ],
)
def test_bad_training_input_is_one_line_exit_2(sets, expected):
    result = _validate(*sets)
    assert result.exit_code == 2, result.output
    assert expected in _error_line(result)


@pytest.mark.parametrize(
    "smoothing, extra",
    [
        ("{type: battery}", ["sites.main.onsite={battery: {power_mw: 0.5, energy_mwh: 1.0}}"]),
        ("{type: power_floor}", []),
    ],
)
def test_smoothing_that_meets_the_limit_is_accepted(smoothing, extra):
    job = f"training_jobs=[{{name: pre, rack_groups: [h1/batch], smoothing: {smoothing}}}]"
    result = _validate(job, LIMIT, *extra)
    assert result.exit_code == 0, result.output
    assert "check_training_ramp_limit" in result.output
