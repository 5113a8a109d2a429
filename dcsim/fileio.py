"""Output files and folders: checked before any work, written atomically.

Every command that writes (``run``, ``sweep``, ``check``, ``compare``, ``plot``) first asks
:func:`check_output_file` or :func:`check_output_dir` whether its targets can be written,
so that a folder in place of a file, a file in place of a folder, a read-only location or
an over-long name fails in one line before a simulation runs. Files are then written
through :func:`atomic_path` (or :func:`write_text_atomic`): into a hidden sibling, flushed
to disk, renamed over the target. A reader never sees half a file, and a write that fails
(disk full, permission lost) leaves the previous file, or nothing, in place.

Failures are :class:`~dcsim.errors.ConfigError` naming the path, so the CLI prints one line
and exits with code 2.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from dcsim.errors import ConfigError

#: Prefix of every temporary file or folder dcsim writes beside its target.
TMP_PREFIX = ".tmp-"


def os_error_text(error: OSError) -> str:
    """The reason of an OS error in a few words: ``"No space left on device"``."""
    return error.strerror or str(error) or type(error).__name__


def _name_max(folder: Path) -> int:
    """Longest file name the file system of ``folder`` accepts [characters]."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def _check_name_lengths(path: Path, what: str, reserve: int = 0) -> None:
    """Refuse a path with a component longer than the file system allows.

    Checked lexically, before any ``stat``: a too-long component makes ``exists()`` itself
    fail. ``reserve`` is room kept on the last component for our temporaries' prefix.
    """
    limit = _name_max(Path(path.anchor) if path.is_absolute() else Path("."))
    parts = [p for p in path.parts if p not in (path.anchor, ".", "..")]
    for i, name in enumerate(parts):
        size = len(name.encode("utf-8", "surrogateescape"))
        room = limit - (reserve if i == len(parts) - 1 else 0)
        if size > room:
            raise ConfigError(
                f"the name {name[:24]}... has {size} characters; this file system allows "
                f"{room} here",
                where=f"{what} {name[:24]}...",
            )


def _probe_writable(folder: Path, where: str) -> None:
    """Create and remove a hidden file in ``folder``: the one test that root cannot bypass.

    ``os.access`` answers from permission bits, which do not bind root and say nothing of
    read-only mounts or pseudo file systems (``/proc``); creating a file does.
    """
    probe = folder / f"{TMP_PREFIX}probe-{secrets.token_hex(4)}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise ConfigError(
            f"cannot write in {folder} ({os_error_text(error)})", where=where
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def _check_creatable(path: Path, where: str) -> None:
    """``path`` does not exist: its first existing ancestor must be a writable folder."""
    ancestor = path
    while not ancestor.exists():
        if ancestor.is_symlink():
            raise ConfigError(f"{ancestor} is a dangling symbolic link", where=where)
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError(f"{ancestor} is a file, not a folder", where=where)
    _probe_writable(ancestor, where)


def check_output_dir(path: str | Path, what: str = "output folder") -> Path:
    """Check that ``path`` is, or can be made, a folder we can write files in.

    Nothing is created: a missing folder stays missing (its first existing ancestor is
    probed with a file created and removed at once).

    Parameters
    ----------
    path
        The folder.
    what
        The option or role named in the error, e.g. ``"--out"``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ConfigError
        ``"--out: results/x is a file, not a folder"``; a read-only location; a name longer
        than the file system allows.
    """
    folder = Path(path)
    where = f"{what} {folder}"
    _check_name_lengths(folder, what)
    if folder.exists():
        if not folder.is_dir():
            raise ConfigError(f"{folder} is a file, not a folder", where=where)
        _probe_writable(folder, where)
    else:
        _check_creatable(folder, where)
    return folder


def check_output_file(
    path: str | Path, what: str = "output file", suffixes: tuple[str, ...] | None = None
) -> Path:
    """Check that ``path`` can be written as a file (created, or replaced atomically).

    Parameters
    ----------
    path
        The file.
    what
        The option named in the error, e.g. ``"--junit"``.
    suffixes
        Accepted file suffixes (lower case, with the dot), e.g. ``(".png", ".pdf")``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ConfigError
        A folder in place of the file, a file in place of a parent folder, a read-only
        folder, a name too long, a suffix not in ``suffixes``.
    """
    target = Path(path)
    where = f"{what} {target}"
    # The temporary sibling is the longest name we create: ".tmp-<8 hex>-<name>".
    _check_name_lengths(target, what, reserve=len(f"{TMP_PREFIX}00000000-"))
    if target.is_dir():
        raise ConfigError(f"{target} is a folder; expected a file name", where=where)
    if suffixes is not None and target.suffix.lower() not in suffixes:
        raise ConfigError(
            f"unknown file type {target.suffix or '(none)'!r}; expected one of "
            f"{', '.join(suffixes)}",
            where=where,
        )
    if not target.name or target.name in {".", ".."}:
        raise ConfigError("expected a file name", where=where)
    parent = target.parent
    if parent.exists():
        if not parent.is_dir():
            raise ConfigError(f"{parent} is a file, not a folder", where=where)
        _probe_writable(parent, where)
    else:
        _check_creatable(parent, where)
    return target


def _fsync_dir(path: Path) -> None:
    """Flush a directory entry (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_path(path: str | Path) -> None:
    """Flush a written file (or a folder's entries) to disk before it is published."""
    p = Path(path)
    if p.is_dir():
        _fsync_dir(p)
        return
    with open(p, "rb") as handle:
        os.fsync(handle.fileno())


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success flush it and rename it over ``path``.

    The writer (``DataFrame.to_parquet``, ``Figure.savefig``, ...) writes the yielded path.
    On any error the temporary file is removed and ``path`` is left as it was. Missing
    parent folders are created.

    Parameters
    ----------
    path
        The final file.

    Yields
    ------
    pathlib.Path
        The hidden temporary file to write (``.tmp-<random>-<name>`` in the same folder).

    Raises
    ------
    ConfigError
        ``"<path>: cannot write (No space left on device)"`` for an OS error while creating
        the folder, writing, flushing or renaming.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"cannot create the folder {target.parent} ({os_error_text(error)})", str(target)
        ) from None
    tmp = target.with_name(f"{TMP_PREFIX}{secrets.token_hex(4)}-{target.name}")
    try:
        yield tmp
        fsync_path(tmp)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except OSError as error:
        raise ConfigError(f"cannot write ({os_error_text(error)})", str(target)) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def write_text_atomic(text: str, path: str | Path) -> Path:
    """Write UTF-8 text atomically (see :func:`atomic_path`); newlines as given.

    Parameters
    ----------
    text
        The content.
    path
        The file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    target = Path(path)
    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return target


def write_bytes_atomic(data: bytes, path: str | Path) -> Path:
    """Write bytes atomically (see :func:`atomic_path`)."""
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target
