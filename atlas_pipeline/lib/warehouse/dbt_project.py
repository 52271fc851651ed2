"""The dbt project as dagster-dbt sees it, and the environment dbt runs in."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from atlas_pipeline.lib.settings import DBT_PROJECT_DIR, AtlasPaths

if TYPE_CHECKING:
    from dagster_dbt import DbtProject

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
# The profile target every Dagster dbt call names (defs/resources.py). `dbt parse` names it too: dbt
# keeps a parse state only for the target (and vars) it was parsed with, so a parse without it made
# the first build of every run parse the whole project again (≈ 4 s of `make run`).
DBT_TARGET = "local"


def dbt_env(paths: AtlasPaths | None = None) -> dict[str, str]:
    """Variables dbt reads (profiles.yml takes the warehouse path from ATLAS_WAREHOUSE)."""
    paths = paths or AtlasPaths.from_env()
    return {
        "ATLAS_HOME": str(paths.home),
        "ATLAS_WAREHOUSE": str(paths.warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


# dbt's saved parse state: dbt reads it from the target folder and skips parsing unchanged files.
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


@contextmanager
def warm_parse(paths: AtlasPaths) -> Iterator[Path]:
    """A fresh dbt target folder (under dbt_project/target/) seeded with this warehouse's last parse
    state; the state dbt leaves there is kept for the next invocation, and the folder is removed
    when the block ends without an exception (a failed dbt call keeps its folder and dbt.log).

    dbt re-parses the whole project (≈3 CPU-s) when the profile's connection differs from the
    saved state's, and the DuckDB path is part of it: the parse state of `dbt parse` (another
    ATLAS_HOME, in CI the test session's) never matches a warehouse's own. Kept per warehouse in
    `ATLAS_HOME/dbt/`, every dbt call after a warehouse's first skips parsing unchanged files (changed
    files are re-parsed: dbt compares each file's hash). Replaced atomically: concurrent runs on one
    ATLAS_HOME each read a whole file."""
    kept = paths.home / "dbt" / PARTIAL_PARSE_FILE
    target = DBT_PROJECT_DIR / "target" / f"atlas-{uuid.uuid4().hex[:12]}"
    target.mkdir(parents=True, exist_ok=True)
    if kept.exists():
        shutil.copyfile(kept, target / PARTIAL_PARSE_FILE)
    succeeded = False
    try:
        yield target
        succeeded = True
    finally:
        left = target / PARTIAL_PARSE_FILE
        if left.exists():
            kept.parent.mkdir(parents=True, exist_ok=True)
            staged = kept.with_name(f".{PARTIAL_PARSE_FILE}.{uuid.uuid4().hex[:8]}")
            shutil.copyfile(left, staged)
            os.replace(staged, kept)
        # ≈13 MB a call (manifest, compiled SQL, a debug log): kept only when the call failed, where
        # its dbt.log says why; otherwise every daily run would grow dbt_project/target for ever.
        if succeeded:
            shutil.rmtree(target, ignore_errors=True)


def dbt_project_vars() -> dict:
    """The `vars` of dbt_project.yml (the one list of billing inputs lives there)."""
    import yaml

    return yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8")).get("vars") or {}


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
        from atlas_pipeline.lib.warehouse.warm_dbt import dbt_executable

        subprocess.run(
            [dbt_executable(), "parse", "--quiet", "--target", DBT_TARGET,
             "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
            check=True,
            env={**os.environ, **dbt_env()},
        )
    return MANIFEST_PATH
