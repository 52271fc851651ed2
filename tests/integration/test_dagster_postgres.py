"""Dagster on PostgreSQL, as deployed: the instance is `deploy/dagster.yaml` (the file the compose
install mounts), its connection details and password from the environment, against a real
PostgreSQL 15 server on 127.0.0.1. The refresh job runs on the sample estate through that instance,
and the test reads the runs, events, asset materializations, check results and schedule state back
from PostgreSQL's own tables — not through Dagster's API, which could be reading anything."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml

from atlas_pipeline.lib.settings import REPO_ROOT, AtlasPaths
from atlas_pipeline.lib.warehouse.connections import connect
from atlas_pipeline.sample_estate import EstateSpec
from atlas_pipeline.sample_estate.estate import generate_estate

from .conftest import _restore_signals, free_port, stop_group
from .postgres_server import PostgresServer, postgres_server, unavailable_reason

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

DEPLOY_INSTANCE = REPO_ROOT / "deploy" / "dagster.yaml"
# Small but complete: every provider, the GPU fleet, one billing month (DCGM samples on its last two
# days): what is tested is where the run's records go, not the estate.
SPEC = EstateSpec(seed=7, months=1, line_items_per_month=1500, telemetry_interval_seconds=3600, telemetry_days=2)


@pytest.fixture(scope="module")
def pg() -> PostgresServer:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with postgres_server() as server:
        yield server


@pytest.fixture()
def pg_instance(pg: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dg.DagsterInstance:
    """DAGSTER_HOME holding exactly deploy/dagster.yaml; the server's details only in the environment."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY_INSTANCE, home / "dagster.yaml")
    for key, value in {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": pg.host,
        "DAGSTER_PG_PORT": str(pg.port),
        "DAGSTER_PG_USERNAME": pg.user,
        "DAGSTER_PG_PASSWORD": pg.password,
        "DAGSTER_PG_DB": pg.database,
    }.items():
        monkeypatch.setenv(key, value)
    with dg.DagsterInstance.get() as instance:
        yield instance


def _sql(pg: PostgresServer, query: str, *params) -> list[tuple]:
    with pg.connect() as con, con.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def _recon_job(name: str) -> dg.ReconstructableJob:
    """The job as a launched run loads it: from the code location's module, by name."""
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    return ReconstructableRepository.for_module(
        "atlas_pipeline.definitions", "defs", working_directory=str(REPO_ROOT)
    ).get_reconstructable_job(name)


def test_instance_from_the_deploy_file_stores_everything_in_postgres(pg_instance: dg.DagsterInstance, pg):
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    assert isinstance(pg_instance.run_storage, PostgresRunStorage)
    assert isinstance(pg_instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(pg_instance.schedule_storage, PostgresScheduleStorage)
    # The password is only in the environment, never in the file.
    assert pg.password not in DEPLOY_INSTANCE.read_text()
    tables = {row[0] for row in _sql(pg, "select table_name from information_schema.tables where table_schema='public'")}
    assert {"runs", "event_logs", "asset_keys", "jobs", "job_ticks", "asset_check_executions"} <= tables


def test_refresh_job_runs_on_the_postgres_instance(pg_instance: dg.DagsterInstance, pg):
    """The refresh on the sample estate, on the Postgres-backed instance: a run launched as the
    daemon launches one (the job reconstructed from the code location), then the partition runs and
    the refresh after them as `atlas run` drives them — the runs, their events, every mart's
    materialization (with the row count DuckDB really holds) and its checks are rows in PostgreSQL.
    (The launched run builds the declarations only: building the whole unpartitioned job on empty
    partitioned relations as well cost a minute of the suite; the single-source estates build it,
    tests/e2e/test_single_source_estates.py.)"""
    paths = AtlasPaths.from_env().ensure()
    generate_estate(paths.exports, SPEC)
    result = dg.execute_job(_recon_job("warehouse_refresh_job"), instance=pg_instance, raise_on_error=False,
                            asset_selection=[dg.AssetKey(["raw", "gpu_pricing"]), dg.AssetKey(["raw", "kubernetes_teams"])])
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    [(status, job_name)] = _sql(pg, "select status, pipeline_name from runs where run_id = %s", result.run_id)
    assert (status, job_name) == ("SUCCESS", "warehouse_refresh_job")

    from atlas_pipeline.lib.run.pipeline_run import refresh_warehouse

    refresh = refresh_warehouse(paths, pg_instance)
    assert refresh.success, [e.message for e in refresh.all_events if e.is_failure]
    run_ids = [r.run_id for r in refresh.results]
    assert {r.job_def.name for r in refresh.results} >= {"billing_job", "telemetry_job", "warehouse_refresh_job"}
    statuses = dict(_sql(pg, "select run_id, status from runs where run_id = any(%s)", run_ids))
    assert statuses == dict.fromkeys(run_ids, "SUCCESS")
    events = dict(_sql(pg, "select dagster_event_type, count(*) from event_logs where run_id = any(%s) "
                           "group by 1", run_ids))
    kind = dg.DagsterEventType
    assert events[kind.RUN_SUCCESS.value] == len(run_ids) and events[kind.STEP_SUCCESS.value] > 10
    assert kind.STEP_FAILURE.value not in events

    from dagster._serdes import deserialize_value

    materialized, by_run = {}, {}
    for key, run_id, body in _sql(pg, "select asset_key, run_id, event from event_logs where run_id = any(%s) and "
                                      "dagster_event_type = 'ASSET_MATERIALIZATION' order by id", run_ids):
        record = deserialize_value(body, dg.EventLogEntry)
        materialized[dg.AssetKey.from_db_string(key)] = record.asset_materialization.metadata
        by_run[dg.AssetKey.from_db_string(key)] = run_id
    expected = {dg.AssetKey(k) for k in ("focus_cost_and_usage", "fct_cost_daily", "fct_gpu_hours_daily")}
    assert expected | {dg.AssetKey(["raw", "aws_cur2"]), dg.AssetKey(["raw", "slurm_jobs"])} <= set(materialized)
    with connect(paths.warehouse, read_only=True) as con:
        for key in expected:
            [(rows,)] = con.execute(f"select count(*) from main.{key.path[-1]}").fetchall()
            assert rows > 0
            # a partitioned mart: rows of the run's partitions, and of the whole table
            meta = materialized[key]
            whole = meta["table_rows_all_partitions"] if "table_rows_all_partitions" in meta else meta["dagster/row_count"]
            assert whole.value == rows, key
    # The asset catalog (what the UI lists) is in Postgres too, pointing at the run that built each.
    catalog = {dg.AssetKey.from_db_string(k): run for k, run in _sql(pg, "select asset_key, last_run_id from asset_keys")}
    assert {key: catalog.get(key) for key in expected} == {key: by_run[key] for key in expected}
    checks = dict(_sql(pg, "select execution_status, count(*) from asset_check_executions where run_id = any(%s) "
                           "group by 1", run_ids))
    assert checks.get("SUCCEEDED", 0) > 0


def test_multiprocess_executor_runs_steps_in_their_own_processes(pg_instance: dg.DagsterInstance, pg, monkeypatch):
    """ATLAS_EXECUTOR=multiprocess (the deploy/ setting): each step is a child process of the run
    that writes its own events to PostgreSQL; one step at a time (DuckDB has one writer)."""
    monkeypatch.setenv("ATLAS_EXECUTOR", "multiprocess")
    paths = AtlasPaths.from_env().ensure()
    # two ingest assets with no checks of their own (read from the declarations): two steps
    selection = [dg.AssetKey(["raw", "gpu_pricing"]), dg.AssetKey(["raw", "kubernetes_teams"])]
    result = dg.execute_job(_recon_job("warehouse_refresh_job"), instance=pg_instance, asset_selection=selection,
                            raise_on_error=False)
    assert result.success, [e.message for e in result.all_events if e.is_failure]

    from dagster._serdes import deserialize_value

    steps: dict[str, dict[str, float]] = {}
    for (body,) in _sql(pg, "select event from event_logs where run_id = %s and dagster_event_type in "
                            "('STEP_START', 'STEP_SUCCESS') order by id", result.run_id):
        entry = deserialize_value(body, dg.EventLogEntry)
        steps.setdefault(entry.step_key, {})[entry.dagster_event.event_type_value] = entry.timestamp
        steps[entry.step_key]["pid"] = entry.dagster_event.pid
    pids = [step["pid"] for step in steps.values()]
    # each step in a process of its own, none in this one
    assert len(pids) == 2 and len(set(pids)) == len(pids) and os.getpid() not in pids
    spans = sorted((step["STEP_START"], step["STEP_SUCCESS"]) for step in steps.values())
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False))
    [(engine,)] = _sql(pg, "select count(*) from event_logs where run_id = %s and dagster_event_type = "
                           "'ENGINE_EVENT' and event like %s", result.run_id, "%multiprocess%")
    assert engine > 0
    with connect(paths.warehouse, read_only=True) as con:
        assert con.execute("select count(*) from raw.gpu_pricing").fetchone()[0] > 0


def _dockerfile_cmd() -> list[str]:
    [line] = [line for line in (REPO_ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")]
    return json.loads(line[4:])


def _with_option(argv: list[str], flag: str, value: str) -> list[str]:
    argv = list(argv)
    argv[argv.index(flag) + 1] = value
    return argv


def test_code_server_from_the_dockerfile_serves_the_deploy_workspace(pg_instance: dg.DagsterInstance, pg, tmp_path):
    """The compose topology without Docker: the code location started with the image's CMD (on
    127.0.0.1), answered through deploy/workspace.yaml the way the webserver and daemon reach it;
    starting the refresh schedule through it stores the schedule's state in PostgreSQL."""
    from dagster._grpc.client import DagsterGrpcClient

    port = free_port()
    cmd = _with_option(_with_option(_dockerfile_cmd(), "-h", "127.0.0.1"), "-p", str(port))
    cmd[0] = str(Path(sys.executable).parent / cmd[0])
    workspace = yaml.safe_load((REPO_ROOT / "deploy" / "workspace.yaml").read_text())
    workspace["load_from"][0]["grpc_server"].update(host="127.0.0.1", port=port)
    (tmp_path / "workspace.yaml").write_text(yaml.safe_dump(workspace))
    dagster = Path(sys.executable).parent / "dagster"
    with open(tmp_path / "code_server.log", "wb") as log:
        server = subprocess.Popen(cmd, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                  preexec_fn=_restore_signals)
        try:
            client, deadline = DagsterGrpcClient(port=port, host="127.0.0.1"), time.monotonic() + 300
            while True:
                assert server.poll() is None, (tmp_path / "code_server.log").read_text()[-3000:]
                with contextlib.suppress(Exception):
                    if client.health_check_query() == "SERVING":
                        break
                assert time.monotonic() < deadline, "code server did not answer"
                time.sleep(1)
            # the image's HEALTHCHECK, as Docker would run it
            health = subprocess.run([str(dagster), "api", "grpc-health-check", "-p", str(port)], capture_output=True,
                                    text=True, timeout=120)
            assert health.returncode == 0, health.stdout + health.stderr
            started = subprocess.run(
                [str(dagster), "schedule", "start", "warehouse_refresh_daily", "-w", str(tmp_path / "workspace.yaml")],
                cwd=tmp_path, capture_output=True, text=True, timeout=300, env=os.environ.copy(),
            )
            assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
        finally:
            stop_group(server, timeout=30)

    from dagster._core.scheduler.instigation import InstigatorState
    from dagster._serdes import deserialize_value

    states = [(deserialize_value(body, InstigatorState), status) for body, status in _sql(
        pg, "select job_body, status from jobs where job_type = 'SCHEDULE'")]
    assert [(state.instigator_name, status) for state, status in states] == [("warehouse_refresh_daily", "RUNNING")]
    assert states[0][0].origin.repository_origin.code_location_origin.location_name == "atlas"


def test_webserver_and_daemon_run_on_the_postgres_instance(pg_instance: dg.DagsterInstance, pg, tmp_path):
    """README, "Running in production", step 1 on a host without containers: `dagster-webserver` and
    `dagster-daemon run` with deploy/dagster.yaml as the instance. The UI answers, and every daemon
    (scheduler, sensors, run queue, run monitoring) heartbeats into PostgreSQL."""
    import urllib.request

    bin_dir = Path(sys.executable).parent
    port = free_port()
    commands = {
        "webserver": [str(bin_dir / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"],
        "daemon": [str(bin_dir / "dagster-daemon"), "run", "-w", "workspace.yaml"],
    }
    processes = {}
    try:
        for name, cmd in commands.items():
            with open(tmp_path / f"{name}.log", "wb") as log:
                processes[name] = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                                   start_new_session=True, preexec_fn=_restore_signals)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        wanted = {"SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR", "MONITORING"}
        info, beating, deadline = None, set(), time.monotonic() + 300
        while info is None or not wanted <= beating:
            for name, proc in processes.items():
                assert proc.poll() is None, (tmp_path / f"{name}.log").read_text()[-3000:]
            assert time.monotonic() < deadline, f"UI: {info}; daemons heartbeating: {beating}"
            if info is None:
                with contextlib.suppress(OSError):
                    info = json.loads(opener.open(f"http://127.0.0.1:{port}/server_info", timeout=2).read())
            beating = {row[0] for row in _sql(pg, "select daemon_type from daemon_heartbeats")}
            time.sleep(2)
        assert info["dagster_version"] == dg.__version__
    finally:
        for proc in processes.values():
            stop_group(proc, timeout=30)
