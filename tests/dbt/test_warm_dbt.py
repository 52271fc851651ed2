"""`atlas-dbt` with and without a warm server (lib/warehouse/warm_dbt.py), on a tiny dbt project of
its own: the child dbt sees the caller's environment and working directory, writes to the caller's
stdout, and its exit status is the caller's — exactly as the real `dbt` would."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from atlas_pipeline.lib.warehouse.warm_dbt import SERVER_ENV, dbt_executable, wait_until_listening, warm_dbt_server

pytestmark = pytest.mark.dbt


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "models").mkdir()
    (tmp_path / "dbt_project.yml").write_text("name: tiny\nversion: '1.0'\nprofile: tiny\nconfig-version: 2\n")
    (tmp_path / "profiles.yml").write_text(
        "tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: \"{{ env_var('TINY_DB') }}\"\n")
    (tmp_path / "models" / "started.sql").write_text(
        "{{ config(materialized='table') }}\n"
        "select {{ env_var('TINY_VALUE') }} as value, '{{ env_var('ATLAS_DBT_WARM', 'cold') }}' as started_by")
    (tmp_path / "models" / "broken.sql").write_text("select * from a_table_that_does_not_exist")
    return tmp_path


def _dbt(project: Path, *args: str, value: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TINY_DB": str(project / "tiny.duckdb"), "TINY_VALUE": value,
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run([dbt_executable(), *args, "--profiles-dir", ".", "--log-format", "json"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300)


def _children(pid: int) -> list[str]:
    """The live child processes of `pid` (from /proc: no procps needed)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(stat.parent.name)
    return found


def _table(project: Path) -> tuple:
    with duckdb.connect(str(project / "tiny.duckdb"), read_only=True) as con:
        return con.execute("select value, started_by from started").fetchone()


def test_a_warm_call_is_the_callers_dbt_in_all_but_its_start(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Path(dbt_executable()).name == "atlas-dbt"
    with warm_dbt_server() as server:
        assert wait_until_listening(server.path)
        done = _dbt(project, "run", "--select", "started", value="42")
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr
        assert _table(project) == (42, str(server.pid))  # the caller's environment; forked by this server
        # dbt's JSON log lines reached the caller's stdout (dagster-dbt reads them there).
        events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        assert any(e["info"]["name"] == "LogModelResult" for e in events)

        failed = _dbt(project, "run", "--select", "broken", value="42")
        assert failed.returncode == 1 and "a_table_that_does_not_exist" in failed.stdout
        wrong = _dbt(project, "run", "--vars", "{not yaml", value="42")
        assert wrong.returncode == 2

    # No server: the real dbt, same result.
    monkeypatch.delenv(SERVER_ENV, raising=False)
    done = _dbt(project, "run", "--select", "started", value="7")
    assert done.returncode == 0, done.stdout[-2000:]
    assert _table(project) == (7, "cold")


def test_a_dbt_whose_caller_is_killed_stops_too(project: Path) -> None:
    """dagster-dbt ends a dbt that does not stop with SIGKILL, which `atlas-dbt` cannot forward: the
    server sees its caller gone and stops the dbt it forked (else it would hold DuckDB's lock)."""
    import signal
    import time

    (project / "models" / "long.sql").write_text(
        "{{ config(materialized='table') }}\nselect sum(i) as total from range(100000000000) t(i)")
    with warm_dbt_server() as server:
        assert wait_until_listening(server.path)
        env = {**os.environ, "TINY_DB": str(project / "tiny.duckdb"), "TINY_VALUE": "1",
               "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}  # names this server
        caller = subprocess.Popen([dbt_executable(), "run", "--select", "long", "--profiles-dir", "."], cwd=project,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def forked() -> list[str]:
            return _children(server.pid)

        deadline = time.monotonic() + 60
        while not forked():
            assert time.monotonic() < deadline and caller.poll() is None, "dbt was never forked"
            time.sleep(0.1)
        [child] = forked()
        time.sleep(2)  # dbt is running the model
        assert Path(f"/proc/{child}").exists()
        caller.send_signal(signal.SIGKILL)
        assert caller.wait() == -signal.SIGKILL
        deadline = time.monotonic() + 15
        while forked():
            assert time.monotonic() < deadline, f"dbt {child} still running after its caller was killed"
            time.sleep(0.1)


def test_a_dbt_killed_by_a_signal_kills_its_caller_alike(project: Path) -> None:
    import signal
    import time

    (project / "models" / "long.sql").write_text(
        "{{ config(materialized='table') }}\nselect sum(i) as total from range(100000000000) t(i)")
    with warm_dbt_server() as server:
        assert wait_until_listening(server.path)
        env = {**os.environ, "TINY_DB": str(project / "tiny.duckdb"), "TINY_VALUE": "1",
               "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        caller = subprocess.Popen([dbt_executable(), "run", "--select", "long", "--profiles-dir", "."], cwd=project,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not (forked := _children(server.pid)):
            assert time.monotonic() < deadline and caller.poll() is None, "dbt was never forked"
            time.sleep(0.1)
        os.kill(int(forked[0]), signal.SIGKILL)
        assert caller.wait(timeout=30) == -signal.SIGKILL  # as Popen reports a real dbt killed so
