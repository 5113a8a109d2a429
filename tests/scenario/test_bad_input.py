"""Bad scenario input through the CLI: one line on stderr, exit code 2, no run folder.

Each case edits the text of scenarios/small-hall.yaml in a temporary folder, so the expected
line number is computed from the edited text itself (``text.splitlines().index(...) + 1``),
never typed in by hand. The line on stderr must read
``dcsim: error: <file>:<line>: <field>: <message>`` (or ``--set <field>: ...`` for a value
given on the command line), carry no traceback, and leave the --out root empty.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dcsim.cli import app

SMALL_HALL = Path(__file__).resolve().parents[2] / "scenarios" / "small-hall.yaml"
RACK_GROUP_CHAT = "- {name: chat, system: gb200-nvl72, count: 12, workload: chat}"
CHAT_MODEL = "- name: chat\n    model: llama-3.1-70b"

#: A complete rack-system entry (every required field) except for its accelerator id.
NEW_RACK_WITH_UNKNOWN_ACCELERATOR = """
catalog:
  rack_systems:
    my-rack:
      name: Home-made NVL72
      accelerator: gb900
      gpus_per_rack_count: 72
      scaleup_domain_gpus_count: 72
      host_idle_kw: 12
      host_max_kw: 40
      psu_efficiency_frac: 0.96
      design_power_kw: 132
      liquid_heat_frac: 0.85
      max_supply_temp_degc: 40
      hbm_reserve_frac: 0.1
"""


def edit(old: str, new: str) -> str:
    """small-hall.yaml with the one occurrence of ``old`` replaced by ``new``."""
    text = SMALL_HALL.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in small-hall.yaml"
    return text.replace(old, new)


def line_of(text: str, fragment: str) -> int:
    """1-based number of the only line of ``text`` that contains ``fragment``."""
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if fragment in line]
    assert len(lines) == 1, f"{fragment!r} is on lines {lines}"
    return lines[0]


def run_bad(tmp_path: Path, text: str, *extra: str, command: str = "run") -> tuple[Path, str]:
    """Run the CLI on a bad file; check the shared contract; return (file, the message)."""
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "results"
    args = [command, str(path), *extra]
    if command == "run":
        args += ["--out", str(out), "--quiet"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dcsim: error: ")
    # Nothing was written: not even an empty scenario folder or a hidden temporary one.
    assert not out.exists() or not any(out.iterdir())
    return path, lines[0].removeprefix("dcsim: error: ")


def test_unknown_accelerator_of_a_catalog_addition(tmp_path):
    text = SMALL_HALL.read_text(encoding="utf-8") + NEW_RACK_WITH_UNKNOWN_ACCELERATOR
    path, msg = run_bad(tmp_path, text)
    line = line_of(text, "accelerator: gb900")
    assert msg.startswith(f"{path}:{line}: catalog.rack_systems.my-rack.accelerator: ")
    assert "'gb900' is not a known accelerator" in msg
    # gb900 is one digit from gb200/gb300: the suggestion names them.
    assert "did you mean" in msg and "'gb200'" in msg


def test_unknown_model_suggests_the_close_ones(tmp_path):
    text = edit(CHAT_MODEL, "- name: chat\n    model: llama-3.1-7b")
    path, msg = run_bad(tmp_path, text)
    line = line_of(text, "llama-3.1-7b")
    assert msg.startswith(f"{path}:{line}: workloads.chat.model: unknown model 'llama-3.1-7b'")
    # 'llama-3.1-7b' is one edit from both llama-3.1-8b and llama-3.1-70b.
    assert re.search(r"did you mean 'llama-3\.1-(8b|70b)'", msg)


def test_unknown_rack_system(tmp_path):
    text = edit(RACK_GROUP_CHAT, RACK_GROUP_CHAT.replace("gb200-nvl72", "gb200-nvl36"))
    path, msg = run_bad(tmp_path, text)
    line = line_of(text, "gb200-nvl36")
    field = "sites.main.buildings.b1.halls.h1.rack_groups.chat.system"
    assert msg.startswith(f"{path}:{line}: {field}: unknown rack system 'gb200-nvl36'")
    assert "did you mean 'gb200-nvl72'" in msg


def test_unknown_rack_system_on_the_command_line(tmp_path):
    text = SMALL_HALL.read_text(encoding="utf-8")
    _, msg = run_bad(
        tmp_path, text, "--set", "sites.main.buildings.b1.halls.h1.rack_groups.chat.system=x1"
    )
    assert msg.startswith("--set sites.main.buildings.b1.halls.h1.rack_groups.chat.system: ")
    assert "unknown rack system 'x1'" in msg


def too_big_for_one_gpu() -> str:
    """small-hall with chat on Llama-3.1-405B bf16 and one GB200 per replica."""
    text = edit(CHAT_MODEL, "- name: chat\n    model: llama-3.1-405b")
    text = text.replace(
        "precision: fp8\n    input_tok: 2000", "precision: bf16\n    input_tok: 2000"
    )
    group = RACK_GROUP_CHAT.replace("workload: chat}", "workload: chat, replica_gpus_count: 1}")
    return text.replace(RACK_GROUP_CHAT, group)


def test_model_that_does_not_fit_its_replica(tmp_path):
    text = too_big_for_one_gpu()
    path, msg = run_bad(tmp_path, text)
    # Blamed on the rack group (its line holds replica_gpus_count, flow style).
    line = line_of(text, "replica_gpus_count: 1")
    assert msg.startswith(f"{path}:{line}: sites.main.buildings.b1.halls.h1.rack_groups.chat: ")
    assert "does not fit a replica of 1 x gb200" in msg
    # Needed: weights 405e9 params x 2 B (bf16) = 810 GB, plus the KV cache of one sequence
    # of 2,000 + 400 tokens at 2 (K, V) x 126 layers x 8 KV heads x 128 dims x 2 B =
    # 516,096 B/token: 1.239 GB; 811.2 GB in all. Usable: 1 x 186 GB HBM of a GB200 less
    # the rack's 10 % reserve = 167.4 GB (catalog figures, Llama 3.1 model card).
    needed_gb = float(re.search(r"needs ([\d.]+) GB", msg).group(1))
    usable_gb = float(re.search(r"but ([\d.]+) GB are usable", msg).group(1))
    assert needed_gb == pytest.approx(810.0 + 2400 * 2 * 126 * 8 * 128 * 2 / 1e9, abs=0.05)
    assert usable_gb == pytest.approx(186.0 * 0.9, abs=0.05)


@pytest.mark.parametrize(
    ("old", "new", "field", "shown"),
    [
        (
            "feed_mw: 2.4 ",
            "feed_mw: 0 ",
            "sites.main.buildings.b1.halls.h1.feed_mw",
            "0 must be > 0",
        ),
        (
            "import_limit_mw: 3.2",
            "import_limit_mw: -5",
            "sites.main.import_limit_mw",
            "-5 must be > 0",
        ),
        (
            "count: 12,",
            "count: 0,",
            "sites.main.buildings.b1.halls.h1.rack_groups.chat.count",
            "0 must be > 0",
        ),
    ],
    ids=["feed_mw=0", "import_limit_mw=-5", "count=0"],
)
def test_capacities_must_be_positive(tmp_path, old, new, field, shown):
    text = edit(old, new)
    path, msg = run_bad(tmp_path, text)
    assert msg == f"{path}:{line_of(text, new.strip())}: {field}: {shown}"


def test_capacity_from_the_command_line_names_the_origin(tmp_path):
    text = SMALL_HALL.read_text(encoding="utf-8")
    _, msg = run_bad(tmp_path, text, "--set", "sites.main.import_limit_mw=-5")
    assert msg == "--set sites.main.import_limit_mw: -5 must be > 0"


def test_missing_required_field(tmp_path):
    text = edit("horizon_s: 7d\n", "")
    path, msg = run_bad(tmp_path, text)
    # A missing top-level field is reported at the start of the top-level mapping: the
    # first line that is neither blank nor a comment ("name: small-hall").
    first = next(
        i + 1 for i, s in enumerate(text.splitlines()) if s.strip() and not s.startswith("#")
    )
    assert msg == f"{path}:{first}: horizon_s: missing required field 'horizon_s'"


def test_wrong_unit_suffix_suggests_the_right_one(tmp_path):
    text = edit("feed_mw: 2.4 ", "feed_kw: 2400 ")
    path, msg = run_bad(tmp_path, text)
    line = line_of(text, "feed_kw")
    assert msg.startswith(f"{path}:{line}: sites.main.buildings.b1.halls.h1.feed_kw: ")
    assert "did you mean 'feed_mw'" in msg


def test_wrong_unit_suffix_is_one_line_naming_the_hall(tmp_path):
    # What the message says today, whatever its order: one line, in the hall, about feed_mw.
    text = edit("feed_mw: 2.4 ", "feed_kw: 2400 ")
    path, msg = run_bad(tmp_path, text)
    assert msg.startswith(f"{path}:")
    assert "sites.main.buildings.b1.halls.h1.feed_" in msg


def test_yaml_syntax_error_gives_the_line(tmp_path):
    # A key indented under a scalar: the parser stops on that very line.
    text = edit("tick_s: 1min", "  tick_s: 1min")
    path, msg = run_bad(tmp_path, text)
    line = line_of(text, "  tick_s: 1min")
    assert msg == f"{path}:{line}: YAML syntax error: mapping values are not allowed here"


def test_unclosed_bracket_names_where_it_opened(tmp_path):
    # The parser notices the missing ']' on the next line; the message names both lines.
    text = edit("tick_s: 1min", "tick_s: [1min")
    path, msg = run_bad(tmp_path, text)
    opened = line_of(text, "tick_s: [1min")
    assert msg.startswith(f"{path}:{opened + 1}: YAML syntax error: ")
    assert f"at line {opened})" in msg


def test_duplicate_key_is_a_syntax_error(tmp_path):
    text = edit("tick_s: 1min\n", "tick_s: 1min\nseed: 3\n")
    path, msg = run_bad(tmp_path, text)
    line = line_of(text, "seed: 3")
    assert msg.startswith(f'{path}:{line}: YAML syntax error: found duplicate key "seed"')


def test_horizon_shorter_than_a_tick(tmp_path):
    text = edit("horizon_s: 7d", "horizon_s: 30s")
    path, msg = run_bad(tmp_path, text)
    # 30 s < tick_s = 1min = 60 s.
    assert msg.startswith(f"{path}:{line_of(text, 'horizon_s: 30s')}: horizon_s: 30 s is shorter")
    assert "one tick (60 s)" in msg


def test_horizon_shorter_than_a_tick_from_the_command_line(tmp_path):
    text = SMALL_HALL.read_text(encoding="utf-8")
    _, msg = run_bad(tmp_path, text, "--set", "horizon_s=30s")
    assert msg.startswith("--set horizon_s: 30 s is shorter than one tick (60 s)")


def test_validate_reports_the_same_line(tmp_path):
    # `dcsim validate` goes through the same boundary: same message, same exit code.
    text = edit("feed_mw: 2.4 ", "feed_mw: 0 ")
    path, msg = run_bad(tmp_path, text, command="validate")
    line = line_of(text, "feed_mw: 0")
    assert msg == f"{path}:{line}: sites.main.buildings.b1.halls.h1.feed_mw: 0 must be > 0"


def test_every_profile_name_the_schema_accepts_runs(tmp_path):
    text = edit("daily_profile_frac: flat", "daily_profile_frac: batch")
    path = tmp_path / "batch-profile.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["run", str(path), "--set", "horizon_s=1d", "--out", str(tmp_path / "r"), "-q"]
    )
    # Either the profile exists and the run succeeds, or the input is refused on one line.
    assert result.exit_code in (0, 2), (result.exit_code, result.exception)
    if result.exit_code == 2:
        assert len(result.stderr.splitlines()) == 1
