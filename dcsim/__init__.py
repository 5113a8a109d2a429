"""dcsim: AI data-center capacity, power and cooling simulator.

The public API::

    import dcsim
    sc = dcsim.load_scenario("scenarios/small-hall.yaml", overrides=["horizon_s=2d"])
    res = dcsim.run(sc)            # RunResult: timeseries, events, kpis, scenario, meta
    res = dcsim.read_run("results/small-hall/<run-id>")
"""

__version__ = "0.1.0"

from dcsim.errors import ConfigError  # noqa: E402
from dcsim.results.io import read_run  # noqa: E402
from dcsim.results.run_result import RunResult  # noqa: E402
from dcsim.runner import run  # noqa: E402
from dcsim.scenario import load_scenario  # noqa: E402

__all__ = ["ConfigError", "RunResult", "__version__", "load_scenario", "read_run", "run"]
