"""What the dbt manifest says about each model, for the Dagster catalog: a code version that changes
when the model's SQL, a macro it calls or a var it reads changes (dbt's own checksum sees the SQL
file only), column descriptions written once and reused by name, and the columns the warehouse
actually has, with their types."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb

_VAR = re.compile(r"""\bvar\(\s*['"]([A-Za-z0-9_]+)['"]""")
# Vars a partitioned run sets: they name the partitions, not the logic, so they never change a version.
RUN_VARS = frozenset({"billing_periods", "telemetry_days"})
# Where a column's description is looked up when its own model's yml lacks one: the most curated
# layers first (the FOCUS mart documents the FOCUS columns every FOCUS model shares).
_LAYER_ORDER = ("marts", "reports", "intermediate", "staging")
DOC_PREFIX = "column__"


def _project_macros(manifest: Mapping[str, Any], unique_ids: Iterable[str], project: str) -> dict[str, str]:
    """Every macro of the project reachable from `unique_ids` (transitively), by id -> its SQL."""
    macros = manifest.get("macros", {})
    seen: dict[str, str] = {}
    stack = list(unique_ids)
    while stack:
        macro_id = stack.pop()
        if macro_id in seen or macro_id not in macros:
            continue
        macro = macros[macro_id]
        if macro.get("package_name") != project:
            continue
        seen[macro_id] = macro.get("macro_sql", "")
        stack.extend(macro.get("depends_on", {}).get("macros", []))
    return seen


def code_version(manifest: Mapping[str, Any], props: Mapping[str, Any], project_vars: Mapping[str, Any]) -> str | None:
    """sha256 of the node's checksum, the project macros it reaches and the vars they or it read."""
    checksum = (props.get("checksum") or {}).get("checksum")
    if not checksum:
        return None
    project = props.get("package_name", "")
    macros = _project_macros(manifest, props.get("depends_on", {}).get("macros", []), project)
    code = [props.get("raw_code", ""), *macros.values()]
    used_vars = sorted({name for text in code for name in _VAR.findall(text)} - RUN_VARS)
    digest = hashlib.sha256(checksum.encode())
    for macro_id in sorted(macros):
        digest.update(f"\n{macro_id}\n{macros[macro_id]}".encode())
    for name in used_vars:
        digest.update(f"\nvar {name}={json.dumps(project_vars.get(name), sort_keys=True, default=str)}".encode())
    return digest.hexdigest()[:16]


def column_descriptions(manifest: Mapping[str, Any]) -> dict[str, str]:
    """column name (lower case) -> its description, from every model's and seed's yml; a column
    documented in several models takes the most downstream layer's text."""
    ranked: list[tuple[int, str, str]] = []
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") not in ("model", "seed"):
            continue
        fqn = node.get("fqn", [])
        rank = next((i for i, layer in enumerate(_LAYER_ORDER) if layer in fqn), len(_LAYER_ORDER))
        for name, column in (node.get("columns") or {}).items():
            if (column.get("description") or "").strip():
                ranked.append((rank, name.lower(), column["description"].strip()))
    described: dict[str, str] = {}
    for _, name, text in sorted(ranked, key=lambda r: r[0]):
        described.setdefault(name, text)
    # The column glossary (models/docs/_columns.md): `column__<name>` doc blocks, written once.
    for block in manifest.get("docs", {}).values():
        name = block.get("name", "")
        if name.startswith(DOC_PREFIX) and (block.get("block_contents") or "").strip():
            described.setdefault(name[len(DOC_PREFIX):].lower(), block["block_contents"].strip())
    return described


def describe_column(name: str, described: Mapping[str, str]) -> str | None:
    """A column's description by name; month-over-month columns (`<measure>_previous_month`,
    `<measure>_change`) are described from their measure."""
    lowered = name.lower()
    if lowered in described:
        return described[lowered]
    for suffix, template in (("_previous_month", "{base} in the previous month (same slice): {text}"),
                             ("_change", "Change of {base} against the previous month: {text}")):
        if lowered.endswith(suffix):
            base = lowered[: -len(suffix)]
            text = described.get(base)
            return template.format(base=base, text=text) if text else template.split(":")[0].format(base=base) + "."
    return None


def warehouse_columns(
    con: duckdb.DuckDBPyConnection, relations: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(schema, name) -> [(column, type)] in table order, for those of `relations` that exist."""
    wanted = {(s.lower(), n.lower()) for s, n in relations}
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    rows = con.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "order by table_schema, table_name, ordinal_position"
    ).fetchall()
    for schema, name, column, kind in rows:
        key = (schema.lower(), name.lower())
        if key in wanted:
            found.setdefault(key, []).append((column, kind))
    return found
