"""dbt models as Dagster assets; dbt tests surface as asset checks (blocking when severity error)."""


import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.dbt_project import atlas_dbt_project, dbt_env, prepare_manifest
from atlas_pipeline.lib.table_metadata import describe_table

LAYERS = ("staging", "intermediate", "marts", "reports")


class AtlasDbtTranslator(DagsterDbtTranslator):
    """Groups follow the dbt folder layer; raw sources map onto the ingest assets' `raw/<name>` keys,
    sources that name their asset (`meta.dagster.asset_key`: the forecast and quality outputs the
    report models read) onto that asset."""

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
        return spec.replace_attributes(key=dg.AssetKey([props["name"]]), group_name=layer)


prepare_manifest()


class DbtBuildConfig(dg.Config):
    """Run configuration of the dbt build (Launchpad: ops.atlas_dbt_models.config)."""

    full_refresh: bool = False
    """Rebuild incremental billing marts for every billing period, not only the periods with new
    deliveries (needed after changing the mappings or the seeds, e.g. fx_rates)."""


@dbt_assets(
    manifest=atlas_dbt_project().manifest_path,
    project=atlas_dbt_project(),
    dagster_dbt_translator=AtlasDbtTranslator(),
)
def atlas_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse, config: DbtBuildConfig
) -> Iterator:
    """Build and test the warehouse models (staging, intermediate, marts) with `dbt build`.

    The billing marts are incremental: only billing periods with a delivery landed since their
    last build are rebuilt (whole), unless `full_refresh` is set. Mart materializations carry row
    count, cost totals per currency, period covered and a preview of the top rows, queried once
    dbt has finished."""
    # dbt runs as a subprocess that inherits this environment; profiles.yml reads ATLAS_WAREHOUSE.
    os.environ.update(dbt_env(warehouse.paths()))
    # Mart events wait until dbt exits: DuckDB's file lock belongs to the dbt process while it runs
    # (which is also why dagster-dbt's fetch_row_counts(), querying during the build, is not used).
    # From the first mart on everything waits, so events keep dbt's (topological) order.
    held: list = []
    try:
        # dbt unit tests check the SQL against fixed inputs: they run in the test suite
        # (tests/unit/test_dbt_unit_tests.py), never against a user's estate.
        args = ["build", "--exclude-resource-type", "unit_test", *(["--full-refresh"] if config.full_refresh else [])]
        for event in dbt.cli(args, context=context).stream():
            if held or _is_mart_event(context, event):
                held.append(event)
            else:
                yield event
    except Exception:
        # dbt failed: the marts it did build are still recorded (without the extra metadata).
        yield from held
        raise
    yield from _with_table_metadata(context, warehouse, held)


def _event_asset_key(context: dg.AssetExecutionContext, event: Any) -> dg.AssetKey | None:
    if isinstance(event, dg.Output):
        return context.asset_key_for_output(event.output_name)
    return getattr(event, "asset_key", None)


def _is_mart_event(context: dg.AssetExecutionContext, event: Any) -> bool:
    key = _event_asset_key(context, event)
    spec = context.assets_def.specs_by_key.get(key) if key else None
    return spec is not None and spec.group_name == "marts"


def _with_table_metadata(context: dg.AssetExecutionContext, warehouse: Warehouse, events: list) -> Iterator:
    """The held mart events, each Output enriched with what its table holds."""
    names = {e.output_name: context.asset_key_for_output(e.output_name).path[-1] for e in events if isinstance(e, dg.Output)}
    facts: dict[str, dict[str, Any] | None] = {}
    try:
        with warehouse.connect(read_only=True) as con:
            facts = {output: describe_table(con, "main", name) for output, name in names.items()}
    except duckdb.Error as exc:  # e.g. another run holds the writer lock; the build itself succeeded
        context.log.warning(f"mart metadata skipped, warehouse not readable now: {exc}")
    for event in events:
        found = facts.get(event.output_name) if isinstance(event, dg.Output) else None
        if found:
            extra: dict[str, Any] = {
                "dagster/row_count": dg.MetadataValue.int(found["row_count"]),
                "preview": dg.MetadataValue.md(found["preview"]),
            }
            if "period" in found:
                extra["period_covered"] = dg.MetadataValue.json(found["period"])
            if "cost_totals" in found:
                extra["cost_totals"] = dg.MetadataValue.json(found["cost_totals"])
            event = event.with_metadata({**event.metadata, **extra})
        yield event
