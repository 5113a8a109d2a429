"""Sourced defaults of a training job's power profile (``data/training_profiles.yaml``).

A flat mapping ``name -> {value, source, confidence}`` in the format of
:mod:`dcsim.catalog.grid_defaults`; the unit is given by the key's suffix.
"""

from __future__ import annotations

from pathlib import Path

from dcsim.catalog.grid_defaults import sourced_default

__all__ = ["TRAINING_PROFILES_PATH", "training_default"]

TRAINING_PROFILES_PATH = Path(__file__).parent / "data" / "training_profiles.yaml"


def training_default(name: str) -> float:
    """The value of one shipped training-profile default.

    Parameters
    ----------
    name
        Key in ``data/training_profiles.yaml``, e.g. ``"compute_duty_frac"``.

    Returns
    -------
    float
        The value, in the unit named by the key's suffix.

    Raises
    ------
    ConfigError
        For an unknown key.
    """
    return sourced_default(TRAINING_PROFILES_PATH, name)
