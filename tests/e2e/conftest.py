"""One materialized estate for every end-to-end module: generating it and running the graph is the
slow part, so the pipeline and the report tests share it (session scope)."""

from __future__ import annotations

import dagster as dg
import pytest
from e2e_spec import SPEC

from atlas_pipeline.lib.settings import AtlasPaths
from atlas_pipeline.sample_estate.estate import generate_estate


@pytest.fixture(scope="session")
def e2e_instance() -> dg.DagsterInstance:
    """The Dagster instance the shared runs record into (run history, latest materializations)."""
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture(scope="session")
def materialized(tmp_path_factory: pytest.TempPathFactory, e2e_instance: dg.DagsterInstance):
    """Generate the estate, refresh the warehouse (billing and telemetry partitions, then the rest) and
    run the forecast job once for the session."""
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("e2e_home")
    (home / "dagster").mkdir()
    for key, value in {
        "ATLAS_HOME": str(home),
        "ATLAS_EXPORTS": str(home / "exports"),
        "ATLAS_WAREHOUSE": str(home / "warehouse.duckdb"),
        "DAGSTER_HOME": str(home / "dagster"),
    }.items():
        mp.setenv(key, value)
    paths = AtlasPaths.from_env().ensure()
    generate_estate(paths.exports, SPEC)

    from atlas_pipeline.definitions import defs
    from atlas_pipeline.lib.run.pipeline_run import refresh_warehouse

    definitions = defs()
    # As `atlas run` does: the billing periods, the telemetry days, then what depends on them.
    refresh = refresh_warehouse(paths, e2e_instance, definitions)
    as_of = (SPEC.end_exclusive).isoformat()
    # As `atlas run` does: the as-of date to forecast becomes a forecast partition.
    from atlas_pipeline.defs.forecast.partitions import add_as_of_dates

    add_as_of_dates(e2e_instance, [as_of])
    forecast = definitions.resolve_job_def("forecast_job").execute_in_process(
        instance=e2e_instance, partition_key=as_of, raise_on_error=False
    )
    yield paths, refresh, forecast
    mp.undo()


@pytest.fixture(scope="session")
def reported(materialized, e2e_instance: dg.DagsterInstance):
    """The report job after the shared refresh and forecast runs (as the sensor does): the rpt_*
    views and the overview; then the snapshot is published as `atlas run` does."""
    from atlas_pipeline.definitions import defs
    from atlas_pipeline.lib.warehouse.publish import publish_snapshot

    paths, _, _ = materialized
    result = defs().resolve_job_def("report_job").execute_in_process(instance=e2e_instance, raise_on_error=False)
    if result.success:
        publish_snapshot(paths.warehouse, paths.published_warehouse)
    return paths, result
