"""What the asset catalog says about ownership: each asset belongs to one domain, and a domain has
its owners and a `domain` tag (filter the UI's catalog by `domain=billing`). Groups say the stage
(ingest -> staging -> intermediate -> marts -> forecasts -> reports, left to right in the lineage
view); the domain says who answers for the data."""

from __future__ import annotations

from dataclasses import dataclass

# The stages, in lineage order: every asset's group is one of these, and no asset depends on an
# asset of a later stage (tests/unit/test_definitions.py).
STAGES = ("ingest", "staging", "intermediate", "marts", "forecasts", "reports")


@dataclass(frozen=True)
class Domain:
    name: str
    owners: tuple[str, ...]
    description: str

    @property
    def tags(self) -> dict[str, str]:
        return {"domain": self.name}


BILLING = Domain("billing", ("team:finops",), "cloud and SaaS billing exports, FOCUS cost")
GPU_FLEET = Domain("gpu_fleet", ("team:gpu-platform",), "GPU telemetry, job accounting, GPU cost and health")
QUALITY = Domain("quality", ("team:data-platform",), "row conservation, reconciliation, check results")
FORECASTING = Domain("forecasting", ("team:finops",), "forecasts, anomalies, budgets")
REPORTING = Domain("reporting", ("team:finops",), "report views, the dashboard's tables, the overview page")
REFERENCE = Domain("reference", ("team:data-platform",), "reference tables (seeds): FX rates, service maps, GPU specs")

DOMAINS = {d.name: d for d in (BILLING, GPU_FLEET, QUALITY, FORECASTING, REPORTING, REFERENCE)}


def source_domain(partitioning: str) -> Domain:
    """Billing sources are partitioned by billing period; everything else Atlas ingests (telemetry,
    job accounting, the node inventory) belongs to the GPU fleet."""
    return BILLING if partitioning == "billing_period" else GPU_FLEET
