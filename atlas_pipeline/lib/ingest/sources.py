"""Export sources declared in `<declarations>/sources/*.yaml` (`$ATLAS_ASSETS` or the repository's
`assets/`), parsed once into typed objects; every mistake is named with its file and field."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml

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
_REQUIRED = ("name", "description", "provider", "format", "location", "include", "partitioning")
_TEXT = (*_REQUIRED, "period_pattern", "delivery_pattern", "manifest")
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


class DeclarationError(ValueError):
    """A declaration file is wrong: one line per problem, each naming the file and the field."""

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(problems))


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


def source_problems(path: Path, data: object) -> list[str]:
    """Every problem of one parsed source declaration (empty when it is valid), one line each,
    naming the file and the field."""
    if not isinstance(data, dict):
        return [f"{path}: expected a mapping of fields"]
    problems = []
    unknown = set(data) - (set(ExportSource.__dataclass_fields__) - {"declared_in"})
    if unknown:
        problems.append(f"{path}: unknown field(s) {sorted(unknown)}")
    for field in _REQUIRED:
        if data.get(field) in (None, ""):
            problems.append(f"{path}: field '{field}' is required")
    for field in _TEXT:
        if data.get(field) is not None and not isinstance(data[field], str):
            problems.append(f"{path}: field '{field}' must be text, got {data[field]!r}")
    text = {f: data[f] for f in _TEXT if isinstance(data.get(f), str) and data[f]}
    if "name" in text and not _NAME.match(text["name"]):
        problems.append(f"{path}: field 'name' must be lowercase snake_case, got {text['name']!r}")
    if "format" in text and text["format"] not in FORMATS:
        problems.append(f"{path}: field 'format' must be one of {FORMATS}, got {text['format']!r}")
    if "partitioning" in text and text["partitioning"] not in PARTITIONINGS:
        problems.append(f"{path}: field 'partitioning' must be one of {PARTITIONINGS}, got {text['partitioning']!r}")
    if text.get("partitioning", "none") != "none" and not data.get("period_pattern"):
        problems.append(f"{path}: field 'period_pattern' is required when partitioning is set")
    for field, group in _PATTERN_GROUPS.items():
        if field not in text:
            continue
        try:
            pattern = re.compile(text[field])
        except re.error as exc:
            problems.append(f"{path}: field '{field}' is not a valid regex: {exc}")
            continue
        if group not in pattern.groupindex:
            problems.append(f"{path}: field '{field}' must have a named group (?P<{group}>...)")
    if "location" in text:
        scheme = _SCHEME.match(text["location"])
        if scheme and scheme.group(1) not in (*STORE_SCHEMES, "file"):
            problems.append(
                f"{path}: field 'location' has unsupported scheme {scheme.group(1)}:// "
                f"(use s3://, gs://, az://, abfs[s]:// or a local path)"
            )
        elif scheme and scheme.group(1) != "file" and not text["location"][scheme.end():].split("/", 1)[0]:
            problems.append(f"{path}: field 'location' names no bucket or container: {text['location']!r}")
    required = data.get("required", True)
    if not isinstance(required, bool):
        problems.append(f"{path}: field 'required' must be true or false, got {required!r}")
    for field in ("max_lateness_hours", "delivery_window_hours"):
        value = data.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value <= 0):
            problems.append(f"{path}: field '{field}' must be a positive number of hours, got {value!r}")
    fraction = data.get("min_redelivery_fraction")
    if fraction is not None and (isinstance(fraction, bool) or not isinstance(fraction, int | float)
                                 or not 0 <= fraction <= 1):
        problems.append(f"{path}: field 'min_redelivery_fraction' must be a number from 0 to 1, got {fraction!r}")
    return problems


def parse_source(path: Path) -> ExportSource:
    """Parse one declaration file; a DeclarationError lists every problem, naming file and field."""
    data = read_declaration(path)
    problems = source_problems(path, data)
    if problems:
        raise DeclarationError(*problems)
    assert isinstance(data, dict)
    lateness = data.get("max_lateness_hours")
    window = data.get("delivery_window_hours")
    return ExportSource(
        **{k: str(v) for k, v in data.items() if k in _TEXT},
        required=data.get("required", True),
        max_lateness_hours=None if lateness is None else float(lateness),
        delivery_window_hours=None if window is None else float(window),
        min_redelivery_fraction=float(data.get("min_redelivery_fraction", DEFAULT_MIN_REDELIVERY_FRACTION)),
        declared_in=str(path),
    )


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
    with no sources. A DeclarationError lists the problems of every file."""
    if folder is None:
        from atlas_pipeline.lib.settings import declarations_dir

        folder = declarations_dir() / "sources"
    sources, problems = [], []
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            sources.append(parse_source(path))
        except DeclarationError as exc:
            problems += exc.problems
    seen: dict[str, str] = {}
    for source in sources:
        if source.name in seen:
            problems.append(f"{source.declared_in}: name '{source.name}' already declared in {seen[source.name]}")
        seen[source.name] = source.declared_in
    if problems:
        raise DeclarationError(*problems)
    return sorted(sources, key=lambda s: s.name)
