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

from atlas_pipeline.lib.settings import REPO_ROOT, AtlasPaths


def _prepare_environment(paths: AtlasPaths) -> None:
    """Everything the pipeline and its subprocesses (dbt, Dagster) read from the environment."""
    from atlas_pipeline.lib.dbt_project import dbt_env

    paths.ensure()
    os.environ.update(dbt_env(paths))
    os.environ["ATLAS_EXPORTS"] = str(paths.exports)
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home)
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


def _execute(job_name: str, partition_key: str | None = None, ops: dict | None = None) -> bool:
    import dagster as dg

    from atlas_pipeline.definitions import defs

    definitions = defs()
    job = definitions.resolve_job_def(job_name)
    result = job.execute_in_process(
        instance=dg.DagsterInstance.get(),
        partition_key=partition_key,
        raise_on_error=False,
        # Step-by-step DEBUG events stay in the run history (the UI); the terminal gets INFO.
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}, **({"ops": ops} if ops else {})},
    )
    return result.success


def _check_lines() -> list[str]:
    import dagster as dg

    instance = dg.DagsterInstance.get()
    lines = []
    records = instance.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION), limit=5000
    )
    latest: dict[tuple[str, str], bool] = {}
    for record in sorted(records, key=lambda r: r.storage_id):
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        latest[(evaluation.asset_key.to_user_string(), evaluation.check_name)] = evaluation.passed
    passed = sum(latest.values())
    lines.append(f"{passed} of {len(latest)} asset checks passed on their latest evaluation")
    lines.extend(f"FAILED {asset} :: {check}" for (asset, check), ok in sorted(latest.items()) if not ok)
    return lines


def cmd_run(args: argparse.Namespace) -> int:
    from atlas_pipeline.lib.dbt_project import prepare_manifest
    from atlas_pipeline.lib.run_summary import format_summary
    from atlas_pipeline.lib.warehouse import connect

    paths = AtlasPaths.from_env()
    _prepare_environment(paths)
    if args.regenerate or not any(paths.exports.iterdir()):
        print(f"Generating the sample estate into {paths.exports} …")
        cmd_generate(argparse.Namespace(**{**vars(args), "out": str(paths.exports)}))
    prepare_manifest(force=True)

    print("Materializing ingest -> staging -> intermediate -> marts …")
    ops = {"atlas_dbt_models": {"config": {"full_refresh": True}}} if args.full_refresh else None
    ok = _execute("warehouse_refresh_job", ops=ops)
    as_of = args.as_of
    if ok and as_of is None:
        with connect(paths.warehouse, read_only=True) as con:
            last_day = con.execute("select max(charge_date) from main.fct_cost_daily").fetchone()[0]
        as_of = (last_day + timedelta(days=1)).isoformat() if last_day else date.today().isoformat()
    if ok:
        from atlas_pipeline.lib.forecast_settings import load_forecast_settings

        # A week earlier first: the last week's days then have a forecast made before them, which is
        # what cost_anomalies compares them with (a daily schedule gives one-step-ahead forecasts).
        week_before = date.fromisoformat(as_of) - timedelta(days=7)
        if week_before >= load_forecast_settings().partitions_start:
            print(f"Materializing forecasts as of {week_before} (for anomaly detection) …")
            ok = _execute("forecast_job", partition_key=week_before.isoformat())
    if ok:
        print(f"Materializing forecasts as of {as_of} …")
        ok = _execute("forecast_job", partition_key=as_of)
    if ok:
        print("Building the overview report …")
        ok = _execute("report_job")
    if ok:
        # `atlas run` executes in-process (no daemon runs the publishing sensor): publish here.
        from atlas_pipeline.lib.publish import publish_snapshot

        publish_snapshot(paths.warehouse, paths.published_warehouse)
    with connect(paths.warehouse, read_only=True) as con:
        published = str(paths.published_warehouse) if ok else None
        print(format_summary(con, str(paths.warehouse), _check_lines(), published))
    if ok:
        print(f"Overview report (open in a browser, works offline): {paths.overview_report}")
        print("Interactive dashboard on the published snapshot: atlas dashboard (http://127.0.0.1:8501)")
    if not ok:
        print("\nThe run did not succeed: see the failed steps above, or `make ui` for details.", file=sys.stderr)
    return 0 if ok else 1


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    from atlas_pipeline.lib.warehouse import connect

    paths = AtlasPaths.from_env()
    # Readers query the published snapshot: never blocked by a running pipeline, never half a run.
    target = paths.published_warehouse
    if not target.exists():
        target = paths.warehouse
        if not target.exists():
            print(f"No warehouse at {paths.warehouse}: run `make run` first.", file=sys.stderr)
            return 2
        print(f"note: no published snapshot yet; reading the live warehouse {target}", file=sys.stderr)
    with connect(target, read_only=True) as con:
        try:
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
    run.add_argument("--as-of", help="forecast partition (YYYY-MM-DD); default: the day after the last cost day")
    add_cli_arguments(run)
    run.set_defaults(func=cmd_run, out=None)

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
