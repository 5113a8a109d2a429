"""Provenance of a run: scenario hash, run id, versions and git sha.

Together with ``scenario.yaml`` these make a run folder self-describing: anyone can
reproduce the run from the folder alone (same scenario text, same seed, same code).
No function here touches the network; the git helpers only read the repository.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import operator
import os
import platform
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: Version of the run-folder layout; bump when files or their meaning change.
RUN_FORMAT_VERSION = 1

#: Leading hex digits of the scenario hash kept in a run id.
RUN_ID_HASH_CHARS = 8

#: Upper bound on one git call [s]; provenance must never stall a run.
_GIT_TIMEOUT_S = 5.0

_HEX_RE = re.compile(r"[0-9a-f]+")
# SHA-1 repositories give 40 hex digits, SHA-256 repositories 64.
_SHA_RE = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def _git(path: str | Path | None, *args: str) -> str | None:
    """Run a read-only git command in ``path``; its stripped stdout, or None on any failure."""
    where = Path(path) if path is not None else _PACKAGE_DIR
    env = dict(os.environ)
    # Never prompt, and never take the optional index lock (``git status`` would otherwise
    # refresh and rewrite the index of the user's checkout).
    env.update(GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", LC_ALL="C")
    try:
        completed = subprocess.run(
            ["git", "-C", str(where), *args],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if completed.returncode != 0:
        return None
    return completed.stdout.strip()


def git_sha(path: str | Path | None = None) -> str | None:
    """Return the commit checked out at ``path``, or None when it is not a git checkout.

    Never raises: a missing ``git`` executable, a folder outside any repository, a
    repository without commits or a timeout all give None.

    Parameters
    ----------
    path
        A folder inside the checkout; default the folder holding the ``dcsim`` package.

    Returns
    -------
    str or None
        Full commit hash (40 hex digits, 64 for SHA-256 repositories) or None.
    """
    out = _git(path, "rev-parse", "--verify", "--quiet", "HEAD")
    if out is None or not _SHA_RE.fullmatch(out):
        return None
    return out


def git_dirty(path: str | Path | None = None) -> bool | None:
    """Return whether tracked files at ``path`` differ from the checked-out commit.

    Untracked files are ignored. Never raises; read-only (no index lock is taken).

    Parameters
    ----------
    path
        A folder inside the checkout; default the folder holding the ``dcsim`` package.

    Returns
    -------
    bool or None
        True if there are uncommitted changes to tracked files, False if clean, None when
        ``path`` is not a git checkout or git cannot be run.
    """
    out = _git(path, "status", "--porcelain", "--untracked-files=no")
    if out is None:
        return None
    return out != ""


def scenario_hash(resolved_yaml_text: str) -> str:
    """Return the SHA-256 of the resolved scenario text.

    The text is hashed exactly as given (UTF-8 bytes, no normalisation), so the hash
    identifies the ``scenario.yaml`` written to the run folder byte for byte.

    Parameters
    ----------
    resolved_yaml_text
        The scenario after includes and overrides, as written to ``scenario.yaml``.

    Returns
    -------
    str
        64 lowercase hex digits.
    """
    return hashlib.sha256(resolved_yaml_text.encode("utf-8")).hexdigest()


def _as_utc(moment: datetime, what: str) -> datetime:
    """Convert an aware datetime to UTC; reject naive ones, whose zone would be a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what}: {moment!r} must be timezone-aware (e.g. datetime.now(UTC))")
    return moment.astimezone(UTC)


def run_id(scenario_name: str, seed: int, scenario_hash: str, now: datetime | None = None) -> str:
    """Return the identifier of a run, used as its folder name.

    Form ``<UTC time to the second>Z-s<seed>-<first 8 hex of the scenario hash>``, e.g.
    ``"20261122T004012Z-s42-1a2b3c4d"``. Ids sort chronologically as strings, and two runs
    of the same scenario differ unless they share the second, the seed and the scenario
    text (in which case they are the same run, and :func:`~dcsim.results.io.write_run`
    refuses the second one).

    Parameters
    ----------
    scenario_name
        Name of the scenario. It is not part of the id, because runs are stored under
        ``<root>/<scenario_name>/<run_id>/``; it is checked to be a usable folder name.
    seed
        Root seed of the run [-]; an integer (may be negative or large).
    scenario_hash
        Hex digest from :func:`scenario_hash` (at least 8 lowercase hex digits).
    now
        Start of the run, timezone-aware; default the current time.

    Returns
    -------
    str
        The run id.

    Raises
    ------
    ValueError
        If ``scenario_name`` is empty or not a plain folder name, ``scenario_hash`` is not
        hex, or ``now`` is naive.
    TypeError
        If ``seed`` is not an integer.
    """
    if not scenario_name or scenario_name in {".", ".."} or re.search(r"[/\\\x00]", scenario_name):
        raise ValueError(f"scenario_name: {scenario_name!r} must be a plain folder name")
    # operator.index accepts numpy integers and rejects floats; a bool is always a mistake.
    if isinstance(seed, bool):
        raise TypeError(f"seed: {seed!r} must be an integer")
    try:
        seed = operator.index(seed)
    except TypeError:
        raise TypeError(f"seed: {seed!r} must be an integer") from None
    short = scenario_hash[:RUN_ID_HASH_CHARS]
    if len(short) < RUN_ID_HASH_CHARS or not _HEX_RE.fullmatch(short):
        raise ValueError(
            f"scenario_hash: {scenario_hash!r} must be at least {RUN_ID_HASH_CHARS} lowercase "
            "hex digits"
        )
    started = _as_utc(now if now is not None else datetime.now(UTC), "now")
    return f"{started:%Y%m%dT%H%M%S}Z-s{seed}-{short}"


def _version(distribution: str, module: str | None = None) -> str | None:
    """Installed version of a distribution, falling back to the module's ``__version__``."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        pass
    loaded = sys.modules.get(module or distribution)
    version = getattr(loaded, "__version__", None)
    return None if version is None else str(version)


def dcsim_version() -> str:
    """Return the dcsim version: installed metadata, else ``dcsim.__version__``, else a marker.

    Returns
    -------
    str
        E.g. ``"0.1.0"``; ``"0+unknown"`` when running from a source tree that was never
        installed and defines no ``__version__``.
    """
    try:
        return importlib.metadata.version("dcsim")
    except importlib.metadata.PackageNotFoundError:
        pass
    import dcsim

    return str(getattr(dcsim, "__version__", "0+unknown"))


def build_metadata(
    seed: int,
    scenario_hash: str,
    wall_time_s: float,
    started_utc: datetime,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Collect the provenance of a run for ``metadata.json``.

    Parameters
    ----------
    seed
        Root seed of the run [-].
    scenario_hash
        SHA-256 hex digest of the resolved scenario text (:func:`scenario_hash`).
    wall_time_s
        Wall-clock duration of the run [s].
    started_utc
        When the run started, timezone-aware (stored as ISO 8601 in UTC, ``...Z``).
    extra
        Further JSON-serialisable entries (``run_id``, ``scenario_name``, ``overrides``, ...).
        They may not replace the standard keys.

    Returns
    -------
    dict
        ``run_format_version``, ``seed``, ``scenario_hash``, ``started_utc``,
        ``wall_time_s``, ``dcsim_version``, ``python_version``, ``numpy_version``,
        ``numba_version``, ``pandas_version``, ``pyarrow_version``, ``platform``,
        ``machine``, ``git_sha`` (None outside a checkout), ``git_dirty`` (None outside a
        checkout), then the ``extra`` entries.

    Raises
    ------
    ValueError
        If ``started_utc`` is naive or ``extra`` repeats a standard key.
    """
    started = _as_utc(started_utc, "started_utc")
    meta: dict[str, Any] = {
        "run_format_version": RUN_FORMAT_VERSION,
        "seed": int(seed),
        "scenario_hash": scenario_hash,
        "started_utc": started.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "wall_time_s": float(wall_time_s),
        "dcsim_version": dcsim_version(),
        "python_version": platform.python_version(),
        # Read from package metadata, not by importing: importing numba costs ~0.5 s.
        "numpy_version": _version("numpy"),
        "numba_version": _version("numba"),
        "pandas_version": _version("pandas"),
        "pyarrow_version": _version("pyarrow"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "git_sha": git_sha(),
        "git_dirty": git_dirty(),
    }
    for key, value in (extra or {}).items():
        if key in meta:
            raise ValueError(f"extra: {key!r} is a standard metadata key and cannot be replaced")
        meta[key] = value
    return meta
