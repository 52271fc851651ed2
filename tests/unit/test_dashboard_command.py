"""`atlas dashboard` starts Streamlit on the address and port asked for (127.0.0.1 by default, any
address in a container), headless and without telemetry; the report slices filter as declared."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from atlas_pipeline import cli
from atlas_pipeline.dashboard.server import APP, streamlit_command
from atlas_pipeline.lib.report import report_queries as q


def _options(argv: list[str]) -> dict[str, str]:
    return {argv[i]: argv[i + 1] for i in range(3, len(argv) - 1, 2)}


def test_the_command_serves_the_app_on_loopback_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(cli.os, "execv", lambda path, argv: seen.append(argv))
    assert cli.main(["dashboard"]) == 0
    assert seen[0] == streamlit_command("127.0.0.1", 8501)
    argv = seen[0]
    assert argv[1:3] == ["run", str(APP)] and APP.exists()
    options = _options(argv)
    assert options["--server.address"] == "127.0.0.1" and options["--server.port"] == "8501"
    assert options["--server.headless"] == "true" and options["--browser.gatherUsageStats"] == "false"


def test_host_and_port_flags_reach_streamlit(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(cli.os, "execv", lambda path, argv: seen.append(argv))
    assert cli.main(["dashboard", "--host", "0.0.0.0", "--port", "9000"]) == 0
    options = _options(seen[0])
    assert (options["--server.address"], options["--server.port"]) == ("0.0.0.0", "9000")
    assert "no published snapshot" in capsys.readouterr().err  # a fresh ATLAS_HOME: says what to do


def test_a_slice_filters_period_and_values_and_ignores_columns_a_model_lacks() -> None:
    con = duckdb.connect()
    con.execute("create table t as select * from (values (date '2026-09-30', 'a', 'x'), (date '2026-10-01', 'a', 'y'),"
                " (date '2026-10-31', 'b', 'y'), (date '2026-11-01', 'a', 'y')) as v(day, team, provider)")
    where = q.Slice.of(date(2026, 10, 1), date(2026, 11, 1), team=["a", "b"], provider=["y"], cluster=[])
    condition, params = where.where("day", ("team", "provider"))
    assert con.execute(f"select count(*) from t where {condition}", params).fetchone()[0] == 2
    condition, params = q.Slice.of(team=["a"], cluster=["c1"]).where(None, ("team",))
    assert con.execute(f"select count(*) from t where {condition}", params).fetchone()[0] == 3
    assert q.Slice().where("day") == ("true", [])
