"""The ``windows:`` block: parsing, defaults, named checks and the JSON Schema."""

from __future__ import annotations

import json

import jsonschema
import pytest

from dcsim.errors import ConfigError
from dcsim.model.checks import load_scenario
from dcsim.scenario.json_schema import scenario_json_schema
from dcsim.scenario.windows_checks import WINDOW_CHECKS


def _load(small_hall, window: dict, **extra):
    return load_scenario(small_hall, {"horizon_s": "1d", "windows": [window], **extra})


def test_defaults_and_canonical_start(small_hall):
    sc = _load(small_hall, {"name": "w", "start": "2027-01-04 14:00"})
    (win,) = sc.windows
    # A date-time is kept in its canonical text; a rule stays as written.
    assert win.start == "2027-01-04T14:00"
    assert win.duration_s == 3600.0 and win.warmup_s == 600.0
    assert win.replicas_count == 16 and win.router == "least_loaded"
    assert win.arrival_cv_frac == 1.0 and win.classes is None and win.chunk_tok is None
    assert _load(small_hall, {"name": "w", "start": "peak:chat"}).windows[0].start == "peak:chat"
    assert _load(small_hall, {"name": "w", "start": "curtailment:deepest"}).windows[0].start == (
        "curtailment:deepest"
    )


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (
            {"name": "w", "start": "sunrise"},
            "--set windows.w.start: 'sunrise' is not a window start; expected a date-time such "
            "as '2027-07-15T14:00' or a rule: peak:<class>, curtailment:deepest",
        ),
        (
            {"name": "w", "start": "peak:chat", "replicas_count": 0},
            "--set windows.w.replicas_count: 0 sampled replicas; expected at least 1 (or 'auto')",
        ),
        (
            {"name": "w", "start": "peak:chat", "lengths": {"chat": {"output": {"mean_tok": 0}}}},
            "--set windows.w.lengths.chat.output.mean_tok: 0 must be > 0",
        ),
        (
            {"name": "w", "start": "peak:chat", "lengths": {"chat": {"input": {"mean_tok": -5}}}},
            "--set windows.w.lengths.chat.input.mean_tok: -5 must be > 0",
        ),
        (
            {"name": "w", "start": "peak:chat", "classes": ["chta"]},
            "--set windows.w.classes.0: unknown workload class 'chta'; did you mean 'chat'?",
        ),
        (
            {"name": "w", "start": "peak:chta"},
            "--set windows.w.start: rule 'peak:chta': unknown workload class 'chta'; did you "
            "mean 'chat'?",
        ),
        (
            {"name": "w", "start": "2027-01-05T23:30"},
            "--set windows.w.start: window 2027-01-05T23:30 to 2027-01-06T00:30 is outside the "
            "horizon 2027-01-04 to 2027-01-05; expected a window inside it",
        ),
        (
            {"name": "w", "start": "2027-01-03T23:00"},
            "--set windows.w.start: window 2027-01-03T23:00 to 2027-01-04 is outside the horizon "
            "2027-01-04 to 2027-01-05; expected a window inside it",
        ),
        (
            {"name": "w", "start": "peak:chat", "pool_replicas_count": {"chat@gb300": 2}},
            "--set windows.w.pool_replicas_count: unknown pool 'chat@gb300'; did you mean "
            "'chat@gb200-nvl72'?",
        ),
        (
            {"name": "w", "start": "peak:chat", "duration_s": "30s"},
            "--set windows.w.duration_s: 30s is shorter than a tick (1min); expected at least "
            "one tick",
        ),
    ],
)
def test_bad_windows_are_one_line(small_hall, window, message):
    with pytest.raises(ConfigError) as err:
        _load(small_hall, window)
    assert str(err.value) == message


def test_window_names_unique(small_hall):
    w = {"name": "w", "start": "peak:chat"}
    with pytest.raises(ConfigError, match="window name 'w' is used twice"):
        load_scenario(small_hall, {"horizon_s": "1d", "windows": [w, dict(w)]})


def test_checks_are_named():
    names = [c.__name__ for c in WINDOW_CHECKS]
    assert names == ["check_windows_classes_known", "check_windows_in_horizon"]


def test_json_schema_has_windows(small_hall):
    schema = scenario_json_schema()
    props = schema["properties"]["windows"]
    assert props["type"] == "array"
    text = json.dumps(schema)
    options = (
        "replicas_count", "arrival_cv_frac", "router", "p99_confidence_frac", "table_tok",
        "warmup_s", "requests_sample_count", "p99_rel_halfwidth_frac",
    )  # fmt: skip
    for option in options:
        assert f'"{option}"' in text
    validator = jsonschema.Draft202012Validator(schema)
    data = {
        "name": "x", "start": "2027-01-04", "horizon_s": "1d",
        "workloads": [], "sites": [],
        "windows": [{"name": "w", "start": "peak:chat", "replicas_count": "auto",
                     "lengths": {"chat": {"output": {"mean_tok": 300, "cv_frac": 0.5}}}}],
    }  # fmt: skip
    assert [e.message for e in validator.iter_errors(data) if "windows" in str(e.path)] == []
    data["windows"][0]["router"] = "random"
    assert any("random" in e.message for e in validator.iter_errors(data))
