"""Export sources declared in `<declarations>/sources/*.yaml` (`$ATLAS_ASSETS` or the repository's
`assets/`), parsed once into typed objects; every mistake is named with its file and field."""

from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

# DeclarationError is also imported from here by older code and tests: lib/declarations.py is its home.
from atlas_pipeline.lib.declarations import Declaration, DeclarationError, read_declaration, validate_declaration
from atlas_pipeline.lib.ingest.object_store import STORE_SCHEMES

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
# Named groups each pattern must define (see ExportSource.period_of / delivery_of).
_PATTERN_GROUPS = {"period_pattern": "period", "delivery_pattern": "delivery"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# How late a source's newest delivery may be before its freshness check warns, by partitioning:
# billing exports land once or a few times a day (up to 48 h late); telemetry within hours.
# A month-to-date export only grows; a restated month changes by a few percent. Half the rows of the
# delivery it would replace is an export gone wrong, not a restatement.
DEFAULT_MIN_REDELIVERY_FRACTION = 0.5
DEFAULT_MAX_LATENESS_HOURS = {"billing_period": 48.0, "day": 6.0, "none": 7 * 24.0}


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
    # is complete only once all are listed (with the byte counts it states): see lib/ingest/manifests.py.
    manifest: str | None = None
    # Deprecated (every source is optional: one the estate lacks is absent, not an error). Still
    # parsed so old declarations load; `atlas check` says it has no effect.
    required: bool = True
    max_lateness_hours: float | None = None  # optional; default by partitioning (DEFAULT_MAX_LATENESS_HOURS)
    # Without a manifest or delivery folders: a delivery is the files written within this many hours
    # of a period's newest file (older ones are left over from an earlier export). None: all files.
    delivery_window_hours: float | None = None
    # A re-delivery of a period with fewer rows than this share of the current delivery's (an empty
    # or truncated export) is held back until accepted (`atlas accept`), unless its manifest vouches.
    min_redelivery_fraction: float = DEFAULT_MIN_REDELIVERY_FRACTION
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
                raise DeclarationError(f"{self.declared_in}: field 'location' refers to unset variable ${{{var}}}")
            return values[var]

        return _VARIABLE.sub(expand, self.location)

    @property
    def bundled(self) -> bool:
        """Declared in the repository's own `assets/sources` (the sample estate's catalogue of the
        default layout under `$ATLAS_EXPORTS`), not in a user's `$ATLAS_ASSETS` folder."""
        from atlas_pipeline.lib.settings import DECLARATIONS_DIR

        return Path(self.declared_in).resolve().parent == (DECLARATIONS_DIR / "sources").resolve()

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


Format = Literal[FORMATS]  # type: ignore[valid-type]
Partitioning = Literal[PARTITIONINGS]  # type: ignore[valid-type]
_Text = Field(min_length=1)
_Hours = Field(default=None, gt=0)


class SourceDeclaration(Declaration):
    """The shape of `sources/<name>.yaml` (fields in the order problems are listed)."""

    name: str = _Text
    description: str = _Text
    provider: str = _Text
    format: Format
    partitioning: Partitioning
    period_pattern: str | None = Field(default=None, validate_default=True)
    delivery_pattern: str | None = None
    location: str = _Text
    include: str = _Text
    manifest: str | None = None
    required: bool = True
    max_lateness_hours: float | None = _Hours
    delivery_window_hours: float | None = _Hours
    min_redelivery_fraction: float = Field(default=DEFAULT_MIN_REDELIVERY_FRACTION, ge=0, le=1)

    @field_validator("name")
    @classmethod
    def _snake_case(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"must be lowercase snake_case, got {value!r}")
        return value

    @field_validator("period_pattern", "delivery_pattern")
    @classmethod
    def _pattern(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            if info.field_name == "period_pattern" and info.data.get("partitioning", "none") != "none":
                raise ValueError("is required when partitioning is set")
            return value
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise ValueError(f"is not a valid regex: {exc}") from None
        group = _PATTERN_GROUPS[str(info.field_name)]
        if group not in pattern.groupindex:
            raise ValueError(f"must have a named group (?P<{group}>...)")
        return value

    @field_validator("location")
    @classmethod
    def _scheme(cls, value: str) -> str:
        scheme = _SCHEME.match(value)
        if scheme and scheme.group(1) not in (*STORE_SCHEMES, "file"):
            raise ValueError(
                f"has unsupported scheme {scheme.group(1)}:// (use s3://, gs://, az://, abfs[s]:// or a local path)"
            )
        if scheme and scheme.group(1) != "file" and not value[scheme.end():].split("/", 1)[0]:
            raise ValueError(f"names no bucket or container: {value!r}")
        return value

    def source(self, path: Path | str) -> ExportSource:
        """The typed source this declaration describes."""
        return ExportSource(**self.model_dump(), declared_in=str(path))


def source_problems(path: Path, data: object) -> list[str]:
    """Every problem of one parsed source declaration (empty when it is valid), one line each,
    naming the file and the field."""
    try:
        validate_declaration(SourceDeclaration, data, path)
    except DeclarationError as exc:
        return exc.problems
    return []


def parse_source(path: Path) -> ExportSource:
    """Parse one declaration file; a DeclarationError lists every problem, naming file and field."""
    return validate_declaration(SourceDeclaration, read_declaration(path), path).source(path)


def location_problem(source: ExportSource) -> str | None:
    """What is wrong with a source's location, found without listing it (None: it may be right).

    A `${VAR}` that is not set is wrong. So is a local folder that does not exist in a user's own
    declaration (`$ATLAS_ASSETS`): a mistyped path must not read as "nothing delivered". The
    repository's bundled declarations are the catalogue of the default layout under
    `$ATLAS_EXPORTS`: there a missing folder means the estate does not have that export (absent),
    and only a missing `$ATLAS_EXPORTS` itself is wrong. Buckets are not reached here (no network,
    no credentials): listing them is the run's job.
    """
    try:
        location = source.resolved_location()
    except DeclarationError as exc:
        return str(exc)
    scheme = _SCHEME.match(location)
    if scheme and scheme.group(1) != "file":
        return None
    folder = Path(location.removeprefix("file://")).expanduser()
    if folder.is_dir():
        return None
    if folder.exists():
        return f"{source.declared_in}: field 'location' is a file, not a folder: {folder}"
    if not source.bundled:
        return f"{source.declared_in}: field 'location': folder {folder} does not exist (source {source.name})"
    from atlas_pipeline.lib.settings import AtlasPaths

    exports = AtlasPaths.from_env().exports
    if "${ATLAS_EXPORTS}" in source.location and not exports.is_dir():
        return f"{source.declared_in}: field 'location': ATLAS_EXPORTS folder {exports} does not exist"
    return None


def load_sources(folder: Path | None = None) -> list[ExportSource]:
    """Every source declared under `folder` (default: `<declarations>/sources`, resolved now), one
    YAML file each, sorted by name; names are unique. No folder, or an empty one, is an estate
    with no sources. A DeclarationError lists the problems of every file.

    Parsed once per state of the folder: loading the definitions asks for the sources from several
    builders (ingest assets, delivery sensors, freshness and delivery checks), and each gets the same
    typed objects; a changed, added or removed file (or another `$ATLAS_ASSETS`) is parsed anew."""
    if folder is None:
        from atlas_pipeline.lib.settings import declarations_dir

        folder = declarations_dir() / "sources"
    signature = []
    for path in sorted(Path(folder).glob("*.yaml")):
        try:  # by content, not mtime: two writes within one clock tick must not read as one
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            digest = ""  # unreadable: parse_source names it
        signature.append((str(path), digest))
    return list(_parsed_sources(tuple(signature)))


@functools.lru_cache(maxsize=32)
def _parsed_sources(files: tuple[tuple[str, str], ...]) -> tuple[ExportSource, ...]:
    """The sources of these declaration files (path, content digest): the cache key is their state."""
    sources, problems = [], []
    for name, _ in files:
        try:
            sources.append(parse_source(Path(name)))
        except DeclarationError as exc:
            problems += exc.problems
    seen: dict[str, str] = {}
    for source in sources:
        if source.name in seen:
            problems.append(f"{source.declared_in}: name '{source.name}' already declared in {seen[source.name]}")
        seen[source.name] = source.declared_in
    if problems:
        raise DeclarationError(*problems)
    return tuple(sorted(sources, key=lambda s: s.name))
