"""The kernels' compile cache follows every source a kernel compiles, not only its own file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numba

import dcsim.kernels as kernels

PACKAGE = Path(kernels.__file__).resolve().parents[1]

# pdu_loss_w(1000 W, 0.98) = 1000 (1/0.98 - 1) = 20.408... W; the edited copy returns
# 2 x that: a kernel that calls it through a stale cache would still print the first value.
_PROBE = """
import numba, dcsim.kernels
from dcsim.physics.power_chain import pdu_loss_w

@numba.njit(cache=True)
def probe(p):
    return pdu_loss_w(p, 0.98)

print(repr(probe(1000.0)), numba.config.CACHE_DIR)
"""


def _run_probe(root: Path, cache: Path) -> tuple[float, str]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(root)}
    probe = root / "dcsim" / "kernels" / "probe_cache.py"
    # Written once: a rewrite would change its timestamp, which alone makes Numba recompile.
    if not probe.exists():
        probe.write_text(_PROBE)
    out = subprocess.run(
        [sys.executable, "-c", "import dcsim.kernels.probe_cache"],
        cwd=root, env=env, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return float(out[0]), out[1]


def test_digest_changes_with_any_compiled_source_and_not_with_others(tmp_path):
    copy = tmp_path / "dcsim"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = kernels.source_digest(copy)
    assert before == kernels.source_digest(PACKAGE)
    (copy / "cli.py").write_text("# not compiled by any kernel\n")
    assert kernels.source_digest(copy) == before
    with (copy / "physics" / "power_chain.py").open("a") as f:
        f.write("\n# an edit\n")
    assert kernels.source_digest(copy) != before


def test_the_running_cache_folder_is_named_by_the_digest():
    assert Path(numba.config.CACHE_DIR) == kernels.cache_base_dir() / kernels.source_digest()


def test_a_physics_edit_is_never_served_from_a_stale_cache(tmp_path):
    root = tmp_path / "src"
    shutil.copytree(PACKAGE, root / "dcsim", ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "cache"
    first, dir_first = _run_probe(root, cache)
    assert abs(first - 1000.0 * (1.0 / 0.98 - 1.0)) < 1e-9
    again, dir_again = _run_probe(root, cache)
    assert (again, dir_again) == (first, dir_first)  # same sources: same folder, same value
    chain = root / "dcsim" / "physics" / "power_chain.py"
    text = chain.read_text()
    assert "def pdu_loss_w(" in text
    # Double every PDU loss by renaming the function and wrapping it under the old name.
    chain.write_text(
        text.replace("def pdu_loss_w(", "def _pdu_loss_once_w(", 1)
        + "\n\n@register_jitable\ndef pdu_loss_w(it_power_w, pdu_eff_frac):\n"
        + "    return 2.0 * _pdu_loss_once_w(it_power_w, pdu_eff_frac)\n"
    )
    edited, dir_edited = _run_probe(root, cache)
    assert dir_edited != dir_first
    assert abs(edited - 2.0 * first) < 1e-9
