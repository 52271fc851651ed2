"""What `atlas tables` lists: every table and view people query, with one line saying what it holds
and its row count.

The line comes from the warehouse itself first (dbt writes each model's yml description as a
DuckDB comment: `persist_docs` in dbt_project.yml), else from the dbt manifest (models and the
sources the Python stages write), else from the few tables only Python writes."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from atlas_pipeline.lib.settings import DBT_PROJECT_DIR

# What people query (README "Query the warehouse"); --all adds the rest.
DEFAULT_SCHEMAS = ("main", "reports")
# Views in these schemas re-read raw files when counted: shown uncounted.
UNCOUNTED_VIEW_SCHEMAS = ("raw", "staging", "intermediate", "landing")
_SYSTEM_SCHEMAS = ("information_schema", "pg_catalog")

PYTHON_TABLES = {
    ("main", "forecast_runs"): "Per forecast series and as-of date: the model chosen and its backtest error, "
                               "or why no forecast was made; the fingerprint of its input.",
    ("main", "forecast_backtest_metrics"): "Per series, candidate model and as-of date: MAE, MAPE, MASE and "
                                           "interval coverage of the expanding-window backtest.",
    ("quality", "check_results"): "One row per check evaluation (asset x partition x check): passed, failed, "
                                  "warned or skipped.",
    ("landing", "manifest"): "Every delivered file landed: source, period, export version, size, checksums, "
                             "status (landed, empty, quarantined) and why.",
    ("landing", "current_files"): "The files of each period's current delivery (the newest complete one).",
}


@dataclass(frozen=True)
class Relation:
    schema: str
    table: str
    kind: str  # table | view
    rows: int | None
    description: str

    @property
    def name(self) -> str:
        return self.table if self.schema == "main" else f"{self.schema}.{self.table}"


def one_line(text: str | None, width: int = 110) -> str:
    """The first sentence of a description, whitespace folded, at most `width` characters."""
    if not text:
        return ""
    text = re.sub(r"\s+", " ", text).strip()
    first = re.split(r"(?<=[.;])\s", text, maxsplit=1)[0]  # a colon introduces, it does not end
    return first if len(first) <= width else first[: width - 1].rstrip() + "…"


def manifest_descriptions() -> dict[tuple[str, str], str]:
    """(schema, relation) -> description, from the dbt manifest's models, seeds and sources."""
    path = DBT_PROJECT_DIR / "target" / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    found: dict[tuple[str, str], str] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") in ("model", "seed") and node.get("description"):
            found[(node["schema"].lower(), (node.get("alias") or node["name"]).lower())] = node["description"]
    for source in manifest.get("sources", {}).values():
        key = (source["schema"].lower(), (source.get("identifier") or source["name"]).lower())
        if source.get("description"):
            found.setdefault(key, source["description"])
    return found


def list_relations(con: duckdb.DuckDBPyConnection, schemas: Sequence[str] | None = None,
                   everything: bool = False) -> list[Relation]:
    """The relations of `schemas` (default: main and reports; `everything`: all), sorted by schema
    then name, with descriptions and row counts."""
    rows = con.execute(
        """
        select schema_name, table_name, 'table', comment from duckdb_tables()
        where database_name = current_database() and not internal and not temporary
        union all
        select schema_name, view_name, 'view', comment from duckdb_views()
        where database_name = current_database() and not internal and not temporary
        """
    ).fetchall()
    wanted = {s.lower() for s in schemas} if schemas else None
    described = manifest_descriptions()
    relations = []
    for schema, table, kind, comment in rows:
        lowered = schema.lower()
        if lowered in _SYSTEM_SCHEMAS:
            continue
        if wanted is not None and lowered not in wanted:
            continue
        if wanted is None and not everything and lowered not in DEFAULT_SCHEMAS:
            continue
        key = (lowered, table.lower())
        description = comment or described.get(key) or PYTHON_TABLES.get(key, "")
        count = None
        if kind == "table" or lowered not in UNCOUNTED_VIEW_SCHEMAS:
            try:
                count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            except duckdb.Error:
                count = None
        relations.append(Relation(schema, table, kind, count, one_line(description)))
    return sorted(relations, key=lambda r: (r.schema != "main", r.schema, r.table))
