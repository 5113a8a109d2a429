"""Annotated field types for scenario files: durations, dates, positive numbers and fractions.

Scenario files are written by planners, so time spans may be given with a unit
(``horizon: 2y``, ``tick: 15min``) and dates as ISO text or YAML dates. These types turn such
values into SI (float seconds) or a naive :class:`datetime.datetime` once, at the boundary,
and give one-line messages that name the offending value when they cannot.

Duration units (``y`` is 365 days, never a calendar year; ``m`` is rejected as ambiguous):

====== ============
unit   seconds
====== ============
``ms`` 1e-3
``s``  1
``min`` 60
``h``  3600
``d``  86400
``w``  604800
``y``  31536000
====== ============
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer
from pydantic_core import PydanticCustomError

from dcsim.units import D_S, H_S, MIN_S, MS_S, Y_S

#: Seconds per duration unit accepted in scenario files.
DURATION_UNITS_S: dict[str, float] = {
    "ms": MS_S,
    "s": 1.0,
    "min": MIN_S,
    "h": H_S,
    "d": D_S,
    "w": 7.0 * D_S,
    "y": Y_S,
}

#: Text of the error raised for a value that is not a duration (tests and docs quote it).
DURATION_EXPECTED = "expected a duration such as '15min', '1h', '2d', '1y'"
DATE_EXPECTED = "expected a date such as '2027-01-01' or '2027-01-01T06:00'"
#: Earliest and latest dates a scenario may name (start, end of the horizon, events): the
#: time series are indexed with pandas' nanosecond timestamps (1677-2262), and no weather,
#: price or equipment data describe years outside these.
DATE_MIN = dt.datetime(1900, 1, 1)
DATE_MAX = dt.datetime(2200, 1, 1)

_DURATION_RE = re.compile(
    r"^\s*(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>[a-z]*)\s*$"
)
# Largest unit first, so that formatting picks "1y" over "365d" and "2h" over "120min".
_FORMAT_UNITS = ("y", "w", "d", "h", "min", "s")


def _show(value: Any) -> str:
    # YAML spelling for the scalars a planner typed; repr (quoted) for text.
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _duration_error(value: Any, hint: str = "") -> PydanticCustomError:
    # Without a context pydantic leaves the text as is, so braces in user text are safe.
    return PydanticCustomError(
        "scenario_duration", f"{DURATION_EXPECTED}, got {_show(value)}{hint}"
    )


def parse_duration_s(value: Any, *, allow_negative: bool = False) -> float:
    """Convert a scenario duration to seconds.

    Parameters
    ----------
    value
        A number of seconds [s], a :class:`datetime.timedelta`, or text made of a number and
        a unit: ``"90s"``, ``"15min"``, ``"1.5h"``, ``"2d"``, ``"1w"``, ``"1y"`` (365 d),
        ``"250ms"``. A bare number in text (``"900"``) is read as seconds.
    allow_negative
        Accept durations below zero (offsets); plain spans must be >= 0.

    Returns
    -------
    float
        The duration [s].

    Raises
    ------
    pydantic_core.PydanticCustomError
        ``scenario_duration``: not a duration, not finite, or negative when not allowed. Inside
        a pydantic model this becomes an ordinary validation error.
    """
    if isinstance(value, bool):
        raise _duration_error(value)
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION_RE.match(value)
        if match is None:
            raise _duration_error(value)
        unit = match["unit"] or "s"
        if unit not in DURATION_UNITS_S:
            hint = "; 'm' is ambiguous, write 'min'" if unit == "m" else ""
            raise _duration_error(value, hint)
        seconds = float(match["num"]) * DURATION_UNITS_S[unit]
    else:
        raise _duration_error(value)
    if not math.isfinite(seconds):
        raise _duration_error(value)
    if seconds < 0 and not allow_negative:
        raise PydanticCustomError("scenario_duration", f"duration {_show(value)} must be >= 0")
    return seconds


def format_duration(seconds: float) -> str | float:
    """Write seconds as the shortest exact duration text, for resolved scenario files.

    Parameters
    ----------
    seconds
        A duration [s].

    Returns
    -------
    str or float
        ``"1y"``, ``"90min"``, ``"15s"`` when the value is a whole number of some unit (``y``,
        ``w``, ``d``, ``h``, ``min``, ``s``); otherwise the number of seconds unchanged [s],
        so that nothing is rounded. ``parse_duration_s`` reads either back to the same float.
    """
    if seconds == 0 or not math.isfinite(seconds):
        return seconds
    for unit in _FORMAT_UNITS:
        count = seconds / DURATION_UNITS_S[unit]
        if count.is_integer() and count * DURATION_UNITS_S[unit] == seconds:
            return f"{int(count)}{unit}"
    return seconds


def _parse_span(value: Any) -> float:
    return parse_duration_s(value)


def _parse_offset(value: Any) -> float:
    return parse_duration_s(value, allow_negative=True)


_DURATION_SERIALIZER = PlainSerializer(format_duration, return_type=str | float, when_used="json")

#: A time span >= 0 [s]: a number of seconds or text such as ``"15min"``, ``"2y"``.
#: ``model_dump(mode="json")`` writes it back as text (``"15min"``) when that is exact.
DurationS = Annotated[
    float, BeforeValidator(_parse_span, json_schema_input_type=float | str), _DURATION_SERIALIZER
]

#: A signed time offset [s], same syntax as :data:`DurationS` plus a sign (``"-2h"``).
SignedDurationS = Annotated[
    float, BeforeValidator(_parse_offset, json_schema_input_type=float | str), _DURATION_SERIALIZER
]


def _date_error(value: Any, hint: str = "") -> PydanticCustomError:
    return PydanticCustomError("scenario_date", f"{DATE_EXPECTED}, got {_show(value)}{hint}")


def parse_date(value: Any) -> dt.datetime:
    """Convert a scenario date to a timezone-naive :class:`datetime.datetime`.

    Parameters
    ----------
    value
        ISO text (``"2027-01-01"``, ``"2027-01-01T06:00"``, ``"2027-01-01 06:00:00"``) or a
        :class:`datetime.date` / :class:`datetime.datetime` as YAML loaders produce. A UTC
        offset of zero (``Z``, ``+00:00``) is dropped; other offsets are refused because the
        simulation clock has no time zone and a silent shift of hours would be worse.

    Returns
    -------
    datetime.datetime
        The naive date and time (midnight for a bare date).

    Raises
    ------
    pydantic_core.PydanticCustomError
        ``scenario_date`` for anything else (numbers are refused rather than read as epochs)
        and for dates outside :data:`DATE_MIN` .. :data:`DATE_MAX`.
    """
    if isinstance(value, dt.datetime):
        stamp = value
    elif isinstance(value, dt.date):
        stamp = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            stamp = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise _date_error(value) from None
    else:
        raise _date_error(value)
    if stamp.tzinfo is not None:
        if stamp.utcoffset() != dt.timedelta(0):
            raise _date_error(value, "; give the time without a UTC offset")
        stamp = stamp.replace(tzinfo=None)
    if not DATE_MIN <= stamp.replace(tzinfo=None) <= DATE_MAX:
        raise PydanticCustomError(
            "scenario_date",
            f"date {_show(value)} is out of range; expected a date from "
            f"{DATE_MIN:%Y-%m-%d} to {DATE_MAX:%Y-%m-%d}",
        )
    # Drop subclasses such as ruamel's TimeStamp so that models compare and pickle plainly.
    return dt.datetime(
        stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second,
        stamp.microsecond,
    )  # fmt: skip


def format_date(stamp: dt.datetime) -> str:
    """Write a date as the shortest ISO text that reads back the same.

    Parameters
    ----------
    stamp
        A naive date and time.

    Returns
    -------
    str
        ``"2027-01-01"`` at midnight, ``"2027-01-01T06:00"`` on a whole minute, otherwise the
        full ISO form.
    """
    if stamp.time() == dt.time(0, 0):
        return stamp.date().isoformat()
    if stamp.second == 0 and stamp.microsecond == 0:
        return stamp.isoformat(timespec="minutes")
    return stamp.isoformat()


#: A naive date and time; ``"2027-01-01"`` means midnight. ``model_dump(mode="json")`` writes
#: it back in the shortest ISO form (``"2027-01-01"``, ``"2027-01-01T06:00"``).
Date = Annotated[
    dt.datetime,
    BeforeValidator(parse_date, json_schema_input_type=str),
    PlainSerializer(format_date, return_type=str, when_used="json"),
]

#: A number > 0 (unit given by the field name).
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
#: A number >= 0 (unit given by the field name).
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
#: A dimensionless share in [0, 1] (``_frac`` fields).
Frac = Annotated[float, Field(ge=0, le=1)]
#: A whole count > 0 (``_count`` fields).
PositiveInt = Annotated[int, Field(gt=0)]
#: A whole count >= 0 (``_count`` fields).
NonNegativeInt = Annotated[int, Field(ge=0)]

__all__ = [
    "DATE_EXPECTED",
    "DATE_MAX",
    "DATE_MIN",
    "DURATION_EXPECTED",
    "DURATION_UNITS_S",
    "Date",
    "DurationS",
    "Frac",
    "NonNegativeFloat",
    "NonNegativeInt",
    "PositiveFloat",
    "PositiveInt",
    "SignedDurationS",
    "format_date",
    "format_duration",
    "parse_date",
    "parse_duration_s",
]


class DataPathMarker:
    """Marks a field whose text names a data file, relative to the file that declares it.

    The loader finds such fields (:func:`dcsim.scenario.load.load_with_extends`) so that a
    relative path written in a base file keeps resolving from the base file's folder when a
    variant in another folder extends it.
    """

    def __repr__(self) -> str:
        return "DataPathMarker()"


#: The one marker instance that :data:`DataPath` carries.
DATA_PATH = DataPathMarker()

#: A data file (CSV, weather file): relative to the folder of the file that declares it,
#: absolute, or ``<scheme>:<name>`` for a built-in source (``pvlib:``, ``site:``).
DataPath = Annotated[str, Field(min_length=1), DATA_PATH]


def is_relative_data_path(value: str) -> bool:
    """Whether a data path is relative to a folder (not absolute, no ``scheme:`` prefix)."""
    if re.match(r"^[A-Za-z][\w+.-]*:", value):
        return False  # pvlib:, site: (and a Windows drive letter)
    return not value.startswith(("/", "\\", "~"))
