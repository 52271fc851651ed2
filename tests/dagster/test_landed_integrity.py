"""Landed files are read-only and verified (issue 15, finding 3): a landed file changed after
landing (the probe's `raw.gpu_nodes` returning `evil-host`) fails a blocking check that names the
file and both digests, nothing downstream builds, and landing the period again from the store
(the remedy the check states) brings the run back."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from atlas_pipeline.defs.ingest.assets import build_ingest_asset
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.ingest.landed_integrity import sha256_of, verify_current_files
from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.ingest.object_store import LocalStore
from atlas_pipeline.lib.ingest.sources import parse_source
from atlas_pipeline.lib.run.run_summary import check_lines, check_outcomes, run_outcome
from atlas_pipeline.lib.settings import DECLARATIONS_DIR, AtlasPaths
from atlas_pipeline.lib.warehouse.connections import connect

pytestmark = pytest.mark.dagster

NODES = "hostname,cluster,provider,gpu_model,gpu_count\nnode-1,onprem-a,onprem,H100,8\n"


@pytest.fixture()
def inventory() -> tuple:
    paths = AtlasPaths.from_env().ensure()
    folder = paths.exports / "telemetry" / "inventory"
    folder.mkdir(parents=True)
    (folder / "nodes.csv").write_text(NODES)
    source = dataclasses.replace(parse_source(DECLARATIONS_DIR / "sources" / "gpu_nodes.yaml"), location=str(folder))
    return paths, source


def land(paths: AtlasPaths, source) -> None:
    with connect(paths.warehouse) as con:
        land_source(con, source, LocalStore(Path(source.location)), paths.landing, paths.quarantine)
        refresh_raw_view(con, source)


def landed_files(paths: AtlasPaths) -> tuple[Path, Path]:
    with connect(paths.warehouse, read_only=True) as con:
        [(original, typed)] = con.execute("select original_path, landed_path from landing.manifest").fetchall()
    return Path(original), Path(typed)


def overwrite_as_a_writer_could(path: Path) -> None:
    """What the probe did through `atlas sql` (now refused): COPY over the landed parquet."""
    duckdb.sql(f"copy (select 'evil-host' as hostname) to '{path}' (format parquet, use_tmp_file false)")


def test_landed_files_are_read_only_and_their_digests_recorded(inventory):
    paths, source = inventory
    land(paths, source)
    original, typed = landed_files(paths)
    for path in (original, typed):
        assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert stat.S_IMODE(typed.parent.stat().st_mode) & 0o200  # the folder stays writable
    with connect(paths.warehouse) as con:
        assert con.execute("select sha256 from landing.landed_checksums where path = ?", [str(typed)]).fetchone() == (
            sha256_of(typed),
        )
        report = verify_current_files(con, source.name)
    assert (report.intact, report.verified, report.recorded) == (True, 2, 0)


@pytest.mark.parametrize("role", ["typed parquet", "delivered file"])
def test_a_changed_landed_file_is_named_with_both_digests_and_the_remedy_lands_it_again(inventory, role):
    paths, source = inventory
    land(paths, source)
    original, typed = landed_files(paths)
    target = typed if role == "typed parquet" else original
    before = sha256_of(target)
    if role == "typed parquet":
        overwrite_as_a_writer_could(target)
    else:
        target.chmod(0o644)
        target.write_text(NODES.replace("node-1", "evil-host"))
    after = sha256_of(target)

    with connect(paths.warehouse) as con:
        report = verify_current_files(con, source.name)
        [mismatch] = report.mismatches
        assert (mismatch.path, mismatch.role, mismatch.expected, mismatch.actual) == (str(target), role, before, after)
        assert str(target) in report.description() and before in report.description() and after in report.description()
        # The remedy the check states, then the next run: the period is fetched from the store again.
        con.execute(report.remedy().split(";")[0])
    land(paths, source)
    with connect(paths.warehouse) as con:
        assert verify_current_files(con, source.name).intact
        assert con.execute("select hostname from raw.gpu_nodes").fetchall() == [("node-1",)]


def test_a_deleted_landed_file_is_missing(inventory):
    paths, source = inventory
    land(paths, source)
    _, typed = landed_files(paths)
    typed.unlink()
    with connect(paths.warehouse) as con:
        [mismatch] = verify_current_files(con, source.name).mismatches
    assert mismatch.actual == "missing"


def test_typed_files_landed_before_digests_were_kept_get_theirs_recorded(inventory):
    paths, source = inventory
    land(paths, source)
    _, typed = landed_files(paths)
    with connect(paths.warehouse) as con:
        con.execute("delete from landing.landed_checksums")
        typed.chmod(0o644)
        first = verify_current_files(con, source.name)
        second = verify_current_files(con, source.name)
    assert (first.recorded, first.verified, first.intact) == (1, 1, True)
    assert (second.recorded, second.verified) == (0, 2)
    assert stat.S_IMODE(typed.stat().st_mode) == 0o444


def test_the_ingest_asset_blocks_everything_downstream_of_a_changed_file(inventory):
    """In Dagster: `landed_files_intact` fails (blocking) on raw/gpu_nodes, the model downstream does
    not run, and the run summary names the file — where on today's main everything stayed green."""
    paths, source = inventory
    ingest = build_ingest_asset(source)

    @dg.asset(deps=[ingest.key])
    def gpu_nodes_mart() -> None:
        """Stands in for the dbt models that read raw.gpu_nodes."""

    def run(instance):
        return dg.materialize([ingest, gpu_nodes_mart], resources={"warehouse": Warehouse()}, instance=instance,
                              raise_on_error=False)

    with dg.DagsterInstance.ephemeral() as instance:
        assert run(instance).success
        _, typed = landed_files(paths)
        overwrite_as_a_writer_could(typed)
        result = run(instance)
        assert not result.success
        outcome = run_outcome(instance, "refresh", result.run_id)
        assert outcome.not_materialized == ("gpu_nodes_mart",)
        lines = check_lines(check_outcomes(instance, [result.run_id]))
    [failed] = [line for line in lines if line.startswith("FAILED")]
    assert "raw/gpu_nodes :: landed_files_intact" in failed and str(typed) in failed and "expected sha256" in failed
