"""dcsim: AI data-center capacity, power and cooling simulator.

The public API::

    import dcsim
    sc = dcsim.load_scenario("scenarios/small-hall.yaml", overrides=["horizon_s=2d"])
    res = dcsim.run(sc)            # RunResult: timeseries, events, kpis, scenario, meta
    res = dcsim.read_run("results/small-hall/<run-id>")

    cmp = dcsim.compare([run_a, run_b])          # KPI differences, overlays, capacity tables
    sw = dcsim.sweep("scenarios/small-hall.yaml", vary={"horizon_s": ["1d", "2d"]}, seeds=4)
    report = dcsim.check(baseline_dir="results/baselines")   # regression against baselines
    fig = dcsim.plot_dashboard(res)              # matplotlib Figure (imported on first use)

``dcsim.sweep`` is the function; its module is reached with ``from dcsim.sweep import ...``.
"""

from typing import Any

__version__ = "0.1.0"

from dcsim.errors import ConfigError  # noqa: E402
from dcsim.results.baseline import check  # noqa: E402
from dcsim.results.compare import Comparison, compare  # noqa: E402
from dcsim.results.io import read_run  # noqa: E402
from dcsim.results.run_result import RunResult  # noqa: E402
from dcsim.runner import run  # noqa: E402
from dcsim.scenario import load_scenario  # noqa: E402
from dcsim.sweep import read_sweep, sweep  # noqa: E402

# Plotting imports matplotlib (~0.3 s); it loads on first use of these names.
_LAZY_PLOT = ("plot_dashboard", "save_dashboard")


def __getattr__(name: str) -> Any:
    if name in _LAZY_PLOT:
        from dcsim.plot import dashboard

        return getattr(dashboard, name)
    raise AttributeError(f"module 'dcsim' has no attribute {name!r}")


__all__ = [
    "Comparison",
    "ConfigError",
    "RunResult",
    "__version__",
    "check",
    "compare",
    "load_scenario",
    "plot_dashboard",
    "read_run",
    "read_sweep",
    "run",
    "save_dashboard",
    "sweep",
]
