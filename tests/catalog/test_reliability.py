"""The reliability catalog reproduces Llama 3 Table 5 and covers every rack system."""

from __future__ import annotations

import pytest

from dcsim.catalog.load import load_catalog
from dcsim.catalog.reliability import load_reliability
from dcsim.errors import ConfigError

#: Llama 3 Table 5 (facility.md): unexpected interruptions by cause, 419 in all.
TABLE5 = {
    "gpu": 148, "hbm": 72, "software_bug": 54, "network": 35, "host_maintenance": 32,
    "sram": 19, "gpu_system_processor": 17, "nic": 7, "nccl_watchdog": 7,
    "silent_data_corruption": 6, "thermal_interface": 6, "ssd": 3, "psu": 3, "chassis": 2,
    "io_board": 2, "dependency": 2, "cpu": 2, "system_memory": 2,
}  # fmt: skip
GPU_H = 16384 * 54 * 24  # 21,233,664 GPU-hours
HOST_H = 2048 * 54 * 24  # 2,654,208 host-hours (8 GPUs per H100 host)


@pytest.fixture(scope="module")
def rel():
    return load_reliability()


def test_table5_counts_sum_to_419():
    assert sum(TABLE5.values()) == 419


def test_each_cause_reproduces_its_table5_count(rel):
    for cause, count in TABLE5.items():
        entry = rel.causes[cause]
        assert entry.llama3_count == count
        exposure = GPU_H if entry.basis == "gpu" else HOST_H
        assert entry.basis in ("gpu", "host")
        # Rates carry 5 significant digits.
        assert entry.rate_per_h.value * exposure == pytest.approx(count, rel=1e-4), cause
    ref = rel.reference
    assert (ref.gpus_count, ref.duration_d, ref.unexpected_interruptions_count) == (16384, 54, 419)
    assert ref.gpus_count // ref.gpus_per_host_count == 2048


def test_the_only_extra_cause_has_no_h100_exposure(rel):
    extra = set(rel.causes) - set(TABLE5)
    assert extra == {"nvlink_switch_tray"}
    assert rel.causes["nvlink_switch_tray"].basis == "nvlink_tray"
    assert rel.systems["dgx-h100"].nvlink_trays_count.value == 0
    assert rel.causes["nvlink_switch_tray"].rate_per_h.confidence == "U"


def test_every_rack_system_has_basis_counts(rel):
    systems = set(load_catalog().rack_systems)
    assert systems <= set(rel.systems)
    # NVL72 racks: 18 compute trays, 9 switch trays; 8-GPU nodes: one host.
    assert rel.systems["gb200-nvl72"].hosts_per_rack_count.value == 18
    assert rel.systems["gb200-nvl72"].nvlink_trays_count.value == 9
    assert rel.systems["dgx-h100"].hosts_per_rack_count.value == 1


def test_every_repair_time_is_graded_and_parts_have_an_rma(rel):
    for cause, entry in rel.causes.items():
        assert entry.repair_swap_h.confidence in ("P", "S", "U")
        assert entry.blast_reason
        if entry.needs_part:
            assert entry.repair_rma_d.value > 0, cause


def test_a_negative_rate_in_a_file_is_a_one_line_error(tmp_path):
    text = tmp_path / "r.yaml"
    from dcsim.catalog.reliability import RELIABILITY_PATH

    raw = RELIABILITY_PATH.read_text(encoding="utf-8")
    text.write_text(raw.replace("value: 6.9701e-06", "value: -6.9701e-06", 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_reliability(text)
    assert "causes.gpu.rate_per_h" in str(info.value) and "must be >= 0" in str(info.value)
    assert "\n" not in str(info.value)
