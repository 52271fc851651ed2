"""Landing: immutable, checksummed copies of delivered export files, and the manifest that says
which delivery of each period is current.

Layout: `landing/<source>/x_period=<period>/x_export_version=<version>/<flattened key>`, the file
as delivered, and beside it `<flattened key>.parquet`: the same rows read once, typed as the
source's contract declares (lib/ingest/file_validation.py), which is what `raw.<source>` serves.
A period's export version is the delivery (Azure run folder) or a fingerprint of the period's
complete listing; a changed period lands as a new version folder and the newest delivery wins,
so a restated month replaces the old one instead of adding to it. Where the provider writes a
delivery manifest, a delivery is the files it names, and only once all are there (lib/ingest/manifests.py).

Any subset of sources is an estate: a source whose location lists nothing is absent, and its raw
view is empty with the contract's columns. A location that does not exist, or a source that
delivered before and now lists nothing, is an error (a moved bucket must not look like a quiet day).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from atlas_pipeline.lib.ingest.bulk_insert import insert_rows
from atlas_pipeline.lib.ingest.contracts import contract_for
from atlas_pipeline.lib.ingest.file_validation import land_file
from atlas_pipeline.lib.ingest.landed_integrity import file_digests, seal_version_folder
from atlas_pipeline.lib.ingest.manifests import DeliveryManifest, ManifestError, read_manifest
from atlas_pipeline.lib.ingest.object_store import (
    LocationNotFound,
    ObjectStore,
    StoredObject,
    UnsafeKeyError,
    glob_to_regex,
    safe_relative_key,
)
from atlas_pipeline.lib.ingest.raw_relations import empty_view_sql, landed_view_sql, stores_row_numbers
from atlas_pipeline.lib.ingest.sources import ExportSource

MANIFEST_DDL = """
create schema if not exists landing;
create schema if not exists raw;
create table if not exists landing.manifest (
    source varchar not null,
    object_key varchar not null,
    period varchar not null,
    export_version varchar not null,
    size_bytes bigint not null,
    fingerprint varchar not null,
    sha256 varchar,
    last_modified timestamptz not null,
    landed_path varchar,
    landed_at timestamptz not null,
    status varchar not null,  -- landed | empty | quarantined
    row_count bigint,
    message varchar,
    primary key (source, period, export_version, object_key)
);
-- landed_path is the typed parquet file; original_path the file as delivered, kept for audit.
alter table landing.manifest add column if not exists original_path varchar;
-- How each new delivery of a period was judged against the one it would replace (delivery_verdict).
create table if not exists landing.delivery_judgements (
    source varchar not null,
    period varchar not null,
    export_version varchar not null,
    verdict varchar not null,          -- current | held_back
    reason varchar,
    rows_delivered bigint,
    rows_before bigint,                -- rows of the delivery it would replace
    judged_at timestamptz not null,
    accepted_at timestamptz,           -- `atlas accept`: a held-back delivery made current
    accepted_by varchar,
    primary key (source, period, export_version)
);
create or replace view landing.current_files as
with versions as (
    select
        manifest.source, manifest.period, manifest.export_version,
        max(manifest.last_modified) as delivered_at, max(manifest.landed_at) as landed_at,
        bool_and(manifest.status <> 'quarantined') as is_complete,
        max(judgements.accepted_at) as accepted_at
    from landing.manifest as manifest
    left join landing.delivery_judgements as judgements using (source, period, export_version)
    -- A held-back delivery (empty, or much smaller than the one it would replace) never becomes
    -- current on its own: the previous delivery stays, until someone accepts it.
    where judgements.verdict is distinct from 'held_back' or judgements.accepted_at is not null
    group by all
),
ranked as (
    -- The newest complete delivery wins: one with a quarantined file (truncated, unparseable) does
    -- not replace a complete earlier one; it is used only when no complete delivery exists.
    select *, row_number() over (
        partition by source, period order by is_complete desc, delivered_at desc, landed_at desc, export_version desc
    ) as version_rank
    from versions
)
select
    manifest.*,
    ranked.is_complete as delivery_complete,
    -- when this delivery became current: when it landed, or when a held-back one was accepted
    greatest(manifest.landed_at, coalesce(ranked.accepted_at, manifest.landed_at)) as current_since
from landing.manifest as manifest
join ranked using (source, period, export_version)
where ranked.version_rank = 1;
"""


class SourceLocationError(RuntimeError):
    """A source's location is wrong: it does not exist, or it delivered before and now lists nothing."""


@dataclass
class LandingReport:
    """What one landing pass did, for logs and asset metadata."""

    source: str
    listed: int = 0
    downloaded: int = 0
    reused: int = 0
    new_versions: list[str] = field(default_factory=list)  # "period@version"
    unchanged_periods: int = 0
    quarantined: list[dict] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # deliveries whose manifest names files not yet there
    held_back: list[str] = field(default_factory=list)  # deliveries judged too small to replace the current one
    stale: list[str] = field(default_factory=list)  # files left over from an earlier export, not part of the delivery

    @property
    def changed_periods(self) -> list[str]:
        return sorted({v.split("@", 1)[0] for v in self.new_versions})

    def summary(self) -> str:
        if not (self.new_versions or self.quarantined or self.refused or self.waiting or self.stale):
            return f"{self.source}: nothing new ({self.listed} objects listed, {self.unchanged_periods} periods unchanged)"
        return (
            f"{self.source}: {len(self.new_versions)} new export version(s) for {self.changed_periods}, "
            f"{self.downloaded} downloaded, {self.reused} reused, {len(self.quarantined)} quarantined, "
            f"{len(self.empty)} empty, {len(self.refused)} refused"
            + (f", {len(self.waiting)} waiting for files their manifest names" if self.waiting else "")
            + (f", {len(self.held_back)} held back (not current until accepted)" if self.held_back else "")
            + (f", {len(self.stale)} left over from an earlier export (ignored)" if self.stale else "")
        )


def ensure_manifest(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(MANIFEST_DDL)


def _flatten(key: str) -> str:
    return str(safe_relative_key(key)).replace("/", "__")


def _transfer_problem(obj: StoredObject, staged: Path) -> tuple[str | None, str | None]:
    """What is wrong with a transferred file (None: it is whole), and its sha256 (None when the
    size is already wrong: not worth reading). sha256 is landing's checksum; the MD5 is computed
    (in the same read) only when the store recorded one to compare with."""
    size = staged.stat().st_size
    if size != obj.size:
        return f"size mismatch: store listed {obj.size} bytes, received {size}", None
    sha, md5 = file_digests(staged, md5=bool(obj.md5))
    if obj.md5 and md5 != obj.md5:
        return f"checksum mismatch: store recorded MD5 {obj.md5}, received {md5}", sha
    return None, sha


def _version_of(source: ExportSource, period: str, objects: list[StoredObject]) -> str:
    delivery = source.delivery_of(objects[0].key)
    if delivery:
        return re.sub(r"[^A-Za-z0-9._-]", "_", delivery)
    listing = "\n".join(f"{o.key}\t{o.size}\t{o.fingerprint}" for o in sorted(objects, key=lambda o: o.key))
    return "v" + hashlib.sha256(f"{period}\n{listing}".encode()).hexdigest()[:12]


def _group_deliveries(
    source: ExportSource,
    objects: list[StoredObject],
    manifests: dict[tuple[str, str | None], DeliveryManifest | ManifestError] | None = None,
) -> tuple[dict[str, list[StoredObject]], list[str], list[str]]:
    """Period -> the objects of its latest complete delivery; the periods left waiting; and the
    files left over from an earlier export (not part of any delivery).

    Without manifests the newest delivery of a period (by its newest object) counts, whole — or,
    for a source without delivery folders that declares `delivery_window_hours` (an export that
    rewrites its files in place, like BigQuery's extract shards), only the files written within
    that window of the period's newest file: a shard an earlier, larger export left behind is not
    part of today's delivery. With a manifest, a delivery is the files it names, and counts only
    once all of them are listed at their stated size; until then an older complete delivery stays
    current. A manifest for the whole period (AWS: no delivery folder) picks its files among all of
    the period's objects."""
    manifests = manifests or {}
    by_period: dict[str, dict[str | None, list[StoredObject]]] = defaultdict(lambda: defaultdict(list))
    for obj in objects:
        by_period[source.period_of(obj.key)][source.delivery_of(obj.key)].append(obj)
    latest, waiting, stale = {}, [], []
    for period, deliveries in by_period.items():
        if (period, None) in manifests:
            candidates = [(None, [o for objs in deliveries.values() for o in objs])]
        else:
            candidates = sorted(
                deliveries.items(), key=lambda d: (max(o.last_modified for o in d[1]), d[1][0].key), reverse=True
            )
        for delivery, objs in candidates:
            manifest = manifests.get((period, delivery))
            if manifest is None:
                if delivery is None and source.delivery_window_hours is not None:
                    newest = max(o.last_modified for o in objs)
                    window = timedelta(hours=source.delivery_window_hours)
                    stale += [
                        f"{o.key}: written {newest - o.last_modified} before the newest file of {period} "
                        f"(delivery window {source.delivery_window_hours:g} h): left over from an earlier export"
                        for o in objs if newest - o.last_modified > window
                    ]
                    objs = [o for o in objs if newest - o.last_modified <= window]
                latest[period] = objs
                break
            if isinstance(manifest, ManifestError):
                waiting.append(f"{period}: {manifest}")
                continue
            if missing := manifest.missing(objs):
                waiting.append(
                    f"{period}: {manifest.key} names {len(missing)} file(s) not yet delivered whole "
                    f"(first: {missing[0]}); the delivery before it stays current"
                )
                continue
            latest[period] = [o for o in objs if manifest.names(o.key)]
            break
    return latest, waiting, stale


def _manifests(
    source: ExportSource, store: ObjectStore, listed: list[StoredObject]
) -> dict[tuple[str, str | None], DeliveryManifest | ManifestError]:
    """The source's delivery manifests by (period, delivery), read from the store."""
    if not source.manifest:
        return {}
    pattern = glob_to_regex(source.manifest)
    out: dict[tuple[str, str | None], DeliveryManifest | ManifestError] = {}
    for obj in listed:
        if not pattern.match(obj.key):
            continue
        try:
            period = source.period_of(obj.key)
        except ValueError:  # a manifest outside the period layout names no period's delivery
            continue
        try:
            out[(period, source.delivery_of(obj.key))] = read_manifest(store, obj)
        except ManifestError as exc:
            out[(period, source.delivery_of(obj.key))] = exc
    return out


def _quarantine(
    quarantine_root: Path, source: ExportSource, period: str, version: str, key: str, staged: Path, problem: str,
    details: dict | None = None,
) -> dict:
    folder = quarantine_root / source.name / period / version
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / _flatten(key)
    if staged.exists():
        shutil.move(staged, target)
    reason = {
        "source": source.name,
        "file": key,
        "period": period,
        "export_version": version,
        "problem": problem,
        "quarantined_at": datetime.now(UTC).isoformat(),
        **(details or {}),
    }
    (folder / (_flatten(key) + ".reason.json")).write_text(json.dumps(reason, indent=2))
    return reason


def _listed_exports(
    source: ExportSource, store: ObjectStore
) -> tuple[list[StoredObject], list[str], dict[tuple[str, str | None], DeliveryManifest | ManifestError]]:
    """The store's objects that match the source's `include`, the refusals of unsafe keys, and
    the delivery manifests (when the source declares them)."""
    include = glob_to_regex(source.include)
    listed = store.list()
    objects, refused = [], [why for key, why in getattr(store, "refused", {}).items() if include.match(key)]
    for obj in listed:
        if not include.match(obj.key):
            continue
        try:
            safe_relative_key(obj.key)
            source.period_of(obj.key)
        except UnsafeKeyError as exc:
            refused.append(str(exc))
            continue
        except ValueError as exc:  # a stray file the layout does not place in any period
            refused.append(f"refusing {obj.key!r}: {exc}")
            continue
        objects.append(obj)
    return objects, refused, _manifests(source, store, listed)


def _known_versions(con: duckdb.DuckDBPyConnection, source: ExportSource) -> set[tuple[str, str]]:
    try:
        rows = con.execute(
            "select distinct period, export_version from landing.manifest where source = ?", [source.name]
        ).fetchall()
    except duckdb.CatalogException:  # a warehouse that never landed anything (opened read-only)
        return set()
    return {(period, version) for period, version in rows}


def pending_deliveries(con: duckdb.DuckDBPyConnection, source: ExportSource, store: ObjectStore) -> list[str]:
    """Deliveries in the store not yet landed, as 'period@version' (what a sensor reacts to)."""
    objects, _, manifests = _listed_exports(source, store)
    known = _known_versions(con, source)
    pending = []
    for period, period_objects in sorted(_group_deliveries(source, objects, manifests)[0].items()):
        version = _version_of(source, period, period_objects)
        if (period, version) not in known:
            pending.append(f"{period}@{version}")
    return pending


def land_source(
    con: duckdb.DuckDBPyConnection,
    source: ExportSource,
    store: ObjectStore,
    landing_root: Path,
    quarantine_root: Path,
    periods: Collection[str] | None = None,
) -> LandingReport:
    """Fetch what is new or changed for `source` into immutable landing and record it; with
    `periods`, only those periods' deliveries (a partitioned run lands its own partitions)."""
    ensure_manifest(con)
    report = LandingReport(source=source.name)
    known_versions = _known_versions(con, source)
    try:
        objects, report.refused, manifests = _listed_exports(source, store)
    except LocationNotFound as exc:
        if not source.bundled or known_versions:
            raise SourceLocationError(f"source {source.name}: location {exc} (declared in {source.declared_in})") from exc
        objects, manifests = [], {}  # a bundled declaration's folder: the estate lacks this export
    report.listed = len(objects)
    if not objects and known_versions:
        raise SourceLocationError(
            f"source {source.name}: {source.location} lists no files matching {source.include!r}, but "
            f"{len(known_versions)} delivery(ies) landed from it before: was the export moved or deleted? "
            f"(declared in {source.declared_in})"
        )
    landed_by_fingerprint = {
        (k, f): Path(p) for k, f, p in con.execute(
            # The delivered file (not its typed parquet) is what a new version links to and re-types.
            "select object_key, fingerprint, coalesce(original_path, landed_path) from landing.manifest "
            "where source = ? and status in ('landed', 'empty') and coalesce(original_path, landed_path) is not null",
            [source.name],
        ).fetchall()
    }

    deliveries, report.waiting, report.stale = _group_deliveries(source, objects, manifests)
    for period, period_objects in sorted(deliveries.items()):
        if periods is not None and period not in periods:
            continue
        version = _version_of(source, period, period_objects)
        if (period, version) in known_versions:
            report.unchanged_periods += 1
            continue
        final_dir = landing_root / source.name / f"x_period={period}" / f"x_export_version={version}"
        staging_dir = final_dir.with_name(final_dir.name + ".partial")
        shutil.rmtree(staging_dir, ignore_errors=True)
        staging_dir.mkdir(parents=True)
        rows = []
        landed_at = datetime.now(UTC)
        for obj in sorted(period_objects, key=lambda o: o.key):
            staged = staging_dir / _flatten(obj.key)
            previous = landed_by_fingerprint.get((obj.key, obj.fingerprint))
            if previous is not None and previous.exists():
                # Same object already landed in an earlier version: link it, no download.
                try:
                    os.link(previous, staged)
                except OSError:
                    shutil.copyfile(previous, staged)
                report.reused += 1
                problem, sha = _transfer_problem(obj, staged)
            else:
                store.fetch(obj.key, staged)
                problem, sha = _transfer_problem(obj, staged)
                if problem:  # a truncated or corrupted transfer: fetch once more before quarantine
                    store.fetch(obj.key, staged)
                    problem, sha = _transfer_problem(obj, staged)
                report.downloaded += 1
            original_path = final_dir / staged.name
            final_path = final_dir / (staged.name + ".parquet")
            status, row_count, message = "landed", None, None
            if problem:
                report.quarantined.append(_quarantine(quarantine_root, source, period, version, obj.key, staged, problem))
                status, message, final_path, original_path = "quarantined", problem, None, None
            # The file contract (lib/ingest/file_validation.py): read once, typed, every rule checked; a file
            # that breaks it goes to quarantine, the others land.
            elif (verdict := land_file(con, source, period, version, obj.key, staged, staged.with_name(final_path.name),
                                       str(original_path))).rejected:
                report.quarantined.append(
                    _quarantine(quarantine_root, source, period, version, obj.key, staged, verdict.problem, verdict.details)
                )
                status, message, row_count, final_path, original_path = (
                    "quarantined", verdict.problem, verdict.rows, None, None
                )
            else:
                row_count = verdict.rows
                if not row_count:
                    status, message, final_path = "empty", "file has no data rows (empty or header only)", None
                    report.empty.append(obj.key)
            rows.append(
                (source.name, obj.key, period, version, obj.size, obj.fingerprint, sha, obj.last_modified,
                 str(final_path) if final_path else None, landed_at, status, row_count, message,
                 str(original_path) if original_path else None)
            )
        # Judge the delivery against the one it would replace before recording it (the current one).
        attested = isinstance(
            manifests.get((period, source.delivery_of(period_objects[0].key))) or manifests.get((period, None)),
            DeliveryManifest,
        )
        delivered_rows = sum(r[11] or 0 for r in rows if r[10] == "landed")
        judgement = judge_delivery(con, source, period, delivered_rows, attested)
        # Publish the version folder whole, then record it: a crash leaves no half version current.
        shutil.rmtree(final_dir, ignore_errors=True)
        staging_dir.rename(final_dir)
        seal_version_folder(con, final_dir)  # read-only files, typed parquet digests (lib/ingest/landed_integrity.py)
        insert_rows(
            con,
            "insert into landing.manifest (source, object_key, period, export_version, size_bytes, fingerprint, sha256, "
            "last_modified, landed_path, landed_at, status, row_count, message, original_path) values",
            rows,
        )
        con.execute(
            "insert or replace into landing.delivery_judgements "
            "(source, period, export_version, verdict, reason, rows_delivered, rows_before, judged_at) "
            "values (?, ?, ?, ?, ?, ?, ?, ?)",
            [source.name, period, version, judgement.verdict, judgement.reason, delivered_rows,
             judgement.rows_before, landed_at],
        )
        report.new_versions.append(f"{period}@{version}")
        if judgement.verdict == "held_back":
            report.held_back.append(f"{period}@{version}: {judgement.reason}")
    return report


@dataclass(frozen=True)
class DeliveryJudgement:
    """Whether a new delivery of a period may replace the current one."""

    verdict: str  # current | held_back
    reason: str | None
    rows_before: int | None


def judge_delivery(
    con: duckdb.DuckDBPyConnection, source: ExportSource, period: str, rows: int, attested: bool
) -> DeliveryJudgement:
    """A re-delivery of a period that had data, with no rows or fewer than the source's
    `min_redelivery_fraction` of the current delivery's, is held back: an export that failed
    half-way or a header-only file must not silently replace a good month. The provider's manifest
    naming the files vouches for a smaller delivery (a restatement that really shrank); otherwise
    a person decides (`atlas accept <source> <period>`)."""
    [(before,)] = con.execute(
        "select sum(row_count) filter (where status = 'landed') from landing.current_files where source = ? and period = ?",
        [source.name, period],
    ).fetchall()
    if not before or rows >= source.min_redelivery_fraction * before:
        return DeliveryJudgement("current", None, before)
    if attested:
        return DeliveryJudgement("current", f"{rows:,} rows against {before:,}: smaller, as its manifest states", before)
    return DeliveryJudgement(
        "held_back",
        f"{rows:,} rows against {before:,} in the current delivery (below {source.min_redelivery_fraction:.0%}): "
        f"held back, the current delivery stays; if the smaller export is right, run "
        f"`atlas accept {source.name} {period}`",
        before,
    )


def accept_delivery(con: duckdb.DuckDBPyConnection, source: str, period: str, accepted_by: str) -> str:
    """Make the newest held-back delivery of a source's period current (`atlas accept`); returns
    what was accepted. The next run rebuilds that period (its files' `current_since` is now)."""
    ensure_manifest(con)
    held = con.execute(
        "select export_version, reason from landing.delivery_judgements "
        "where source = ? and period = ? and verdict = 'held_back' and accepted_at is null "
        "order by judged_at desc limit 1",
        [source, period],
    ).fetchall()
    if not held:
        raise LookupError(f"{source} {period}: no held-back delivery to accept (see landing.delivery_judgements)")
    [(version, reason)] = held
    con.execute(
        "update landing.delivery_judgements set accepted_at = ?, accepted_by = ? "
        "where source = ? and period = ? and export_version = ?",
        [datetime.now(UTC), accepted_by, source, period, version],
    )
    return f"{source} {period}@{version} accepted (was held back: {reason}); the next run rebuilds {period}"


def refresh_raw_view(con: duckdb.DuckDBPyConnection, source: ExportSource) -> dict:
    """Point `raw.<source>` at the current delivery of every period; returns periods/files.

    A source with nothing landed is absent from this estate: its view is empty, with the columns
    of its contract, so every model downstream builds and yields no rows."""
    ensure_manifest(con)
    _type_files_landed_untyped(con, source)
    files = [
        r[0] for r in con.execute(
            "select landed_path from landing.current_files where source = ? and status = 'landed' order by landed_path",
            [source.name],
        ).fetchall()
    ]
    if not files:
        con.execute(empty_view_sql(source.name, contract_for(source.name)))
        return {"files": 0, "periods": []}
    con.execute(landed_view_sql(source.name, files, stores_row_numbers(con, files)))
    periods = [
        r[0] for r in con.execute(
            "select distinct period from landing.current_files where source = ? and status = 'landed' order by 1",
            [source.name],
        ).fetchall()
    ]
    return {"files": len(files), "periods": periods}


def _type_files_landed_untyped(con: duckdb.DuckDBPyConnection, source: ExportSource) -> None:
    """Files landed by an Atlas that kept them as delivered (before typed landing) get their typed
    parquet now, once: an upgraded warehouse keeps its history without fetching anything again."""
    untyped = con.execute(
        "select object_key, period, export_version, landed_path from landing.manifest "
        "where source = ? and status = 'landed' and original_path is null and landed_path not like '%.parquet'",
        [source.name],
    ).fetchall()
    for key, period, version, path in untyped:
        parquet = Path(path + ".parquet")
        verdict = land_file(con, source, period, version, key, Path(path), parquet, path)
        status, landed = ("landed", str(parquet)) if not verdict.rejected and verdict.rows else (
            "quarantined" if verdict.rejected else "empty", None)
        con.execute(
            "update landing.manifest set landed_path = ?, original_path = ?, status = ?, message = coalesce(?, message) "
            "where source = ? and period = ? and export_version = ? and object_key = ?",
            [landed, path, status, verdict.problem or None, source.name, period, version, key],
        )
