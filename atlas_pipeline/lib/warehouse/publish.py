"""Publishing the warehouse for readers: a read-only snapshot swapped in atomically.

DuckDB allows one writing process per file, and a reader of the live file could see a run half
done. So after each successful run Atlas checkpoints the warehouse, copies the file beside the
published one, and `os.replace`s it into place. A reader that already has the old snapshot open
keeps reading it (POSIX keeps the replaced file alive until closed); the next reader opens the new
one. Readers never take the writer's lock and never see a half-finished run.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from atlas_pipeline.lib.warehouse.connections import connect


def publish_snapshot(warehouse: Path, published: Path) -> dict:
    """Copy a consistent image of `warehouse` to `published`, atomically; returns what was published."""
    with connect(warehouse) as con:
        con.execute("checkpoint")  # fold the WAL into the file: the copy below is then self-contained
        tables = con.execute(
            "select count(*) from duckdb_tables() where database_name = current_database()"
        ).fetchone()[0]
        # The copy must not race a writer: hold the connection (and its file lock) while copying.
        published.parent.mkdir(parents=True, exist_ok=True)
        partial = published.with_name(f".{published.name}.{os.getpid()}.partial")
        shutil.copyfile(warehouse, partial)
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, published)
    return {"path": str(published), "bytes": published.stat().st_size, "tables": tables,
            "published_at": datetime.now(UTC).isoformat(timespec="seconds")}
