"""The short summary printed after `atlas run`: what failed and where (first), the checks of this
run (failures, then warnings), rows per mart and cost per provider when the run succeeded, and
where the full log is. It reads the run's own events and never fails on a missing table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from atlas_pipeline.lib.warehouse.connections import connect, relation_exists

# How many lines of a failure's message the terminal shows (the log file has all of it).
MESSAGE_LINES = 4
# How many not-materialized assets are named before "and N more".
NAMED_ASSETS = 8


@dataclass(frozen=True)
class StepFailure:
    step: str
    message: str  # the error's first lines, without the exception's module path


@dataclass(frozen=True)
class RunOutcome:
    """One job run of an `atlas run`: did it succeed, which steps failed, which assets it planned
    but did not materialize (failed, or skipped behind a failure or a blocking check)."""

    job_name: str
    run_id: str
    success: bool
    failures: tuple[StepFailure, ...] = ()
    not_materialized: tuple[str, ...] = ()

    @classmethod
    def raised(cls, name: str, exc: BaseException) -> RunOutcome:
        """A step that raised outside any Dagster run (definitions that fail to load, publishing)."""
        first = str(exc).splitlines()[0] if str(exc) else ""
        return cls(name, "", False, (StepFailure(name, f"{type(exc).__name__}: {first}"),))


@dataclass
class CheckOutcomes:
    """Each asset check's latest evaluation across the given runs, by (asset, check)."""

    passed: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (asset, check, description), blocking severity
    warned: list[tuple[str, str, str]] = field(default_factory=list)  # WARN severity, did not pass
    not_run: list[tuple[str, str]] = field(default_factory=list)  # planned, never evaluated

    @property
    def evaluated(self) -> int:
        return len(self.passed) + len(self.failed) + len(self.warned)


def _short(error: object | None) -> str:
    """An error's first lines, without the 'module.path.ClassName: ' prefix when it has one; for
    Dagster's wrapper around a user-code error ("Error occurred while executing op …"), the cause's."""
    if error is None:
        return "(no error recorded)"
    while getattr(error, "cause", None) is not None and str(getattr(error, "cls_name", "")).startswith("Dagster"):
        error = error.cause
    message = str(getattr(error, "message", error)).strip()
    head = message.split(":", 1)
    if len(head) == 2 and "." in head[0] and " " not in head[0]:
        message = f"{head[0].rsplit('.', 1)[-1]}:{head[1]}"
    lines = [line for line in message.splitlines() if line.strip()]
    more = len(lines) > MESSAGE_LINES
    return "\n".join(lines[:MESSAGE_LINES]) + ("\n…" if more else "")


def run_outcome(instance: dg.DagsterInstance, job_name: str, run_id: str) -> RunOutcome:
    """What happened in one run, read from its event log."""
    types = {
        dg.DagsterEventType.STEP_FAILURE,
        dg.DagsterEventType.RUN_FAILURE,
        dg.DagsterEventType.RUN_SUCCESS,
        dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
        dg.DagsterEventType.ASSET_MATERIALIZATION,
    }
    failures: list[StepFailure] = []
    planned: list[str] = []
    materialized: set[str] = set()
    success = False
    run_failure = None
    for entry in instance.all_logs(run_id, of_type=types):
        event = entry.dagster_event
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_FAILURE:
            failures.append(StepFailure(entry.step_key or "?", _short(event.step_failure_data.error)))
        elif kind == dg.DagsterEventType.RUN_FAILURE:
            run_failure = event.event_specific_data
        elif kind == dg.DagsterEventType.RUN_SUCCESS:
            success = True
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
            planned.append(event.asset_key.to_user_string())
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialized.add(event.asset_key.to_user_string())
    if not success and not failures:  # failed outside any step (e.g. the run could not start)
        failures.append(StepFailure("(run)", _short(getattr(run_failure, "error", None))))
    missing = tuple(dict.fromkeys(k for k in planned if k not in materialized))
    return RunOutcome(job_name, run_id, success, tuple(failures), missing if not success else ())


def check_outcomes(instance: dg.DagsterInstance, run_ids: Sequence[str]) -> CheckOutcomes:
    """The latest evaluation of every asset check planned or evaluated in these runs (later runs
    win; only these runs count, so an old failure never shadows a new pass, nor the reverse)."""
    types = {dg.DagsterEventType.ASSET_CHECK_EVALUATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED}
    latest: dict[tuple[str, str], object] = {}
    planned: dict[tuple[str, str], None] = {}
    for run_id in run_ids:
        for entry in instance.all_logs(run_id, of_type=types):
            data = entry.dagster_event.event_specific_data
            key = (data.asset_key.to_user_string(), data.check_name)
            if entry.dagster_event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                latest[key] = data
            else:
                planned[key] = None
    outcomes = CheckOutcomes()
    for key in sorted(latest):
        evaluation = latest[key]
        description = (getattr(evaluation, "description", None) or "").strip().splitlines()
        detail = description[0] if description else ""
        if evaluation.passed:
            outcomes.passed.append(key)
        elif evaluation.severity == dg.AssetCheckSeverity.WARN:
            outcomes.warned.append((*key, detail))
        else:
            outcomes.failed.append((*key, detail))
    outcomes.not_run = sorted(k for k in planned if k not in latest)
    return outcomes


def check_lines(outcomes: CheckOutcomes) -> list[str]:
    """Failures first, then warnings, then the checks that did not run."""
    lines = [
        f"{len(outcomes.passed)} of {outcomes.evaluated} asset checks evaluated in this run passed"
        + (f"; {len(outcomes.failed)} failed" if outcomes.failed else "")
        + (f"; {len(outcomes.warned)} warned" if outcomes.warned else "")
    ]
    lines += [f"FAILED {a} :: {c}" + (f" — {d}" if d else "") for a, c, d in outcomes.failed]
    lines += [f"WARN   {a} :: {c}" + (f" — {d}" if d else "") for a, c, d in outcomes.warned]
    if outcomes.not_run:
        lines.append(f"{len(outcomes.not_run)} asset checks did not run (their asset was not materialized)")
    return lines


def failure_lines(runs: Sequence[RunOutcome]) -> list[str]:
    """For each failed run: the job, each failed step with its message, the assets left behind."""
    lines = []
    for run in runs:
        if run.success:
            continue
        lines.append(f"{run.job_name} FAILED" + (f" (run {run.run_id})" if run.run_id else ""))
        for failure in run.failures:
            first, *rest = failure.message.splitlines()
            lines.append(f"  step {failure.step} failed: {first}")
            lines.extend(f"      {line}" for line in rest)
        if run.not_materialized:
            named = ", ".join(run.not_materialized[:NAMED_ASSETS])
            more = len(run.not_materialized) - NAMED_ASSETS
            lines.append(
                f"  not materialized ({len(run.not_materialized)}): {named}" + (f" and {more} more" if more > 0 else "")
            )
    return lines


def mart_row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows in every table of the `main` schema (the marts, forecasts and reports)."""
    tables = [
        r[0] for r in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'main' and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
    ]
    return {t: con.execute(f'select count(*) from main."{t}"').fetchone()[0] for t in tables}


def cost_by_provider(con: duckdb.DuckDBPyConnection) -> list[tuple] | None:
    """(provider, billing currency, billed cost, effective cost) from the FOCUS mart; None when
    the mart does not exist."""
    if not relation_exists(con, "main", "focus_cost_and_usage"):
        return None
    return con.execute(
        """
        select ProviderName, BillingCurrency, sum(BilledCost), sum(EffectiveCost)
        from main.focus_cost_and_usage
        group by all
        order by 1, 2
        """
    ).fetchall()


def _money(value: object) -> str:
    return f"{'-':>16}" if value is None else f"{value:>16,.2f}"


def _warehouse_lines(warehouse: Path) -> list[str]:
    if not warehouse.exists():
        return [f"No warehouse at {warehouse}."]
    try:
        with connect(warehouse, read_only=True) as con:
            lines = ["Rows per mart:"]
            lines += [f"  {table:<32} {rows:>12,}" for table, rows in mart_row_counts(con).items()]
            costs = cost_by_provider(con)
    except duckdb.Error as exc:
        return [f"The warehouse could not be read for the summary: {str(exc).splitlines()[0]}"]
    lines.append("Cost per provider (FOCUS BilledCost / EffectiveCost):")
    if costs is None:
        lines.append("  main.focus_cost_and_usage does not exist: no billing was built")
    elif not costs:
        lines.append("  (no billing rows)")
    for provider, currency, billed, effective in costs or []:
        lines.append(f"  {provider:<24} {currency}  billed {_money(billed)}   effective {_money(effective)}")
    return lines


def format_summary(
    warehouse: Path,
    runs: Sequence[RunOutcome],
    checks: CheckOutcomes,
    published: Path | None = None,
    log_path: Path | None = None,
    atlas_command: str = "atlas",
    problems: Sequence[str] = (),
) -> str:
    """The summary. After a failure it says what failed and where the log is, and shows no totals:
    nothing was published, so numbers from a half-refreshed warehouse would mislead. `atlas_command`
    is how this shell runs `atlas` (e.g. `.venv/bin/atlas` when it is not on PATH); `problems` are
    failures found before any job ran (a source whose location vanished)."""
    ok = bool(runs) and all(run.success for run in runs) and not problems
    lines = ["", "Atlas run summary", "================="]
    if ok:
        lines.append(f"Result: succeeded ({', '.join(dict.fromkeys(r.job_name for r in runs))})")
        lines += _warehouse_lines(warehouse)
    else:
        lines.append("Result: FAILED")
        lines += [f"  {problem}" for problem in problems]
        lines += failure_lines(runs)
    lines.append("Checks:")
    lines += [f"  {line}" for line in check_lines(checks)]
    if ok:
        lines.append(f"Warehouse: {warehouse}")
        if published:
            lines.append(f"Published read-only snapshot (what readers query): {published}")
        lines.append(f'Query it:  {atlas_command} sql "select * from focus_cost_and_usage limit 5"')
        lines.append(f"           {atlas_command} tables   (what each table holds, with row counts)")
        if published:
            lines.append(f"       or:  any DuckDB client (1.3 or newer), read-only: duckdb -readonly {published}")
    else:
        lines.append(
            "Nothing was published: readers still see the previous snapshot"
            + (f" ({published})." if published and published.exists() else " (there is none yet).")
        )
        lines.append(f"Warehouse as the failed run left it (not published): {warehouse}")
    if log_path:
        lines.append(f"Full log (everything printed, and every run's Dagster event log): {log_path}")
    return "\n".join(lines)
