"""The dbt project as dagster-dbt sees it, and the environment dbt runs in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from atlas_pipeline.lib.settings import DBT_PROJECT_DIR, AtlasPaths


def dbt_env(paths: AtlasPaths | None = None) -> dict[str, str]:
    """Variables dbt reads (profiles.yml takes the warehouse path from ATLAS_WAREHOUSE)."""
    paths = paths or AtlasPaths.from_env()
    return {
        "ATLAS_HOME": str(paths.home),
        "ATLAS_WAREHOUSE": str(paths.warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def atlas_dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def prepare_manifest(force: bool = False) -> Path:
    """Run `dbt parse` so `target/manifest.json` exists before definitions load."""
    project = atlas_dbt_project()
    if force or not project.manifest_path.exists():
        dbt = Path(sys.executable).parent / "dbt"
        subprocess.run(
            [str(dbt) if dbt.exists() else "dbt", "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR)],
            check=True,
            env={**os.environ, **dbt_env()},
        )
    return project.manifest_path
