"""Resources shared by every domain: the DuckDB warehouse and the dbt CLI."""


import importlib.metadata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from packaging import version

from atlas_pipeline.lib.settings import DBT_PROJECT_DIR, AtlasPaths
from atlas_pipeline.lib.warehouse.connections import connect, run_lock
from atlas_pipeline.lib.warehouse.dbt_project import DBT_TARGET
from atlas_pipeline.lib.warehouse.warm_dbt import dbt_executable, runs_this_dbt_core

# Under the daemon the publishing sensor may hold the warehouse for its copy while a report step
# reads it (DuckDB: one writer, no readers from other processes meanwhile): such a step retries a
# lock error shortly.
WAREHOUSE_LOCK_RETRY = dg.RetryPolicy(max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL)


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse and the folders beside it under `ATLAS_HOME`.

    Paths resolve when a run uses the resource, not when definitions load, so one code
    location serves any `ATLAS_HOME`.
    """

    atlas_home: str | None = None

    def paths(self) -> AtlasPaths:
        if self.atlas_home:
            home = Path(self.atlas_home).resolve()
            return AtlasPaths(home=home, exports=AtlasPaths.from_env().exports).ensure()
        return AtlasPaths.from_env().ensure()

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["Warehouse"]:
        """A run holds the ATLAS_HOME run lock from start to end (lib/warehouse/connections.py `run_lock`): a
        second run at once is refused naming the first. Sensors (no run) only read: no lock."""
        if context.run is None:
            yield self
            return
        with run_lock(self.paths().home, context.run.job_name):
            yield self

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.paths().warehouse, read_only=read_only) as con:
            yield con


# `dbt --version` per executable, asked once per process (the resource is re-created for every run).
_DBT_VERSIONS: dict[str, object] = {}


class AtlasDbtCli(DbtCliResource):
    """dagster-dbt's dbt CLI resource without two costs of every invocation that Atlas never uses.

    - dagster-dbt builds a dbt adapter in this process before each invocation (it loads the profile,
      the project and dbt's macros: ≈2 CPU-s a call, holding the GIL) for its optional
      `fetch_column_metadata()` / `fetch_row_counts()`; Atlas reads columns, row counts and totals
      from the warehouse itself once dbt exits (defs/transform/dbt.py `_with_warehouse_metadata`).
    - it runs `dbt --version` (a ≈1.5 s subprocess) once per resource instance, i.e. once per run:
      asked once per process, and not at all for the `dbt` installed beside this interpreter (that
      script is dbt-core's, whose version the package metadata says).

    Both hooks are private to dagster-dbt (pinned in requirements.lock.txt);
    tests/unit/test_dbt_resource_setup.py fails when an upgrade renames them."""

    def _initialize_dbt_core_adapter(self, args: Sequence[str]):  # noqa: ARG002 - the base's signature
        return None

    @property
    def _cli_version(self):
        if self.dbt_executable not in _DBT_VERSIONS:
            _DBT_VERSIONS[self.dbt_executable] = (
                version.parse(importlib.metadata.version("dbt-core")) if runs_this_dbt_core(self.dbt_executable)
                else DbtCliResource._cli_version.func(self))
        return _DBT_VERSIONS[self.dbt_executable]


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "warehouse": Warehouse(),
            "dbt": AtlasDbtCli(
                project_dir=str(DBT_PROJECT_DIR),
                profiles_dir=str(DBT_PROJECT_DIR),
                # Beside this interpreter, so a non-activated venv (`.venv/bin/python -m pytest`) finds it;
                # `atlas-dbt`, started warm when `atlas run` runs a server (lib/warehouse/warm_dbt.py).
                dbt_executable=dbt_executable(),
                # The DuckDB warehouse, whatever ATLAS_ENGINE says: the Spark build needs raw.*
                # registered in its own session (lib/warehouse/spark_engine.py), after the run.
                target=DBT_TARGET,
            ),
        }
    )
