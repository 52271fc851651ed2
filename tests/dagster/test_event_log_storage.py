"""Dagster's event log with its SQLite connections kept open (lib/run/event_log_storage.py): what
`atlas run` writes into DAGSTER_HOME's dagster.yaml, and what every other reader — Dagster's stock
storage as the UI of another install would use it, the UI's file watcher, a later process — still
finds there."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from atlas_pipeline.lib.run.event_log_storage import OPEN_SHARDS, PooledSqliteEventLogStorage
from atlas_pipeline.lib.run.pipeline_run import _dagster_yaml
from atlas_pipeline.lib.settings import AtlasPaths

pytestmark = pytest.mark.dagster

days = dg.StaticPartitionsDefinition(["2026-08-01", "2026-08-02"])


@dg.asset(partitions_def=days, check_specs=[dg.AssetCheckSpec("has_rows", asset="gpu_day")])
def gpu_day(context) -> dg.MaterializeResult:  # noqa: ANN001 (Dagster reads the hint at run time)
    return dg.MaterializeResult(check_results=[dg.AssetCheckResult(check_name="has_rows", passed=True)],
                                metadata={"rows": len(context.partition_key)})


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ATLAS_HOME", str(tmp_path / "atlas"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "atlas" / "dagster"))
    paths = AtlasPaths.from_env().ensure()
    _dagster_yaml(paths)
    return paths.dagster_home


def _materialize(instance: dg.DagsterInstance, day: str) -> str:
    result = dg.materialize([gpu_day], instance=instance, partition_key=day)
    assert result.success
    return result.run_id


def test_the_instance_atlas_writes_uses_it_and_stock_readers_see_every_event(home: Path) -> None:
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config["event_log_storage"]["class"] == "PooledSqliteEventLogStorage"
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        run_ids = [_materialize(instance, day) for day in days.get_partition_keys()]
        written = {run_id: len(instance.all_logs(run_id)) for run_id in run_ids}

        # Dagster's own storage class, on the same folder (as the UI of a stock install would read it).
        stock = SqliteEventLogStorage(str(home / "history" / "runs"))
        assert {run_id: len(stock.get_logs_for_run(run_id)) for run_id in run_ids} == written
        assert all(n > 10 for n in written.values())
        key = dg.AssetKey("gpu_day")
        assert stock.get_materialized_partitions(key) == set(days.get_partition_keys())
        assert stock.fetch_materializations(key, limit=1).records[0].run_id == run_ids[-1]

        # The UI follows a run by watching its .db file: the run's end is in the file itself, not
        # only in the WAL beside it (immutable=1 reads the file and ignores the WAL).
        for run_id in run_ids:
            with sqlite3.connect(f"file:{home / 'history' / 'runs' / run_id}.db?immutable=1", uri=True) as con:
                types = {t for (t,) in con.execute("select dagster_event_type from event_logs")}
            assert "PIPELINE_SUCCESS" in types and "ASSET_MATERIALIZATION" in types


def test_only_a_few_shards_stay_open(home: Path) -> None:
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        run_ids = [_materialize(instance, days.get_partition_keys()[i % 2]) for i in range(OPEN_SHARDS + 2)]
        assert len(storage._engines) <= OPEN_SHARDS
        # A shard closed to make room is opened again when read.
        assert len(instance.all_logs(run_ids[0])) == len(instance.all_logs(run_ids[-1]))


def test_a_process_that_exits_leaves_no_write_ahead_log(home: Path) -> None:
    script = (
        "import dagster as dg, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from test_event_log_storage import gpu_day\n"
        "with dg.DagsterInstance.get() as instance:\n"
        "    assert dg.materialize([gpu_day], instance=instance, partition_key='2026-08-01').success\n"
    )
    subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent)], check=True, timeout=120)
    runs = home / "history" / "runs"
    assert sorted(p.name for p in runs.glob("*.db")) and not list(runs.glob("*.db-wal"))
    assert len(SqliteEventLogStorage(str(runs)).get_materialized_partitions(dg.AssetKey("gpu_day"))) == 1


def test_a_dagster_yaml_naming_its_own_storage_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_HOME", str(tmp_path / "atlas"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "atlas" / "dagster"))
    paths = AtlasPaths.from_env().ensure()
    own = {"storage": {"postgres": {"postgres_url": {"env": "DAGSTER_PG_URL"}}}}
    (paths.dagster_home / "dagster.yaml").write_text(yaml.safe_dump(own))
    _dagster_yaml(paths)
    config = yaml.safe_load((paths.dagster_home / "dagster.yaml").read_text())
    assert config["storage"] == own["storage"] and "event_log_storage" not in config
