"""Global options: ``--version``, ``-v`` and ``--log-level`` (logging to stderr), completion."""

from __future__ import annotations

import logging

from typer.testing import CliRunner

import dcsim
import dcsim.cli as cli

runner = CliRunner()

#: small-hall moved to 60 N, 77.5 W: about 2,600 km from its weather file (Greensboro, 36.1 N),
#: far beyond the 300 km the weather module accepts silently.
FAR = ["--set", "sites.main.location.latitude_deg=60", "--set", "horizon_s=1h", "--no-write", "-q"]


def test_version_prints_the_package_version():
    result = runner.invoke(cli.app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"dcsim {dcsim.__version__}\n"


def test_bad_log_level_is_one_line_exit_2():
    result = runner.invoke(cli.app, ["--log-level", "loud", "catalog", "precisions"])
    assert result.exit_code == 2
    assert result.stderr == (
        "dcsim: error: --log-level: 'loud' is not a level; expected debug, info, warning, error\n"
    )


def test_weather_distance_warning_goes_through_logging(small_hall):
    result = runner.invoke(cli.app, ["run", str(small_hall), *FAR])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("dcsim: warning: sites.")
    assert "km from the site" in lines[0]
    # --log-level error silences warnings; the run is otherwise the same.
    quiet = runner.invoke(cli.app, ["--log-level", "error", "run", str(small_hall), *FAR])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == ""


def test_verbosity_sets_the_dcsim_logger_level():
    for args, level in (([], logging.WARNING), (["-v"], logging.INFO), (["-vv"], logging.DEBUG)):
        result = runner.invoke(cli.app, [*args, "catalog", "precisions"])
        assert result.exit_code == 0, result.output
        assert logging.getLogger("dcsim").level == level
    cli.configure_logging("warning")


def test_completion_options_are_offered():
    result = runner.invoke(cli.app, ["--help"])
    assert "--install-completion" in result.stdout
    assert "--show-completion" in result.stdout
