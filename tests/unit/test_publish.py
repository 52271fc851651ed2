"""The published snapshot: readers are never blocked by a writing pipeline and never see half a run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from decimal import Decimal

import duckdb

from atlas_pipeline.cli import main
from atlas_pipeline.lib.settings import AtlasPaths
from atlas_pipeline.lib.warehouse.connections import connect
from atlas_pipeline.lib.warehouse.publish import publish_snapshot

BATCH = 250  # rows per simulated run; every run's rows cost 0.01 each


def _run_batch(con: duckdb.DuckDBPyConnection, run: int) -> None:
    """One 'run': two statements that only make sense together (a reader must see both or neither)."""
    con.execute("begin")
    con.execute(f"insert into costs select {run}, 0.01 from range({BATCH // 2})")
    con.execute(f"insert into costs select {run}, 0.01 from range({BATCH - BATCH // 2})")
    con.execute("commit")


def test_publish_copies_the_state_and_an_open_reader_keeps_the_old_one():
    paths = AtlasPaths.from_env().ensure()
    with connect(paths.warehouse) as con:
        con.execute("create table costs (run integer, cost decimal(38, 12))")
        _run_batch(con, 1)
    info = publish_snapshot(paths.warehouse, paths.published_warehouse)
    assert info["tables"] == 1 and paths.published_warehouse.exists()

    old_reader = duckdb.connect(str(paths.published_warehouse), read_only=True)
    with connect(paths.warehouse) as con:
        _run_batch(con, 2)
    publish_snapshot(paths.warehouse, paths.published_warehouse)
    # The reader opened before the swap still sees its consistent state; a new reader sees the new one.
    assert old_reader.execute("select count(*), sum(cost) from costs").fetchone() == (BATCH, Decimal("2.5"))
    old_reader.close()
    with connect(paths.published_warehouse, read_only=True) as con:
        assert con.execute("select count(*), sum(cost) from costs").fetchone() == (2 * BATCH, Decimal("5.0"))
    assert not list(paths.published_warehouse.parent.glob("*.partial"))


def test_queries_succeed_and_stay_consistent_while_another_process_writes_and_publishes(capsys):
    paths = AtlasPaths.from_env().ensure()
    with connect(paths.warehouse) as con:
        con.execute("create table costs (run integer, cost decimal(38, 12))")
        _run_batch(con, 0)
    publish_snapshot(paths.warehouse, paths.published_warehouse)

    # The writer is another process, as a Dagster run is: it holds the live warehouse's write lock.
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys
        from atlas_pipeline.lib.warehouse.publish import publish_snapshot
        from pathlib import Path
        live, published = Path({str(paths.warehouse)!r}), Path({str(paths.published_warehouse)!r})
        for run in range(1, 16):
            con = duckdb.connect(str(live))
            con.execute("begin")
            con.execute(f"insert into costs select {{run}}, 0.01 from range({BATCH // 2})")
            con.execute(f"insert into costs select {{run}}, 0.01 from range({BATCH - BATCH // 2})")
            con.execute("commit")
            con.close()
            publish_snapshot(live, published)
    """)])

    seen, errors = [], []

    def read_loop() -> None:
        while writer.poll() is None:
            try:
                with connect(paths.published_warehouse, read_only=True) as con:
                    seen.append(con.execute("select count(*), sum(cost), count(distinct run) from costs").fetchone())
            except Exception as exc:  # any failure is the finding
                errors.append(repr(exc))

    reader = threading.Thread(target=read_loop)
    reader.start()
    writer.wait(timeout=300)
    reader.join()
    assert writer.returncode == 0
    assert errors == []
    assert len(seen) > 5
    # Every answer is a whole number of runs: never half a run, never a torn file.
    for rows, total, runs in seen:
        assert rows == runs * BATCH and total == Decimal("0.01") * rows
    assert seen[-1][2] >= seen[0][2]

    # `atlas sql` reads the snapshot, even while the live warehouse is locked by a writer.
    holder = duckdb.connect(str(paths.warehouse))
    try:
        assert main(["sql", "select count(distinct run) as runs from costs", "--format", "csv"]) == 0
        assert capsys.readouterr().out.splitlines() == ["runs", "16"]
    finally:
        holder.close()
