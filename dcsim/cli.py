"""The ``dcsim`` command line: a thin typer layer over the Python API.

Bad input (a scenario, an override, a data file) prints one line ``dcsim: error: ...`` on
stderr and exits with code 2, without a traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
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
from dcsim.fileio import check_output_dir, check_output_file, os_error_text

app = typer.Typer(
    name="dcsim",
    help="Simulate what an AI data-center campus can deliver: tokens, power, cost, water.",
    no_args_is_help=True,
    add_completion=True,
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


#: Python logging levels accepted by ``--log-level``.
LOG_LEVELS = ("debug", "info", "warning", "error")


class _StderrHandler(logging.Handler):
    """Log records as ``dcsim: <level>: <message>`` on the *current* stderr.

    Looking stderr up at each record (not once) keeps test runners' captures and redirected
    streams working.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(f"dcsim: {record.levelname.lower()}: {record.getMessage()}\n")
        except (OSError, ValueError):
            pass  # stderr gone: nothing to say it with


def configure_logging(level: str) -> None:
    """Send the ``dcsim`` loggers' records at ``level`` and above to stderr.

    Parameters
    ----------
    level
        One of :data:`LOG_LEVELS`.
    """
    log = logging.getLogger("dcsim")
    for handler in [h for h in log.handlers if isinstance(h, _StderrHandler)]:
        log.removeHandler(handler)
    log.addHandler(_StderrHandler())
    log.setLevel(level.upper())
    # Records still propagate (to pytest's capture, an application's root handlers); the
    # root logger has no handler of its own, so nothing prints twice.


def _version(value: bool) -> None:
    if value:
        from dcsim import __version__

        typer.echo(f"dcsim {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    verbose: Annotated[
        int,
        typer.Option("--verbose", "-v", count=True, help="More messages: -v info, -vv debug."),
    ] = 0,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            help="Messages shown on stderr: debug, info, warning (default) or error.",
        ),
    ] = None,
) -> None:
    """Simulate what an AI data-center campus can deliver: tokens, power, cost, water."""
    if log_level is not None and log_level.lower() not in LOG_LEVELS:
        raise _fail(f"--log-level: {log_level!r} is not a level; expected {', '.join(LOG_LEVELS)}")
    level = log_level.lower() if log_level else ("warning", "info", "debug")[min(verbose, 2)]
    configure_logging(level)


def _fail(message: str) -> typer.Exit:
    """Print ``dcsim: error: <message>`` as one line on stderr; the Exit (code 2) to raise."""
    first = " ".join(str(message).split())
    try:
        typer.echo(f"dcsim: error: {first}", err=True)
    except OSError:
        pass  # stderr itself is gone: the exit code is all we can say
    return typer.Exit(code=2)


def _drop_stdout() -> None:
    """Point stdout at the null device after a failed write (disk full, closed pipe).

    Otherwise Python flushes the unwritten buffer again at exit and prints a second error
    (the recipe of the Python documentation for SIGPIPE).
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test runner's capture)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)


def _user_errors(fn: F) -> F:
    """Turn bad input and unwritable output into one line on stderr and exit code 2.

    ConfigError (bad input, an output location that cannot be written) and OSError (a
    write that fails: disk full, permission lost, stdout closed) both end here; the
    command's own output is flushed inside, so that a full stdout is caught too.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            out = fn(*args, **kwargs)
            sys.stdout.flush()
            return out
        except ConfigError as err:
            raise _fail(str(err)) from None
        except OSError as err:
            if getattr(err, "filename", None):
                raise _fail(f"{err.filename}: {os_error_text(err)}") from None
            # No file named: our own stdout (a full disk, a closed pipe).
            _drop_stdout()
            raise _fail(f"output: cannot write ({os_error_text(err)})") from None

    return wrapper  # type: ignore[return-value]


#: KPIs shown at the end of a run, in order: key, label. Values are formatted for people by
#: :func:`dcsim.report_format.format_quantity`, the unit chosen from the key's suffix.
KPI_ROWS: tuple[tuple[str, str], ...] = (
    ("mean_served_tok_per_s", "mean served"),
    ("peak_capacity_tok_per_s", "peak capacity"),
    ("demand_tok", "tokens demanded"),
    ("served_tok", "tokens served"),
    ("unserved_tok", "tokens unserved"),
    ("unserved_capacity_tok", "  unserved: too little capacity"),
    ("unserved_power_tok", "  unserved: power and grid caps"),
    ("unserved_thermal_tok", "  unserved: thermal caps"),
    ("unserved_frac", "unserved share"),
    ("final_backlog_tok", "backlog at the end"),
    ("final_backlog_frac", "backlog at the end, share of demand"),
    ("slo_attainment_frac", "SLO attainment, interactive"),
    ("power_capped_tok", "capacity withheld by power caps"),
    ("power_capped_h", "hours with power capping"),
    ("thermal_capped_tok", "capacity withheld by thermal caps"),
    ("facility_energy_j", "facility energy"),
    ("it_energy_j", "IT energy"),
    ("peak_facility_power_w", "peak facility power"),
    ("pue", "PUE (energy-weighted)"),
    ("wue_l_per_kwh", "WUE"),
    ("water_l", "water"),
    ("carbon_location_kg", "carbon, location-based"),
    ("carbon_market_kg", "carbon, market-based"),
    ("carbon_location_kg_per_mtok", "carbon per Mtok, location-based"),
    ("cost_total_usd", "cost, all-in"),
    ("cost_usd_per_mtok", "cost per Mtok, all-in"),
    ("cost_energy_usd_per_mtok", "cost per Mtok, energy"),
    ("revenue_usd", "revenue"),
    ("revenue_usd_per_mtok", "revenue per Mtok"),
    ("gross_margin_usd", "gross margin (revenue - all-in cost)"),
    ("gross_margin_frac", "gross margin, share of revenue"),
    ("tok_per_s_per_w_per_usd", "tok/s per MW per $M of capital"),
    ("it_tok_per_j", "tokens per joule, IT"),
    ("facility_tok_per_j", "tokens per joule, facility"),
    ("mean_gpus_in_service_count", "GPUs in service (mean)"),
)


def shown_kpis(result: Any) -> dict[str, Any]:
    """A run's KPIs plus the unserved tokens split by cause (computed from its time series)."""
    from dcsim.results.unserved_causes import unserved_by_cause

    kpis = dict(result.kpis)
    kpis.update(unserved_by_cause(result.timeseries, kpis.get("unserved_tok")))
    return kpis


def kpi_table(kpis: dict[str, Any], title: str = "KPIs") -> Table:
    """A rich table of the headline KPIs, numbers in engineering notation with units."""
    from dcsim.report_format import format_quantity

    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    for key, label in KPI_ROWS:
        value = kpis.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        table.add_row(escape(label), escape(format_quantity(key, value)))
    from dcsim.windows.report import window_kpi_rows

    for label, text in window_kpi_rows(kpis):
        table.add_row(escape(label), escape(text))
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
    from dcsim.results.io import check_run_location
    from dcsim.runner import resolve_scenario
    from dcsim.runner import run as run_api

    sc = _with_seed(resolve_scenario, scenario, set_, seed)
    if write:
        check_run_location(out, sc.name)  # before simulating: a bad --out fails now
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

        result = run_api(sc, write=write, root=out, progress=progress)
    console.print(kpi_table(shown_kpis(result), title=f"{sc.name} (seed {result.meta['seed']})"))
    console.print(f"simulated in {result.meta['wall_time_s']:.1f} s")
    for name, wall_s in result.meta.get("window_wall_s", {}).items():
        console.print(f"window {name}: requests replayed in {wall_s:.1f} s", highlight=False)
    if write:
        console.print(f"results: {result.meta['run_dir']}", markup=False, highlight=False)


def _with_seed(
    resolve: Callable[..., Any], scenario: Path, set_: list[str] | None, seed: Any
) -> Any:
    """Resolve a scenario with ``--seed`` applied as the field ``seed``.

    The seed goes through the schema like any ``--set``, so ``--seed`` accepts exactly what
    the scenario's ``seed`` field accepts (an integer >= 0).
    """
    if seed is None:
        return resolve(scenario, set_)
    try:
        return resolve(scenario, [*(set_ or []), f"seed={seed}"])
    except ConfigError as err:
        prefix = "--set seed: "
        if str(err).startswith(prefix):
            raise ConfigError(str(err)[len(prefix) :], "--seed") from None
        raise


@app.command()
@_user_errors
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.")],
    set_: SetOpt = None,
) -> None:
    """Validate scenario files: schema, catalog references and the named checks."""
    from dcsim.model.checks import CHECKS, load_scenario

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
@_user_errors
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor completion)."""
    from dcsim.scenario.json_schema import scenario_json_schema

    typer.echo(json.dumps(scenario_json_schema(), indent=2))


@app.command()
@_user_errors
def catalog(
    table: Annotated[
        str,
        typer.Argument(
            help="accelerators, rack_systems, models, precisions, efficiencies, cooling, power, "
            "economics, reliability, grid_defaults, facility_it, demand_profiles, weather_sites"
        ),
    ] = "accelerators",
    scenario: Annotated[
        Path | None, typer.Option(help="Include this scenario's catalog additions.")
    ] = None,
    format_: Annotated[
        str, typer.Option("--format", help="table (with a legend of the grades), csv or json.")
    ] = "table",
) -> None:
    """List a catalog table: every figure with its confidence grade (and source)."""
    from dcsim.catalog.listing import CONFIDENCE_LEGEND, list_table
    from dcsim.model.checks import load_scenario
    from dcsim.scenario import scenario_catalog

    if format_ not in ("table", "csv", "json"):
        raise ConfigError(f"{format_!r} is not a format; expected table, csv or json", "--format")
    cat = scenario_catalog(load_scenario(scenario)) if scenario else None
    df = list_table(table, cat)
    if format_ == "csv":
        typer.echo(df.to_csv(), nl=False)
        return
    if format_ == "json":
        orient = "index" if df.index.name else "records"
        typer.echo(df.to_json(orient=orient, indent=2, default_handler=str))
        return
    t = Table(title=f"catalog: {table}")
    wide = Console(width=max(console.width, 220))
    if "confidence" in df.columns:  # long form: one row per sourced figure
        for col in ("entry", "field", "value", "grade", "source"):
            t.add_column(col, overflow="fold", no_wrap=col != "source")
        for row in df.itertuples(index=False):
            t.add_row(
                escape(row.entry),
                escape(row.field),
                escape(_fmt(row.value)),
                row.confidence,
                escape(row.source),
            )
    else:
        # One column per figure, its confidence grade beside the value: "132 (S)".
        grades = {c for c in df.columns if str(c).endswith("_confidence")}
        t.add_column("id", no_wrap=True, min_width=max((len(str(i)) for i in df.index), default=2))
        shown = [c for c in df.columns if c not in grades and c != "name"]
        for col in shown:
            t.add_column(str(col), overflow="fold")
        for idx, row in df.iterrows():
            cells = []
            for col in shown:
                grade = row.get(f"{col}_confidence")
                text = _fmt(row[col])
                cells.append(f"{text} ({grade})" if isinstance(grade, str) and text else text)
            t.add_row(escape(str(idx)), *(escape(c) for c in cells))
    # A catalog table is wide; let it overflow a narrow terminal or pipe rather than fold
    # every id and figure into slivers.
    wide.print(t)
    wide.print(
        "confidence: " + "; ".join(f"{g} = {text}" for g, text in CONFIDENCE_LEGEND.items()),
        markup=False,
        highlight=False,
    )


# -- planner workflow: compare, sweep, check, plot -------------------------------------------


def _say(text: str) -> None:
    """Print one plain line (no markup, no highlighting, never wrapped)."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _wide_console() -> Console:
    """A console at least as wide as a KPI table, so that pipes and CI logs stay readable."""
    return Console(width=max(console.width, 160))


def _rich_rows(title: str, header: list[str], rows: list[list[str]]) -> Table:
    t = Table(title=title, show_header=True, header_style="bold")
    for i, h in enumerate(header):
        # Cells are short formatted numbers: never fold them one character per line.
        t.add_column(escape(h), justify="left" if i == 0 else "right", no_wrap=i > 0)
    for row in rows:
        t.add_row(*(escape(c) for c in row))
    return t


def _split_columns(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


#: Resolution of ``dcsim compare --plot`` figures [dot/inch].
COMPARE_PLOT_DPI = 110

#: Series overlaid by ``dcsim compare --plot`` when ``--series`` is not given.
DEFAULT_COMPARE_SERIES = ("facility_power_w", "served_tok_per_s")


@app.command()
@_user_errors
def compare(
    run_dirs: Annotated[
        list[Path], typer.Argument(help="Run folders to compare; the first is the reference.")
    ],
    csv: Annotated[
        Path | None, typer.Option(help="Write the KPI table (full precision) as CSV.")
    ] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write the comparison as markdown.")] = None,
    series: Annotated[
        str | None,
        typer.Option(help="Time-series columns to overlay with --plot, comma-separated."),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write the series overlay (.png, .pdf or .svg).")
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", help="Label of each run, in order (default: folder names)."),
    ] = None,
    changed: Annotated[
        bool, typer.Option("--changed", help="Show only the KPIs that differ.")
    ] = False,
) -> None:
    """Compare runs: KPI differences from the first run, series overlays, capacity tables."""
    from dcsim.results.compare import compare as compare_api

    columns = _split_columns(series)
    if columns and plot is None:
        raise ConfigError("needs --plot FILE to write the overlay to", where="--series")
    if csv is not None:
        check_output_file(csv, "--csv")
        check_output_file(csv.with_name(f"{csv.stem}-capacity.csv"), "--csv")
    if markdown is not None:
        check_output_file(markdown, "--markdown")
    if plot is not None:
        from dcsim.plot._util import FIGURE_FORMATS

        check_output_file(plot, "--plot", suffixes=tuple(FIGURE_FORMATS))
    cmp = compare_api(run_dirs, labels=label)
    if plot is not None:
        cmp.series(columns or list(DEFAULT_COMPARE_SERIES))  # bad names fail before any output
    wide = _wide_console()
    header, rows = cmp.rows(only_changed=changed)
    wide.print(_rich_rows(f"KPIs vs {cmp.reference}", header, rows))
    cap_rows = cmp.capacity_rows()
    if cap_rows is not None:
        wide.print(_rich_rows("Monthly capacity forecast", *cap_rows))
    for path in cmp.to_csv(csv) if csv is not None else []:
        _say(f"csv: {path}")
    if markdown is not None:
        cmp.to_markdown(markdown, only_changed=changed)
        _say(f"markdown: {markdown}")
    if plot is not None:
        from matplotlib.figure import Figure

        from dcsim.plot._util import save_figure
        from dcsim.plot.compare import plot_overlays

        fig = plot_overlays(cmp, columns or list(DEFAULT_COMPARE_SERIES), fig=Figure())
        save_figure(fig, plot, dpi=COMPARE_PLOT_DPI)
        _say(f"plot: {plot}")


#: KPIs whose P10/P50/P90 ``dcsim sweep`` prints per point (the rest are in the Parquet files).
SWEEP_SHOWN_KPIS = ("mean_served_tok_per_s", "unserved_frac", "pue", "power_capped_h")


@app.command()
@_user_errors
def sweep(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    vary: Annotated[
        list[str] | None,
        typer.Option("--vary", help="A field and its values: path=v1,v2,... (repeat for a grid)."),
    ] = None,
    seeds: Annotated[int, typer.Option(help="Seeds per point: the scenario's, +1, +2, ...")] = 1,
    workers: Annotated[
        int | None,
        typer.Option(help="Local worker processes (default: CPU count; 0: run in this process)."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of a running dask scheduler, e.g. tcp://10.0.0.5:8786."),
    ] = None,
    scheduler_timeout: Annotated[
        float,
        typer.Option(
            "--scheduler-timeout",
            help="Seconds for the whole scheduler handshake (finite, > 0, <= 86400).",
        ),
    ] = 10.0,
    out: Annotated[
        Path | None, typer.Option(help="Sweep folder (default: results/sweeps/<scenario>).")
    ] = None,
    set_: SetOpt = None,
    resume: Annotated[
        bool, typer.Option("--resume/--no-resume", help="Skip runs already finished.")
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    solve: Annotated[
        str | None,
        typer.Option(
            "--solve",
            help="Goal seeking: a numeric field and its range, PATH=LO..HI (needs --target).",
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target", help="KPI target for --solve, 'KPI<=VALUE' or 'KPI>=VALUE' (SI units)."
        ),
    ] = None,
    percentile: Annotated[
        float, typer.Option(help="--solve: percentile over seeds the KPI is taken at [%].")
    ] = 50.0,
    tol: Annotated[
        float | None,
        typer.Option(
            help="--solve: final bracket width, in the field's unit (default range/1000)."
        ),
    ] = None,
) -> None:
    """Run a grid of variants x seeds on dask; or, with --solve, seek a KPI target."""
    from dcsim.sweep import check_scheduler_timeout, check_workers, plan_sweep
    from dcsim.sweep import sweep as sweep_api

    check_workers(workers)
    check_scheduler_timeout(scheduler_timeout)
    if out is not None:
        check_output_dir(out, "--out")
    if solve is not None or target is not None:
        _solve(scenario, vary, solve, target, seeds, percentile, tol, set_, out, workers, scheduler,
               scheduler_timeout, resume)  # fmt: skip
        return
    plan = plan_sweep(scenario, vary, seeds, set_)
    n_points = len({r.point for r in plan})
    _say(f"{n_points} point(s) x {len(plan) // max(n_points, 1)} seed(s) = {len(plan)} run(s)")
    show = not quiet and sys.stderr.isatty()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} runs"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=not show,
        transient=True,
    ) as bar:
        task = bar.add_task(f"sweeping {scenario.stem}", total=len(plan))

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        res = sweep_api(
            scenario,
            vary,
            seeds=seeds,
            overrides=set_,
            out=out,
            workers=workers,
            scheduler=scheduler,
            scheduler_timeout_s=scheduler_timeout,
            resume=resume,
            progress=progress,
        )
    _print_sweep_summary(res)
    _say(
        f"{res.n_run} run(s) simulated, {res.n_skipped} already finished, "
        f"{len(res.failed)} failed, in {res.wall_time_s:.1f} s"
    )
    _say(f"results: {res.out_dir / 'results.parquet'}")
    _say(f"summary: {res.out_dir / 'summary.parquet'}")
    if res.failed:
        for key, error in res.failed.items():
            typer.echo(f"dcsim: run {key} failed: {error}", err=True)
        raise typer.Exit(code=1)


def _solve(
    scenario: Path,
    vary: list[str] | None,
    solve: str | None,
    target: str | None,
    seeds: int,
    percentile: float,
    tol: float | None,
    set_: list[str] | None,
    out: Path | None,
    workers: int | None,
    scheduler: str | None,
    scheduler_timeout: float,
    resume: bool,
) -> None:
    """``dcsim sweep --solve``: bisection on one setting, one table row per iteration."""
    from dcsim.goalseek import SOLVE_FILE, parse_solve, parse_target
    from dcsim.goalseek import solve as solve_api
    from dcsim.report_format import format_quantity

    if solve is None:
        raise ConfigError("needs --solve PATH=LO..HI", "--target")
    if target is None:
        raise ConfigError("needs --target 'KPI<=VALUE' or 'KPI>=VALUE'", "--solve")
    if vary:
        raise ConfigError("--vary and --solve cannot be combined; fix other fields with --set",
                          "--solve")  # fmt: skip
    path, lo, hi = parse_solve(solve)
    tgt = parse_target(target)
    _say(f"seeking {path} in [{lo:g}, {hi:g}] for {tgt} at P{percentile:g} over {seeds} seed(s)")

    def step(it: Any) -> None:
        mark = "meets" if it.met else "misses"
        _say(f"  {it.step:>2}  {path}={it.value:.6g}  {tgt.kpi}={it.kpi_value:.6g}  {mark}")

    res = solve_api(
        scenario, path, lo, hi, tgt, seeds=seeds, percentile=percentile, tol=tol,
        overrides=set_, out=out, workers=0 if workers is None and seeds == 1 else workers,
        scheduler=scheduler, scheduler_timeout_s=scheduler_timeout, resume=resume,
        on_iteration=step,
    )  # fmt: skip
    t = Table(title=f"goal seeking: {tgt} (P{percentile:g} over seeds)", header_style="bold")
    for col in ("step", path, tgt.kpi, "target"):
        t.add_column(escape(col), justify="right", no_wrap=True)
    for it in res.iterations:
        t.add_row(
            str(it.step), f"{it.value:.6g}", escape(format_quantity(tgt.kpi, it.kpi_value)),
            "meets" if it.met else "misses",
        )  # fmt: skip
    _wide_console().print(t)
    if res.note:
        _say(f"note: {res.note}")
    _say(f"{res.seeking} {path} meeting {tgt}: {res.answer:.6g} "
         f"(bracket {res.bracket[0]:.6g} .. {res.bracket[1]:.6g}, {len(res.iterations)} runs "
         f"of {len(set(res.seeds))} seed(s))")  # fmt: skip
    _say(f"iterations: {res.out_dir / SOLVE_FILE}")


def _print_sweep_summary(res: Any) -> None:
    """P50 (P10..P90) of a few headline KPIs, one row per point."""
    summary = res.summary
    if summary.empty:
        return
    from dcsim.report_format import format_quantity

    labels = dict(KPI_ROWS)
    shown = [k for k in SWEEP_SHOWN_KPIS if k in set(summary["kpi"])]
    paths = [c for c in summary.columns if c not in {"point", "kpi", "runs_count", "mean"}]
    paths = [c for c in paths if c not in {"p10", "p50", "p90"}]
    t = Table(title="P50 (P10 - P90) over seeds", header_style="bold")
    t.add_column("point", justify="right")
    for p in paths:
        t.add_column(escape(p), justify="right", overflow="fold")
    for k in shown:
        t.add_column(escape(labels[k]), justify="right")
    for point, group in summary.groupby("point", sort=True):
        by_kpi = group.set_index("kpi")
        cells = [str(point)] + [str(group.iloc[0][p]) for p in paths]
        for k in shown:
            row = by_kpi.loc[k]
            if math.isnan(row["p50"]):
                cells.append("-")
                continue
            p10, p50, p90 = (format_quantity(k, row[q]) for q in ("p10", "p50", "p90"))
            cells.append(f"{p50} ({p10} - {p90})")
        t.add_row(*cells)
    _wide_console().print(t)


@app.command()
@_user_errors
def check(
    scenarios: Annotated[
        list[Path] | None,
        typer.Argument(help="Scenario files (default: every baseline in --baseline)."),
    ] = None,
    baseline: Annotated[
        Path, typer.Option(help="Folder of baseline files (<scenario stem>.yaml).")
    ] = Path("results/baselines"),
    update: Annotated[
        bool, typer.Option("--update", help="Rewrite (or create) the baselines; show changes.")
    ] = False,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here.")] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write a markdown summary here.")] = None,
    set_: SetOpt = None,
) -> None:
    """Run scenarios with their fixed seeds and compare KPIs with baselines; exit 1 on drift."""
    from dcsim.regression import check as check_api
    from dcsim.regression import metric_rows
    from dcsim.results.compare import fmt_value

    def started(name: str) -> None:
        err_console.print(f"running {name} ...", markup=False, highlight=False)

    report = check_api(
        scenarios or None,
        baseline,
        update=update,
        overrides=set_,
        junit=junit,
        markdown=markdown,
        on_start=started,
    )
    wide = _wide_console()
    for c in report.checks:
        n = len(c.compared)
        where = f"{c.baseline_path}"
        if c.updated:
            if c.created:
                _say(f"{c.name}: baseline created: {where}")
            else:
                changed = [m for m in c.changed if m.status not in ("new", "missing")]
                new = f", {len(c.new)} new" if c.new else ""
                gone = f", {len(c.removed)} removed" if c.removed else ""
                _say(
                    f"{c.name}: baseline updated: {where} "
                    f"({len(changed)} of {n} metrics changed{new}{gone})"
                )
                if changed:
                    wide.print(_rich_rows(f"{c.name}: changes", *metric_rows(changed)))
                if c.new:
                    _say(f"  new: {', '.join(m.name for m in c.new)}")
                if c.removed:
                    # The run no longer has them: the rewritten baseline stops checking them.
                    _say(
                        "  removed (no longer checked): "
                        + ", ".join(f"{m.name} (was {fmt_value(m.baseline)})" for m in c.removed)
                    )
        elif c.unchanged:
            _say(f"{c.name}: baseline unchanged: {where} (all {n} metrics identical)")
        elif c.passed:
            new = f", {len(c.new)} new (not in the baseline)" if c.new else ""
            _say(f"{c.name}: ok ({n} metrics within tolerance{new}, {c.wall_time_s:.1f} s)")
        else:
            _say(f"{c.name}: DRIFT in {len(c.drifted)} of {n} metrics ({where})")
            wide.print(_rich_rows(f"{c.name}: drift", *metric_rows(c.drifted)))
        for note in c.notes:
            _say(f"  note: {note}")
    for path, what in ((junit, "junit"), (markdown, "markdown")):
        if path is not None:
            _say(f"{what}: {path}")
    if not report.passed:
        raise typer.Exit(code=1)


@app.command()
@_user_errors
def plot(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Figure file, .png, .pdf or .svg (default: <run folder>/dashboard.png)."),
    ] = None,
    dpi: Annotated[int, typer.Option(help="Resolution [dot/inch], 20 to 600.")] = 110,
) -> None:
    """Write a run's dashboard: power, tokens, PUE and temperatures, capacity forecast.

    A run with request-level windows also gets <figure>-windows.<suffix>: latency CDFs and
    the TTFT p99 over the window.
    """
    from dcsim.plot._util import FIGURE_FORMATS, check_dpi
    from dcsim.plot.dashboard import save_dashboard
    from dcsim.results.io import read_run

    target = out if out is not None else run_dir / "dashboard.png"
    check_dpi(dpi)
    if out is not None or run_dir.is_dir():
        check_output_file(target, "--out", suffixes=tuple(FIGURE_FORMATS))
    result = read_run(run_dir)
    result.meta.setdefault("run_dir", str(run_dir))
    path = save_dashboard(result, target, dpi=dpi)
    _say(f"dashboard: {path}")
    if result.requests is not None and len(result.requests):
        from dcsim.plot.windows import save_windows_figure

        windows_path = target.with_name(f"{target.stem}-windows{target.suffix}")
        check_output_file(windows_path, "--out", suffixes=tuple(FIGURE_FORMATS))
        _say(f"windows: {save_windows_figure(result, windows_path, dpi=dpi)}")


def _fmt(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:g}"
    return str(v)


def main() -> None:  # pragma: no cover - console entry
    """Console entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover - python -m dcsim.cli
    main()
