"""The what-if notebooks run end to end (short horizons), and are stored without outputs."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
#: Horizon the tests give each notebook (the notebook's own default is longer).
SHORT_HORIZON = {"heat-wave-vs-cooling-design.ipynb": "10d"}


def test_there_are_three_what_if_notebooks():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    src = nb.cells[1].source
    assert re.search(r'^HORIZON = "', src, flags=re.M), "first code cell sets HORIZON"
    horizon = SHORT_HORIZON.get(path.name, "2d")
    nb.cells[1].source = re.sub(r'^HORIZON = "[^"]*"', f'HORIZON = "{horizon}"', src, flags=re.M)
    # Notebooks only import dcsim; they read ../scenarios relative to the notebooks folder.
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type == "execute_result" for o in outputs)  # the KPI tables
