"""`atlas run`: check the declarations, work out what changed (lib/run/run_plan.py), run only that —
billing periods, telemetry days, the unpartitioned warehouse downstream, forecasts, reports —
publish, and print a summary. One line per stage on the terminal; everything else (Dagster's
events at every level, dbt's per-node lines) in the run's log file.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atlas_pipeline.lib.settings import AtlasPaths

if TYPE_CHECKING:
    import dagster as dg

    from atlas_pipeline.lib.run.progress import Stage, TerminalProgress
    from atlas_pipeline.lib.run.run_log import RunLog
    from atlas_pipeline.lib.run.run_plan import RunPlan
    from atlas_pipeline.lib.run.run_summary import RunOutcome


@dataclass
class RunOptions:
    """What `atlas run` was asked for."""

    full_refresh: bool = False
    as_of: str | None = None
    verbose: bool = False

    def fingerprinted(self) -> dict[str, Any]:
        return {"as_of": self.as_of}


@dataclass
class PipelineRun:
    """The state of one `atlas run` while it works."""

    paths: AtlasPaths
    options: RunOptions
    out: TerminalProgress
    log: RunLog
    runs: list[RunOutcome] = field(default_factory=list)
    definitions: Any = None
    instance: Any = None
    results: list = field(default_factory=list)  # every job run's ExecuteInProcessResult, in order

    # -- helpers --------------------------------------------------------------------------------

    @property
    def ok(self) -> bool:
        return all(r.success for r in self.runs)

    def step(self, name: str, action: Callable[[], Any]) -> Any:
        """A step outside Dagster (planning, as-of dates, publishing): a failure is an outcome, not a
        traceback (the traceback goes to the log file)."""
        from atlas_pipeline.lib.run.run_summary import RunOutcome

        try:
            return action()
        except Exception as exc:
            self.log.append_exception(f"{name} failed")
            self.runs.append(RunOutcome.raised(name, exc))
            return None

    def execute(self, stage: Stage, job_name: str, *, tags: dict[str, str] | None = None,
                asset_selection: Iterable[dg.AssetKey] | None = None, ops: dict | None = None):
        """Run one job in process, its events feeding the progress display; its full event log goes
        to the log file. Never raises: a job that cannot start is a failed outcome naming why."""
        import dagster as dg

        from atlas_pipeline.lib.run.progress import progress_logger, reporting
        from atlas_pipeline.lib.run.run_summary import RunOutcome, run_outcome

        try:
            job = self.definitions.resolve_job_def(job_name)
            job = job.with_logger_defs({**(job.loggers or dg.default_loggers()), "atlas_progress": progress_logger()})
            run_config: dict[str, Any] = {"loggers": {
                # Step-by-step DEBUG events go to the log file and the run history (the UI); the console
                # logger writes INFO to stderr: the log file, and the terminal with --verbose.
                "console": {"config": {"log_level": "DEBUG" if self.options.verbose else "INFO"}},
                "atlas_progress": {},
            }}
            if ops:
                run_config["ops"] = ops
            with reporting(self.out):
                result = job.execute_in_process(
                    instance=self.instance,
                    raise_on_error=False,
                    tags=tags or None,
                    asset_selection=list(asset_selection) if asset_selection is not None else None,
                    run_config=run_config,
                )
        except Exception as exc:  # reported in the summary, the traceback in the log file
            self.log.append_exception(f"{job_name} could not start")
            self.runs.append(RunOutcome.raised(job_name, exc))
            stage.ok = False
            stage.summary = f"{job_name} could not start: {type(exc).__name__}"
            return None
        self.log.append_event_log(self.instance, result.run_id, job_name)
        self.results.append(result)
        outcome = run_outcome(self.instance, job_name, result.run_id)
        self.runs.append(outcome)
        stage.ok = stage.ok and outcome.success
        return result


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _keys_text(keys: Sequence[str]) -> str:
    if len(keys) <= 3:
        return ", ".join(keys)
    return f"{keys[0]} … {keys[-1]} ({len(keys)})"


def result_summary(results: Iterable[Any]) -> str:
    """What the runs of a stage did: assets built, rows landed and new deliveries, checks."""
    import dagster as dg

    assets: set = set()
    rows = deliveries = 0
    passed = failed = warned = skipped = 0
    for result in results:
        if result is None:
            continue
        landed: dict = {}  # a range run records one materialization per partition, same metadata
        for event in result.get_asset_materialization_events():
            materialization = event.event_specific_data.materialization
            assets.add(materialization.asset_key)
            if materialization.asset_key.path[0] == "raw" and "objects_downloaded" in materialization.metadata:
                landed[materialization.asset_key] = materialization.metadata
        for meta in landed.values():
            rows += int(getattr(meta.get("rows"), "value", 0) or 0)
            deliveries += len(getattr(meta.get("new_export_versions"), "value", None) or [])
        for event in result.all_events:
            if event.event_type != dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                continue
            evaluation = event.event_specific_data
            if (evaluation.metadata or {}).get("skipped"):
                skipped += 1
            elif evaluation.passed:
                passed += 1
            elif evaluation.severity == dg.AssetCheckSeverity.WARN:
                warned += 1
            else:
                failed += 1
    parts = [_plural(len(assets), "asset") + " built"]
    if rows or deliveries:
        parts.append(f"{rows:,} raw rows ({deliveries} new deliver{'y' if deliveries == 1 else 'ies'} landed)")
    checks = passed + failed + warned
    if checks or skipped:
        text = f"{passed}/{checks} checks passed"
        text += f", {warned} warned" if warned else ""
        text += f", {failed} FAILED" if failed else ""
        text += f" ({skipped} skipped)" if skipped else ""
        parts.append(text)
    return "; ".join(parts)


def _dagster_yaml(paths: AtlasPaths) -> None:
    """DAGSTER_HOME's dagster.yaml: no telemetry, one run at a time from the UI's queue (DuckDB
    has one writer per file: two runs at once would fight over the warehouse lock), and Dagster's
    SQLite event log with its connections kept open (lib/run/event_log_storage.py) unless the
    file names another storage. What the file already says is kept."""
    import yaml

    config_path = paths.dagster_home / "dagster.yaml"
    config = {}
    if config_path.exists():
        config = yaml.safe_load(config_path.read_text()) or {}
    wanted = {"telemetry": {"enabled": False}, "concurrency": {"runs": {"max_concurrent_runs": 1}}}
    if not {"storage", "run_storage", "event_log_storage"} & set(config):
        wanted["event_log_storage"] = {"module": "atlas_pipeline.lib.run.event_log_storage",
                                       "class": "PooledSqliteEventLogStorage"}
    merged = {**config, **{k: v for k, v in wanted.items() if k not in config}}
    if merged != config:
        config_path.write_text(yaml.safe_dump(merged, sort_keys=False))


def prepare_environment(paths: AtlasPaths) -> None:
    """Everything the pipeline and its subprocesses (dbt, Dagster) read from the environment."""
    from atlas_pipeline.lib.warehouse.dbt_project import dbt_env

    paths.ensure()
    os.environ.update(dbt_env(paths))
    os.environ["ATLAS_EXPORTS"] = str(paths.exports)
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home)
    if os.environ.get("ATLAS_ASSETS", "").strip():  # absolute: `atlas ui` runs Dagster from the repository
        os.environ["ATLAS_ASSETS"] = str(Path(os.environ["ATLAS_ASSETS"].strip()).expanduser().resolve())
    _dagster_yaml(paths)


# -- the stages -----------------------------------------------------------------------------------


def _check_declarations(run: PipelineRun) -> bool:
    from atlas_pipeline.lib.ingest.declaration_check import check_declarations

    with run.out.stage("declarations") as stage:
        report = check_declarations()
        for problem in report.errors:
            run.out.error(str(problem))
        for problem in report.warnings:
            (run.out.line if run.options.verbose else run.log.write_line)(f"  {problem}")
        stage.ok = not report.errors
        checked = report.lines()[-1].split(": ", 1)[-1]
        stage.summary = checked + ("" if run.options.verbose or not report.warnings else " (warnings in the log)")
    return not report.errors


def _fast_nothing_new(run: PipelineRun) -> bool:
    """No delivery pending and nothing else changed since the last successful `atlas run`: True
    without loading the Dagster definitions."""
    from atlas_pipeline.lib.ingest.sources import load_sources
    from atlas_pipeline.lib.run import run_state
    from atlas_pipeline.lib.run.run_plan import source_deliveries
    from atlas_pipeline.lib.settings import declarations_dir
    from atlas_pipeline.lib.warehouse.connections import connect

    previous = run_state.saved(run.paths)
    if previous is None or run.options.full_refresh or not run.paths.warehouse.exists():
        return False
    if run_state.fingerprint(run.paths, declarations_dir(), run.options.fingerprinted()) != previous:
        return False
    sources = load_sources()
    with connect(run.paths.warehouse, read_only=True) as con:
        found = [source_deliveries(con, s) for s in sources]
    if any(f.problem or f.periods for f in found):
        return False
    run.out.line(f"✓ {'deliveries':<12} {len(sources)} sources listed: nothing new since the last run")
    return True


def _plan(run: PipelineRun) -> RunPlan | None:
    import dagster as dg
    import duckdb

    from atlas_pipeline.defs.ingest.partitions import billing_periods, telemetry_days
    from atlas_pipeline.defs.transform.jobs import BILLING_SELECTION, REFRESH_SELECTION, TELEMETRY_SELECTION
    from atlas_pipeline.lib.ingest.sources import load_sources
    from atlas_pipeline.lib.run.run_plan import declaration_sha256, plan_run
    from atlas_pipeline.lib.settings import declaration_file
    from atlas_pipeline.lib.warehouse.connections import connect

    with run.out.stage("plan") as stage:
        if run.definitions is None:
            run.out.activity("loading the Dagster definitions")
            from atlas_pipeline.definitions import defs

            run.definitions = run.step("definitions", defs)
            if run.definitions is None:
                stage.ok, stage.summary = False, "the Dagster definitions failed to load (see the log)"
                return None
        run.instance = run.instance or dg.DagsterInstance.get()
        graph = run.definitions.resolve_asset_graph()
        sources = load_sources()
        declarations = {name: declaration_sha256(declaration_file(name))
                        for name in ("gpu_pricing.yaml", "kubernetes_teams.yaml", "forecast.yaml", "budgets.yaml")}
        run.out.activity(f"listing {len(sources)} sources")

        def plan() -> RunPlan:
            # Nothing landed yet: an empty in-memory database (every delivery is new).
            opened = connect(run.paths.warehouse, read_only=True) if run.paths.warehouse.exists() else duckdb.connect()
            with opened as con:
                return plan_run(
                    graph, run.instance, con, sources,
                    set((REFRESH_SELECTION | BILLING_SELECTION | TELEMETRY_SELECTION).resolve(graph)),
                    {p.name: p for p in (billing_periods, telemetry_days)}, declarations, run.options.full_refresh,
                )

        result = run.step("plan", plan)
        if result is None:
            stage.ok = False
            stage.summary = f"could not plan: {run.runs[-1].failures[0].message.splitlines()[0]}"
            return None
        for problem in result.problems:
            run.out.error(f"  {problem}")
        for reason in result.reasons:
            (run.out.line if run.options.verbose else run.log.write_line)(f"  {reason}")
        new = [d for d in result.deliveries if d.periods]
        stage.summary = (f"{len(sources)} sources listed: "
                         + (", ".join(f"{d.source.name} {_keys_text(d.periods)}" for d in new) if new else "no new delivery")
                         + (f"; {len(result.reasons) - len(new)} other change(s)" if len(result.reasons) > len(new) else ""))
        if result.problems:
            stage.ok = False
            stage.summary += f"; {len(result.problems)} source problem(s)"
        return result


def _run_partitions(run: PipelineRun, plan: RunPlan, stage_name: str, job_name: str, partitions_def) -> None:
    from atlas_pipeline.defs.ingest.partitions import add_partitions, contiguous_ranges, range_tags

    keys = plan.keys(partitions_def.name)
    if not keys or not run.ok:
        return
    add_partitions(run.instance, partitions_def, keys)
    ordered = run.instance.get_dynamic_partitions(partitions_def.name)
    ops = None
    if run.options.full_refresh:
        ops = {f"atlas_dbt_{'billing' if 'billing' in job_name else 'telemetry'}": {"config": {"full_refresh": True}}}
    with run.out.stage(stage_name) as stage:
        results = []
        for first, last in contiguous_ranges(ordered, keys):
            results.append(run.execute(stage, job_name, tags=range_tags(first, last), ops=ops))
            if not run.ok:
                break
        stage.summary = f"{_plural(len(keys), partitions_def.name.rstrip('s').replace('_', ' '))} ({_keys_text(keys)}): " \
                        + result_summary(results)


def _run_unpartitioned(run: PipelineRun, name: str, keys: set, what: str) -> None:
    if not keys or not run.ok:
        return
    ops = {"atlas_dbt_models": {"config": {"full_refresh": True}}} if run.options.full_refresh else None
    with run.out.stage(name) as stage:
        result = run.execute(stage, "warehouse_refresh_job", asset_selection=sorted(keys, key=str), ops=ops)
        stage.summary = f"{what}: " + result_summary([result])


def _forecast_dates(run: PipelineRun) -> list[str]:
    """The as-of dates to forecast: `--as-of`, else the day after the last cost day, preceded by the
    week before (so the last week's days have a forecast made before them, which cost_anomalies
    compares them with). Only dates with history are kept; they become forecast partitions."""
    from atlas_pipeline.defs.forecast.partitions import add_as_of_dates, supported_as_of_dates
    from atlas_pipeline.lib.forecast.forecast_as_of import default_as_of, history_spans
    from atlas_pipeline.lib.warehouse.connections import connect

    with connect(run.paths.warehouse, read_only=True) as con:
        newest = default_as_of(history_spans(con))
        as_of = run.options.as_of or (newest.isoformat() if newest else None)
        if as_of is None:
            return []
        week_before = (date.fromisoformat(as_of) - timedelta(days=7)).isoformat()
        dates = [*supported_as_of_dates(con, [week_before]), as_of]
    add_as_of_dates(run.instance, dates)
    return dates


def _rebuilt(graph, plan: RunPlan) -> set:
    """The warehouse assets `plan` rebuilds: its unpartitioned assets and every asset of a
    partitions definition with partitions to build."""
    from atlas_pipeline.defs.transform.jobs import PARTITION_TAG

    rebuilt = set(plan.before) | set(plan.after)
    for key in graph.get_all_asset_keys():
        name = (graph.get(key).tags or {}).get(PARTITION_TAG)
        if name and plan.keys(name):
            rebuilt.add(key)
    return rebuilt


def affected_forecasts(graph, plan: RunPlan) -> set:
    """The forecast assets downstream of what `plan` rebuilds: a new telemetry day refits the
    GPU-hours forecast, not the spend forecast; a restated billing month the spend forecast, its
    anomalies and budgets, not the GPU-hours one (unless GPU cost rebuilt from billing feeds it)."""
    import dagster as dg

    from atlas_pipeline.defs.transform.jobs import FORECAST_SELECTION

    rebuilt = _rebuilt(graph, plan)
    if not rebuilt:
        return set()
    return set(FORECAST_SELECTION.resolve(graph)) & set(dg.AssetSelection.assets(*rebuilt).downstream().resolve(graph))


def affected_reports(graph, plan: RunPlan, forecasts: Iterable) -> set:
    """The report assets (rpt_* views, the overview, the scheduler hints) to rebuild: those
    downstream of what this run rebuilt — the plan's assets and the `forecasts` it made — and of the
    reports that no longer stand (never built, code changed, relation missing). A report view whose
    inputs were not rebuilt is current as it is (a view reads its inputs when queried) and its tests
    would read the rows they passed on last time: a restated billing month leaves the GPU health and
    utilization reports alone, a new telemetry day the spend reports."""
    import dagster as dg

    from atlas_pipeline.defs.transform.jobs import REPORT_SELECTION

    reports = set(REPORT_SELECTION.resolve(graph))
    rebuilt = _rebuilt(graph, plan) | set(forecasts) | (reports & set(plan.stale))
    return reports & set(dg.AssetSelection.assets(*rebuilt).downstream().resolve(graph)) if rebuilt else set()


def _forecasts_needed(run: PipelineRun, plan: RunPlan, dates: list[str]) -> tuple[list[str], list | None]:
    """The as-of dates whose forecasts must be (re)made, and which forecast assets (None: all):
    every date when the warehouse changed, only the forecasts downstream of what changed; every date
    and forecast when a forecast asset is stale (code, forecast.yaml / budgets.yaml); else the
    dates never forecast."""
    import dagster as dg

    from atlas_pipeline.defs.transform.jobs import FORECAST_SELECTION

    graph = run.definitions.resolve_asset_graph()
    forecast_keys = FORECAST_SELECTION.resolve(graph)
    if any(k in plan.stale and plan.stale[k] != "never built" for k in forecast_keys):
        return dates, None
    partitioned = [k for k in forecast_keys if graph.get(k).is_materializable
                   and isinstance(graph.get(k).partitions_def, dg.DynamicPartitionsDefinition)]
    never_made = [d for d in dates if any(d not in run.instance.get_materialized_partitions(k) for k in partitioned)]
    if plan.warehouse_changes:
        affected = affected_forecasts(graph, plan)
        if never_made:  # a new as-of date: every forecast of it
            return dates, None
        return (dates, sorted(affected, key=str)) if affected else ([], None)
    return never_made, None


def _reports_needed(run: PipelineRun, plan: RunPlan, forecasts: Iterable) -> list:
    """The report assets this run rebuilds (see affected_reports); the overview too when its file is
    missing."""
    import dagster as dg

    graph = run.definitions.resolve_asset_graph()
    needed = affected_reports(graph, plan, forecasts)
    if not run.paths.overview_report.exists():
        needed.add(dg.AssetKey("atlas_overview"))
    return sorted(needed, key=str)


def warehouse_stages(run: PipelineRun, plan: RunPlan) -> None:
    """The warehouse part of a run, in dependency order: what depends on no partition (inventory,
    declarations, seeds), the billing periods, the telemetry days, then what is built from them."""
    from atlas_pipeline.defs.ingest.partitions import billing_periods, telemetry_days

    _run_unpartitioned(run, "inputs", plan.before, "inventory, declarations, seeds")
    _run_partitions(run, plan, "billing", "billing_job", billing_periods)
    _run_partitions(run, plan, "telemetry", "telemetry_job", telemetry_days)
    _run_unpartitioned(run, "warehouse", plan.after, "models built from whole history")


@dataclass
class WarehouseRefresh:
    """The job runs of one warehouse refresh (what `atlas run` does before forecasts), read like one
    ExecuteInProcessResult: for tests and benchmarks that drive the pipeline in process."""

    plan: RunPlan | None
    results: list

    @property
    def success(self) -> bool:
        return self.plan is not None and not self.plan.problems and all(r.success for r in self.results)

    @property
    def all_events(self) -> list:
        return [e for r in self.results for e in r.all_events]

    def get_asset_materialization_events(self) -> list:
        return [e for r in self.results for e in r.get_asset_materialization_events()]

    def get_asset_check_evaluations(self) -> list:
        return [e for r in self.results for e in r.get_asset_check_evaluations()]

    def job_results(self, job_name: str) -> list:
        return [r for r in self.results if r.job_def.name == job_name]

    @property
    def run_id(self) -> str:
        """The last warehouse_refresh_job run's (what the report and publishing sensors follow)."""
        return self.job_results("warehouse_refresh_job")[-1].run_id

    def get_run_success_event(self):
        return self.job_results("warehouse_refresh_job")[-1].get_run_success_event()


def refresh_warehouse(paths: AtlasPaths, instance: dg.DagsterInstance, definitions: Any = None,
                      full_refresh: bool = False, out: TerminalProgress | None = None) -> WarehouseRefresh:
    """Plan and run the warehouse's jobs in process, as `atlas run` does (no forecasts, reports or
    publishing), on `instance`; progress to `out` (default: nowhere), event logs to paths.logs."""
    import io

    from atlas_pipeline.lib.run.progress import TerminalProgress
    from atlas_pipeline.lib.run.run_log import RunLog
    from atlas_pipeline.lib.warehouse.warm_dbt import warm_dbt_server

    run = PipelineRun(paths, RunOptions(full_refresh=full_refresh), out or TerminalProgress(io.StringIO()),
                      RunLog(paths.logs), definitions=definitions, instance=instance)
    plan = _plan(run)
    if plan is not None and not plan.problems:
        with warm_dbt_server(paths.logs / "warm-dbt.log"):
            warehouse_stages(run, plan)
    return WarehouseRefresh(plan, run.results)


def run_pipeline(paths: AtlasPaths, options: RunOptions, out: TerminalProgress, log: RunLog,
                 atlas_command: str = "atlas") -> int:
    """The whole `atlas run`; returns the exit code."""
    from atlas_pipeline.lib.warehouse.connections import run_lock

    started = time.monotonic()
    run = PipelineRun(paths, options, out, log)
    if not _check_declarations(run):
        out.error(f"Not run: fix the declarations above (`{atlas_command} check` checks them again).")
        return 1
    # One run at a time per ATLAS_HOME, planning included (lib/warehouse/connections.py): another run holding the
    # lock refuses this one with a sentence naming it; the jobs below re-enter the lock.
    lock = contextlib.ExitStack()
    run.step("run lock", lambda: lock.enter_context(run_lock(paths.home, "atlas run")))
    if not run.ok:
        return _finish(run, None, atlas_command, started)
    with lock:
        return _run_locked(run, atlas_command, started)


def _run_locked(run: PipelineRun, atlas_command: str, started: float) -> int:
    from atlas_pipeline.lib.run import run_state
    from atlas_pipeline.lib.warehouse.warm_dbt import warm_dbt_server

    paths, out, log = run.paths, run.out, run.log
    if _fast_nothing_new(run):
        out.line(f"Nothing new: the warehouse and its published snapshot are as the last run left them "
                 f"({time.monotonic() - started:.1f} s). Query it: {atlas_command} sql \"…\"  |  log: {log.path}")
        return 0
    run_state.forget(paths)
    # dbt imported once for the run's dbt calls (lib/warehouse/warm_dbt.py): ≈ 1.2 s less per call.
    with warm_dbt_server(paths.logs / "warm-dbt.log"):
        return _run_changed(run, atlas_command, started)


def _run_changed(run: PipelineRun, atlas_command: str, started: float) -> int:
    from atlas_pipeline.lib.run import run_state
    from atlas_pipeline.lib.settings import declarations_dir
    from atlas_pipeline.lib.warehouse.dbt_project import manifest_is_stale, refresh_manifest

    paths, options, out, log = run.paths, run.options, run.out, run.log
    if manifest_is_stale():
        with out.stage("dbt parse") as stage:
            run.step("dbt parse", refresh_manifest)
            stage.ok = run.ok
            stage.summary = "the dbt project changed: manifest re-parsed" if run.ok else "dbt parse failed (see the log)"
    plan = _plan(run) if run.ok else None
    if plan is None or plan.problems:
        return _finish(run, plan, atlas_command, started)

    from atlas_pipeline.defs.transform.jobs import FORECAST_SELECTION, REPORT_SELECTION

    anything_ran = plan.warehouse_changes
    forecasts_made: set = set()
    warehouse_stages(run, plan)

    if run.ok and run.paths.warehouse.exists():
        dates = run.step("forecast as-of dates", lambda: _forecast_dates(run)) or []
        needed, selection = _forecasts_needed(run, plan, dates) if run.ok else ([], None)
        if needed:
            forecasts_made |= set(FORECAST_SELECTION.resolve(run.definitions.resolve_asset_graph())
                                  if selection is None else selection)
        if run.ok and not dates:
            out.line("– forecasts    no cost or GPU-hours history in the warehouse: nothing to forecast")
        for as_of in needed:
            if not run.ok:
                break
            with out.stage("forecasts") as stage:
                result = run.execute(stage, "forecast_job", tags={"dagster/partition": as_of}, asset_selection=selection)
                which = "" if selection is None else " (" + ", ".join(k.to_user_string() for k in selection) + ")"
                stage.summary = f"as of {as_of}{which}: " + result_summary([result])
            anything_ran = True
    reports = _reports_needed(run, plan, forecasts_made) if run.ok else []
    if reports:
        with out.stage("reports") as stage:
            result = run.execute(stage, "report_job", asset_selection=reports)
            stage.summary = (f"{len(reports)} of {len(REPORT_SELECTION.resolve(run.definitions.resolve_asset_graph()))} "
                             "report assets (what changed feeds them): " + result_summary([result]))
        anything_ran = True
    if run.ok and (anything_ran or not paths.published_warehouse.exists()):
        from atlas_pipeline.lib.warehouse.publish import publish_snapshot

        with out.stage("publish") as stage:
            published = run.step("publish", lambda: publish_snapshot(paths.warehouse, paths.published_warehouse))
            stage.ok = published is not None
            stage.summary = f"{published['tables']} tables → {paths.published_warehouse}" if published else "failed"
    if run.ok and not anything_ran:
        run_state.save(paths, run_state.fingerprint(paths, declarations_dir(), options.fingerprinted()))
        out.line(f"Nothing new: every partition, model, forecast and report is up to date "
                 f"({time.monotonic() - started:.1f} s). Query it: {atlas_command} sql \"…\"  |  log: {log.path}")
        return 0
    code = _finish(run, plan, atlas_command, started)
    if code == 0:
        run_state.save(paths, run_state.fingerprint(paths, declarations_dir(), options.fingerprinted()))
    return code


def _finish(run: PipelineRun, plan: RunPlan | None, atlas_command: str, started: float) -> int:
    from atlas_pipeline.lib.run.run_summary import CheckOutcomes, check_outcomes, format_summary

    checks = check_outcomes(run.instance, [r.run_id for r in run.runs if r.run_id]) if run.instance else CheckOutcomes()
    ok = run.ok and plan is not None and not plan.problems
    summary = format_summary(run.paths.warehouse, run.runs, checks, run.paths.published_warehouse, run.log.path,
                             atlas_command=atlas_command, problems=plan.problems if plan else [])
    for line in summary.splitlines():
        run.out.line(line, None)
    if ok:
        run.out.line(f"Overview report (open in a browser, works offline): {run.paths.overview_report}")
        run.out.line(f"Interactive dashboard on the published snapshot: {atlas_command} dashboard (http://127.0.0.1:8501)")
        run.out.line(f"Done in {time.monotonic() - started:.0f} s.")
    else:
        run.out.error(f"\nThe run did not succeed: see the summary above, the full log ({run.log.path}) or `make ui`.")
    return 0 if ok else 1
