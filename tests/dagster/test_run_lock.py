"""One run at a time per ATLAS_HOME (issue 15, concurrent runs): a second run is refused with a
sentence naming the first, a run killed with -9 leaves no stale lock, and a process that holds
the lock (an `atlas run` executing its jobs) re-enters it."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.settings import AtlasPaths
from atlas_pipeline.lib.warehouse.connections import RunInProgress, run_lock

pytestmark = pytest.mark.dagster

HOLD = (
    "import sys, time; from pathlib import Path; from atlas_pipeline.lib.warehouse.connections import run_lock\n"
    "with run_lock(Path(sys.argv[1]), 'warehouse_refresh_job'):\n"
    "    print('holding', flush=True); time.sleep(120)\n"
)


@pytest.fixture()
def holder(tmp_path: Path):
    """Another process running a refresh (it holds the run lock) until killed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    yield proc
    proc.kill()
    proc.wait()


def test_a_second_run_is_refused_naming_the_first(tmp_path, holder):
    with pytest.raises(RunInProgress) as refused, run_lock(tmp_path, "atlas run", wait_seconds=0.5):
        pytest.fail("entered while another process holds the lock")
    message = str(refused.value)
    assert f"warehouse_refresh_job (process {holder.pid}, since " in message
    assert "Runs go one at a time; run again when it has finished" in message


def test_a_run_killed_with_sigkill_leaves_no_stale_lock(tmp_path, holder):
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with run_lock(tmp_path, "atlas run", wait_seconds=0):
        assert '"job": "atlas run"' in (tmp_path / "run.lock").read_text()
    assert (tmp_path / "run.lock").read_text() == ""  # released: no holder named


def test_the_holder_re_enters_and_the_lock_is_free_after(tmp_path):
    with run_lock(tmp_path, "atlas run", wait_seconds=0), run_lock(tmp_path, "warehouse_refresh_job", wait_seconds=0):
        pass
    check = subprocess.run([sys.executable, "-c", HOLD.replace("time.sleep(120)", "pass"), str(tmp_path)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and check.stdout.strip() == "holding"


def test_a_dagster_run_holds_the_lock_and_a_second_is_refused_before_any_step(tmp_path, monkeypatch):
    """Two refresh jobs at once (a schedule's and a sensor's, the UI's): the Warehouse resource
    takes the lock for the run; the second run fails at start, with the sentence, no step run."""
    home = AtlasPaths.from_env().home
    monkeypatch.setenv("ATLAS_RUN_LOCK_WAIT_SECONDS", "0.5")
    steps: list[str] = []

    @dg.asset
    def lands(warehouse: Warehouse) -> None:
        """Stands in for an ingest asset."""
        steps.append("lands")

    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(home)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "holding"
        with dg.DagsterInstance.ephemeral() as instance:
            refused = dg.materialize([lands], resources={"warehouse": Warehouse()}, instance=instance,
                                     raise_on_error=False)
            from atlas_pipeline.lib.run.run_summary import run_outcome

            [failure] = run_outcome(instance, "refresh", refused.run_id).failures
    finally:
        proc.kill()
        proc.wait()
    assert not refused.success and steps == []
    assert failure.message.startswith("RunInProgress: not started: warehouse_refresh_job (process")
    with dg.DagsterInstance.ephemeral() as instance:
        assert dg.materialize([lands], resources={"warehouse": Warehouse()}, instance=instance).success
    assert steps == ["lands"]
