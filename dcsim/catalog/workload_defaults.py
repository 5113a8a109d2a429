"""Sourced defaults of workload-class fields (output- and prompt-length spread).

Shipped data: ``data/workload_defaults.yaml``, a flat mapping ``name -> {value, source,
confidence}`` in the format of ``grid_defaults.yaml`` and read by the same loader. A workload
that leaves such a field out (null) takes the value named here (see
:func:`dcsim.model.pool.pool_spec`).
"""

from __future__ import annotations

from pathlib import Path

from dcsim.catalog.grid_defaults import sourced_default

__all__ = ["WORKLOAD_DEFAULTS_PATH", "workload_default"]

WORKLOAD_DEFAULTS_PATH = Path(__file__).parent / "data" / "workload_defaults.yaml"


def workload_default(name: str) -> float:
    """The value of one shipped workload default.

    Parameters
    ----------
    name
        Key in ``data/workload_defaults.yaml``, e.g. ``"output_tok_cv_frac"``.

    Returns
    -------
    float
        The value, in the unit named by the key's suffix.

    Raises
    ------
    ConfigError
        For an unknown key (a programming error surfaced with the file name).
    """
    return sourced_default(WORKLOAD_DEFAULTS_PATH, name)
