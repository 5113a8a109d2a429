"""GPU board power limits: the DVFS law against published power-limit settings, bad limits."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from dcsim.catalog.load import check_power_limit_w, load_catalog, min_power_limit_w
from dcsim.errors import ConfigError
from dcsim.kernels.oppoints import pool_operating_point
from dcsim.model.pool import pool_spec

_POINTS = YAML(typ="safe").load(
    (resources.files("dcsim.catalog") / "data" / "calibration_points.yaml").read_text()
)["power_limit_points"]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _operating_point(catalog, point, limit_w):
    spec = pool_spec(
        catalog, point["rack_system"], point["model"], point["precision"], point["stack"],
        point["input_tok"], point["output_tok"], None, None,
        replica_gpus=point["replica_gpus_count"], max_batch_count=point["max_batch_count"],
        gpu_power_limit_w=limit_w,
    )  # fmt: skip
    b_star, x_replica, _, clock, gpu_w, x_rack, p_rack = pool_operating_point(spec.to_params())
    return spec, x_rack, p_rack, clock, gpu_w


@pytest.mark.parametrize("point_id", sorted(_POINTS))
def test_throughput_and_tok_per_j_at_published_power_limits(catalog, point_id):
    """MLPerf v4.1 MaxQ settings (NVIDIA configs): throughput ratio within 5%, wall power in band.

    Published: H200 at 500 W serves 86/104 = 0.827 of its 700 W rate, H100 TP2 at 450 W
    66/80 = 0.825 (calibration_points.yaml power_limit_points); the H200 MaxQ node drew
    6.15-6.28 kW at the wall. tok/J at the limit then follows from both.
    """
    point = _POINTS[point_id]
    tdp_w = catalog.accelerators[catalog.rack_systems[point["rack_system"]].accelerator].tdp_w
    _, x_full, p_full, clock_full, _ = _operating_point(catalog, point, tdp_w.value)
    spec, x_lim, p_lim, clock_lim, gpu_w = _operating_point(catalog, point, point["limit_w"])
    assert spec.power_limit_w == point["limit_w"]
    # The limit binds: the GPU sits at it and the clock falls.
    assert gpu_w == pytest.approx(point["limit_w"], rel=1e-9) and clock_lim < clock_full
    assert x_lim / x_full == pytest.approx(point["throughput_ratio"], rel=0.05)
    if point["wall_kw_range"]:
        lo_kw, hi_kw = point["wall_kw_range"]
        assert 0.95 * lo_kw * 1e3 <= p_lim <= 1.05 * hi_kw * 1e3
        # tok/J at the limit: the published ratio applied to the full-power rate of the same
        # stack, over the middle of the measured wall-power band (both checks above combined).
        measured_tok_per_j = point["throughput_ratio"] * x_full / (0.5 * (lo_kw + hi_kw) * 1e3)
        assert x_lim / p_lim == pytest.approx(measured_tok_per_j, rel=0.08)
    # Energy per token falls under a limit (voltage drops with the clock): tok/J rises.
    assert x_lim / p_lim > x_full / p_full


def test_memory_bound_decode_loses_little_under_a_limit(catalog):
    """Ma et al. 2026 (arXiv 2605.11999): H200 decode at small batch draws well under 700 W,
    so a 500 W limit costs it (almost) nothing; prefill-heavy work pays in proportion."""
    small = pool_spec(catalog, "hgx-h200", "llama-3.1-8b", "fp8", "trtllm", 200, 1000, None, None,
                      replica_gpus=1, max_batch_count=16, gpu_power_limit_w=500)  # fmt: skip
    full = pool_spec(catalog, "hgx-h200", "llama-3.1-8b", "fp8", "trtllm", 200, 1000, None, None,
                     replica_gpus=1, max_batch_count=16)  # fmt: skip
    x_small = pool_operating_point(small.to_params())[5]
    x_full = pool_operating_point(full.to_params())[5]
    assert x_small / x_full > 0.98


def test_rack_system_limit_is_the_default(catalog):
    cat = load_catalog({"rack_systems": {"hgx-h200": {"gpu_power_limit_w": 550}}})
    spec = pool_spec(cat, "hgx-h200", "llama-2-70b", "fp8", "trtllm", 295, 294, None, None)
    assert spec.power_limit_w == 550.0
    spec = pool_spec(catalog, "hgx-h200", "llama-2-70b", "fp8", "trtllm", 295, 294, None, None)
    assert spec.power_limit_w == catalog.accelerators["h200-sxm"].tdp_w.value


@pytest.mark.parametrize("limit_w", [50.0, 70.0, 199.0, 701.0])
def test_limit_outside_the_settable_range_is_one_line_error(catalog, limit_w):
    # H100 SXM: settable from 200 W (NVIDIA's Redfish AllowableMin) to its 700 W TDP.
    with pytest.raises(ConfigError) as err:
        pool_spec(catalog, "dgx-h100", "llama-2-70b", "fp8", "trtllm", 295, 294, None, None,
                  pool_name="sites.0.rack_groups.1", gpu_power_limit_w=limit_w)  # fmt: skip
    assert str(err.value) == (
        f"pool sites.0.rack_groups.1: gpu_power_limit_w: {limit_w:g} W is outside the board "
        "power limits of h100-sxm; expected >= its minimum (200 W) and <= its maximum (700 W)"
    )
    spec = pool_spec(catalog, "dgx-h100", "llama-2-70b", "fp8", "trtllm", 295, 294, None, None,
                     gpu_power_limit_w=200.0)  # fmt: skip
    assert spec.power_limit_w == 200.0 and spec.min_power_limit_w == 200.0


def test_chip_without_a_published_minimum_is_limited_above_idle(catalog):
    # MI300X: no published lowest limit, so the bound is its idle power (110 W), exclusive.
    with pytest.raises(ConfigError, match=r"expected > idle_w \(110 W\)"):
        check_power_limit_w(catalog.accelerators["mi300x"], "mi300x", 110.0, "x")
    check_power_limit_w(catalog.accelerators["mi300x"], "mi300x", 111.0, "x")
    assert min_power_limit_w(catalog.accelerators["mi300x"]) == 110.0


def test_minimum_limit_in_the_catalog_is_checked():
    with pytest.raises(ConfigError) as err:
        load_catalog({"accelerators": {"b200": {"min_power_limit_w": 100}}}, where="x.yaml")
    assert "min_power_limit_w" in str(err.value)
    assert "must be > idle_w (130) and <= the highest limit (1000)" in str(err.value)


def test_catalog_limit_error_names_file_and_field():
    with pytest.raises(ConfigError) as err:
        load_catalog({"rack_systems": {"hgx-h200": {"gpu_power_limit_w": 2000}}}, where="x.yaml")
    assert str(err.value) == (
        "x.yaml.rack_systems.hgx-h200.gpu_power_limit_w: 2000 W is outside the board power "
        "limits of h200-sxm; expected >= its minimum (200 W) and <= its maximum (700 W)"
    )


@pytest.mark.parametrize("bad", [0, 0.5, -3])
def test_max_batch_count_below_one_is_one_line_error(catalog, bad):
    with pytest.raises(ConfigError) as err:
        pool_spec(catalog, "dgx-h100", "llama-2-70b", "fp8", "trtllm", 295, 294, None, None,
                  max_batch_count=bad)  # fmt: skip
    assert str(err.value) == (
        f"pool pool: max_batch_count: {bad!r} must be >= 1 (sequences per replica) or absent"
    )


def test_cli_rejects_a_limit_above_the_chip_maximum_with_exit_2(tmp_path):
    from typer.testing import CliRunner

    from dcsim import cli

    scenarios = Path(__file__).resolve().parents[2] / "scenarios"
    bad = tmp_path / "bad-limit.yaml"
    bad.write_text(
        f"extends: {scenarios / 'small-hall.yaml'}\n"
        "catalog:\n"
        "  rack_systems:\n"
        "    gb200-nvl72: {gpu_power_limit_w: 5000}\n"
    )
    result = CliRunner().invoke(cli.app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"dcsim: error: {bad}:4: catalog.rack_systems.gb200-nvl72.gpu_power_limit_w: 5000 W is "
        "outside the board power limits of gb200; expected >= its minimum (200 W) and <= its "
        "maximum (1200 W)\n"
    )


def test_cli_rejects_max_batch_count_below_one_with_exit_2():
    from typer.testing import CliRunner

    from dcsim import cli

    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "small-hall.yaml"
    field = "sites.0.buildings.0.halls.0.rack_groups.0.max_batch_count"
    result = CliRunner().invoke(cli.app, ["validate", str(scenario), "--set", f"{field}=0"])
    assert result.exit_code == 2
    assert result.stderr == f"dcsim: error: --set {field}: 0 must be >= 1\n"
