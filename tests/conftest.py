"""Shared fixtures: every test runs with its own ATLAS_HOME and DAGSTER_HOME under tmp."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from atlas_pipeline.lib.ingest.sources import ExportSource
    from atlas_pipeline.lib.settings import AtlasPaths

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


# Another process running a refresh: it holds ATLAS_HOME's run lock (argv[1]) until killed, or
# releases it at once when `sleep` is 0.
_HOLD_RUN_LOCK = (
    "import sys, time; from pathlib import Path; from atlas_pipeline.lib.warehouse.connections import run_lock\n"
    "with run_lock(Path(sys.argv[1]), 'warehouse_refresh_job'):\n"
    "    print('holding', flush=True); time.sleep(float(sys.argv[2]))\n"
)


@pytest.fixture()
def hold_run_lock() -> Iterator[Callable[..., subprocess.Popen]]:
    """`hold_run_lock(home, seconds=120)`: start a process that holds `home`'s run lock (it has said
    so when this returns); every such process is killed when the test ends."""
    started: list[subprocess.Popen] = []

    def start(home: Path, seconds: float = 120) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", _HOLD_RUN_LOCK, str(home), str(seconds)],
                                stdout=subprocess.PIPE, text=True)
        started.append(proc)
        assert proc.stdout.readline().strip() == "holding"
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


@dataclasses.dataclass(frozen=True)
class LandedInventory:
    """A one-node GPU inventory delivered to the test's exports, as the `gpu_nodes` source."""

    paths: AtlasPaths
    source: ExportSource
    nodes_csv: str = "hostname,cluster,provider,gpu_model,gpu_count\nnode-1,onprem-a,onprem,H100,8\n"

    def land(self) -> None:
        """Land it with the real landing code and refresh raw.gpu_nodes."""
        from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
        from atlas_pipeline.lib.ingest.object_store import LocalStore
        from atlas_pipeline.lib.warehouse.connections import connect

        with connect(self.paths.warehouse) as con:
            land_source(con, self.source, LocalStore(Path(self.source.location)), self.paths.landing,
                        self.paths.quarantine)
            refresh_raw_view(con, self.source)

    def landed_files(self) -> tuple[Path, Path]:
        """(delivered file, typed parquet) of the one landed file."""
        from atlas_pipeline.lib.warehouse.connections import connect

        with connect(self.paths.warehouse, read_only=True) as con:
            [(original, typed)] = con.execute("select original_path, landed_path from landing.manifest").fetchall()
        return Path(original), Path(typed)

    @staticmethod
    def overwrite_as_a_writer_could(path: Path) -> None:
        """What a probe once did through `atlas sql` (now refused): COPY over a landed parquet."""
        import duckdb

        duckdb.sql(f"copy (select 'evil-host' as hostname) to '{path}' (format parquet, use_tmp_file false)")


@pytest.fixture()
def landed_inventory() -> LandedInventory:
    """The `gpu_nodes` source pointed at a one-node inventory in this test's exports (not landed yet)."""
    from atlas_pipeline.lib.ingest.sources import parse_source
    from atlas_pipeline.lib.settings import DECLARATIONS_DIR, AtlasPaths

    paths = AtlasPaths.from_env().ensure()
    folder = paths.exports / "telemetry" / "inventory"
    folder.mkdir(parents=True)
    source = dataclasses.replace(parse_source(DECLARATIONS_DIR / "sources" / "gpu_nodes.yaml"), location=str(folder))
    inventory = LandedInventory(paths, source)
    (folder / "nodes.csv").write_text(inventory.nodes_csv)
    return inventory


def pytest_sessionstart(session: pytest.Session) -> None:
    """Parse the dbt project once, so definitions never load a stale manifest.

    Under pytest-xdist this runs in the controller before the workers start; the workers only read
    the manifest (two `dbt parse` writing one target folder at once would corrupt it)."""
    if hasattr(session.config, "workerinput"):
        return
    from atlas_pipeline.lib.warehouse.dbt_project import prepare_manifest

    prepare_manifest(force=True)


@pytest.fixture(scope="session", autouse=True)
def warm_dbt() -> Iterator[None]:
    """One warm dbt server per test process (lib/warehouse/warm_dbt.py): every dbt call of the
    session — the dbt tests', dagster-dbt's, `atlas run`'s subprocesses — starts without importing
    dbt again. A call made while it starts, or without it, runs the real dbt."""
    from atlas_pipeline.lib.warehouse.warm_dbt import warm_dbt_server

    with warm_dbt_server():
        yield


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
