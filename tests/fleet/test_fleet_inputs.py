"""Bad fleet input: one line, exit 2, naming the field, the value and what was expected.

Every check of ``dcsim.scenario.regions_checks.REGION_CHECKS`` has a broken case here
(``tests/scenario/test_checks.py`` counts on it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import dcsim.cli as cli

TWO = Path(__file__).parent / "two_regions.yaml"


def invoke(*args: object):
    return CliRunner().invoke(cli.app, [str(a) for a in args])


def assert_refused(result, *fragments: str) -> str:
    """Exit 2, one ``dcsim: error:`` line on stderr (after any warnings), no traceback."""
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output
    lines = [x for x in result.stderr.splitlines() if not x.startswith("dcsim: warning: ")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dcsim: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("setting", "fragments"),
    [
        (
            "latency.rtt_s.us-west={east: 70ms}",
            ("not square", "row 'us-west' has 1 of 2 sites", "missing 'west'"),
        ),
        ("latency.rtt_s.us-east.west=-5ms", ("latency.rtt_s.us-east.west", "-5ms")),
        ("latency.rtt_s.us-east.north=5ms", ("unknown site 'north'", "'east', 'west'")),
        ("latency.rtt_s.eu={east: 5ms, west: 5ms}", ("unknown region 'eu'", "'us-east'")),
        ("routing.policy=fastest", ("routing.policy", "'nearest'", "'cost'", "'carbon'")),
        ("regions.0.demand={chat: {share_frac: 0.7}}", ("sum to 1.2", "expected 1")),
        ("regions.0.demand={chatt: {share_frac: 0.5}}", ("unknown workload 'chatt'",)),
        ("latency=null", ("regions need a latency block", "great_circle")),
        ("regions.1.name=us-east", ("regions.1.name", "region name 'us-east' is used twice")),
        ("latency={type: great_circle}", ("regions.us-east", "no latitude_deg/longitude_deg")),
    ],
)
def test_bad_fleet_blocks_are_one_line_exit_2(setting, fragments):
    assert_refused(invoke("validate", TWO, "--set", setting), *fragments)


def test_a_matrix_with_a_region_row_missing_is_not_square():
    # Drop the whole latency block's us-west row by giving only us-east.
    res = invoke("validate", TWO, "--set", "latency.rtt_s={us-east: {east: 1ms, west: 2ms}}")
    assert_refused(res, "not square", "no row for region 'us-west'", "1 rows for 2 regions")


def test_latency_without_regions_is_refused():
    res = invoke("validate", TWO, "--set", "regions=null")
    assert_refused(res, "latency", "without regions")


def test_a_region_with_no_site_within_its_slo_names_both(tmp_path):
    # 1.95 s to both sites + an idle rack's TTFT p99 (66 ms) > the 2 s SLO of chat.
    res = invoke(
        "run", TWO, "--out", tmp_path,
        "--set", "latency.rtt_s.us-east={east: 1.95s, west: 1.97s}",
    )  # fmt: skip
    line = assert_refused(res, "region 'us-east'", "'chat'", "nearest, 'east'", "1950.0 ms")
    assert "regions.0.demand.chat" in line
    assert list(tmp_path.iterdir()) == []
