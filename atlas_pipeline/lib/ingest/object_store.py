"""Listing and fetching export files. The local folder is the embedded default store;
S3, GCS and Azure Blob stores implement the same two calls through the providers' SDKs.

Credentials never appear in a location or a declaration: each SDK finds them in its standard
chain (AWS profile / env / instance role; Google ADC; an Azure connection string or key in the
environment). Endpoints come from the SDKs' own variables (AWS_ENDPOINT_URL_S3, STORAGE_EMULATOR_HOST)
or AZURE_STORAGE_CONNECTION_STRING, so the same code talks to the emulators in tests. Transient
errors (connection resets, 5xx, throttling) are retried with backoff by each SDK's retry policy.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Protocol


@dataclass(frozen=True)
class StoredObject:
    """One object as the store lists it. `fingerprint` changes whenever the content does."""

    key: str  # relative to the source location, '/'-separated
    size: int
    fingerprint: str  # ETag / generation / md5; for local files size + mtime
    last_modified: datetime
    # The content's MD5 (hex) as the store records it, when it does: GCS always (non-composite
    # objects), Azure when the uploader set Content-MD5 (single-shot uploads do). Landing checks
    # each transfer against it. S3's ETag is an MD5 only for some uploads (not multipart, not
    # SSE-KMS), so it is not used: boto3 validates S3's own checksums during the download.
    md5: str | None = None


class ObjectStore(Protocol):
    """List a location; fetch one listed object. A fetch is pinned to what the listing saw: an
    object deleted or replaced since raises ObjectChanged, never lands other bytes under the
    listed fingerprint. A store may also keep `refused` ({key: reason}): objects the listing
    skipped because serving them would be unsafe (the local store's symlinks out of its folder)."""

    def list(self) -> list[StoredObject]: ...

    def fetch(self, key: str, destination: Path) -> None: ...


class UnsafeKeyError(ValueError):
    """An object key that would escape the landing folder."""


def safe_relative_key(key: str) -> PurePosixPath:
    """Refuse keys that are absolute or climb out (`..`): object keys are never trusted as paths."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or key.startswith(("/", "\\")) or ".." in path.parts or "\\" in key:
        raise UnsafeKeyError(f"refusing object key {key!r}: it would escape the landing folder")
    return path


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Glob over '/'-separated keys: `*` and `?` stay within one path segment, `**` spans segments."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


class LocalStore:
    """A local folder laid out like a bucket (the default: `$ATLAS_EXPORTS`).

    A symbolic link is followed only when it resolves inside the folder: one that leads out of it
    (`nodes.csv -> /etc/passwd`, a link to another export's file) is skipped and kept in `refused`
    with the reason. Linked folders are not descended into."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.refused: dict[str, str] = {}
        self._listed: dict[str, str] = {}  # key -> fingerprint, what fetch must find

    def _outside(self, path: Path) -> str | None:
        """Where `path` really leads when that is outside the folder (None: inside)."""
        try:
            target = path.resolve()
        except (OSError, RuntimeError):  # a loop of links (Python 3.11 raises RuntimeError)
            return "a loop of links"
        return None if target.is_relative_to(self.root.resolve()) else str(target)

    def list(self) -> list[StoredObject]:
        if not self.root.is_dir():
            # An empty folder is a source with nothing yet; a missing one is a wrong location.
            raise LocationNotFound(f"{self.root} does not exist (or is not a folder)")
        objects, self.refused = [], {}
        for path in sorted(self.root.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if path.is_symlink() and (target := self._outside(path)) is not None:
                self.refused[key] = (
                    f"refusing {key!r}: a symbolic link to {target}, outside the export folder {self.root}"
                )
                continue
            if not path.is_file():
                continue
            stat = path.stat()
            objects.append(
                StoredObject(
                    key=key,
                    size=stat.st_size,
                    fingerprint=f"{stat.st_size}-{stat.st_mtime_ns}",
                    last_modified=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                )
            )
        self._listed = {o.key: o.fingerprint for o in objects}
        return objects

    def fetch(self, key: str, destination: Path) -> None:
        path = self.root / safe_relative_key(key)
        where = f"{self.root}/{key}"
        if not path.exists():
            raise _vanished(where)
        if (target := self._outside(path)) is not None:  # swapped for a link since the listing
            raise ObjectChanged(f"{where} became a symbolic link to {target}, outside the export folder{_NEXT_RUN}")
        shutil.copyfile(path, destination)
        stat = path.stat()
        if key in self._listed and f"{stat.st_size}-{stat.st_mtime_ns}" != self._listed[key]:
            raise _replaced(where)


def max_attempts() -> int:
    """Attempts per request, including the first, for S3 and Azure (their backoff is exponential with
    jitter): `ATLAS_STORE_MAX_ATTEMPTS` (default 5), read when a store opens, not at import."""
    return int(os.environ.get("ATLAS_STORE_MAX_ATTEMPTS", "5"))


def retry_seconds() -> float:
    """How long the GCS client keeps retrying one request (google-api-core retries by deadline, not
    by count; backoff 1 s doubling): `ATLAS_STORE_RETRY_SECONDS` (default 60)."""
    return float(os.environ.get("ATLAS_STORE_RETRY_SECONDS", "60"))


# Objects per listing request, the same for every store (S3's maximum, GCS's default; Azure's default
# is 5,000): a listing of a big export is many pages, and every page is read before anything lands.
LIST_PAGE_SIZE = 1000


class StoreUnavailable(RuntimeError):
    """The store could not be listed or read after the SDK's retries (the message names no secret)."""


class LocationNotFound(StoreUnavailable):
    """The declared location does not exist: a typo or a moved export, never an empty estate."""


class ObjectChanged(StoreUnavailable):
    """A listed object was deleted or replaced before it was fetched: the provider is writing the
    location right now. Nothing of it lands this run; the next listing sees the new state."""


def _vanished(where: str) -> ObjectChanged:
    return ObjectChanged(f"{where} was listed but no longer exists{_NEXT_RUN}")


def _replaced(where: str) -> ObjectChanged:
    return ObjectChanged(f"{where} was replaced or deleted since it was listed{_NEXT_RUN}")


_NEXT_RUN = " (the provider is writing this location now): nothing of it landed, the next run lists it again"


def _split(location: str) -> tuple[str, str]:
    """`scheme://bucket/some/prefix` -> (bucket, 'some/prefix/') — the prefix always ends in '/' or is ''."""
    rest = location.split("://", 1)[1]
    bucket, _, prefix = rest.partition("/")
    prefix = prefix.strip("/")
    return bucket, (prefix + "/" if prefix else "")


def _relative(key: str, prefix: str) -> str:
    return key[len(prefix):]


class S3Store:
    """`s3://bucket/prefix` through boto3 (credentials: boto3's default chain; endpoint: AWS_ENDPOINT_URL_S3)."""

    def __init__(self, location: str) -> None:
        import boto3
        from botocore.config import Config

        self.location = location
        self.bucket, self.prefix = _split(location)
        config = Config(retries={"mode": "standard", "total_max_attempts": max_attempts()}, connect_timeout=5,
                        read_timeout=60)
        # A session per store: credentials are resolved now (rotated keys, a refreshed profile), not
        # cached from the first store this process opened.
        self.client = boto3.session.Session().client("s3", config=config)
        self._etags: dict[str, str] = {}  # key -> ETag as listed: a fetch must get that version
        # boto3's download (s3transfer: HEAD, then ranged GETs, with its own retries) takes no IfMatch
        # argument; this handler adds it to each of those requests, so S3 answers 412 if the object changed.
        for operation in ("HeadObject", "GetObject"):
            self.client.meta.events.register(f"before-parameter-build.s3.{operation}", self._pin_listed_version)

    def _pin_listed_version(self, params: dict, **_: object) -> None:
        key = str(params.get("Key", ""))
        if key.startswith(self.prefix) and (etag := self._etags.get(key[len(self.prefix):])):
            params.setdefault("IfMatch", f'"{etag}"')

    def list(self) -> list[StoredObject]:
        from botocore.exceptions import BotoCoreError, ClientError

        objects = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix, PaginationConfig={"PageSize": LIST_PAGE_SIZE}
            )
            for page in pages:
                for item in page.get("Contents", []):
                    if item["Key"].endswith("/"):
                        continue
                    objects.append(
                        StoredObject(
                            key=_relative(item["Key"], self.prefix),
                            size=item["Size"],
                            fingerprint=item["ETag"].strip('"'),
                            last_modified=item["LastModified"].astimezone(UTC),
                        )
                    )
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailable(f"cannot list {self.location}: {type(exc).__name__}: {exc}") from None
        self._etags = {o.key: o.fingerprint for o in objects}
        return objects

    def fetch(self, key: str, destination: Path) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.download_file(self.bucket, self.prefix + key, str(destination))
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey"):
                raise _vanished(f"{self.location}/{key}") from None
            if code in ("412", "PreconditionFailed"):
                raise _replaced(f"{self.location}/{key}") from None
            raise StoreUnavailable(f"cannot read {self.location}/{key}: {type(exc).__name__}: {exc}") from None
        except BotoCoreError as exc:
            raise StoreUnavailable(f"cannot read {self.location}/{key}: {type(exc).__name__}: {exc}") from None


class GcsStore:
    """`gs://bucket/prefix` through google-cloud-storage (credentials: Application Default Credentials;
    emulator: STORAGE_EMULATOR_HOST, where the client goes anonymous)."""

    def __init__(self, location: str) -> None:
        from google.auth.exceptions import GoogleAuthError
        from google.cloud import storage

        self.location = location
        self.bucket_name, self.prefix = _split(location)
        emulated = bool(os.environ.get("STORAGE_EMULATOR_HOST"))
        project = os.environ.get("GOOGLE_CLOUD_PROJECT") or ("atlas-local" if emulated else None)
        try:
            self.client = storage.Client(project=project)
        except GoogleAuthError as exc:  # no Application Default Credentials at all
            raise StoreUnavailable(f"cannot open {location}: {type(exc).__name__}: {_first_line(exc)}") from None
        self._listed: dict[str, tuple[int, str | None]] = {}  # key -> (generation, md5) as listed

    def _retry(self):
        from google.cloud.storage.retry import DEFAULT_RETRY

        return DEFAULT_RETRY.with_timeout(retry_seconds())

    def list(self) -> list[StoredObject]:
        from google.api_core.exceptions import GoogleAPIError
        from google.auth.exceptions import GoogleAuthError

        try:
            listing = self.client.list_blobs(self.bucket_name, prefix=self.prefix, page_size=LIST_PAGE_SIZE,
                                             retry=self._retry())
            blobs = [b for b in listing if not b.name.endswith("/")]
        except (GoogleAPIError, GoogleAuthError, OSError) as exc:
            raise StoreUnavailable(f"cannot list {self.location}: {_gcs_problem(exc)}") from None
        objects = [
            StoredObject(
                key=_relative(blob.name, self.prefix),
                size=blob.size,
                fingerprint=f"{blob.generation}-{blob.md5_hash}",
                last_modified=blob.updated.astimezone(UTC),
                md5=base64.b64decode(blob.md5_hash).hex() if blob.md5_hash else None,
            )
            for blob in blobs
        ]
        self._listed = {o.key: (blob.generation, o.md5) for o, blob in zip(objects, blobs, strict=True)}
        return objects

    def fetch(self, key: str, destination: Path) -> None:
        from google.api_core.exceptions import GoogleAPIError, NotFound, PreconditionFailed
        from google.auth.exceptions import GoogleAuthError

        generation, md5 = self._listed.get(key, (None, None))
        try:
            blob = self.client.bucket(self.bucket_name).blob(self.prefix + key)
            # GCS answers 412 when the generation is no longer live; the client has checked the bytes
            # against the hash the server sent, so an MD5 other than the listed one is a newer object
            # (what an emulator without preconditions shows).
            blob.download_to_filename(str(destination), retry=self._retry(), if_generation_match=generation)
            if md5 and _md5_of(destination) != md5:
                raise PreconditionFailed("the object's MD5 is not the one listed")
        except NotFound:
            raise _vanished(f"{self.location}/{key}") from None
        except PreconditionFailed:
            raise _replaced(f"{self.location}/{key}") from None
        except (GoogleAPIError, GoogleAuthError, OSError) as exc:
            raise StoreUnavailable(f"cannot read {self.location}/{key}: {_gcs_problem(exc)}") from None


class AzureBlobStore:
    """`az://container/prefix` or `abfs[s]://container@account.dfs.core.windows.net/prefix` through
    azure-storage-blob. Credentials: AZURE_STORAGE_CONNECTION_STRING, or the account URL from the
    location (or AZURE_STORAGE_ACCOUNT_URL) with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN."""

    def __init__(self, location: str) -> None:
        from azure.storage.blob import BlobServiceClient

        self.location = location
        self._etags: dict[str, str] = {}  # key -> ETag as listed: a fetch must get that version
        container, self.prefix = _split(location)
        account_url = os.environ.get("AZURE_STORAGE_ACCOUNT_URL")
        if "@" in container:  # abfs://container@account.dfs.core.windows.net
            container, host = container.split("@", 1)
            account_url = "https://" + host.replace(".dfs.", ".blob.")
        self.container = container
        retry = {
            "retry_total": max_attempts() - 1,
            # azure-core's ExponentialRetry waits 15 s, then 15 + 3^n s: right for throttling, settable for tests.
            "initial_backoff": float(os.environ.get("ATLAS_STORE_INITIAL_BACKOFF_SECONDS", "15")),
            "connection_timeout": 5,
            "read_timeout": 60,
        }
        if conn := os.environ.get("AZURE_STORAGE_CONNECTION_STRING"):
            self.service = BlobServiceClient.from_connection_string(conn, **retry)
        elif account_url:
            credential = os.environ.get("AZURE_STORAGE_KEY") or os.environ.get("AZURE_STORAGE_SAS_TOKEN")
            if credential and os.environ.get("AZURE_STORAGE_KEY"):
                credential = {"account_name": account_url.split("//", 1)[1].split(".", 1)[0], "account_key": credential}
            self.service = BlobServiceClient(account_url, credential=credential, **retry)
        else:
            raise StoreUnavailable(
                f"cannot open {location}: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_URL "
                "with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN"
            )

    def list(self) -> list[StoredObject]:
        from azure.core.exceptions import AzureError

        try:
            blobs = self.service.get_container_client(self.container).list_blobs(
                name_starts_with=self.prefix, results_per_page=LIST_PAGE_SIZE
            )
            objects = [
                StoredObject(
                    key=_relative(blob.name, self.prefix),
                    size=blob.size,
                    fingerprint=blob.etag.strip('"'),
                    last_modified=blob.last_modified.astimezone(UTC),
                    md5=bytes(blob.content_settings.content_md5).hex() if blob.content_settings.content_md5 else None,
                )
                for blob in blobs
                if not blob.name.endswith("/")
            ]
        except AzureError as exc:
            raise StoreUnavailable(f"cannot list {self.location}: {type(exc).__name__}: {_first_line(exc)}") from None
        self._etags = {o.key: o.fingerprint for o in objects}
        return objects

    def fetch(self, key: str, destination: Path) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import AzureError, ResourceModifiedError, ResourceNotFoundError

        etag = self._etags.get(key)
        pinned = {"etag": f'"{etag}"', "match_condition": MatchConditions.IfNotModified} if etag else {}
        try:
            downloader = self.service.get_blob_client(self.container, self.prefix + key).download_blob(**pinned)
            with open(destination, "wb") as handle:
                downloader.readinto(handle)
        except ResourceNotFoundError:
            raise _vanished(f"{self.location}/{key}") from None
        except ResourceModifiedError:
            raise _replaced(f"{self.location}/{key}") from None
        except AzureError as exc:
            raise StoreUnavailable(f"cannot read {self.location}/{key}: {type(exc).__name__}: {_first_line(exc)}") from None


def _gcs_problem(exc: Exception) -> str:
    from google.auth.exceptions import GoogleAuthError

    if isinstance(exc, GoogleAuthError):  # GCS answered 401 and google-auth could not get a new token
        return f"GCS refused our credentials (check Application Default Credentials): {type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _first_line(exc: Exception) -> str:
    # Azure errors append the request's headers on later lines; the first line says what went wrong.
    return str(exc).splitlines()[0] if str(exc) else ""


_STORES = {"s3": S3Store, "gs": GcsStore, "az": AzureBlobStore, "abfs": AzureBlobStore, "abfss": AzureBlobStore}
STORE_SCHEMES = tuple(_STORES)  # what a source's `location` may start with (besides a local path)


def open_store(location: str) -> ObjectStore:
    """The store for a resolved source location: s3://, gs://, az:// (abfs[s]://), or a local path."""
    match = re.match(r"^([a-z][a-z0-9+.-]*)://", location)
    if match and match.group(1) != "file":
        scheme = match.group(1)
        if scheme not in _STORES:
            raise ValueError(f"unsupported object store scheme {scheme}:// in {location} (use s3, gs, az or abfs)")
        return _STORES[scheme](location)
    return LocalStore(Path(location.removeprefix("file://")))
