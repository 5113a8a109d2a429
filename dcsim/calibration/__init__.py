"""Calibration of the compute core against published measurements.

:mod:`dcsim.calibration.fit` fits the efficiency factors of every accelerator x stack on the
points of ``dcsim/catalog/data/calibration_points.yaml`` and writes
``dcsim/catalog/data/efficiencies.yaml``; :mod:`dcsim.calibration.report` recomputes every
point (throughput, power and the power-limit ratios) from the catalog and reports its error.

Command line: ``python -m dcsim.calibration --report`` prints the table;
``python -m dcsim.calibration --fit`` refits and rewrites ``efficiencies.yaml``.

It sits above the model layer (it builds pools and runs the compiled operating point), so
the catalog itself stays a plain data layer.
"""
