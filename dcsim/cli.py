"""The ``dcsim`` command line: a thin typer layer over the Python API.

Bad input (a scenario, an override, a data file) prints one line ``dcsim: error: ...`` on
stderr and exits with code 2, without a traceback.
"""

from __future__ import annotations

import functools
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from dcsim import units
from dcsim.errors import ConfigError

app = typer.Typer(
    name="dcsim",
    help="Simulate what an AI data-center campus can deliver: tokens, power, cost, water.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        "-s",
        help="Override a scenario field: path.to.field=value (list items by index or name).",
    ),
]


def _user_errors(fn: F) -> F:
    """Turn ConfigError into one line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as err:
            typer.echo(f"dcsim: error: {err}", err=True)
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]


#: KPIs shown at the end of a run: key, label, scale, format.
KPI_ROWS: tuple[tuple[str, str, float, str], ...] = (
    ("mean_served_tok_per_s", "mean served [Mtok/s]", 1e-6, ".3f"),
    ("peak_capacity_tok_per_s", "peak capacity [Mtok/s]", 1e-6, ".3f"),
    ("served_tok", "tokens served [Ttok]", 1e-12, ".3f"),
    ("unserved_frac", "unserved share [%]", 100.0, ".2f"),
    ("slo_attainment_frac", "SLO attainment, interactive [%]", 100.0, ".2f"),
    ("power_capped_tok", "tokens withheld by power caps [Gtok]", 1e-9, ".3f"),
    ("power_capped_h", "hours with power capping [h]", 1.0, ".1f"),
    ("facility_energy_j", "facility energy [GWh]", 1 / (1e3 * units.MWH_J), ".2f"),
    ("it_energy_j", "IT energy [GWh]", 1 / (1e3 * units.MWH_J), ".2f"),
    ("peak_facility_power_w", "peak facility power [MW]", 1 / units.MW_W, ".1f"),
    ("pue", "PUE (energy-weighted)", 1.0, ".3f"),
    ("it_tok_per_j", "tokens per joule, IT [tok/J]", 1.0, ".2f"),
    ("facility_tok_per_j", "tokens per joule, facility [tok/J]", 1.0, ".2f"),
    ("mean_gpus_in_service_count", "GPUs in service (mean)", 1.0, ",.0f"),
)


def kpi_table(kpis: dict[str, Any], title: str = "KPIs") -> Table:
    """A rich table of the headline KPIs."""
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    for key, label, scale, fmt in KPI_ROWS:
        value = kpis.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        table.add_row(escape(label), format(value * scale, fmt))
    return table


@app.command()
@_user_errors
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    set_: SetOpt = None,
    seed: Annotated[int | None, typer.Option(help="Seed; default: the scenario's.")] = None,
    out: Annotated[Path, typer.Option(help="Results root folder.")] = Path("results"),
    write: Annotated[bool, typer.Option(help="Write the run folder.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run a scenario; write results/<scenario>/<run-id>/ and print the KPIs."""
    from dcsim.runner import resolve_scenario
    from dcsim.runner import run as run_api

    sc = resolve_scenario(scenario, set_)
    show = not quiet and sys.stderr.isatty()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=not show,
        transient=True,
    ) as bar:
        task = bar.add_task(f"simulating {sc.name}", total=1.0)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done / total)

        result = run_api(sc, seed=seed, write=write, root=out, progress=progress)
    console.print(kpi_table(result.kpis, title=f"{sc.name} (seed {result.meta['seed']})"))
    console.print(f"simulated in {result.meta['wall_time_s']:.1f} s")
    if write:
        console.print(f"results: {result.meta['run_dir']}", markup=False, highlight=False)


@app.command()
@_user_errors
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.")],
    set_: SetOpt = None,
) -> None:
    """Validate scenario files: schema, catalog references and the named checks."""
    from dcsim.scenario import CHECKS, load_scenario

    for f in files:
        sc = load_scenario(f, set_)
        racks = sum(
            g.count for s in sc.sites for b in s.buildings for h in b.halls for g in h.rack_groups
        )
        console.print(
            f"{f}: ok ({len(sc.workloads)} workloads, {racks} racks, "
            f"{sc.horizon_s / units.D_S:g} days)",
            markup=False,
            highlight=False,
        )
    console.print("checks: " + ", ".join(c.__name__ for c in CHECKS), highlight=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor completion)."""
    from dcsim.scenario.schema import Scenario

    typer.echo(json.dumps(Scenario.model_json_schema(), indent=2))


@app.command()
@_user_errors
def catalog(
    table: Annotated[
        str, typer.Argument(help="accelerators, rack_systems, models, precisions, efficiencies")
    ] = "accelerators",
    scenario: Annotated[
        Path | None, typer.Option(help="Include this scenario's catalog additions.")
    ] = None,
) -> None:
    """List catalog entries with their main figures and confidence."""
    from dcsim.catalog.load import catalog_table, load_catalog
    from dcsim.scenario import load_scenario, scenario_catalog

    cat = scenario_catalog(load_scenario(scenario)) if scenario else load_catalog()
    df = catalog_table(cat, table)
    # One column per figure, its confidence grade beside the value: "132 (S)".
    grades = {c for c in df.columns if str(c).endswith("_confidence")}
    t = Table(title=f"catalog: {table}")
    t.add_column("id", no_wrap=True, min_width=max(len(str(i)) for i in df.index))
    shown = [c for c in df.columns if c not in grades and c != "name"]
    for col in shown:
        t.add_column(str(col), overflow="fold")
    for idx, row in df.iterrows():
        cells = []
        for col in shown:
            grade = row.get(f"{col}_confidence")
            text = _fmt(row[col])
            cells.append(f"{text} ({grade})" if isinstance(grade, str) and text else text)
        t.add_row(str(idx), *cells)
    # A catalog table is wide; let it overflow a narrow terminal or pipe rather than fold
    # every id and figure into slivers.
    Console(width=max(console.width, 220)).print(t)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:g}"
    return str(v)


def main() -> None:  # pragma: no cover - console entry
    """Console entry point."""
    app()
