"""How DuckDB reads the GPU telemetry formats that are not plain delimited text: the readers behind
`raw.<source>` for Prometheus range-query JSON and nvidia-smi CSV logs.

Kept apart from `raw_relations.py` (billing formats) so each can change on its own. Readers stay
lossless: labels as a MAP, numbers and units as the tools printed them (VARCHAR); staging types them.
"""

from __future__ import annotations

# The body of a Prometheus `/api/v1/query_range` answer. A sample pair is `[<unix s>, "<value>"]`:
# a number then a string, so each pair is kept as JSON and split with `->>`.
PROMETHEUS_RANGE_COLUMNS = (
    "{'status': 'VARCHAR', 'data': 'STRUCT(resultType VARCHAR, "
    "result STRUCT(metric MAP(VARCHAR, VARCHAR), \"values\" JSON[])[])'}"
)
# A day of one host's series at 10-s scrapes exceeds DuckDB's default 16 MB object limit.
_MAX_OBJECT_BYTES = 1 << 28

TELEMETRY_FORMATS = ("prometheus_range_json", "nvidia_smi_csv")


def telemetry_reader_sql(fmt: str, paths: str, hive: str) -> str:
    """A DuckDB relation (subquery text) reading `paths` (a SQL list literal) of format `fmt`.

    prometheus_range_json: one row per sample: `metric_labels` (MAP incl. `__name__`),
      `timestamp_text` (unix seconds as written), `value_text`, plus lineage columns.
    nvidia_smi_csv: one row per GPU per line, columns named as the header prints them
      (`utilization.gpu [%]`), values verbatim (`87 %`, `[N/A]`); logs of different field sets union by name.
    """
    if fmt == "prometheus_range_json":
        return (
            "(select series.metric as metric_labels, v ->> 0 as timestamp_text, v ->> 1 as value_text, "
            "* exclude (series, v) from (select unnest(data.result) as series, * exclude (data, status) "
            f"from read_json({paths}, format = 'auto', columns = {PROMETHEUS_RANGE_COLUMNS}, "
            f"maximum_object_size = {_MAX_OBJECT_BYTES}, {hive})) "
            "cross join unnest(series.\"values\") as pairs(v))"
        )
    if fmt == "nvidia_smi_csv":
        # nvidia-smi writes `, ` between fields and never quotes; DuckDB trims the header names.
        return (
            f"read_csv({paths}, delim = ',', quote = '', escape = '', header = true, all_varchar = true, "
            f"union_by_name = true, {hive})"
        )
    raise ValueError(f"unknown telemetry format {fmt!r}")
