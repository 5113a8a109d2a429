"""The scenario-file boundary on small stand-in models.

Every expected line number below is counted by hand in ``BASE`` (numbered in the comment
beside it); every message is the exact text a planner will read.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dcsim.errors import ConfigError
from dcsim.scenario.load import (
    apply_overrides,
    dump_resolved,
    format_validation_errors,
    load_model,
    load_yaml_with_lines,
    parse_yaml_with_lines,
    validate_model,
)
from dcsim.scenario.types import Date, DurationS, Frac, NonNegativeFloat, PositiveFloat

# ------------------------------------------------------------------------ stand-in schema


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DryCooler(_M):
    type: Literal["dry_cooler"]
    fan_kw: PositiveFloat


class Tower(_M):
    type: Literal["tower"]
    approach_delta_k: PositiveFloat = 4.0


Cooling = Annotated[DryCooler | Tower, Field(discriminator="type")]


class Building(_M):
    name: str
    power_mw: PositiveFloat
    cooling: Cooling


class Site(_M):
    name: str
    import_limit_mw: PositiveFloat
    export_limit_mw: NonNegativeFloat = 0.0
    buildings: list[Building] = []

    @model_validator(mode="after")
    def _export_within_import(self) -> Site:
        # Names the field it is about: reported at that field's line.
        if self.export_limit_mw > self.import_limit_mw:
            raise ConfigError(
                f"{self.export_limit_mw} must be <= import_limit_mw {self.import_limit_mw}",
                where="export_limit_mw",
            )
        return self

    @model_validator(mode="after")
    def _buildings_fit(self) -> Site:
        # Names nothing: reported at the site itself.
        total_mw = sum(b.power_mw for b in self.buildings)
        if total_mw > self.import_limit_mw:
            raise ValueError(f"buildings draw {total_mw} MW, more than {self.import_limit_mw}")
        return self


class Scen(_M):
    name: str
    start: Date
    horizon_s: DurationS
    tick_s: Annotated[DurationS, Field(gt=0)] = 60.0
    share_frac: Frac = 0.5
    profile: Literal["flat", "batch"] | list[PositiveFloat] = "flat"
    tags: dict[str, int] = {}
    sites: list[Site]

    @model_validator(mode="after")
    def _names_unique(self) -> Scen:
        names = [s.name for s in self.sites]
        if len(set(names)) != len(names):
            raise ConfigError("site names must be unique", where=f"sites.{len(names) - 1}.name")
        return self


BASE = """\
name: demo
start: 2027-01-01
horizon_s: 1y
tick_s: 15min
sites:
  - name: main
    import_limit_mw: 500
    buildings:
      - name: b1
        power_mw: 100
        cooling:
          type: dry_cooler
          fan_kw: 300
      - name: b2
        power_mw: 120
        cooling: {type: tower, approach_delta_k: 5}
  - name: edge
    import_limit_mw: 50
"""
# Lines: 1 name, 2 start, 3 horizon_s, 4 tick_s, 5 sites, 6 "- name: main", 7 import_limit_mw,
# 8 buildings, 9 "- name: b1", 10 power_mw, 11 cooling, 12 type, 13 fan_kw, 14 "- name: b2",
# 15 power_mw, 16 cooling (flow), 17 "- name: edge", 18 import_limit_mw.

LINE_FORMAT = re.compile(r"^(?P<file>.+\.yaml):(?P<line>\d+): (?P<rest>\S.*)$")


def write(tmp_path, text, name="scen.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def edited(old, new):
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def error_of(tmp_path, text, **kwargs):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_model(Scen, path, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return path, message, info.value


# ------------------------------------------------------------------------ reading YAML


def test_valid_file_loads_with_units_converted(tmp_path):
    model, index = load_model(Scen, write(tmp_path, BASE))
    assert model.horizon_s == 365 * 86400.0
    assert model.tick_s == 15 * 60.0
    assert model.sites[0].buildings[1].cooling == Tower(type="tower", approach_delta_k=5)
    assert index[("sites", 0, "buildings", 1, "name")] == 14


def test_line_index_covers_keys_and_list_items(tmp_path):
    data, index = load_yaml_with_lines(write(tmp_path, BASE))
    assert index[()] == 1
    assert index[("horizon_s",)] == 3
    assert index[("sites", 0)] == 6  # a list item: the line of its dash
    assert index[("sites", 0, "buildings", 0, "cooling")] == 11
    assert index[("sites", 0, "buildings", 0, "cooling", "fan_kw")] == 13
    assert index[("sites", 0, "buildings", 1, "cooling", "approach_delta_k")] == 16
    assert index[("sites", 1, "import_limit_mw")] == 18
    # Every path in the index exists in the data and vice versa for the leaves.
    assert data["sites"][1]["import_limit_mw"] == 50


def test_data_is_plain_python(tmp_path):
    text = "a: 1\nb: 2.5\nc: true\nd: null\ne: [x, 0x10]\nf: |\n  two\n  lines\ng: 2027-01-01\n"
    data, _ = load_yaml_with_lines(write(tmp_path, text))
    assert data == {
        "a": 1,
        "b": 2.5,
        "c": True,
        "d": None,
        "e": ["x", 16],
        "f": "two\nlines\n",
        "g": "2027-01-01",  # YAML date: the text as written, which Date reads
    }

    def plain_types(value):
        if isinstance(value, dict):
            assert type(value) is dict
            for key, item in value.items():
                plain_types(key)
                plain_types(item)
        elif isinstance(value, list):
            assert type(value) is list
            for item in value:
                plain_types(item)
        else:
            assert type(value) in (str, int, float, bool, type(None))

    plain_types(data)


def test_merge_keys_are_resolved(tmp_path):
    text = "base: &b\n  x: 1\n  y: 2\nother:\n  <<: *b\n  y: 3\n"
    data, index = load_yaml_with_lines(write(tmp_path, text))
    assert data["other"] == {"y": 3, "x": 1}
    assert index[("other", "y")] == 6
    assert index[("other", "x")] == 5  # merged keys have no line: where the mapping starts


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        # unclosed flow list opened on line 2; the parser notices on line 3
        ("a: 1\nb: [1, 2\nc: 3\n", 3, "expected ',' or ']', but got ':'"),
        ("a: 1\nb:\n  c: 1\n  c: 2\n", 4, 'found duplicate key "c"'),
        ("a: 1\nb: c: d\n", 2, "mapping values are not allowed here"),
        ("a:\n\t- 1\n", 2, "found character '\\t' that cannot start any token"),
        ("a: 1\nb: 'x\n", 3, "found unexpected end of stream"),
    ],
)
def test_yaml_syntax_error_names_file_and_line(tmp_path, text, line, problem):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_yaml_with_lines(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: YAML syntax error: {problem}")
    assert "\n" not in message


def test_missing_file_and_wrong_top_level(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml: file not found$"):
        load_yaml_with_lines(tmp_path / "nope.yaml")
    top_list = write(tmp_path, "- 1\n- 2\n")
    with pytest.raises(ConfigError) as info:
        load_yaml_with_lines(top_list)
    assert (
        str(info.value)
        == f"{top_list}:1: expected a mapping of fields at the top level, got a list [1, 2]"
    )
    empty = write(tmp_path, "# nothing here\n", "empty.yaml")
    with pytest.raises(ConfigError, match=r"empty\.yaml: file is empty"):
        load_yaml_with_lines(empty)
    with pytest.raises(ConfigError, match="is a directory"):
        load_yaml_with_lines(tmp_path)


def test_yaml_tags_are_refused(tmp_path):
    # Round-trip mode builds no Python objects; an application tag is an error, not a class.
    path = write(tmp_path, "a: 1\nb: !!python/object:os.system ls\n")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}:2: unsupported YAML value"):
        load_yaml_with_lines(path)


# ------------------------------------------------------------------------ validation errors


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # out of range: value and bound
        ("power_mw: 100", "power_mw: -5", "10: sites.main.buildings.b1.power_mw: -5 must be > 0"),
        # wrong type
        (
            "power_mw: 100",
            "power_mw: abc",
            "10: sites.main.buildings.b1.power_mw: expected a number, got 'abc'",
        ),
        # missing required field: reported at the mapping that lacks it
        ("horizon_s: 1y\n", "", "1: horizon_s: missing required field 'horizon_s'"),
        (
            "    import_limit_mw: 50\n",
            "",
            "17: sites.edge.import_limit_mw: missing required field 'import_limit_mw'",
        ),
        # discriminated union with a wrong tag: at the line of `type:`
        (
            "type: dry_cooler",
            "type: tower2",
            "12: sites.main.buildings.b1.cooling: type: 'tower2' is not one of 'dry_cooler', "
            "'tower'; did you mean 'tower'?",
        ),
        # ... and without a tag
        (
            "          type: dry_cooler\n",
            "",
            "11: sites.main.buildings.b1.cooling: missing required field 'type' "
            "(one of 'dry_cooler', 'tower')",
        ),
        # errors inside a union member: the tag is not part of the path
        (
            "approach_delta_k: 5",
            "approach_delta_k: 0",
            "16: sites.main.buildings.b2.cooling.approach_delta_k: 0 must be > 0",
        ),
        # durations
        (
            "horizon_s: 1y",
            "horizon_s: 15 minutes",
            "3: horizon_s: expected a duration such as '15min', '1h', '2d', '1y', got '15 minutes'",
        ),
        ("tick_s: 15min", "tick_s: 0s", "4: tick_s: '0s' must be > 0"),
        # dates
        (
            "start: 2027-01-01",
            "start: 01/01/2027",
            "2: start: expected a date such as '2027-01-01' or '2027-01-01T06:00', "
            "got '01/01/2027'",
        ),
        # an impossible date is the schema's to refuse (with a line), not the YAML reader's
        (
            "start: 2027-01-01",
            "start: 2027-13-01",
            "2: start: expected a date such as '2027-01-01' or '2027-01-01T06:00', "
            "got '2027-13-01'",
        ),
        # fraction above 1
        ("tick_s: 15min", "share_frac: 1.5", "4: share_frac: 1.5 must be <= 1"),
        # fits no alternative of a union: one message, with a did-you-mean
        (
            "tick_s: 15min",
            "profile: flatt",
            "4: profile: expected 'flat' or 'batch', or a list, got 'flatt'; did you mean 'flat'?",
        ),
        # a list that fits the list alternative: only its bad item is reported
        ("tick_s: 15min", "profile: [1, -2]", "4: profile.1: -2 must be > 0"),
        (
            "tick_s: 15min",
            "profile: 3",
            "4: profile: expected 'flat' or 'batch', or a list, got 3",
        ),
        # a dict value
        ("tick_s: 15min", "tags: {a: x}", "4: tags.a: expected an integer, got 'x'"),
        # a scalar where a tagged mapping belongs
        (
            "cooling: {type: tower, approach_delta_k: 5}",
            "cooling: tower",
            "16: sites.main.buildings.b2.cooling: expected a mapping with type: 'dry_cooler' or "
            "'tower' and its fields, got 'tower'",
        ),
        # model validator raising ConfigError(where=...): at the field it names
        (
            "    import_limit_mw: 50\n",
            "    import_limit_mw: 50\n    export_limit_mw: 60\n",
            "19: sites.edge.export_limit_mw: 60.0 must be <= import_limit_mw 50.0",
        ),
        # model validator raising ValueError: at the model (the site's dash line)
        (
            "import_limit_mw: 500",
            "import_limit_mw: 150",
            "6: sites.main: buildings draw 220.0 MW, more than 150.0",
        ),
        # root validator naming a path with an index
        ("name: edge", "name: main", "17: sites.1.name: site names must be unique"),
    ],
)
def test_each_error_kind_is_one_line_at_the_right_line(tmp_path, old, new, expected):
    path, message, _ = error_of(tmp_path, edited(old, new))
    assert message == f"{path}:{expected}"
    assert LINE_FORMAT.match(message)


def test_unknown_field_suggests_the_unit_it_meant(tmp_path):
    path, message, _ = error_of(tmp_path, edited("power_mw: 100", "power_kw: 100"))
    # The misspelt key also leaves power_mw missing; the did-you-mean error says both, so it
    # is the only one reported, at the misspelt key's own line.
    assert message == (
        f"{path}:10: sites.main.buildings.b1.power_kw: unknown field 'power_kw'; "
        "did you mean 'power_mw'?"
    )
    path, message, error = error_of(
        tmp_path, edited("power_mw: 100", "power_mw: 100\n        power_kw: 3")
    )
    assert message == (
        f"{path}:11: sites.main.buildings.b1.power_kw: unknown field 'power_kw'; "
        "did you mean 'power_mw'?"
    )


def test_unit_family_beats_string_similarity(tmp_path):
    class Battery(_M):
        capacity_mwh: float = 1.0
        capacity_kw: float = 1.0

    path = write(tmp_path, "capacity_kwh: 3\n")
    data, index = load_yaml_with_lines(path)
    with pytest.raises(ConfigError) as info:
        validate_model(Battery, data, path, index)
    # difflib alone prefers capacity_kw (a power); the energy field is what was meant.
    assert str(info.value).endswith("unknown field 'capacity_kwh'; did you mean 'capacity_mwh'?")


def test_unknown_field_without_a_close_name_lists_the_fields(tmp_path):
    path, message, _ = error_of(
        tmp_path, edited("power_mw: 100", "power_mw: 100\n        colour: red")
    )
    assert message == (
        f"{path}:11: sites.main.buildings.b1.colour: unknown field 'colour' "
        "(known fields: name, power_mw, cooling)"
    )


def test_several_errors_first_in_file_order_with_count(tmp_path):
    text = edited("tick_s: 15min", "tick_s: 15min\nshare_frac: 2").replace(
        "power_mw: 120", "power_mw: -1"
    )
    text = text.replace("horizon_s: 1y", "horizon_s: soon")
    path, message, error = error_of(tmp_path, text)
    assert message.startswith(f"{path}:3: horizon_s: expected a duration")
    assert message.endswith("(+2 more errors)")
    assert error.errors == [
        f"{path}:3: horizon_s: expected a duration such as '15min', '1h', '2d', '1y', got 'soon'",
        f"{path}:5: share_frac: 2 must be <= 1",
        f"{path}:16: sites.main.buildings.b2.power_mw: -1 must be > 0",
    ]
    assert all(LINE_FORMAT.match(line) for line in error.errors)


def test_format_validation_errors_lists_every_error(tmp_path):
    from pydantic import ValidationError

    path = write(tmp_path, edited("power_mw: 100", "power_mw: -5").replace("1y", "1 year"))
    data, index = load_yaml_with_lines(path)
    with pytest.raises(ValidationError) as info:
        Scen.model_validate(data)
    lines = format_validation_errors(Scen, info.value, data, path, index)
    assert [LINE_FORMAT.match(line)["line"] for line in lines] == ["3", "10"]


def test_validate_model_without_an_index_names_the_file():
    with pytest.raises(ConfigError) as info:
        validate_model(Tower, {"type": "tower", "approach_delta_k": -1}, "inline", {})
    assert str(info.value) == "inline: approach_delta_k: -1 must be > 0"


def test_validation_context_reaches_validators(tmp_path):
    from pydantic import ValidationInfo, field_validator

    class Limited(_M):
        power_mw: float

        @field_validator("power_mw")
        @classmethod
        def _within_context(cls, v: float, info: ValidationInfo) -> float:
            if v > info.context["max_mw"]:
                raise ValueError(f"{v} exceeds {info.context['max_mw']}")
            return v

    path = write(tmp_path, "power_mw: 7\n")
    with pytest.raises(ConfigError, match=r":1: power_mw: 7.0 exceeds 5$"):
        load_model(Limited, path, context={"max_mw": 5})
    assert load_model(Limited, path, context={"max_mw": 10})[0].power_mw == 7.0


# ------------------------------------------------------------------------ overrides


def test_override_by_index_and_by_name(tmp_path):
    path = write(tmp_path, BASE)
    model, index = load_model(
        Scen,
        path,
        overrides=[
            "sites.0.import_limit_mw=600",
            "sites.edge.import_limit_mw=75",
            "sites.main.buildings.b2.cooling={type: dry_cooler, fan_kw: 40}",
            "horizon_s=2d",
            "profile=[1, 2]",
            "tags.x=3",
        ],
    )
    assert model.sites[0].import_limit_mw == 600.0
    assert model.sites[1].import_limit_mw == 75.0
    assert model.sites[0].buildings[1].cooling == DryCooler(type="dry_cooler", fan_kw=40)
    assert model.horizon_s == 2 * 86400.0
    assert model.profile == [1.0, 2.0]
    assert model.tags == {"x": 3}
    assert index[("sites", 1, "import_limit_mw")] == "--set"
    assert ("sites", 0, "buildings", 1, "cooling", "approach_delta_k") not in index


def test_override_values_are_read_as_yaml():
    data = {"a": 1, "items": [{"name": "x", "v": 0}]}
    new, _ = apply_overrides(
        data, ["a=3", "b=true", "c=[1, 2]", "d=15min", "e=", "f=2027-01-01", "items.x.v=0.5"]
    )
    assert new == {
        "a": 3,
        "b": True,
        "c": [1, 2],
        "d": "15min",
        "e": None,
        "f": "2027-01-01",
        "items": [{"name": "x", "v": 0.5}],
    }
    assert data == {"a": 1, "items": [{"name": "x", "v": 0}]}  # input untouched


def test_override_mapping_values_are_used_as_given():
    new, index = apply_overrides({"a": {"b": 1}}, {"a.b": "3"}, where="sweep", line_index={})
    assert new == {"a": {"b": "3"}}
    assert index == {("a", "b"): "sweep"}


def test_override_negative_index_resolves_to_position():
    new, index = apply_overrides({"l": [1, 2, 3]}, ["l.-1=9"], line_index={("l", 2): 4})
    assert new == {"l": [1, 2, 9]}
    assert index == {("l", 2): "--set"}


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "sites.mian.import_limit_mw=5",
            "--set sites.mian.import_limit_mw: no such field; did you mean 'main'?",
        ),
        # a new mapping key is created; the schema then finds it unknown
        ("sitez.0.name=x", "--set sitez: unknown field 'sitez'; did you mean 'sites'?"),
        ("sites.7.name=x", "--set sites.7.name: no such item; sites has 2 item(s), indexes 0 to 1"),
        ("name.x=3", "--set name.x: no such field; name is 'demo', not a mapping or list"),
        ("justtext", "--set justtext: expected path=value, got 'justtext'"),
        ("a..b=1", "--set a..b: empty field name in path"),
        ("tags=[1, 2", "--set tags: cannot read value '[1, 2' as YAML: "),
    ],
)
def test_bad_override_paths(tmp_path, override, expected):
    with pytest.raises(ConfigError) as info:
        load_model(Scen, write(tmp_path, BASE), overrides=[override])
    assert str(info.value).startswith(expected)
    assert "\n" not in str(info.value)


def test_error_in_overridden_value_points_at_the_override(tmp_path):
    path = write(tmp_path, BASE)
    with pytest.raises(ConfigError) as info:
        load_model(Scen, path, overrides=["sites.main.import_limit_mw=-5"])
    assert str(info.value) == "--set sites.main.import_limit_mw: -5 must be > 0"
    with pytest.raises(ConfigError) as info:
        load_model(Scen, path, overrides=["sites.edge.import_limt_mw=3"])
    assert str(info.value) == (
        "--set sites.edge.import_limt_mw: unknown field 'import_limt_mw'; "
        "did you mean 'import_limit_mw'?"
    )
    with pytest.raises(ConfigError) as info:
        load_model(Scen, path, overrides=["start=2027-02-30"])
    assert str(info.value).startswith("--set start: expected a date such as '2027-01-01'")
    # A value replaced by a mapping: what is missing inside it is the override's fault.
    with pytest.raises(ConfigError) as info:
        load_model(Scen, path, overrides=["sites.0.buildings.b2.cooling={type: dry_cooler}"])
    assert str(info.value) == (
        "--set sites.0.buildings.b2.cooling.fan_kw: missing required field 'fan_kw'"
    )


def test_ambiguous_name_asks_for_an_index():
    with pytest.raises(ConfigError, match="2 items are named 'x'; address the item by its index"):
        apply_overrides({"l": [{"name": "x"}, {"name": "x"}]}, ["l.x.v=1"])


# ------------------------------------------------------------------------ resolved output


def test_dump_resolved_round_trips(tmp_path):
    model, _ = load_model(Scen, write(tmp_path, BASE), overrides=["profile=[1.5, 0.5]"])
    text = dump_resolved(model, header="resolved scenario\ndcsim test")
    assert text.startswith("# resolved scenario\n# dcsim test\nname: demo\nstart: '2027-01-01'\n")
    assert "horizon_s: 1y\n" in text and "tick_s: 15min\n" in text
    again, _ = load_model(Scen, write(tmp_path, text, "resolved.yaml"))
    assert again == model
    # Defaults are written out: the resolved file stands alone.
    assert "export_limit_mw: 0.0" in text


def test_dump_resolved_keeps_model_field_order(tmp_path):
    model, _ = load_model(Scen, write(tmp_path, BASE))
    keys = [line.split(":")[0] for line in dump_resolved(model).splitlines() if line[:1].isalpha()]
    assert keys == list(Scen.model_fields)


def test_parse_yaml_with_lines_names_its_source():
    with pytest.raises(ConfigError, match=r"^cli:1: YAML syntax error"):
        parse_yaml_with_lines("a: b: c\n", "cli")


def test_override_fills_a_section_absent_or_null_in_the_file():
    new, index = apply_overrides(
        {"a": None, "b": 1}, ["a.x.y=2", "c.d=3"], line_index={(): 1, ("a",): 3, ("b",): 4}
    )
    assert new == {"a": {"x": {"y": 2}}, "b": 1, "c": {"d": 3}}
    # The outermost mapping an override created is the override's; lines above it stay.
    assert index == {(): 1, ("a",): "--set", ("b",): 4, ("c",): "--set"}


def test_validator_where_may_address_list_items_by_name(tmp_path):
    class Item(_M):
        name: str
        v: float

    class Items(_M):
        items: list[Item]

        @model_validator(mode="after")
        def _second_item_small(self) -> Items:
            if self.items[1].v > 1:
                raise ConfigError(f"{self.items[1].v} must be <= 1", where="items.b.v")
            return self

    path = write(tmp_path, "items:\n  - name: a\n    v: 5\n  - name: b\n    v: 7\n")
    data, index = load_yaml_with_lines(path)
    with pytest.raises(ConfigError) as info:
        validate_model(Items, data, path, index)
    assert str(info.value) == f"{path}:5: items.b.v: 7.0 must be <= 1"
