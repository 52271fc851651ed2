"""Listing and fetching export files. The local folder is the embedded default store;
S3, GCS and Azure Blob stores implement the same two calls."""

from __future__ import annotations

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


class ObjectStore(Protocol):
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
    """A local folder laid out like a bucket (the default: `$ATLAS_EXPORTS`)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def list(self) -> list[StoredObject]:
        if not self.root.is_dir():
            return []
        objects = []
        for path in sorted(self.root.rglob("*")):
            if not path.is_file():
                continue
            stat = path.stat()
            objects.append(
                StoredObject(
                    key=path.relative_to(self.root).as_posix(),
                    size=stat.st_size,
                    fingerprint=f"{stat.st_size}-{stat.st_mtime_ns}",
                    last_modified=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                )
            )
        return objects

    def fetch(self, key: str, destination: Path) -> None:
        shutil.copyfile(self.root / safe_relative_key(key), destination)


def open_store(location: str) -> ObjectStore:
    """The store for a resolved source location (a local path for now)."""
    if re.match(r"^[a-z][a-z0-9+.-]*://", location) and not location.startswith("file://"):
        scheme = location.split("://", 1)[0]
        raise NotImplementedError(f"object store scheme {scheme}:// is not supported yet ({location})")
    return LocalStore(Path(location.removeprefix("file://")))
