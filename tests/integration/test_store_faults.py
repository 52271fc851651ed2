"""Store faults through the real emulators (issue 15): credentials refused (S3 403 with moto's IAM
enforcement, an expired or wrongly signed Azure SAS on Azurite, GCS 401/403), a store down, a
listing that fails on its second page, retries exhausted, an object deleted or rewritten between
listing and fetch, listings of more than 1,000 objects, delivery manifests and empty re-deliveries
through each store, and the local store's symbolic links.

What must hold (README "When a store fails"): an unreachable store skips that source with a
warning (`store_reachable`) and the run goes on for every other source; the source keeps the
deliveries it had; nothing half-listed or half-fetched lands; no secret appears in any message."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from atlas_pipeline.defs.ingest.assets import build_ingest_asset
from atlas_pipeline.defs.ingest.partitions import SINGLE_RUN, add_partitions, billing_periods, range_tags
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.ingest.object_store import LocalStore, ObjectChanged, StoreUnavailable, open_store
from atlas_pipeline.lib.ingest.sources import parse_source
from atlas_pipeline.lib.run.run_summary import check_lines, check_outcomes
from atlas_pipeline.lib.settings import DECLARATIONS_DIR, AtlasPaths
from atlas_pipeline.lib.warehouse.connections import connect

from .conftest import (
    AUGUST,
    AWS_SECRET,
    AZURITE,
    AZURITE_KEY,
    BIN,
    SEPTEMBER,
    Bucket,
    FailingFront,
    ListedThenDown,
    export,
    free_port,
    server,
    source_at,
)

pytestmark = pytest.mark.integration

NODES_SOURCE = parse_source(DECLARATIONS_DIR / "sources" / "gpu_nodes.yaml")
PART = f"{AUGUST}/run-1/part_0_0001.csv"


def totals(source) -> dict[str, Decimal]:
    """Cost per period of the source's current deliveries, in the run's warehouse."""
    with connect(AtlasPaths.from_env().warehouse) as con:
        refresh_raw_view(con, source)
        return dict(con.execute(
            f'select x_period, sum(cast("CostInBillingCurrency" as decimal(38, 12))) from raw.{source.name} group by 1'
        ).fetchall())


def pull(source, store=None):
    """One landing pass into the test's warehouse (the ingest asset's first half)."""
    paths = AtlasPaths.from_env().ensure()
    with connect(paths.warehouse) as con:
        return land_source(con, source, store or open_store(source.location), paths.landing, paths.quarantine)


def manifest_rows(source) -> list[tuple]:
    with connect(AtlasPaths.from_env().warehouse) as con:
        return con.execute(
            "select period, export_version, object_key, status from landing.manifest where source = ? order by all",
            [source.name],
        ).fetchall()


@pytest.fixture()
def healthy_source() -> object:
    """A second source on the local disk: it must land whatever happens to the store under test."""
    folder = AtlasPaths.from_env().ensure().exports / "inventory"
    folder.mkdir(parents=True)
    (folder / "nodes.csv").write_text("hostname,cluster,gpu_count\nnode-1,onprem-a,8\n")
    return dataclasses.replace(NODES_SOURCE, location=str(folder))


@dataclasses.dataclass
class Refresh:
    """One in-process refresh: the ingest asset of each source, and a model downstream of all."""

    result: dg.ExecuteInProcessResult
    checks: list[str]  # the run summary's check lines

    def warning(self, source) -> str:
        [line] = [c for c in self.checks if c.startswith(f"WARN   raw/{source.name} :: store_reachable")]
        return line

    @property
    def downstream_built(self) -> bool:
        return bool(self.result.asset_materializations_for_node("billing_model"))


def refresh(*sources) -> Refresh:
    ingests = [build_ingest_asset(s) for s in sources]

    @dg.asset(deps=[i.key for i in ingests], partitions_def=billing_periods, backfill_policy=SINGLE_RUN)
    def billing_model() -> None:
        """Stands in for the dbt models downstream of every raw view."""

    with dg.DagsterInstance.ephemeral() as instance:
        # The ingest assets are partitioned by billing period: one run over both months' partitions,
        # as `atlas run` launches them (a single-run range).
        add_partitions(instance, billing_periods, ["2026-08", "2026-09"])
        result = dg.materialize([*ingests, billing_model], resources={"warehouse": Warehouse()}, instance=instance,
                                tags=range_tags("2026-08", "2026-09"), raise_on_error=False)
        return Refresh(result, check_lines(check_outcomes(instance, [result.run_id])))


def assert_skipped_with_a_warning(run: Refresh, source, *phrases: str) -> str:
    """The run succeeded and built downstream; the source warns naming why; no secret shows."""
    assert run.result.success, run.checks
    assert run.downstream_built
    warning = run.warning(source)
    assert "skipped this run: " in warning and source.location in warning
    for phrase in phrases:
        assert phrase in warning, warning
    for secret in (AWS_SECRET, AZURITE_KEY, "sig="):
        assert secret not in warning
    return warning


# --- Credentials refused ---------------------------------------------------------------------------


@pytest.fixture()
def s3_with_iam(emulator_logs: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    """A moto server that enforces IAM (after its first requests, which set up a reader's keys)."""
    import boto3

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {"AWS_ENDPOINT_URL_S3": endpoint, "AWS_ACCESS_KEY_ID": "bootstrap", "AWS_SECRET_ACCESS_KEY": "bootstrap",
           "AWS_DEFAULT_REGION": "us-east-1", "NO_PROXY": "127.0.0.1", "ATLAS_STORE_MAX_ATTEMPTS": "2"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("INITIAL_NO_AUTH_ACTION_COUNT", "5")  # read by the moto server at start
    with server([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], endpoint + "/moto-api/",
                emulator_logs / f"moto-iam-{port}.log"):
        monkeypatch.delenv("INITIAL_NO_AUTH_ACTION_COUNT")
        iam = boto3.client("iam", endpoint_url=endpoint)
        iam.create_user(UserName="atlas-reader")
        key = iam.create_access_key(UserName="atlas-reader")["AccessKey"]
        iam.put_user_policy(UserName="atlas-reader", PolicyName="read-exports", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}],
        }))
        s3 = boto3.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket="atlas-iam")
        s3.put_object(Bucket="atlas-iam", Key=f"exports/{PART}", Body=export(AUGUST, "12.34"))
        yield {"key_id": key["AccessKeyId"], "secret": key["SecretAccessKey"], "endpoint": endpoint}


def test_s3_refusing_our_keys_skips_that_source_with_a_warning_and_keeps_its_deliveries(
    s3_with_iam, healthy_source, monkeypatch
):
    source = source_at("s3://atlas-iam/exports")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_with_iam["key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_with_iam["secret"])
    first = refresh(source, healthy_source)
    assert first.result.success and totals(source) == {"2026-08": Decimal("12.34")}

    for key_id, secret, code in [("AKIAROTATEDAWAY00000", AWS_SECRET, "InvalidAccessKeyId"),
                                 (s3_with_iam["key_id"], AWS_SECRET, "SignatureDoesNotMatch")]:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
        run = refresh(source, healthy_source)
        assert_skipped_with_a_warning(run, source, code)
        assert totals(source) == {"2026-08": Decimal("12.34")}  # August stays as it was


@pytest.mark.parametrize("bucket", ["az"], indirect=True)
@pytest.mark.parametrize("sas", ["expired", "wrong key"])
def test_an_expired_or_wrongly_signed_azure_sas_skips_that_source_with_a_warning(
    bucket: Bucket, healthy_source, monkeypatch, sas
):
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    bucket.put(PART, export(AUGUST, "5.00"))
    source = source_at(bucket.location)
    container = bucket.location.split("://", 1)[1].split("/", 1)[0]
    account_url = bucket.upstream + "/devstoreaccount1"
    now = datetime.now(UTC)

    def token(key: str, expiry: datetime) -> str:
        return generate_container_sas("devstoreaccount1", container, account_key=key, expiry=expiry,
                                      start=now - timedelta(hours=2),
                                      permission=ContainerSasPermissions(read=True, list=True))

    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_URL", account_url)
    monkeypatch.setenv("AZURE_STORAGE_SAS_TOKEN", token(AZURITE_KEY, now + timedelta(hours=1)))
    assert refresh(source, healthy_source).result.success and totals(source) == {"2026-08": Decimal("5.00")}

    wrong_key = "A" * 86 + "=="
    bad = token(AZURITE_KEY, now - timedelta(minutes=5)) if sas == "expired" else token(wrong_key, now + timedelta(hours=1))
    monkeypatch.setenv("AZURE_STORAGE_SAS_TOKEN", bad)
    run = refresh(source, healthy_source)
    assert_skipped_with_a_warning(run, source, "failed to authenticate")
    assert totals(source) == {"2026-08": Decimal("5.00")}


@pytest.mark.parametrize("bucket", ["gs"], indirect=True)
@pytest.mark.parametrize("status", [401, 403])
def test_gcs_refusing_our_credentials_is_not_retried_and_skips_that_source(bucket: Bucket, healthy_source, monkeypatch,
                                                                           status):
    """The GCS emulator has no authentication: a front answers as GCS does to a bad or
    under-privileged token. An auth failure is not transient: each request once, no retries."""
    bucket.put(PART, export(AUGUST, "5.00"))
    source = source_at(bucket.location)
    with FailingFront(bucket.upstream, failures=100, status=status) as front:
        monkeypatch.setenv(bucket.endpoint_variable, front.url)
        run = refresh(source, healthy_source)
    assert_skipped_with_a_warning(run, source, {401: "GCS refused our credentials", 403: "403 GET"}[status])
    assert front.failed >= 1 and len(front.requests) == len(set(front.requests))  # refused, never retried
    assert totals(source) == {}  # never delivered: absent, empty


# --- Down, failing listings, retries exhausted ---------------------------------------------------


@contextlib.contextmanager
def dedicated_emulator(scheme: str, port: int, logs: Path, data: Path) -> Iterator[None]:
    """An emulator of one store on a fixed port, to stop and start again at the same address."""
    url = f"http://127.0.0.1:{port}"
    if scheme == "s3":
        cmd, ready, cwd = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], url + "/moto-api/", None
    elif scheme == "gs":
        cmd = [str(BIN / "gcp-storage-emulator"), "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"]
        ready, cwd = url + "/", logs
    else:
        if not AZURITE.exists():
            pytest.skip(f"Azurite not installed at {AZURITE} (`make test` installs it with npm)")
        cmd = [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(data),
               "--disableTelemetry", "--silent", "--skipApiVersionCheck"]
        ready, cwd = url + "/devstoreaccount1?comp=list", None
    with server(cmd, ready, logs / f"{scheme}-{port}-{datetime.now(UTC):%H%M%S%f}.log", cwd=cwd):
        yield


def store_at(scheme: str, port: int, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Callable[[str, bytes], None]]:
    """Point the SDK at the dedicated emulator; the source location and a way to deliver a file
    (creating the bucket first: the in-memory emulators forget everything when stopped)."""
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("ATLAS_STORE_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("ATLAS_STORE_INITIAL_BACKOFF_SECONDS", "0.2")
    monkeypatch.setenv("ATLAS_STORE_RETRY_SECONDS", "2")
    if scheme == "s3":
        import boto3

        for key, value in {"AWS_ENDPOINT_URL_S3": url, "AWS_ACCESS_KEY_ID": "atlas-test-key",
                           "AWS_SECRET_ACCESS_KEY": AWS_SECRET, "AWS_DEFAULT_REGION": "us-east-1"}.items():
            monkeypatch.setenv(key, value)

        def put(key: str, body: bytes) -> None:
            client = boto3.client("s3")
            with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
                client.create_bucket(Bucket="atlas-down")
            client.put_object(Bucket="atlas-down", Key=f"exports/{key}", Body=body)

        return "s3://atlas-down/exports", put
    if scheme == "gs":
        from google.api_core.exceptions import Conflict
        from google.cloud import storage

        monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)

        def put(key: str, body: bytes) -> None:
            client = storage.Client(project="atlas-local")
            with contextlib.suppress(Conflict):
                client.create_bucket("atlas-down")
            client.bucket("atlas-down").blob(f"exports/{key}").upload_from_string(body)

        return "gs://atlas-down/exports", put
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import BlobServiceClient

    conn = (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={url}/devstoreaccount1;")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", conn)

    def put(key: str, body: bytes) -> None:
        service = BlobServiceClient.from_connection_string(conn, retry_total=0)
        with contextlib.suppress(ResourceExistsError):
            service.create_container("atlas-down")
        service.get_container_client("atlas-down").upload_blob(f"exports/{key}", body, overwrite=True)

    return "az://atlas-down/exports", put


@pytest.mark.parametrize("scheme", ["s3", "gs", "az"])
def test_a_store_that_is_down_skips_its_source_until_it_is_back(scheme, emulator_logs, tmp_path, healthy_source,
                                                                 monkeypatch):
    port = free_port()
    location, put = store_at(scheme, port, monkeypatch)
    source = source_at(location)
    with dedicated_emulator(scheme, port, emulator_logs, tmp_path / "azurite"):
        put(PART, export(AUGUST, "12.34"))
        assert refresh(source, healthy_source).result.success
    assert totals(source) == {"2026-08": Decimal("12.34")}

    down = refresh(source, healthy_source)  # nothing listens on the port
    assert_skipped_with_a_warning(down, source)
    assert totals(source) == {"2026-08": Decimal("12.34")}

    with dedicated_emulator(scheme, port, emulator_logs, tmp_path / "azurite"):
        put(PART, export(AUGUST, "12.34"))
        put(f"{SEPTEMBER}/run-1/part_0_0001.csv", export(SEPTEMBER, "1.00"))
        back = refresh(source, healthy_source)
    assert back.result.success and not any(c.startswith("WARN") for c in back.checks)
    assert totals(source) == {"2026-08": Decimal("12.34"), "2026-09": Decimal("1.00")}


@pytest.mark.parametrize("scheme", ["s3", "gs", "az"])
def test_a_store_down_between_listing_and_fetch_records_nothing(scheme, emulator_logs, tmp_path, monkeypatch):
    """As the S3 test in test_object_stores, for GCS and Azure too: listed, then gone."""
    port = free_port()
    location, put = store_at(scheme, port, monkeypatch)
    source = source_at(location)
    with dedicated_emulator(scheme, port, emulator_logs, tmp_path / "azurite"):
        put(PART, export(AUGUST, "12.34"))
        store = open_store(location)
        listing = store.list()
    # The server is gone between listing and download.
    with pytest.raises(StoreUnavailable) as failure:
        pull(source, ListedThenDown(store, listing))
    assert location in str(failure.value) and AWS_SECRET not in str(failure.value)
    assert manifest_rows(source) == []  # nothing half-recorded


def _is_second_page(scheme: str) -> Callable[[str, str], bool]:
    """The request for a listing's second page (S3: continuation-token, Azure: marker)."""
    marker = {"s3": "continuation-token=", "az": "marker="}[scheme]
    return lambda method, path: method == "GET" and marker in path


def _is_listing(method: str, path: str) -> bool:
    return method == "GET" and "/o?" in path and "alt=media" not in path  # GCS JSON API: objects.list


def deliver_a_big_listing(bucket: Bucket) -> tuple[list[str], Decimal]:
    """1,050 objects under the location: 50 export parts spread among 1,000 other files (the export's
    sidecar metadata, which `include` does not take), so both pages of the listing hold parts."""
    from concurrent.futures import ThreadPoolExecutor

    objects = {}
    for i in range(1050):
        if i % 21 == 0:
            objects[f"{AUGUST}/run-1/part_{i:04d}_0001.csv"] = export(AUGUST, f"{i}.01")
        else:
            objects[f"{AUGUST}/run-1/part_{i:04d}_0001/_meta.json"] = b"{}"  # sorts between the parts
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda item: bucket.put(*item), objects.items()))
    parts = [key for key in objects if key.endswith(".csv")]
    return parts, sum((Decimal(f"{i}.01") for i in range(0, 1050, 21)), Decimal(0))


def test_a_listing_over_1000_objects_is_read_whole_and_a_failing_page_lands_nothing(bucket: Bucket, healthy_source,
                                                                                    monkeypatch):
    parts, total = deliver_a_big_listing(bucket)
    source = source_at(bucket.location)
    monkeypatch.setenv("ATLAS_STORE_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("ATLAS_STORE_RETRY_SECONDS", "2")
    # The listing fails on its second page (after the SDK's retries): none of the first page's parts
    # may land as if they were the whole delivery.
    failing = _is_listing if bucket.scheme == "gs" else _is_second_page(bucket.scheme)
    with FailingFront(bucket.upstream, failures=1000, when=failing) as front:
        monkeypatch.setenv(bucket.endpoint_variable, bucket.env[bucket.endpoint_variable].replace(bucket.upstream,
                                                                                                    front.url))
        run = refresh(source, healthy_source)
    assert front.failed >= 2
    assert_skipped_with_a_warning(run, source)
    assert manifest_rows(source) == []
    monkeypatch.setenv(bucket.endpoint_variable, bucket.env[bucket.endpoint_variable])

    listed = open_store(bucket.location).list()
    assert len(listed) == len({o.key for o in listed}) == 1050
    first = pull(source)
    assert (first.listed, first.downloaded, first.quarantined) == (50, 50, [])
    assert sorted(key for _, _, key, _ in manifest_rows(source)) == parts
    assert totals(source) == {"2026-08": total}
    again = pull(source)
    assert (again.downloaded, again.new_versions) == (0, [])
    assert len(manifest_rows(source)) == 50


def test_retries_exhausted_skip_that_source_with_a_warning(bucket: Bucket, healthy_source, monkeypatch):
    """More 503s than attempts: each SDK gives up after its policy (S3 and Azure: ATLAS_STORE_MAX_ATTEMPTS
    requests; GCS: ATLAS_STORE_RETRY_SECONDS of retrying), and the source is skipped, not the run.
    (On today's main S3 made one attempt more than ATLAS_STORE_MAX_ATTEMPTS: botocore's `max_attempts`
    retry key counts retries, `total_max_attempts` counts attempts.)"""
    bucket.put(PART, export(AUGUST, "7.00"))
    source = source_at(bucket.location)
    monkeypatch.setenv("ATLAS_STORE_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("ATLAS_STORE_RETRY_SECONDS", "2")
    with FailingFront(bucket.upstream, failures=1000) as front:
        monkeypatch.setenv(bucket.endpoint_variable, bucket.env[bucket.endpoint_variable].replace(bucket.upstream,
                                                                                                    front.url))
        run = refresh(source, healthy_source)
    assert_skipped_with_a_warning(run, source)
    if bucket.scheme == "gs":
        assert front.failed >= 2  # retried by deadline
    else:
        assert front.failed == 2  # exactly ATLAS_STORE_MAX_ATTEMPTS requests, then it gives up
    assert manifest_rows(source) == []


# --- Objects that change under us ----------------------------------------------------------------


class ChangesBeforeFetch:
    """A real store whose provider deletes or rewrites `key` right after the listing, before we fetch it."""

    def __init__(self, store, key: str, change: Callable[[], None]) -> None:
        self.store, self.key, self.change, self.changed = store, key, change, False

    def list(self):
        return self.store.list()

    def fetch(self, key: str, destination: Path) -> None:
        if key == self.key and not self.changed:
            self.change()
            self.changed = True
        self.store.fetch(key, destination)


@pytest.mark.parametrize("change", ["deleted", "rewritten"])
def test_an_object_deleted_or_rewritten_between_listing_and_fetch_lands_nothing_of_it(bucket: Bucket, change):
    source = source_at(bucket.location)
    bucket.put(PART, export(AUGUST, "100.00"))
    pull(source)
    restated = f"{AUGUST}/run-2/part_0_0001.csv"
    bucket.put(restated, export(AUGUST, "90.00"))
    if change == "deleted":
        provider_change = lambda: bucket.delete(restated)  # noqa: E731 - the provider retracts run-2
    else:
        provider_change = lambda: bucket.put(restated, export(AUGUST, "90.00", "-5.25"))  # noqa: E731

    with pytest.raises(ObjectChanged, match="run-2/part_0_0001.csv") as failure:
        pull(source, ChangesBeforeFetch(open_store(bucket.location), restated, provider_change))
    assert "next run" in str(failure.value)
    # Nothing of run-2 was recorded or quarantined: August is still run-1.
    assert [v for _, v, _, _ in manifest_rows(source)] == ["run-1"]
    assert not any(AtlasPaths.from_env().quarantine.rglob("*.csv"))
    assert totals(source) == {"2026-08": Decimal("100.00")}

    after = pull(source)  # the next run sees the store as it is now
    if change == "deleted":
        assert after.new_versions == [] and totals(source) == {"2026-08": Decimal("100.00")}
    else:
        assert after.new_versions == ["2026-08@run-2"] and totals(source) == {"2026-08": Decimal("84.75")}


# --- Manifests and empty re-deliveries through each store ------------------------------------------


def azure_manifest(run: str, parts: dict[str, bytes], container_path: str = "exports") -> bytes:
    return json.dumps({"blobs": [
        {"blobName": f"{container_path}/{AUGUST}/{run}/{name}", "byteCount": len(body)} for name, body in parts.items()
    ]}).encode()


def test_a_manifest_delivery_counts_only_once_every_file_it_names_is_there(bucket: Bucket):
    source = source_at(bucket.location)
    parts = {"part_0_0001.csv": export(AUGUST, "10.00"), "part_1_0001.csv": export(AUGUST, "2.50")}
    bucket.put(f"{AUGUST}/run-1/part_0_0001.csv", parts["part_0_0001.csv"])
    bucket.put(f"{AUGUST}/run-1/manifest.json", azure_manifest("run-1", parts))
    waiting = pull(source)
    assert waiting.new_versions == [] and len(waiting.waiting) == 1 and "part_1_0001.csv" in waiting.waiting[0]
    assert totals(source) == {}

    bucket.put(f"{AUGUST}/run-1/part_1_0001.csv", parts["part_1_0001.csv"])
    assert pull(source).new_versions == ["2026-08@run-1"]
    assert totals(source) == {"2026-08": Decimal("12.50")}

    # A restatement whose manifest names one file; a stale part left in its folder is not taken.
    restated = {"part_0_0001.csv": export(AUGUST, "11.00")}
    bucket.put(f"{AUGUST}/run-2/part_0_0001.csv", restated["part_0_0001.csv"])
    bucket.put(f"{AUGUST}/run-2/part_9_0001.csv", export(AUGUST, "999.00"))
    bucket.put(f"{AUGUST}/run-2/manifest.json", azure_manifest("run-2", restated))
    assert pull(source).new_versions == ["2026-08@run-2"]
    assert totals(source) == {"2026-08": Decimal("11.00")}


@pytest.mark.parametrize("empty", ["header only", "zero bytes", "empty gzip"])
def test_an_empty_re_delivery_is_held_back_through_every_store(bucket: Bucket, empty):
    """Finding 1 through the real stores: the good month stays current, the run says it held the
    re-delivery back (lib/ingest/landing.py's judgement), and `accept` makes it current."""
    import gzip

    from atlas_pipeline.lib.ingest.landing import accept_delivery

    source = source_at(bucket.location)
    bucket.put(PART, export(AUGUST, "100.00", "23.45"))
    pull(source)
    body = {"header only": export(AUGUST), "zero bytes": b"", "empty gzip": gzip.compress(b"")}[empty]
    bucket.put(f"{AUGUST}/run-2/part_0_0001.csv", body)
    report = pull(source)
    assert [h.split(":")[0] for h in report.held_back] == ["2026-08@run-2"], report.held_back
    assert totals(source) == {"2026-08": Decimal("123.45")}

    with connect(AtlasPaths.from_env().warehouse) as con:
        accept_delivery(con, source.name, "2026-08", accepted_by="test")
    assert totals(source) == {}  # accepted: August is the empty delivery now


# --- Symbolic links in the local store -----------------------------------------------------------


def test_a_node_inventory_linked_to_etc_passwd_is_refused_and_reported(tmp_path):
    folder = tmp_path / "inventory"
    folder.mkdir()
    (folder / "nodes.csv").symlink_to("/etc/passwd")
    source = dataclasses.replace(NODES_SOURCE, location=str(folder))
    report = pull(source, LocalStore(folder))
    [refused] = report.refused
    assert "'nodes.csv'" in refused and "/etc/passwd" in refused and "outside the export folder" in refused
    assert report.listed == 0 and manifest_rows(source) == []
    assert not any(AtlasPaths.from_env().quarantine.rglob("*"))  # not even quarantined: never read


def test_links_out_of_the_export_folder_are_refused_and_links_inside_it_followed(tmp_path):
    folder, elsewhere = tmp_path / "exports", tmp_path / "another-export"
    (folder / AUGUST / "run-1").mkdir(parents=True)
    elsewhere.mkdir()
    (folder / PART).write_bytes(export(AUGUST, "10.00"))
    (elsewhere / "part_0_0001.csv").write_bytes(export(AUGUST, "3490.00"))
    (folder / AUGUST / "run-2").mkdir()
    (folder / AUGUST / "run-2" / "part_0_0001.csv").symlink_to(elsewhere / "part_0_0001.csv")
    (folder / AUGUST / "run-1" / "part_1_0001.csv").symlink_to(folder / PART)  # inside: followed
    (folder / AUGUST / "run-3").symlink_to(elsewhere, target_is_directory=True)  # a linked folder: not entered
    (folder / AUGUST / "run-4").mkdir()
    (folder / AUGUST / "run-4" / "part_0_0001.csv").symlink_to(folder / AUGUST / "run-4" / "part_0_0001.csv")  # a loop
    source = source_at(str(folder))

    report = pull(source, LocalStore(folder))
    assert [r.split(":")[0] for r in report.refused] == [
        f"refusing '{AUGUST}/run-2/part_0_0001.csv'", f"refusing '{AUGUST}/run-4/part_0_0001.csv'"
    ]
    assert "a loop of links" in report.refused[1]
    assert totals(source) == {"2026-08": Decimal("20.00")}  # run-1: the file and its link inside the folder
    assert [key for _, _, key, _ in manifest_rows(source)] == [PART, f"{AUGUST}/run-1/part_1_0001.csv"]


def test_a_file_swapped_for_an_outside_link_after_listing_is_not_fetched(tmp_path):
    folder = tmp_path / "exports"
    (folder / AUGUST / "run-1").mkdir(parents=True)
    (folder / PART).write_bytes(export(AUGUST, "10.00"))
    store = LocalStore(folder)
    store.list()
    (folder / PART).unlink()
    (folder / PART).symlink_to("/etc/passwd")
    with pytest.raises(ObjectChanged, match="symbolic link to /etc/passwd"):
        store.fetch(PART, tmp_path / "fetched")
    assert not (tmp_path / "fetched").exists()


def test_the_ingest_asset_reports_refused_links(tmp_path):
    folder = tmp_path / "inventory"
    folder.mkdir()
    (folder / "nodes.csv").symlink_to("/etc/passwd")
    source = dataclasses.replace(NODES_SOURCE, location=str(folder))
    run = refresh(source)
    assert run.result.success
    [materialization] = run.result.asset_materializations_for_node("raw__gpu_nodes")
    refused = materialization.metadata["refused_keys"].value
    assert len(refused) == 1 and "/etc/passwd" in refused[0]
    assert os.path.realpath(folder / "nodes.csv") == "/etc/passwd"  # the link itself is left alone
