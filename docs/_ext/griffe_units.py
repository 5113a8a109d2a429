"""Griffe extension: render dcsim's numpydoc docstrings as they are meant.

dcsim writes a unit after each description in brackets, ``[W]``, ``[-]``, and often a range
just before it, ``in [0, 1] [-]``. Markdown reads ``[0, 1] [-]`` as a reference link whose
target is ``-``, so the unit vanishes and the build warns. This extension escapes the
opening bracket of such a unit, and joins a numpydoc item header that continues on the next
line (a long ``Returns`` tuple), before the docstrings are parsed. It changes how a
docstring renders, never what it says.
"""

from __future__ import annotations

import re

import griffe

#: ``] [`` followed by a short bracketed unit: escape the unit's bracket.
_UNIT_AFTER_BRACKET = re.compile(r"\] \[(?=[^\]\n]{1,24}\])")
#: A header line ending in a comma, continued on a line indented by 1-3 spaces.
_HEADER_CONTINUATION = re.compile(r"(?m)^(\S[^\n]*,)\n {1,3}(?=\S)")


def fix_docstring(text: str) -> str:
    """The docstring text with unit brackets escaped and header continuations joined."""
    text = _HEADER_CONTINUATION.sub(r"\1 ", text)
    return _UNIT_AFTER_BRACKET.sub(r"] \\[", text)


class DcsimUnits(griffe.Extension):
    """Apply :func:`fix_docstring` to every object's docstring as it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:  # noqa: D102
        if obj.docstring is not None:
            obj.docstring.value = fix_docstring(obj.docstring.value)
