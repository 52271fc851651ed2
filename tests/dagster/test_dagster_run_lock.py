"""One run at a time per ATLAS_HOME (issue 15, concurrent runs), in Dagster: the Warehouse resource
takes the run lock for a run. (The lock itself: tests/unit/test_run_lock.py.)"""

from __future__ import annotations

import dagster as dg
import pytest

from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.settings import AtlasPaths

pytestmark = pytest.mark.dagster


def test_a_dagster_run_holds_the_lock_and_a_second_is_refused_before_any_step(monkeypatch, hold_run_lock):
    """Two refresh jobs at once (a schedule's and a sensor's, the UI's): the Warehouse resource
    takes the lock for the run; the second run fails at start, with the sentence, no step run."""
    home = AtlasPaths.from_env().home
    monkeypatch.setenv("ATLAS_RUN_LOCK_WAIT_SECONDS", "0.5")
    steps: list[str] = []

    @dg.asset
    def lands(warehouse: Warehouse) -> None:
        """Stands in for an ingest asset."""
        steps.append("lands")

    holder = hold_run_lock(home)
    with dg.DagsterInstance.ephemeral() as instance:
        refused = dg.materialize([lands], resources={"warehouse": Warehouse()}, instance=instance,
                                 raise_on_error=False)
        from atlas_pipeline.lib.run.run_summary import run_outcome

        [failure] = run_outcome(instance, "refresh", refused.run_id).failures
    holder.kill()
    holder.wait()
    assert not refused.success and steps == []
    assert failure.message.startswith("RunInProgress: not started: warehouse_refresh_job (process")
    with dg.DagsterInstance.ephemeral() as instance:
        assert dg.materialize([lands], resources={"warehouse": Warehouse()}, instance=instance).success
    assert steps == ["lands"]
