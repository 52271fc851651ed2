"""How DuckDB reads the GPU telemetry formats that are not plain delimited text: the readers behind
`raw.<source>` for Prometheus range-query JSON and nvidia-smi CSV logs.

Kept apart from `raw_relations.py` (billing formats) so each can change on its own. Readers stay
lossless: labels as a MAP, numbers and units as the tools printed them (VARCHAR); staging types them.

Memory. A Prometheus `/api/v1/query_range` answer is one JSON document per file (one host-day: ~12 MB
of JSON at 10-s scrapes of 8 GPUs). DuckDB's `read_json` with a declared STRUCT type held ~1.1 GiB
for such a file (the samples as a JSON[] list, then unnested). The SQL reader here parses each file
once with `read_json_objects` and types only `data.result` (label MAP + `VARCHAR[][]` pairs): about
15x the file's JSON size while that file is read, never the whole relation, and 50x faster. For
files too large even for that, `write_prometheus_range_parquet` converts one file as a stream
(ijson, constant memory) into the same columns, so landing can keep a parquet copy beside the
original (measured in `bench/gpu_rollup.py --prometheus`).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

# `[<unix s>, "<value>"]` pairs typed as text: the number keeps the digits Prometheus wrote.
_RESULT_TYPE = '[{"metric": "MAP(VARCHAR, VARCHAR)", "values": "VARCHAR[][]"}]'
# One host-day of one host's series is one JSON object (~12 MB at 10-s scrapes of 8 GPUs); DuckDB
# allocates buffers from this limit (1 GiB made it ask for 2 GiB), so 256 MB; larger files: the
# streaming converter below.
_MAX_OBJECT_BYTES = 1 << 28

TELEMETRY_FORMATS = ("prometheus_range_json", "nvidia_smi_csv")

# The raw columns of a Prometheus range export (before lineage columns).
PROMETHEUS_RANGE_SCHEMA = pa.schema(
    [("metric_labels", pa.map_(pa.string(), pa.string())), ("timestamp_text", pa.string()), ("value_text", pa.string())]
)


def telemetry_reader_sql(fmt: str, paths: str, hive: str) -> str:
    """A DuckDB relation (subquery text) reading `paths` (a SQL list literal) of format `fmt`.

    prometheus_range_json: one row per sample: `metric_labels` (MAP incl. `__name__`),
      `timestamp_text` (unix seconds as written), `value_text`, plus lineage columns.
    nvidia_smi_csv: one row per GPU per line, columns named as the header prints them
      (`utilization.gpu [%]`), values verbatim (`87 %`, `[N/A]`); logs of different field sets union by name.
    """
    if fmt == "prometheus_range_json":
        # Unnest in the select list: a lateral `cross join unnest(...)` was 300x slower here.
        return (
            "(select series.metric as metric_labels, pair[1] as timestamp_text, pair[2] as value_text, "
            "* exclude (series, pair) from (select series, unnest(series.\"values\") as pair, * exclude (series) "
            "from (select unnest(from_json(json -> '$.data.result', "
            f"'{_RESULT_TYPE}')) as series, * exclude (json) from read_json_objects({paths}, "
            f"format = 'unstructured', maximum_object_size = {_MAX_OBJECT_BYTES}, {hive}))))"
        )
    if fmt == "nvidia_smi_csv":
        # nvidia-smi writes `, ` between fields and never quotes; DuckDB trims the header names.
        return (
            f"read_csv({paths}, delim = ',', quote = '', escape = '', header = true, all_varchar = true, "
            f"union_by_name = true, {hive})"
        )
    raise ValueError(f"unknown telemetry format {fmt!r}")


def _open(path: Path):
    with open(path, "rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def prometheus_range_batches(path: Path, batch_rows: int = 65_536) -> Iterator[pa.RecordBatch]:
    """The samples of one range-query export as Arrow batches of at most `batch_rows`, read as a
    stream (ijson): memory stays flat whatever the file's size. Same columns and text as the SQL
    reader (`metric_labels`, `timestamp_text`, `value_text`); numbers keep the digits written."""
    import ijson

    labels_col: list[list[tuple[str, str]]] = []
    ts_col: list[str] = []
    value_col: list[str] = []

    def flush() -> pa.RecordBatch:
        batch = pa.RecordBatch.from_arrays(
            [pa.array(labels_col, PROMETHEUS_RANGE_SCHEMA.field(0).type), pa.array(ts_col, pa.string()),
             pa.array(value_col, pa.string())],
            schema=PROMETHEUS_RANGE_SCHEMA,
        )
        labels_col.clear()
        ts_col.clear()
        value_col.clear()
        return batch

    labels: list[tuple[str, str]] = []
    pair: list[str] = []
    with _open(Path(path)) as handle:
        # use_float: numbers as Python floats would lose their text; ijson's Decimal keeps it exact.
        for prefix, event, value in ijson.parse(handle):
            if prefix == "data.result.item.metric" and event == "start_map":
                labels = []
            elif prefix.startswith("data.result.item.metric.") and event == "string":
                labels.append((prefix[len("data.result.item.metric."):], value))
            elif prefix == "data.result.item.values.item" and event == "start_array":
                pair = []
            elif prefix == "data.result.item.values.item.item":
                pair.append(value if event == "string" else _number_text(value))
            elif prefix == "data.result.item.values.item" and event == "end_array":
                labels_col.append(labels)
                ts_col.append(pair[0])
                value_col.append(pair[1] if len(pair) > 1 else None)
                if len(ts_col) >= batch_rows:
                    yield flush()
    if ts_col:
        yield flush()


def _number_text(value) -> str:
    """A JSON number as ijson hands it (int or Decimal) back to the digits written."""
    text = str(value)
    return text


def write_prometheus_range_parquet(source: Path, target: Path) -> int:
    """Convert one range-query export into a parquet file with the raw columns, as a stream;
    returns the number of samples written."""
    import pyarrow.parquet as pq

    rows = 0
    with pq.ParquetWriter(str(target), PROMETHEUS_RANGE_SCHEMA) as writer:
        for batch in prometheus_range_batches(source):
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows
