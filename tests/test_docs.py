"""The model reference in docs/ builds, and its navigation and links point at real files."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: Markdown inline links and images: ``[text](target)``; the target up to a space or ``)``.
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
_CODE = re.compile(r"`[^`\n]*`")


def _nav_pages(nav) -> list[str]:
    """Every page file named in an mkdocs ``nav`` tree."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [p for item in nav for p in _nav_pages(item)]
    if isinstance(nav, dict):
        return [p for value in nav.values() for p in _nav_pages(value)]
    return []


def _config() -> dict:
    return YAML(typ="safe").load((ROOT / "mkdocs.yml").read_text())


def _relative_links(path: Path) -> list[str]:
    """Relative link targets of a markdown file, code spans and fenced blocks left out."""
    text = _CODE.sub("", _FENCE.sub("", path.read_text()))
    targets = [m.group(1) for m in _LINK.finditer(text)]
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:|^#", t)]


MARKDOWN = sorted(DOCS.rglob("*.md")) + [ROOT / "README.md"]


def test_every_nav_page_exists_and_every_page_is_in_nav():
    pages = _nav_pages(_config()["nav"])
    assert len(pages) >= 20  # model pages + calibration + climate + assumptions + API pages
    assert [p for p in pages if not (DOCS / p).is_file()] == []
    unlisted = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")} - set(pages)
    assert unlisted == set(), "a page that no navigation entry reaches"


def test_no_machine_paths_in_docs():
    # Notes with a developer machine's paths do not belong in the model reference.
    hits = [p.name for p in MARKDOWN if re.search(r"/work/|/home/\w|/root/", p.read_text())]
    assert hits == []


@pytest.mark.parametrize("path", MARKDOWN, ids=[str(p.relative_to(ROOT)) for p in MARKDOWN])
def test_relative_links_resolve(path):
    missing = []
    for target in _relative_links(path):
        file_part = target.split("#", 1)[0]
        if file_part and not (path.parent / file_part).resolve().exists():
            missing.append(target)
    assert missing == []


def test_link_checker_sees_links():
    # The checker itself: it finds a relative link, skips URLs, anchors and code.
    sample = DOCS / "index.md"
    links = _relative_links(sample)
    assert "compute.md" in links and not [t for t in links if t.startswith("http")]


def test_api_pages_name_real_modules():
    import importlib

    for page in sorted((DOCS / "api").glob("*.md")):
        (name,) = re.findall(r"^::: (\S+)$", page.read_text(), flags=re.M)
        assert importlib.import_module(name).__doc__, name


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    # The API pages carry the docstrings' equations, e.g. the DVFS law of the compute core.
    html = (tmp_path / "api" / "compute" / "index.html").read_text()
    assert "gpu_power_w" in html and "Weste and Harris" in html


def test_griffe_extension_escapes_units_and_joins_headers():
    import importlib.util

    spec = importlib.util.spec_from_file_location("griffe_units", DOCS / "_ext" / "griffe_units.py")
    pytest.importorskip("griffe")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    # "[0, 1] [-]" would be a markdown reference link to "-"; the unit's bracket is escaped.
    assert mod.fix_docstring("Share in [0, 1] [-].") == "Share in [0, 1] \\[-]."
    # A numpydoc Returns header continued on a 1-space-indented line is one header again.
    assert mod.fix_docstring("(a_w,\n b_w)\n    Powers [W].") == "(a_w, b_w)\n    Powers [W]."
    assert mod.fix_docstring("Power [W].") == "Power [W]."
