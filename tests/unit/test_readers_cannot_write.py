"""Readers cannot write (issue 15, finding 3): `atlas sql` and every connection to the published
snapshot (`connect_reader`) run queries only — no file written or read outside the snapshot and its
landed files, no extension installed or loaded, no setting changed — and still read everything."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import duckdb
import pytest

from atlas_pipeline.cli import main
from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.ingest.object_store import LocalStore
from atlas_pipeline.lib.ingest.sources import parse_source
from atlas_pipeline.lib.settings import DECLARATIONS_DIR, AtlasPaths
from atlas_pipeline.lib.warehouse.connections import ReadOnlyViolation, connect, connect_reader
from atlas_pipeline.lib.warehouse.publish import publish_snapshot

NODES = "hostname,cluster,provider,gpu_model,gpu_count\nnode-1,onprem-a,onprem,H100,8\nnode-2,onprem-a,onprem,H100,8\n"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclasses.dataclass
class Snapshot:
    paths: AtlasPaths
    landed: Path  # the typed parquet raw.gpu_nodes reads
    digests: dict[Path, str]  # every file an attack could damage, as it was

    def unchanged(self) -> bool:
        return all(path.exists() and sha256(path) == digest for path, digest in self.digests.items())


@pytest.fixture()
def snapshot(tmp_path: Path) -> Snapshot:
    """A published snapshot as `atlas run` leaves it: a landed source behind `raw.gpu_nodes` (a view
    reading a landed parquet file) and a mart table with exact money."""
    paths = AtlasPaths.from_env().ensure()
    inventory = paths.exports / "telemetry" / "inventory"
    inventory.mkdir(parents=True)
    (inventory / "nodes.csv").write_text(NODES)
    source = dataclasses.replace(parse_source(DECLARATIONS_DIR / "sources" / "gpu_nodes.yaml"), location=str(inventory))
    with connect(paths.warehouse) as con:
        land_source(con, source, LocalStore(inventory), paths.landing, paths.quarantine)
        refresh_raw_view(con, source)
        con.execute("create table costs as select * from (values ('node-1', 12.345::decimal(38, 12)), "
                    "('node-2', 0.000000000001::decimal(38, 12))) as t(hostname, cost)")
        [(landed,)] = con.execute("select landed_path from landing.manifest").fetchall()
    publish_snapshot(paths.warehouse, paths.published_warehouse)
    files = [paths.published_warehouse, paths.warehouse, Path(landed)]
    return Snapshot(paths, Path(landed), {f: sha256(f) for f in files})


def sql(query: str, capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = main(["sql", query, "--format", "csv"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_ordinary_queries_read_the_snapshot_and_its_landed_files(snapshot, capsys):
    code, out, err = sql(
        "select n.hostname, n.gpu_count, sum(c.cost) as cost from raw.gpu_nodes as n "
        "join costs as c using (hostname) group by all order by 1", capsys)
    assert (code, err) == (0, "")
    # Money in cents by default (issue 18), every digit with --exact.
    assert out.splitlines() == ["hostname,gpu_count,cost", "node-1,8,12.35", "node-2,8,0.00"]
    assert main(["sql", "select hostname, cost from costs order by 1", "--format", "csv", "--exact"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["node-1,12.345000000000", "node-2,0.000000000001"]
    for query in ("describe costs", "show tables", "summarize costs", "explain select * from costs",
                  "with t as (select 1 as a) select * from t", "from costs select count(*)"):
        assert sql(query, capsys)[0] == 0, query


@pytest.mark.parametrize(
    ("attack", "kind"),
    [
        ("copy (select 'evil-host' as hostname) to '{out}'", "COPY"),
        ("copy (select 1) to '{published}'", "COPY"),
        # The landed file raw.gpu_nodes reads: DuckDB itself would allow it (an allowed path).
        ("copy (select 'evil-host' as hostname) to '{landed}' (format parquet, use_tmp_file false)", "COPY"),
        ("export database '{folder}'", "EXPORT"),
        ("attach '{live}' as live", "ATTACH"),
        ("set enable_external_access = true", "SET"),
        ("reset lock_configuration", "SET"),
        ("install httpfs", "LOAD"),
        ("load httpfs", "LOAD"),
        ("select 1; copy costs to '{out}'", "COPY"),
        ("insert into costs values ('node-3', 1)", "INSERT"),
    ],
)
def test_statements_that_are_not_queries_are_refused_and_nothing_changes(snapshot, capsys, tmp_path, attack, kind):
    query = attack.format(out=tmp_path / "out.csv", published=snapshot.paths.published_warehouse,
                          landed=snapshot.landed, folder=tmp_path / "dump", live=snapshot.paths.warehouse)
    code, out, err = sql(query, capsys)
    assert code == 1 and out == ""
    assert f"read-only: {kind} statements are refused" in err
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "dump").exists()
    assert snapshot.unchanged()
    code, out, _ = sql("select hostname from raw.gpu_nodes order by 1", capsys)  # still a valid snapshot
    assert (code, out.split()) == (0, ["hostname", "node-1", "node-2"])


@pytest.mark.parametrize(
    "attack",
    [
        "select * from read_text('/etc/passwd')",
        "select * from read_csv('/etc/passwd', sep = ':')",
        "select * from glob('/etc/*')",
        "select * from read_text('{landing}/../warehouse.duckdb')",
        "select * from read_parquet('{live}')",
    ],
)
def test_queries_cannot_reach_files_outside_the_snapshot(snapshot, capsys, attack):
    query = attack.format(landing=snapshot.paths.landing, live=snapshot.paths.warehouse)
    code, out, err = sql(query, capsys)
    assert code == 1 and out == ""
    assert "Permission Error" in err and "disabled by configuration" in err


def test_every_reader_connection_is_locked_down(snapshot):
    """The dashboard and the overview report open the snapshot the same way (`connect_reader`)."""
    with connect_reader(snapshot.paths.published_warehouse) as con:
        settings = dict(con.execute(
            "select name, value from duckdb_settings() where name in ('enable_external_access', 'lock_configuration', "
            "'autoload_known_extensions', 'autoinstall_known_extensions', 'allow_community_extensions', 'TimeZone')"
        ).fetchall())
        assert settings == {
            "enable_external_access": "false", "lock_configuration": "true", "autoload_known_extensions": "false",
            "autoinstall_known_extensions": "false", "allow_community_extensions": "false", "TimeZone": "UTC",
        }
        with pytest.raises(ReadOnlyViolation, match="COPY statements are refused"):
            con.execute(f"copy (select 1) to '{snapshot.landed}' (format parquet, use_tmp_file false)")
        with pytest.raises(ReadOnlyViolation):
            con.cursor().execute("export database '/tmp'")
        # The Python API's own doors are closed by DuckDB's settings.
        with pytest.raises(duckdb.PermissionException):
            con.read_csv("/etc/passwd")
        with pytest.raises(duckdb.Error):
            con.install_extension("httpfs")
        with pytest.raises(duckdb.Error):
            con.load_extension("httpfs")
        assert con.execute("select count(*) from raw.gpu_nodes").fetchone() == (2,)
    assert snapshot.unchanged()


def test_readers_open_at_once_share_one_locked_down_database(snapshot, monkeypatch):
    """Two dashboard sessions read the snapshot at the same time: DuckDB hands the second the instance
    the first locked (a second SET failed there: "the configuration has been locked", CI, 2026-12-05)."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("TZ", "America/New_York")  # UTC must come from Atlas, not from the machine
    path = snapshot.paths.published_warehouse
    with connect_reader(path) as outer, connect_reader(path) as inner:
        for con in (outer, inner, inner.cursor()):
            assert con.execute("select count(*), current_setting('TimeZone') from raw.gpu_nodes").fetchone() == (2, "UTC")
        with pytest.raises(duckdb.PermissionException):
            inner.execute("select * from read_text('/etc/passwd')")

    def read(_: int) -> tuple:
        with connect_reader(path) as con:
            return con.execute("select count(*) from raw.gpu_nodes").fetchone()

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(read, range(32))) == [(2,)] * 32
    assert snapshot.unchanged()


def test_a_reader_of_the_live_warehouse_held_by_a_run_is_told_why(snapshot, capsys, monkeypatch):
    """No snapshot yet and the live warehouse held by another process: a sentence, not a traceback."""
    import subprocess
    import sys

    snapshot.paths.published_warehouse.unlink()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys, time; c = duckdb.connect({str(snapshot.paths.warehouse)!r}); "
                               "print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        code, _, err = sql("select 1", capsys)
    finally:
        holder.kill()
        holder.wait()
    assert code == 1
    assert f"in use by process {holder.pid}" in err and "Wait for that run to finish" in err
