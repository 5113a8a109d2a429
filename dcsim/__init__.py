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
The names load on first use (``import dcsim`` itself is light).
"""

import sys
import types
from importlib import import_module
from typing import Any

__version__ = "0.1.0"

from dcsim.errors import ConfigError  # noqa: E402

# The public names load on first use, so that ``dcsim --help`` or ``dcsim validate`` do not
# pay for Numba, pandas, dask and the model (seconds) before they are needed.
_LAZY = {
    "check": "dcsim.regression",
    "Comparison": "dcsim.results.compare",
    "compare": "dcsim.results.compare",
    "read_run": "dcsim.results.io",
    "RunResult": "dcsim.results.run_result",
    "run": "dcsim.runner",
    "load_scenario": "dcsim.model.checks",
    "plot_dashboard": "dcsim.plot.dashboard",
    "save_dashboard": "dcsim.plot.dashboard",
    "read_sweep": "dcsim.sweep",
    "sweep": "dcsim.sweep",
    "solve": "dcsim.goalseek",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dcsim' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """The package, keeping ``dcsim.sweep`` the function.

    Importing a submodule binds it as an attribute of its package; for ``dcsim.sweep`` that
    would replace the public function by its module. The module stays reachable as
    ``sys.modules["dcsim.sweep"]`` and through ``from dcsim.sweep import ...``.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "sweep" and isinstance(value, types.ModuleType):
            value = value.sweep
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

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
    "solve",
    "sweep",
]
