"""Random streams of a run: one independent generator per process family and member."""

from __future__ import annotations

import zlib

import numpy as np


def rng_for(seed: int, family: str, index: int = 0) -> np.random.Generator:
    """Random stream of one process family and member, independent of all other streams.

    Streams are keyed by a stable hash of the family name, so adding a process family does
    not shift the numbers of the existing ones (same scenario + seed = same results).

    Parameters
    ----------
    seed
        Run seed.
    family
        Process family, e.g. ``"demand"``.
    index
        Member of the family, e.g. the class index.
    """
    key = (zlib.crc32(family.encode()), index)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))
