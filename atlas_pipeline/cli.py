"""The `atlas` command: generate a sample estate, run the pipeline (only what changed), query the
warehouse, list its tables, open the Dagster UI or the dashboard."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import sys
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from atlas_pipeline.lib.settings import REPO_ROOT, AtlasPaths
from atlas_pipeline.sample_estate.spec import EstateSpec

app = typer.Typer(
    name="atlas",
    help=__doc__,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def atlas_command() -> str:
    """How this shell runs `atlas`: `atlas` when it is on PATH and is this installation, else the
    path of this installation's script (e.g. `.venv/bin/atlas`), relative to the working directory
    when shorter."""
    script = Path(sys.executable).parent / "atlas"
    found = shutil.which("atlas")
    if found and script.exists() and Path(found).resolve() == script.resolve():
        return "atlas"
    if not script.exists():
        return "atlas"
    try:
        return os.path.relpath(script)
    except ValueError:
        return str(script)


def _version_callback(value: bool) -> None:
    if value:
        print(version_text())
        raise typer.Exit()


def version_text() -> str:
    """`atlas X.Y.Z (git <sha>) — dagster …, dagster-dbt …, dbt-core …, duckdb …`"""
    import subprocess
    from importlib.metadata import PackageNotFoundError, version

    from atlas_pipeline import __version__

    def v(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "?"

    commit = ""
    try:
        sha = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5).stdout.strip()
        commit = f" (git {sha})" if sha else ""
    except (OSError, subprocess.SubprocessError):
        pass
    return (f"atlas {__version__}{commit} — dagster {v('dagster')}, dagster-dbt {v('dagster-dbt')}, "
            f"dbt-core {v('dbt-core')}, dbt-duckdb {v('dbt-duckdb')}, duckdb {v('duckdb')}")


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True,
                                          help="Print Atlas's version (and its engines') and exit.")] = False,
) -> None:
    """Atlas: multi-cloud FinOps and GPU-fleet cost. `atlas run` builds the warehouse; `atlas sql`,
    `atlas tables` and `atlas dashboard` read it."""


# -- sample estate options (shared by `generate` and `run`) -------------------------------------

def _month(text: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise typer.BadParameter(f"expected a month as YYYY-MM, got {text!r}") from exc


def _iso_date(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {text!r}") from exc


_DEFAULTS = EstateSpec()

Seed = Annotated[int, typer.Option(help="Sample estate: random seed.", rich_help_panel="Sample estate")]
Start = Annotated[str, typer.Option(help="Sample estate: first billing period (YYYY-MM).", rich_help_panel="Sample estate")]
Months = Annotated[int, typer.Option(min=1, help="Sample estate: billing periods.", rich_help_panel="Sample estate")]
LineItems = Annotated[int, typer.Option(
    "--line-items-per-month", min=0, rich_help_panel="Sample estate",
    help="Sample estate: non-GPU billing lines per month across clouds (~50% AWS, 25% GCP, 25% Azure).")]
Interval = Annotated[int, typer.Option(
    "--telemetry-interval-seconds", min=1, rich_help_panel="Sample estate", help="Sample estate: DCGM sampling interval.")]
TelemetryDays = Annotated[int | None, typer.Option(
    "--telemetry-days", min=1, rich_help_panel="Sample estate",
    help="Sample estate: only the last N days get DCGM samples (default: every day).")]


def _spec(seed: int, start: str, months: int, line_items: int, interval: int, telemetry_days: int | None):
    from dataclasses import replace

    return replace(_DEFAULTS, seed=seed, start_month=_month(start), months=months,
                   line_items_per_month=line_items, telemetry_interval_seconds=interval, telemetry_days=telemetry_days)


def _generate(out: Path, spec) -> None:
    from atlas_pipeline.sample_estate.estate import generate_estate

    summary = generate_estate(out, spec)
    print(f"Sample estate written to {out}: {len(summary.files)} files")


@app.command()
def generate(
    out: Annotated[Path | None, typer.Option(help="Export folder (default: $ATLAS_EXPORTS or $ATLAS_HOME/exports).")] = None,
    seed: Seed = _DEFAULTS.seed, start: Start = f"{_DEFAULTS.start_month:%Y-%m}", months: Months = _DEFAULTS.months,
    line_items: LineItems = _DEFAULTS.line_items_per_month, interval: Interval = _DEFAULTS.telemetry_interval_seconds,
    telemetry_days: TelemetryDays = _DEFAULTS.telemetry_days,
) -> int:
    """Write the sample estate (billing exports of three clouds and GPU telemetry)."""
    _generate(out or AtlasPaths.from_env().exports, _spec(seed, start, months, line_items, interval, telemetry_days))
    return 0


# -- run and check --------------------------------------------------------------------------------


@app.command()
def check() -> int:
    """Validate every declaration ($ATLAS_ASSETS or assets/): one line per problem, exit 1 on errors."""
    from atlas_pipeline.lib.ingest.declaration_check import check_declarations

    report = check_declarations()
    for line in report.lines():
        print(line, file=sys.stderr if report.errors else sys.stdout)
    return 1 if report.errors else 0


@app.command()
def accept(
    source: Annotated[str, typer.Argument(help="The source, e.g. gcp_billing.")],
    period: Annotated[str, typer.Argument(help="Its billing period (YYYY-MM) or day (YYYY-MM-DD).")],
) -> int:
    """Make a held-back delivery of a source's billing period or day current (it was empty, or much
    smaller than the delivery it would replace); the next run rebuilds that period."""
    import getpass

    import duckdb

    from atlas_pipeline.lib.ingest.landing import accept_delivery
    from atlas_pipeline.lib.run import run_state
    from atlas_pipeline.lib.warehouse.connections import connect

    paths = AtlasPaths.from_env()
    try:
        with connect(paths.warehouse) as con:
            print(accept_delivery(con, source, period, getpass.getuser()))
        run_state.forget(paths)  # the next `atlas run` plans, and rebuilds that period
    except LookupError as exc:
        _err(f"error: {exc.args[0]}")
        return 1
    except duckdb.IOException as exc:
        _err(f"error: the warehouse is busy (a run holds it): {str(exc).splitlines()[0]}")
        return 1
    return 0


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


@app.command()
def run(
    regenerate: Annotated[bool, typer.Option(help="Rewrite the sample estate first.")] = False,
    full_refresh: Annotated[bool, typer.Option(
        help="Rebuild every billing period and telemetry day and every incremental table from scratch "
             "(after changing the mappings or the seeds).")] = False,
    as_of: Annotated[str | None, typer.Option(
        help="Forecast as of this date (YYYY-MM-DD); default: the day after the last cost day.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show everything on the terminal: Dagster's "
                                          "event log and dbt's per-node lines (always in the log file).")] = False,
    seed: Seed = _DEFAULTS.seed, start: Start = f"{_DEFAULTS.start_month:%Y-%m}", months: Months = _DEFAULTS.months,
    line_items: LineItems = _DEFAULTS.line_items_per_month, interval: Interval = _DEFAULTS.telemetry_interval_seconds,
    telemetry_days: TelemetryDays = _DEFAULTS.telemetry_days,
    engine: Annotated[Engine, typer.Option(
        envvar="ATLAS_ENGINE", case_sensitive=False,
        help="spark: after the run, build the dbt project once more on Apache Spark from the same landed "
             "parquet (marts as parquet under $ATLAS_HOME/spark; README \"Running on Apache Spark\").")] = Engine.duckdb,
) -> int:
    """Build the warehouse: land new deliveries and rebuild only what changed (billing periods,
    telemetry days, what depends on them, forecasts, reports), publish, print a summary. Generates
    the sample estate first when there is no export folder content and no $ATLAS_ASSETS.
    With --engine spark (or ATLAS_ENGINE=spark) the dbt project is then built on Spark too."""
    from atlas_pipeline.lib.run.pipeline_run import RunOptions, prepare_environment, run_pipeline
    from atlas_pipeline.lib.run.progress import TerminalProgress
    from atlas_pipeline.lib.run.run_log import RunLog

    as_of = _iso_date(as_of)
    paths = AtlasPaths.from_env()
    prepare_environment(paths)
    # The run itself lands and builds on DuckDB: profiles.yml picks dbt's target from ATLAS_ENGINE,
    # and the Dagster jobs' dbt must not take the Spark one. Spark builds after, from the landing.
    os.environ["ATLAS_ENGINE"] = Engine.duckdb.value
    command = atlas_command()
    # The sample estate only backs the repository's own declarations: a user's (ATLAS_ASSETS) never
    # gets sample data generated behind their back.
    own_declarations = bool(os.environ.get("ATLAS_ASSETS", "").strip())
    if regenerate or (not own_declarations and not any(paths.exports.iterdir())):
        print(f"Generating the sample estate into {paths.exports} …")
        _generate(paths.exports, _spec(seed, start, months, line_items, interval, telemetry_days))
    with RunLog(paths.logs, echo=verbose) as log:
        out = TerminalProgress(log.terminal, record=log.write_line, error_stream=log.terminal_err)
        out.line(f"Atlas run — {paths.home}  (log: {log.path})", "bold")
        code = run_pipeline(paths, RunOptions(full_refresh=full_refresh, as_of=as_of, verbose=verbose), out, log,
                            atlas_command=command)
        if code == 0 and engine == Engine.spark:
            code = _build_on_spark(paths, out, log)
    return code


def _build_on_spark(paths: AtlasPaths, out, log) -> int:
    """`atlas run --engine spark`'s last stage: the dbt project on Spark from the landed parquet the
    run left (lib/warehouse/spark_engine.py, in a child process), its output in the run's log file."""
    from atlas_pipeline.lib.warehouse.spark_engine import NOT_BUILT_ON_SPARK, build_in_subprocess, java_available

    spark_dir = paths.home / "spark"
    if not java_available():
        out.error("Spark needs a Java runtime (JDK 17): none on PATH and no JAVA_HOME. The DuckDB build above stands.")
        return 1
    with out.stage("spark") as stage:
        ok, last = build_in_subprocess(paths.warehouse, spark_dir, record=log.write_line)
        stage.ok = ok
        stage.summary = f"dbt build on Spark: {last}" if ok else f"dbt build on Spark FAILED: {last} (see {log.path})"
    if ok:
        out.line(f"Spark marts (parquet): {spark_dir / 'warehouse' / 'main.db'}/<model>/")
        out.line(NOT_BUILT_ON_SPARK[0].upper() + NOT_BUILT_ON_SPARK[1:] + ".")
    return 0 if ok else 1


# -- reading the warehouse -----------------------------------------------------------------------


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _reader_target() -> Path | None:
    """The published snapshot (never blocked by a running pipeline, never half a run), else the
    live warehouse with a note; None when there is neither."""
    paths = AtlasPaths.from_env()
    if paths.published_warehouse.exists():
        return paths.published_warehouse
    if paths.warehouse.exists():
        _err(f"note: no published snapshot yet; reading the live warehouse {paths.warehouse}")
        return paths.warehouse
    _err(f"No warehouse at {paths.warehouse}: run `make run` (or `{atlas_command()} run`) first.")
    return None


def _decimal_text(value: object) -> object:
    """Decimals as plain digits (never 1E-12); everything else unchanged."""
    return format(value, "f") if isinstance(value, Decimal) else value


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A read-only SQL query (DuckDB dialect).")],
    format: Annotated[Format, typer.Option("--format", "-f", help="Output: a table, CSV or JSON.")] = Format.table,
    max_rows: Annotated[int, typer.Option(help="Rows shown in table format.")] = 100,
    exact: Annotated[bool, typer.Option(help="Money at full precision (12 decimal places) instead of cents.")] = False,
) -> int:
    """Run a read-only SQL query on the published warehouse. Money (DECIMAL amounts) is rounded to
    cents, half away from zero, unless --exact; unit prices, rates and quantities keep every digit."""
    import duckdb

    from atlas_pipeline.lib.warehouse.connections import connect_reader
    from atlas_pipeline.lib.warehouse.sql_output import money_columns, rounded

    target = _reader_target()
    if target is None:
        return 2
    # Locked down (lib/warehouse/connections.py): queries only, no file, extension or setting outside the snapshot.
    with contextlib.ExitStack() as stack:
        try:
            con = stack.enter_context(connect_reader(target))
            relation = con.sql(query)
        except duckdb.Error as exc:
            _err(f"error: {exc}")
            return 1
        if relation is None:  # a statement with no result set
            return 0
        if not exact and money_columns(relation):
            relation = rounded(relation)
        if format == Format.table:
            relation.show(max_rows=max_rows, max_width=200)
            return 0
        columns, rows = relation.columns, relation.fetchall()
        if format == Format.csv:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows([[_decimal_text(v) for v in row] for row in rows])
        else:
            print(json.dumps([{c: _decimal_text(v) for c, v in zip(columns, row, strict=True)} for row in rows],
                             default=str, indent=2))
    return 0


@app.command()
def tables(
    schema: Annotated[list[str] | None, typer.Option("--schema", "-s", help="Only these schemas (repeatable).")] = None,
    all_schemas: Annotated[bool, typer.Option("--all", help="Every schema (raw, staging, intermediate, reference, "
                                              "landing, quality too); views there are not counted.")] = False,
) -> int:
    """The tables and views people query, each with what it holds and its row count."""
    from rich.console import Console
    from rich.table import Table

    from atlas_pipeline.lib.warehouse.connections import connect_reader
    from atlas_pipeline.lib.warehouse.table_catalog import list_relations

    target = _reader_target()
    if target is None:
        return 2
    with connect_reader(target) as con:
        relations = list_relations(con, schemas=schema, everything=all_schemas)
    table = Table(show_lines=False, box=None, pad_edge=False, header_style="bold")
    for column, justify in (("relation", "left"), ("kind", "left"), ("rows", "right"), ("what it holds", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for r in relations:
        table.add_row(r.name, r.kind, "–" if r.rows is None else f"{r.rows:,}", r.description)
    Console(width=max(120, shutil.get_terminal_size((160, 20)).columns)).print(table)
    print(f"\n{len(relations)} relations in {target}. "
          f"Query one: {atlas_command()} sql \"select * from <relation> limit 10\"")
    return 0


# -- servers ------------------------------------------------------------------------------------


@app.command()
def ui(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 3000,
) -> int:
    """Open the Dagster UI on the Atlas definitions (`dg dev`), sharing `atlas run`'s history."""
    from atlas_pipeline.lib.run.pipeline_run import prepare_environment
    from atlas_pipeline.lib.warehouse.dbt_project import refresh_manifest

    paths = AtlasPaths.from_env()
    prepare_environment(paths)
    refresh_manifest()
    # `dg dev` compares the active virtual environment with the project's: this one.
    os.environ["VIRTUAL_ENV"] = str(Path(sys.executable).parent.parent)
    dg = Path(sys.executable).parent / "dg"
    argv = [str(dg) if dg.exists() else "dg", "dev", "--host", host, "--port", str(port)]
    print(f"Dagster UI on http://{host}:{port} (DAGSTER_HOME={paths.dagster_home})")
    os.chdir(REPO_ROOT)
    os.execv(argv[0], argv)
    return 0


@app.command()
def dashboard(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 in a container).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8501,
) -> int:
    """Serve the interactive dashboard (Streamlit) on the published snapshot, read-only."""
    from atlas_pipeline.dashboard.server import streamlit_command

    paths = AtlasPaths.from_env()
    if not paths.published_warehouse.exists():
        _err(f"note: no published snapshot at {paths.published_warehouse} yet: run `{atlas_command()} run` first")
    os.environ["ATLAS_HOME"] = str(paths.home)
    print(f"Atlas dashboard on http://{host}:{port} (reading {paths.published_warehouse})")
    argv = streamlit_command(host, port)
    os.execv(argv[0], argv)
    return 0


@app.command()
def docs(
    serve: Annotated[bool, typer.Option(help="Then serve the docs site (dbt docs serve).")] = False,
    port: Annotated[int, typer.Option(help="Port for --serve.")] = 8080,
) -> int:
    """Generate the dbt docs site (models, columns, lineage, the warehouse's types) into
    dbt_project/target/, from the live warehouse."""
    import subprocess

    from atlas_pipeline.lib.settings import DBT_PROJECT_DIR
    from atlas_pipeline.lib.warehouse.dbt_project import dbt_env

    paths = AtlasPaths.from_env()
    if not paths.warehouse.exists():
        _err(f"No warehouse at {paths.warehouse}: run `{atlas_command()} run` first (the docs read its catalog).")
        return 2
    dbt = Path(sys.executable).parent / "dbt"
    base = [str(dbt) if dbt.exists() else "dbt", "--quiet"]
    where = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    env = {**os.environ, **dbt_env(paths)}
    done = subprocess.run([*base, "docs", "generate", *where], env=env)
    if done.returncode:
        return done.returncode
    print(f"dbt docs written to {DBT_PROJECT_DIR / 'target' / 'index.html'} (with catalog.json)")
    if serve:
        return subprocess.run([*base, "docs", "serve", "--port", str(port), *where], env=env).returncode
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point (`atlas`, `python -m atlas_pipeline.cli`); returns the exit code."""
    try:
        result = app(args=list(argv) if argv is not None else None, prog_name="atlas", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.TyperException as exc:  # a usage error: say it the way the command line does
        show = getattr(exc, "show", None)
        show() if show else _err(f"error: {exc.format_message()}")
        return exc.exit_code
    except typer.Abort:
        _err("Aborted.")
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
