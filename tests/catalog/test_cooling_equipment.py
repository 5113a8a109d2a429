"""The shipped cooling catalog: provenance of every number, types, loader errors."""

from importlib import resources

import pytest
from ruamel.yaml import YAML

from dcsim.catalog.cooling_equipment import (
    CDU,
    CRAH,
    AdiabaticPad,
    Chiller,
    CoolingTower,
    DryCooler,
    Fluids,
    Humidifier,
    Pump,
    SpaceLoads,
    load_cooling_equipment,
)
from dcsim.catalog.schema import Sourced
from dcsim.errors import ConfigError


def _raw():
    path = resources.files("dcsim.catalog") / "data" / "cooling_equipment.yaml"
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def _numbers(node, path=""):
    if isinstance(node, dict):
        if "value" in node:
            yield path, node
            return
        for key, child in node.items():
            yield from _numbers(child, f"{path}.{key}" if path else str(key))
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield path, node


def test_every_number_has_a_source_and_a_grade():
    count = 0
    for path, leaf in _numbers(_raw()):
        assert isinstance(leaf, dict), f"bare number at {path}"
        assert set(leaf) == {"value", "source", "confidence"}, path
        assert leaf["confidence"] in {"P", "S", "U", "fit"}, path
        assert len(leaf["source"].strip()) > 15, path
        count += 1
    assert count > 60


def test_fitted_numbers_name_their_fit():
    for path, leaf in _numbers(_raw()):
        if leaf["confidence"] == "fit":
            assert leaf["source"].startswith("fit:"), path


def test_one_entry_of_each_kind():
    eq = load_cooling_equipment()
    kinds = {type(e) for e in eq.values()}
    assert kinds == {
        Fluids, CDU, Pump, DryCooler, AdiabaticPad, CoolingTower, Chiller, CRAH, Humidifier,
        SpaceLoads,
    }  # fmt: skip
    assert {eq[k].condenser for k in eq if isinstance(eq[k], Chiller)} == {"air", "water"}
    for entry in eq.values():
        for name in type(entry).model_fields:
            value = getattr(entry, name)
            if isinstance(value, Sourced):
                assert value.value == value.value  # not NaN


def test_facility_reference_figures_are_respected():
    # facility.md: CDU approach 2-5 K (U); water-cooled centrifugal COP 6-7 at AHRI (S).
    eq = load_cooling_equipment()
    assert 2.0 <= eq["cdu_2mw"].rated_approach_delta_k.value <= 5.0
    assert 6.0 <= eq["chiller_wc_3500kw"].rating_cop.value <= 7.0


def test_bad_entry_names_file_entry_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("p:\n  type: adiabatic_pad\n  name: x\n  saturation_efficiency_frac: 1.5\n"
                   "  bleed_frac: 0.2\n  fan_power_adder_frac: 0.1\n")  # fmt: skip
    with pytest.raises(ConfigError, match=r"bad\.yaml: p\.adiabatic_pad\.saturation_efficiency"):
        load_cooling_equipment(bad)
    missing = tmp_path / "nofluids.yaml"
    missing.write_text("{}\n")
    with pytest.raises(ConfigError, match="fluids: missing"):
        load_cooling_equipment(missing)
    with pytest.raises(ConfigError, match="cannot read file"):
        load_cooling_equipment(tmp_path / "absent.yaml")
