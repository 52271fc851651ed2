"""Issue 22 on a hand-built estate (tests/dbt/gpu_insight_fleet.py: its docstring states every
expected number): placement against what was free, stranded GPU-hours, allocated-but-idle time by
cause, per-GPU scores and the files schedulers apply, fault drills — landed with the real landing
code, built by the real dbt models (one build for the module), and the dashboard page reading the
published snapshot."""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import gpu_insight_fleet as fleet
import pytest

pytestmark = pytest.mark.dbt

D1, D2 = date(2026, 11, 2), date(2026, 11, 3)
CENT = Decimal("0.01")
# the page's period filter reads the spend months (none here: a telemetry-only estate)
REPORT_VIEWS = ("fct_cost_daily", "rpt_spend_daily", "rpt_gpu_cost_daily", "rpt_gpu_fragmentation_daily",
                "rpt_gpu_job_placement", "rpt_gpu_idle_causes_daily", "rpt_gpu_node_scores_daily", "rpt_gpu_fault_drills")
INPUTS = {"gpu_nodes", "slurm_jobs", "dcgm_prometheus_exports", "node_exporter_prometheus_exports",
          "gpu_fault_injections"}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, land_estate, dbt, telemetry_subgraph) -> Path:
    """An ATLAS_HOME whose warehouse holds the fleet, built once for the module."""
    root = tmp_path_factory.mktemp("gpu_insight")
    fleet.write_fleet(root / "exports", root / "my_assets")
    land_estate(root / "exports", root / "warehouse.duckdb", root, INPUTS, assets=root / "my_assets")
    result = dbt(root / "warehouse.duckdb", root, "build", "--indirect-selection", "cautious",
                 "--select", *telemetry_subgraph, *REPORT_VIEWS)
    assert result.returncode == 0, result.stdout[-6000:]
    return root


@pytest.fixture(scope="module")
def db(home: Path) -> Path:
    return home / "warehouse.duckdb"


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second)


# --- 1. topology and placement ------------------------------------------------------------------


def test_topology_columns_are_optional_and_aliased(db, query) -> None:
    rows = query(db, "select hostname, declared_rack, rack, leaf_switch, nvlink_domain from staging.stg_cluster__gpu_nodes "
                     "where hostname in ('a-node-05', 'b-node-00', 'lab-00') order by 1")
    # `tor_switch` in the file is the leaf switch; blanks are unknown (the power rack falls back to the cluster)
    assert rows == [("a-node-05", "rack-2", "rack-2", "leaf-3", "nvl-2"),
                    ("b-node-00", None, "train-b", None, None),
                    ("lab-00", None, "drill-lab", None, None)]


def test_each_multi_gpu_job_against_the_fewest_that_could_have_held_it(db, query) -> None:
    rows = query(db, """select job_key, job_gpus, gpus_free_at_start, nodes_used, fewest_nodes, racks_used, fewest_racks,
                               leaf_switches_used, fewest_leaf_switches, nvlink_domains_used, fewest_nvlink_domains,
                               is_wider_than_needed, wider_on, gpu_hours_wider_than_needed, cost_wider_than_needed
                        from main.fct_gpu_job_placement order by job_key""")
    got = {r[0]: r[1:] for r in rows}
    assert got == {
        # packed: 2 nodes of leaf-1 in rack-1 / nvl-1
        "train-a:7001": (16, 64, 2, 2, 1, 1, 1, 1, 1, 1, False, None, 0, Decimal(0)),
        # a-node-02 and -03 (rack-1, leaf-2, nvl-1) were free: one of each would do
        "train-a:7002": (16, 48, 2, 2, 2, 1, 2, 1, 2, 1, True, "racks leaf_switches nvlink_domains", 64.0,
                         Decimal("128")),
        # 4 + 4 GPUs on two nodes (two leaves) when whole nodes were free
        "train-a:7003": (8, 32, 2, 1, 1, 1, 2, 1, 1, 1, True, "nodes leaf_switches", 16.0, Decimal("32")),
        "train-a:7005": (16, 32, 2, 2, 1, 1, 1, 1, 1, 1, False, None, 0, Decimal(0)),
        "train-a:7010": (32, 64, 4, 4, 1, 1, 2, 2, 1, 1, False, None, 0, Decimal(0)),
        # started at the same instant as 7010, which went first (smaller key): only rack-2 was free
        "train-a:7011": (32, 32, 4, 4, 1, 1, 2, 2, 1, 1, False, None, 0, Decimal(0)),
        "train-a:7013": (4, 64, 1, 1, 1, 1, 1, 1, 1, 1, False, None, 0, Decimal(0)),
        "train-a:7014": (2, 60, 1, 1, 1, 1, 1, 1, 1, 1, False, None, 0, Decimal(0)),
        # no topology declared: racks, leaves and NVLink domains unknown, not guessed; no price: no cost
        "train-b:7101": (16, 16, 2, 2, None, None, None, None, None, None, False, None, 0, Decimal(0)),
    }


def test_stranded_gpu_hours_and_what_fragmentation_cost_per_day(db, query) -> None:
    rows = query(db, """select usage_date, gpu_hours_free_on_partly_used_nodes, gpu_hours_stranded, stranded_cost,
                               jobs_waiting, gpu_hours_waited, multi_gpu_jobs_started, jobs_started_wider,
                               gpu_hours_placed_wider, cost_placed_wider
                        from main.fct_gpu_fragmentation_daily where cluster = 'train-a' order by 1""")
    assert rows == [
        # 02:00-04:00: job 7005 waits for two whole nodes while a-node-02 (7 free), -05 and -06 (4 free
        # each) are partly used: 15 GPUs x 2 h stranded at 2.00; 7002 and 7003 were placed wider
        (D1, 30.0, 30.0, Decimal("60"), 1, 32.0, 4, 2, 80.0, Decimal("160")),
        # a-node-00 partly used 07:00-09:00, but the 2-GPU job waiting 07:30-08:00 fits there: free,
        # not stranded; 7015 (8 GPUs, ReqTRES) waits 20:00-24:00 with every node idle
        (D2, 6.0, 0.0, Decimal("0"), 2, 33.0, 4, 0, 0.0, Decimal("0")),
    ]
    shapes = query(db, "select job_key, pending_from, pending_until, never_started, job_gpus, gpus_per_node "
                       "from intermediate.int_gpu_pending_job_shapes order by 1")
    assert shapes == [
        ("train-a:7005", at(D1, 2), at(D1, 4), False, 16, 8),
        ("train-a:7014", at(D2, 7, 30), at(D2, 8), False, 2, 2),
        ("train-a:7015", at(D2, 20), datetime(2026, 11, 4), True, 8, 8),
    ]


# --- 2. input-bound idle ------------------------------------------------------------------------


def test_node_exporter_counters_become_rates_against_the_nodes_ceiling(db, query) -> None:
    hosts = query(db, "select distinct hostname, signal from staging.stg_prometheus__node_io_samples order by 1, 2")
    # a-node-00's series carry only an address (`instance`): the host comes from the file's name
    assert hosts == [("a-node-00", "disk"), ("a-node-01", "network"), ("a-node-01", "nfs_client")]
    rates = {(h, s): (round(lo / 1e9, 6), round(hi / 1e9, 6), round(c / 1e9, 6)) for h, s, lo, hi, c in query(
        db, "select hostname, signal, min(bytes_per_second), max(bytes_per_second), "
            "max(measured_ceiling_bytes_per_second) from intermediate.int_node_io_rates group by all")}
    # dm-0 (stacked on nvme0n1), loop0 and lo are left out: nothing counted twice; the NFS remount at
    # 04:30 (counters restart) is a reset, not a negative rate
    assert rates == {("a-node-00", "disk"): (0.0001, 2.0, 2.0),
                     ("a-node-01", "network"): (0.00005, 1.2, 1.2),
                     ("a-node-01", "nfs_client"): (0.0, 1.1, 1.1)}


def test_allocated_but_idle_time_and_cost_by_cause(db, query) -> None:
    rows = query(db, "select job_key, idle_cause, round(gpu_hours_idle, 6), idle_cost from main.fct_gpu_idle_cost_by_cause "
                     "where usage_date = ? order by 1, 2", [D1])
    assert [(k, c, h, cost.quantize(CENT)) for k, c, h, cost in rows] == [
        # 16 GPUs: busy 4 h at 0.9, 1 h at 0.05 while both nodes read at their ceiling, 1 h idle with no I/O
        ("train-a:7001", "job_idle", 16.0, Decimal("32.00")),
        ("train-a:7001", "underused_while_busy", 6.4, Decimal("12.80")),
        ("train-a:7001", "waiting_on_input", 15.2, Decimal("30.40")),
        ("train-a:7002", "underused_while_busy", 7.3, Decimal("14.60")),
        ("train-a:7003", "underused_while_busy", 1.6, Decimal("3.20")),
        # its last hour idle on a host with no node_exporter and no PCIe RX: unknown, not "job idle"
        ("train-a:7004", "io_not_measured", 1.0, Decimal("2.00")),
        ("train-a:7004", "underused_while_busy", 0.1, Decimal("0.20")),
        ("train-a:7005", "underused_while_busy", 2.4, Decimal("4.80")),
        # half an hour at 0.1 while host-to-device PCIe ran at its 24 GB/s ceiling (no node_exporter there)
        ("train-a:7005", "waiting_on_input", 7.2, Decimal("14.40")),
    ]
    # D2: a-node-05 GPU 7 fell off the bus at 03:00: 3 h of its job's time had no activity reading
    (lost,), = query(db, "select gpu_hours_idle from main.fct_gpu_idle_cost_by_cause "
                         "where usage_date = ? and idle_cause = 'gpu_not_reporting'", [D2])
    assert lost == pytest.approx(3.0)
    # the causes add up to the idle cost fct_gpu_cost_allocation reports, exactly, job by job
    split = dict(((d, k), c) for d, k, c in query(
        db, "select usage_date, job_key, sum(idle_cost) from main.fct_gpu_idle_cost_by_cause group by all"))
    allocation = dict(((d, k), c) for d, k, c in query(
        db, "select usage_date, job_key, idle_cost_allocated_unused from main.fct_gpu_cost_allocation "
            "where allocation_type = 'job' and idle_cost_allocated_unused is not null"))
    assert split == allocation and len(split) == 7


def test_a_job_no_price_covers_keeps_its_gpu_hours_uncosted(db, query) -> None:
    """train-b has no bill and no declared price: its 16-GPU job is still in the cost mart and the
    report, its GPU-hours counted as unpriced, its cost unknown (NULL), never zero, and a warning
    test names the cluster-day (it once vanished from fct_gpu_cost_allocation: an inner join)."""
    rows = query(db, "select team, price_source, gpu_hours_allocated, gpu_hours_unpriced, allocated_cost, paid_cost, "
                     "currency, idle_method from main.fct_gpu_cost_allocation where cluster = 'train-b'")
    assert [r[:7] for r in rows] == [("infra", "unpriced", 16.0, 16.0, None, None, None)]
    assert rows[0][7].startswith("unpriced")
    report = query(db, "select team, gpu_hours_allocated, gpu_hours_unpriced, paid_cost, currency "
                       "from reports.rpt_gpu_cost_daily where cluster = 'train-b'")
    assert report == [("infra", 16.0, 16.0, None, None)]
    # priced clusters carry no unpriced hours
    (priced,), = query(db, "select sum(gpu_hours_unpriced) from main.fct_gpu_cost_allocation where cluster = 'train-a'")
    assert priced == 0


# --- 3. per-GPU scores for schedulers -----------------------------------------------------------


def node_weights(query, db: Path, day: date) -> dict[str, int]:
    return dict(query(db, "select hostname, slurm_weight from main.fct_gpu_node_scores_daily where usage_date = ?",
                      [day]))


def test_bad_gpus_get_the_worst_weights_and_healthy_ones_never_change(db, query) -> None:
    bad = query(db, "select usage_date, hostname, gpu_index, score, scheduler_health from main.fct_gpu_scores_daily "
                    "where score < 100 or scheduler_health <> 'healthy' order by 1, 2, 3")
    assert bad == [
        (D1, "a-node-04", 3, 60, "degraded"),   # straggling all its busy time: 40 points
        (D1, "a-node-07", 1, 82, "degraded"),   # busy clock 0.88 x baseline: (12 % - 3 %) x 2 points
        (D2, "a-node-02", 5, 93, "degraded"),   # thermally throttled 1 h of 6 sampled: 40 / 6 points
        (D2, "a-node-04", 3, 60, "degraded"),
        (D2, "a-node-05", 7, 0, "failed"),      # XID 79
        (D2, "a-node-07", 1, 82, "degraded"),
    ]
    d1, d2 = node_weights(query, db, D1), node_weights(query, db, D2)
    assert {h: w for h, w in d1.items() if w > 1} == {"a-node-04": 41, "a-node-07": 19}
    assert {h: w for h, w in d2.items() if w > 1} == {"a-node-02": 8, "a-node-04": 41, "a-node-05": 101,
                                                      "a-node-07": 19}
    assert max(d2, key=d2.get) == "a-node-05"
    # every node with only healthy GPUs keeps Slurm's default weight, day after day
    for host in ("a-node-00", "a-node-01", "a-node-03", "a-node-06"):
        assert d1[host] == d2[host] == 1
    # drilled GPUs are not held to the faults the drill injected (the health mart still shows them)
    lab = query(db, "select gpu_index, score, scheduler_health, health_status from main.fct_gpu_scores_daily "
                    "where hostname = 'lab-00' and health_status <> 'healthy' order by 1")
    assert lab == [(0, 100, "healthy", "failed"), (2, 100, "healthy", "degraded"), (5, 100, "healthy", "failed")]
    assert d2["lab-00"] == 1


def test_scheduler_files_are_written_and_say_how_to_apply_them(home, db, tmp_path) -> None:
    import dagster as dg

    from atlas_pipeline.defs.report.scheduler_hints import gpu_scheduler_hints
    from atlas_pipeline.defs.resources import Warehouse

    result = dg.materialize([gpu_scheduler_hints], resources={"warehouse": Warehouse(atlas_home=str(home))})
    assert result.success
    folder = home / "reports" / "scheduler"
    latest = folder / "latest"
    assert latest.is_symlink() and os.readlink(latest) == "2026-11-03"
    slurm = (latest / "slurm" / "train-a.sh").read_text().splitlines()
    assert [line.split("  #")[0] for line in slurm if line.startswith("scontrol")] == [
        "scontrol update 'NodeName=a-node-[00-01,03,06]' Weight=1",
        "scontrol update NodeName=a-node-02 Weight=8",
        "scontrol update NodeName=a-node-07 Weight=19",
        "scontrol update NodeName=a-node-04 Weight=41",
        "scontrol update NodeName=a-node-05 Weight=101",
    ]
    assert any("Apply as a Slurm administrator" in line for line in slurm)
    # lab-00's cluster runs neither Slurm nor pods Atlas saw: both files carry it
    assert "lab-00 Weight=1" in (latest / "slurm" / "drill-lab.sh").read_text()
    assert "kubectl label node lab-00 --overwrite atlas.gpu/score=100 atlas.gpu/health=healthy" in (
        latest / "kubernetes" / "drill-lab.sh").read_text()
    assert not (latest / "kubernetes" / "train-a.sh").exists()
    patches = json.loads((latest / "kubernetes" / "drill-lab.json").read_text())
    assert patches == [{"node": "lab-00", "patch": {"metadata": {"labels": {"atlas.gpu/score": "100",
                                                                             "atlas.gpu/health": "healthy"}}}}]
    gpus = (latest / "gpu_scores.csv").read_text().splitlines()
    # 8 GPUs of each of the 9 hosts with telemetry that day
    assert len(gpus) == 1 + 9 * 8
    assert any(line.startswith("train-a,a-node-05,7,GPU-a-node-05-07,NVIDIA H100 80GB HBM3,0,failed,") for line in gpus)
    # re-running replaces the day whole: same files, nothing left behind
    again = dg.materialize([gpu_scheduler_hints], resources={"warehouse": Warehouse(atlas_home=str(home))})
    assert again.success
    assert sorted(p.name for p in folder.iterdir()) == ["2026-11-03", "latest"]
    assert (latest / "slurm" / "train-a.sh").read_text().splitlines() == slurm


# --- 4. fault drills ----------------------------------------------------------------------------


def test_fault_drill_injected_vs_detected_and_time_to_detect(db, query) -> None:
    rows = query(db, """select gpu_index, fault_class, is_detected, detected_as, seconds_to_detect, missed_reason
                        from main.fct_gpu_fault_drill_injections order by gpu_index""")
    assert [r[:5] for r in rows] == [
        # injected at hh:mm:20, scraped at the next minute: 40 s
        (0, "xid", True, "xid_fatal", 40),
        (1, "xid", True, "xid_nonfatal", 40),
        (2, "thermal", True, "thermal_throttle", 40),
        # 300 s of HW power brake: a power throttle needs power_throttle_min_seconds (600 s)
        (3, "power", False, None, None),
        # 900 s: an event once 600 s had passed after the first scrape (03:01:00 + 600 s)
        (4, "power", True, "power_throttle", 640),
        (5, "ecc_dbe", True, "ecc_double_bit", 40),
        # 85 C is below the H100's 89 C slowdown: nothing to detect
        (6, "thermal", False, None, None),
    ]
    assert "power_throttle_min_seconds" in rows[3][5] and "none showed the fault" in rows[6][5]
    classes = query(db, "select fault_class, injected, detected, missed, mean_seconds_to_detect, max_seconds_to_detect "
                        "from main.fct_gpu_fault_drills order by 1")
    assert classes == [("ecc_dbe", 1, 1, 0, 40.0, 40), ("power", 2, 1, 1, 640.0, 640),
                       ("thermal", 2, 1, 1, 40.0, 40), ("xid", 2, 2, 0, 40.0, 40)]
    (ecc,), = query(db, "select started_at from main.gpu_health_events where event_type = 'ecc_double_bit'")
    assert ecc == at(D2, 4, 1)


# --- the pane ----------------------------------------------------------------------------------


def test_placement_and_idle_page_shows_the_known_answers(home, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    from atlas_pipeline.lib.warehouse.publish import publish_snapshot

    publish_snapshot(home / "warehouse.duckdb", home / "published" / "warehouse.duckdb")
    monkeypatch.setenv("ATLAS_HOME", str(home))
    app = AppTest.from_string("from atlas_pipeline.dashboard import gpu_insight\ngpu_insight.render()",
                              default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    tables = [f.value for f in app.dataframe]
    fragmentation = next(t for t in tables if "gpu_hours_stranded" in t.columns and "cluster" in t.columns)
    row = fragmentation.set_index("cluster").loc["train-a"]
    assert (row["gpu_hours_stranded"], row["stranded_cost"], row["cost_placed_wider"]) == (
        30.0, Decimal("60.00"), Decimal("160.00"))
    wider = next(t for t in tables if "wider_on" in t.columns)
    assert list(wider["job_key"]) == ["train-a:7002", "train-a:7003"]
    causes = next(t for t in tables if "idle_cause" in t.columns and "team" in t.columns)
    llm = causes[(causes["team"] == "llm") & (causes["idle_cause"] == "waiting_on_input")]
    assert list(llm["idle_cost"]) == [Decimal("44.80")]  # 7001's 30.40 + 7005's 14.40
    scores = next(t for t in tables if "slurm_weight" in t.columns)
    assert scores.iloc[0]["hostname"] == "a-node-05" and scores.iloc[0]["slurm_weight"] == 101
    drills = next(t for t in tables if "fault_class" in t.columns and "injected" in t.columns)
    assert list(zip(drills["fault_class"], drills["detected"], drills["missed"], strict=True)) == [
        ("ecc_dbe", 1, 0), ("power", 1, 1), ("thermal", 1, 1), ("xid", 2, 0)]


# --- the README's queries ------------------------------------------------------------------------


def readme_query(name: str) -> str:
    """The ```sql block of README.md whose first line is `-- <name>`, as of 2026-12-04 (so "last
    month" is the fleet's November)."""
    from atlas_pipeline.lib.settings import REPO_ROOT

    blocks = (REPO_ROOT / "README.md").read_text().split("```sql\n")[1:]
    (block,) = [b.split("```")[0] for b in blocks if b.startswith(f"-- {name}\n")]
    return block.replace("current_date", "date '2026-12-04'")


def test_readme_queries_give_the_known_answers(db, query) -> None:
    rows = query(db, "set schema 'main'; " + readme_query("fragmentation last month"))
    assert rows[0] == ("train-a", "USD", 30.0, Decimal("60.00"), 80.0, Decimal("160.00"), 65.0)
    # no price and no topology, nothing stranded: still there, at zero
    assert rows[1:] == [("train-b", None, 0.0, Decimal("0.00"), 0.0, Decimal("0.00"), 0.0)]
    wider = query(db, "set schema 'main'; " + readme_query("jobs placed wider"))
    assert [(r[0], r[3], r[-1]) for r in wider] == [
        ("train-a:7002", "racks leaf_switches nvlink_domains", Decimal("128.00")),
        ("train-a:7003", "nodes leaf_switches", Decimal("32.00"))]
    causes = query(db, "set schema 'main'; " + readme_query("idle cost by cause last month"))
    assert causes[:3] == [("llm", "waiting_on_input", "USD", 22.4, Decimal("44.80")),
                          ("llm", "job_idle", "USD", 16.0, Decimal("32.00")),
                          ("vision", "gpu_not_reporting", "USD", 3.0, Decimal("6.00"))]
    worst = query(db, "set schema 'main'; " + readme_query("worst nodes today"))
    assert worst == [("train-a", "a-node-05", 0, "failed", 7, 101), ("train-a", "a-node-04", 60, "degraded", 3, 41),
                     ("train-a", "a-node-07", 82, "degraded", 1, 19), ("train-a", "a-node-02", 93, "degraded", 5, 8)]
    drills = query(db, "set schema 'main'; " + readme_query("fault drills"))
    assert drills == [("drill-2026-11-03", "ecc_dbe", 1, 1, 0, 40.0, 40),
                      ("drill-2026-11-03", "power", 2, 1, 1, 640.0, 640),
                      ("drill-2026-11-03", "thermal", 2, 1, 1, 40.0, 40),
                      ("drill-2026-11-03", "xid", 2, 2, 0, 40.0, 40)]


def test_quality_gates_pass_on_the_fleet(db) -> None:
    """The GX suites gating the new inputs and marts (checks/raw, checks/marts) hold on it."""
    import duckdb

    from atlas_pipeline.lib.quality.expectations import fetch_frame, parse_suite, validate
    from atlas_pipeline.lib.settings import CHECKS_DIR

    names = ["raw/node_exporter_prometheus_exports", "raw/gpu_fault_injections", "marts/gpu_health_events",
             "marts/fct_gpu_job_placement", "marts/fct_gpu_fragmentation_daily", "marts/fct_gpu_idle_cost_by_cause",
             "marts/fct_gpu_scores_daily", "marts/fct_gpu_node_scores_daily", "marts/fct_gpu_fault_drill_injections",
             "marts/fct_gpu_fault_drills"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        for name in names:
            suite = parse_suite(CHECKS_DIR / f"{name}.json")
            frame = fetch_frame(con, suite)
            outcome = validate(suite, frame)
            assert len(frame) > 0 and outcome.success, (name, outcome.failures_markdown())
    finally:
        con.close()
