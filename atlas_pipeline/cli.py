"""The `atlas` command: generate a sample estate, run the pipeline, query the warehouse, open the UI or the
dashboard."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from atlas_pipeline.lib.settings import REPO_ROOT, AtlasPaths

if TYPE_CHECKING:
    from atlas_pipeline.lib.run_log import RunLog
    from atlas_pipeline.lib.run_summary import RunOutcome


def _prepare_environment(paths: AtlasPaths) -> None:
    """Everything the pipeline and its subprocesses (dbt, Dagster) read from the environment."""
    from atlas_pipeline.lib.dbt_project import dbt_env

    paths.ensure()
    os.environ.update(dbt_env(paths))
    os.environ["ATLAS_EXPORTS"] = str(paths.exports)
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home)
    if os.environ.get("ATLAS_ASSETS", "").strip():  # absolute: `atlas ui` runs Dagster from the repository
        os.environ["ATLAS_ASSETS"] = str(Path(os.environ["ATLAS_ASSETS"].strip()).expanduser().resolve())
    config = paths.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")


def cmd_generate(args: argparse.Namespace) -> int:
    from atlas_pipeline.lib.sample_estate.__main__ import spec_from_args
    from atlas_pipeline.lib.sample_estate.estate import generate_estate

    out = Path(args.out) if args.out else AtlasPaths.from_env().exports
    summary = generate_estate(out, spec_from_args(args))
    print(f"Sample estate written to {out}: {len(summary.files)} files")
    return 0


def _execute(job_name: str, log: RunLog, partition_key: str | None = None, ops: dict | None = None) -> RunOutcome:
    """Run one job in process; its full event log goes to the run's log file. Never raises: a job
    that cannot even start (definitions fail to load) is a failed outcome naming why."""
    import dagster as dg

    from atlas_pipeline.lib.run_summary import RunOutcome, run_outcome

    instance = dg.DagsterInstance.get()
    try:
        from atlas_pipeline.definitions import defs

        job = defs().resolve_job_def(job_name)
        result = job.execute_in_process(
            instance=instance,
            partition_key=partition_key,
            raise_on_error=False,
            # Step-by-step DEBUG events go to the log file and the run history (the UI); the terminal gets INFO.
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}, **({"ops": ops} if ops else {})},
        )
    except Exception as exc:  # reported in the summary, the traceback in the log file
        log.append_exception(f"{job_name} could not start")
        return RunOutcome.raised(job_name, exc)
    log.append_event_log(instance, result.run_id, job_name)
    return run_outcome(instance, job_name, result.run_id)


def _register_forecast_dates(paths: AtlasPaths, as_of: str | None) -> str | None:
    """Add the forecast partitions the landed history supports (and `as_of`, when given); return
    the as-of date to forecast: `as_of`, else the day after the last cost (or GPU-hours) day."""
    import dagster as dg

    from atlas_pipeline.defs.forecast.partitions import add_as_of_dates, register_history_as_of_dates
    from atlas_pipeline.lib.forecast_as_of import default_as_of, history_spans
    from atlas_pipeline.lib.warehouse import connect

    instance = dg.DagsterInstance.get()
    with connect(paths.warehouse, read_only=True) as con:
        register_history_as_of_dates(instance, con)
        newest = default_as_of(history_spans(con))
    if as_of:
        add_as_of_dates(instance, [as_of])
        return as_of
    return newest.isoformat() if newest else None


def _declarations_ok() -> bool:
    """Print every problem of the declarations (and a closing line); False when any is an error."""
    from atlas_pipeline.lib.declaration_check import check_declarations

    report = check_declarations()
    for line in report.lines():
        print(line, file=sys.stderr if report.errors else sys.stdout)
    return not report.errors


def cmd_check(args: argparse.Namespace) -> int:
    """Validate every declaration; one line per problem, exit 1 when any is an error."""
    return 0 if _declarations_ok() else 1


def cmd_accept(args: argparse.Namespace) -> int:
    """Make a held-back delivery of a source's billing period or day current (it was empty, or much
    smaller than the delivery it would replace); the next run rebuilds that period."""
    import getpass

    import duckdb

    from atlas_pipeline.lib.landing import accept_delivery
    from atlas_pipeline.lib.warehouse import connect

    paths = AtlasPaths.from_env()
    try:
        with connect(paths.warehouse) as con:
            print(accept_delivery(con, args.source, args.period, getpass.getuser()))
    except LookupError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 1
    except duckdb.IOException as exc:
        print(f"error: the warehouse is busy (a run holds it): {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import dagster as dg

    from atlas_pipeline.lib.dbt_project import prepare_manifest
    from atlas_pipeline.lib.forecast_as_of import FORECAST_PARTITIONS_NAME
    from atlas_pipeline.lib.run_log import RunLog
    from atlas_pipeline.lib.run_summary import RunOutcome, check_outcomes, format_summary

    paths = AtlasPaths.from_env()
    _prepare_environment(paths)
    # The sample estate only backs the repository's own declarations: a user's (ATLAS_ASSETS) never
    # gets sample data generated behind their back.
    own_declarations = bool(os.environ.get("ATLAS_ASSETS", "").strip())
    if args.regenerate or (not own_declarations and not any(paths.exports.iterdir())):
        print(f"Generating the sample estate into {paths.exports} …")
        cmd_generate(argparse.Namespace(**{**vars(args), "out": str(paths.exports)}))
    if not _declarations_ok():
        print("Not run: fix the declarations above (`atlas check` checks them again).", file=sys.stderr)
        return 1
    prepare_manifest(force=True)

    runs: list[RunOutcome] = []
    with RunLog(paths.logs) as log:

        def run(job_name: str, **kwargs) -> bool:
            runs.append(_execute(job_name, log, **kwargs))
            return runs[-1].success

        def step(name: str, action) -> object:
            """A step outside Dagster (as-of dates, publishing): a failure is an outcome, not a traceback."""
            try:
                return action()
            except Exception as exc:
                log.append_exception(f"{name} failed")
                runs.append(RunOutcome.raised(name, exc))
                return None

        print("Materializing ingest -> staging -> intermediate -> marts …")
        ops = {"atlas_dbt_models": {"config": {"full_refresh": True}}} if args.full_refresh else None
        ok = run("warehouse_refresh_job", ops=ops)
        as_of = step("forecast as-of dates", lambda: _register_forecast_dates(paths, args.as_of)) if ok else None
        ok = ok and all(r.success for r in runs)
        if ok and as_of is None:
            print("No cost or GPU-hours history in the warehouse: nothing to forecast.")
        if ok and as_of:
            # A week earlier first: the last week's days then have a forecast made before them, which is
            # what cost_anomalies compares them with (a daily schedule gives one-step-ahead forecasts).
            week_before = (date.fromisoformat(as_of) - timedelta(days=7)).isoformat()
            if dg.DagsterInstance.get().has_dynamic_partition(FORECAST_PARTITIONS_NAME, week_before):
                print(f"Materializing forecasts as of {week_before} (for anomaly detection) …")
                ok = run("forecast_job", partition_key=week_before)
        if ok and as_of:
            print(f"Materializing forecasts as of {as_of} …")
            ok = run("forecast_job", partition_key=as_of)
        if ok:
            print("Building the overview report …")
            ok = run("report_job")
        if ok:
            # `atlas run` executes in-process (no daemon runs the publishing sensor): publish here.
            from atlas_pipeline.lib.publish import publish_snapshot

            step("publish", lambda: publish_snapshot(paths.warehouse, paths.published_warehouse))
            ok = all(r.success for r in runs)
        checks = check_outcomes(dg.DagsterInstance.get(), [r.run_id for r in runs if r.run_id])
        print(format_summary(paths.warehouse, runs, checks, paths.published_warehouse, log.path))
        if ok:
            print(f"Overview report (open in a browser, works offline): {paths.overview_report}")
            print("Interactive dashboard on the published snapshot: atlas dashboard (http://127.0.0.1:8501)")
        else:
            print(f"\nThe run did not succeed: see the summary above, the full log ({log.path}) or `make ui`.",
                  file=sys.stderr)
    return 0 if ok else 1


def cmd_sql(args: argparse.Namespace) -> int:
    import contextlib

    import duckdb

    from atlas_pipeline.lib.warehouse import connect_reader

    paths = AtlasPaths.from_env()
    # Readers query the published snapshot: never blocked by a running pipeline, never half a run.
    target = paths.published_warehouse
    if not target.exists():
        target = paths.warehouse
        if not target.exists():
            print(f"No warehouse at {paths.warehouse}: run `make run` first.", file=sys.stderr)
            return 2
        print(f"note: no published snapshot yet; reading the live warehouse {target}", file=sys.stderr)
    # Locked down (lib/warehouse.py): queries only, no file, extension or setting outside the snapshot.
    with contextlib.ExitStack() as stack:
        try:
            con = stack.enter_context(connect_reader(target))
            relation = con.sql(args.query)
        except duckdb.Error as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if relation is None:  # a statement with no result set
            return 0
        if args.format == "table":
            relation.show(max_rows=args.max_rows, max_width=200)
        else:
            columns, rows = relation.columns, relation.fetchall()
            if args.format == "csv":
                writer = csv.writer(sys.stdout)
                writer.writerow(columns)
                writer.writerows(rows)
            else:
                print(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=str, indent=2))
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    paths = AtlasPaths.from_env()
    _prepare_environment(paths)
    from atlas_pipeline.lib.dbt_project import prepare_manifest

    prepare_manifest(force=True)
    dagster = Path(sys.executable).parent / "dagster"
    argv = [str(dagster), "dev", "-w", str(REPO_ROOT / "workspace.yaml"), "-h", args.host, "-p", str(args.port)]
    os.chdir(REPO_ROOT)
    os.execv(argv[0], argv)
    return 0


def _iso_date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Serve the interactive dashboard (Streamlit) on the published snapshot, read-only."""
    from atlas_pipeline.dashboard.server import streamlit_command

    paths = AtlasPaths.from_env()
    if not paths.published_warehouse.exists():
        print(f"note: no published snapshot at {paths.published_warehouse} yet: run `atlas run` first", file=sys.stderr)
    os.environ["ATLAS_HOME"] = str(paths.home)
    print(f"Atlas dashboard on http://{args.host}:{args.port} (reading {paths.published_warehouse})")
    argv = streamlit_command(args.host, args.port)
    os.execv(argv[0], argv)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from atlas_pipeline.lib.sample_estate.__main__ import add_cli_arguments

    parser = argparse.ArgumentParser(prog="atlas", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write the sample estate (billing exports + GPU telemetry)")
    gen.add_argument("--out", help="export folder (default: $ATLAS_EXPORTS or $ATLAS_HOME/exports)")
    add_cli_arguments(gen)
    gen.set_defaults(func=cmd_generate)

    run = sub.add_parser("run", help="generate the sample estate if needed, materialize everything, print a summary")
    run.add_argument("--regenerate", action="store_true", help="rewrite the sample estate first")
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every billing period of the incremental marts (after changing mappings or seeds)",
    )
    run.add_argument(
        "--as-of", type=_iso_date, help="forecast partition (YYYY-MM-DD); default: the day after the last cost day"
    )
    add_cli_arguments(run)
    run.set_defaults(func=cmd_run, out=None)

    check = sub.add_parser(
        "check", help="validate every declaration ($ATLAS_ASSETS or assets/): one line per problem, exit 1 on errors"
    )
    check.set_defaults(func=cmd_check)

    accept = sub.add_parser("accept", help="make a held-back delivery current (it was empty or much smaller)")
    accept.add_argument("source", help="the source, e.g. gcp_billing")
    accept.add_argument("period", help="its billing period (YYYY-MM) or day (YYYY-MM-DD)")
    accept.set_defaults(func=cmd_accept)

    sql = sub.add_parser("sql", help="run a read-only SQL query on the warehouse")
    sql.add_argument("query")
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.add_argument("--max-rows", type=int, default=100)
    sql.set_defaults(func=cmd_sql)

    ui = sub.add_parser("ui", help="open the Dagster UI on the Atlas definitions")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)

    dashboard = sub.add_parser("dashboard", help="serve the interactive dashboard on the published snapshot")
    dashboard.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in a container)")
    dashboard.add_argument("--port", type=int, default=8501)
    dashboard.set_defaults(func=cmd_dashboard)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
