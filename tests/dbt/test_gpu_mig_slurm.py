"""MIG on Slurm: Slurm hands a MIG slice out as a GPU, typed with its profile (AllocTRES as sacct
prints it, from neilmunday/slurm-mail issue 142: `gres/gpu:a100_3g.20gb=1,gres/gpu=1`). Counted as
whole GPUs, two 3g jobs and a 1g job on one A100 held 2 2/7 GPU-hours of a GPU that had 2, and cost
was allocated as if the node had three GPUs. One on-prem node `s-0` (cluster `slurm-mig`, one
A100-SXM4-40GB split 3g.20gb + 3g.20gb + 1g.5gb, 2.00 USD per GPU-hour), 2026-11-05:

    job 101 (team-a) a100_3g.20gb  00:00-02:00  3/7 x 2 h = 6/7 GPU-hours  = 1.714 USD
    job 102 (team-a) a100_3g.20gb  00:00-02:00  3/7 x 2 h = 6/7            = 1.714
    job 103 (team-b) a100_1g.5gb   00:00-01:00  1/7 x 1 h = 1/7            = 0.286
    job 104 (team-b) whole GPU on `w-0` (an H100, typed h100) 00:00-01:00: 1 GPU-hour, as before

In no hour do s-0's allocations exceed its one GPU (00-01: 7/7, 01-02: 6/7)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

pytestmark = pytest.mark.dbt

SACCT_FIELDS = "JobID|JobIDRaw|JobName|Account|AllocTRES|NodeList|Start|End|Elapsed|State"


def job(jid: str, team: str, tres: str, node: str, start: str, end: str) -> str:
    return f"{jid}|{jid}|job-{jid}|{team}|{tres}|{node}|2026-11-05T{start}:00|2026-11-05T{end}:00|00:00:00|COMPLETED"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, land_estate, dbt) -> Path:
    root = tmp_path_factory.mktemp("mig_slurm")
    telemetry = root / "exports" / "telemetry"
    (telemetry / "inventory").mkdir(parents=True)
    (telemetry / "inventory" / "nodes.csv").write_text(
        "hostname,cluster,gpu_model,gpu_count\n"
        "s-0,slurm-mig,NVIDIA A100-SXM4-40GB,1\nw-0,slurm-mig,NVIDIA H100 80GB HBM3,1\n")
    sacct = telemetry / "slurm" / "slurm-mig" / "2026-11-05.sacct.txt"
    sacct.parent.mkdir(parents=True)
    mig3 = "billing=64,cpu=9,gres/cpu=9,gres/gpu:a100_3g.20gb=1,gres/gpu=1,mem=60G,node=1"
    sacct.write_text("\n".join([
        SACCT_FIELDS,
        job("101", "team-a", mig3, "s-0", "00:00", "02:00"),
        job("102", "team-a", mig3, "s-0", "00:00", "02:00"),
        job("103", "team-b", "cpu=2,gres/gpu:a100_1g.5gb=1,gres/gpu=1,node=1", "s-0", "00:00", "01:00"),
        job("104", "team-b", "billing=192,cpu=16,gres/cpu=16,gres/gpu:h100=1,gres/gpu=1,mem=180G,node=1", "w-0",
            "00:00", "01:00"),
    ]) + "\n")
    assets = root / "assets"
    assets.mkdir()
    (assets / "gpu_pricing.yaml").write_text(
        'currency: USD\nclusters:\n  - cluster: slurm-mig\n    price_per_gpu_hour: "2.00"\n    effective_from: 2026-01-01\n')
    (assets / "kubernetes_teams.yaml").write_text("rules: []\n")
    warehouse = root / "warehouse.duckdb"
    land_estate(root / "exports", warehouse, root, {"gpu_nodes", "slurm_jobs"}, assets=assets)
    result = dbt(warehouse, root, "build", "--indirect-selection", "cautious", "--select", "+fct_gpu_cost_allocation",
                 "+int_gpu_node_occupancy_intervals")
    assert result.returncode == 0, result.stdout[-6000:]
    return warehouse


def test_sacct_mig_slices_are_read_from_the_typed_gres(db, query) -> None:
    assert query(db, "select job_id, gpu_count, gpu_mig_instances, gpu_mig_compute_slices from staging.stg_slurm__jobs "
                     "order by 1") == [("101", 1, 1, 3), ("102", 1, 1, 3), ("103", 1, 1, 1), ("104", 1, 0, 0)]


def test_a_mig_slice_holds_its_share_of_the_gpu_and_the_node_is_never_over_allocated(db, query) -> None:
    assert query(db, "select job_key, round(sum(gpu_seconds) / 3600, 6) from intermediate.int_gpu_job_hours "
                     "group by 1 order by 1") == [
        ("slurm-mig:101", round(6 / 7, 6)), ("slurm-mig:102", round(6 / 7, 6)), ("slurm-mig:103", round(1 / 7, 6)),
        ("slurm-mig:104", 1.0)]
    assert query(db, "select hour(hour_start), round(sum(gpu_seconds) / 3600, 6) from intermediate.int_gpu_job_hours "
                     "where hostname = 's-0' group by 1 order by 1") == [(0, 1.0), (1, round(6 / 7, 6))]


def test_the_slices_cost_their_share(db, query) -> None:
    rows = query(db, "select team, round(sum(gpu_hours_allocated), 6), sum(paid_cost) from main.fct_gpu_cost_allocation "
                     "where allocation_type = 'job' group by 1 order by 1")
    cents = Decimal("0.01")
    assert [(t, h, c.quantize(cents)) for t, h, c in rows] == [
        ("team-a", round(12 / 7, 6), Decimal("3.43")),  # 12/7 x 2.00 = 3.428...
        ("team-b", round(8 / 7, 6), Decimal("2.29")),  # 1/7 x 2.00 + 1 x 2.00 = 2.285...
    ]


def test_occupancy_counts_the_slices_in_whole_gpus(db, query) -> None:
    """01:00-02:00 the two 3g jobs hold 6/7 of s-0's GPU: 1/7 free, no whole GPU free."""
    rows = query(db, "select hour(interval_start), round(gpus_allocated, 6), round(gpus_free, 6), whole_gpus_free "
                     "from intermediate.int_gpu_node_occupancy_intervals where hostname = 's-0' "
                     "and interval_start < '2026-11-05 02:00:00' order by 1")
    assert rows[0][1:] == (1.0, 0.0, 0.0)
    assert rows[-1][1:] == (round(6 / 7, 6), round(1 / 7, 6), 0.0)
