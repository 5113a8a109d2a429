"""``python -m dcsim.calibration --report | --fit [--markdown]``."""

from __future__ import annotations

import argparse
import sys

from dcsim.calibration.fit import main as fit_main
from dcsim.calibration.report import (
    calibration_report,
    report_markdown,
    report_text,
    validation_markdown,
    validation_report,
    validation_text,
)


def main(argv: list[str] | None = None) -> int:
    """Run the calibration command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (``sys.argv[1:]`` by default).

    Returns
    -------
    int
        Exit code: 0.
    """
    parser = argparse.ArgumentParser(
        prog="python -m dcsim.calibration",
        description="Compute-core calibration: report every point's error, or refit.",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--report", action="store_true", help="print every point with its error")
    action.add_argument("--fit", action="store_true", help="refit and rewrite efficiencies.yaml")
    parser.add_argument(
        "--markdown", action="store_true", help="with --report: a Markdown table (docs)"
    )
    args = parser.parse_args(argv)
    if args.fit:
        fit_main()
        return 0
    frame = calibration_report()
    print(report_markdown(frame) if args.markdown else report_text(frame))
    print()
    checks = validation_report()
    print(validation_markdown(checks) if args.markdown else validation_text(checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
