"""Scenario variants: ``extends:`` a base file and ``set:`` dotted-path changes."""

from pathlib import Path

import pytest

from dcsim.errors import ConfigError
from dcsim.model.checks import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_shipped_variant_differs_from_its_base_only_where_it_says():
    base = load_scenario(SCENARIOS / "gw-campus.yaml")
    firm = load_scenario(SCENARIOS / "gw-campus-firm-only.yaml")
    assert firm.name == "gw-campus-firm-only"
    assert firm.sites[0].onsite is None and base.sites[0].onsite is not None
    assert firm.sites[0].grid.firm_mw == 800 and firm.sites[0].grid.nonfirm_mw == 0
    assert firm.workloads == base.workloads
    assert firm.sites[0].buildings == base.sites[0].buildings
    assert firm.sites[0].tariff == base.sites[0].tariff


def test_variant_of_a_variant_and_relative_paths(tmp_path):
    small = (SCENARIOS / "small-hall.yaml").read_text()
    write(tmp_path, "base.yaml", small)
    write(
        tmp_path,
        "v1.yaml",
        "extends: base.yaml\nname: v1\nset:\n  sites.main.import_limit_mw: 3.0\n",
    )
    sub = tmp_path / "sub"
    sub.mkdir()
    write(sub, "v2.yaml", "extends: ../v1.yaml\nname: v2\nset:\n  seed: 11\n")
    sc = load_scenario(sub / "v2.yaml")
    assert (sc.name, sc.seed, sc.sites[0].import_limit_mw) == ("v2", 11, 3.0)


def test_bad_set_path_names_the_variant_file_and_line(tmp_path):
    write(tmp_path, "base.yaml", (SCENARIOS / "small-hall.yaml").read_text())
    v = write(tmp_path, "v.yaml", "extends: base.yaml\nset:\n  sites.mian.import_limit_mw: 3\n")
    with pytest.raises(ConfigError) as err:
        load_scenario(v)
    assert f"{v}:3" in str(err.value) and "mian" in str(err.value)


def test_bad_value_in_set_names_the_variant(tmp_path):
    write(tmp_path, "base.yaml", (SCENARIOS / "small-hall.yaml").read_text())
    v = write(tmp_path, "v.yaml", "extends: base.yaml\nset:\n  sites.main.import_limit_mw: -3\n")
    with pytest.raises(ConfigError) as err:
        load_scenario(v)
    assert f"{v}:3" in str(err.value) and "-3" in str(err.value)


def test_missing_base_and_cycles_are_one_line_errors(tmp_path):
    v = write(tmp_path, "v.yaml", "extends: nowhere.yaml\n")
    with pytest.raises(ConfigError, match="no such file"):
        load_scenario(v)
    write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_scenario(tmp_path / "a.yaml")
