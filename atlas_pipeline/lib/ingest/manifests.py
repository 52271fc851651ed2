"""Providers' delivery manifests: which files make up one export delivery.

AWS Data Exports writes `metadata/BILLING_PERIOD=…/<export>-Manifest.json` listing the execution's
`dataFiles`; legacy CUR writes `<report>-Manifest.json` naming the current `assemblyId` and its
`reportKeys`; Azure Cost Management writes a `manifest.json` into each run folder, after the part
files, listing `blobs` with their `byteCount`. Reading them lets landing take exactly the files of
the newest delivery (not stale files an overwrite left behind) and wait while one is still being
written (a file named but not yet listed, or listed short of its stated size).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from atlas_pipeline.lib.ingest.object_store import ObjectStore, StoredObject


class ManifestError(ValueError):
    """A manifest that cannot be read or names no files."""


@dataclass(frozen=True)
class DeliveryManifest:
    """The files one manifest names: each entry as written (a full URI or a container-relative
    name), with the byte count when the provider states it."""

    key: str  # the manifest's own key, relative to the source location
    entries: tuple[tuple[str, int | None], ...]

    def names(self, key: str) -> bool:
        """Whether a listed object key (relative to the source location) is one of the entries."""
        return any(_is_entry(entry, key) for entry, _ in self.entries)

    def missing(self, objects: list[StoredObject]) -> list[str]:
        """Entries not (yet) delivered whole among `objects`: absent, or smaller than stated."""
        out = []
        for entry, size in self.entries:
            found = [o for o in objects if _is_entry(entry, o.key)]
            if not found or (size is not None and found[0].size != size):
                out.append(entry)
        return out


def _is_entry(entry: str, key: str) -> bool:
    """A manifest entry (full URI or container-relative name) names this source-relative key."""
    return entry == key or entry.endswith("/" + key)


def parse_manifest(key: str, text: str) -> DeliveryManifest:
    """The data files a manifest names (AWS Data Exports, legacy CUR, or Azure export manifest)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{key}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(doc, dict):
        raise ManifestError(f"{key}: expected a JSON object")
    if isinstance(doc.get("dataFiles"), list):  # AWS Data Exports
        entries = [(str(f), None) for f in doc["dataFiles"]]
    elif isinstance(doc.get("reportKeys"), list):  # legacy CUR: keys of the current assembly
        entries = [(str(f), None) for f in doc["reportKeys"]]
    elif isinstance(doc.get("blobs"), list):  # Azure Cost Management export run
        entries = [(str(b["blobName"]), int(b["byteCount"]) if "byteCount" in b else None) for b in doc["blobs"]]
    else:
        raise ManifestError(f"{key}: names no data files (expected dataFiles, reportKeys or blobs)")
    if not entries:
        raise ManifestError(f"{key}: names no data files")
    return DeliveryManifest(key=key, entries=tuple(entries))


def read_manifest(store: ObjectStore, obj: StoredObject) -> DeliveryManifest:
    """Fetch and parse one manifest (small: read through a temporary file like any transfer)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "manifest.json"
        store.fetch(obj.key, path)
        return parse_manifest(obj.key, path.read_text(encoding="utf-8-sig"))
