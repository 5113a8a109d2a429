"""File conventions: the JSON Schema, error paths by name, variants' lines and data folders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from dcsim.scenario.json_schema import scenario_json_schema
from dcsim.scenario.load import load_yaml_with_lines

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = scenario_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_declares_dialect_and_id() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dcsim", "schema"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    schema = json.loads(out.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "urn:dcsim:schema:scenario"
    assert schema == scenario_json_schema()


def test_every_shipped_scenario_validates(validator) -> None:
    # 8 files today, 4 of them variants (extends + set); the count guards against an empty glob.
    assert len(SHIPPED) >= 8
    variants = 0
    for path in SHIPPED:
        data, _ = load_yaml_with_lines(path)  # ruamel, dates kept as written (as editors see)
        variants += "extends" in data
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == [], f"{path.name}: {errors}"
    assert variants >= 4


def test_misspelt_top_level_key_is_rejected(validator) -> None:
    data, _ = load_yaml_with_lines(ROOT / "scenarios" / "small-hall.yaml")
    data["horizon"] = data.pop("horizon_s")
    messages = sorted(e.message for e in validator.iter_errors(data))
    assert messages == [
        "'horizon_s' is a required property",
        "Additional properties are not allowed ('horizon' was unexpected)",
    ]


def test_variant_needs_no_required_fields_but_set_needs_extends(validator) -> None:
    assert list(validator.iter_errors({"extends": "a.yaml", "set": {"seed": 3}})) == []
    messages = [e.message for e in validator.iter_errors({"set": {"seed": 3}, "name": "x"})]
    assert "'extends' is a dependency of 'set'" in messages
    assert "'sites' is a required property" in messages
    bad_path = [e.message for e in validator.iter_errors({"extends": "a", "set": {"a..b": 1}})]
    assert len(bad_path) == 1 and "a..b" in bad_path[0]
