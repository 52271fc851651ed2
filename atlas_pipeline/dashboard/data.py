"""The dashboard's only way to the warehouse: the published snapshot, opened read-only and locked
down (`connect_reader`: queries only, no file or extension outside the snapshot).

Queries are cached per snapshot: the cache key includes the snapshot file's identity (inode,
size, mtime), so a newly published snapshot (swapped in atomically by `os.replace`) is read on the
next rerun, and an old one is never mixed with a new one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from atlas_pipeline.lib.report import report_queries as q
from atlas_pipeline.lib.settings import AtlasPaths
from atlas_pipeline.lib.warehouse.connections import connect_reader


def snapshot_path() -> Path:
    """$ATLAS_HOME/published/warehouse.duckdb: what readers open (never the live warehouse)."""
    return AtlasPaths.from_env().published_warehouse


def snapshot_stamp() -> tuple[int, int, int] | None:
    """Identity of the snapshot file now (None when nothing is published yet)."""
    try:
        info = os.stat(snapshot_path())
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


@st.cache_data(ttl=600, max_entries=2000, show_spinner=False)
def _cached_rows(stamp: tuple[int, int, int], sql: str, params: tuple) -> list[dict[str, Any]]:
    with connect_reader(snapshot_path()) as con:
        return q.rows(con, q.Query("cached", sql, params))


def rows(query: q.Query) -> list[dict[str, Any]]:
    """The query's rows on the current snapshot (money as exact Decimals)."""
    stamp = snapshot_stamp()
    if stamp is None:
        return []
    return _cached_rows(stamp, query.sql, query.params)


def frame(query: q.Query) -> pd.DataFrame:
    """The query's rows as a DataFrame (Decimal cells stay Decimal: nothing is converted to float)."""
    found = rows(query)
    return pd.DataFrame(found) if found else pd.DataFrame()


def values(query: q.Query) -> list[Any]:
    """The `value` column of an options query."""
    return [r["value"] for r in rows(query)]
