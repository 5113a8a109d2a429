"""User-facing errors: one line, naming where, what and what was expected.

The CLI prints ``str(error)`` and exits with code 2, without a traceback.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """Bad user input (scenario, catalog addition, data file, CLI option).

    Parameters
    ----------
    message
        What is wrong and what was expected, e.g. ``"power_mw: -3 must be > 0"``.
    where
        File and line (``"scenarios/x.yaml:12"``) or a field path; prefixed to the message.
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)
