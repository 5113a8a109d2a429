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
            # "from dcsim import units" (or "from . import demand") imports a submodule.
            if stem == "dcsim" or node.level:
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
