"""Ingestion from S3, GCS and Azure Blob through the real SDKs against real local emulators:
first pull, no-op second pull, restated month, new month, truncated or corrupted transfer,
transient 503s, malicious key, store down mid-run then back — and no credential in any error."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.ingest.object_store import S3Store, StoreUnavailable, open_store
from atlas_pipeline.lib.warehouse.connections import connect

from .conftest import (
    AUGUST,
    AWS_SECRET,
    BIN,
    SEPTEMBER,
    FailingFront,
    ListedThenDown,
    export,
    free_port,
    server,
    source_at,
)

pytestmark = pytest.mark.integration



@pytest.fixture()
def warehouse(tmp_path: Path):
    with connect(tmp_path / "wh.duckdb") as con:
        yield con, tmp_path / "landing", tmp_path / "quarantine"


def pull(warehouse, source, store=None):
    con, landing, quarantine = warehouse
    return land_source(con, source, store or open_store(source.location), landing, quarantine)


def totals(con, source) -> dict[str, Decimal]:
    refresh_raw_view(con, source)
    rows = con.execute(
        f'select x_period, sum(cast("CostInBillingCurrency" as decimal(38, 12))) from raw.{source.name} group by 1'
    ).fetchall()
    return dict(rows)


def test_first_pull_lands_everything_and_a_second_pull_downloads_nothing(bucket, warehouse):
    bucket.put(f"{AUGUST}/run-1/part_0_0001.csv", export(AUGUST, "10.25", "0.000001"))
    bucket.put(f"{AUGUST}/run-1/part_1_0001.csv", export(AUGUST, "5.00"))
    bucket.put("unrelated/readme.txt", b"not an export")
    source = source_at(bucket.location)

    first = pull(warehouse, source)
    assert (first.listed, first.downloaded, first.quarantined) == (2, 2, [])
    assert totals(warehouse[0], source) == {"2026-08": Decimal("15.250001")}
    manifest = warehouse[0].execute(
        "select object_key, size_bytes, fingerprint, last_modified is not null from landing.manifest order by 1"
    ).fetchall()
    assert [m[0] for m in manifest] == [f"{AUGUST}/run-1/part_0_0001.csv", f"{AUGUST}/run-1/part_1_0001.csv"]
    assert all(size > 0 and fingerprint and has_time for _, size, fingerprint, has_time in manifest)

    second = pull(warehouse, source)
    assert (second.downloaded, second.new_versions, second.unchanged_periods) == (0, [], 1)
    assert "0 downloaded" in second.summary() or "nothing new" in second.summary().lower()


def test_restated_month_replaces_it_and_a_new_month_appends(bucket, warehouse):
    source = source_at(bucket.location)
    bucket.put(f"{AUGUST}/run-1/part_0_0001.csv", export(AUGUST, "100.00"))
    pull(warehouse, source)
    # The provider re-runs August (a restatement) and delivers September.
    bucket.put(f"{AUGUST}/run-2/part_0_0001.csv", export(AUGUST, "100.00", "-3.50"))
    bucket.put(f"{SEPTEMBER}/run-1/part_0_0001.csv", export(SEPTEMBER, "42.00"))

    report = pull(warehouse, source)
    assert report.downloaded == 2 and len(report.new_versions) == 2
    # August is the restated delivery only — never both runs summed.
    assert totals(warehouse[0], source) == {"2026-08": Decimal("96.50"), "2026-09": Decimal("42.00")}


class DamagedTransfers:
    """A real store whose first `failures` transfers arrive damaged by `damage` (bytes -> bytes)."""

    def __init__(self, store, failures: int, damage) -> None:
        self.store, self.failures, self.damage = store, failures, damage

    def list(self):
        return self.store.list()

    def fetch(self, key, destination):
        self.store.fetch(key, destination)
        if self.failures:
            self.failures -= 1
            destination.write_bytes(self.damage(destination.read_bytes()))


def _cut_short(data: bytes) -> bytes:
    """A dropped connection: the transfer ends early."""
    return data[:20]


def _flip_a_digit(data: bytes) -> bytes:
    """A corrupted transfer: same size, one byte different."""
    damaged = bytearray(data)
    damaged[-3] = ord("9") if damaged[-3] != ord("9") else ord("8")
    return bytes(damaged)


def _damaged_once_then_always(bucket, warehouse, real, damage) -> dict:
    """Run 1's one transfer arrives damaged once (fetched again, it lands); run 2's arrives damaged
    on every try: its quarantine item. The broken delivery never becomes current: August still reads
    the last complete one."""
    source = source_at(bucket.location)
    flaky = pull(warehouse, source, DamagedTransfers(real, 1, damage))
    assert flaky.quarantined == [] and totals(warehouse[0], source) == {"2026-08": Decimal("15.00")}

    bucket.put(f"{AUGUST}/run-2/part_0_0001.csv", export(AUGUST, "9.00"))
    broken = pull(warehouse, source, DamagedTransfers(real, 2, damage))
    [item] = broken.quarantined
    assert "run-2/part_0_0001.csv" in item["file"]
    assert totals(warehouse[0], source) == {"2026-08": Decimal("15.00")}
    return item


def test_a_truncated_transfer_is_fetched_again_then_quarantined(bucket, warehouse):
    bucket.put(f"{AUGUST}/run-1/part_0_0001.csv", export(AUGUST, "7.00", "8.00"))
    item = _damaged_once_then_always(bucket, warehouse, open_store(bucket.location), _cut_short)
    assert "size mismatch" in item["problem"]



def test_a_corrupted_transfer_fails_the_stores_checksum_and_is_quarantined(bucket, warehouse):
    """Same size, different bytes: only the store's recorded MD5 can tell. GCS always records one;
    Azure does for single-shot uploads. S3 is covered by boto3's own checksum validation inside
    the download, which a corruption after it (as here) cannot show."""
    bucket.put(f"{AUGUST}/run-1/part_0_0001.csv", export(AUGUST, "7.00", "8.00"))
    real = open_store(bucket.location)
    [listed] = real.list()
    if listed.md5 is None:
        assert bucket.scheme == "s3"  # the other two stores must report an MD5
        pytest.skip("S3 listings carry no usable MD5 (ETag is not one for multipart or SSE-KMS uploads)")
    item = _damaged_once_then_always(bucket, warehouse, real, _flip_a_digit)
    assert "checksum mismatch" in item["problem"]


def test_transient_503s_are_retried_by_the_sdk_and_the_pull_completes(bucket, warehouse, monkeypatch):
    """The store answers 503 twice (listing, then whatever comes next) before serving normally:
    each SDK's retry policy (botocore standard mode, google-api-core DEFAULT_RETRY, azure-core
    RetryPolicy) absorbs it and the pull lands everything once."""
    import re

    bucket.put(f"{AUGUST}/run-1/part_0_0001.csv", export(AUGUST, "7.00", "8.00"))
    monkeypatch.setenv("ATLAS_STORE_MAX_ATTEMPTS", "4")  # more attempts than injected failures
    variable = {"s3": "AWS_ENDPOINT_URL_S3", "gs": "STORAGE_EMULATOR_HOST", "az": "AZURE_STORAGE_CONNECTION_STRING"}
    setting = bucket.env[variable[bucket.scheme]]
    upstream = re.search(r"http://127\.0\.0\.1:\d+", setting).group(0)
    with FailingFront(upstream, failures=2) as front:
        monkeypatch.setenv(variable[bucket.scheme], setting.replace(upstream, front.url))
        report = pull(warehouse, source_at(bucket.location))
    assert (front.failed, report.downloaded, report.quarantined) == (2, 1, [])
    assert front.forwarded >= 2  # the listing and the download went through after the 503s
    assert totals(warehouse[0], source_at(bucket.location)) == {"2026-08": Decimal("15.00")}

def test_a_key_that_would_escape_landing_is_refused(bucket, warehouse):
    if bucket.scheme != "s3":
        # Azure normalizes '..' at upload and the GCS emulator drops the connection on it; S3 stores it verbatim.
        pytest.skip(f"{bucket.scheme}: a '..' object name cannot be created in this store/emulator")
    source = source_at(bucket.location)
    bucket.put(f"{AUGUST}/run-1/part_0_0001.csv", export(AUGUST, "1.00"))
    bucket.put("../run-1/part_9_0001.csv", export(AUGUST, "666.00"))
    assert any(".." in o.key for o in open_store(bucket.location).list())
    report = pull(warehouse, source)
    assert len(report.refused) == 1 and "escape the landing folder" in report.refused[0]
    assert totals(warehouse[0], source) == {"2026-08": Decimal("1.00")}
    landing = warehouse[1]
    assert all(landing in p.resolve().parents for p in landing.rglob("*"))


def test_s3_down_mid_run_fails_clearly_without_secrets_then_recovers(tmp_path, warehouse, monkeypatch):
    import boto3

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    for k, v in {"AWS_ENDPOINT_URL_S3": endpoint, "AWS_ACCESS_KEY_ID": "atlas-test-key",
                 "AWS_SECRET_ACCESS_KEY": AWS_SECRET, "AWS_DEFAULT_REGION": "us-east-1",
                 "ATLAS_STORE_MAX_ATTEMPTS": "2", "NO_PROXY": "127.0.0.1"}.items():
        monkeypatch.setenv(k, v)
    source = source_at("s3://atlas-down/exports")

    def deliver() -> None:
        client = boto3.client("s3")
        client.create_bucket(Bucket="atlas-down")
        for run in ("run-1",):
            client.put_object(Bucket="atlas-down", Key=f"exports/{AUGUST}/{run}/part_0_0001.csv",
                              Body=export(AUGUST, "12.34"))

    cmd = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    with server(cmd, endpoint + "/moto-api/", tmp_path / "moto-a.log"):
        deliver()
        store = S3Store(source.location)
        listed = store.list()
    # The server is gone between listing and download.
    with pytest.raises(StoreUnavailable) as failure:
        pull(warehouse, source, ListedThenDown(store, listed))
    message = str(failure.value)
    assert "s3://atlas-down/exports" in message and AWS_SECRET not in message and "atlas-test-key" not in message
    con = warehouse[0]
    assert con.execute("select count(*) from landing.manifest").fetchone()[0] == 0  # nothing half-recorded

    with server(cmd, endpoint + "/moto-api/", tmp_path / "moto-b.log"):
        deliver()
        report = pull(warehouse, source)
    assert report.downloaded == 1 and totals(con, source) == {"2026-08": Decimal("12.34")}


def test_unknown_scheme_and_missing_azure_credentials_say_what_to_do(monkeypatch):
    with pytest.raises(ValueError, match="unsupported object store scheme ftp://"):
        open_store("ftp://exports/billing")
    for var in ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT_URL"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(StoreUnavailable, match="AZURE_STORAGE_CONNECTION_STRING"):
        open_store("az://costexports/atlas")


def test_the_delivery_sensor_requests_a_run_per_new_delivery_and_then_stays_quiet(bucket):
    import dagster as dg

    from atlas_pipeline.defs.ingest.sensors import build_delivery_sensor
    from atlas_pipeline.defs.resources import Warehouse

    source = source_at(bucket.location)
    sensor = build_delivery_sensor(source)
    warehouse = Warehouse()
    instance = dg.DagsterInstance.ephemeral()
    bucket.put(f"{AUGUST}/run-1/part_0_0001.csv", export(AUGUST, "1.00"))

    def tick():
        with dg.build_sensor_context(instance=instance, resources={"warehouse": warehouse}) as context:
            result = sensor(context)
        # what the daemon does with the sensor's result: add the new billing-period partitions
        for add in getattr(result, "dynamic_partitions_requests", None) or []:
            instance.add_dynamic_partitions(add.partitions_def_name, list(add.partition_keys))
        return result

    first = tick()
    [request] = first.run_requests
    assert request.tags["atlas/periods"] == "2026-08"
    assert request.tags["dagster/partition"] == "2026-08"  # exactly the delivered month's partition
    assert instance.get_dynamic_partitions("billing_periods") == ["2026-08"]

    paths = warehouse.paths()
    with warehouse.connect() as con:
        land_source(con, source, open_store(source.location), paths.landing, paths.quarantine)
    assert isinstance(tick(), dg.SkipReason)

    bucket.put(f"{AUGUST}/run-2/part_0_0001.csv", export(AUGUST, "2.00"))  # a restatement
    bucket.put(f"{SEPTEMBER}/run-1/part_0_0001.csv", export(SEPTEMBER, "3.00"))
    [request] = tick().run_requests
    assert request.run_key != first.run_requests[0].run_key  # new deliveries, a new run key
    assert request.tags["atlas/periods"] == "2026-08,2026-09"
    # the restated and the new month: neighbours, so one single-run range over both
    assert (request.tags["dagster/asset_partition_range_start"],
            request.tags["dagster/asset_partition_range_end"]) == ("2026-08", "2026-09")
