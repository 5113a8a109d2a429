"""Recompute every calibration point from the catalog and check the fitted efficiencies.

The modelled values come from the shipped catalog (accelerators, systems, models and the
fitted ``efficiencies.yaml``) through ``pool_spec`` and the compiled kernel, never from the
stored ``fit_error``. Reference values: the published measurements transcribed, with their
sources, in ``dcsim/catalog/data/calibration_points.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dcsim.calibration import fit as cal
from dcsim.calibration.report import (
    calibration_report,
    report_markdown,
    report_text,
    validation_markdown,
    validation_report,
    validation_text,
)
from dcsim.catalog.load import catalog_table, load_catalog
from dcsim.errors import ConfigError

TOLERANCE_FRAC = 0.15

# ML.ENERGY B200 vLLM points the model cannot follow within 15%: the measured inter-token
# latency rises concavely with the batch (4.9, 11.5, 53.5, 138 ms at 8, 64, 512, 2048), while
# the roofline plus the per-step (t_fixed_s) and per-sequence (t_seq_s) overheads is convex in
# it. They are held to 20% below and listed here so that a fix shows up as an unexpected pass.
KNOWN_MISFITS = {
    "mlenergy-b200-llama31-8b-b64:tok_per_s",
    "mlenergy-b200-llama31-8b-b512:tok_per_s",
    "mlenergy-b200-llama31-8b-b2048:tok_per_s",
}
MISFIT_TOLERANCE_FRAC = 0.20

_CALIBRATION = cal.load_calibration()
_IDS = [
    f"{pid}:{quantity}"
    for pid, point in _CALIBRATION.points.items()
    for quantity, value in (("tok_per_s", point.tok_per_s), ("power_w", point.power_w))
    if value is not None
]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def frame(catalog):
    table = cal.evaluate_points(catalog, _CALIBRATION)
    print("\n" + cal.error_table(table))
    return table.assign(key=table["point"] + ":" + table["quantity"]).set_index("key")


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(k, marks=pytest.mark.xfail(strict=True, reason="B200 vLLM ITL concave"))
        if k in KNOWN_MISFITS
        else k
        for k in _IDS
    ],
)
def test_point_within_15_percent(frame, key):
    row = frame.loc[key]
    assert abs(row["error_frac"]) <= TOLERANCE_FRAC, (
        f"{key}: measured {row['measured']:.4g}, modelled {row['modelled']:.4g}, "
        f"error {100 * row['error_frac']:.1f}%"
    )


def test_known_misfits_stay_within_20_percent(frame):
    errors = frame.loc[sorted(KNOWN_MISFITS), "error_frac"].abs()
    assert (errors <= MISFIT_TOLERANCE_FRAC).all(), errors.to_dict()


def test_error_summary(frame):
    abs_err = frame["error_frac"].abs()
    # Every published point is modelled, throughput and power alike.
    assert len(frame) == len(_IDS) == 52
    assert abs_err.mean() < 0.07
    # Shared factors only (per fit group, one MoE efficiency): the median stays within 5%.
    assert abs_err.median() <= 0.05
    mlperf = abs_err[[k.startswith("v") and "deepseek" not in k for k in frame.index]]
    assert mlperf.max() < 0.10  # MLPerf points (TensorRT-LLM and ROCm), DeepSeek-R1 apart
    deepseek = abs_err[["deepseek" in k for k in frame.index]]
    assert len(deepseek) == 4 and deepseek.max() < 0.15  # 2 factors on 4 points


def test_stored_fit_error_matches_recomputation(catalog, frame):
    for key, eff in catalog.efficiencies.items():
        for point_key, stored in eff.fit_error.items():
            assert stored == pytest.approx(frame.loc[point_key, "error_frac"], abs=1e-4), (
                key,
                point_key,
            )


def test_points_carry_sources_and_scenario_slos():
    for point in _CALIBRATION.points.values():
        assert point.source and point.system
        if "server" in point.scenario or "interactive" in point.scenario:
            assert point.tpot_slo_s and point.ttft_slo_s
        else:
            assert point.tpot_slo_s is None and point.ttft_slo_s is None
        assert (point.power_w is None) == (point.power_kind is None)


def test_fitted_factors_are_physical(catalog):
    for key, eff in catalog.efficiencies.items():
        for name in ("eta_bw_frac", "eta_f_frac", "eta_pf_frac"):
            assert 0.0 < getattr(eff, name).value <= 0.95, (key, name)
        assert 0.0 <= eff.c_mem_frac.value <= 1.0 and 0.0 <= eff.c_cmp_frac.value <= 2.0
        assert eff.fit_error or eff.eta_bw_frac.confidence == "U"


def test_regeneration_is_deterministic_and_up_to_date(catalog):
    shipped = (cal.catalog_data_dir() / cal.EFFICIENCIES_FILE).read_text()
    assert cal.efficiencies_yaml(cal.calibrate(catalog, _CALIBRATION)) == shipped


def test_every_efficiency_entry_is_fitted_or_a_declared_proxy():
    cat = load_catalog()
    for key, eff in cat.efficiencies.items():
        assert eff.release, key
        if eff.factors_source == "proxy":
            source = cat.efficiencies[eff.proxy_of]
            assert source.factors_source == "fit" and eff.proxy_confidence in ("S", "U"), key
        else:
            assert eff.factors_source == "fit" and eff.proxy_of is None, key
    table = catalog_table(cat, "efficiencies")
    assert table.loc["gb300/trtllm", "proxy_of"] == "gb200/trtllm"
    assert table.loc["gb300/trtllm", "proxy_of_confidence"] == "U"
    assert table.loc["gb200/trtllm", "factors_source"] == "fit"


def test_proxy_of_an_unknown_entry_is_an_error():
    with pytest.raises(ConfigError) as err:
        load_catalog(
            {"efficiencies": {"gb300/trtllm": {"proxy_of": "gb250/trtllm"}}}, where="x.yaml"
        )
    assert str(err.value).startswith(
        "x.yaml.efficiencies.gb300/trtllm.proxy_of: 'gb250/trtllm' is not a known efficiency entry"
    )


def test_calibration_report_lists_every_point_with_its_error(catalog, frame):
    report = calibration_report(catalog)
    # Every throughput/power value plus the two MaxQ power-limit ratios.
    assert len(report) == len(_IDS) + 2
    by_key = report.assign(key=report["point"] + ":" + report["quantity"]).set_index("key")
    for key in _IDS:
        assert by_key.loc[key, "error_frac"] == pytest.approx(frame.loc[key, "error_frac"])
    ratio = by_key.loc["v41-h200-maxq-500w-llama2-offline:tok_ratio@500W"]
    assert ratio["measured"] == pytest.approx(86 / 104, abs=1e-4)
    assert abs(ratio["error_frac"]) < 0.05
    text = report_text(report)
    abs_err = report["error_frac"].abs()
    assert f"median |error| {100 * abs_err.median():.1f} %" in text.splitlines()[-1]
    assert report_markdown(report).startswith("| point | quantity | measured |")


def test_calibration_command_line(capsys):
    from dcsim.calibration.__main__ import main

    assert main(["--report"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["point", "quantity", "measured"]
    assert "median |error|" in out[-1]
    assert "validation points (not fitted)" in out
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2


def test_docs_table_is_the_current_report(catalog):
    docs = Path(__file__).resolve().parents[2] / "docs" / "calibration.md"
    text = docs.read_text(encoding="utf-8")
    assert report_markdown(calibration_report(catalog)) in text
    assert validation_markdown(validation_report(catalog)) in text


# DeepSeek-R1 points (MLPerf v5.1: Offline fitted as the trtllm-pytorch stack, Server
# validation). Reference values read from the logs cited in calibration_points.yaml:
# tokens/s and samples/s of each summary log.
_DEEPSEEK_LOGS = {
    "v51-gb300-nvl72-deepseek-r1-offline": (420659.0, 115.017),
    "v51-gb300-nvl72-deepseek-r1-server": (209327.68, 56.95),
    "v51-gb200-nvl72-deepseek-r1-offline": (289712.0, 77.995),
    "v51-gb200-nvl72-deepseek-r1-server": (167578.06, 44.76),
}
_ALL_POINTS = {**_CALIBRATION.points, **_CALIBRATION.validation}
_MLPERF_DEEPSEEK = [p for k, p in _ALL_POINTS.items() if k.startswith("v51-") and "deepseek" in k]


def test_deepseek_points_are_the_logs_as_submitted():
    assert set(_DEEPSEEK_LOGS) < set(_ALL_POINTS)
    for point_id, (tok_per_s, samples_per_s) in _DEEPSEEK_LOGS.items():
        point = _ALL_POINTS[point_id]
        assert point.tok_per_s == tok_per_s
        # Output length = the run's own tokens per sample (e.g. 420,659 / 115.017 = 3,657.4).
        assert point.output_tok == pytest.approx(tok_per_s / samples_per_s, abs=0.1)
        assert "mlperf_log_summary.txt" in point.source
    assert len(_MLPERF_DEEPSEEK) == 6
    for point in _MLPERF_DEEPSEEK:
        assert point.model == "deepseek-r1" and point.precision == "fp4"
        assert point.stack == "trtllm-pytorch"
        # Offline fitted, Server validation.
        fitted = point.point_id in _CALIBRATION.points
        assert fitted == point.scenario.endswith("offline")
        # NVIDIA's configs: TP8 with attention DP and EP8, 512 (GB300 Offline 1,536) per rank.
        assert point.replica_gpus_count == 8
        per_rank = 1536 if point.point_id == "v51-gb300-nvl72-deepseek-r1-offline" else 512
        assert point.max_batch_count == 8 * per_rank
        if point.scenario.endswith("server"):
            # MLPerf DeepSeek-R1 Server: p99 TPOT 80 ms (12.5 tok/s/user), p99 TTFT 2 s.
            assert (point.tpot_slo_s, point.ttft_slo_s) == (0.08, 2.0)
        else:
            assert point.tpot_slo_s is None and point.ttft_slo_s is None


def test_validation_points_stay_out_of_the_fit():
    # The fitted table and the efficiencies do not see them: no fit_error entry names them.
    assert not set(_CALIBRATION.validation) & set(_CALIBRATION.points)
    catalog = load_catalog()
    for eff in catalog.efficiencies.values():
        assert not any(k.split(":")[0] in _CALIBRATION.validation for k in eff.fit_error)


def test_deepseek_server_gap_is_reported(catalog):
    """What remains of issue 11's gap: the Server points, modelled 1.3-1.9x too fast.

    Measured per replica of 8 GPUs: Server runs ~1,100 sequences (Little's law on the GB200
    log: 44.76 req/s x 216 s mean latency / 9 replicas) at ~58 ms per step, Offline ~4,096
    at ~127 ms. The Offline points and NVIDIA's batch-1 figure are fitted (stack
    trtllm-pytorch: step overhead and per-sequence host time, GPU shares from the Llama
    engines). The model's Server batch runs up to the TPOT bound (80 ms on the mean ITL),
    while the submissions held ~1,100 sequences at a p99 TPOT of 64-71 ms (a submitter's
    load, not a bound the model sees), so Server stays too fast.
    """
    frame = validation_report(catalog).set_index("point")
    assert len(frame) == 3 and frame.index.str.endswith("server").all()
    assert (frame["error_frac"] > 0.2).all(), frame["error_frac"].to_dict()
    assert (frame["error_frac"] < 1.2).all(), frame["error_frac"].to_dict()
    text = validation_text(validation_report(catalog))
    assert text.splitlines()[0] == "validation points (not fitted)"
    assert "3 validation values: median |error|" in text.splitlines()[-1]


def test_deepseek_step_is_pinned_at_batch_1_and_at_the_batch_limit(catalog):
    # TensorRT-LLM tech blog 1, "Key Optimizations": 89 tokens/s per user on 8 x B200 at
    # single concurrency before multi-token prediction (ISL 1k, OSL 2k): 11.2 ms per token.
    point = _CALIBRATION.points["trtllm-blog1-b200-deepseek-r1-batch1"]
    assert (point.tok_per_s, point.max_batch_count, point.gpus_count) == (89.0, 1.0, 8)
    assert (point.input_tok, point.output_tok, point.output_tok_cv_frac) == (1024, 2048, 0.0)
    frame = cal.evaluate_points(catalog).set_index("point")
    row = frame.loc[point.point_id]
    assert row["batch_count"] == 1.0
    assert 0.0095 < row["itl_s"] < 0.013, row["itl_s"]
    # The step overhead of this stack is below the Llama engines' (19 ms): at 19 ms the
    # batch-1 point could not be met; its host time per sequence is positive (Offline slope).
    pytorch = catalog.efficiencies["b200/trtllm-pytorch"]
    engine = catalog.efficiencies["b200/trtllm"]
    assert pytorch.t_fixed_s.value < 0.6 * engine.t_fixed_s.value
    assert pytorch.t_seq_s.value > 0.0
    assert engine.t_seq_s.value == 0.0
    for pid in ("v51-gb300-nvl72-deepseek-r1-offline", "v51-gb200-nvl72-deepseek-r1-offline",
                "v51-dgx-b200-deepseek-r1-offline"):  # fmt: skip
        assert abs(frame.loc[pid, "error_frac"]) < 0.15, (pid, frame.loc[pid, "error_frac"])
