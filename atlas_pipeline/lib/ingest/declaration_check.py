"""`atlas check`: every declaration of the declarations folder (`$ATLAS_ASSETS`, else the
repository's `assets/`) validated in seconds and offline — fields, types, patterns, location
schemes, `${VAR}` references, local folders, forecast, budget and GPU-price files — and every
problem reported, one line each naming the file and the field, instead of stopping at the first.
Each file is judged by the same pydantic model its loader uses (lib/declarations.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from atlas_pipeline.lib.declarations import DeclarationError, read_declaration
from atlas_pipeline.lib.ingest.sources import ExportSource, load_sources, location_problem, source_problems

SOURCES_FOLDER = "sources"
FORECAST_FILE = "forecast.yaml"
BUDGETS_FILE = "budgets.yaml"
PRICING_FILE = "gpu_pricing.yaml"
KUBERNETES_FILE = "kubernetes_teams.yaml"
KNOWN_ENTRIES = (SOURCES_FOLDER, FORECAST_FILE, BUDGETS_FILE, PRICING_FILE, KUBERNETES_FILE)


@dataclass(frozen=True)
class Problem:
    """One thing wrong (`error`: the run would be wrong or fail) or doubtful (`warning`)."""

    severity: str
    text: str  # starts with the file, names the field

    def __str__(self) -> str:
        return f"{self.severity}: {self.text}"


@dataclass(frozen=True)
class CheckReport:
    folder: Path | None
    problems: tuple[Problem, ...]
    checked: tuple[str, ...]  # what was looked at, for the closing line

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def lines(self) -> list[str]:
        """One line per problem (errors first), then one closing line."""
        lines = [str(p) for p in (*self.errors, *self.warnings)]
        where = str(self.folder) if self.folder else "(no declarations folder)"
        lines.append(
            f"Checked {where}: {'; '.join(self.checked) or 'nothing'} — "
            f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        )
        return lines


def _errors(exc: DeclarationError) -> list[Problem]:
    return [Problem("error", line) for line in (exc.problems or [str(exc)])]


def _bundled_catalogue() -> dict[str, ExportSource]:
    """The repository's own source declarations: the names (and formats) the warehouse models read."""
    from atlas_pipeline.lib.settings import DECLARATIONS_DIR

    try:
        return {s.name: s for s in load_sources(DECLARATIONS_DIR / SOURCES_FOLDER)}
    except DeclarationError:
        return {}


def _probe(path: Path, data: dict) -> ExportSource | None:
    """Enough of a declaration to check its location, even when other fields are wrong."""
    if not isinstance(data.get("location"), str) or not data["location"]:
        return None
    name = data.get("name") if isinstance(data.get("name"), str) else path.stem
    return ExportSource(name, "", "", "", data["location"], "", "none", declared_in=str(path))


def check_sources(folder: Path) -> tuple[list[Problem], str]:
    """Every source declaration under `folder/sources`; an absent or empty folder is an estate
    with no sources (legal, but said)."""
    sources_dir = folder / SOURCES_FOLDER
    files = sorted(sources_dir.glob("*.yaml")) if sources_dir.is_dir() else []
    problems = [
        Problem("warning", f"{path}: ignored: source declarations are read from *.yaml files only")
        for path in sorted(sources_dir.glob("*.yml")) if sources_dir.is_dir()
    ]
    if not files:
        problems.append(
            Problem("warning", f"{sources_dir}: no source declarations: nothing will be landed, every mart stays empty")
        )
        return problems, "no sources"
    catalogue = _bundled_catalogue()
    seen: dict[str, Path] = {}
    for path in files:
        try:
            data = read_declaration(path)
        except DeclarationError as exc:
            problems += _errors(exc)
            continue
        problems += [Problem("error", line) for line in source_problems(path, data)]
        if not isinstance(data, dict):
            continue
        if "required" in data:
            problems.append(
                Problem(
                    "warning",
                    f"{path}: field 'required' is deprecated and has no effect: every source is optional "
                    "(one with nothing at its location is absent); remove it",
                )
            )
        probe = _probe(path, data)
        if probe and (problem := location_problem(probe)):
            if probe.bundled and "ATLAS_EXPORTS folder" in problem:  # the same root for all of them: said once
                problem = problem.split(": field 'location': ", 1)[-1] + " (the bundled declarations read exports there)"
            if Problem("error", problem) not in problems:
                problems.append(Problem("error", problem))
        name, fmt = data.get("name"), data.get("format")
        if not isinstance(name, str):
            continue
        if name in seen:
            problems.append(Problem("error", f"{path}: field 'name': '{name}' is already declared in {seen[name]}"))
        seen.setdefault(name, path)
        if (probe and probe.bundled) or not catalogue:
            continue
        known = catalogue.get(name)
        if known is None:
            problems.append(
                Problem(
                    "warning",
                    f"{path}: field 'name': '{name}' is not a source the warehouse models read (its files land "
                    f"in raw.{name} but reach no mart); known: {', '.join(sorted(catalogue))}",
                )
            )
        elif isinstance(fmt, str) and fmt != known.format:
            reads = f"the warehouse reads source '{name}' as {known.format!r}"
            problems.append(Problem("error", f"{path}: field 'format' is {fmt!r}, but {reads}"))
    return problems, f"{len(files)} source(s)"


def check_forecast(folder: Path) -> tuple[list[Problem], str]:
    from atlas_pipeline.lib.forecast.forecast_settings import DEPRECATED_FIELDS, load_forecast_settings

    path = folder / FORECAST_FILE
    if not path.is_file():
        return [], f"{FORECAST_FILE} (absent: the repository's defaults)"
    try:
        load_forecast_settings(path)
        problems = []
    except DeclarationError as exc:
        problems = _errors(exc)
    try:
        data = read_declaration(path)
    except DeclarationError:
        data = None
    for name in DEPRECATED_FIELDS:
        if isinstance(data, dict) and name in data:
            problems.append(
                Problem("warning", f"{path}: field '{name}' has no effect: the forecast's as-of dates come from the data")
            )
    return problems, FORECAST_FILE


def _check_list_file(folder: Path, name: str, load, absent: str, counted: str) -> tuple[list[Problem], str]:
    """An optional declaration file holding a list: absent says what that means; present, it loads
    (one problem per line, naming the file, the entry and the field) and its entries are counted."""
    path = folder / name
    if not path.is_file():
        return [], f"{name} (absent: {absent})"
    try:
        entries = load(path)
    except DeclarationError as exc:
        return _errors(exc), name
    return [], f"{name} ({len(entries)} {counted})"


def check_budgets(folder: Path) -> tuple[list[Problem], str]:
    from atlas_pipeline.lib.forecast.budgets import load_budgets

    return _check_list_file(folder, BUDGETS_FILE, load_budgets, "no budgets", "budget(s)")


def check_gpu_pricing(folder: Path) -> tuple[list[Problem], str]:
    from atlas_pipeline.lib.ingest.gpu_pricing import load_gpu_pricing

    return _check_list_file(folder, PRICING_FILE, load_gpu_pricing, "no on-prem GPU prices", "price(s)")


def check_kubernetes_teams(folder: Path) -> tuple[list[Problem], str]:
    from atlas_pipeline.lib.ingest.kubernetes_teams import load_kubernetes_teams

    return _check_list_file(folder, KUBERNETES_FILE, load_kubernetes_teams,
                            "pods are charged to their namespace", "rule(s)")


def check_stray_entries(folder: Path) -> list[Problem]:
    """Files Atlas would not read (a misspelt `budget.yaml` must not pass silently)."""
    return [
        Problem("warning", f"{entry}: not a declaration Atlas reads (expected: {', '.join(KNOWN_ENTRIES)})")
        for entry in sorted(folder.iterdir())
        if entry.name not in KNOWN_ENTRIES and not entry.name.startswith((".", "README"))
    ]


def check_declarations() -> CheckReport:
    """Validate the whole declarations folder (resolved now)."""
    from atlas_pipeline.lib.settings import declarations_dir

    try:
        folder = declarations_dir()
    except DeclarationError as exc:
        return CheckReport(None, tuple(_errors(exc)), ())
    problems: list[Problem] = []
    checked: list[str] = []
    for check in (check_sources, check_forecast, check_budgets, check_gpu_pricing, check_kubernetes_teams):
        found, what = check(folder)
        problems += found
        checked.append(what)
    problems += check_stray_entries(folder)
    return CheckReport(folder, tuple(problems), tuple(checked))
