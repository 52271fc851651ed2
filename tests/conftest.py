"""Shared fixtures: every test runs with its own ATLAS_HOME and DAGSTER_HOME under tmp."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# dagster-dbt runs `dbt` as a subprocess: make the venv's bin visible even without activation.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

# pytest-xdist workers run under execnet, whose __main__ has neither __spec__ nor __file__: PySpark's
# Spark Connect module (imported by great_expectations) takes that for its own doctest run and calls
# sys.exit(0) mid-import, failing every GX check in that worker. Import GX's PySpark shim once with a
# placeholder __file__, then take it away again: multiprocessing's spawn (Dagster's multiprocess
# executor) would try to re-run a __main__ that has a __file__.
_main = sys.modules["__main__"]
if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = "<pytest-xdist worker>"
    try:
        import great_expectations.compatibility.pyspark  # noqa: F401
    finally:
        del _main.__file__


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
    """Parse the dbt project once, so definitions never load a stale manifest.

    Under pytest-xdist this runs in the controller before the workers start; the workers only read
    the manifest (two `dbt parse` writing one target folder at once would corrupt it)."""
    if hasattr(session.config, "workerinput"):
        return
    from atlas_pipeline.lib.warehouse.dbt_project import prepare_manifest

    prepare_manifest(force=True)


# Tests that share an expensive session fixture run on one xdist worker, so it is built once.
_SHARED_SESSION_FIXTURES = {
    "materialized": "e2e_estate",
    "reported": "e2e_estate",
    "s3_endpoint": "emulators",
    "gcs_endpoint": "emulators",
    "azurite_connection_string": "emulators",
}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks into node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give each test that uses a shared session fixture the xdist group of that fixture, and every
    other test the group of its module (`make test` runs `-n 2 --dist loadgroup`; without xdist the
    mark does nothing). Per module, because modules build module-scoped warehouses and fleets (built
    once per worker that runs one of their tests: split, they were built twice) and some tests read
    what an earlier test of their module left (tests/e2e/test_partitions.py)."""
    for item in items:
        groups = {_SHARED_SESSION_FIXTURES[name] for name in getattr(item, "fixturenames", ())
                  if name in _SHARED_SESSION_FIXTURES}
        item.add_marker(pytest.mark.xdist_group(sorted(groups)[0] if groups else item.nodeid.split("::")[0]))
