"""The dbt project as dagster-dbt sees it, and the environment dbt runs in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from atlas_pipeline.lib.settings import DBT_PROJECT_DIR, AtlasPaths

if TYPE_CHECKING:
    from dagster_dbt import DbtProject

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"


def dbt_env(paths: AtlasPaths | None = None) -> dict[str, str]:
    """Variables dbt reads (profiles.yml takes the warehouse path from ATLAS_WAREHOUSE)."""
    paths = paths or AtlasPaths.from_env()
    return {
        "ATLAS_HOME": str(paths.home),
        "ATLAS_WAREHOUSE": str(paths.warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def dbt_project_vars() -> dict:
    """The `vars` of dbt_project.yml (the one list of billing inputs lives there)."""
    import yaml

    return yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text()).get("vars") or {}


def billing_inputs() -> list[dict]:
    """dbt var `billing_inputs`: one entry per FOCUS intermediate model with its raw sources and
    staging models (dbt_project.yml says what each field means)."""
    return list(dbt_project_vars().get("billing_inputs") or [])


def billing_raw_sources() -> set[str]:
    """Every raw source that is a billing input (its `raw` name)."""
    return {source["raw"] for entry in billing_inputs() for source in entry["sources"]}


def atlas_dbt_project() -> DbtProject:
    from dagster_dbt import DbtProject  # ~1 s to import: only where dbt runs

    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def manifest_is_stale() -> bool:
    """True when the manifest is missing or older than a file of the dbt project (models, macros,
    seeds, tests, dbt_project.yml, profiles.yml)."""
    manifest = MANIFEST_PATH
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests"):
        sources += [p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file()]
    return any(p.stat().st_mtime > built for p in sources if p.exists())


def refresh_manifest() -> bool:
    """Parse the project when the manifest is stale (`dbt parse` costs seconds); True when it did."""
    if not manifest_is_stale():
        return False
    prepare_manifest(force=True)
    return True


def prepare_manifest(force: bool = False) -> Path:
    """Run `dbt parse` so `target/manifest.json` exists before definitions load."""
    if force or not MANIFEST_PATH.exists():
        dbt = Path(sys.executable).parent / "dbt"
        subprocess.run(
            [str(dbt) if dbt.exists() else "dbt", "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR)],
            check=True,
            env={**os.environ, **dbt_env()},
        )
    return MANIFEST_PATH
