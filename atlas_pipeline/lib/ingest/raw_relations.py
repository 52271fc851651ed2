"""How DuckDB reads each export format as delivered, and the `raw.<source>` views over landing.

Landing reads every delivered file once, with the reader of its format (`delivered_file_sql`), types
the columns its contract declares (lib/typed_landing.py) and writes one parquet file beside the
original. `raw.<source>` is a view over those parquet files (`landed_view_sql`), so builds never
re-parse CSV or JSON text; a source with nothing landed is a typed empty view (`empty_view_sql`).
Every row carries its lineage: `x_source_file` (the landed original), `x_source_row` (its row in
that file, from 1), `x_period` and `x_export_version`. For most files `x_source_row` is not stored:
landing writes the rows in the order they were delivered, so a row's number is its position in the
landed parquet (`file_row_number`), which the views read back. (Numbering rows while writing them is
a window over the whole file, which DuckDB runs on one thread: it made the landing copy of a large
CSV 1.9× slower in wall time, measured.) Parquet exports, and files whose plan might reorder rows,
store it (lib/ingest/file_validation.py); the views prefer a stored number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import duckdb

from atlas_pipeline.lib.ingest.contracts import FileContract
from atlas_pipeline.lib.ingest.raw_telemetry import TELEMETRY_FORMATS, telemetry_reader_sql

LINEAGE_COLUMNS = {  # in the order the raw views have them, after the delivered columns
    "x_source_file": "VARCHAR",
    "x_period": "VARCHAR",
    "x_export_version": "VARCHAR",
    "x_source_row": "BIGINT",
}
_UNIT_SEPARATOR = chr(31)
_NO_HIVE = "hive_partitioning = false"
CSV_DELIMITERS = {"azure_cost_details_csv": ",", "csv": ",", "slurm_sacct": "|"}
PARQUET_FORMATS = ("aws_cur2_parquet", "parquet")
_GZIP_MAGIC = b"\x1f\x8b"


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_list(files: Sequence[str]) -> str:
    return "[" + ", ".join(sql_literal(f) for f in files) + "]"


def _struct(columns: dict[str, str]) -> str:
    return "{" + ", ".join(f"{sql_literal(k)}: {sql_literal(v)}" for k, v in columns.items()) + "}"


def is_gzip(path: Path) -> bool:
    """Whether the file is gzip-compressed, by its magic bytes (not its name: DuckDB reads a gzip
    file named `.csv` as zero rows, silently)."""
    with open(path, "rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def json_read_columns(contract: FileContract) -> dict[str, str]:
    """The schema a JSON export is read with: its contract's columns, exact numbers read as text
    (VARCHAR holds the number as written; landing then casts it to DECIMAL)."""
    columns = {}
    for column in contract.columns:
        kind = column.duckdb_type
        if column.type in ("money", "decimal", "date", "timestamp"):
            kind = "VARCHAR"
        columns[column.name] = re.sub(r"DECIMAL\(\d+,\s*\d+\)", "VARCHAR", kind, flags=re.IGNORECASE)
    return columns


def delivered_file_sql(fmt: str, path: Path, header: list[str] | None = None, contract: FileContract | None = None,
                       rejects: bool = False, positions: bool = False) -> str:
    """A DuckDB relation reading one delivered file of format `fmt`, losslessly: CSV-like formats
    strictly with the header's columns (all VARCHAR; a row with too many or too few fields is an
    error), parquet and JSON with the provider's types. No lineage columns: landing adds them."""
    file = sql_literal(str(path))
    compression = "gzip" if is_gzip(path) else "none"
    if fmt in CSV_DELIMITERS:
        if header is None:
            raise ValueError("a CSV file is read with its header's columns")
        columns = "{" + ", ".join(f"{sql_literal(c)}: 'VARCHAR'" for c in header) + "}"
        quoting = "quote = '', escape = ''" if fmt == "slurm_sacct" else "quote = '\"', escape = '\"'"
        extra = (
            ", store_rejects = true, rejects_table = 'atlas_reject_errors', rejects_scan = 'atlas_reject_scans'"
            if rejects else ""
        )
        return (
            f"read_csv({file}, columns = {columns}, header = true, auto_detect = false, compression = '{compression}', "
            f"delim = {sql_literal(CSV_DELIMITERS[fmt])}, {quoting}, strict_mode = true, {_NO_HIVE}{extra})"
        )
    if fmt in PARQUET_FORMATS:  # `positions`: with each row's position in the file (file_row_number, from 0)
        return f"read_parquet({file}, {'file_row_number = true, ' if positions else ''}{_NO_HIVE})"
    if fmt == "gcp_billing_jsonl":
        if contract is None:
            raise ValueError("gcp_billing_jsonl is read with its contract's columns")
        return (
            f"read_json({file}, format = 'newline_delimited', compression = '{compression}', "
            f"columns = {_struct(json_read_columns(contract))}, {_NO_HIVE})"
        )
    if fmt == "prometheus_text":
        # One VARCHAR per line: no delimiter or quote character occurs in exposition text.
        return (
            f"read_csv({file}, columns = {{'line': 'VARCHAR'}}, delim = '{_UNIT_SEPARATOR}', quote = '', escape = '', "
            f"header = false, auto_detect = false, compression = '{compression}', {_NO_HIVE})"
        )
    if fmt in TELEMETRY_FORMATS:
        return telemetry_reader_sql(fmt, _sql_list([str(path)]), f"compression = '{compression}', {_NO_HIVE}")
    raise ValueError(f"unknown export format {fmt!r}")


# Landed file (path, mtime, size) -> whether it stores x_source_row: landed files are sealed
# read-only, and a run refreshes a source's view once per partition it lands, over all its files.
_stores_row_numbers: dict[tuple[str, int, int], bool] = {}


def stores_row_numbers(con: duckdb.DuckDBPyConnection, files: Sequence[str]) -> bool:
    """Whether any of the landed files carries `x_source_row` as a column (landed by an Atlas that
    stored it, or rows DuckDB would have written out of order): read from the files' footers, once
    per file in this process."""
    keys = {}
    for file in files:
        stat = Path(file).stat()
        keys[file] = (file, stat.st_mtime_ns, stat.st_size)
    unknown = [f for f, key in keys.items() if key not in _stores_row_numbers]
    if unknown:
        found = dict(con.execute(
            f"select file_name, bool_or(name = 'x_source_row') from parquet_schema({_sql_list(unknown)}) group by 1"
        ).fetchall())
        if set(found) != set(unknown):  # DuckDB named a file otherwise: answer for this set, keep nothing
            return any(found.values()) or any(_stores_row_numbers.get(key, False) for key in keys.values())
        for file in unknown:
            _stores_row_numbers[keys[file]] = found[file]
    return any(_stores_row_numbers[key] for key in keys.values())


def source_row_sql(position: str, rows_stored: bool = False) -> str:
    """SQL: a landed row's `x_source_row` from its 0-based `position` in its file (DuckDB's
    `file_row_number`, Spark's `_metadata.row_index`), or the number stored in the file where one is."""
    return f"coalesce(x_source_row, {position} + 1)" if rows_stored else f"{position} + 1"


def landed_rows_sql(files: Sequence[str], rows_stored: bool = False) -> str:
    """A select over landed parquet files with every lineage column: `x_source_row` (last) is each
    row's position in its file (from 1), or the number stored in it (`rows_stored`: some file stores
    one). Only file_row_number is named: a file lacking the other lineage columns (changed after
    landing, which the landed_files_intact check reports) still reads."""
    row = source_row_sql("file_row_number", rows_stored)
    columns = (f"* exclude (file_row_number) replace ({row} as x_source_row)" if rows_stored
               else f"* exclude (file_row_number), {row} as x_source_row")
    return (f"select {columns} from read_parquet({_sql_list(files)}, union_by_name = true, "
            f"file_row_number = true, {_NO_HIVE})")


def landed_view_sql(source_name: str, files: Sequence[str], rows_stored: bool = False) -> str:
    """`raw.<source>` over landed parquet files (lineage as in `landed_rows_sql`)."""
    return f"create or replace view raw.{source_name} as {landed_rows_sql(files, rows_stored)}"


def empty_view_sql(source_name: str, contract: FileContract | None) -> str:
    """`raw.<source>` for a source with nothing landed (absent from this estate): no rows, the
    contract's columns with their landed types, and the lineage columns — so every model downstream
    builds and yields nothing."""
    columns = {c.name: c.duckdb_type for c in (contract.columns if contract else ())} | LINEAGE_COLUMNS
    select = ", ".join(f"cast(null as {kind}) as {quote_identifier(name)}" for name, kind in columns.items())
    return f"create or replace view raw.{source_name} as select {select} where false"
