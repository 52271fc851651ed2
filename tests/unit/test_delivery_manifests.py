"""Delivery manifests decide what a delivery is: AWS Data Exports' period manifest picks the
execution's files among stale ones, and an Azure run whose manifest names a part not yet written
whole waits while the previous run stays current."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.ingest.manifests import ManifestError, parse_manifest
from atlas_pipeline.lib.ingest.object_store import LocalStore
from atlas_pipeline.lib.ingest.sources import parse_source
from atlas_pipeline.lib.settings import DECLARATIONS_DIR
from atlas_pipeline.lib.warehouse.connections import connect
from atlas_pipeline.sample_estate.estate import generate_billing
from atlas_pipeline.sample_estate.spec import EstateSpec

AWS = parse_source(DECLARATIONS_DIR / "sources" / "aws_cur2.yaml")
AZURE = parse_source(DECLARATIONS_DIR / "sources" / "azure_cost_details_actual.yaml")
SPEC = EstateSpec(seed=7, start_month=date(2026, 8, 1), months=1, line_items_per_month=2_000)


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exports = tmp_path_factory.mktemp("estate")
    generate_billing(exports, SPEC)
    return exports


@pytest.fixture()
def env(tmp_path: Path, estate: Path):
    exports = tmp_path / "exports"
    shutil.copytree(estate, exports)
    with connect(tmp_path / "wh.duckdb") as con:
        yield exports, tmp_path / "landing", tmp_path / "quarantine", con


def land(env, source):
    exports, landing, quarantine, con = env
    location = source.location.replace("${ATLAS_EXPORTS}", str(exports))
    report = land_source(con, source, LocalStore(Path(location)), landing, quarantine)
    refresh_raw_view(con, source)
    return report


def aws_total(con) -> tuple[int, Decimal]:
    count, total = con.execute(
        "select count(*), sum(cast(cast(line_item_unblended_cost as varchar) as decimal(38, 12))) from raw.aws_cur2"
    ).fetchone()
    return count, total


def test_the_aws_manifest_picks_the_executions_files_and_ignores_a_stale_one(env):
    exports, *_, con = env
    first = land(env, AWS)
    assert first.new_versions and first.waiting == []
    expected = aws_total(con)
    # A file the manifest does not name (left over from an earlier execution) appears beside the data.
    [data] = exports.glob("aws/*/data/BILLING_PERIOD=2026-08/*.parquet")
    shutil.copy(data, data.with_name("atlas-cur2-00099.snappy.parquet"))
    again = land(env, AWS)
    assert again.new_versions == [] and again.downloaded == 0  # same delivery: nothing to land
    assert aws_total(con) == expected  # never counted twice


def test_an_aws_manifest_naming_a_file_not_yet_written_waits(env):
    exports, *_, con = env
    land(env, AWS)
    expected = aws_total(con)
    [manifest_path] = exports.glob("aws/*/metadata/BILLING_PERIOD=2026-08/*-Manifest.json")
    manifest = json.loads(manifest_path.read_text())
    manifest["dataFiles"].append(manifest["dataFiles"][0].replace("00001", "00002"))
    manifest_path.write_text(json.dumps(manifest))
    report = land(env, AWS)
    [waiting] = report.waiting
    assert "2026-08" in waiting and "atlas-cur2-00002" in waiting and "1 file(s) not yet delivered" in waiting
    assert report.new_versions == [] and aws_total(con) == expected  # the complete delivery stays current
    assert "waiting" in report.summary()


def test_an_azure_run_still_being_written_waits_and_the_previous_run_stays_current(env):
    exports, *_, con = env
    land(env, AZURE)
    before = con.execute(
        'select count(*), sum(cast("CostInBillingCurrency" as decimal(38, 12))) from raw.azure_cost_details_actual'
    ).fetchone()
    [run] = [p for p in exports.glob("azure/**/atlas-actual/20260801-20260831/*") if p.is_dir()]
    newer = run.with_name("run-2")
    shutil.copytree(run, newer)
    manifest = json.loads((newer / "manifest.json").read_text())
    for blob in manifest["blobs"]:
        blob["blobName"] = blob["blobName"].replace(run.name, "run-2")
    [part] = sorted(newer.glob("part_*.csv"))[:1]
    manifest["blobs"][0]["byteCount"] = part.stat().st_size + 100  # the part is still being uploaded
    (newer / "manifest.json").write_text(json.dumps(manifest))
    for path in newer.iterdir():  # the new run is the newest delivery
        os.utime(path, (path.stat().st_mtime + 3600,) * 2)
    report = land(env, AZURE)
    assert report.new_versions == [] and len(report.waiting) == 1 and "run-2" in report.waiting[0]
    after = con.execute(
        'select count(*), sum(cast("CostInBillingCurrency" as decimal(38, 12))) from raw.azure_cost_details_actual'
    ).fetchone()
    assert after == before
    # The upload completes: the manifest's byte count now matches, and run-2 becomes current.
    manifest["blobs"][0]["byteCount"] = part.stat().st_size
    (newer / "manifest.json").write_text(json.dumps(manifest))
    done = land(env, AZURE)
    assert done.waiting == [] and [v.split("@")[1] for v in done.new_versions] == ["run-2"]


def test_manifests_of_each_provider_parse_and_a_bad_one_is_named():
    aws = parse_manifest("m.json", json.dumps({"dataFiles": ["s3://b/p/x/data/BILLING_PERIOD=2026-08/a.parquet"]}))
    assert aws.names("data/BILLING_PERIOD=2026-08/a.parquet") and not aws.names("a.parquet.old")
    cur = parse_manifest("cur.json", json.dumps({"assemblyId": "abc", "reportKeys": ["r/20231101-20231201/abc/r-1.csv.gz"]}))
    assert cur.names("20231101-20231201/abc/r-1.csv.gz") and not cur.names("20231101-20231201/old/r-1.csv.gz")
    azure = parse_manifest("manifest.json", json.dumps({"blobs": [{"blobName": "d/e/p.csv", "byteCount": 10}]}))
    assert azure.entries == (("d/e/p.csv", 10),)
    with pytest.raises(ManifestError, match="bad.json: not valid JSON"):
        parse_manifest("bad.json", "{")
    with pytest.raises(ManifestError, match="names no data files"):
        parse_manifest("empty.json", json.dumps({"blobs": []}))


def test_a_source_without_manifest_declared_keeps_taking_the_newest_delivery_whole(env):
    exports, *_, con = env
    plain = dataclasses.replace(AWS, manifest=None)
    [data] = exports.glob("aws/*/data/BILLING_PERIOD=2026-08/*.parquet")
    shutil.copy(data, data.with_name("atlas-cur2-00099.snappy.parquet"))
    land(env, plain)
    count, _ = con.execute("select count(*), 0 from raw.aws_cur2").fetchone()
    assert count == 2 * pq.read_metadata(data).num_rows  # without a manifest the stale copy is taken too
