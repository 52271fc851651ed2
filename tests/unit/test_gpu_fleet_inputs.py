"""The Python side of the GPU inputs: Slurm NodeList expansion (python-hostlist), the Kubernetes
team rules declaration, and the streaming Prometheus range-query reader against the SQL one."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import duckdb
import pytest

from atlas_pipeline.lib.ingest.kubernetes_teams import load_kubernetes_teams, write_kubernetes_teams
from atlas_pipeline.lib.ingest.raw_telemetry import (
    prometheus_range_batches,
    telemetry_reader_sql,
    write_prometheus_range_parquet,
)
from atlas_pipeline.lib.ingest.slurm_nodelists import expand_node_list, write_slurm_node_lists, write_slurm_report_files
from atlas_pipeline.lib.settings import DECLARATIONS_DIR


@pytest.mark.parametrize(
    ("text", "hosts"),
    [
        ("gpu-node-[00-03,07]", ["gpu-node-00", "gpu-node-01", "gpu-node-02", "gpu-node-03", "gpu-node-07"]),
        ("rack1-n[001-002],rack2-n[010-011]", ["rack1-n001", "rack1-n002", "rack2-n010", "rack2-n011"]),
        ("a[1-2]-b[3-4]", ["a1-b3", "a1-b4", "a2-b3", "a2-b4"]),
        ("n[9-11]", ["n9", "n10", "n11"]),
        ("node077", ["node077"]),
        ("None assigned", []),
        ("", []),
    ],
)
def test_node_lists_expand_like_slurm(text: str, hosts: list[str]) -> None:
    assert expand_node_list(text) == hosts


def test_node_lists_table_keeps_a_bad_list_with_its_problem(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create view raw.slurm_jobs as select * from (values ('1', 'gpu-[01-02]'), ('1.batch', 'gpu-01'), "
                "('2', 'bad[1-'), ('3', 'None assigned'), ('4', null)) as t(\"JobID\", \"NodeList\")")
    assert write_slurm_node_lists(con, "slurm_jobs") == 4
    rows = con.execute("select node_list, hostname, node_position, problem is not null "
                       "from raw.slurm_node_lists order by 1, 3").fetchall()
    # `None assigned` (never started) expands to no host; a list that does not parse is kept with why
    assert rows == [("bad[1-", None, None, True), ("gpu-01", "gpu-01", 0, False),
                    ("gpu-[01-02]", "gpu-01", 0, False), ("gpu-[01-02]", "gpu-02", 1, False)]
    # a sacct run without NodeList: an empty table, not an error
    con.execute("create or replace view raw.slurm_jobs as select '1' as \"JobID\", 'x.sacct.txt' as x_source_file")
    assert write_slurm_node_lists(con, "slurm_jobs") == 0
    assert write_slurm_report_files(con, "slurm_jobs") == 1


def test_kubernetes_team_rules_parse_and_name_their_errors(tmp_path: Path, declaration_error) -> None:
    rules = load_kubernetes_teams(DECLARATIONS_DIR / "kubernetes_teams.yaml")
    assert rules[0].team == "ml-platform" and rules[1].like(rules[1].namespace) == "research-%"
    con = duckdb.connect()
    assert write_kubernetes_teams(con, rules) == len(rules)
    (team,), = con.execute(
        "select team from raw.kubernetes_teams where 'research-nlp' like namespace_pattern escape '\\' "
        "and 'x' like pod_pattern escape '\\' order by rule_order limit 1").fetchall()
    assert team == "ml-research"
    assert load_kubernetes_teams(tmp_path / "absent.yaml") == []
    bad = tmp_path / "bad.yaml"
    error = declaration_error(load_kubernetes_teams, bad, "rules:\n  - namespace: a\n    team: x\n  - namespace: b\n")
    assert re.search(r"bad.yaml: rules\[1\]: field 'team' is required", str(error))
    error = declaration_error(load_kubernetes_teams, bad, "rules:\n  - team: everyone\n")
    assert re.search(r"rules\[0\]: needs at least one of namespace, pod, container", str(error))
    # every problem of every rule, not only the first
    assert declaration_error(
        load_kubernetes_teams, bad,
        "rules:\n  - {namespace: '', team: x}\n  - {pod: 'a-*', team: 7, colour: red}\n  - {pod: b}\n",
    ).problems == [
        f"{bad}: rules[0]: field 'namespace' must not be empty, got ''",
        f"{bad}: rules[1]: field 'team' must be text, got 7",
        f"{bad}: rules[1]: field 'colour' is not known (expected one of namespace, pod, container, team, project)",
        f"{bad}: rules[2]: field 'team' is required",
    ]


def test_streaming_reader_gives_the_sql_readers_rows(tmp_path: Path) -> None:
    body = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": "DCGM_FI_DEV_GPU_UTIL", "gpu": "0", "Hostname": "n1", "hpc_job": "7"},
         "values": [[1785542400, "87"], [1785542415.5, "91"]]},
        {"metric": {"__name__": "DCGM_FI_DEV_POWER_USAGE", "gpu": "0", "Hostname": "n1"},
         "values": [[1785542400, "NaN"], [1785542410, "140737488355328"]]},
    ]}}
    path = tmp_path / "n1.json.gz"
    path.write_bytes(gzip.compress(json.dumps(body).encode()))
    streamed = [row for batch in prometheus_range_batches(path, batch_rows=3) for row in batch.to_pylist()]
    assert len(streamed) == 4
    assert streamed[1] == {"metric_labels": [("__name__", "DCGM_FI_DEV_GPU_UTIL"), ("gpu", "0"), ("Hostname", "n1"),
                                             ("hpc_job", "7")], "timestamp_text": "1785542415.5", "value_text": "91"}
    con = duckdb.connect()
    relation = telemetry_reader_sql("prometheus_range_json", repr([str(path)]), "filename = true")
    sql_rows = con.execute(f"select metric_labels, timestamp_text, value_text from {relation} order by 1, 2").fetchall()
    parquet = tmp_path / "n1.parquet"
    assert write_prometheus_range_parquet(path, parquet) == 4
    parquet_rows = con.execute(f"select metric_labels, timestamp_text, value_text from '{parquet}' order by 1, 2").fetchall()
    assert parquet_rows == sql_rows
    assert ("1785542415.5", "91") in {(t, v) for _, t, v in sql_rows}
