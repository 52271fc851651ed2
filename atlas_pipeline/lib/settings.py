"""Where Atlas keeps its files: one `ATLAS_HOME` folder, resolved at call time (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DECLARATIONS_DIR = REPO_ROOT / "assets"
CHECKS_DIR = REPO_ROOT / "checks"


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
    def landing(self) -> Path:
        """Immutable, checksummed copies of delivered export files."""
        return self.home / "landing"

    @property
    def quarantine(self) -> Path:
        """Files that could not be read, each beside a `.reason.json`."""
        return self.home / "quarantine"

    @property
    def dagster_home(self) -> Path:
        return Path(os.environ.get("DAGSTER_HOME", self.home / "dagster")).resolve()

    def ensure(self) -> AtlasPaths:
        for folder in (self.home, self.exports, self.landing, self.quarantine, self.reports, self.dagster_home):
            folder.mkdir(parents=True, exist_ok=True)
        return self
