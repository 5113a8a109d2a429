"""Every purchasable accelerator has a rack system, a price and a reliability entry.

So swapping one accelerator for another in a scenario is a ``set:`` of the rack group's
system (and its serving stack), never a hand-written catalog entry.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import dcsim.cli as cli
from dcsim.catalog.economics import load_economics
from dcsim.catalog.load import load_catalog
from dcsim.catalog.reliability import load_reliability

#: Accelerators sold only as cloud capacity (no system price, no purchasable node): Google
#: TPUs and AWS Trainium are rented per chip-hour. Their rack systems remain to be added
#: with a rental-cost model (dcsim's economics counts capex).
CLOUD_ONLY = frozenset({"tpu-v6e", "tpu7x", "trainium2"})

CATALOG = load_catalog()
SYSTEMS_BY_ACCELERATOR = {
    acc: sorted(k for k, rs in CATALOG.rack_systems.items() if rs.accelerator == acc)
    for acc in CATALOG.accelerators
}


@pytest.mark.parametrize("accelerator", sorted(set(CATALOG.accelerators) - CLOUD_ONLY))
def test_accelerator_has_a_system_a_price_and_reliability(accelerator):
    systems = SYSTEMS_BY_ACCELERATOR[accelerator]
    assert systems, f"{accelerator}: no rack system"
    capex = load_economics().rack_capex_usd
    reliability = load_reliability().systems
    for system in systems:
        assert capex[system].value > 0 and capex[system].source, system
        assert system in reliability, system
        # A system's design power covers its accelerators at TDP (the wall power bound).
        rs = CATALOG.rack_systems[system]
        tdp_kw = CATALOG.accelerators[accelerator].tdp_w.value / 1e3
        assert rs.design_power_kw.value >= rs.gpus_per_rack_count * tdp_kw, system


def test_cloud_only_list_is_current():
    # The exception list names only catalog accelerators that still lack a system.
    assert all(not SYSTEMS_BY_ACCELERATOR.get(a) for a in CLOUD_ONLY)
    assert CLOUD_ONLY <= set(CATALOG.accelerators)


def test_gb200_to_mi355x_is_a_set(small_hall):
    # small-hall's 12 chat racks of GB200 NVL72 (864 GPUs) become 12 MI355X nodes (96 GPUs):
    # two overrides, no catalog entry. Validation builds the plant's pools from the catalog.
    prefix = "sites.main.buildings.0.halls.0.rack_groups.chat"
    result = CliRunner().invoke(
        cli.app,
        ["validate", str(small_hall), "--set", f"{prefix}.system=mi355x-8",
         "--set", f"{prefix}.stack=rocm-vllm"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "ok (2 workloads, 16 racks" in result.stdout
