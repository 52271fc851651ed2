"""Generate the whole sample estate: three clouds' billing exports, then the GPU telemetry.

`generate_estate(out_dir, spec)` writes files laid out as the providers lay out their buckets
(see `layout.py`) and returns an `EstateSummary` whose invoice totals were computed, with Decimal,
from the exact values written, so tests and reconciliation checks can compare against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from atlas_pipeline.sample_estate.aws_cur2 import write_aws_cur2
from atlas_pipeline.sample_estate.azure_cost_details import write_azure_cost_details
from atlas_pipeline.sample_estate.billing_primitives import BillingKey, BillingOutput
from atlas_pipeline.sample_estate.gcp_billing import write_gcp_billing
from atlas_pipeline.sample_estate.spec import EstateSpec

PROVIDERS = ("aws", "gcp", "azure")


@dataclass
class EstateSummary:
    """What was generated.

    billed_cost: invoice total per (provider, billing_account_id, 'YYYY-MM'): AWS Σ
        line_item_unblended_cost over all line types; GCP Σ cost + Σ credits.amount; Azure Σ
        CostInBillingCurrency of the *actual* export.
    amortized_cost: same keys. AWS: Savings Plan covered usage at its effective cost plus unused
        commitment, negations excluded (see aws_cur2.py); GCP: equal to billed; Azure: Σ
        CostInBillingCurrency of the *amortized* export.
    row_counts: data rows per file kind (aws_cur2, gcp_billing, azure_actual, azure_amortized) and
        the number of telemetry files (telemetry_files).
    """

    files: list[Path] = field(default_factory=list)
    billed_cost: dict[BillingKey, Decimal] = field(default_factory=dict)
    amortized_cost: dict[BillingKey, Decimal] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)

    def _merge(self, part: BillingOutput) -> None:
        self.files.extend(part.files)
        self.billed_cost.update(part.billed_cost)
        self.amortized_cost.update(part.amortized_cost)
        for kind, rows in part.row_counts.items():
            self.row_counts[kind] = self.row_counts.get(kind, 0) + rows


def generate_billing(out_dir: Path, spec: EstateSpec = EstateSpec()) -> EstateSummary:  # noqa: B008
    """Only the billing exports (AWS CUR 2.0, GCP billing export, Azure cost details)."""
    out_dir = Path(out_dir)
    summary = EstateSummary()
    for write in (write_aws_cur2, write_gcp_billing, write_azure_cost_details):
        summary._merge(write(out_dir, spec))
    return summary


def generate_estate(out_dir: Path, spec: EstateSpec = EstateSpec()) -> EstateSummary:  # noqa: B008
    """Billing exports for every provider, then GPU telemetry (DCGM, Slurm, node inventory)."""
    out_dir = Path(out_dir)
    summary = generate_billing(out_dir, spec)
    # Imported here: telemetry is its own module with its own dependencies and pace of change.
    from atlas_pipeline.sample_estate.telemetry import generate_telemetry

    telemetry_files = list(generate_telemetry(out_dir, spec))
    summary.files.extend(telemetry_files)
    summary.row_counts["telemetry_files"] = len(telemetry_files)
    return summary


def summary_lines(summary: EstateSummary, out_dir: Path | None = None) -> list[str]:
    """One line per provider (account, periods, rows, billed and amortized totals, files), then telemetry."""
    lines = []
    for provider in PROVIDERS:
        keys = sorted(k for k in summary.billed_cost if k[0] == provider)
        if not keys:
            continue
        accounts = ", ".join(sorted({k[1] for k in keys}))
        periods = f"{keys[0][2]}..{keys[-1][2]}" if len(keys) > 1 else keys[0][2]
        billed = sum((summary.billed_cost[k] for k in keys), Decimal(0))
        amortized = sum((summary.amortized_cost.get(k, Decimal(0)) for k in keys), Decimal(0))
        rows = " + ".join(
            f"{v:,} {kind.removeprefix(provider + '_')}"
            for kind, v in sorted(summary.row_counts.items())
            if kind.startswith(provider)
        )
        files = sum(1 for f in summary.files if _provider_of(f, out_dir) == provider)
        lines.append(
            f"{provider:<6} account {accounts:<22} {periods}  rows {rows}  "
            f"billed {billed:>16,.2f} USD  amortized {amortized:>16,.2f} USD  files {files}"
        )
    if "telemetry_files" in summary.row_counts:
        lines.append(f"{'gpu':<6} telemetry files {summary.row_counts['telemetry_files']:,}")
    return lines


def _provider_of(path: Path, out_dir: Path | None) -> str:
    parts = path.relative_to(out_dir).parts if out_dir is not None else path.parts
    for provider in PROVIDERS:
        if provider in parts:
            return provider
    return ""
