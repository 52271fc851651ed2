"""The inputs issue 22 adds, at landing (no dbt): the node inventory's optional topology columns
(any spelling the contract knows, or none at all), fault-drill logs (a bad class or time quarantines
the file naming the row and column; offsets become UTC), and node_exporter range exports read by the
same reader as DCGM's."""

from __future__ import annotations

import gzip
import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.ingest.object_store import LocalStore
from atlas_pipeline.lib.ingest.sources import parse_source
from atlas_pipeline.lib.settings import DECLARATIONS_DIR
from atlas_pipeline.lib.warehouse.connections import connect

NODES = parse_source(DECLARATIONS_DIR / "sources" / "gpu_nodes.yaml")
DRILLS = parse_source(DECLARATIONS_DIR / "sources" / "gpu_fault_injections.yaml")
NODE_EXPORTER = parse_source(DECLARATIONS_DIR / "sources" / "node_exporter_prometheus_exports.yaml")
DRILL_HEADER = "drill_id,injected_at,hostname,gpu_index,field_id,value,duration_seconds,fault_class,note"


@pytest.fixture()
def env(tmp_path: Path):
    exports = tmp_path / "exports"
    exports.mkdir()
    with connect(tmp_path / "wh.duckdb") as con:
        yield exports, tmp_path, con


def land(env, source):
    exports, root, con = env
    report = land_source(con, source, LocalStore(exports), root / "landing", root / "quarantine")
    refresh_raw_view(con, source)
    return report


def reasons(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((root / "quarantine").rglob("*.reason.json"))]


@pytest.mark.parametrize("header", [
    "hostname,cluster,gpu_count",  # no topology at all
    "hostname,cluster,gpu_count,rack,leaf,nvl_domain",  # short spellings
    "hostname,cluster,gpu_count,rack,tor_switch,nvlink_clique",
])
def test_topology_columns_are_optional_and_renamed_at_landing(env, header) -> None:
    exports, _, con = env
    extra = ",r1,sw1,nvl1" if header.count(",") > 2 else ""
    (exports / "nodes.csv").write_text(f"{header}\nh1,c1,8{extra}\n")
    assert land(env, NODES).quarantined == []
    columns = {r[0] for r in con.execute("describe raw.gpu_nodes").fetchall()}
    if extra:
        assert {"rack", "leaf_switch", "nvlink_domain"} <= columns
        assert con.execute("select rack, leaf_switch, nvlink_domain from raw.gpu_nodes").fetchall() == [
            ("r1", "sw1", "nvl1")]
    else:
        assert not {"leaf_switch", "nvlink_domain"} & columns


def test_drill_log_lands_typed_with_times_in_utc(env) -> None:
    exports, _, con = env
    (exports / "drill-a.csv").write_text(
        f"{DRILL_HEADER}\n"
        "drill-a,2026-11-03T03:00:20+02:00,lab-00,4,112,128,900,,HW power brake\n"
        "drill-a,2026-11-03 04:00:20,lab-00,5,311,1,,ecc_dbe,\n"
    )
    assert land(env, DRILLS).quarantined == []
    con.execute("set TimeZone = 'UTC'")
    rows = con.execute("select injected_at, gpu_index, field_id, duration_seconds, fault_class "
                       "from raw.gpu_fault_injections order by injected_at").fetchall()
    assert [(r[0].replace(tzinfo=None), *r[1:]) for r in rows] == [
        (datetime(2026, 11, 3, 1, 0, 20), 4, 112, 900, None),
        (datetime(2026, 11, 3, 4, 0, 20), 5, 311, None, "ecc_dbe"),
    ]


@pytest.mark.parametrize("line, column, observed", [
    ("drill-b,2026-11-03T01:00:20Z,lab-00,0,230,79,0,heat,", "fault_class", "heat"),
    ("drill-b,yesterday,lab-00,0,230,79,0,xid,", "injected_at", "yesterday"),
    ("drill-b,2026-11-03T01:00:20Z,lab-00,-1,230,79,0,xid,", "gpu_index", "-1"),
])
def test_a_bad_drill_row_quarantines_the_file_naming_row_and_column(env, line, column, observed) -> None:
    exports, root, _ = env
    (exports / "drill-b.csv").write_text(f"{DRILL_HEADER}\ndrill-b,2026-11-03T00:00:20Z,lab-00,1,150,92,600,thermal,\n"
                                         f"{line}\n")
    report = land(env, DRILLS)
    [reason] = reasons(root)
    assert report.quarantined and reason["source"] == "gpu_fault_injections"
    assert {(v["row"], v["column"], v["observed"]) for v in reason["violations"]} == {(2, column, observed)}


def test_node_exporter_exports_land_with_the_prometheus_range_reader(env) -> None:
    exports, _, con = env
    body = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": "node_disk_read_bytes_total", "device": "nvme0n1", "instance": "[fd00::5]:9100"},
         "values": [[1793577600, "1000"], [1793577615, "NaN"], [1793577630.5, "31000"]]},
    ]}}
    path = exports / "train-a" / "2026-11-02" / "a-node-00.json.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(json.dumps(body).encode()))
    os.utime(path, (1_793_600_000, 1_793_600_000))
    assert land(env, NODE_EXPORTER).quarantined == []
    rows = con.execute("select metric_labels['instance'], timestamp_text, value_text, x_period "
                       "from raw.node_exporter_prometheus_exports order by timestamp_text").fetchall()
    assert rows == [("[fd00::5]:9100", "1793577600", "1000", "2026-11-02"),
                    ("[fd00::5]:9100", "1793577615", "NaN", "2026-11-02"),
                    ("[fd00::5]:9100", "1793577630.5", "31000", "2026-11-02")]
