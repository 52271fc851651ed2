"""The fingerprint of everything an `atlas run` depends on besides deliveries: the code (Python, dbt,
checks), the declarations, the warehouse file as the run left it, and the run's options. Saved
after a run that succeeded end to end; the next run with the same fingerprint and no new delivery
has nothing to do and says so in about a second, without loading the Dagster definitions.

Anything else that writes the warehouse (a run from the Dagster UI, a sensor) changes the file, so
the next `atlas run` plans from Dagster's records instead (lib/run/run_plan.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from atlas_pipeline.lib.settings import CHECKS_DIR, DBT_PROJECT_DIR, REPO_ROOT, AtlasPaths

STATE_FILE = "last_run.json"
_CODE_FOLDERS = (
    REPO_ROOT / "atlas_pipeline", CHECKS_DIR, *(DBT_PROJECT_DIR / d for d in ("models", "macros", "seeds", "tests"))
)
_CODE_FILES = (DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml")
_SKIP_PARTS = {"__pycache__", "target", "logs", ".pytest_cache"}


def _files(folders: Iterable[Path]) -> list[Path]:
    found = []
    for folder in folders:
        if folder.is_dir():
            found += [p for p in folder.rglob("*") if p.is_file() and not _SKIP_PARTS & set(p.parts)
                      and p.suffix != ".pyc"]
    return sorted(found)


def _digest(paths: Iterable[Path], root: Path | None = None) -> str:
    digest = hashlib.sha256()
    for path in paths:
        name = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def fingerprint(paths: AtlasPaths, declarations: Path, options: Mapping[str, object]) -> dict[str, str]:
    """What the next run compares: code, declarations, the warehouse file, the options."""
    warehouse = paths.warehouse.stat() if paths.warehouse.exists() else None
    return {
        "code": _digest([*_files(_CODE_FOLDERS), *[f for f in _CODE_FILES if f.exists()]], REPO_ROOT),
        "declarations": _digest(_files([declarations]), declarations),
        "warehouse": f"{warehouse.st_size}:{warehouse.st_mtime_ns}" if warehouse else "missing",
        "published": str(paths.published_warehouse.exists()),
        "options": json.dumps(dict(options), sort_keys=True, default=str),
    }


def saved(paths: AtlasPaths) -> dict[str, str] | None:
    path = paths.home / "state" / STATE_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def save(paths: AtlasPaths, state: Mapping[str, str]) -> None:
    folder = paths.home / "state"
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(dict(state), indent=2, sort_keys=True))
    tmp.replace(folder / STATE_FILE)


def forget(paths: AtlasPaths) -> None:
    """A run that did anything but succeed end to end: the next one plans from scratch."""
    (paths.home / "state" / STATE_FILE).unlink(missing_ok=True)
