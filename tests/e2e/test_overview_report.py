"""The overview report: built by its job on the session's estate, opened in headless Chromium.

The browser test asserts that the page ran without script errors, every chart rendered, and the
numbers on the page equal SQL on the marts (to the cent); it saves a screenshot under
`test-artifacts/`. Without a `chromium` binary (installed by `make test` through apt-get) it is
skipped, saying why.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import pytest

from atlas_pipeline.lib.report.overview_report import build_overview
from atlas_pipeline.lib.settings import DBT_PROJECT_DIR, REPO_ROOT
from atlas_pipeline.lib.warehouse.connections import connect

pytestmark = pytest.mark.e2e

CHARTS = (
    "chart-spend-monthly", "chart-spend-daily", "chart-top", "chart-budgets", "chart-forecast", "chart-gpu-heatmap",
    "chart-gpu-team-cost",
)
# ../shared/notes/toolchain.md §6: flags that work as root with no network.
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
)
ARTIFACTS = REPO_ROOT / "test-artifacts"


class _Dom(HTMLParser):
    """Chart containers (id → class) and table cells (table id → row key → list of (text, data-value))."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: dict[str, dict[str, str]] = {}
        self.tables: dict[str, dict[str, list[tuple[str, str | None]]]] = {}
        self.svgs = 0
        self._table: str | None = None
        self._row: str | None = None
        self._cell: list[str] | None = None
        self._value: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.elements[a["id"]] = a
        if tag == "svg" and "main-svg" in a.get("class", ""):
            self.svgs += 1
        if tag == "table":
            self._table = a.get("id")
            self.tables[self._table] = {}
        elif tag == "tr" and self._table and "data-key" in a:
            self._row = a["data-key"]
            self.tables[self._table][self._row] = []
        elif tag == "td" and self._row is not None:
            self._cell, self._value = [], a.get("data-value")

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.tables[self._table][self._row].append(("".join(self._cell), self._value))
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = None


@pytest.fixture(scope="module")
def report(reported) -> tuple[Path, Path, dg.ExecuteInProcessResult]:
    """The report job run after the shared refresh and forecast runs (as the sensor does)."""
    paths, result = reported
    return paths.overview_report, paths.warehouse, result


@pytest.fixture(autouse=True)
def _isolated_homes(materialized):
    """Every test in this module works on the session's materialized estate."""
    return materialized[0].home


def _chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if not found:
        pytest.skip("chromium is not installed (make test installs Debian's chromium with apt-get when it can)")
    return found


def _browse(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=10000", *extra, page.as_uri()],
        capture_output=True, text=True, timeout=180,
    )


def test_report_job_writes_one_self_contained_page(report):
    path, _, result = report
    assert result.success
    assert path.exists()
    page = path.read_text(encoding="utf-8")
    # Offline: no external script, stylesheet or image; plotly.js is inlined.
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"<link[^>]*\bhref=", page)
    assert not re.search(r"<img[^>]*\bsrc=\"?https?:", page)
    assert "Plotly.newPlot" in page and len(page) > 1_000_000
    [materialization] = result.asset_materializations_for_node("atlas_overview")
    assert materialization.metadata["charts"].value == len(CHARTS)
    assert materialization.metadata["path"].value == str(path)


@pytest.mark.browser
def test_headless_chromium_renders_every_chart_and_the_numbers_equal_sql(report, tmp_path):
    path, warehouse, _ = report
    dump = _browse(path, tmp_path / "profile-dom", "--dump-dom")
    assert dump.returncode == 0, dump.stderr[-2000:]
    console_errors = [line for line in dump.stderr.splitlines() if "CONSOLE" in line and "Uncaught" in line]
    assert console_errors == []

    dom = _Dom()
    dom.feed(dump.stdout)
    assert "hidden" in dom.elements["script-errors"], "the page reported a script error"
    for chart in CHARTS:  # Plotly.newPlot adds js-plotly-plot once the chart is drawn
        assert "js-plotly-plot" in dom.elements[chart]["class"], chart
    assert dom.svgs >= len(CHARTS)

    with connect(warehouse, read_only=True) as con:
        providers = con.execute(
            """select "ProviderName", "BillingCurrency", round(sum("BilledCost"), 2), round(sum("EffectiveCost"), 2)
               from main.focus_cost_and_usage group by all"""
        ).fetchall()
        # Recomputed from the allocation mart: used = allocated x activity; idle = allocated-but-unused
        # plus unallocated; jobs on GPUs without telemetry are unmeasured, never used.
        gpu_teams = con.execute(
            """select coalesce(team, '(unallocated)'),
                      round(coalesce(sum(utilization_weighted_cost), 0), 2),
                      round(sum(coalesce(idle_cost_allocated_unused, 0) + coalesce(idle_cost_unallocated, 0)), 2),
                      round(sum(case when allocation_type = 'job' and utilization_weighted_cost is null
                                     then paid_cost else 0 end), 2),
                      round(sum(paid_cost), 2)
               from main.fct_gpu_cost_allocation group by 1"""
        ).fetchall()
        forecast = con.execute(
            """select series_key, round(sum(point), 2) from main.forecast_cost_daily
               where series_dimension = 'provider'
                 and as_of_date = (select max(as_of_date) from main.forecast_cost_daily)
               group by 1"""
        ).fetchall()
        stages = {r[0] for r in con.execute(
            """select distinct case when asset_key like 'raw/%' then 'ingest' when asset_key like 'stg%' then 'staging'
                                    when asset_key like 'int%' then 'intermediate' else 'marts' end
               from main.data_quality_summary"""
        ).fetchall()}
        budgets = con.execute(
            """select budget_name, round(actual_to_date, 2), round(projected_month_end, 2), round(budget_amount, 2)
               from main.budget_status where as_of_date = (select max(as_of_date) from main.budget_status)"""
        ).fetchall()

    totals = dom.tables["table-provider-totals"]
    assert len(providers) == 3 and len(totals) == 3
    for provider, currency, billed, effective in providers:
        cells = totals[provider]
        assert cells[1][0] == currency
        assert Decimal(cells[2][1]) == billed and cells[2][0] == f"{billed:,.2f}"
        assert Decimal(cells[3][1]) == effective and cells[3][0] == f"{effective:,.2f}"

    gpu = dom.tables["table-gpu-team-cost"]
    assert set(gpu) == {team for team, *_ in gpu_teams}
    for team, *money in gpu_teams:
        assert [Decimal(c[1]) for c in gpu[team][2:6]] == money, team

    shown = {key: Decimal(cells[-1][1]) for key, cells in dom.tables["table-forecast"].items()}
    assert shown == dict(forecast)

    quality = dom.tables["table-quality"]
    assert stages <= set(quality)
    for stage in ("ingest", "staging", "intermediate", "marts"):
        status, failed, last_load = quality[stage][1][0], quality[stage][4][0], quality[stage][-1][0]
        assert status in ("ok", "warnings") and failed == "0", (stage, quality[stage])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", last_load), (stage, last_load)
    assert dom.tables["table-worst-gpus"], "the sample estate injects unhealthy GPUs"
    shown_budgets = dom.tables["table-budgets"]
    assert len(budgets) >= 1 and set(shown_budgets) == {name for name, *_ in budgets}
    for name, actual, projected, amount in budgets:
        cells = shown_budgets[name]
        assert [Decimal(cells[i][1]) for i in (7, 8, 6)] == [actual, projected, amount], name

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "atlas_overview.png"
    taken = _browse(path, tmp_path / "profile-shot", "--window-size=1400,4600", f"--screenshot={shot}")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 50_000
    print(f"screenshot: {shot}")


def test_anomalies_are_marked_on_the_forecast_and_listed(report, tmp_path):
    """An anomaly row in main.cost_anomalies appears in the table and as a marker on its provider's chart."""
    _, warehouse, _ = report
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    with connect(copy) as con:
        day, provider = con.execute(
            """select max(charge_date), min(provider_name) from main.fct_cost_daily
               where provider_name in (
                   select series_key from main.forecast_cost_daily where series_dimension = 'provider')"""
        ).fetchone()
        con.execute(
            """insert into main.cost_anomalies by name
               select 'provider' as series_dimension, ? as series_key, 'USD' as billing_currency, ?::date as usage_date,
                      9876.54 as actual_cost, 1234.5 as expected_cost, 8642.04 as impact, 'high' as severity,
                      'service' as explained_by_dimension, 'Compute' as explained_by_value""",
            [provider, day],
        )
        page = build_overview(con, generated_at=datetime.now(UTC)).html
    dom = _Dom()
    dom.feed(page)
    [anomaly] = dom.tables["table-anomalies"].values()
    assert anomaly[1:3] == [("provider", None), (provider, None)]
    assert anomaly[6] == ("8,642.04", "8642.04") and anomaly[7][0] == "high"
    marker = re.search(r'"mode":\s*"markers","name":\s*"anomaly".*?"y":\s*\[([^\]]*)\]', page)
    assert marker and float(marker.group(1)) == pytest.approx(9876.54)


def test_missing_forecast_stage_tables_are_explained_not_fatal(report, tmp_path):
    """Before the forecast stage has run, its report views read as empty and the page says so."""
    _, warehouse, _ = report
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    with connect(copy) as con:
        for table in ("budget_status", "cost_anomalies", "forecast_cost_daily"):
            con.execute(f"drop table main.{table}")
    rebuilt = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "run", "--select", "rpt_budget_status", "rpt_cost_anomalies",
         "rpt_forecast_cost_daily", "rpt_forecast_summary", "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target"),
         "--log-path", str(tmp_path / "logs")],
        env={**os.environ, "ATLAS_WAREHOUSE": str(copy)}, capture_output=True, text=True, timeout=300,
    )
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    with connect(copy, read_only=True) as con:
        page = build_overview(con, generated_at=datetime.now(UTC)).html
    assert "No budget status yet" in page
    assert "No provider forecast yet" in page
    assert 'id="chart-budgets"' not in page


def test_mart_materializations_carry_row_counts_and_cost_totals(materialized):
    paths, refresh, _ = materialized
    metadata = {
        event.asset_key.to_user_string(): event.event_specific_data.materialization.metadata
        for event in refresh.get_asset_materialization_events()
    }
    with connect(paths.warehouse, read_only=True) as con:
        rows = con.execute("select count(*) from main.fct_cost_daily").fetchone()[0]
        totals = con.execute(
            "select billing_currency, round(sum(effective_cost), 2) from main.fct_cost_daily group by 1"
        ).fetchall()
        first, last = con.execute("select min(charge_date), max(charge_date) from main.fct_cost_daily").fetchone()
    daily = metadata["fct_cost_daily"]
    assert daily["dagster/row_count"].value == rows
    assert {c: Decimal(v["effective_cost"]) for c, v in daily["cost_totals"].value.items()} == dict(totals)
    assert daily["period_covered"].value == {"column": "charge_date", "first": str(first), "last": str(last)}
    assert daily["preview"].value.startswith("| charge_date |")
    from atlas_pipeline.definitions import defs

    graph = defs().resolve_asset_graph()
    marts = [k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).group_name == "marts"]
    assert len(marts) >= 10
    assert [k for k in marts if "dagster/row_count" not in metadata.get(k, {})] == []


def test_a_successful_refresh_run_requests_a_report_rebuild(materialized, e2e_instance):
    from atlas_pipeline.defs.report.overview import rebuild_overview_report

    _, refresh, _ = materialized
    context = dg.build_run_status_sensor_context(
        sensor_name="rebuild_overview_report",
        dagster_event=refresh.get_run_success_event(),
        dagster_instance=e2e_instance,
        dagster_run=e2e_instance.get_run_by_id(refresh.run_id),
    )
    request = rebuild_overview_report(context)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == f"overview-after-{refresh.run_id}"  # one rebuild per finished run
    assert rebuild_overview_report.job_name == "report_job"
