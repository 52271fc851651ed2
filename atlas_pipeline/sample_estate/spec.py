"""What the sample estate contains: its size parameters and the organisation behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# Teams own workloads; every provider tags resources with the same team names
# (AWS `user_team`, GCP label `team`, Azure tag `team`) so allocation can join them.
TEAMS: tuple[str, ...] = ("ml-research", "ml-platform", "data-eng", "web", "search")
PROJECTS: dict[str, str] = {
    "ml-research": "llm-pretrain",
    "ml-platform": "inference",
    "data-eng": "lakehouse",
    "web": "storefront",
    "search": "ranking",
}


@dataclass(frozen=True)
class GpuHost:
    """One GPU node: billed by its cloud as one instance, observed by DCGM, scheduled by Slurm."""

    hostname: str
    cluster: str
    provider: str  # aws | gcp | azure
    instance_type: str  # p5.48xlarge | a3-highgpu-8g | Standard_ND96isr_H100_v5
    resource_id: str  # the id the provider's billing export uses for the instance
    region: str
    gpu_model: str  # DCGM `modelName`
    gpu_count: int
    # The host's bill is covered by a commitment (AWS Savings Plan / Azure reservation).
    committed: bool = False


def default_fleet() -> tuple[GpuHost, ...]:
    """The GPU fleet of the sample organisation: 4 hosts x 8 H100s, one Slurm cluster per cloud."""
    return (
        GpuHost(
            hostname="aws-p5-001",
            cluster="aws-train",
            provider="aws",
            instance_type="p5.48xlarge",
            resource_id="i-0a1b2c3d4e5f60001",
            region="us-east-1",
            gpu_model="NVIDIA H100 80GB HBM3",
            gpu_count=8,
            committed=True,
        ),
        GpuHost(
            hostname="aws-p5-002",
            cluster="aws-train",
            provider="aws",
            instance_type="p5.48xlarge",
            resource_id="i-0a1b2c3d4e5f60002",
            region="us-east-1",
            gpu_model="NVIDIA H100 80GB HBM3",
            gpu_count=8,
        ),
        GpuHost(
            hostname="gcp-a3-001",
            cluster="gcp-infer",
            provider="gcp",
            instance_type="a3-highgpu-8g",
            resource_id="projects/atlas-ml-prod/zones/us-central1-a/instances/gcp-a3-001",
            region="us-central1",
            gpu_model="NVIDIA H100 80GB HBM3",
            gpu_count=8,
        ),
        GpuHost(
            hostname="azure-nd-001",
            cluster="azure-train",
            provider="azure",
            instance_type="Standard_ND96isr_H100_v5",
            resource_id=(
                "/subscriptions/7d3c1f52-3b1e-4c8a-9d2e-5a6b7c8d9e01/resourceGroups/rg-ml-train"
                "/providers/Microsoft.Compute/virtualMachines/azure-nd-001"
            ),
            region="eastus",
            gpu_model="NVIDIA H100 80GB HBM3",
            gpu_count=8,
            committed=True,
        ),
    )


def scaled_fleet(hosts: int, gpus_per_host: int = 8) -> tuple[GpuHost, ...]:
    """A fleet of `hosts` p5.48xlarge-like nodes (8 x H100 by default) for scale runs: 1,000 GPUs
    is `scaled_fleet(125)`. Clusters of 32 nodes each, so job peers and racks stay realistic."""
    return tuple(
        GpuHost(
            hostname=f"gpu-{i:05d}",
            cluster=f"scale-{i // 32:03d}",
            provider="aws",
            instance_type="p5.48xlarge",
            resource_id=f"i-0scale{i:012d}",
            region="us-east-1",
            gpu_model="NVIDIA H100 80GB HBM3",
            gpu_count=gpus_per_host,
        )
        for i in range(hosts)
    )


def default_onprem_fleet() -> tuple[GpuHost, ...]:
    """On-premises GPU nodes: no cloud bill (priced from `assets/gpu_pricing.yaml`), observed by a
    Prometheus server (range-query JSON export) and by `nvidia-smi --query-gpu` CSV logs."""
    return (
        GpuHost(
            hostname="lab-dgx-001",
            cluster="onprem-lab",
            provider="onprem",
            instance_type="DGX A100",
            resource_id="onprem/lab/lab-dgx-001",
            region="lab-rack-a",
            gpu_model="NVIDIA A100-SXM4-80GB",
            gpu_count=8,
        ),
        GpuHost(
            hostname="lab-dgx-002",
            cluster="onprem-lab",
            provider="onprem",
            instance_type="DGX A100",
            resource_id="onprem/lab/lab-dgx-002",
            region="lab-rack-a",
            gpu_model="NVIDIA A100-SXM4-80GB",
            gpu_count=8,
        ),
    )


@dataclass(frozen=True)
class GpuFault:
    """A fault injected into generated telemetry, which the health marts must find.

    kind: `straggler` (the GPU runs at `severity` x its job's activity and SM clock while busy),
    `thermal_throttle` (hot and throttled from `start_hour` for `hours` each day, clocks x severity),
    `power_step` (the whole node idles, then jumps to `severity` x TDP, at most TDP, at `start_hour`
    each day, for one sample), `xid` (XID `code` raised at `start_hour` each day; the DCGM gauge
    then holds it for the rest of the day).
    """

    kind: str
    hostname: str
    gpu_index: int = 0
    start_hour: float = 0.0
    hours: float = 0.0
    severity: float = 1.0
    code: int = 0


def default_faults() -> tuple[GpuFault, ...]:
    """One fault of each kind, on hosts of the default fleet; every other GPU is healthy."""
    return (
        GpuFault("straggler", "aws-p5-001", gpu_index=3, severity=0.6),
        GpuFault("thermal_throttle", "gcp-a3-001", gpu_index=5, start_hour=13, hours=2, severity=0.7),
        GpuFault("power_step", "gcp-a3-001", start_hour=12, severity=1.0),
        GpuFault("xid", "aws-p5-001", gpu_index=6, start_hour=9, code=79),
        GpuFault("xid", "gcp-a3-001", gpu_index=2, start_hour=17, code=13),
    )


@dataclass(frozen=True)
class EstateSpec:
    """Size and shape of a generated estate. Same seed and spec -> byte-identical files."""

    seed: int = 42
    start_month: date = date(2026, 8, 1)  # first billing period (first day of a month)
    months: int = 3
    # Billing line items per month across all providers (split ~50% AWS, 25% GCP, 25% Azure),
    # on top of the GPU hosts' own hourly lines. Benchmarks raise this to millions.
    line_items_per_month: int = 20_000
    fleet: tuple[GpuHost, ...] = field(default_factory=default_fleet)
    # DCGM sampling interval. Real dcgm-exporter scrapes every 30 s; the sample estate ships a
    # downsampled export so `make run` stays quick.
    telemetry_interval_seconds: int = 600
    # Only the last N days of the estate get DCGM samples (None = every day).
    telemetry_days: int | None = None
    # GPU nodes with no cloud bill (their telemetry comes as Prometheus JSON and nvidia-smi CSV).
    onprem_fleet: tuple[GpuHost, ...] = field(default_factory=default_onprem_fleet)
    # Faults injected into the telemetry (stragglers, throttling, a power step, XIDs).
    faults: tuple[GpuFault, ...] = field(default_factory=default_faults)

    @property
    def gpu_hosts(self) -> tuple[GpuHost, ...]:
        """Every GPU node: the cloud fleet, then the on-premises nodes."""
        return self.fleet + self.onprem_fleet

    @property
    def billing_periods(self) -> list[date]:
        """First day of each billing period, in order."""
        periods = []
        y, m = self.start_month.year, self.start_month.month
        for _ in range(self.months):
            periods.append(date(y, m, 1))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return periods

    @property
    def end_exclusive(self) -> date:
        """First day after the estate (exclusive end of the last billing period)."""
        last = self.billing_periods[-1]
        return date(last.year + 1, 1, 1) if last.month == 12 else date(last.year, last.month + 1, 1)
