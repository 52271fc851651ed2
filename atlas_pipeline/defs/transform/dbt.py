"""dbt models as Dagster assets; dbt tests surface as asset checks (blocking when severity error)."""


import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.dbt_project import atlas_dbt_project, dbt_env, prepare_manifest

LAYERS = ("staging", "intermediate", "marts")


class AtlasDbtTranslator(DagsterDbtTranslator):
    """Groups follow the dbt folder layer; raw sources map onto the ingest assets' `raw/<name>` keys."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
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
    last build are rebuilt (whole), unless `full_refresh` is set."""
    # dbt runs as a subprocess that inherits this environment; profiles.yml reads ATLAS_WAREHOUSE.
    os.environ.update(dbt_env(warehouse.paths()))
    args = ["build", *(["--full-refresh"] if config.full_refresh else [])]
    yield from dbt.cli(args, context=context).stream()
