"""Reading a catalog YAML file once per content: the parse is kept while the file is unchanged.

A run asks for the same equipment files once per hall (the cooling design, the IT outside the
racks, the power chain), and ruamel's pure-Python parser takes tens of milliseconds per file,
so re-parsing cost seconds per run. The cache is keyed on the resolved path with its size and
modification time, so an edited file is read again; callers get their own deep copy, so no
caller can change what another reads.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from dcsim.errors import ConfigError

__all__ = ["read_yaml"]


@functools.lru_cache(maxsize=64)
def _parsed(path: str, mtime_ns: int, size_b: int) -> object:
    # mtime_ns and size_b are part of the key only: a changed file is a new entry.
    with open(path, encoding="utf-8") as f:
        return YAML(typ="safe").load(f)


def read_yaml(path: Path) -> object:
    """Parse a YAML file (safe loader), reusing the parse of an unchanged file.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    The parsed document, a fresh copy the caller may change.

    Raises
    ------
    ConfigError
        If the file cannot be read (``cannot read file (...)``) or is not YAML
        (``invalid YAML: <first line of the parser's message>``), located at the path.
    """
    try:
        resolved = Path(path).resolve()
        st = resolved.stat()
        return copy.deepcopy(_parsed(str(resolved), st.st_mtime_ns, st.st_size))
    except OSError as e:
        raise ConfigError(f"cannot read file ({e.strerror})", where=str(path)) from e
    except YAMLError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"invalid YAML: {first}", where=str(path)) from e
