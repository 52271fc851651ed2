"""dbt models as Dagster assets; dbt tests surface as asset checks (blocking when severity error).

The project is three dagster-dbt asset definitions, one per partitioning (the models declare theirs
as `meta.partitions`: dbt_project.yml for the billing folders, the yml beside each telemetry model):

- `atlas_dbt_billing` — partitioned by billing period: the billing staging and intermediate
  models, `focus_cost_and_usage` and `fct_cost_daily`. A run passes its periods to dbt in the
  environment, `ATLAS_DBT_PARTITIONS='{"billing_periods": [...]}'` (not `--vars`: changed vars
  make dbt re-parse the whole project on every run); the incremental marts delete and insert exactly those
  periods (macros/incremental.sql) and the tests read only them (macros/partition_scoped_tests.sql).
- `atlas_dbt_telemetry` — partitioned by UTC day: the per-reading telemetry models and the
  hourly GPU mart, `{"telemetry_days": [...]}`.
- `atlas_dbt_models` — unpartitioned: seeds, the node inventory, Slurm jobs, the GPU marts built
  from whole history (jobs span days), the quality ledgers, the views and the rpt_* reports.

A billing month and a telemetry day meet only in unpartitioned models (GPU cost allocation reads
both): those depend on every partition of each, so a new month or day rebuilds them whole.
"""


import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from atlas_pipeline.defs.catalog import BILLING, DOMAINS, GPU_FLEET, QUALITY, REFERENCE, REPORTING, Domain
from atlas_pipeline.defs.ingest.partitions import (
    BILLING_PERIODS,
    SINGLE_RUN,
    TELEMETRY_DAYS,
    billing_periods,
    telemetry_days,
)
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.quality.quality_report import CheckResult, record_results, status_of
from atlas_pipeline.lib.run import progress
from atlas_pipeline.lib.warehouse.dbt_catalog import code_version, column_descriptions, describe_column, warehouse_columns
from atlas_pipeline.lib.warehouse.dbt_project import (
    atlas_dbt_project,
    dbt_env,
    dbt_project_vars,
    prepare_manifest,
    warm_parse,
)
from atlas_pipeline.lib.warehouse.table_metadata import describe_table

LAYERS = ("staging", "intermediate", "marts", "reports")
# The dbt selection of each partitioned definition: models declare `meta.partitions`.
PARTITION_SELECT = {name: f"config.meta.partitions:{name}" for name in (BILLING_PERIODS, TELEMETRY_DAYS)}
# The dbt var a partitioned run passes its partition keys in (read by macros/incremental.sql).
PARTITION_VARS = {BILLING_PERIODS: "billing_periods", TELEMETRY_DAYS: "telemetry_days"}
# The environment variable that passes a run's partitions to dbt (macros/incremental.sql).
PARTITIONS_ENV = "ATLAS_DBT_PARTITIONS"


@contextmanager
def _partitions_env(partitions: dict[str, list[str]] | None) -> Iterator[None]:
    """ATLAS_DBT_PARTITIONS set to `partitions` (JSON) for the dbt invocations started inside (they
    copy the environment when they start); unset when None."""
    before = os.environ.pop(PARTITIONS_ENV, None)
    if partitions is not None:
        os.environ[PARTITIONS_ENV] = json.dumps(partitions)
    try:
        yield
    finally:
        os.environ.pop(PARTITIONS_ENV, None)
        if before is not None:
            os.environ[PARTITIONS_ENV] = before
# Folder (below the layer) -> domain; a model may say its own with `meta.domain`.
_FOLDER_DOMAINS = {
    "aws": BILLING, "azure": BILLING, "gcp": BILLING, "saas": BILLING, "billing": BILLING, "finops": BILLING,
    "telemetry": GPU_FLEET, "gpu": GPU_FLEET, "quality": QUALITY,
}
_FALLBACK_PREFIX = "dbt model "


def dbt_domain(props: Mapping[str, Any]) -> Domain:
    """The domain of a dbt node: `meta.domain`, else its folder's, else by layer."""
    meta = props.get("meta") or props.get("config", {}).get("meta") or {}
    if meta.get("domain") in DOMAINS:
        return DOMAINS[meta["domain"]]
    if props.get("resource_type") == "seed":
        return REFERENCE
    fqn = props.get("fqn", [])
    for part in fqn[1:]:
        if part in _FOLDER_DOMAINS:
            return _FOLDER_DOMAINS[part]
    if "reports" in fqn:
        return REPORTING
    return GPU_FLEET if "gpu" in props.get("name", "") else BILLING


class AtlasDbtTranslator(DagsterDbtTranslator):
    """Groups follow the dbt folder layer; raw sources map onto the ingest assets' `raw/<name>` keys,
    sources that name their asset (`meta.dagster.asset_key`: the forecast and quality outputs the
    report models read) onto that asset. Owners and the `domain` tag come from the model's domain;
    the code version covers the macros and vars a model uses, so `atlas run` rebuilds a model whose
    macro changed."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_code_references=True))
        self._vars = dbt_project_vars()

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            if (props.get("meta") or {}).get("dagster", {}).get("asset_key"):
                return spec
            return spec.replace_attributes(key=dg.AssetKey(["raw", props["name"]]))
        # Seeds are reference tables read by staging and intermediate models.
        layer = "staging" if props["resource_type"] == "seed" else None
        layer = layer or next((part for part in props.get("fqn", [])[1:] if part in LAYERS), "marts")
        domain = dbt_domain(props)
        partitions = (props.get("config", {}).get("meta") or {}).get("partitions")
        description = spec.description or ""
        if description.startswith(_FALLBACK_PREFIX):  # no yml description: say so plainly
            description = f"(no description in the model's yml) {props['resource_type']} {props['name']}"
        return spec.replace_attributes(
            key=dg.AssetKey([props["name"]]),
            group_name=layer,
            owners=list(domain.owners),
            tags={**spec.tags, **domain.tags, **({"partitioned_by": partitions} if partitions else {})},
            description=description,
            code_version=code_version(manifest, props, self._vars) or spec.code_version,
        ).merge_attributes(metadata={"partitioned_by": partitions or "unpartitioned"})


prepare_manifest()
_TRANSLATOR = AtlasDbtTranslator()


class DbtBuildConfig(dg.Config):
    """Run configuration of a dbt build (Launchpad: ops.<definition>.config)."""

    full_refresh: bool = False
    """Rebuild the incremental models from scratch (needed after changing the mappings or the seeds,
    e.g. fx_rates). A partitioned run honours it only when it covers every partition (a backfill
    of all billing periods): dropping the table while building some periods would lose the others."""


def _build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: Warehouse,
    config: DbtBuildConfig,
    partitions_def: dg.DynamicPartitionsDefinition | None = None,
) -> Iterator:
    """`dbt build` of the selected models (and their tests), the run's partitions passed as vars.

    Every event waits until dbt exits before it is yielded: DuckDB's file lock belongs to the dbt
    process while it runs, and each model's materialization then carries its columns and types as
    the warehouse has them (and for marts row count, cost totals, period covered and a preview)."""
    # dbt runs as a subprocess that inherits this environment; profiles.yml reads ATLAS_WAREHOUSE.
    os.environ.update(dbt_env(warehouse.paths()))
    # A test runs with the models it reads: when all of them are built in this invocation or
    # upstream of it (a billing run does not test the GPU allocation against billing; the
    # unpartitioned run that rebuilds the allocation does).
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")
    # dbt unit tests check the SQL against fixed inputs: they run in the test suite
    # (tests/dbt/test_empty_estate_and_dbt_unit_tests.py), never against a user's estate.
    # --no-write-json: no manifest.json / run_results.json per call (≈ 0.5 s each; the events carry
    # the results, and the parse state dbt reuses is written all the same).
    args = ["build", "--no-write-json", "--exclude-resource-type", "unit_test"]
    keys: list[str] = []
    partitions = None
    full_refresh = config.full_refresh
    if partitions_def is not None:
        keys = list(context.partition_keys)
        partitions = {PARTITION_VARS[partitions_def.name]: keys}
        if full_refresh and set(keys) != set(context.instance.get_dynamic_partitions(partitions_def.name)):
            context.log.warning("full_refresh ignored: this run builds some partitions, each replaced whole; "
                                "backfill every partition to rebuild the tables from scratch")
            full_refresh = False
        context.log.info(f"dbt builds {PARTITION_VARS[partitions_def.name]} {', '.join(keys)} "
                         f"({PARTITIONS_ENV}={json.dumps(partitions)})")
    if full_refresh:
        args.append("--full-refresh")
    if partitions_def is None:
        _ensure_partitioned_relations(context, dbt, warehouse)
    planned = len(context.selected_output_names)  # models, seeds and their tests
    tracker = progress.current().task(f"dbt {context.op_def.name.removeprefix('atlas_dbt_')}", total=planned)
    held: list = []
    try:
        with warm_parse(warehouse.paths()) as target:
            with _partitions_env(partitions):
                invocation = dbt.cli(args, context=context, target_path=target)
            for event in invocation.stream():
                tracker.advance(_event_label(context, event))
                held.append(event)
    except Exception:
        # dbt failed: what it did build is still recorded (without the warehouse metadata).
        tracker.close()
        yield from held
        raise
    tracker.close()
    _record_check_results(context, warehouse, held, keys)
    yield from _with_warehouse_metadata(context, warehouse, held, partitions_def, keys)


def _ensure_partitioned_relations(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse) -> None:
    """Partitioned models this build reads that were never built — no billing month or telemetry day
    delivered yet, so no partition ever ran (any subset of sources is an estate) — are created
    empty first: the seeds they read are loaded, then `dbt run` with no partitions named builds each
    with no rows (and the raw views of declared sources that delivered nothing, empty with their
    contract's columns). The first partition run then fills them."""
    manifest = json.loads(atlas_dbt_project().manifest_path.read_text())
    nodes = manifest["nodes"]
    selected = {key.path[-1] for key in context.selected_asset_keys}
    wanted: set[str] = set()
    stack = [uid for uid, n in nodes.items() if n["resource_type"] == "model" and n["name"] in selected]
    seen: set[str] = set()
    while stack:
        uid = stack.pop()
        if uid in seen or uid not in nodes:
            continue
        seen.add(uid)
        node = nodes[uid]
        if (node.get("config", {}).get("meta") or {}).get("partitions"):
            wanted.add(uid)
        stack.extend(node.get("depends_on", {}).get("nodes", []))
    if not wanted:
        return
    from atlas_pipeline.lib.ingest.contracts import contract_for
    from atlas_pipeline.lib.ingest.landing import ensure_manifest
    from atlas_pipeline.lib.ingest.raw_relations import empty_view_sql
    from atlas_pipeline.lib.ingest.sources import load_sources

    with warehouse.connect() as con:
        present = {(s.lower(), n.lower()) for s, n in con.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}
        missing = sorted(nodes[uid]["name"] for uid in wanted
                         if (nodes[uid]["schema"].lower(), (nodes[uid].get("alias") or nodes[uid]["name"]).lower())
                         not in present)
        if not missing:
            return
        ensure_manifest(con)
        for source in load_sources():
            if ("raw", source.name.lower()) not in present:
                con.execute(empty_view_sql(source.name, contract_for(source.name)))
    context.log.info(f"no partition of {', '.join(missing)} was ever built (nothing delivered yet): creating them empty")
    empty = {name: [] for name in PARTITION_VARS.values()}
    # With the seeds they read (reference.*: FX rates, pricing units, service categories): this runs
    # before the build that loads the seeds, and on a new warehouse there are none yet. One dbt
    # invocation (seeds before models, in dependency order), no tests: nothing is in them yet.
    seeds = [f"+{name},resource_type:seed" for name in missing]
    with warm_parse(warehouse.paths()) as target, _partitions_env(empty):
        dbt.cli(["build", "--no-write-json", "--select", " ".join([*missing, *seeds]), "--exclude-resource-type", "test",
                 "--exclude-resource-type", "unit_test"], manifest=manifest, raise_on_error=True,
                target_path=target).wait()


def _record_check_results(context: dg.AssetExecutionContext, warehouse: Warehouse, events: list, keys: list[str]) -> None:
    """The dbt tests' outcomes into the data-quality report, per partition the run built."""
    results = [
        CheckResult(event.asset_key.to_user_string(), key, event.check_name,
                    status_of(event.passed, event.severity == dg.AssetCheckSeverity.ERROR))
        for event in events if isinstance(event, dg.AssetCheckResult) and event.asset_key is not None
        for key in keys or ["all"]
    ]
    try:
        with warehouse.connect() as con:
            record_results(con, context.run_id, results)
    except duckdb.Error as exc:
        context.log.warning(f"dbt test outcomes not recorded in the quality report: {exc}")


def _event_label(context: dg.AssetExecutionContext, event: Any) -> str:
    key = _event_asset_key(context, event)
    return key.to_user_string() if key else type(event).__name__


def _event_asset_key(context: dg.AssetExecutionContext, event: Any) -> dg.AssetKey | None:
    if isinstance(event, dg.Output):
        return context.asset_key_for_output(event.output_name)
    return getattr(event, "asset_key", None)


def _relations(context: dg.AssetExecutionContext, events: list) -> dict[str, tuple[str, str, dict]]:
    """output name -> (schema, relation name, dbt node) of each model or seed the events built."""
    manifest = atlas_dbt_project().manifest_path
    nodes = {n["name"]: n for n in json.loads(manifest.read_text())["nodes"].values()
             if n["resource_type"] in ("model", "seed")}
    found = {}
    for event in events:
        if isinstance(event, dg.Output):
            node = nodes.get(context.asset_key_for_output(event.output_name).path[-1])
            if node:
                found[event.output_name] = (node["schema"], node.get("alias") or node["name"], node)
    return found


def _column_schema(columns: list[tuple[str, str]], node: dict, described: dict[str, str]) -> dg.TableSchema:
    """The warehouse's columns and types, each described by the model's yml, else by the same column
    documented elsewhere in the project."""
    own = {name.lower(): (c.get("description") or "").strip() for name, c in (node.get("columns") or {}).items()}
    return dg.TableSchema(columns=[
        dg.TableColumn(name=name, type=kind, description=own.get(name.lower()) or describe_column(name, described))
        for name, kind in columns
    ])


def _partition_rows(con: duckdb.DuckDBPyConnection, schema: str, name: str, columns: list[tuple[str, str]],
                    partitions_def: dg.DynamicPartitionsDefinition | None, keys: list[str]) -> int | None:
    """Rows of a table (a partitioned table: rows of the run's partitions). None for views, whose
    count would re-read their sources."""
    kind = con.execute(
        "select table_type from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()
    if not kind or kind[0] != "BASE TABLE":
        return None
    present = {c.lower(): c for c, _ in columns}
    where = ""
    if partitions_def is not None and keys:
        billing = partitions_def.name == BILLING_PERIODS
        candidates = ("x_billing_period", "billing_period") if billing else ("sample_date", "usage_date")
        column = next((present[c] for c in candidates if c in present), None)
        if column:
            where = f' where cast("{column}" as varchar) in (' + ", ".join(f"'{k}'" for k in keys) + ")"
    return con.execute(f'select count(*) from "{schema}"."{name}"{where}').fetchone()[0]


def _with_warehouse_metadata(context: dg.AssetExecutionContext, warehouse: Warehouse, events: list,
                             partitions_def: dg.DynamicPartitionsDefinition | None, keys: list[str]) -> Iterator:
    """The held events, each model's Output enriched with its columns (and rows; marts: totals)."""
    relations = _relations(context, events)
    extra: dict[str, dict[str, Any]] = {}
    try:
        manifest = json.loads(atlas_dbt_project().manifest_path.read_text())
        described = column_descriptions(manifest)
        with warehouse.connect(read_only=True) as con:
            columns = warehouse_columns(con, [(s, n) for s, n, _ in relations.values()])
            for output, (schema, name, node) in relations.items():
                found = columns.get((schema.lower(), name.lower()))
                if not found:
                    continue
                meta: dict[str, Any] = {"dagster/column_schema": _column_schema(found, node, described)}
                # A mart's whole table as it stands after the build (every period, for a partitioned one).
                facts = describe_table(con, schema, name) if "marts" in node.get("fqn", []) else None
                rows = _partition_rows(con, schema, name, found, partitions_def, keys)
                if rows is None and facts:  # a mart that is a view: describe_table counted it already
                    rows = facts["row_count"]
                if rows is not None:
                    meta["dagster/row_count"] = dg.MetadataValue.int(rows)
                if facts:
                    meta["preview"] = dg.MetadataValue.md(facts["preview"])
                    if "period" in facts:
                        meta["period_covered"] = dg.MetadataValue.json(facts["period"])
                    if "cost_totals" in facts:
                        meta["cost_totals"] = dg.MetadataValue.json(facts["cost_totals"])
                    if partitions_def is not None:
                        meta["table_rows_all_partitions"] = dg.MetadataValue.int(facts["row_count"])
                extra[output] = meta
    except duckdb.Error as exc:  # e.g. another run holds the writer lock; the build itself succeeded
        context.log.warning(f"model metadata skipped, warehouse not readable now: {exc}")
    for event in events:
        if isinstance(event, dg.Output) and event.output_name in extra:
            event = event.with_metadata({**event.metadata, **extra[event.output_name]})
        yield event


_MANIFEST = atlas_dbt_project().manifest_path


def _partition_select(manifest_path: Path, partitions: str) -> str:
    """The dbt selection of a partitioned definition: its models, and the tests on them that also
    read a seed the models do not (e.g. focus_service_subcategory_is_allowed reads the FOCUS
    subcategory list): indirect selection (`buildable`) would leave those out, and Dagster would
    plan a check that never runs. Seeds are built before any partition run."""
    nodes = json.loads(manifest_path.read_text())["nodes"]

    def in_partition(uid: str) -> bool:
        return ((nodes.get(uid) or {}).get("config", {}).get("meta") or {}).get("partitions") == partitions

    tests = []
    for node in nodes.values():
        parents = node.get("depends_on", {}).get("nodes", [])
        others = [p for p in parents if not in_partition(p)]
        if (node["resource_type"] == "test" and len(others) < len(parents) and others
                and all(p.startswith("seed.") for p in others)):
            tests.append(node["name"])
    return " ".join([PARTITION_SELECT[partitions], *sorted(tests)])


def _unpartitioned_selection(manifest_path: Path) -> tuple[str, str]:
    """(select, exclude) of the unpartitioned definition, by name: its models, seeds and snapshots,
    less the tests that are checks of a partitioned model (they run with their partition's build).

    Not `--exclude config.meta.partitions:...`: dagster-dbt evaluates a selection with eager
    indirect selection, under which excluding a partitioned model also excludes every test that
    reads it, so a singular test of an unpartitioned model that also reads a partitioned one
    (assert_gpu_cost_reconciles_to_billing: fct_gpu_cost_allocation against focus_cost_and_usage)
    was no check of any definition, while `dbt build` (buildable indirect selection) still ran it.
    Naming the nodes makes both readings agree: the test attaches to its model's definition, is a
    check there (blocking when severity error) and runs in that build."""
    manifest = json.loads(manifest_path.read_text())
    nodes = manifest["nodes"]

    def partitioned(uid: str) -> bool:
        return bool(((nodes.get(uid) or {}).get("config", {}).get("meta") or {}).get("partitions"))

    names = sorted(n["name"] for uid, n in nodes.items()
                   if n["resource_type"] in ("model", "seed", "snapshot") and not partitioned(uid))
    by_name = {n["name"]: uid for uid, n in nodes.items() if n["resource_type"] != "test"}
    partition_tests = sorted(node["name"] for node in nodes.values()
                             if node["resource_type"] == "test" and partitioned(_checked_node(node, by_name)))
    return " ".join(names), " ".join(partition_tests)


def _checked_node(test: Mapping[str, Any], by_name: Mapping[str, str]) -> str:
    """The node a dbt test is a check of, as dagster-dbt decides (get_asset_check_key_for_test):
    `meta.dagster.ref`, else its only parent, else the node a generic test is attached to."""
    ref = ((test.get("config", {}).get("meta") or test.get("meta") or {}).get("dagster") or {}).get("ref") or {}
    if ref.get("name"):
        return by_name.get(ref["name"], "")
    parents = test.get("depends_on", {}).get("nodes", [])
    return parents[0] if len(parents) == 1 else test.get("attached_node") or ""


_UNPARTITIONED_SELECT, _UNPARTITIONED_EXCLUDE = _unpartitioned_selection(_MANIFEST)


def _partitioned_dbt_assets(partitions_def: dg.DynamicPartitionsDefinition, name: str, doc: str):
    """The dbt models whose partitions are `partitions_def`'s keys, as one partitioned definition
    (Dagster needs one decorated function per partitions definition; they differ only in these)."""

    def build(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse, config: DbtBuildConfig
    ) -> Iterator:
        yield from _build(context, dbt, warehouse, config, partitions_def)

    build.__doc__ = doc  # the op's description in the UI
    return dbt_assets(
        manifest=_MANIFEST,
        project=atlas_dbt_project(),
        select=_partition_select(_MANIFEST, partitions_def.name),
        partitions_def=partitions_def,
        backfill_policy=SINGLE_RUN,
        dagster_dbt_translator=_TRANSLATOR,
        name=name,
    )(build)


atlas_dbt_billing = _partitioned_dbt_assets(
    billing_periods, "atlas_dbt_billing",
    """Build and test the billing models for the run's billing periods: staging, FOCUS intermediate
    models, `focus_cost_and_usage` and `fct_cost_daily` (each period deleted and inserted whole).""",
)

atlas_dbt_telemetry = _partitioned_dbt_assets(
    telemetry_days, "atlas_dbt_telemetry",
    """Build and test the per-reading GPU telemetry models for the run's UTC days (each day deleted
    and inserted whole in `int_gpu_samples` and `fct_gpu_usage_hourly`).""",
)


@dbt_assets(
    manifest=_MANIFEST,
    project=atlas_dbt_project(),
    select=_UNPARTITIONED_SELECT,
    exclude=_UNPARTITIONED_EXCLUDE,
    dagster_dbt_translator=_TRANSLATOR,
    name="atlas_dbt_models",
)
def atlas_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse, config: DbtBuildConfig
) -> Iterator:
    """Build and test the unpartitioned models: seeds, node inventory, Slurm jobs, the GPU marts
    built from whole history, the quality ledgers, the views and the rpt_* report views."""
    yield from _build(context, dbt, warehouse, config)
