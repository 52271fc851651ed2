"""One run at a time per ATLAS_HOME (issue 15, concurrent runs): a second run is refused with a
sentence naming the first, a run killed with -9 leaves no stale lock, and a process that holds
the lock (an `atlas run` executing its jobs) re-enters it. (A Dagster run taking the lock:
tests/dagster/test_dagster_run_lock.py.)"""

from __future__ import annotations

import signal

import pytest

from atlas_pipeline.lib.warehouse.connections import RunInProgress, run_lock


def test_a_second_run_is_refused_naming_the_first(tmp_path, hold_run_lock):
    holder = hold_run_lock(tmp_path)
    with pytest.raises(RunInProgress) as refused, run_lock(tmp_path, "atlas run", wait_seconds=0.5):
        pytest.fail("entered while another process holds the lock")
    message = str(refused.value)
    assert f"warehouse_refresh_job (process {holder.pid}, since " in message
    assert "Runs go one at a time; run again when it has finished" in message


def test_a_run_killed_with_sigkill_leaves_no_stale_lock(tmp_path, hold_run_lock):
    holder = hold_run_lock(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with run_lock(tmp_path, "atlas run", wait_seconds=0):
        assert '"job": "atlas run"' in (tmp_path / "run.lock").read_text()
    assert (tmp_path / "run.lock").read_text() == ""  # released: no holder named


def test_the_holder_re_enters_and_the_lock_is_free_after(tmp_path, hold_run_lock):
    with run_lock(tmp_path, "atlas run", wait_seconds=0), run_lock(tmp_path, "warehouse_refresh_job", wait_seconds=0):
        pass
    # another process takes it at once: nothing was left held
    done = hold_run_lock(tmp_path, seconds=0)
    assert done.wait(timeout=60) == 0
