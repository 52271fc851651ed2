"""Opening the DuckDB warehouse with Atlas's settings (memory bound, UTC)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

# Bounded memory: DuckDB spills to disk past this instead of growing. 3 GB of buffers keeps a
# process (Python, dbt and DuckDB's own overhead included) under 4 GiB resident (see bench/).
DEFAULT_MEMORY_LIMIT = "3GB"


@contextmanager
def connect(
    path: Path | str, read_only: bool = False, memory_limit: str = DEFAULT_MEMORY_LIMIT
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse; timestamps are shown and truncated in UTC."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only, config={"memory_limit": memory_limit})
    try:
        con.execute("set TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    """True when the table or view exists (optional inputs from other stages)."""
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()[0]
    return found > 0
