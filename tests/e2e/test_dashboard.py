"""The dashboard, served by `atlas dashboard`'s command on the session's published snapshot and
driven in headless Chromium (Playwright on Debian's /usr/bin/chromium, real mouse and keyboard).

What it proves: choosing a provider, a team and a month changes the figures to exactly what SQL on
the marts gives, to the cent; the budget bar equals the declared budget (each budget drawn once);
a table's CSV download holds the same numbers as SQL; every page renders without a script error;
and the app asks for nothing outside 127.0.0.1 (every other request is blocked and recorded).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import pytest
from e2e_spec import SPEC

from atlas_pipeline.dashboard.server import streamlit_command
from atlas_pipeline.lib.forecast.budgets import load_budgets
from atlas_pipeline.lib.settings import REPO_ROOT, AtlasPaths
from atlas_pipeline.lib.warehouse.connections import connect

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

playwright_api = pytest.importorskip("playwright.sync_api")

PAGES = {  # url path -> title on the page
    "": "Spend", "team": "Team", "provider": "Provider", "commitments": "Commitments", "gpu": "GPU fleet",
    "gpu-insight": "GPU placement and idle",
    "cluster": "Cluster", "forecasts": "Forecasts, anomalies and budgets", "quality": "Data quality and freshness",
}
# ../shared/notes/toolchain.md §6: flags that work as root with no network.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO_ROOT / "test-artifacts"
TIMEOUT_MS = 60_000
# expect() waits 5 s by default, not the page's timeout: a re-render after a filter takes longer than
# that while the other test worker builds an estate beside it.
playwright_api.expect.set_options(timeout=TIMEOUT_MS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _restore_signals() -> None:  # a child of a background shell job inherits SIGINT ignored
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


@pytest.fixture(autouse=True)
def _isolated_homes(materialized):
    """Every test here works on the session's materialized estate."""
    return materialized[0].home


@pytest.fixture(scope="module")
def dashboard_home(reported, tmp_path_factory: pytest.TempPathFactory) -> AtlasPaths:
    """A copy of the session's warehouse with a second daily run of budget_status (a week earlier,
    as the daily schedule writes it: the table then holds each budget twice), published as the
    snapshot the dashboard reads. A copy, so the other end-to-end modules see the shared run as is."""
    import dagster as dg

    from atlas_pipeline.defs.forecast.budgets import budget_status
    from atlas_pipeline.defs.resources import Warehouse
    from atlas_pipeline.lib.forecast.forecast_as_of import FORECAST_PARTITIONS_NAME
    from atlas_pipeline.lib.warehouse.publish import publish_snapshot

    paths, result = reported
    assert result.success
    home = AtlasPaths(home=tmp_path_factory.mktemp("dashboard_home"), exports=paths.exports)
    shutil.copyfile(paths.warehouse, home.warehouse)
    earlier_as_of = (SPEC.end_exclusive - timedelta(days=7)).isoformat()
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(FORECAST_PARTITIONS_NAME, [earlier_as_of])  # as atlas run registers it
        earlier = dg.materialize(
            [budget_status], partition_key=earlier_as_of, instance=instance,
            resources={"warehouse": Warehouse(atlas_home=str(home.home))},
        )
    assert earlier.success
    publish_snapshot(home.warehouse, home.published_warehouse)
    return home


@pytest.fixture(scope="module")
def dashboard(dashboard_home: AtlasPaths, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard served on 127.0.0.1 by the command `atlas dashboard` runs; yields its URL."""
    paths = dashboard_home
    port = _free_port()
    log = tmp_path_factory.mktemp("dashboard") / "streamlit.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            streamlit_command("127.0.0.1", port), stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "ATLAS_HOME": str(paths.home)}, start_new_session=True, preexec_fn=_restore_signals,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError):
                    pass
                assert proc.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, "dashboard did not start: " + log.read_text()[-3000:]
                time.sleep(0.3)
            yield url
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


class Browser:
    """One Chromium page with its script errors and blocked (non-local) requests recorded."""

    def __init__(self, page, base: str) -> None:
        self.page, self.base = page, base
        self.script_errors: list[str] = []
        self.console_errors: list[str] = []
        self.blocked: list[str] = []
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))
        page.on("console", lambda message: self.console_errors.append(message.text) if message.type == "error" else None)
        page.set_default_timeout(TIMEOUT_MS)

    def open(self, path: str, title: str) -> None:
        self.page.goto(f"{self.base}/{path}")
        self.settle()
        playwright_api.expect(self.page.get_by_role("heading", name=title, level=1)).to_be_visible()

    def settle(self) -> None:
        """Wait until the app has finished its run (Streamlit's status widget is gone)."""
        self.page.wait_for_selector('[data-testid="stApp"]')
        self.page.wait_for_timeout(300)
        self.page.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
            " && document.querySelector('[data-testid=\"stMain\"] h1') !== null"
        )

    def metric(self, label: str):
        """The value element of the st.metric whose label starts with `label`."""
        card = self.page.get_by_test_id("stMetric").filter(
            has=self.page.get_by_test_id("stMetricLabel").filter(has_text=label))
        return card.get_by_test_id("stMetricValue")

    def choose(self, label: str, option: str) -> None:
        """Open a selectbox / multiselect (a combobox) by its label with the mouse, click an option."""
        self.page.get_by_role("combobox", name=label, exact=True).click()
        self.page.get_by_role("option", name=option, exact=True).click()
        self.page.keyboard.press("Escape")
        self.settle()


@pytest.fixture
def browser(dashboard: str, tmp_path: Path) -> Iterator[Browser]:
    if not Path("/usr/bin/chromium").exists() and not shutil.which("chromium"):
        pytest.skip("chromium is not installed (make test installs Debian's chromium with apt-get when it can)")
    executable = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        context = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        browser = Browser(context.new_page(), dashboard)

        def offline(route) -> None:  # the machine has no network: prove the app needs none
            if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost") or route.request.url.startswith(
                    ("data:", "blob:")):
                route.continue_()
            else:
                browser.blocked.append(route.request.url)
                route.abort()

        context.route("**/*", offline)
        try:
            yield browser
        finally:
            context.close()
            chromium.close()


def _sql(paths: AtlasPaths, query: str, params: list | None = None) -> list[tuple]:
    with connect(paths.warehouse, read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def test_every_page_renders_without_script_errors_and_offline(browser: Browser, dashboard_home: AtlasPaths) -> None:
    for path, title in PAGES.items():
        browser.open(path, title)
        exceptions = browser.page.get_by_test_id("stException")
        assert exceptions.count() == 0, (path, exceptions.first.inner_text()[:2000])
        if path in ("", "gpu", "forecasts", "cluster", "team"):  # pages with charts: Plotly drew them
            playwright_api.expect(browser.page.locator(".js-plotly-plot .main-svg").first).to_be_attached()
    ARTIFACTS.mkdir(exist_ok=True)
    browser.page.screenshot(path=str(ARTIFACTS / "dashboard_quality.png"))
    assert browser.script_errors == []
    # Streamlit first asks <page>/_stcore/... when a page is opened by its own URL (a 404), then the root.
    assert [e for e in browser.console_errors if "status of 404" not in e] == []
    assert browser.blocked == [], "the dashboard asked for something outside 127.0.0.1"


def test_choosing_a_provider_changes_the_figures_to_what_sql_gives(browser: Browser, dashboard_home: AtlasPaths) -> None:
    paths = dashboard_home
    browser.open("", "Spend")
    (everything_effective, everything_billed), = _sql(paths, """
        select round(sum(effective_cost_reporting), 2), round(sum(billed_cost_reporting), 2) from main.fct_cost_daily""")
    playwright_api.expect(browser.metric("Effective cost (")).to_have_text(_money(everything_effective))
    playwright_api.expect(browser.metric("Billed cost (")).to_have_text(_money(everything_billed))

    browser.choose("Provider", "Microsoft")
    (effective, billed), = _sql(paths, """
        select round(sum("x_effective_cost_reporting"), 2), round(sum("x_billed_cost_reporting"), 2)
        from main.focus_cost_and_usage where "ProviderName" = 'Microsoft'""")
    assert effective != everything_effective
    playwright_api.expect(browser.metric("Effective cost (")).to_have_text(_money(effective))
    playwright_api.expect(browser.metric("Billed cost (")).to_have_text(_money(billed))
    assert "provider=Microsoft" in browser.page.url  # the selection is a link
    assert browser.script_errors == [] and browser.blocked == []


def test_choosing_a_team_and_a_month_changes_the_figures_and_month_over_month(
    browser: Browser, dashboard_home: AtlasPaths
) -> None:
    paths = dashboard_home
    (month, previous), = _sql(paths, """
        select max(date_trunc('month', charge_date))::date, (max(date_trunc('month', charge_date)) - interval 1 month)::date
        from main.fct_cost_daily""")
    browser.open("", "Spend")
    browser.choose("Team", "ml-research")
    browser.choose("Period", month.strftime("%Y-%m"))
    by_month = dict(_sql(paths, """
        select date_trunc('month', "ChargePeriodStart")::date, round(sum(x_effective_cost_reporting), 2)
        from main.focus_cost_and_usage where x_team = 'ml-research' group by 1"""))
    (billed,), = _sql(paths, """
        select round(sum(x_billed_cost_reporting), 2) from main.focus_cost_and_usage
        where x_team = 'ml-research' and date_trunc('month', "ChargePeriodStart") = ?""", [month])
    playwright_api.expect(browser.metric("Effective cost (")).to_have_text(_money(by_month[month]))
    playwright_api.expect(browser.metric("Billed cost (")).to_have_text(_money(billed))
    mom = browser.page.get_by_test_id("stMetric").filter(has_text=f"{month:%Y-%m} vs month before")
    playwright_api.expect(mom.get_by_test_id("stMetricValue")).to_have_text(f"{_money(by_month[month])} USD")
    delta = by_month[month] - by_month.get(previous, Decimal(0))
    playwright_api.expect(mom.get_by_test_id("stMetricDelta")).to_contain_text(f"{delta:+,.2f}")
    assert browser.script_errors == [] and browser.blocked == []


def test_the_budget_bar_equals_the_budget_each_budget_drawn_once(browser: Browser, dashboard_home: AtlasPaths) -> None:
    paths = dashboard_home
    browser.open("forecasts", "Forecasts, anomalies and budgets")
    chart = browser.page.locator(".js-plotly-plot").filter(has_text="Budgets")
    playwright_api.expect(chart).to_have_count(1)
    traces = chart.evaluate("node => node.data.map(t => ({name: t.name, x: t.x, y: t.y}))")
    drawn = {t["name"]: dict(zip(t["y"], t["x"], strict=True)) for t in traces}
    declared = {f"{b.name} ({b.currency})": b.amount for b in load_budgets()}
    # Each budget once, at its declared amount (not once per daily run stacked on one bar).
    assert {label: Decimal(str(x)) for label, x in drawn["budget"].items()} == declared
    actual = dict(_sql(paths, """
        select budget_name || ' (' || billing_currency || ')', round(actual_to_date, 2) from main.budget_status
        where as_of_date = (select max(as_of_date) from main.budget_status)"""))
    assert len(_sql(paths, "select distinct as_of_date from main.budget_status")) >= 2, "several runs wrote rows"
    assert {label: Decimal(str(x)).quantize(Decimal("0.01")) for label, x in drawn["actual to date"].items()} == actual


def test_a_table_downloads_as_csv_with_the_numbers_sql_gives(browser: Browser, dashboard_home: AtlasPaths) -> None:
    """GPU fleet, 'whose GPU spend rose': the month's per-team-and-cluster table as CSV equals SQL on
    the cost allocation mart (paid, the month before, idle), to the cent."""
    paths = dashboard_home
    browser.open("gpu", "GPU fleet")
    # Streamlit marks a keyed element with the class st-key-<key>: the table's own button, wherever it is.
    button = browser.page.locator(".st-key-csv-gpu_cost_month_over_month button")
    with browser.page.expect_download() as download:
        button.click()
    assert download.value.suggested_filename == "gpu_cost_month_over_month.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    (month,), = _sql(paths, """
        select max(date_trunc('month', usage_date))::date from main.fct_gpu_cost_allocation
        where date_trunc('month', usage_date) + interval 1 month
              <= (select max(usage_date) from main.fct_gpu_cost_allocation) + 1""")
    truth = {
        (team, cluster): (paid, before, idle)
        for team, cluster, paid, before, idle in _sql(paths, """
            select coalesce(team, '(unallocated)'), cluster,
                   round(sum(paid_cost) filter (where date_trunc('month', usage_date) = ?), 2),
                   round(sum(paid_cost) filter (where date_trunc('month', usage_date) = ? - interval 1 month), 2),
                   round(sum(coalesce(idle_cost_allocated_unused, 0) + coalesce(idle_cost_unallocated, 0))
                         filter (where date_trunc('month', usage_date) = ?), 2)
            from main.fct_gpu_cost_allocation group by 1, 2""", [month, month, month])
    }
    shown = {(r["team"], r["cluster"]): (Decimal(r["paid_cost"]), Decimal(r["paid_cost_previous_month"]),
                                         Decimal(r["idle_cost"])) for r in rows}
    assert shown == {k: tuple(v or Decimal("0.00") for v in values) for k, values in truth.items()}
    changes = [Decimal(r["paid_cost_change"]) for r in rows]
    assert changes == sorted(changes, reverse=True)  # largest rise first: the answer is the first row
    assert isinstance(month, date)
