"""The scenario-file boundary: YAML text -> plain data with line numbers -> validated model.

Nothing downstream sees raw YAML. Every problem a planner can make in a file becomes a
:class:`~dcsim.errors.ConfigError` of one line, ``"<file>:<line>: <field.path>: <message>"``,
naming the offending value and what was expected; a value set on the command line reads
``"--set <field.path>: <message>"`` instead.

The functions work for any pydantic v2 root model (nested models, lists, dicts, discriminated
unions keyed by ``type:``), so the scenario schema, catalog additions and test models share them.

Line index
----------
``load_yaml_with_lines`` returns, beside the data, a dict from field paths to 1-based line
numbers: ``("sites", 0, "buildings", 1, "name") -> 14``. A mapping entry maps to the line of
its key, a list item to the line where the item starts, the empty path ``()`` to the first
line of the document. An overridden path maps to the override's origin (``"--set"``) instead
of a line. An error is reported at its own path, or at the nearest ancestor the index knows
(a missing field is reported at the line of the mapping that lacks it).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import difflib
import io
import json
import os
import re
import stat
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from dcsim.errors import ConfigError
from dcsim.scenario.types import (
    DATA_PATH,
    DATE_EXPECTED,
    format_duration,
    is_relative_data_path,
    parse_duration_s,
)

#: A field path: mapping keys and list indexes, e.g. ``("sites", 0, "name")``.
FieldPath = tuple[Any, ...]
#: Field path -> 1-based line number, or the name of a non-file origin such as ``"--set"``.
LineIndex = dict[FieldPath, int | str]

ModelT = TypeVar("ModelT", bound=BaseModel)


class Origin(str):
    """Where an overridden value came from (``"--set"`` or ``"variant.yaml:12"``), as text.

    It also remembers the path as the planner spelt it (``sites.campus.import_limit_mw``)
    and the field path it resolved to, so that an error inside the value names the path
    the way it was written.
    """

    spelt: tuple[str, ...]
    path: FieldPath

    def __new__(cls, text: str, spelt: Sequence[str] = (), path: FieldPath = ()) -> Origin:
        """Text ``text`` for a value set at ``spelt`` (as written), resolved to ``path``."""
        obj = super().__new__(cls, text)
        obj.spelt, obj.path = tuple(spelt), tuple(path)
        return obj

    def __reduce__(self) -> Any:
        return (Origin, (str(self), self.spelt, self.path))


#: Largest YAML file read [B]; scenario files are a few tens of kB.
MAX_YAML_BYTES = 4 * 1024 * 1024
#: Deepest nesting of mappings and lists in a YAML file [count].
MAX_YAML_DEPTH = 64
#: Most values (scalars, mappings, lists) a YAML file may expand to, counting every use of
#: an alias anew: a few anchors referring to each other (a "billion laughs") stop here.
MAX_YAML_VALUES = 200_000
#: Longest chain of ``extends:`` (a variant of a variant of ...) [count].
MAX_EXTENDS_DEPTH = 16

_MISSING = object()

__all__ = [
    "FieldPath",
    "LineIndex",
    "Origin",
    "apply_overrides",
    "dump_resolved",
    "error_where",
    "format_validation_errors",
    "load_model",
    "load_yaml_with_lines",
    "parse_yaml_with_lines",
    "validate_model",
]


# --------------------------------------------------------------------------------------------
# Reading YAML
# --------------------------------------------------------------------------------------------


def load_yaml_with_lines(path: str | Path) -> tuple[dict[str, Any], LineIndex]:
    """Read a YAML file into plain Python data and an index of line numbers.

    Parameters
    ----------
    path
        The YAML file; its text form is used as is in error messages.

    Returns
    -------
    data : dict
        The top-level mapping as plain ``dict``/``list``/``str``/``int``/``float``/``bool``/
        ``None``; dates and timestamps stay the text written (``"2027-01-01"``), which
        :data:`~dcsim.scenario.types.Date` reads.
    line_index : LineIndex
        Field path -> 1-based line number [-] (see the module docstring).

    Raises
    ------
    ConfigError
        File missing or unreadable (``"x.yaml: file not found"``), YAML syntax error
        (``"x.yaml:7: YAML syntax error: <problem>"``), empty file or a top level that is
        not a mapping.
    """
    source = str(path)
    raw = read_regular_file(path, MAX_YAML_BYTES, "a YAML file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})", where=source
        ) from None
    return parse_yaml_with_lines(text, source)


def read_regular_file(path: str | Path, max_bytes: int, expected: str) -> bytes:
    """The bytes of a regular file no larger than a limit, or a one-line error.

    The type is checked with ``stat`` before opening, because opening a FIFO blocks until a
    writer appears and a device such as ``/dev/zero`` never ends.

    Parameters
    ----------
    path
        The file; its text form names it in error messages.
    max_bytes
        Largest size accepted [B].
    expected
        What the file should be, for the messages (``"a YAML file"``).

    Returns
    -------
    bytes
        The file's content.

    Raises
    ------
    ConfigError
        ``"<path>: file not found"``, ``"<path>: is a directory, expected a YAML file"``,
        ``"<path>: is a FIFO, not a regular file; expected a YAML file"`` (also a device or
        socket), ``"<path>: 12345678 bytes, larger than the limit of 4194304 bytes ..."`` or
        ``"<path>: cannot read file: <reason>"``.
    """
    source = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ConfigError("file not found", where=source) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(f"cannot read file: {reason}", where=source) from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"is a directory, expected {expected}", where=source)
    if not stat.S_ISREG(info.st_mode):
        kind = _FILE_KINDS.get(stat.S_IFMT(info.st_mode), "special file")
        raise ConfigError(f"is a {kind}, not a regular file; expected {expected}", where=source)
    if info.st_size > max_bytes:
        raise ConfigError(
            f"{info.st_size} bytes, larger than the limit of {max_bytes} bytes for {expected}",
            where=source,
        )
    try:
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read file: {exc.strerror}", where=source) from None
    if len(raw) > max_bytes:  # grew since stat
        raise ConfigError(
            f"larger than the limit of {max_bytes} bytes for {expected}", where=source
        )
    return raw


_FILE_KINDS = {
    stat.S_IFIFO: "FIFO",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFSOCK: "socket",
}


def parse_yaml_with_lines(text: str, source: str = "<string>") -> tuple[dict[str, Any], LineIndex]:
    """Parse YAML text whose top level is a mapping; see :func:`load_yaml_with_lines`.

    Parameters
    ----------
    text
        The YAML document.
    source
        Name used in error messages (a file name).

    Returns
    -------
    data : dict
        Plain Python data.
    line_index : LineIndex
        Field path -> 1-based line number [-].
    """
    root = _parse_yaml(text, source)
    if root is None:
        raise ConfigError("file is empty; expected a mapping of fields", where=source)
    if not isinstance(root, dict):
        line = _node_line(root, 1)
        raise ConfigError(
            f"expected a mapping of fields at the top level, got {_kind(_plain(root))}",
            where=f"{source}:{line}",
        )
    line_index: LineIndex = {(): _node_line(root, 1)}
    data = _to_plain(root, (), line_index, source, set(), _Budget())
    return data, line_index


@dataclasses.dataclass
class _Budget:
    """Values still allowed while expanding one document (aliases count at every use)."""

    left: int = MAX_YAML_VALUES


class _TextDatesConstructor(RoundTripConstructor):
    """Round-trip constructor that leaves date-like scalars as the text written.

    ruamel would build ``datetime.date`` objects and raise a bare ``ValueError`` without a
    line for ``2027-13-01``; as text, the schema's ``Date`` type reads it and its error
    carries the line. A subclass, so that other users of ruamel in the process see no change.
    """

    def construct_text(self, node: Any) -> str:
        """Return the scalar's text as written."""
        return str(self.construct_scalar(node))


_TextDatesConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", _TextDatesConstructor.construct_text
)


def _yaml_rt() -> YAML:
    # Round-trip mode keeps line numbers and constructs only plain YAML types and ruamel's
    # containers (never arbitrary Python objects), so it is safe on untrusted files.
    yaml = YAML(typ="rt")
    yaml.Constructor = _TextDatesConstructor
    return yaml


def _flow_depth_line(text: str, limit: int) -> int | None:
    """First line where flow collections (``[`` / ``{``) nest deeper than ``limit``, or None.

    ruamel's parser recurses once per level and slows down sharply long before Python's
    recursion limit (25 s at 1,000 levels), so deep flow nesting is refused before parsing.
    Brackets inside quoted scalars and comments do not count.
    """
    if text.count("[") + text.count("{") <= limit:
        return None
    depth, quote, line, prev = 0, "", 1, "\n"
    comment = False
    for ch in text:
        if ch == "\n":
            line += 1
            comment = False
        elif comment:
            pass
        elif quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"" and (prev in " \t\n[{,:" or depth):
            quote = ch
        elif ch == "#" and prev in " \t\n":
            comment = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return line
        elif ch in "]}":
            depth = max(depth - 1, 0)
        prev = ch
    return None


def _parse_yaml(text: str, source: str) -> Any:
    deep = _flow_depth_line(text, MAX_YAML_DEPTH)
    if deep is not None:
        raise ConfigError(
            f"YAML nesting too deep; expected at most {MAX_YAML_DEPTH} levels",
            where=f"{source}:{deep}",
        )
    try:
        return _yaml_rt().load(text)
    except MarkedYAMLError as exc:
        raise ConfigError(
            f"YAML syntax error: {_yaml_problem(exc)}", where=f"{source}:{_yaml_line(exc)}"
        ) from None
    except RecursionError:
        # The parser recurses once per level of nesting.
        raise ConfigError(
            f"YAML nesting too deep; expected at most {MAX_YAML_DEPTH} levels", where=source
        ) from None
    except (ValueError, TypeError, OverflowError) as exc:
        # A constructor refusing a scalar after parsing; ruamel gives no position for it.
        raise ConfigError(f"YAML error: {exc}", where=source) from None
    except YAMLError as exc:
        # Reader errors (control characters) carry a character position rather than a mark.
        position = getattr(exc, "position", None)
        where = source
        if isinstance(position, int):
            where = f"{source}:{text.count(chr(10), 0, position) + 1}"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"YAML syntax error: {first}", where=where) from None


def _yaml_line(exc: MarkedYAMLError) -> int:
    mark = exc.problem_mark or exc.context_mark
    return mark.line + 1 if mark is not None else 1


def _yaml_problem(exc: MarkedYAMLError) -> str:
    problem = exc.problem or exc.context or type(exc).__name__
    text = " ".join(str(problem).split())
    # The context ("while scanning a quoted scalar") helps when it started on another line.
    if isinstance(exc, DuplicateKeyError):
        return text  # its context ("while constructing a mapping") adds nothing
    if exc.context and exc.problem and exc.context_mark is not None:
        if exc.problem_mark is None or exc.context_mark.line != exc.problem_mark.line:
            text += f" ({' '.join(exc.context.split())} at line {exc.context_mark.line + 1})"
    return text


def _node_line(node: Any, default: int | str) -> int | str:
    lc = getattr(node, "lc", None)
    line = getattr(lc, "line", None)
    return line + 1 if isinstance(line, int) else default


def _to_plain(
    node: Any, path: FieldPath, index: LineIndex, source: str, active: set[int], budget: _Budget
) -> Any:
    """Copy ruamel's round-trip tree into plain Python, recording lines in ``index``."""
    here = index.get(path, 1)
    if isinstance(node, dict | list) and id(node) in active:
        raise ConfigError("YAML alias refers to itself (recursive data)", where=f"{source}:{here}")
    budget.left -= 1
    if budget.left < 0:
        raise ConfigError(
            f"YAML expands to more than {MAX_YAML_VALUES} values (aliases count at every "
            "use); expected a scenario of ordinary size",
            where=f"{source}:{here}",
        )
    if isinstance(node, dict | list) and len(path) >= MAX_YAML_DEPTH:
        raise ConfigError(
            f"YAML nesting too deep; expected at most {MAX_YAML_DEPTH} levels",
            where=f"{source}:{here}",
        )
    if isinstance(node, dict):
        active.add(id(node))
        out: dict[Any, Any] = {}
        for key in node:
            line = _key_line(node, key, here)
            plain_key = _plain_scalar(key, source, line)
            if isinstance(plain_key, dict | list):
                raise ConfigError(
                    "complex (non-scalar) YAML keys are not supported", where=f"{source}:{line}"
                )
            child = (*path, plain_key)
            index[child] = line
            out[plain_key] = _to_plain(node[key], child, index, source, active, budget)
        active.discard(id(node))
        return out
    if isinstance(node, list):
        active.add(id(node))
        items = []
        for i, item in enumerate(node):
            child = (*path, i)
            index[child] = _item_line(node, i, here)
            items.append(_to_plain(item, child, index, source, active, budget))
        active.discard(id(node))
        return items
    return _plain_scalar(node, source, here)


def _key_line(node: Any, key: Any, default: int | str) -> int | str:
    if isinstance(node, CommentedMap):
        try:
            return node.lc.key(key)[0] + 1
        except (KeyError, TypeError, AttributeError):
            # Keys merged in with "<<: *anchor" have no position of their own.
            return _node_line(node, default)
    return default


def _item_line(node: Any, i: int, default: int | str) -> int | str:
    if isinstance(node, CommentedSeq):
        try:
            return node.lc.item(i)[0] + 1
        except (KeyError, TypeError, AttributeError, IndexError):
            return _node_line(node, default)
    return default


def _plain_scalar(value: Any, source: str, line: int | str) -> Any:
    # Order matters: ScalarBoolean and bool are ints; TimeStamp is a datetime is a date.
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, bool | ScalarBoolean):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dt.datetime):
        return dt.datetime.isoformat(value)
    if isinstance(value, dt.date):
        return dt.date.isoformat(value)
    if isinstance(value, tuple):
        return [_plain_scalar(v, source, line) for v in value]
    tag = getattr(getattr(value, "tag", None), "value", None) or type(value).__name__
    raise ConfigError(
        f"unsupported YAML value {tag!s}; use plain YAML scalars, lists and mappings",
        where=f"{source}:{line}",
    )


def _plain(node: Any) -> Any:
    """Plain copy of a ruamel value without line bookkeeping (command-line values)."""
    return _to_plain(node, (), {}, "<value>", set(), _Budget())


# --------------------------------------------------------------------------------------------
# Overrides
# --------------------------------------------------------------------------------------------


def apply_overrides(
    data: Mapping[str, Any],
    overrides: Sequence[str] | Mapping[str, Any],
    where: str = "--set",
    line_index: LineIndex | None = None,
) -> tuple[dict[str, Any], LineIndex]:
    """Set values inside scenario data by dotted path, as ``dcsim run --set`` does.

    Parameters
    ----------
    data
        Plain scenario data (as from :func:`load_yaml_with_lines`); not modified.
    overrides
        Either strings ``"path=value"`` whose value is read as a YAML scalar or flow
        collection (``=3``, ``=true``, ``=[1, 2]``, ``={type: tower}``, ``=15min``), or a
        mapping ``{"path": value}`` whose values are used as given. Paths are dotted:
        mapping keys; list items by index (``sites.0``, ``sites.-1``) or by the ``name`` of
        the item (``sites.main.import_limit_mw``). Applied in order; later ones win. Missing
        mapping keys are created (``battery.capacity_mwh=4`` fills a section absent from
        the file); whether they are fields is for the schema to say, with a did-you-mean.
    where
        Origin of the overrides, used in error messages and the returned index.
    line_index
        The line index of ``data``; not modified.

    Returns
    -------
    data : dict
        A deep copy of ``data`` with the overrides applied.
    line_index : LineIndex
        A copy of ``line_index`` in which every overridden path (and nothing below it) maps
        to ``where``, so that a validation error in an overridden value reads
        ``"--set sites.0.power_mw: ..."``.

    Raises
    ------
    ConfigError
        ``"--set sites.mian.x: no such field; did you mean 'main'?"`` for a list item that
        does not exist (by name or index) or a path through a scalar,
        ``"--set x: expected path=value, got 'x'"`` for a malformed string, or a value that
        is not valid YAML.
    """
    new_data = copy.deepcopy(dict(data))
    new_index: LineIndex = dict(line_index or {})
    for raw_path, value in _override_items(overrides, where):
        segments = [s.strip() for s in raw_path.split(".")]
        if not raw_path or any(s == "" for s in segments):
            raise ConfigError("empty field name in path", where=f"{where} {raw_path}")
        container, key, resolved, origin = _resolve_override(new_data, segments, raw_path, where)
        container[key] = copy.deepcopy(value)
        depth = len(origin)
        for old in [p for p in new_index if len(p) > depth and p[:depth] == origin]:
            del new_index[old]
        new_index[origin] = Origin(where, segments, resolved)
    return new_data, new_index


def _override_items(
    overrides: Sequence[str] | Mapping[str, Any], where: str
) -> list[tuple[str, Any]]:
    if isinstance(overrides, Mapping):
        return [(str(k).strip(), v) for k, v in overrides.items()]
    if isinstance(overrides, str):
        overrides = [overrides]
    items = []
    for text in overrides:
        path_text, sep, value_text = str(text).partition("=")
        path_text = path_text.strip()
        if not sep or not path_text:
            raise ConfigError(
                f"expected path=value, got {text!r}", where=f"{where} {path_text}".rstrip()
            )
        items.append((path_text, _parse_override_value(value_text, f"{where} {path_text}")))
    return items


def _parse_override_value(text: str, where: str) -> Any:
    try:
        node = _yaml_rt().load(text)
    except (YAMLError, ValueError, TypeError) as exc:
        problem = _yaml_problem(exc) if isinstance(exc, MarkedYAMLError) else str(exc)
        raise ConfigError(
            f"cannot read value {text.strip()!r} as YAML: {problem}", where=where
        ) from None
    try:
        return _plain(node)
    except ConfigError as exc:
        raise ConfigError(exc.message, where=where) from None


def _resolve_override(
    data: dict[str, Any], segments: list[str], raw_path: str, where: str
) -> tuple[Any, Any, FieldPath, FieldPath]:
    """Find where a dotted override path points, creating missing mappings on the way.

    Returns the container, the key in it, the resolved field path (list items by index) and
    the path of the outermost mapping the override created (or the resolved path).
    """
    node: Any = data
    resolved: FieldPath = ()
    created: FieldPath | None = None
    here = f"{where} {raw_path}"
    for pos, seg in enumerate(segments):
        last = pos == len(segments) - 1
        parent = ".".join(segments[:pos]) or "the top level"
        if isinstance(node, dict):
            key = _dict_key(node, seg)
            if key is _MISSING:
                # A new key: the schema judges it later (unknown field, did-you-mean), and
                # a section absent from the file (or null) can be filled field by field.
                key = seg
                if not last:
                    node[key] = {}
                    created = created or (*resolved, key)
            elif not last and node[key] is None:
                node[key] = {}
                created = created or (*resolved, key)
        elif isinstance(node, list):
            key = _list_key(node, seg, here)
            if key is None:
                raise ConfigError(_no_such_item(seg, node, parent), where=here)
        else:
            raise ConfigError(
                f"no such field; {parent} is {_show(node)}, not a mapping or list", where=here
            )
        resolved = (*resolved, key)
        if last:
            return node, key, resolved, created or resolved
        node = node[key]
    raise AssertionError("unreachable: segments is never empty")  # pragma: no cover


def _dict_key(node: dict[Any, Any], seg: str) -> Any:
    if seg in node:
        return seg
    for key in node:
        # Non-text YAML keys (1: ..., true: ...) are written as text on the command line.
        if not isinstance(key, str) and str(key).lower() == seg.lower():
            return key
    return _MISSING


def _list_key(node: list[Any], seg: str, here: str) -> int | None:
    if re.fullmatch(r"[+-]?\d+", seg):
        i = int(seg)
        if -len(node) <= i < len(node):
            return i % len(node)
        return None
    named = [i for i, item in enumerate(node) if isinstance(item, dict) and item.get("name") == seg]
    if len(named) > 1:
        raise ConfigError(
            f"{len(named)} items are named {seg!r}; address the item by its index", where=here
        )
    return named[0] if named else None


def _no_such_item(seg: str, node: list[Any], parent: str) -> str:
    if not node:
        return f"no such item; {parent} is an empty list"
    if re.fullmatch(r"[+-]?\d+", seg):
        return f"no such item; {parent} has {len(node)} item(s), indexes 0 to {len(node) - 1}"
    names = [str(item["name"]) for item in node if isinstance(item, dict) and "name" in item]
    match = difflib.get_close_matches(seg, names, n=1, cutoff=0.6)
    if match:
        return f"no such field; did you mean {match[0]!r}?"
    if names:
        listed = ", ".join(repr(n) for n in names[:12])
        return f"no item of {parent} is named {seg!r} (names: {listed})"
    return f"no such field {seg!r}; {parent} is a list: address its items by index"


# --------------------------------------------------------------------------------------------
# Validation and error messages
# --------------------------------------------------------------------------------------------


def validate_model(
    model_cls: type[ModelT],
    data: Any,
    path: str | Path,
    line_index: LineIndex,
    context: Any = None,
) -> ModelT:
    """Validate data against a pydantic model and report errors by file and line.

    Parameters
    ----------
    model_cls
        Any pydantic v2 model class (the root of the file).
    data
        Plain data from :func:`load_yaml_with_lines` (maybe with overrides applied).
    path
        The file the data came from, as it should appear in messages.
    line_index
        Field path -> line number or origin (from the loader, or ``{}``).
    context
        Passed to ``model_validate(..., context=context)`` for validators that need it.

    Returns
    -------
    ModelT
        The validated model.

    Raises
    ------
    ConfigError
        For the first error (in file order; ``--set`` values first), one line
        ``"<file>:<line>: <field.path>: <message> (+N more errors)"``. Its attribute
        ``errors`` lists every error as such a line (without the count).
    """
    try:
        return model_cls.model_validate(data, context=context)
    except ValidationError as exc:
        entries = _error_entries(model_cls, exc, data, str(path), line_index)
        first_where, first_message = entries[0][1], entries[0][2]
        more = len(entries) - 1
        if more:
            first_message += f" (+{more} more error{'s' if more > 1 else ''})"
        error = ConfigError(first_message, where=first_where)
        error.errors = [f"{w}: {m}" for _, w, m in entries]  # type: ignore[attr-defined]
        raise error from exc


def format_validation_errors(
    model_cls: type[BaseModel],
    error: ValidationError,
    data: Any,
    path: str | Path,
    line_index: LineIndex,
) -> list[str]:
    """Every error of a pydantic ``ValidationError`` as one ``"<file>:<line>: ..."`` line.

    Parameters
    ----------
    model_cls
        The model that was validated.
    error
        What ``model_cls.model_validate(data)`` raised.
    data
        The data that was validated.
    path
        The file name for messages.
    line_index
        Field path -> line number or origin.

    Returns
    -------
    list of str
        Lines sorted as :func:`validate_model` reports them, duplicates removed.
    """
    return [
        f"{w}: {m}" for _, w, m in _error_entries(model_cls, error, data, str(path), line_index)
    ]


def _error_entries(
    model_cls: type[BaseModel], exc: ValidationError, data: Any, source: str, index: LineIndex
) -> list[tuple[tuple[int, int], str, str]]:
    entries: list[tuple[tuple[int, int], str, str]] = []
    seen: set[tuple[str, str]] = set()
    described = list(_merge_union_alternatives(model_cls, exc, data))
    # A misspelt key ("feed_kw") also leaves its intended field missing; the unknown-key
    # error with its "did you mean" says both, so the missing-field error is dropped.
    suggested = {
        (tuple(fp[:-1]), m.split("did you mean '", 1)[1].split("'", 1)[0])
        for fp, _, m in described
        if m.startswith("unknown field") and "did you mean '" in m
    }
    for field_path, line_path, message in described:
        if message.startswith("missing required field '"):
            name = message.split("'", 2)[1]
            if (tuple(field_path[:-1]), name) in suggested or (
                tuple(field_path),
                name,
            ) in suggested:
                continue
        where, text, order = error_where(source, index, data, field_path, message, line_path)
        if (where, text) not in seen:
            seen.add((where, text))
            entries.append((order, where, text))
    entries.sort(key=lambda e: e[0])  # stable: pydantic's order within a line
    return entries


def error_where(
    source: str,
    index: LineIndex,
    data: Any,
    field_path: FieldPath,
    message: str,
    line_path: FieldPath | None = None,
) -> tuple[str, str, tuple[int, int]]:
    """Where an error is reported, its text and its sort key.

    The field path is named as the planner wrote it: list items by their ``name`` (items
    without a unique name, or whose name reads as an index or holds a dot, by index), and
    the part set by an override as the override spelt it. An error in a value that came from
    a base file while an override (``--set`` or a variant's ``set:``) changed the same item or
    one beside it is reported at that override: the base file was valid on its own.

    Parameters
    ----------
    source
        The file validated, as named in messages.
    index
        Field path -> line or origin.
    data
        The data validated (for the names of list items).
    field_path
        The path of the error [-].
    message
        What is wrong.
    line_path
        The path whose line to report; ``field_path`` by default.

    Returns
    -------
    where : str
        ``"<file>:<line>"``, ``"<base file>:<line>"``, ``"--set <path>"`` or ``source``.
    text : str
        ``"<path>: <message>"`` (the path is in ``where`` for a ``--set`` origin).
    order : tuple
        Sort key: overrides first, then by line.
    """
    line_path = field_path if line_path is None else line_path
    origin = _locate(index, line_path)
    if not isinstance(origin, Origin):
        origin = _override_near(index, line_path) or origin
    dotted = _display_path(data, field_path, origin if isinstance(origin, Origin) else None)
    text = f"{dotted}: {message}" if dotted else message
    if isinstance(origin, str):
        if re.search(r":\d+$", origin):  # a file and line: a variant's set: or a base file
            return origin, text, (0, 0)
        return f"{origin} {dotted}".rstrip(), message, (0, 0)
    if origin is None:
        return source, text, (1, 0)
    return f"{source}:{origin}", text, (1, origin)


def _override_near(index: LineIndex, path: FieldPath) -> Origin | None:
    """The first override inside ``path``, or else inside its nearest ancestor below the top."""
    for k in range(len(path), 0, -1):
        head = path[:k]
        for key, origin in index.items():
            if isinstance(origin, Origin) and key[:k] == head:
                return origin
    return None


def _display_path(data: Any, path: FieldPath, origin: Origin | None) -> str:
    """A field path as dotted text, list items by name, the overridden part as spelt."""
    parts: list[str] = []
    node = data
    for elem in path:
        parts.append(_item_name(node, elem) if isinstance(node, list) else str(elem))
        node = _child(node, elem)
    if origin is not None and origin.spelt:
        same = 0
        while same < min(len(path), len(origin.path)) and path[same] == origin.path[same]:
            same += 1
        parts[:same] = origin.spelt[:same]
    return ".".join(parts)


def _item_name(items: list[Any], elem: Any) -> str:
    """A list item's ``name`` when it names the item unambiguously in a dotted path."""
    if not _present(items, elem):
        return str(elem)
    name = items[elem].get("name") if isinstance(items[elem], dict) else None
    if not isinstance(name, str) or not name or "." in name or re.fullmatch(r"[+-]?\d+", name):
        return str(elem)
    if sum(isinstance(it, dict) and it.get("name") == name for it in items) != 1:
        return str(elem)
    return name


def _is_mismatch(err: Any) -> bool:
    """Whether an error only says "wrong kind of value" (as every other union member will)."""
    return err["type"] in _EXPECTED or err["type"] in ("literal_error", "enum")


def _wanted(err: Any) -> str:
    """Say what a type-mismatch error expected ("a number", "'flat' or 'batch'")."""
    if err["type"] in _EXPECTED:
        return _EXPECTED[err["type"]]
    return str((err.get("ctx") or {}).get("expected", ""))


def _merge_union_alternatives(
    model_cls: type[BaseModel], exc: ValidationError, data: Any
) -> list[tuple[FieldPath, FieldPath, str]]:
    """Describe every error, reporting each failed union (``float | str``) once.

    A value that matches no member of a plain union yields one error per member. Keep the
    errors of the member the value resembled (one that got past the type check, or whose
    fields were checked), and merge pure type mismatches into "expected a or b, got v".
    """
    errors = [(err, _walk(model_cls, data, tuple(err["loc"]))) for err in exc.errors()]
    went_inside = {u for _, w in errors if not w.union_leaf for u in w.union_paths}
    groups: dict[FieldPath, list[int]] = {}
    for i, (_, walk) in enumerate(errors):
        if walk.union_leaf:
            groups.setdefault(walk.path, []).append(i)
    out: list[tuple[FieldPath, FieldPath, str]] = []
    for i, (err, walk) in enumerate(errors):
        group = groups.get(walk.path, []) if walk.union_leaf else []
        if not group:
            out.append(_describe(err, walk, data))
            continue
        if walk.path in went_inside:
            continue  # the value was taken for another member and failed inside it
        specific = [j for j in group if not _is_mismatch(errors[j][0])]
        if specific:
            if i in specific:
                out.append(_describe(err, walk, data))
        elif i == group[0]:
            wanted = [_wanted(errors[j][0]) for j in group]
            text = ", or ".join(dict.fromkeys(w for w in wanted if w)) or "another kind of value"
            message = f"expected {text}, got {_show(err.get('input'))}"
            if isinstance(err.get("input"), str):
                message = _with_suggestion(message, err["input"], _quoted_items(text))
            out.append((walk.path, walk.path, message))
    return out


def _locate(index: LineIndex, path: FieldPath) -> int | str | None:
    for k in range(len(path), -1, -1):
        if path[:k] in index:
            return index[path[:k]]
    return None


@dataclasses.dataclass
class _Walk:
    """An error location read against the model types and the data."""

    path: FieldPath  # loc without union labels: the path in the data
    end_type: Any  # type expected at ``path`` (None if unknown)
    parent_type: Any  # type of the container of the last element of ``path``
    discriminator: str | None  # discriminator name when ``end_type`` is a tagged union
    union_leaf: bool = False  # the error is about the whole value of a union member
    union_paths: tuple[FieldPath, ...] = ()  # paths at which a union member was chosen


def _walk(model_cls: type[BaseModel], data: Any, loc: tuple[Any, ...]) -> _Walk:
    tp: Any = model_cls
    disc: str | None = None
    node: Any = data
    path: list[Any] = []
    parent_type: Any = None
    union_leaf = False
    union_paths: list[FieldPath] = []
    for pos, elem in enumerate(loc):
        last = pos == len(loc) - 1
        tp, meta_disc = _unwrap(tp)
        disc = meta_disc or disc
        members = _union_members(tp)
        is_model = isinstance(tp, type) and issubclass(tp, BaseModel)
        if members is not None or (disc is not None and is_model):
            # pydantic names the union member (its tag or type label) in the location; a
            # single model with a discriminator is a one-member tagged union.
            tp = _choose_member(members, elem) if members is not None else tp
            disc, union_leaf = None, True
            union_paths.append(tuple(path))
            continue
        if elem == "[key]":
            continue  # a bad dict key: report it at the key's own path
        parent_type = tp
        if is_model:
            info = _model_field(tp, elem)
            tp, disc = (info.annotation, _field_discriminator(info)) if info else (None, None)
        elif _origin(tp) in (dict, Mapping, typing.Mapping):
            args = typing.get_args(tp)
            tp, disc = (args[1] if len(args) == 2 else None), None
        elif _origin(tp) in (list, tuple, set, frozenset, Sequence, typing.Sequence):
            tp, disc = _item_type(tp, elem), None
        elif not _present(node, elem) and not last:
            continue  # unknown type: an element absent from the data is a union label
        else:
            tp, disc = None, None
        path.append(elem)
        node = _child(node, elem)
        union_leaf = False
    end_type, meta_disc = _unwrap(tp)
    return _Walk(
        tuple(path), end_type, parent_type, meta_disc or disc, union_leaf, tuple(union_paths)
    )


def _origin(tp: Any) -> Any:
    return typing.get_origin(tp) or (tp if tp in (dict, list, tuple, set, frozenset) else None)


def _unwrap(tp: Any) -> tuple[Any, str | None]:
    """Strip Annotated and Optional; return the type and a discriminator found on the way."""
    disc = None
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            for meta in tp.__metadata__:
                found = getattr(meta, "discriminator", None)
                if isinstance(found, str):
                    disc = found
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp, disc
            tp = args[0]
        elif hasattr(tp, "__value__") and type(tp).__name__ == "TypeAliasType":
            tp = tp.__value__
        else:
            return tp, disc


def _union_members(tp: Any) -> list[Any] | None:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(tp) if a is not type(None)]
    return None


def _choose_member(members: list[Any], label: Any) -> Any:
    for member in members:
        if typing.get_origin(member) is typing.Annotated:
            # Callable discriminators label members with pydantic.Tag("...").
            if any(getattr(m, "tag", _MISSING) == label for m in member.__metadata__):
                return member
        plain, _ = _unwrap(member)
        if getattr(plain, "__name__", None) == label:
            return member
        if isinstance(plain, type) and issubclass(plain, BaseModel):
            for info in plain.model_fields.values():
                if label in _literal_values(info.annotation):
                    return member
    return None


def _literal_values(tp: Any) -> list[str]:
    tp, _ = _unwrap(tp)
    if typing.get_origin(tp) is typing.Literal:
        return [str(getattr(v, "value", v)) for v in typing.get_args(tp)]
    return []


def _model_field(model: type[BaseModel], name: Any) -> FieldInfo | None:
    fields = model.model_fields
    if name in fields:
        return fields[name]
    for info in fields.values():
        if name in (info.alias, info.validation_alias):
            return info
    return None


def _field_discriminator(info: FieldInfo) -> str | None:
    return info.discriminator if isinstance(info.discriminator, str) else None


def _item_type(tp: Any, index: Any) -> Any:
    args = typing.get_args(tp)
    if not args:
        return None
    if _origin(tp) is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return args[index] if isinstance(index, int) and 0 <= index < len(args) else None
    return args[0]


def _present(node: Any, elem: Any) -> bool:
    if isinstance(node, dict):
        return elem in node
    if isinstance(node, list):
        return isinstance(elem, int) and -len(node) <= elem < len(node)
    return False


def _child(node: Any, elem: Any) -> Any:
    return node[elem] if _present(node, elem) else _MISSING


def _tags(walk: _Walk) -> list[str]:
    members = _union_members(walk.end_type) or [walk.end_type]
    disc = walk.discriminator or "type"
    tags: list[str] = []
    for member in members:
        plain, _ = _unwrap(member)
        if isinstance(plain, type) and issubclass(plain, BaseModel):
            info = _model_field(plain, disc)
            tags += _literal_values(info.annotation) if info else []
    return tags


def _model_field_names(tp: Any) -> list[str]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        names: list[str] = []
        for name, info in tp.model_fields.items():
            names.append(info.alias if isinstance(info.alias, str) else name)
        return names
    return []


#: Unit suffixes that name the same quantity, so that ``power_kw`` suggests ``power_mw``.
_SUFFIX_FAMILIES: tuple[tuple[str, ...], ...] = (
    ("_w", "_kw", "_mw", "_gw"),
    ("_j", "_kwh", "_mwh", "_gwh"),
    ("_s", "_ms", "_min", "_h", "_d", "_y"),
    ("_b", "_gb", "_tb"),
    ("_b_per_s", "_gb_per_s", "_tb_per_s"),
    ("_flop_per_s", "_tflops"),
)
# Longest suffix first: "x_gb_per_s" belongs to the bandwidth family, not to "_s".
_SUFFIXES = sorted(
    ((suffix, family) for family in _SUFFIX_FAMILIES for suffix in family),
    key=lambda pair: len(pair[0]),
    reverse=True,
)


def _did_you_mean(word: str, names: list[str]) -> str | None:
    """Closest known name; a name that differs only by its unit suffix wins."""
    for suffix, family in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            stem = word[: -len(suffix)]
            same = [stem + s for s in family if s != suffix and stem + s in names]
            if same:
                return same[0]
            break
    match = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return match[0] if match else None


def _show(value: Any) -> str:
    """Show the offending value as a planner typed it (YAML spelling, quoted text, short)."""
    if isinstance(value, bool) or value is None:
        text = {True: "true", False: "false", None: "null"}[value]
    elif isinstance(value, str | int | float):
        text = repr(value)
    elif isinstance(value, dt.date):
        text = value.isoformat()
    else:
        try:
            text = json.dumps(value, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list {_show(value)}"
    return _show(value)


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _bound(value: Any, bound: Any) -> tuple[str, str]:
    """Value and bound as text; a duration typed as text gets its bound as a duration too."""
    if isinstance(value, str) and isinstance(bound, int | float):
        try:
            parse_duration_s(value, allow_negative=True)
        except ValueError:
            pass
        else:
            shown = format_duration(float(bound))
            return _show(value), shown if isinstance(shown, str) else _num(bound)
    return _show(value), _num(bound)


def _quoted_items(text: str) -> list[str]:
    return re.findall(r"'([^']*)'", text)


def _with_suggestion(message: str, word: Any, options: list[str]) -> str:
    match = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    return f"{message}; did you mean {match[0]!r}?" if match else message


_RANGE = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}
_EXPECTED = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_parsing_size": "an integer of sensible size",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "string_unicode": "a string",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "frozen_set_type": "a list",
    "iterable_type": "a list",
    "dict_type": "a mapping",
    "mapping_type": "a mapping",
    "model_type": "a mapping of fields",
    "model_attributes_type": "a mapping of fields",
    "dataclass_type": "a mapping of fields",
    "none_required": "null",
    "date_type": DATE_EXPECTED.removeprefix("expected "),
    "date_parsing": DATE_EXPECTED.removeprefix("expected "),
    "date_from_datetime_parsing": DATE_EXPECTED.removeprefix("expected "),
    "date_from_datetime_inexact": "a date without a time of day",
    "datetime_type": DATE_EXPECTED.removeprefix("expected "),
    "datetime_parsing": DATE_EXPECTED.removeprefix("expected "),
    "datetime_from_date_parsing": DATE_EXPECTED.removeprefix("expected "),
}
_PATH_RE = re.compile(r"^[A-Za-z_][\w-]*(\.[\w-]+)*$")


def _describe(err: Any, walk: _Walk, data: Any) -> tuple[FieldPath, FieldPath, str]:
    """Field path to print, path to look the line up at, and the message of one error."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    path = walk.path
    if kind == "missing":
        return path, path, f"missing required field {str(path[-1]) if path else '?'!r}"
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        names = _model_field_names(walk.parent_type)
        match = _did_you_mean(key, names)
        if match:
            return path, path, f"unknown field {key!r}; did you mean {match!r}?"
        listed = f" (known fields: {', '.join(names)})" if 0 < len(names) <= 12 else ""
        return path, path, f"unknown field {key!r}{listed}"
    if kind == "union_tag_invalid":
        disc = str(ctx.get("discriminator", "type")).strip("'\"")
        expected = str(ctx.get("expected_tags", ""))
        message = f"{disc}: {ctx.get('tag')!r} is not one of {expected}"
        return (
            path,
            (*path, disc),
            _with_suggestion(message, ctx.get("tag"), _quoted_items(expected)),
        )
    if kind == "union_tag_not_found":
        disc = str(ctx.get("discriminator", "type")).strip("'\"")
        tags = ", ".join(repr(t) for t in _tags(walk))
        return (
            path,
            path,
            f"missing required field {disc!r}" + (f" (one of {tags})" if tags else ""),
        )
    tagged = walk.discriminator is not None or _union_members(walk.end_type) is not None
    if kind in ("model_attributes_type", "model_type") and tagged and _tags(walk):
        tags = " or ".join(repr(t) for t in _tags(walk))
        disc = walk.discriminator or "type"
        message = f"expected a mapping with {disc}: {tags} and its fields, got {_show(value)}"
        return path, path, message
    if kind in _RANGE:
        key, op = _RANGE[kind]
        shown, bound = _bound(value, ctx.get(key))
        return path, path, f"{shown} must be {op} {bound}"
    if kind in _EXPECTED:
        return path, path, f"expected {_EXPECTED[kind]}, got {_show(value)}"
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", ""))
        message = f"{_show(value)} is not one of {expected}"
        return path, path, _with_suggestion(message, value, _quoted_items(expected))
    if kind == "multiple_of":
        return path, path, f"{_show(value)} must be a multiple of {_num(ctx.get('multiple_of'))}"
    if kind == "finite_number":
        return path, path, f"{_show(value)} must be a finite number"
    if kind in ("too_short", "too_long"):
        side, limit = (
            ("at least", ctx.get("min_length"))
            if kind == "too_short"
            else ("at most", ctx.get("max_length"))
        )
        return path, path, f"expected {side} {limit} item(s), got {ctx.get('actual_length')}"
    if kind in ("string_too_short", "string_too_long"):
        side, limit = (
            ("at least", ctx.get("min_length"))
            if kind == "string_too_short"
            else ("at most", ctx.get("max_length"))
        )
        return path, path, f"{_show(value)} must have {side} {limit} character(s)"
    if kind == "string_pattern_mismatch":
        return path, path, f"{_show(value)} does not match the pattern {ctx.get('pattern')!r}"
    if kind in ("value_error", "assertion_error"):
        return _describe_raised(err, path, data)
    message = str(err.get("msg", kind))
    if kind.startswith("scenario_") or isinstance(value, dict | list) or value is None:
        return path, path, message
    return path, path, f"{message}, got {_show(value)}"


def _describe_raised(err: Any, path: FieldPath, data: Any) -> tuple[FieldPath, FieldPath, str]:
    """Describe a validator's exception; ``ConfigError.where`` is a path relative to the model."""
    raised = (err.get("ctx") or {}).get("error")
    if isinstance(raised, ConfigError):
        if raised.where and _PATH_RE.match(raised.where):
            target = _resolve_where(data, path, raised.where)
            return target, target, raised.message
        return path, path, str(raised)
    if raised is not None:
        return path, path, str(raised) or type(raised).__name__
    message = str(err.get("msg", ""))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return path, path, message


def _resolve_where(data: Any, base: FieldPath, where: str) -> FieldPath:
    """Find ``where`` (dotted, relative to the raising model) from ``base`` or an ancestor."""
    segments = [int(s) if re.fullmatch(r"-?\d+", s) else s for s in where.split(".")]
    for k in range(len(base), -1, -1):
        node = _node_at(data, base[:k])
        found = _find(node, segments)
        if found is not None:
            return (*base[:k], *found)
    return (*base, *segments)


def _node_at(data: Any, path: FieldPath) -> Any:
    node = data
    for elem in path:
        node = _child(node, elem)
    return node


def _find(node: Any, segments: list[Any]) -> FieldPath | None:
    found: list[Any] = []
    for seg in segments:
        if isinstance(node, list) and not isinstance(seg, int):
            named = [
                i for i, it in enumerate(node) if isinstance(it, dict) and it.get("name") == seg
            ]
            if len(named) != 1:
                return None
            seg = named[0]
        if not _present(node, seg):
            return None
        if isinstance(seg, int):
            seg %= len(node)
        node = node[seg]
        found.append(seg)
    return tuple(found)


# --------------------------------------------------------------------------------------------
# Composition and output
# --------------------------------------------------------------------------------------------


def load_model(
    model_cls: type[ModelT],
    path: str | Path,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
    context: Any = None,
) -> tuple[ModelT, LineIndex]:
    """Read a YAML file, apply overrides and validate it: the whole boundary in one call.

    Parameters
    ----------
    model_cls
        The root pydantic model of the file.
    path
        The YAML file.
    overrides
        ``--set`` style overrides (see :func:`apply_overrides`), or None.
    context
        Validation context passed to the model's validators.

    Returns
    -------
    model : ModelT
        The validated model.
    line_index : LineIndex
        Field path -> line number (or ``"--set"``), for later cross-field checks that want
        to point at a line.

    Raises
    ------
    ConfigError
        Any problem with the file, the overrides or the values, as one line.
    """
    data, line_index = load_with_extends(path, model_cls=model_cls)
    if overrides:
        data, line_index = apply_overrides(data, overrides, line_index=line_index)
    return validate_model(model_cls, data, path, line_index, context=context), line_index


def load_with_extends(
    path: str | Path,
    _seen: tuple[Path, ...] = (),
    model_cls: type[BaseModel] | None = None,
) -> tuple[dict[str, Any], LineIndex]:
    """Read a YAML file that may be a variant of another one.

    A variant names its base file with ``extends:`` (relative to the variant's folder) and
    lists its changes under ``set:`` as ``{dotted.path: value}`` (the paths of ``--set``: list
    items by index or by name); its other top-level keys (``name``, ``description``, ...)
    replace the base's. Bases may extend further files.

    Parameters
    ----------
    path
        The YAML file.
    model_cls
        The root model of the file. When given, relative data paths (fields typed
        :data:`~dcsim.scenario.types.DataPath`) that a base file in another folder declares
        are rewritten relative to this file's folder, so that each resolves from the folder
        of the file that wrote it; a path in a variant's ``set:`` resolves from the variant's
        folder, as any path of the variant does.

    Returns
    -------
    data, line_index
        The composed data and, per field path, its line in the variant or ``"<base>:<line>"``
        for values that come from a base file (named by the path the variant reaches it by).

    Raises
    ------
    ConfigError
        A base file that does not exist, a cycle of ``extends``, a chain longer than
        :data:`MAX_EXTENDS_DEPTH` files, or a ``set`` path that does not exist (naming the
        variant's file and line).
    """
    path = Path(path)
    data, index = load_yaml_with_lines(path)
    base_ref = data.pop("extends", None)
    changes = data.pop("set", None)
    if base_ref is None:
        if changes is not None:
            raise ConfigError(
                "'set' is only meaningful with 'extends'",
                where=f"{path}:{index.get(('set',), '?')}",
            )
        return data, index
    line = index.get(("extends",), "?")
    base_path = (path.parent / str(base_ref)).resolve()
    if not base_path.is_file():
        raise ConfigError(
            f"extends: {base_ref!r}: no such file (looked in {path.parent})", where=f"{path}:{line}"
        )
    if base_path in _seen:
        raise ConfigError(
            f"extends: {base_ref!r}: files extend each other in a cycle", where=f"{path}:{line}"
        )
    if len(_seen) + 1 >= MAX_EXTENDS_DEPTH:
        raise ConfigError(
            f"extends: {base_ref!r}: a chain of more than {MAX_EXTENDS_DEPTH} files; expected "
            "a variant to extend a base at most that many levels deep",
            where=f"{path}:{line}",
        )
    base, base_index = load_with_extends(base_path, (*_seen, path.resolve()), model_cls)
    if model_cls is not None:
        _rebase_data_paths(model_cls, base, base_path.parent, path.resolve().parent)
    # Lines of the base file are named with its file, so that messages do not mislead.
    shown = os.path.normpath(path.parent / str(base_ref))
    out_index: LineIndex = {
        k: (f"{shown}:{v}" if isinstance(v, int) else v) for k, v in base_index.items()
    }
    for key, value in data.items():
        base[key] = value
        for old in [p for p in out_index if p and p[0] == key]:
            del out_index[old]
        out_index.update({p: v for p, v in index.items() if p and p[0] == key})
    if changes is not None:
        if not isinstance(changes, dict):
            raise ConfigError(
                "set: expected a mapping {dotted.path: value}",
                where=f"{path}:{index.get(('set',), '?')}",
            )
        for key, value in changes.items():
            where = f"{path}:{index.get(('set', key), line)}"
            base, out_index = apply_overrides(base, {key: value}, where=where, line_index=out_index)
    return base, out_index


def _rebase_data_paths(model_cls: type[BaseModel], data: Any, old: Path, new: Path) -> None:
    """Rewrite relative data paths in ``data`` from folder ``old`` to folder ``new``, in place.

    Both folders are resolved (symlinks followed), so that the ``..`` of the rewritten path
    climbs the real folders the operating system will.
    """
    if old == new:
        return
    for field_path in _data_path_fields(model_cls, data, ()):
        container = _node_at(data, field_path[:-1])
        value = container[field_path[-1]]
        if is_relative_data_path(value):
            container[field_path[-1]] = Path(os.path.relpath(old / value, new)).as_posix()


def _data_path_fields(tp: Any, node: Any, path: FieldPath) -> list[FieldPath]:
    """Paths of the text values in ``node`` whose type (``tp``) is marked as a data path."""
    found: list[FieldPath] = []
    while True:  # strip Annotated and Optional, noting the marker on the way
        if typing.get_origin(tp) is typing.Annotated:
            if any(meta is DATA_PATH for meta in tp.__metadata__):
                return [path] if isinstance(node, str) else []
            tp = typing.get_args(tp)[0]
            continue
        members = _union_members(tp)
        if members is None:
            break
        if len(members) == 1:
            tp = members[0]
            continue
        # Any member that marks a path marks it (tagged unions name fields consistently).
        seen: set[FieldPath] = set()
        for member in members:
            for p in _data_path_fields(member, node, path):
                if p not in seen:
                    seen.add(p)
                    found.append(p)
        return found
    if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(node, dict):
        for key, value in node.items():
            info = _model_field(tp, key)
            if info is None:
                continue
            if any(meta is DATA_PATH for meta in info.metadata) and isinstance(value, str):
                found.append((*path, key))
            else:
                found += _data_path_fields(info.annotation, value, (*path, key))
    elif _origin(tp) in (list, Sequence, typing.Sequence) and isinstance(node, list):
        item_tp = _item_type(tp, 0)
        for i, item in enumerate(node):
            found += _data_path_fields(item_tp, item, (*path, i))
    elif _origin(tp) in (dict, Mapping, typing.Mapping) and isinstance(node, dict):
        args = typing.get_args(tp)
        if len(args) == 2:
            for key, value in node.items():
                found += _data_path_fields(args[1], value, (*path, key))
    return found


def dump_resolved(model: BaseModel, header: str | None = None) -> str:
    """YAML text of a validated model with every default filled in (the resolved scenario).

    Parameters
    ----------
    model
        A validated model.
    header
        Optional comment text written first, each line prefixed with ``# ``.

    Returns
    -------
    str
        ``model.model_dump(mode="json", by_alias=True)`` as block YAML, keys in model field
        order; durations appear as exact text (``"15min"``) or seconds. Loading it with
        :func:`load_model` gives an equal model.
    """
    data = model.model_dump(mode="json", by_alias=True)
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 4096  # long notes stay on one line rather than being folded
    yaml.representer.sort_base_mapping_type_on_output = False
    out = io.StringIO()
    if header:
        out.write("".join(f"# {line}".rstrip() + "\n" for line in header.splitlines()))
    yaml.dump(data, out)
    return out.getvalue()
