"""The declared Kubernetes namespace / pod -> team rules, as the table `raw.kubernetes_teams`."""


import dagster as dg

from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.kubernetes_teams import load_kubernetes_teams, write_kubernetes_teams
from atlas_pipeline.lib.settings import DECLARATIONS_DIR

RULES_FILE = DECLARATIONS_DIR / "kubernetes_teams.yaml"


@dg.asset(key=dg.AssetKey(["raw", "kubernetes_teams"]), group_name="ingest", kinds={"duckdb"})
def kubernetes_teams(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Which team pays for a Kubernetes pod's GPU time: the namespace / pod / container rules of
    `assets/kubernetes_teams.yaml` (first match wins), as `raw.kubernetes_teams`. Pods come from
    dcgm-exporter's pod mapping labels; no rule means the pod's namespace names the team."""
    rules = load_kubernetes_teams(RULES_FILE)
    with warehouse.connect() as con:
        rows = write_kubernetes_teams(con, rules)
    context.log.info(f"{rows} Kubernetes team rule(s) from {RULES_FILE.name}")
    return dg.MaterializeResult(metadata={"rules": dg.MetadataValue.int(rows), "declared_in": str(RULES_FILE)})


@dg.definitions
def kubernetes_teams_defs() -> dg.Definitions:
    return dg.Definitions(assets=[kubernetes_teams])
