"""The summary after `atlas run` never crashes: a failure names the failed step and the log file and
prints no totals; warnings are listed as warnings; check status comes from this invocation's runs
only (failures first); a missing mart is said, not a CatalogException. Real Dagster runs on a real
instance, no mocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from atlas_pipeline.cli import main
from atlas_pipeline.lib.run.run_log import RunLog
from atlas_pipeline.lib.run.run_summary import (
    CheckOutcomes,
    RunOutcome,
    StepFailure,
    check_lines,
    check_outcomes,
    failure_lines,
    format_summary,
    run_outcome,
)
from atlas_pipeline.lib.settings import AtlasPaths
from atlas_pipeline.lib.warehouse.connections import connect

pytestmark = pytest.mark.dagster


@dg.asset
def raw_ok() -> None:
    """Lands fine."""


@dg.asset
def raw_broken() -> None:
    """Fails like an ingest with an unreadable store."""
    raise dg.Failure(description="source aws_cur2: cannot list s3://acme/cur: AccessDenied")


@dg.asset(deps=[raw_broken])
def staged_from_broken() -> None:
    """Never runs: its upstream failed."""


@dg.asset_check(asset=raw_ok, blocking=True)
def raw_ok_gx() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=os.environ.get("ATLAS_TEST_GX") != "fail", description="12 of 40 failed")


@dg.asset_check(asset=raw_ok)
def raw_ok_spike() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, description="3 cost spikes")


@dg.asset_check(asset=staged_from_broken)
def staged_not_null() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.asset(deps=[raw_ok])
def mart_after_gx() -> None:
    """Skipped when raw_ok's blocking check fails."""


ASSETS = [raw_ok, raw_broken, staged_from_broken, mart_after_gx]
CHECKS = [raw_ok_gx, raw_ok_spike, staged_not_null]


def _run(instance: dg.DagsterInstance) -> str:
    return dg.materialize([*ASSETS, *CHECKS], instance=instance, raise_on_error=False).run_id


def test_a_failed_run_names_its_failed_steps_and_what_was_left_behind(tmp_path: Path):
    with dg.instance_for_test() as instance:
        run_id = _run(instance)
        outcome = run_outcome(instance, "warehouse_refresh_job", run_id)
        checks = check_outcomes(instance, [run_id])
    assert not outcome.success
    assert outcome.failures == (
        StepFailure("raw_broken", "Failure: source aws_cur2: cannot list s3://acme/cur: AccessDenied"),
    )
    assert set(outcome.not_materialized) == {"raw_broken", "staged_from_broken"}
    assert checks.passed == [("raw_ok", "raw_ok_gx")]
    assert checks.warned == [("raw_ok", "raw_ok_spike", "3 cost spikes")]
    assert checks.failed == [] and checks.not_run == [("staged_from_broken", "staged_not_null")]
    summary = format_summary(tmp_path / "warehouse.duckdb", [outcome], checks, tmp_path / "published.duckdb",
                             tmp_path / "atlas-run.log")
    lines = summary.splitlines()
    assert "Result: FAILED" in lines
    assert f"warehouse_refresh_job FAILED (run {run_id})" in lines
    assert "  step raw_broken failed: Failure: source aws_cur2: cannot list s3://acme/cur: AccessDenied" in lines
    assert "  not materialized (2): raw_broken, staged_from_broken" in lines
    assert "  WARN   raw_ok :: raw_ok_spike — 3 cost spikes" in lines
    assert not [line for line in lines if "FAILED raw_ok" in line]  # a warning is not a failure
    assert "  1 asset checks did not run (their asset was not materialized)" in lines
    assert lines[-1] == f"Full log (everything printed, and every run's Dagster event log): {tmp_path / 'atlas-run.log'}"
    # Nothing was published: no totals, no "query it" as if the numbers were current.
    assert "Cost per provider" not in summary and "Rows per mart" not in summary and "Query it" not in summary
    assert "Nothing was published: readers still see the previous snapshot (there is none yet)." in lines


def test_a_blocking_check_failure_is_listed_first_and_its_downstream_not_materialized(monkeypatch):
    monkeypatch.setenv("ATLAS_TEST_GX", "fail")
    with dg.instance_for_test() as instance:
        run_id = _run(instance)
        outcome = run_outcome(instance, "warehouse_refresh_job", run_id)
        lines = check_lines(check_outcomes(instance, [run_id]))
    assert "mart_after_gx" in outcome.not_materialized
    assert lines[0] == "0 of 2 asset checks evaluated in this run passed; 1 failed; 1 warned"
    assert lines[1] == "FAILED raw_ok :: raw_ok_gx — 12 of 40 failed"
    assert lines[2] == "WARN   raw_ok :: raw_ok_spike — 3 cost spikes"


def test_only_this_invocations_runs_count_and_the_latest_evaluation_wins(monkeypatch):
    """An old failure must not shadow a new pass (nor an old pass a new failure)."""
    with dg.instance_for_test() as instance:

        def run(gx: str) -> str:
            monkeypatch.setenv("ATLAS_TEST_GX", gx)
            return dg.materialize([raw_ok, raw_ok_gx], instance=instance, raise_on_error=False).run_id

        old_failure, new_pass, newer_failure = run("fail"), run("pass"), run("fail")
        assert check_outcomes(instance, [new_pass]).passed == [("raw_ok", "raw_ok_gx")]
        assert check_outcomes(instance, [old_failure, new_pass]).failed == []
        assert [f[:2] for f in check_outcomes(instance, [new_pass, newer_failure]).failed] == [("raw_ok", "raw_ok_gx")]


def test_success_summary_says_when_the_cost_mart_does_not_exist(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    with connect(warehouse) as con:
        con.execute("create table main.fct_gpu_hours_daily as select 1 as n")
    ok = RunOutcome("warehouse_refresh_job", "r1", True)
    summary = format_summary(warehouse, [ok], CheckOutcomes(passed=[("a", "b")]), tmp_path / "pub.duckdb")
    lines = summary.splitlines()
    assert "Result: succeeded (warehouse_refresh_job)" in lines
    assert "  fct_gpu_hours_daily                         1" in lines
    assert "  main.focus_cost_and_usage does not exist: no billing was built" in lines
    assert "  1 of 1 asset checks evaluated in this run passed" in lines
    assert f"Published read-only snapshot (what readers query): {tmp_path / 'pub.duckdb'}" in lines
    with connect(warehouse) as con:
        con.execute('create table main.focus_cost_and_usage ("ProviderName" varchar, "BillingCurrency" varchar, '
                    '"BilledCost" decimal(38, 12), "EffectiveCost" decimal(38, 12))')
        con.execute("insert into main.focus_cost_and_usage values ('Microsoft', 'USD', 39.77, null)")
    lines = format_summary(warehouse, [ok], CheckOutcomes()).splitlines()
    assert "  Microsoft                USD  billed            39.77   effective                -" in lines
    missing = format_summary(tmp_path / "none.duckdb", [ok], CheckOutcomes())
    assert f"No warehouse at {tmp_path / 'none.duckdb'}." in missing


def test_the_run_log_keeps_what_was_printed_and_the_full_event_log(tmp_path: Path, capsys):
    with dg.instance_for_test() as instance:
        with RunLog(tmp_path / "logs") as log:
            print("\x1b[32mMaterializing …\x1b[0m")
            run_id = _run(instance)
            log.append_event_log(instance, run_id, "warehouse_refresh_job")
    text = log.path.read_text()
    assert log.path.parent == tmp_path / "logs" and log.path.name.startswith("atlas-run-")
    assert "Materializing …" in text and "\x1b[" not in text  # no colour codes in the file
    assert "Materializing" in capsys.readouterr().out  # the terminal still got it
    assert f"===== Dagster event log of warehouse_refresh_job, run {run_id} =====" in text
    assert " DEBUG " in text  # every level, not the terminal's INFO
    failure = text[text.index("STEP_FAILURE"):]
    assert "source aws_cur2: cannot list s3://acme/cur: AccessDenied" in failure
    assert "Traceback" in failure or 'File "' in failure  # the stack is in the file, not the terminal summary


@pytest.fixture
def locked_warehouse():
    """A second process holding the warehouse's write lock: every step that opens it fails."""
    path = AtlasPaths.from_env().warehouse
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, sys, time\ncon = duckdb.connect({str(path)!r})\nprint('ready', flush=True)\ntime.sleep(600)"],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL),
    )
    assert holder.stdout.readline().strip() == "ready"
    yield path
    holder.kill()
    holder.wait(timeout=30)


def test_atlas_run_after_a_failure_ends_in_a_summary_with_the_log_path(tmp_path, monkeypatch, capsys, locked_warehouse):
    """A real `atlas run` whose warehouse another process holds: the summary names the failed step
    (planning cannot read the warehouse) and the log file (which holds the stack), prints no totals,
    exits 1 — no traceback at the end."""
    folder = tmp_path / "declarations"
    (folder / "sources").mkdir(parents=True)
    (tmp_path / "sacct").mkdir()
    (folder / "sources" / "slurm_jobs.yaml").write_text(
        "name: slurm_jobs\ndescription: ours\nprovider: telemetry\nformat: slurm_sacct\n"
        f"location: {tmp_path / 'sacct'}\ninclude: '*.txt'\npartitioning: none\n"
    )
    monkeypatch.setenv("ATLAS_ASSETS", str(folder))
    assert main(["run"]) == 1
    captured = capsys.readouterr()
    summary = captured.out[captured.out.index("Atlas run summary"):]
    assert "Result: FAILED" in summary
    assert "plan FAILED" in summary
    assert "  step plan failed: WarehouseBusy: the warehouse " in summary
    assert "is in use by process" in summary and "Wait for that run to finish" in summary
    assert "Cost per provider" not in summary and "Rows per mart" not in summary
    lines = summary.rstrip().splitlines()
    log_line = lines[-1]
    assert log_line.startswith("Full log (everything printed, and every run's Dagster event log): ")
    log = Path(log_line.rsplit(": ", 1)[1])
    assert log.parent == AtlasPaths.from_env().logs and "Could not set lock" in log.read_text()
    assert "Traceback" in log.read_text() and "Traceback" not in captured.out + captured.err
    assert captured.err.rstrip().splitlines()[-1].startswith("The run did not succeed: see the summary above")


def test_a_job_that_cannot_start_is_a_failed_outcome_with_its_traceback_in_the_log(tmp_path: Path):
    from atlas_pipeline.lib.run.pipeline_run import PipelineRun, RunOptions
    from atlas_pipeline.lib.run.progress import Stage, TerminalProgress

    with RunLog(tmp_path) as log, dg.instance_for_test() as instance:
        run = PipelineRun(AtlasPaths.from_env(), RunOptions(), TerminalProgress(log.terminal), log,
                          definitions=dg.Definitions(assets=ASSETS), instance=instance)
        stage = Stage("warehouse")
        assert run.execute(stage, "no_such_job") is None
        [outcome] = run.runs
    assert not stage.ok and "no_such_job could not start" in stage.summary
    assert not outcome.success and outcome.run_id == ""
    [failure] = outcome.failures
    assert failure.step == "no_such_job" and "no_such_job" in failure.message
    lines = failure_lines([outcome])
    assert lines[0] == "no_such_job FAILED" and lines[1].startswith("  step no_such_job failed: ")
    assert "===== no_such_job could not start =====\nTraceback (most recent call last):" in log.path.read_text()
