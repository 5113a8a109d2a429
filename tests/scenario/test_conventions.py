"""File conventions: the JSON Schema, error paths by name, variants' lines and data folders."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from dcsim.errors import ConfigError
from dcsim.model.checks import load_scenario
from dcsim.model.grid_files import resolve_data_path
from dcsim.scenario import base_dir
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


# --------------------------------------------------------------------------- paths by name

SMALL_HALL = ROOT / "scenarios" / "small-hall.yaml"
GW_CAMPUS = ROOT / "scenarios" / "gw-campus.yaml"


def line_of(text: str, needle: str, nth: int = 0) -> int:
    """1-based line of the nth line containing ``needle``."""
    return [i + 1 for i, s in enumerate(text.splitlines()) if needle in s][nth]


def error_of(path: Path, overrides: list[str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_scenario(path, overrides)
    return str(info.value)


def test_schema_error_names_list_items_by_name(tmp_path):
    text = GW_CAMPUS.read_text(encoding="utf-8")
    at = text.index("{name: chat, system: ", text.index("- name: b3h1"))
    end = text.index("}", at)
    text = text[:at] + re.sub(r"count: \d+", "count: -1", text[at:end]) + text[end:]
    path = tmp_path / "gw.yaml"
    path.write_text(text, encoding="utf-8")
    line = text.count("\n", 0, at) + 1
    assert error_of(path) == (
        f"{path}:{line}: sites.campus.buildings.b3.halls.b3h1.rack_groups.chat.count: "
        "-1 must be > 0"
    )


def test_items_without_a_name_keep_their_index(tmp_path):
    text = SMALL_HALL.read_text(encoding="utf-8").replace(
        "      noise_corr_s: 1h\n",
        "      noise_corr_s: 1h\n      bursts:\n"
        "        - {start: 2027-01-05, duration_s: 6h, multiplier_frac: -2}\n",
    )
    path = tmp_path / "bursts.yaml"
    path.write_text(text, encoding="utf-8")
    assert error_of(path) == (
        f"{path}:{line_of(text, 'multiplier_frac: -2')}: "
        "workloads.chat.demand.bursts.0.multiplier_frac: -2 must be > 0"
    )


def test_named_check_error_names_list_items_by_name(tmp_path):
    # 16 racks x 132 kW design = 2.112 MW (catalog gb200-nvl72) against a 1 MW feed.
    text = SMALL_HALL.read_text(encoding="utf-8").replace("feed_mw: 2.4 ", "feed_mw: 1.0 ")
    path = tmp_path / "feed.yaml"
    path.write_text(text, encoding="utf-8")
    message = error_of(path)
    assert message.startswith(
        f"{path}:{line_of(text, 'feed_mw: 1.0')}: sites.main.buildings.b1.halls.h1.feed_mw: "
        "1 MW is below the racks' design power 2.112 MW"
    )


def test_override_errors_echo_the_path_as_written():
    by_name = "sites.main.buildings.b1.halls.h1.rack_groups.chat.count"
    assert error_of(SMALL_HALL, [f"{by_name}=-3"]) == f"--set {by_name}: -3 must be > 0"
    by_index = "sites.0.buildings.0.halls.0.rack_groups.0.count"
    assert error_of(SMALL_HALL, [f"{by_index}=-3"]) == f"--set {by_index}: -3 must be > 0"
    # A check blaming the hall's feed for racks an override added is the override's fault.
    assert error_of(SMALL_HALL, [f"{by_name}=100"]).startswith(
        "--set sites.main.buildings.b1.halls.h1.feed_mw: 2.4 MW is below the racks' design "
        "power 13.728 MW"  # (100 + 4) racks x 132 kW
    )


# --------------------------------------------------------------------------- variants


def write_variant(folder: Path, base: Path, changes: str, name: str = "v.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"extends: {base}\nname: v\nset:\n{changes}", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            "sites.main.buildings.b1.halls.h1.rack_groups.chat.count: -3",
            "sites.main.buildings.b1.halls.h1.rack_groups.chat.count: -3 must be > 0",
        ),
        # Errors reported at the base's fields, caused by the variant's set: entry.
        (
            "workloads.chat.demand.base_tok_per_s: 5",
            "workloads.chat.demand: give exactly one of base_tok_per_s or base_capacity_frac",
        ),
        (
            "sites.main.buildings.b1.halls.h1.rack_groups.chat.count: 100",
            "sites.main.buildings.b1.halls.h1.feed_mw: 2.4 MW is below the racks' design "
            "power 13.728 MW",
        ),
    ],
)
def test_variant_error_points_at_its_set_entry(tmp_path, change, expected):
    path = write_variant(tmp_path, SMALL_HALL, f"  seed: 3\n  {change}\n")
    message = error_of(path)
    assert message.startswith(f"{path}:5: {expected}"), message


def test_error_in_a_base_names_the_base_file(tmp_path):
    text = SMALL_HALL.read_text(encoding="utf-8").replace("count: 12,", "count: -12,")
    (tmp_path / "base").mkdir()
    base = tmp_path / "base" / "hall.yaml"
    base.write_text(text, encoding="utf-8")
    path = write_variant(tmp_path, Path("base/hall.yaml"), "  seed: 3\n")
    assert error_of(path) == (
        f"{tmp_path}/base/hall.yaml:{line_of(text, 'count: -12')}: "
        "sites.main.buildings.b1.halls.h1.rack_groups.chat.count: -12 must be > 0"
    )


# --------------------------------------------------------------------------- data folders

PRICE_CSV = ROOT / "scenarios" / "data" / "ercot_north_price_2023.csv"
CARBON_CSV = ROOT / "scenarios" / "data" / "ercot_north_carbon_2023.csv"


@pytest.mark.parametrize("base_name", ["gw-campus.yaml", "gw-campus-heat-wave.yaml"])
def test_base_data_paths_resolve_from_the_base_folder(tmp_path, base_name):
    # gw-campus.yaml declares data/ercot_north_*.csv relative to scenarios/; the heat-wave
    # variant extends it from the same folder, so a chain of two bases is covered too.
    base = ROOT / "scenarios" / base_name
    path = write_variant(tmp_path / "elsewhere", base, "  seed: 3\n")
    sc = load_scenario(path)
    site = sc.sites[0]
    price = resolve_data_path(site.tariff.energy.path, base_dir(sc))
    carbon = resolve_data_path(site.carbon.intensity.path, base_dir(sc))
    assert price.resolve() == PRICE_CSV.resolve() and price.is_file()
    assert carbon.resolve() == CARBON_CSV.resolve() and carbon.is_file()
    # The weather is a library site (or a pvlib sample), not a path: left as written.
    assert site.weather.file == "site:dallas"


def test_set_data_paths_resolve_from_the_variant_folder(tmp_path):
    folder = tmp_path / "mine"
    (folder / "data").mkdir(parents=True)
    shutil.copy(CARBON_CSV, folder / "data" / "carbon.csv")
    path = write_variant(
        folder,
        ROOT / "scenarios" / "gw-campus.yaml",
        "  sites.campus.carbon.intensity: {type: file, path: data/carbon.csv}\n",
    )
    sc = load_scenario(path)
    site = sc.sites[0]
    assert site.carbon.intensity.path == "data/carbon.csv"  # the variant's own, unchanged
    carbon = resolve_data_path(site.carbon.intensity.path, base_dir(sc))
    assert carbon.resolve() == (folder / "data" / "carbon.csv").resolve()
    price = resolve_data_path(site.tariff.energy.path, base_dir(sc))
    assert price.resolve() == PRICE_CSV.resolve()  # still the base's


def test_variant_beside_its_base_keeps_the_paths_as_written():
    sc = load_scenario(ROOT / "scenarios" / "gw-campus-heat-wave.yaml")
    assert sc.sites[0].tariff.energy.path == "data/ercot_north_price_2023.csv"
