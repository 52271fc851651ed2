"""Opening the DuckDB warehouse with Atlas's settings (memory bound, UTC): the pipeline's writer,
the readers' locked-down door to the published snapshot, and the lock that keeps runs one at a time."""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

# Bounded memory: DuckDB spills to disk past this instead of growing. 1536 MB of buffers keeps a
# process (Python, dbt and DuckDB's own overhead included) under 2 GiB resident: the 10M-line FOCUS
# mart built whole peaks at 1.8 GiB, a period replaced at 1.9 GiB, as fast as with 3 GB (most of
# DuckDB's memory there was cache); 1280 MB and less spill and slow the replacement (README
# "Performance"). The same limit in dbt's profile (dbt_project/profiles.yml);
# ATLAS_DUCKDB_MEMORY_LIMIT sets both.
DEFAULT_MEMORY_LIMIT = os.environ.get("ATLAS_DUCKDB_MEMORY_LIMIT", "1536MB")

# The storage format a new warehouse file is written in. DuckDB fixes it when it creates the file
# and defaults to v1.0.0's, for readers as old as that; from v1.3.0 on it compresses strings
# differently, and writing the FOCUS mart (52 VARCHAR columns) takes 8.6 -> 6.0 CPU-s per 1M
# legacy CUR lines (README "Performance"). Readers need DuckDB >= 1.3. dbt's profile
# (dbt_project/profiles.yml) names the same version for a warehouse dbt creates first.
STORAGE_VERSION = "v1.3.0"

_LOCK_CONFLICT = "Could not set lock on file"  # DuckDB's message when another process holds the file


class WarehouseBusy(duckdb.IOException):
    """Another process holds the warehouse (DuckDB: one writing process per file), said for people."""


def _busy_message(path: Path, exc: duckdb.Error) -> str:
    match = re.search(r"\(PID (\d+)\)", str(exc))
    holder = f"process {match.group(1)}" if match else "another process"
    return (
        f"the warehouse {path} is in use by {holder} (another `atlas run`, a Dagster run or the "
        "publishing sensor): DuckDB lets one process write it at a time. Wait for that run to finish, "
        "then run again; meanwhile `atlas sql` and the dashboard keep reading the published snapshot."
    )


def _open(path: Path, read_only: bool, config: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """duckdb.connect in UTC; a file another process holds raises WarehouseBusy naming the holder."""
    try:
        con = duckdb.connect(
            str(path), read_only=read_only, config={"storage_compatibility_version": STORAGE_VERSION, **config}
        )
    except duckdb.IOException as exc:
        if _LOCK_CONFLICT in str(exc):
            raise WarehouseBusy(_busy_message(path, exc)) from exc
        raise
    try:
        # GLOBAL, so that every connection and cursor on this database instance is in UTC — DuckDB
        # shares one instance between the connections a process opens on a file. Already UTC when
        # another connection set it (a reader's instance is locked: no SET passes, not even this).
        if con.execute("select current_setting('TimeZone')").fetchone()[0] != "UTC":
            con.execute("set global TimeZone = 'UTC'")
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def connect(
    path: Path | str, read_only: bool = False, memory_limit: str = DEFAULT_MEMORY_LIMIT
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse; timestamps are shown and truncated in UTC. A warehouse held by another
    process raises WarehouseBusy (a duckdb.IOException) naming the holder."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, read_only, {"memory_limit": memory_limit})
    try:
        yield con
    finally:
        con.close()


# --- Readers -------------------------------------------------------------------------------------

# What a reader may run: queries. DuckDB's own settings (below) refuse files, extensions and
# configuration changes; this refuses, before DuckDB sees them, the statements that write files
# DuckDB must still be able to read (COPY or EXPORT over a landed parquet file, ATTACH read-write).
READER_STATEMENTS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})

# Extensions are neither installed nor loaded behind a reader's back; the core ones a snapshot needs
# (parquet, json, icu) are built into the duckdb wheel.
_READER_CONFIG = {
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
}


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction: every statement inside commits together, or none does (readers see the
    old rows or the new ones). A statement that fails aborts it: nothing after it runs."""
    con.execute("begin transaction")
    try:
        yield con
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


class ReadOnlyViolation(duckdb.PermissionException):
    """A reader sent a statement that is not a query."""


def check_read_only(sql: str) -> None:
    """Raise ReadOnlyViolation unless every statement in `sql` is a query (SELECT, or EXPLAIN of one)."""
    for statement in duckdb.extract_statements(sql):
        if statement.type not in READER_STATEMENTS:
            kind = statement.type.name.replace("_", " ")
            raise ReadOnlyViolation(
                f"the published snapshot is read-only: {kind} statements are refused "
                f"(readers run queries: SELECT, WITH … SELECT, FROM, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)"
            )


class ReaderConnection:
    """A DuckDB connection to a snapshot whose every SQL text is checked by `check_read_only` first;
    anything else is the connection's own (`description`, `fetchall`, …)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def execute(self, sql: str, parameters: object = None) -> duckdb.DuckDBPyConnection:
        check_read_only(sql)
        return self._con.execute(sql, parameters)

    def sql(self, sql: str, **kwargs: Any) -> duckdb.DuckDBPyRelation | None:
        check_read_only(sql)
        return self._con.sql(sql, **kwargs)

    query = sql

    def executemany(self, sql: str, parameters: object = None) -> duckdb.DuckDBPyConnection:
        check_read_only(sql)
        return self._con.executemany(sql, parameters)

    def cursor(self) -> ReaderConnection:
        return ReaderConnection(self._con.cursor())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _landed_files(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The landed parquet files a snapshot's `raw.<source>` views read (its landing manifest)."""
    try:
        return [r[0] for r in con.execute(
            "select distinct landed_path from landing.manifest where landed_path is not null order by 1"
        ).fetchall()]
    except duckdb.CatalogException:  # a warehouse that never landed anything
        return []


_reader_setup = threading.Lock()  # readers of this process set their database up one at a time


@contextmanager
def connect_reader(path: Path | str, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> Iterator[ReaderConnection]:
    """Open a published snapshot (or any warehouse file) for reading only, locked down.

    The database is opened read-only; then external access is disabled (no file, network or
    database outside it: `read_text('/etc/passwd')`, `COPY … TO`, `EXPORT DATABASE`, `ATTACH` all
    fail), with one exception — the landed parquet files its `raw.<source>` views read, which DuckDB
    allows by exact path (`allowed_paths`) — extensions are neither auto-installed nor auto-loaded,
    community and unsigned ones are refused, and the configuration is locked, so no `SET` gives any
    of it back. Statements other than queries are refused before DuckDB runs them
    (`check_read_only`): DuckDB's allow-list does not tell reads from writes.
    """
    path = Path(path)
    # DuckDB gives every connection a process opens on one file the same database instance, so a
    # reader opened while another is open (two dashboard sessions, nested readers) finds it locked
    # down already: checked, not set again (a SET on a locked configuration fails). One at a time,
    # so that no reader sees an instance half set up.
    with _reader_setup:
        con = _open(path, True, {"memory_limit": memory_limit, **_READER_CONFIG})
        try:
            _lock_down(con)
        except BaseException:
            con.close()
            raise
    try:
        yield ReaderConnection(con)
    finally:
        con.close()


def _lock_down(con: duckdb.DuckDBPyConnection) -> None:
    if con.execute("select current_setting('lock_configuration')").fetchone()[0]:
        if con.execute("select current_setting('enable_external_access')").fetchone()[0]:
            raise duckdb.PermissionException("the snapshot is open with external access on and locked")
        return
    if files := _landed_files(con):
        # allowed_paths only takes effect (and can only be set) while external access is still on.
        con.execute("set allowed_paths = ?", [files])
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")


# --- One run at a time ---------------------------------------------------------------------------


class RunInProgress(RuntimeError):
    """Another Atlas run holds the run lock of this ATLAS_HOME."""


_held: dict[str, int] = {}  # lock path -> depth, for runs nested in a process that holds the lock
_held_guard = threading.Lock()


def _holder(lock_path: Path) -> str:
    try:
        info = json.loads(lock_path.read_text() or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another Atlas run"
    return f"{info.get('job', 'a run')} (process {info.get('pid', '?')}, since {info.get('since', '?')})"


@contextmanager
def run_lock(home: Path, job: str, wait_seconds: float | None = None) -> Iterator[None]:
    """Hold `$ATLAS_HOME/run.lock` for the duration of a run that writes the warehouse.

    Two runs at once (two `atlas run`, a scheduled refresh and a sensor's, the UI's) would
    interleave their steps between each step's warehouse connection, and a snapshot published by
    one could hold half of the other. The second waits `wait_seconds` (`ATLAS_RUN_LOCK_WAIT_SECONDS`,
    default 10: a hand-over between runs), then refuses with RunInProgress naming the holder.
    A process already holding the lock (an `atlas run` executing its jobs) re-enters it. The OS
    releases it when the holder exits, even after `kill -9`: a stale lock never blocks."""
    if wait_seconds is None:
        wait_seconds = float(os.environ.get("ATLAS_RUN_LOCK_WAIT_SECONDS", "10"))
    home.mkdir(parents=True, exist_ok=True)
    lock_path = home / "run.lock"
    key = str(lock_path.resolve())
    with _held_guard:
        if _held.get(key):
            _held[key] += 1
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield
        finally:
            with _held_guard:
                _held[key] -= 1
        return
    handle = open(lock_path, "a+")  # noqa: SIM115 - held open for the whole run
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunInProgress(
                        f"not started: {_holder(lock_path)} is running on {home} and writes the same "
                        f"warehouse. Runs go one at a time; run again when it has finished (readers keep "
                        f"the published snapshot meanwhile)."
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "job": job,
                                 "since": datetime.now(UTC).isoformat(timespec="seconds")}))
        handle.flush()
        with _held_guard:
            _held[key] = 1
        try:
            yield
        finally:
            with _held_guard:
                _held.pop(key, None)
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    """True when the table or view exists (optional inputs from other stages)."""
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()[0]
    return found > 0
