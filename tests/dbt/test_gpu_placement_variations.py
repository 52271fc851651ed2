"""Placement and stranded GPUs on inventories and accounting the two-day fleet does not have: a
cluster mixing GPU models (a free A100 node cannot hold an H100 job, and a waiting A100 job does not
fit on an H100 node), topology declared for some levels and only some nodes (unknown, never
guessed), and a job on a node the inventory does not list. One day, 2026-11-05, on cluster `mix`
(3.00 USD per GPU-hour):

    h-0  8 x H100  rack r1  leaf l1        h-1  8 x H100  rack r2  leaf l2
    a-0  8 x A100  rack r1  leaf l1        a-1  4 x A100  rack r2  (no leaf: leaves unknown)
    no NVLink domain anywhere (unknown)

    J1 h100 4 GPUs h-0 00-04; J2 h100 4 GPUs h-1 00-04
    J3 h100 8 GPUs h-[0-1] 4 + 4 01-03: only h-0 and h-1 had H100s free (4 each), so 2 nodes and 2
       racks were the fewest, though a-0 (8 A100s free) would have held 8 GPUs of any model
    J4 untyped 8 GPUs a-0 + ghost-9 (not in the inventory) 05-06: 1 node would have done; racks
       unknown for it (ghost-9 has none); its 8 GPU-hours counted, costed on a-0's 4 (ghost-9 has no price)
    J8 h100 2 GPUs h-[0-1] 1 + 1 06-08: 1 node and 1 rack would have done
    J6 a100 2 GPUs a-0 06-08
    J7 h100 8 GPUs on 1 node, submitted 06:00, ran 08-09 on h-0: nothing had 8 H100s free
    J9 a100 4 GPUs on 1 node, submitted 06:00, ran 07-08 on a-1: fits a-0 (6 A100s free), not h-0/h-1

Cluster `nvl` (5.00 USD per GPU-hour): four 4-GPU trays in one rack, two NVLink domains (nvl-a:
n-0, n-1; nvl-b: n-2, n-3, as in an NVL72 rack split in two). J21, 8 GPUs on n-[1-2] 02-03 with
everything free: 2 trays and 1 rack were the fewest, but 1 NVLink domain would have held it, so it
is wider on NVLink domains only: 8 GPU-hours = 40.00 USD.

Placed wider: J4 (4 GPU-hours) and J8 (4) = 8 GPU-hours = 24.00 USD.
Stranded (free GPUs on partly used nodes no waiting shape fits): 06-08 h-0 and h-1 7 each (J7 needs
8, J9 an A100) = 28 GPU-hours; a-0 07-08 6 (J9 no longer waits; J7 needs an H100) = 6; a-0 05-06
is partly used but nobody waits: idle, not stranded. 34 GPU-hours = 102.00 USD."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

pytestmark = pytest.mark.dbt

DAY = date(2026, 11, 5)
H100, A100, GB200 = "NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-80GB", "NVIDIA GB200"
SACCT_FIELDS = "JobID|JobIDRaw|JobName|Account|AllocTRES|ReqTRES|NodeList|Submit|Start|End|Elapsed|State"


def job(jid: str, gpus: int, nodes: int, node_list: str, submit: str, start: str, end: str,
        gpu_type: str | None) -> str:
    typed = f",gres/gpu:{gpu_type}={gpus}" if gpu_type else ""
    tres = f"cpu={gpus * 16},gres/gpu={gpus}{typed},node={nodes}"
    at = "2026-11-05T{}:00"
    return (f"{jid}|{jid}|job-{jid}|team-a|{tres}|{tres}|{node_list}|{at.format(submit)}|{at.format(start)}|"
            f"{at.format(end)}|00:00:00|COMPLETED")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, land_estate, dbt) -> Path:
    root = tmp_path_factory.mktemp("placement_variations")
    telemetry = root / "exports" / "telemetry"
    (telemetry / "inventory").mkdir(parents=True)
    (telemetry / "inventory" / "nodes.csv").write_text(
        "hostname,cluster,gpu_model,gpu_count,rack,leaf_switch,nvlink_domain\n"
        f"h-0,mix,{H100},8,r1,l1,\nh-1,mix,{H100},8,r2,l2,\na-0,mix,{A100},8,r1,l1,\na-1,mix,{A100},4,r2,,\n"
        + "".join(f"n-{i},nvl,{GB200},4,r1,l1,nvl-{'ab'[i // 2]}\n" for i in range(4)))
    sacct = telemetry / "slurm" / "nvl" / "2026-11-05.sacct.txt"
    sacct.parent.mkdir(parents=True)
    sacct.write_text(f"{SACCT_FIELDS}\n{job('21', 8, 2, 'n-[1-2]', '02:00', '02:00', '03:00', None)}\n")
    sacct = telemetry / "slurm" / "mix" / "2026-11-05.sacct.txt"
    sacct.parent.mkdir(parents=True)
    sacct.write_text("\n".join([
        SACCT_FIELDS,
        job("1", 4, 1, "h-0", "00:00", "00:00", "04:00", "h100"),
        job("2", 4, 1, "h-1", "00:00", "00:00", "04:00", "h100"),
        job("3", 8, 2, "h-[0-1]", "01:00", "01:00", "03:00", "h100"),
        job("4", 8, 2, "a-0,ghost-9", "05:00", "05:00", "06:00", None),
        job("6", 2, 1, "a-0", "06:00", "06:00", "08:00", "a100"),
        job("8", 2, 2, "h-[0-1]", "06:00", "06:00", "08:00", "h100"),
        job("7", 8, 1, "h-0", "06:00", "08:00", "09:00", "h100"),
        job("9", 4, 1, "a-1", "06:00", "07:00", "08:00", "a100"),
    ]) + "\n")
    assets = root / "assets"
    assets.mkdir()
    (assets / "gpu_pricing.yaml").write_text(
        'currency: USD\nclusters:\n  - cluster: mix\n    price_per_gpu_hour: "3.00"\n    effective_from: 2026-01-01\n'
        '  - cluster: nvl\n    price_per_gpu_hour: "5.00"\n    effective_from: 2026-01-01\n')
    (assets / "kubernetes_teams.yaml").write_text("rules: []\n")
    warehouse = root / "warehouse.duckdb"
    land_estate(root / "exports", warehouse, root, {"gpu_nodes", "slurm_jobs"}, assets=assets)
    result = dbt(warehouse, root, "build", "--indirect-selection", "cautious",
                 "--select", "+fct_gpu_job_placement", "+fct_gpu_fragmentation_daily")
    assert result.returncode == 0, result.stdout[-6000:]
    return warehouse


def test_placement_is_judged_against_free_gpus_of_the_jobs_model_and_known_levels_only(db, query) -> None:
    rows = query(db, """select job_key, gpus_free_at_start, nodes_used, fewest_nodes, racks_used, fewest_racks,
                               leaf_switches_used, fewest_leaf_switches, nvlink_domains_used, fewest_nvlink_domains,
                               nodes_not_in_inventory, wider_on, gpu_hours_wider_than_needed, cost_wider_than_needed
                        from main.fct_gpu_job_placement order by job_key""")
    got = {r[0]: r[1:] for r in rows}
    assert got == {
        "mix:1": (16, 1, 1, 1, 1, None, None, None, None, 0, None, 0, Decimal(0)),
        "mix:2": (12, 1, 1, 1, 1, None, None, None, None, 0, None, 0, Decimal(0)),
        # 8 H100s free (4 on h-0 in r1, 4 on h-1 in r2): two nodes, two racks were the fewest; the
        # 8 free A100s on a-0 (also r1) do not count
        "mix:3": (8, 2, 2, 2, 2, None, None, None, None, 0, None, 0, Decimal(0)),
        # any model (a node of it is unknown): every GPU of the cluster was free, one node would do;
        # its racks are unknown (ghost-9 has none), so they are not judged; its GPU-hours and cost are
        # fct_gpu_cost_allocation's: all 8 GPU-hours, but only a-0's 4 priced (ghost-9, not in the
        # inventory, has no price: its GPU-hours are kept, uncosted)
        "mix:4": (28, 2, 1, None, 1, None, None, None, None, 1, "nodes", 8.0, Decimal("12")),
        "mix:6": (12, 1, 1, 1, 1, None, None, None, None, 0, None, 0, Decimal(0)),
        "mix:7": (16, 1, 1, 1, 1, None, None, None, None, 0, None, 0, Decimal(0)),
        "mix:8": (16, 2, 1, 2, 1, None, None, None, None, 0, "nodes racks", 4.0, Decimal("12")),
        "mix:9": (10, 1, 1, 1, 1, None, None, None, None, 0, None, 0, Decimal(0)),
        # one rack and one leaf, but two NVLink domains where one (8 GPUs free) would have held it
        "nvl:21": (16, 2, 2, 1, 1, 1, 1, 2, 1, 0, "nvlink_domains", 8.0, Decimal("40")),
    }


def test_stranded_gpus_respect_the_gpu_type_a_waiting_job_asks_for(db, query) -> None:
    rows = query(db, """select cluster, usage_date, gpu_hours_free_on_partly_used_nodes, gpu_hours_stranded,
                               stranded_cost, jobs_waiting, gpu_hours_waited, multi_gpu_jobs_started,
                               jobs_started_wider, gpu_hours_placed_wider, cost_placed_wider
                        from main.fct_gpu_fragmentation_daily order by 1, 2""")
    # free on partly used: h-0 and h-1 4 + 4 + 14 each, a-0 4 + 12
    # placed wider: mix:4's 8 GPU-hours (4 of them unpriced, on ghost-9) + mix:8's 4
    assert rows == [("mix", DAY, 60.0, 34.0, Decimal("102"), 2, 20.0, 8, 2, 12.0, Decimal("24")),
                    ("nvl", DAY, 0.0, 0.0, Decimal("0"), 0, 0.0, 1, 1, 8.0, Decimal("40"))]
    unpriced = query(db, "select job_key, gpu_hours_allocated, gpu_hours_unpriced, allocated_cost, price_source "
                         "from main.fct_gpu_cost_allocation where gpu_hours_unpriced > 0")
    assert unpriced == [("mix:4", 8.0, 4.0, Decimal("12"), "declared")]
