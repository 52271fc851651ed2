"""Landed files are read-only and verified (issue 15, finding 3), in Dagster: a landed file
changed after landing (the probe's `raw.gpu_nodes` returning `evil-host`) fails a blocking check
that names the file and both digests, and nothing downstream builds. (The verification itself:
tests/unit/test_landed_integrity.py.)"""

from __future__ import annotations

import dagster as dg
import pytest

from atlas_pipeline.defs.ingest.assets import build_ingest_asset
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.run.run_summary import check_lines, check_outcomes, run_outcome

pytestmark = pytest.mark.dagster


def test_the_ingest_asset_blocks_everything_downstream_of_a_changed_file(landed_inventory):
    """In Dagster: `landed_files_intact` fails (blocking) on raw/gpu_nodes, the model downstream does
    not run, and the run summary names the file — where on today's main everything stayed green."""
    ingest = build_ingest_asset(landed_inventory.source)

    @dg.asset(deps=[ingest.key])
    def gpu_nodes_mart() -> None:
        """Stands in for the dbt models that read raw.gpu_nodes."""

    def run(instance):
        return dg.materialize([ingest, gpu_nodes_mart], resources={"warehouse": Warehouse()}, instance=instance,
                              raise_on_error=False)

    with dg.DagsterInstance.ephemeral() as instance:
        assert run(instance).success
        _, typed = landed_inventory.landed_files()
        landed_inventory.overwrite_as_a_writer_could(typed)
        result = run(instance)
        assert not result.success
        outcome = run_outcome(instance, "refresh", result.run_id)
        assert outcome.not_materialized == ("gpu_nodes_mart",)
        lines = check_lines(check_outcomes(instance, [result.run_id]))
    [failed] = [line for line in lines if line.startswith("FAILED")]
    assert "raw/gpu_nodes :: landed_files_intact" in failed and str(typed) in failed and "expected sha256" in failed
