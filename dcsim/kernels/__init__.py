"""Compiled kernels, with an on-disk compile cache that cannot go stale.

Numba's ``cache=True`` keys a cached function on the modification time and size of the file
that defines it, not on the files of the functions it calls: after an edit of
``physics/power_chain.py`` a cached ``kernels/step.py`` function would keep running the old
loss curve. The kernels may import only ``dcsim.kernels``, ``dcsim.physics`` and
``dcsim.units`` (``tests/test_architecture.py``), so a digest of those sources names
everything a kernel can compile. The cache lives in a folder named by that digest: an edit of
any of those files, or another checkout of dcsim, compiles into a fresh folder and can never
load code compiled from other sources.

The base folder is ``$NUMBA_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/dcsim/numba`` (or
``~/.cache/dcsim/numba``). If no base folder is writable, Numba falls back to its own
locations (``__pycache__`` beside the source, still guarded by its timestamp check).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba

_PACKAGE = Path(__file__).resolve().parents[1]
#: Sources a kernel may compile, relative to the package (kept in step with the import rule
#: of ``tests/test_architecture.py``); the request-level window's compiled batching loop and
#: the iteration time it inlines are compiled code too.
COMPILED_SOURCES = (
    "kernels", "physics", "units.py", "requests/batching.py", "requests/step_time.py",
)  # fmt: skip


def source_digest(package_dir: Path = _PACKAGE) -> str:
    """Digest of every source file a kernel may compile, plus the Numba version [hex].

    Parameters
    ----------
    package_dir
        The ``dcsim`` package folder.

    Returns
    -------
    The first 16 hex digits of a SHA-256 over each file's relative path and bytes, in a
    fixed order.
    """
    sha = hashlib.sha256(numba.__version__.encode())
    for entry in COMPILED_SOURCES:
        path = package_dir / entry
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            sha.update(file.relative_to(package_dir).as_posix().encode())
            sha.update(b"\0")
            sha.update(file.read_bytes())
            sha.update(b"\0")
    return sha.hexdigest()[:16]


def cache_base_dir() -> Path:
    """Folder under which the per-digest kernel caches live."""
    explicit = os.environ.get("NUMBA_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "dcsim" / "numba"


def kernel_cache_dir() -> Path:
    """The cache folder of this set of sources: ``cache_base_dir() / source_digest()``."""
    return cache_base_dir() / source_digest()


# Numba picks a function's cache locator when ``njit(cache=True)`` decorates it, so the folder
# must be set before any kernel module is imported; this package's __init__ runs first.
numba.config.CACHE_DIR = str(kernel_cache_dir())
