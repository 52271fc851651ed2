"""What an `atlas run` has to do: only what changed since the last one.

An asset needs building when
- its source has a delivery landing has not seen (a billing period or a telemetry day: that
  partition; the node inventory: the asset), or a held-back delivery accepted since (`atlas accept`);
- a partition of it was never built (a new partition, or a run that failed);
- its code changed since its last materialization (dbt: the model's SQL, the macros it calls, the
  vars they read — see lib/warehouse/dbt_catalog.py; a partitioned asset then rebuilds every partition);
- the declaration file it reads changed (`gpu_pricing.yaml`, `kubernetes_teams.yaml`, …: the asset
  records its file's sha256 as `declaration_sha256`);
- its table or view is missing from the warehouse (a deleted warehouse file);
- or something it depends on is being rebuilt (an unpartitioned asset on a partitioned one: every
  partition counts; a partitioned asset on a changed unpartitioned one: every partition rebuilds —
  new FX rates restate every month).

Nothing changed: nothing runs. The same rules serve the delivery sensors and the schedules, which
request runs of exactly the partitions that changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from atlas_pipeline.lib.ingest.landing import pending_deliveries
from atlas_pipeline.lib.ingest.object_store import LocationNotFound, StoreUnavailable, glob_to_regex, open_store
from atlas_pipeline.lib.ingest.sources import ExportSource

CODE_VERSION_TAG = "dagster/code_version"
DECLARATION_FILE_KEY = "declaration_file"  # definition metadata: the declarations file an asset reads
DECLARATION_SHA_KEY = "declaration_sha256"  # materialization metadata: that file's sha256 when it ran


def declaration_sha256(path: Path | None) -> str:
    """The sha256 of a declaration file's bytes; 'absent' when there is no such file."""
    if path is None or not path.is_file():
        return "absent"
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class SourceDeliveries:
    """What a source's store holds that landing has not seen."""

    source: ExportSource
    periods: list[str] = field(default_factory=list)  # partitions with a new delivery ('all': unpartitioned)
    deliveries: list[str] = field(default_factory=list)  # 'period@export version' of each new delivery
    problem: str | None = None  # the store cannot be listed / the location vanished


def accepted_deliveries(
    con: duckdb.DuckDBPyConnection, source: ExportSource, instance: dg.DagsterInstance
) -> list[str]:
    """Held-back deliveries of `source` accepted (`atlas accept`) after its raw asset last
    materialized that period, as 'period@version (accepted)': nothing new lands, yet the period's
    current delivery changed, so the period must be rebuilt."""
    try:
        rows = con.execute(
            "select period, export_version, accepted_at from landing.delivery_judgements "
            "where source = ? and accepted_at is not null order by period", [source.name]).fetchall()
    except duckdb.Error:  # no judgements table yet: nothing was ever held back
        return []
    key = dg.AssetKey(["raw", source.name])
    out = []
    for period, version, accepted_at in rows:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=None if source.partitioning == "none" else [period]),
            limit=1,
        ).records
        if not records or records[0].timestamp < accepted_at.timestamp():
            out.append(f"{period}@{version} (accepted)")
    return out


def source_deliveries(
    con: duckdb.DuckDBPyConnection, source: ExportSource, instance: dg.DagsterInstance | None = None
) -> SourceDeliveries:
    """The periods of `source` with a delivery not yet landed — and, given the Dagster `instance`,
    those whose held-back delivery was accepted since they were last built. A bundled declaration
    whose folder does not exist is an absent source (nothing to do); a user's missing location, an
    unreadable store, or a source that delivered before and now lists nothing is a problem (landing
    would fail)."""
    found = SourceDeliveries(source)
    try:
        store = open_store(source.resolved_location())
        include = glob_to_regex(source.include)
        listed = sum(1 for obj in store.list() if include.match(obj.key))
        pending = pending_deliveries(con, source, store)
    except LocationNotFound as exc:
        if source.bundled and not _landed_before(con, source.name):
            return found
        found.problem = f"source {source.name}: location {exc} (declared in {source.declared_in})"
        return found
    except StoreUnavailable as exc:
        found.problem = f"source {source.name}: {exc}"
        return found
    if not listed and _landed_before(con, source.name):
        found.problem = (f"source {source.name}: {source.location} lists no files matching {source.include!r}, but "
                         f"deliveries landed from it before: was the export moved or deleted?")
        return found
    if instance is not None:
        pending = [*pending, *accepted_deliveries(con, source, instance)]
    found.deliveries = list(pending)
    found.periods = sorted({p.split("@", 1)[0] for p in pending})
    return found


def _landed_before(con: duckdb.DuckDBPyConnection, source: str) -> bool:
    try:
        return con.execute("select count(*) from landing.manifest where source = ?", [source]).fetchone()[0] > 0
    except duckdb.Error:
        return False


@dataclass
class RunPlan:
    """The partitions and unpartitioned assets to build, and why (one line per reason)."""

    partitions: dict[str, list[str]] = field(default_factory=dict)  # partitions def name -> keys, sorted
    new_partitions: dict[str, list[str]] = field(default_factory=dict)  # keys that are not partitions yet
    before: set[dg.AssetKey] = field(default_factory=set)  # unpartitioned, upstream of a partitioned asset
    after: set[dg.AssetKey] = field(default_factory=set)  # unpartitioned, the rest
    stale: dict[dg.AssetKey, str] = field(default_factory=dict)  # asset -> why (forecasts and reports too)
    reasons: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    deliveries: list[SourceDeliveries] = field(default_factory=list)

    @property
    def warehouse_changes(self) -> bool:
        return bool(any(self.partitions.values()) or self.before or self.after)

    def keys(self, partitions_name: str) -> list[str]:
        return self.partitions.get(partitions_name, [])


def _table_name(node: dg.AssetSpec | object) -> tuple[str, str] | None:
    """(schema, relation) of an asset from its `dagster/table_name` metadata (`[db.]schema.name`)."""
    metadata = getattr(node, "metadata", None) or {}
    value = metadata.get("dagster/table_name")
    text = getattr(value, "text", value)
    if not isinstance(text, str) or "." not in text:
        return None
    parts = text.split(".")
    return parts[-2].lower(), parts[-1].lower()


def _relations(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    try:
        rows = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    except duckdb.Error:
        return set()
    return {(s.lower(), n.lower()) for s, n in rows}


def stale_assets(
    graph, instance: dg.DagsterInstance, con: duckdb.DuckDBPyConnection, keys: Iterable[dg.AssetKey],
    declarations: Mapping[str, str],
) -> dict[dg.AssetKey, str]:
    """Assets whose last materialization no longer stands for what they would build now: never built,
    code changed, declaration file changed, or relation missing from the warehouse."""
    keys = [k for k in keys if graph.get(k).is_materializable]
    latest = instance.get_latest_materialization_events(keys)
    relations = _relations(con)
    stale: dict[dg.AssetKey, str] = {}
    for key in keys:
        node = graph.get(key)
        entry = latest.get(key)
        if entry is None or entry.asset_materialization is None:
            stale[key] = "never built"
            continue
        materialization = entry.asset_materialization
        recorded = (materialization.tags or {}).get(CODE_VERSION_TAG)
        if node.code_version and recorded and recorded != node.code_version:
            stale[key] = "code changed since its last build"
            continue
        declared = (node.metadata or {}).get(DECLARATION_FILE_KEY)
        declared = getattr(declared, "text", declared)
        if declared in declarations:
            seen = materialization.metadata.get(DECLARATION_SHA_KEY)
            if getattr(seen, "text", seen) != declarations[declared]:
                stale[key] = f"{declared} changed since its last build"
                continue
        table = _table_name(node)
        if table and table not in relations:
            stale[key] = f"{table[0]}.{table[1]} is missing from the warehouse"
    return stale


def _closure(graph, start: Iterable[dg.AssetKey], direction: str) -> set[dg.AssetKey]:
    """Every asset reachable from `start` (themselves included) through child or parent edges."""
    seen: set[dg.AssetKey] = set()
    stack = list(start)
    while stack:
        key = stack.pop()
        if key in seen or not graph.has(key):
            continue
        seen.add(key)
        node = graph.get(key)
        stack.extend(node.child_keys if direction == "down" else node.parent_keys)
    return seen


def plan_run(
    graph,
    instance: dg.DagsterInstance,
    con: duckdb.DuckDBPyConnection,
    sources: Sequence[ExportSource],
    warehouse_keys: set[dg.AssetKey],
    partitions_defs: Mapping[str, dg.DynamicPartitionsDefinition],
    declarations: Mapping[str, str],
    all_partitions: bool = False,
) -> RunPlan:
    """What to build: see the module docstring. `warehouse_keys` are the warehouse's assets, partitioned
    or not (forecasts and reports excluded: judged stale too, run by the caller); `all_partitions`
    rebuilds every partition (a full refresh)."""
    plan = RunPlan()
    partitioned_by: dict[str, set[dg.AssetKey]] = {name: set() for name in partitions_defs}
    for key in graph.get_all_asset_keys():
        pdef = graph.get(key).partitions_def
        if pdef is not None and getattr(pdef, "name", None) in partitioned_by and key in warehouse_keys:
            partitioned_by[pdef.name].add(key)
    source_partitions = {s.name: (graph.get(dg.AssetKey(["raw", s.name])).partitions_def
                                  if graph.has(dg.AssetKey(["raw", s.name])) else None) for s in sources}

    # 1. deliveries
    wanted: dict[str, set[str]] = {name: set() for name in partitions_defs}
    changed_unpartitioned: set[dg.AssetKey] = set()
    for source in sources:
        found = source_deliveries(con, source, instance)
        plan.deliveries.append(found)
        if found.problem:
            plan.problems.append(found.problem)
            continue
        if not found.periods:
            continue
        pdef = source_partitions.get(source.name)
        if pdef is not None and pdef.name in wanted:
            wanted[pdef.name] |= set(found.periods)
            shown = ", ".join(found.periods[:3]) + (f" … ({len(found.periods)})" if len(found.periods) > 3 else "")
            plan.reasons.append(f"{source.name}: new delivery for {shown}")
        else:
            changed_unpartitioned.add(dg.AssetKey(["raw", source.name]))
            plan.reasons.append(f"{source.name}: new delivery")

    # 2. what no longer stands: never built, code or declaration changed, relation missing
    stale = stale_assets(graph, instance, con, graph.get_all_asset_keys(), declarations)
    plan.stale = stale
    known = {name: list(instance.get_dynamic_partitions(name)) for name in partitions_defs}
    for name, members in partitioned_by.items():
        everything = set(known[name]) | wanted[name]
        rebuild_all = all_partitions or any(k in stale and stale[k] != "never built" for k in members)
        if rebuild_all and everything:
            why = "full refresh" if all_partitions else next(
                f"{k.to_user_string()}: {stale[k]}" for k in sorted(members, key=str) if k in stale)
            plan.reasons.append(f"{why}: every {name} partition ({len(everything)})")
            wanted[name] |= everything
            continue
        for key in sorted(members, key=str):  # partitions never built (new, or a run that failed)
            missing = set(known[name]) - instance.get_materialized_partitions(key)
            if missing - wanted[name]:
                plan.reasons.append(f"{key.to_user_string()}: {len(missing - wanted[name])} partition(s) never built")
                wanted[name] |= missing
    unpartitioned = {k for k in warehouse_keys if graph.get(k).partitions_def is None and graph.get(k).is_materializable}
    for key in sorted(unpartitioned & set(stale), key=str):
        changed_unpartitioned.add(key)
        plan.reasons.append(f"{key.to_user_string()}: {stale[key]}")

    # 3. a changed unpartitioned input restates every partition built from it
    for name, members in partitioned_by.items():
        everything = set(known[name]) | wanted[name]
        upstream = _closure(graph, members, "up") & changed_unpartitioned
        if upstream and everything - wanted[name]:
            plan.reasons.append(f"{sorted(upstream, key=str)[0].to_user_string()} changed: every {name} partition "
                                f"({len(everything)})")
            wanted[name] |= everything

    plan.partitions = {name: sorted(keys) for name, keys in wanted.items()}
    plan.new_partitions = {name: sorted(wanted[name] - set(known[name])) for name in partitions_defs}

    # 4. unpartitioned assets: the changed ones and everything downstream of what is rebuilt
    rebuilt = set(changed_unpartitioned)
    for name, members in partitioned_by.items():
        if wanted[name]:
            rebuilt |= members
    affected = _closure(graph, rebuilt, "down") & unpartitioned
    # What depends on no partition runs first (the partitions, and the checks of what they read, may
    # need it: seeds, inventory, declarations); the rest after the partitions.
    downstream_of_partitions = _closure(graph, set().union(*partitioned_by.values()), "down")
    plan.before = affected - downstream_of_partitions
    plan.after = affected & downstream_of_partitions
    return plan
