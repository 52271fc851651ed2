"""Export sources declared in `assets/sources/*.yaml`, parsed once into typed objects."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml

FORMATS = (
    "aws_cur2_parquet",
    "gcp_billing_jsonl",
    "azure_cost_details_csv",
    "prometheus_text",
    "slurm_sacct",
    "csv",
    "parquet",
    "prometheus_range_json",
    "nvidia_smi_csv",
)
PARTITIONINGS = ("billing_period", "day", "none")
_REQUIRED = ("name", "description", "provider", "format", "location", "include", "partitioning")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# How late a source's newest delivery may be before its freshness check warns, by partitioning:
# billing exports land once or a few times a day (up to 48 h late); telemetry within hours.
DEFAULT_MAX_LATENESS_HOURS = {"billing_period": 48.0, "day": 6.0, "none": 7 * 24.0}


class DeclarationError(ValueError):
    """A declaration file is wrong; the message names the file and the field."""


def read_declaration(path: Path) -> object:
    """The parsed YAML of a declaration file; an unreadable file or invalid YAML is a
    DeclarationError naming the file."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise DeclarationError(f"{path}: cannot be read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise DeclarationError(f"{path}: not valid YAML: {exc}") from exc


@dataclass(frozen=True)
class ExportSource:
    """One export feed: where its files are, how they are laid out, how to read them."""

    name: str
    description: str
    provider: str
    format: str
    location: str  # local path or URL; `${VAR}` is expanded from the environment when used
    include: str  # glob of data files, relative to location
    partitioning: str
    period_pattern: str | None = None  # regex on the relative path, named group `period`
    delivery_pattern: str | None = None  # regex naming one complete delivery (group `delivery`)
    # Glob of the provider's delivery manifests, relative to location (AWS Data Exports
    # `metadata/.../*-Manifest.json`, legacy CUR `<range>/*-Manifest.json`, Azure `manifest.json`).
    # A delivery with a manifest is the files it names (`dataFiles`, `reportKeys` or `blobs`), and
    # is complete only once all are listed (with the byte counts it states): see lib/manifests.py.
    manifest: str | None = None
    # false: the source may have no files yet (an export format an estate may or may not use);
    # its raw view is then empty instead of the ingest failing.
    required: bool = True
    max_lateness_hours: float | None = None  # optional; default by partitioning (DEFAULT_MAX_LATENESS_HOURS)
    declared_in: str = ""

    @property
    def max_lateness(self) -> timedelta:
        """How old the newest delivered file may be before the source counts as stale."""
        hours = self.max_lateness_hours
        return timedelta(hours=DEFAULT_MAX_LATENESS_HOURS[self.partitioning] if hours is None else hours)

    def resolved_location(self, env: dict[str, str] | None = None) -> str:
        """The location with `${VAR}` references expanded (ATLAS_EXPORTS defaults under ATLAS_HOME)."""
        from atlas_pipeline.lib.settings import AtlasPaths

        values = {"ATLAS_EXPORTS": str(AtlasPaths.from_env().exports), **os.environ, **(env or {})}

        def expand(match: re.Match[str]) -> str:
            var = match.group(1)
            if var not in values:
                raise DeclarationError(f"{self.declared_in}: location refers to unset variable ${{{var}}}")
            return values[var]

        return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", expand, self.location)

    def period_of(self, relative_key: str) -> str:
        """The partition a file belongs to: 'YYYY-MM' (billing period), 'YYYY-MM-DD' (day) or 'all'."""
        if self.partitioning == "none":
            return "all"
        match = re.search(self.period_pattern or "", relative_key)
        if not match:
            raise ValueError(f"{relative_key}: path does not match period_pattern {self.period_pattern!r}")
        raw = match.group("period")
        if self.partitioning == "billing_period":
            digits = raw.replace("-", "")
            return f"{digits[:4]}-{digits[4:6]}"
        return raw

    def delivery_of(self, relative_key: str) -> str | None:
        if not self.delivery_pattern:
            return None
        match = re.search(self.delivery_pattern, relative_key)
        return match.group("delivery") if match else None


def parse_source(path: Path) -> ExportSource:
    """Parse one declaration file; errors name the file and the field."""
    data = read_declaration(path)
    if not isinstance(data, dict):
        raise DeclarationError(f"{path}: expected a mapping of fields")
    for field in _REQUIRED:
        if not data.get(field):
            raise DeclarationError(f"{path}: field '{field}' is required")
    unknown = set(data) - (set(ExportSource.__dataclass_fields__) - {"declared_in"})
    if unknown:
        raise DeclarationError(f"{path}: unknown field(s) {sorted(unknown)}")
    if not _NAME.match(str(data["name"])):
        raise DeclarationError(f"{path}: field 'name' must be lowercase snake_case, got {data['name']!r}")
    if data["format"] not in FORMATS:
        raise DeclarationError(f"{path}: field 'format' must be one of {FORMATS}, got {data['format']!r}")
    if data["partitioning"] not in PARTITIONINGS:
        raise DeclarationError(
            f"{path}: field 'partitioning' must be one of {PARTITIONINGS}, got {data['partitioning']!r}"
        )
    if data["partitioning"] != "none" and not data.get("period_pattern"):
        raise DeclarationError(f"{path}: field 'period_pattern' is required when partitioning is set")
    for field in ("period_pattern", "delivery_pattern"):
        if data.get(field):
            try:
                re.compile(data[field])
            except re.error as exc:
                raise DeclarationError(f"{path}: field '{field}' is not a valid regex: {exc}") from exc
    required = data.pop("required", True)
    if not isinstance(required, bool):
        raise DeclarationError(f"{path}: field 'required' must be true or false, got {required!r}")
    lateness = data.pop("max_lateness_hours", None)
    if lateness is not None and (isinstance(lateness, bool) or not isinstance(lateness, int | float) or lateness <= 0):
        raise DeclarationError(f"{path}: field 'max_lateness_hours' must be a positive number of hours, got {lateness!r}")
    return ExportSource(
        **{k: str(v) for k, v in data.items()},
        required=required,
        max_lateness_hours=None if lateness is None else float(lateness),
        declared_in=str(path),
    )


def load_sources(folder: Path) -> list[ExportSource]:
    """Every source declared under `folder` (one YAML file each), sorted by name; names are unique."""
    sources = [parse_source(p) for p in sorted(folder.glob("*.yaml"))]
    seen: dict[str, str] = {}
    for source in sources:
        if source.name in seen:
            raise DeclarationError(f"{source.declared_in}: name '{source.name}' already declared in {seen[source.name]}")
        seen[source.name] = source.declared_in
    return sorted(sources, key=lambda s: s.name)
