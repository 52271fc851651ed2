"""Real object-store emulators on 127.0.0.1 with free ports, started and stopped by fixtures:
moto server (S3), gcp-storage-emulator (GCS), Azurite (Azure Blob, installed by `make test`)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from atlas_pipeline.lib.ingest.sources import ExportSource, parse_source
from atlas_pipeline.lib.settings import DECLARATIONS_DIR

BIN = Path(sys.executable).parent
REPO = Path(__file__).parents[2]
AZURITE = REPO / ".tools" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's published development account key (public, documented by Microsoft; not a secret).
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
# Test credentials for moto; the tests assert this value never shows in an error.
AWS_SECRET = "atlas-test-secret-do-not-log"


# What the object-store tests deliver: Azure cost-details exports, read by the real declaration and contract.
AZURE = parse_source(DECLARATIONS_DIR / "sources" / "azure_cost_details_actual.yaml")
HEADER = "BillingAccountId,SubscriptionId,Date,Quantity,CostInBillingCurrency,BillingCurrencyCode,ChargeType"
AUGUST, SEPTEMBER = "20260801-20260831", "20260901-20260930"


def export(month: str, *costs: str) -> bytes:
    """An Azure cost-details part file: one Usage row per cost, dated in `month`."""
    day = {AUGUST: "08/03/2026", SEPTEMBER: "09/03/2026"}[month]
    rows = [f"8765,sub-{i},{day},1,{cost},USD,Usage" for i, cost in enumerate(costs)]
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def source_at(location: str) -> ExportSource:
    """The Azure declaration, reading from `location`."""
    return dataclasses.replace(AZURE, location=location)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _restore_signals() -> None:
    # A child started from a background shell inherits SIGINT ignored; let SIGTERM/SIGINT stop it.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


@contextlib.contextmanager
def server(cmd: list[str], ready_url: str, log: Path, cwd: Path | None = None) -> Iterator[subprocess.Popen]:
    """Run `cmd` until the block ends; ready when `ready_url` answers any HTTP status."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True,
                                preexec_fn=_restore_signals)
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}; see {log}")
                try:
                    opener.open(ready_url, timeout=1)
                    break
                except urllib.error.HTTPError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{cmd[0]} did not answer on {ready_url}; see {log}") from None
                    time.sleep(0.1)
            yield proc
        finally:
            stop_group(proc)


def stop_group(proc: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM the process group a server leads (started with start_new_session), SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# What each failure answers: S3's and Azure's XML error shape (GCS reads the status code).
_ERROR_BODIES = {
    503: b"<Error><Code>ServiceUnavailable</Code><Message>try again</Message></Error>",
    401: b"<Error><Code>Unauthorized</Code><Message>invalid credentials</Message></Error>",
    403: b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
}


class FailingFront:
    """An HTTP front on 127.0.0.1 for an emulator: answers the first `failures` requests with
    503 Service Unavailable (a store under load), then forwards everything unchanged — so the
    SDKs' own retry policies are exercised over a real socket, not a mock. `status` answers another
    code instead (401, 403: a store refusing our credentials); `when(method, path)` picks which
    requests may fail (e.g. only a listing's second page)."""

    def __init__(self, upstream: str, failures: int, status: int = 503,
                 when: Callable[[str, str], bool] | None = None) -> None:
        import http.client
        import http.server
        import threading
        from urllib.parse import urlsplit

        target = urlsplit(upstream)
        front = self
        self.remaining = failures
        self.failed = 0
        self.requests: list[tuple[str, str, int | None]] = []  # (method, path, status it failed with)
        self.forwarded = 0
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with front.lock:
                    fail = front.remaining > 0 and (when is None or when(self.command, self.path))
                    front.remaining -= fail
                    front.failed += fail
                    front.requests.append((self.command, self.path, status if fail else None))
                if fail:
                    payload = _ERROR_BODIES.get(status, _ERROR_BODIES[503])
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                conn.close()
                with front.lock:
                    front.forwarded += 1
                self.send_response(response.status, response.reason)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length", "keep-alive"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FailingFront:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class ListedThenDown:
    """A store listed while its server ran, whose server then stopped: `list` gives that listing,
    `fetch` goes to the stopped server."""

    def __init__(self, store, listing) -> None:
        self.listing, self.fetch = listing, store.fetch

    def list(self):
        return self.listing


@dataclass
class Bucket:
    """One emulated bucket: `location` for a source declaration, `put` to deliver an export file."""

    scheme: str
    location: str
    put: Callable[[str, bytes], None]
    env: dict[str, str]
    restart: Callable[[], contextlib.AbstractContextManager] | None = None
    delete: Callable[[str], None] | None = None
    endpoint_variable: str = ""  # the env variable that points the SDK at the emulator

    @property
    def upstream(self) -> str:
        """The emulator's http://127.0.0.1:port, for a FailingFront in front of it."""
        import re

        return re.search(r"http://127\.0\.0\.1:\d+", self.env[self.endpoint_variable]).group(0)


@pytest.fixture(scope="session")
def emulator_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator_logs")


@pytest.fixture(scope="session")
def s3_endpoint(emulator_logs: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with server([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], url + "/moto-api/",
                emulator_logs / "moto.log"):
        yield url


@pytest.fixture(scope="session")
def gcs_endpoint(emulator_logs: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [str(BIN / "gcp-storage-emulator"), "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"]
    with server(cmd, url + "/", emulator_logs / "gcs.log", cwd=emulator_logs):
        yield url


@pytest.fixture(scope="session")
def azurite_connection_string(emulator_logs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not AZURITE.exists():
        pytest.skip(f"Azurite not installed at {AZURITE} (`make test` installs it with npm)")
    port = free_port()
    url = f"http://127.0.0.1:{port}/devstoreaccount1"
    cmd = [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port),
           "--location", str(tmp_path_factory.mktemp("azurite")), "--disableTelemetry", "--silent",
           "--skipApiVersionCheck"]
    with server(cmd, url + "?comp=list", emulator_logs / "azurite.log"):
        yield (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
               f"BlobEndpoint={url};")


_counter = iter(range(10_000))


@pytest.fixture(params=["s3", "gs", "az"])
def bucket(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Bucket:
    """A fresh, empty bucket/container in the emulator of each store, with the SDK env pointed at it."""
    name = f"atlas-exports-{next(_counter)}"
    monkeypatch.setenv("ATLAS_STORE_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("ATLAS_STORE_INITIAL_BACKOFF_SECONDS", "0.5")
    if request.param == "s3":
        import boto3

        endpoint = request.getfixturevalue("s3_endpoint")
        env = {"AWS_ENDPOINT_URL_S3": endpoint, "AWS_ACCESS_KEY_ID": "atlas-test-key",
               "AWS_SECRET_ACCESS_KEY": AWS_SECRET, "AWS_DEFAULT_REGION": "us-east-1", "NO_PROXY": "127.0.0.1"}
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        client = boto3.client("s3")
        client.create_bucket(Bucket=name)
        return Bucket("s3", f"s3://{name}/exports", lambda key, body: client.put_object(
            Bucket=name, Key=f"exports/{key}", Body=body), env,
            delete=lambda key: client.delete_object(Bucket=name, Key=f"exports/{key}"),
            endpoint_variable="AWS_ENDPOINT_URL_S3")
    if request.param == "gs":
        from google.cloud import storage

        endpoint = request.getfixturevalue("gcs_endpoint")
        env = {"STORAGE_EMULATOR_HOST": endpoint, "NO_PROXY": "127.0.0.1"}
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        gcs_bucket = storage.Client(project="atlas-local").create_bucket(name)
        return Bucket("gs", f"gs://{name}/exports", lambda key, body: gcs_bucket.blob(f"exports/{key}").upload_from_string(
            body), env, delete=lambda key: gcs_bucket.blob(f"exports/{key}").delete(),
            endpoint_variable="STORAGE_EMULATOR_HOST")
    from azure.storage.blob import BlobServiceClient

    conn = request.getfixturevalue("azurite_connection_string")
    env = {"AZURE_STORAGE_CONNECTION_STRING": conn, "NO_PROXY": "127.0.0.1"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    container = BlobServiceClient.from_connection_string(conn).create_container(name)
    return Bucket("az", f"az://{name}/exports", lambda key, body: container.upload_blob(
        f"exports/{key}", body, overwrite=True), env, delete=lambda key: container.delete_blob(f"exports/{key}"),
        endpoint_variable="AZURE_STORAGE_CONNECTION_STRING")
