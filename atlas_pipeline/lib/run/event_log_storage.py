"""Dagster's SQLite event log, with its connections kept open.

Dagster's `SqliteEventLogStorage` builds a new SQLAlchemy engine, opens SQLite, commits and closes
for every event it stores (≈ 3 ms each, measured; closing the last connection also checkpoints the
WAL). An `atlas run` on the sample estate stores ≈ 4,000 events — planned and done
materializations per asset and partition, check evaluations, outputs — so ≈ 12 s of a run went to
opening and closing files. This subclass keeps one engine (one pooled connection) per shard for
the few shards a process is using (≈ 0.8 ms per event). Same files, same tables, same
transactions: the Dagster UI and any other process read them as before.

The UI follows a running run by watching its shard's `.db` file change; with the connection held
open, writes land in the `-wal` file until a checkpoint. So a shard is checkpointed (passively: it
never waits for a reader) at least every `CHECKPOINT_SECONDS` and when its run ends, and every
connection is closed when the process exits.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as db
from dagster import Field, StringSource
from dagster._core.events import DagsterEventType
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool, QueuePool

CHECKPOINT_SECONDS = 1.0
OPEN_SHARDS = 8  # the index and the runs a process is writing or reading at once
_RUN_ENDS = {DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE, DagsterEventType.RUN_CANCELED}
_OPEN: weakref.WeakSet[PooledSqliteEventLogStorage] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for storage in list(_OPEN):
        storage._close_engines()


def default_base_dir() -> str:
    """Where Dagster's default SQLite storage keeps the event log: `$DAGSTER_HOME/history/runs`."""
    return os.path.join(os.environ["DAGSTER_HOME"], "history", "runs")


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with one open connection per shard in use (see the module doc).

    In dagster.yaml (`atlas run` writes it into DAGSTER_HOME):

        event_log_storage:
          module: atlas_pipeline.lib.run.event_log_storage
          class: PooledSqliteEventLogStorage
    """

    def __init__(self, base_dir: str | None = None, inst_data: Any = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._checkpointed: dict[str, float] = {}
        self._engines_lock = threading.Lock()
        super().__init__(base_dir or default_base_dir(), inst_data)
        _OPEN.add(self)  # closed cleanly at exit: SQLite folds the WAL into the .db file and removes it

    @classmethod
    def config_type(cls) -> dict:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: dict) -> PooledSqliteEventLogStorage:  # type: ignore[override]
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            if shard not in self._initialized_dbs:
                # Creating the schema opens nested connections: on a throwaway engine, as Dagster does.
                init = db.create_engine(self.conn_string_for_shard(shard), poolclass=NullPool,
                                        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
                self._initdb(init)
                init.dispose()
                self._initialized_dbs.add(shard)
            engine = db.create_engine(
                self.conn_string_for_shard(shard), poolclass=QueuePool, pool_size=1, max_overflow=0,
                # Connections are used under `_db_lock`, one at a time, from whichever thread holds it.
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            self._engines[shard] = engine
            while len(self._engines) > OPEN_SHARDS:
                closed, oldest = self._engines.popitem(last=False)
                oldest.dispose()
                self._checkpointed.pop(closed, None)  # closing the last connection checkpointed it
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn
                now = time.monotonic()
                if now - self._checkpointed.get(shard, 0.0) >= CHECKPOINT_SECONDS:
                    self._checkpoint(conn, shard, now)

    def _checkpoint(self, conn: Connection, shard: str, now: float) -> None:
        # PASSIVE: copies what no reader still needs into the .db file and never blocks.
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        self._checkpointed[shard] = now

    def store_event(self, event: Any) -> None:
        super().store_event(event)
        if event.is_dagster_event and event.dagster_event_type in _RUN_ENDS:
            # The run is over: its whole log in the .db file now, for the UI's watcher.
            with self._db_lock, self._engine(event.run_id).connect() as conn:
                self._checkpoint(conn, event.run_id, time.monotonic())

    def _close_engines(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
            self._checkpointed.clear()

    def wipe(self) -> None:
        self._close_engines()  # the shard files are deleted: no connection may outlive them
        super().wipe()

    def dispose(self) -> None:
        self._close_engines()
        super().dispose()
