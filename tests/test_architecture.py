"""The import arrows of ARCHITECTURE.md, read from the source with ``ast``.

``physics/`` imports nothing from the package but ``units``; ``kernels/`` only ``physics``,
``kernels`` and ``units``; the CLI libraries (typer, rich) stay in ``cli.py``. Imports inside
functions count as well: a lazy import is still an arrow.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dcsim"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """Absolute names of every module a source text imports (relative imports resolved).

    Parameters
    ----------
    source
        Python source text.
    module
        Dotted name of the module the text belongs to, e.g. ``"dcsim.physics.compute"``.
    is_package
        True for an ``__init__.py`` (relative imports start at the module itself).
    """
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            names.add(stem)
            # "from dcsim import units" (or "from . import demand", "from dcsim.sim import
            # engine") may import a submodule; a name that is not one is harmless here.
            if stem == "dcsim" or node.level or stem.startswith("dcsim."):
                names.update(f"{stem}.{alias.name}" for alias in node.names)
    return names


@functools.cache
def imported_modules(path: Path) -> frozenset[str]:
    """Modules imported by one file of the package."""
    return frozenset(
        imports_of(path.read_text(encoding="utf-8"), _module_name(path), path.name == "__init__.py")
    )


def _sources(sub: str) -> list[Path]:
    return sorted((PACKAGE / sub).rglob("*.py")) if sub else sorted(PACKAGE.rglob("*.py"))


def _dcsim_imports(path: Path) -> set[str]:
    # "dcsim" alone appears for "from dcsim import x"; its submodule entry says what x is.
    return {n for n in imported_modules(path) if n.startswith("dcsim.") or n == "dcsim"} - {"dcsim"}


def _allowed(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_import_parser_sees_plain_relative_and_lazy_imports():
    # The rules below are only as good as this parser: check it on a text written for it.
    source = (
        "import numpy as np\n"
        "from dcsim import units\n"
        "from . import demand\n"
        "from ..sim.engine import simulate\n"
        "def f():\n"
        "    import typer\n"
    )
    names = imports_of(source, "dcsim.physics.probe")
    assert {"numpy", "dcsim.units", "dcsim.physics.demand", "dcsim.sim.engine", "typer"} <= names


def test_physics_imports_only_units_and_physics_from_the_package():
    # Physics modules may compose one another (compute sizes the batch with queueing).
    files = _sources("physics")
    assert files, "dcsim/physics holds no modules"
    bad = {
        str(f.relative_to(PACKAGE.parent)): sorted(
            n for n in _dcsim_imports(f) if not _allowed(n, ("dcsim.units", "dcsim.physics"))
        )
        for f in files
    }
    assert {k: v for k, v in bad.items() if v} == {}


def test_kernels_import_only_physics_kernels_and_units():
    files = _sources("kernels")
    assert files, "dcsim/kernels holds no modules"
    allowed = ("dcsim.physics", "dcsim.kernels", "dcsim.units")
    bad = {
        str(f.relative_to(PACKAGE.parent)): sorted(
            n for n in _dcsim_imports(f) if not _allowed(n, allowed)
        )
        for f in files
    }
    assert {k: v for k, v in bad.items() if v} == {}


@pytest.mark.parametrize("library", ["typer", "rich", "click"])
def test_only_the_cli_imports_cli_libraries(library):
    users = [
        str(f.relative_to(PACKAGE.parent))
        for f in _sources("")
        if f.name != "cli.py" and _allowed_any(imported_modules(f), library)
    ]
    assert users == []
    # The rule is not vacuous: the CLI itself does use typer and rich.
    if library != "click":
        assert _allowed_any(imported_modules(PACKAGE / "cli.py"), library)


def _allowed_any(names: frozenset[str], library: str) -> bool:
    return any(_allowed(n, (library,)) for n in names)


def test_nothing_in_the_package_imports_the_cli():
    # cli -> everything else, never back: the API must work without typer installed.
    # ``__main__`` is an entry point like the console script, which nothing imports.
    users = [
        str(f.relative_to(PACKAGE.parent))
        for f in _sources("")
        if f.name not in ("cli.py", "__main__.py") and "dcsim.cli" in imported_modules(f)
    ]
    assert users == []


def test_the_cli_and_the_package_import_light():
    # `dcsim --help` and `dcsim validate` must not pay for the simulator's heavy libraries
    # (Numba alone takes about a second to import): the package's names load on first use.
    code = (
        "import sys, dcsim, dcsim.cli; "
        "print(sorted(m for m in ('numba', 'pandas', 'dask', 'scipy', 'matplotlib', "
        "'dcsim.runner', 'dcsim.sweep') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_dcsim_sweep_stays_the_function_after_its_module_is_imported():
    code = (
        "import dcsim, dcsim.sweep; from dcsim.sweep import sweep; "
        "print(dcsim.sweep is sweep, callable(dcsim.sweep))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]


#: Which layer may import which (ARCHITECTURE.md's arrows, one row per layer of the package;
#: a layer is a subpackage or a top-level module). ``cli``, ``__main__`` and the package's
#: ``__init__`` sit on top and may import anything.
LAYERS_ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "units": set(),
    "fileio": {"errors"},
    "report_format": {"units"},
    "physics": {"units"},
    "kernels": {"physics", "units"},
    "catalog": {"errors", "units", "fileio"},
    "scenario": {"catalog", "physics", "errors", "units", "fileio"},
    "model": {"scenario", "catalog", "kernels", "physics", "errors", "units", "fileio"},
    "sim": {"model", "kernels", "physics", "errors", "units"},
    "results": {
        "model",
        "scenario",
        "catalog",
        "physics",
        "errors",
        "units",
        "fileio",
        "report_format",
    },
    "runner": {
        "sim",
        "model",
        "scenario",
        "catalog",
        "results",
        "errors",
        "units",
        "fileio",
        "windows",
    },
    "plot": {"results", "catalog", "errors", "units", "fileio", "report_format"},
    "calibration": {"catalog", "model", "kernels", "physics", "errors", "units", "fileio"},
    "requests": {"kernels", "physics", "model", "catalog", "errors", "units"},
    # windows reads the run's demand stream (sim.demand) to resolve its rules before the run
    "windows": {
        "sim",
        "requests",
        "scenario",
        "model",
        "kernels",
        "physics",
        "errors",
        "units",
        "report_format",
    },
    "sweep": {"runner", "model", "results", "scenario", "errors", "units", "fileio"},
    "regression": {"runner", "results", "scenario", "errors", "units", "fileio"},
    "goalseek": {"sweep", "runner", "results", "scenario", "errors", "units", "fileio"},
}
TOP = {"cli", "__main__", ""}

#: Arrows against the matrix that exist today, each with the module that draws it and why it
#: is not fixed yet. The list may only shrink: the test fails when one disappears, so that
#: its entry is removed and it cannot come back unnoticed.
PENDING_ARROWS: dict[tuple[str, str], str] = {}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _arrows() -> dict[tuple[str, str], list[str]]:
    arrows: dict[tuple[str, str], list[str]] = {}
    for f in _sources(""):
        src = _layer(_module_name(f))
        for name in _dcsim_imports(f):
            dst = _layer(name)
            if dst != src:
                arrows.setdefault((src, dst), []).append(f"{_module_name(f)} -> {name}")
    return arrows


def test_every_layer_is_in_the_matrix():
    layers = {_layer(_module_name(f)) for f in _sources("")}
    assert layers - TOP - set(LAYERS_ALLOWED) == set()


def test_the_import_matrix_holds():
    arrows = _arrows()
    bad = {
        arrow: users
        for arrow, users in arrows.items()
        if arrow[0] not in TOP
        and arrow[1] not in LAYERS_ALLOWED.get(arrow[0], set())
        and arrow not in PENDING_ARROWS
    }
    assert bad == {}
    # The pending list names only arrows that still exist.
    assert set(PENDING_ARROWS) - set(arrows) == set()


def test_the_matrix_itself_has_no_cycle():
    # A cycle among the allowed arrows would let two layers lean on each other.
    seen: dict[str, int] = {}

    def visit(layer: str, path: tuple[str, ...]) -> None:
        assert layer not in path, f"cycle: {' -> '.join((*path, layer))}"
        if seen.get(layer) == 2:
            return
        for nxt in LAYERS_ALLOWED.get(layer, set()):
            visit(nxt, (*path, layer))
        seen[layer] = 2

    for layer in LAYERS_ALLOWED:
        visit(layer, ())


def _package_graph() -> dict[str, set[str]]:
    return {
        _module_name(f): {n for n in _dcsim_imports(f) if n != _module_name(f)}
        for f in _sources("")
    }


def _module_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan), lazy and type-only imports included."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return sorted(groups)


#: Module cycles that exist today (may only shrink, like PENDING_ARROWS).
PENDING_CYCLES: list[list[str]] = []


def test_no_import_cycles():
    cycles = _module_cycles(_package_graph())
    assert [c for c in cycles if c not in PENDING_CYCLES] == []
    assert [c for c in PENDING_CYCLES if c not in cycles] == []


def test_the_cycle_finder_finds_a_cycle():
    # The rule is not vacuous: a loop written for the finder is seen, through a
    # "from package import module" line, and a chain without a loop is not.
    fleet = imports_of("from dcsim.sim import engine\n", "dcsim.sim.fleet")
    assert "dcsim.sim.engine" in fleet
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _module_cycles(graph) == [["a", "b", "c"]]
    assert _module_cycles({"a": {"b"}, "b": set()}) == []
