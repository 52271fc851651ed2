"""How DuckDB reads each export format, as delivered: the `raw.<source>` views over landing.

Raw relations are lossless: CSV-like formats stay VARCHAR (staging casts them, so money is
parsed exactly as text), parquet and JSON keep the provider's own types. Landing folders are
hive-style (`x_period=…/x_export_version=…`), so every row carries its period and version.
"""

from __future__ import annotations

from collections.abc import Sequence

from atlas_pipeline.lib.raw_telemetry import TELEMETRY_FORMATS, telemetry_reader_sql

# BigQuery billing export schema (standard usage cost). Declared, not sniffed: sniffing a
# sample could guess a narrower type than a later row needs.
_KV = "STRUCT(key VARCHAR, value VARCHAR)[]"
GCP_BILLING_COLUMNS: dict[str, str] = {
    "billing_account_id": "VARCHAR",
    "service": "STRUCT(id VARCHAR, description VARCHAR)",
    "sku": "STRUCT(id VARCHAR, description VARCHAR)",
    "usage_start_time": "VARCHAR",
    "usage_end_time": "VARCHAR",
    "project": f"STRUCT(id VARCHAR, number VARCHAR, name VARCHAR, labels {_KV}, ancestry_numbers VARCHAR)",
    "labels": _KV,
    "system_labels": _KV,
    "location": "STRUCT(location VARCHAR, country VARCHAR, region VARCHAR, zone VARCHAR)",
    "resource": "STRUCT(name VARCHAR, global_name VARCHAR)",
    "export_time": "VARCHAR",
    "cost": "DOUBLE",
    "currency": "VARCHAR",
    "currency_conversion_rate": "DOUBLE",
    "usage": "STRUCT(amount DOUBLE, unit VARCHAR, amount_in_pricing_units DOUBLE, pricing_unit VARCHAR)",
    "credits": "STRUCT(name VARCHAR, amount DOUBLE, full_name VARCHAR, id VARCHAR, type VARCHAR)[]",
    "invoice": "STRUCT(month VARCHAR)",
    "cost_type": "VARCHAR",
    "adjustment_info": "STRUCT(id VARCHAR, description VARCHAR, mode VARCHAR, type VARCHAR)",
    "cost_at_list": "DOUBLE",
}

_UNIT_SEPARATOR = chr(31)
_HIVE = "hive_partitioning = true, hive_types_autocast = false, filename = 'x_source_file'"


def _sql_list(files: Sequence[str]) -> str:
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


def _struct(columns: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"


def reader_sql(fmt: str, files: Sequence[str]) -> str:
    """A DuckDB table function call reading `files` of format `fmt`."""
    if not files:
        raise ValueError("reader_sql needs at least one file")
    paths = _sql_list(files)
    if fmt in ("aws_cur2_parquet", "parquet"):
        return f"read_parquet({paths}, union_by_name = true, {_HIVE})"
    if fmt == "gcp_billing_jsonl":
        return (
            f"read_json({paths}, format = 'newline_delimited', columns = {_struct(GCP_BILLING_COLUMNS)}, "
            f"{_HIVE})"
        )
    if fmt in ("azure_cost_details_csv", "csv"):
        return f"read_csv({paths}, header = true, all_varchar = true, union_by_name = true, {_HIVE})"
    if fmt == "slurm_sacct":
        return (
            f"read_csv({paths}, delim = '|', quote = '', escape = '', header = true, all_varchar = true, "
            f"union_by_name = true, {_HIVE})"
        )
    if fmt == "prometheus_text":
        # One VARCHAR per line: no delimiter or quote character occurs in exposition text.
        return (
            f"read_csv({paths}, columns = {{'line': 'VARCHAR'}}, delim = '{_UNIT_SEPARATOR}', quote = '', escape = '', "
            f"header = false, auto_detect = false, {_HIVE})"
        )
    if fmt in TELEMETRY_FORMATS:
        return telemetry_reader_sql(fmt, paths, _HIVE)
    raise ValueError(f"unknown export format {fmt!r}")


def create_raw_view_sql(source_name: str, fmt: str, files: Sequence[str]) -> str:
    return f"create or replace view raw.{source_name} as select * from {reader_sql(fmt, files)}"


# --- billing: optional sources -------------------------------------------------------------------


def create_empty_raw_view_sql(source_name: str) -> str:
    """An empty `raw.<source>` for an optional source with no files yet: only the lineage columns,
    so staging models (which read provider columns through `columns_or_null`) yield typed NULL
    columns and no rows."""
    return (
        f"create or replace view raw.{source_name} as select cast(null as varchar) as x_source_file, "
        "cast(null as varchar) as x_period, cast(null as varchar) as x_export_version where false"
    )
