"""Slurm lookup tables the dbt models join on, written after the sacct source's raw view is
refreshed (the `raw/slurm_node_lists` + `raw/slurm_report_files` ingest assets,
defs/ingest/slurm_tables.py):

- `raw.slurm_node_lists`: NodeList expansion, one row per (NodeList text, host);
- `raw.slurm_report_files`: every sacct file of the current deliveries, including those that list
  no job (a day the cluster reported and nothing ran is still a reported day; the raw view, which
  has one row per job line, cannot show it).

sacct prints a job's nodes in Slurm's compressed hostlist form (`gpu-node-[00-03,07]`,
`a[1-2]-b[3-4]`, `rack1-n[001-004],rack2-n[010-011]`). SQL cannot expand that portably, so after
the sacct source's raw view is refreshed this module expands every distinct NodeList with
python-hostlist (the same grammar as Slurm's own hostlist code) into a plain table that the dbt
models join on. Being just a table, it works on any engine dbt runs on.

A NodeList that does not parse keeps one row with `hostname` NULL and the parser's message in
`problem`, so a job is never silently dropped: staging reports it.
"""

from __future__ import annotations

import duckdb
import hostlist

# What sacct prints for a job that never got nodes.
_NO_NODES = {"", "none assigned", "(null)", "none", "unknown"}

NODE_LISTS_TABLE = "raw.slurm_node_lists"
REPORT_FILES_TABLE = "raw.slurm_report_files"


def expand_node_list(text: str | None) -> list[str]:
    """The hostnames of a Slurm NodeList, in Slurm's order; [] for a job without nodes.
    Raises ValueError (hostlist.BadHostlist) for text that is not a hostlist."""
    if text is None or text.strip().lower() in _NO_NODES:
        return []
    return hostlist.expand_hostlist(text.strip())


def node_list_rows(node_lists: list[str | None]) -> list[tuple[str, str | None, int | None, str | None]]:
    """(node_list, hostname, position, problem) for every distinct NodeList text."""
    rows: list[tuple[str, str | None, int | None, str | None]] = []
    for text in sorted({t for t in node_lists if t is not None}):
        try:
            hosts = expand_node_list(text)
        except hostlist.BadHostlist as exc:
            rows.append((text, None, None, f"NodeList {text!r} is not a Slurm hostlist: {exc}"))
            continue
        rows.extend((text, host, i, None) for i, host in enumerate(hosts))
    return rows


def write_slurm_node_lists(con: duckdb.DuckDBPyConnection, source_name: str) -> int:
    """Replace `raw.slurm_node_lists` with the expansion of every NodeList in `raw.<source_name>`
    (a sacct source); returns the number of rows. A relation without a NodeList column (sacct run
    without it, or an absent source) gives an empty table."""
    columns = {
        r[0].lower(): r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?",
            [source_name],
        ).fetchall()
    }
    node_lists: list[str | None] = []
    if "nodelist" in columns:
        quoted = '"' + columns["nodelist"].replace('"', '""') + '"'
        node_lists = [r[0] for r in con.execute(f"select distinct {quoted} from raw.{source_name}").fetchall()]
    rows = node_list_rows(node_lists)
    con.execute("create schema if not exists raw")
    con.execute(
        f"create or replace table {NODE_LISTS_TABLE} (node_list varchar, hostname varchar, "
        "node_position integer, problem varchar)"
    )
    if rows:
        con.executemany(f"insert into {NODE_LISTS_TABLE} values (?, ?, ?, ?)", rows)
    return len(rows)


def write_slurm_report_files(con: duckdb.DuckDBPyConnection, source_name: str) -> int:
    """Replace `raw.slurm_report_files` with the path of every current sacct file of the source,
    empty ones included (from `landing.current_files`; without landing, the files the raw view
    reads). Returns the number of files."""
    has_landing = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'landing' and table_name = 'current_files'"
    ).fetchone()[0]
    con.execute("create schema if not exists raw")
    con.execute(f"create or replace table {REPORT_FILES_TABLE} (x_source_file varchar)")
    if has_landing:
        con.execute(
            # The file as delivered (its name carries cluster and day): what the raw rows' x_source_file is.
            f"insert into {REPORT_FILES_TABLE} select distinct coalesce(original_path, landed_path) "
            "from landing.current_files where source = ? and status in ('landed', 'empty') "
            "and coalesce(original_path, landed_path) is not null",
            [source_name],
        )
    else:
        con.execute(f"insert into {REPORT_FILES_TABLE} select distinct x_source_file from raw.{source_name}")
    return con.execute(f"select count(*) from {REPORT_FILES_TABLE}").fetchone()[0]


def write_slurm_tables(con: duckdb.DuckDBPyConnection, source_name: str) -> None:
    """Both lookup tables for a sacct source (the ingest asset's one call)."""
    write_slurm_node_lists(con, source_name)
    write_slurm_report_files(con, source_name)
