"""``dcsim catalog TABLE``: every table, three formats, a legend, a one-line unknown table."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

import dcsim.cli as cli
from dcsim.catalog.listing import ALL_TABLES, CONFIDENCE_LEGEND, list_table
from dcsim.catalog.load import load_catalog
from dcsim.catalog.schema import Confidence

runner = CliRunner()

SHIPPED = "dcsim/catalog/data"


def test_legend_covers_every_grade_of_the_schema():
    assert set(CONFIDENCE_LEGEND) == set(Confidence.__args__)


@pytest.mark.parametrize("table", ALL_TABLES)
def test_every_table_lists_with_a_legend(table):
    result = runner.invoke(cli.app, ["catalog", table])
    assert result.exit_code == 0, result.output
    assert f"catalog: {table}" in result.stdout
    assert "confidence: P = primary source read" in result.stdout


def test_economics_csv_is_the_shipped_file_figure_by_figure():
    result = runner.invoke(cli.app, ["catalog", "economics", "--format", "csv"])
    assert result.exit_code == 0, result.output
    df = pd.read_csv(io.StringIO(result.stdout), index_col=0)
    with open(f"{SHIPPED}/economics.yaml", encoding="utf-8") as fh:
        raw = YAML(typ="safe").load(fh)
    gb200 = df[(df["entry"] == "rack_capex_usd") & (df["field"] == "gb200-nvl72")].iloc[0]
    assert gb200["value"] == raw["rack_capex_usd"]["gb200-nvl72"]["value"]
    assert gb200["confidence"] == raw["rack_capex_usd"]["gb200-nvl72"]["confidence"]
    # One row per sourced leaf: the rack prices plus the scalar parameters.
    scalars = [k for k, v in raw.items() if isinstance(v, dict) and "value" in v]
    prices = 2 * len(raw["token_price_usd_per_mtok"])  # input and output per model
    assert len(df) == len(raw["rack_capex_usd"]) + len(scalars) + prices


def test_accelerators_json_matches_the_loaded_catalog():
    result = runner.invoke(cli.app, ["catalog", "accelerators", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    cat = load_catalog()
    assert set(data) == set(cat.accelerators)
    assert data["gb200"]["tdp_w"] == cat.accelerators["gb200"].tdp_w.value


def test_unknown_table_and_format_are_one_line_exit_2():
    result = runner.invoke(cli.app, ["catalog", "gpus"])
    assert result.exit_code == 2
    assert result.stderr == (
        "dcsim: error: catalog: unknown table 'gpus'; known: " + ", ".join(ALL_TABLES) + "\n"
    )
    result = runner.invoke(cli.app, ["catalog", "power", "--format", "xml"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "'xml' is not a format" in result.stderr


def test_weather_sites_table_has_the_library():
    df = list_table("weather_sites")
    assert "phoenix" in df.index and df.loc["phoenix", "koppen"] == "BWh"
