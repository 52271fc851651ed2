"""Where Atlas keeps its files and finds its declarations, resolved at call time (never at import):
`ATLAS_HOME` (warehouse, landing, logs) and `ATLAS_ASSETS` (the user's own declarations)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# The repository's own declarations: the sample estate's, and the default when ATLAS_ASSETS is unset.
# Code that reads declarations goes through declarations_dir(), never this constant.
DECLARATIONS_DIR = REPO_ROOT / "assets"
CHECKS_DIR = REPO_ROOT / "checks"


def declarations_dir() -> Path:
    """The folder of declarations, laid out like the repository's `assets/` (`sources/*.yaml`,
    `gpu_pricing.yaml`, `budgets.yaml`, `forecast.yaml`): `$ATLAS_ASSETS` when set, else `assets/`.

    A set `ATLAS_ASSETS` that is not a folder is an error, never a silent fallback to the sample's
    declarations (that would run the wrong estate)."""
    value = os.environ.get("ATLAS_ASSETS", "").strip()
    if not value:
        return DECLARATIONS_DIR
    folder = Path(value).expanduser().resolve()
    if not folder.is_dir():
        from atlas_pipeline.lib.declarations import DeclarationError

        raise DeclarationError(f"ATLAS_ASSETS={value}: no such folder ({folder})")
    return folder


def declaration_file(name: str) -> Path | None:
    """`<declarations>/<name>` when that file exists, else None (what an absent file means is the
    loader's decision: see README, "Your own declarations")."""
    path = declarations_dir() / name
    return path if path.is_file() else None


@dataclass(frozen=True)
class AtlasPaths:
    """The folders and files under `ATLAS_HOME` (default `./.atlas`)."""

    home: Path
    exports: Path

    @classmethod
    def from_env(cls) -> AtlasPaths:
        home = Path(os.environ.get("ATLAS_HOME", Path.cwd() / ".atlas")).resolve()
        exports = Path(os.environ.get("ATLAS_EXPORTS", home / "exports")).resolve()
        return cls(home=home, exports=exports)

    @property
    def warehouse(self) -> Path:
        """The DuckDB warehouse file."""
        return self.home / "warehouse.duckdb"

    @property
    def published_warehouse(self) -> Path:
        """The read-only snapshot readers query, replaced atomically after each successful run."""
        return self.home / "published" / "warehouse.duckdb"

    @property
    def reports(self) -> Path:
        """Generated reports, e.g. the offline overview `atlas_overview.html`."""
        return self.home / "reports"

    @property
    def overview_report(self) -> Path:
        """The self-contained HTML overview, rewritten after each run."""
        return self.reports / "atlas_overview.html"

    @property
    def scheduler_hints(self) -> Path:
        """Per-GPU scores as files schedulers consume (Slurm weights, Kubernetes labels), per day."""
        return self.reports / "scheduler"

    @property
    def landing(self) -> Path:
        """Immutable, checksummed copies of delivered export files."""
        return self.home / "landing"

    @property
    def quarantine(self) -> Path:
        """Files that could not be read, each beside a `.reason.json`."""
        return self.home / "quarantine"

    @property
    def logs(self) -> Path:
        """One log file per `atlas run`: everything it printed and the full Dagster event log."""
        return self.home / "logs"

    @property
    def dagster_home(self) -> Path:
        return Path(os.environ.get("DAGSTER_HOME", self.home / "dagster")).resolve()

    def ensure(self) -> AtlasPaths:
        for folder in (self.home, self.exports, self.landing, self.quarantine, self.reports, self.logs, self.dagster_home):
            folder.mkdir(parents=True, exist_ok=True)
        return self
