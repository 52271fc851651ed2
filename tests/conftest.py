"""Shared fixtures: every test runs with its own ATLAS_HOME and DAGSTER_HOME under tmp."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# dagster-dbt runs `dbt` as a subprocess: make the venv's bin visible even without activation.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


@pytest.fixture(autouse=True)
def _isolated_homes(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ATLAS_HOME and DAGSTER_HOME at fresh folders so no test touches ./.atlas or ~/.dagster."""
    home = tmp_path_factory.mktemp("atlas_home")
    dagster_home = home / "dagster"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("ATLAS_HOME", str(home))
    monkeypatch.setenv("ATLAS_EXPORTS", str(home / "exports"))
    monkeypatch.setenv("ATLAS_WAREHOUSE", str(home / "warehouse.duckdb"))
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    return home


def pytest_sessionstart(session: pytest.Session) -> None:
    """Parse the dbt project once, so definitions never load a stale manifest."""
    from atlas_pipeline.lib.dbt_project import prepare_manifest

    prepare_manifest(force=True)
