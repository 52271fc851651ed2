"""Landed files stay as they landed: read-only on disk once their version folder is published, and
their checksums verified again before a build reads them.

Two digests cover a landed file: the manifest's `sha256` of the file as delivered
(`original_path`, taken during the transfer), and the sha256 of its typed parquet (`landed_path`,
what `raw.<source>` reads), recorded here in `landing.landed_checksums` when the version folder is
sealed. A file changed after landing (by hand, by a tool, by a reader that could write) no longer
matches: the source's `landed_files_intact` check fails, naming the file and both digests, and
nothing downstream builds on it. The remedy is to land the period again from the store: delete its
manifest rows (the check's message gives the statement) and run again.

Only the files (0o444) are made read-only: folders stay writable, so a re-delivery adds versions
and a re-landing replaces one. A process running as root is not stopped by file modes; the
checksums still catch what it changed.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from atlas_pipeline.lib.ingest.bulk_insert import insert_rows

READ_ONLY = 0o444

CHECKSUMS_DDL = """
create schema if not exists landing;
create table if not exists landing.landed_checksums (
    path varchar primary key,  -- a typed parquet file in landing (landing.manifest.landed_path)
    sha256 varchar not null,
    recorded_at timestamptz not null default current_timestamp
);
"""


# Large blocks: a read from the page cache costs ~1/5 of SHA-256 itself (measured: 166 MB read in
# 0.02 CPU-s, SHA-256 0.10, MD5 0.21), so hashing is bound by the digest, not by the extra read.
_BLOCK = 8 << 20


def file_digests(path: Path, *, md5: bool = False) -> tuple[str, str | None]:
    """(sha256, md5 or None) of a file in one read. MD5 only on request: it costs twice SHA-256
    and only a store that records one (GCS, Azure with Content-MD5) gives it a use."""
    sha = hashlib.sha256()
    other = hashlib.md5(usedforsecurity=False) if md5 else None
    with open(path, "rb") as handle:
        while chunk := handle.read(_BLOCK):
            sha.update(chunk)
            if other is not None:
                other.update(chunk)
    return sha.hexdigest(), other.hexdigest() if other is not None else None


def sha256_of(path: Path) -> str:
    return file_digests(path)[0]


def _make_read_only(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o222:
        os.chmod(path, READ_ONLY)


def _typed_files(folder: Path) -> list[Path]:
    """The typed parquet files of a version folder: `<file>.parquet` beside the delivered `<file>`."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix == ".parquet" and p.with_suffix("").is_file())


def seal_version_folder(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """Record the sha256 of each typed parquet of a just-published version folder and make every
    file in it read-only. Called by landing right after the folder is renamed into place."""
    con.execute(CHECKSUMS_DDL)
    rows = [(str(path), sha256_of(path)) for path in _typed_files(folder)]
    insert_rows(con, "insert or replace into landing.landed_checksums (path, sha256) values", rows)
    for path in folder.iterdir():
        if path.is_file():
            _make_read_only(path)


@dataclass(frozen=True)
class Mismatch:
    """A landed file whose content is not what landed (or that is gone)."""

    path: str
    role: str  # "delivered file" or "typed parquet"
    period: str
    export_version: str
    expected: str
    actual: str  # a digest, or "missing"

    def line(self) -> str:
        return f"{self.path} ({self.role}, period {self.period}): expected sha256 {self.expected}, found {self.actual}"


@dataclass
class IntegrityReport:
    """What `verify_current_files` found for one source."""

    source: str
    verified: int = 0  # files whose digest matched
    recorded: int = 0  # typed files without a digest yet (landed before digests were kept): recorded now
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.mismatches

    def remedy(self) -> str:
        """The statement that makes the next run land the affected periods again from the store."""
        periods = sorted({m.period for m in self.mismatches})
        listed = ", ".join(f"'{p}'" for p in periods)
        return (
            f"delete from landing.manifest where source = '{self.source}' and period in ({listed}); "
            "-- on the live warehouse, with no run going; the next run fetches those periods again"
        )

    def description(self) -> str:
        if self.intact:
            return f"{self.verified} landed file(s) of {self.source} match their recorded sha256"
        first = self.mismatches[0]
        more = f" (and {len(self.mismatches) - 1} more)" if len(self.mismatches) > 1 else ""
        return (
            f"{len(self.mismatches)} landed file(s) of {self.source} changed after landing{more}: {first.line()}. "
            f"Land them again from the store: {self.remedy()}"
        )


def verify_current_files(con: duckdb.DuckDBPyConnection, source: str) -> IntegrityReport:
    """Re-hash every current landed file of `source` (the delivered originals against the
    manifest's sha256, the typed parquet against `landing.landed_checksums`) and make sure each is
    read-only. A typed file landed before its digest was kept gets it recorded now."""
    con.execute(CHECKSUMS_DDL)
    report = IntegrityReport(source)
    rows = con.execute(
        """
        select files.period, files.export_version, files.original_path, files.sha256, files.landed_path, sums.sha256
        from landing.current_files as files
        left join landing.landed_checksums as sums on sums.path = files.landed_path
        where files.source = ? and files.status <> 'quarantined'
        order by files.period, files.object_key
        """,
        [source],
    ).fetchall()
    for period, version, original, original_sha, typed, typed_sha in rows:
        for path, expected, role in ((original, original_sha, "delivered file"), (typed, typed_sha, "typed parquet")):
            if path is None:
                continue
            file = Path(path)
            if not file.is_file():
                report.mismatches.append(Mismatch(path, role, period, version, expected or "(unrecorded)", "missing"))
                continue
            if expected is None:
                if role == "typed parquet":
                    con.execute("insert or replace into landing.landed_checksums (path, sha256) values (?, ?)",
                                [path, sha256_of(file)])
                    report.recorded += 1
                    _make_read_only(file)
                continue
            actual = sha256_of(file)
            if actual != expected:
                report.mismatches.append(Mismatch(path, role, period, version, expected, actual))
                continue
            report.verified += 1
            _make_read_only(file)
    return report
