"""The declared Kubernetes namespace / pod -> team rules, as the table `raw.kubernetes_teams`."""


import dagster as dg

from atlas_pipeline.defs.catalog import GPU_FLEET
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.ingest.kubernetes_teams import load_kubernetes_teams, write_kubernetes_teams
from atlas_pipeline.lib.run.run_plan import DECLARATION_FILE_KEY, DECLARATION_SHA_KEY, declaration_sha256
from atlas_pipeline.lib.settings import declaration_file

RULES_FILE_NAME = "kubernetes_teams.yaml"


@dg.asset(
    key=dg.AssetKey(["raw", "kubernetes_teams"]), group_name="ingest", kinds={"duckdb"},
    owners=list(GPU_FLEET.owners), tags=GPU_FLEET.tags,
    metadata={DECLARATION_FILE_KEY: RULES_FILE_NAME, "dagster/table_name": "raw.kubernetes_teams"},
)
def kubernetes_teams(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Which team pays for a Kubernetes pod's GPU time: the namespace / pod / container rules of
    `kubernetes_teams.yaml` of the declarations folder (`$ATLAS_ASSETS`, else the repository's
    `assets/`; first match wins), as `raw.kubernetes_teams`. Pods come from dcgm-exporter's pod
    mapping labels; no rule (or no file) means the pod's namespace names the team."""
    path = declaration_file(RULES_FILE_NAME)
    rules = load_kubernetes_teams(path) if path else []
    with warehouse.connect() as con:
        rows = write_kubernetes_teams(con, rules)
    declared_in = str(path) if path else f"(no {RULES_FILE_NAME} in the declarations folder)"
    context.log.info(f"{rows} Kubernetes team rule(s) from {declared_in}")
    return dg.MaterializeResult(metadata={
        "rules": dg.MetadataValue.int(rows), "declared_in": declared_in,
        DECLARATION_SHA_KEY: declaration_sha256(path),
    })


@dg.definitions
def kubernetes_teams_defs() -> dg.Definitions:
    return dg.Definitions(assets=[kubernetes_teams])
