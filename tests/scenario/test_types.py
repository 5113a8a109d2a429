"""Scenario field types: durations, dates, bounded numbers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from dcsim.scenario.types import (
    DURATION_EXPECTED,
    Date,
    DurationS,
    Frac,
    PositiveFloat,
    SignedDurationS,
    format_duration,
    parse_duration_s,
)


class Times(BaseModel):
    span_s: DurationS = 0.0
    offset_s: SignedDurationS = 0.0
    tick_s: Annotated[DurationS, Field(gt=0)] = 1.0
    start: Date = dt.datetime(2027, 1, 1)


class Numbers(BaseModel):
    power_mw: PositiveFloat = 1.0
    share_frac: Frac = 0.5


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        # hand arithmetic: 15 * 60, 365 * 86400, 1.5 * 3600, 2 * 86400, 7 * 86400
        ("15min", 900.0),
        ("1y", 31_536_000.0),
        ("1.5h", 5_400.0),
        ("90s", 90.0),
        ("2d", 172_800.0),
        ("1w", 604_800.0),
        ("250ms", 0.25),
        ("900", 900.0),  # bare number in text: seconds
        (" 2 h ", 7_200.0),
        (3600, 3600.0),
        (0.5, 0.5),
        (dt.timedelta(minutes=2), 120.0),
    ],
)
def test_duration_parses_to_seconds(text, seconds):
    assert Times(span_s=text).span_s == seconds
    assert isinstance(Times(span_s=text).span_s, float)


@pytest.mark.parametrize("bad", ["15 minutes", "abc", "1 hour", "h", "", "1e", True, None, "inf"])
def test_duration_rejects_garbage_with_the_documented_message(bad):
    with pytest.raises(ValidationError) as info:
        Times(span_s=bad)
    (error,) = info.value.errors()
    assert error["msg"].startswith(DURATION_EXPECTED)
    assert error["msg"].endswith(f"got {bad!r}" if isinstance(bad, str) else "")


def test_duration_message_names_the_value():
    with pytest.raises(ValidationError) as info:
        Times(span_s="15 minutes")
    msg = info.value.errors()[0]["msg"]
    assert msg == "expected a duration such as '15min', '1h', '2d', '1y', got '15 minutes'"


def test_duration_m_is_ambiguous():
    # "5m" could be minutes or months: refused with a hint rather than guessed.
    with pytest.raises(ValidationError, match="'m' is ambiguous, write 'min'"):
        Times(span_s="5m")


def test_duration_not_finite_or_negative():
    with pytest.raises(ValidationError, match="got nan"):
        Times(span_s=float("nan"))
    with pytest.raises(ValidationError, match="duration '-1h' must be >= 0"):
        Times(span_s="-1h")
    assert Times(offset_s="-2h").offset_s == -7_200.0


def test_duration_respects_extra_bounds():
    with pytest.raises(ValidationError) as info:
        Times(tick_s="0s")
    assert info.value.errors()[0]["type"] == "greater_than"


def test_duration_dumps_as_exact_text():
    dumped = Times(span_s="1y", offset_s=-5_400, tick_s=0.25).model_dump(mode="json")
    assert dumped["span_s"] == "1y"
    assert dumped["offset_s"] == "-90min"
    assert dumped["tick_s"] == 0.25  # no exact unit: seconds as a number
    assert Times(span_s="1y").model_dump()["span_s"] == 31_536_000.0  # python mode: SI float


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(31_536_000.0, "1y"), (604_800.0, "1w"), (5_400.0, "90min"), (7_200.0, "2h"), (45.0, "45s")],
)
def test_format_duration_picks_largest_exact_unit(seconds, text):
    assert format_duration(seconds) == text


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False))
def test_format_then_parse_is_identity(seconds):
    assert parse_duration_s(format_duration(seconds)) == seconds


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2027-01-01", dt.datetime(2027, 1, 1)),
        ("2027-01-01T06:00", dt.datetime(2027, 1, 1, 6, 0)),
        ("2027-01-01 06:30:15", dt.datetime(2027, 1, 1, 6, 30, 15)),
        (dt.date(2027, 3, 2), dt.datetime(2027, 3, 2)),
        (dt.datetime(2027, 3, 2, 1, 2), dt.datetime(2027, 3, 2, 1, 2)),
        ("2027-01-01T06:00:00Z", dt.datetime(2027, 1, 1, 6, 0)),  # UTC offset 0 dropped
    ],
)
def test_date_accepts_iso_text_and_yaml_dates(value, expected):
    start = Times(start=value).start
    assert start == expected
    assert type(start) is dt.datetime
    assert start.tzinfo is None


@pytest.mark.parametrize(
    ("stamp", "text"),
    [
        (dt.datetime(2027, 1, 1), "2027-01-01"),
        (dt.datetime(2027, 1, 1, 6, 0), "2027-01-01T06:00"),
        (dt.datetime(2027, 1, 1, 6, 0, 5), "2027-01-01T06:00:05"),
        (dt.datetime(2027, 1, 1, 0, 0, 0, 250), "2027-01-01T00:00:00.000250"),
    ],
)
def test_date_dumps_as_short_iso_text_that_reads_back(stamp, text):
    dumped = Times(start=stamp).model_dump(mode="json")["start"]
    assert dumped == text
    assert Times(start=dumped).start == stamp


@pytest.mark.parametrize("bad", ["01/02/2027", "2027-13-01", "tomorrow", 20270101, 1.5e9])
def test_date_rejects_other_values(bad):
    with pytest.raises(ValidationError, match="expected a date such as '2027-01-01'"):
        Times(start=bad)


def test_date_refuses_a_nonzero_utc_offset():
    # A silent shift by the offset would move every event by hours.
    with pytest.raises(ValidationError, match="without a UTC offset"):
        Times(start="2027-01-01T06:00:00+02:00")


def test_bounded_numbers():
    assert Numbers(power_mw=3, share_frac=1).share_frac == 1.0
    for bad in ({"power_mw": 0}, {"power_mw": float("inf")}, {"share_frac": 1.01}):
        with pytest.raises(ValidationError):
            Numbers(**bad)


def test_json_schema_offers_number_or_text_for_durations():
    schema = Times.model_json_schema()["properties"]["span_s"]
    assert {"type": "number"} in schema["anyOf"]
    assert {"type": "string"} in schema["anyOf"]
