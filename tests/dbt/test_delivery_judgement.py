"""Deliveries are judged, not just counted (issue 15, findings 1, 2, 5 and 6), on the real public
samples laid out as the providers deliver them:

- an empty, header-only, zero-byte, empty-gzip or much smaller re-delivery of a period that had data
  is held back — the previous delivery stays current, the run says so — until `atlas accept`;
  a smaller delivery the provider's manifest vouches for is taken;
- without a manifest or delivery folders, a file an earlier export left beside the new one is not
  part of the delivery, and the same line in two files of a period fails a blocking check;
- a stray file the layout does not place in any period is refused with the reason, not a crash;
- a period whose delivery lost a file to quarantine is marked incomplete in the marts, and a fixed
  re-delivery makes it whole on the next run without any manual step.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from pathlib import Path

import duckdb
import pytest

from atlas_pipeline.lib.ingest.gpu_pricing import write_gpu_pricing
from atlas_pipeline.lib.ingest.kubernetes_teams import write_kubernetes_teams
from atlas_pipeline.lib.ingest.landing import accept_delivery, land_source, refresh_raw_view
from atlas_pipeline.lib.ingest.object_store import LocalStore
from atlas_pipeline.lib.ingest.slurm_nodelists import write_slurm_tables
from atlas_pipeline.lib.ingest.sources import load_sources, parse_source
from atlas_pipeline.lib.settings import DECLARATIONS_DIR

pytestmark = pytest.mark.dbt

FIXTURES = Path(__file__).parents[1] / "fixtures" / "billing"
AZURE = parse_source(DECLARATIONS_DIR / "sources" / "azure_cost_details_actual.yaml")
GCP_DETAILED = parse_source(DECLARATIONS_DIR / "sources" / "gcp_billing_detailed.yaml")
T0 = 1_790_000_000  # file times (unix s): each delivery a day after the previous
DAY = 86_400


def _write(path: Path, content: bytes, mtime: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))


def _csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _to_csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    return buffer.getvalue().encode()


AZURE_SAMPLE = (FIXTURES / "azure_ea_actualcost_2023-09.csv").read_bytes()
AZURE_HEADER, AZURE_ROWS = _csv(FIXTURES / "azure_ea_actualcost_2023-09.csv")
GCP_HEADER, GCP_ROWS = _csv(FIXTURES / "gcp_billing_export_resource_2022-08_anonymized.csv")


@pytest.fixture()
def landing(tmp_path: Path):
    exports = tmp_path / "exports"
    exports.mkdir()
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))

    def land(source):
        report = land_source(con, source, LocalStore(exports), tmp_path / "landing", tmp_path / "quarantine")
        refresh_raw_view(con, source)
        return report

    yield exports, con, land
    con.close()


def _raw_rows(con, source) -> int:
    return con.execute(f"select count(*) from raw.{source.name}").fetchone()[0]


def _azure_run(exports: Path, run: str, content: bytes, mtime: int, name: str = "part_0_0001.csv") -> None:
    _write(exports / "20230901-20230930" / run / name, content, mtime)


@pytest.mark.parametrize(
    ("redelivered", "rows"),
    [
        pytest.param(_to_csv(AZURE_HEADER, []), 0, id="header-only"),
        pytest.param(b"", 0, id="zero-bytes"),
        pytest.param(gzip.compress(b""), 0, id="empty-gzip"),
        pytest.param(_to_csv(AZURE_HEADER, AZURE_ROWS[:3]), 3, id="much-smaller"),
    ],
)
def test_an_empty_or_much_smaller_redelivery_is_held_back_until_accepted(landing, redelivered: bytes, rows: int):
    exports, con, land = landing
    _azure_run(exports, "run-1", AZURE_SAMPLE, T0)
    assert land(AZURE).new_versions and _raw_rows(con, AZURE) == len(AZURE_ROWS)
    name = "part_0_0001.csv.gz" if redelivered[:2] == b"\x1f\x8b" else "part_0_0001.csv"
    _azure_run(exports, "run-2", redelivered, T0 + DAY, name)
    report = land(AZURE)
    [held] = report.held_back
    assert held.startswith("2023-09@run-2: ") and "atlas accept azure_cost_details_actual 2023-09" in held
    assert "held back" in report.summary()
    assert _raw_rows(con, AZURE) == len(AZURE_ROWS)  # the good month stays current
    assert land(AZURE).held_back == []  # judged once: a re-run with nothing new says nothing new

    print(accept_delivery(con, AZURE.name, "2023-09", "finops-oncall"))
    refresh_raw_view(con, AZURE)
    assert _raw_rows(con, AZURE) == rows
    [(by, since_ok)] = con.execute(
        "select j.accepted_by, bool_and(c.current_since >= j.accepted_at) from landing.delivery_judgements j "
        "join landing.current_files c using (source, period, export_version) group by 1"
    ).fetchall()
    assert by == "finops-oncall" and since_ok  # the accepted delivery is current from the moment it was accepted
    with pytest.raises(LookupError, match="no held-back delivery"):
        accept_delivery(con, AZURE.name, "2023-09", "finops-oncall")


def test_a_growing_or_slightly_smaller_redelivery_replaces_the_month(landing):
    exports, con, land = landing
    _azure_run(exports, "run-1", _to_csv(AZURE_HEADER, AZURE_ROWS[:8]), T0)
    land(AZURE)
    _azure_run(exports, "run-2", AZURE_SAMPLE, T0 + DAY)  # month to date grows
    assert land(AZURE).held_back == [] and _raw_rows(con, AZURE) == len(AZURE_ROWS)
    _azure_run(exports, "run-3", _to_csv(AZURE_HEADER, AZURE_ROWS[:-2]), T0 + 2 * DAY)  # a restatement drops 2
    assert land(AZURE).held_back == [] and _raw_rows(con, AZURE) == len(AZURE_ROWS) - 2


def test_a_smaller_delivery_its_manifest_vouches_for_is_taken(landing):
    exports, con, land = landing
    legacy = parse_source(DECLARATIONS_DIR / "sources" / "aws_cur_legacy.yaml")
    header, rows = _csv(FIXTURES / "aws_legacy_cur_2023-11_anonymized.csv")
    for day, (assembly, part) in enumerate((("asm-1", rows), ("asm-2", rows[:100]))):
        key = f"{assembly}/cur-00001.csv.gz"
        _write(exports / "20231101-20231201" / key, gzip.compress(_to_csv(header, part)), T0 + day * DAY)
        manifest = {"assemblyId": assembly, "reportKeys": [f"cur/atlas-cur-legacy/20231101-20231201/{key}"]}
        _write(exports / "20231101-20231201" / "atlas-cur-legacy-Manifest.json", json.dumps(manifest).encode(),
               T0 + day * DAY)
        report = land(legacy)
    assert report.held_back == [] and _raw_rows(con, legacy) == 100


def test_a_shard_an_earlier_export_left_behind_is_not_part_of_the_delivery(landing):
    """GCP's extract rewrites its shards in place; yesterday's larger extract left shard 001."""
    exports, con, land = landing
    folder = exports / "2022-08"
    _write(folder / "export-000000000000.csv", _to_csv(GCP_HEADER, GCP_ROWS[:5]), T0 + DAY)
    _write(folder / "export-000000000001.csv", _to_csv(GCP_HEADER, GCP_ROWS[5:]), T0)  # a day older
    report = land(GCP_DETAILED)
    [stale] = report.stale
    assert stale.startswith("2022-08/export-000000000001.csv: written 1 day") and "earlier export" in stale
    assert _raw_rows(con, GCP_DETAILED) == 5


def test_a_stray_file_outside_the_period_layout_is_refused_not_a_crash(landing):
    exports, con, land = landing
    _write(exports / "2022-08" / "export-000000000000.csv", _to_csv(GCP_HEADER, GCP_ROWS), T0)
    _write(exports / "notes" / "readme.csv", b"a,b\n1,2\n", T0)
    report = land(GCP_DETAILED)
    [refused] = report.refused
    assert "notes/readme.csv" in refused and "period_pattern" in refused
    assert _raw_rows(con, GCP_DETAILED) == len(GCP_ROWS)


def test_a_fixed_redelivery_makes_an_incomplete_period_whole_without_a_manual_step(landing):
    exports, con, land = landing
    bad = set_cost(AZURE_ROWS, row=1, value="3,25")
    _azure_run(exports, "run-1", AZURE_SAMPLE, T0, "part_0_0001.csv")
    _azure_run(exports, "run-1", _to_csv(AZURE_HEADER, bad), T0, "part_0_0002.csv")
    report = land(AZURE)
    assert len(report.quarantined) == 1
    [(complete,)] = con.execute("select distinct delivery_complete from landing.current_files").fetchall()
    assert complete is False  # half the month is served, and marked incomplete
    _azure_run(exports, "run-2", AZURE_SAMPLE, T0 + DAY, "part_0_0001.csv")
    _azure_run(exports, "run-2", _to_csv(AZURE_HEADER, set_cost(AZURE_ROWS, row=1, value="3.25")), T0 + DAY,
               "part_0_0002.csv")
    assert land(AZURE).quarantined == []
    assert con.execute("select distinct delivery_complete from landing.current_files").fetchall() == [(True,)]
    assert _raw_rows(con, AZURE) == 2 * len(AZURE_ROWS)


def set_cost(rows: list[list[str]], row: int, value: str) -> list[list[str]]:
    """The rows made distinct from the sample's (another subscription name) with one row's cost set."""
    cost, name = AZURE_HEADER.index("Cost"), AZURE_HEADER.index("SubscriptionName")
    out = [[*r] for r in rows]
    for r in out:
        r[name] += " (part 2)"
    out[row][cost] = value
    return out


# -- in the marts: dbt on a warehouse built from the landed files -------------------------------------------


def _build(dbt, tmp_path: Path, exports: Path) -> tuple[Path, object]:
    warehouse = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(warehouse))
    for source in load_sources(DECLARATIONS_DIR / "sources"):
        land_source(con, source, LocalStore(exports / source.name), tmp_path / "landing", tmp_path / "quarantine")
        refresh_raw_view(con, source)
    write_gpu_pricing(con, [])
    write_kubernetes_teams(con, [])
    write_slurm_tables(con, "slurm_jobs")
    con.close()
    result = dbt(warehouse, tmp_path, "build", "--exclude-resource-type", "unit_test", "--indirect-selection", "cautious",
                 "--select", "+fct_cost_daily", "+billing_row_conservation")
    return warehouse, result


def test_the_same_line_in_two_files_fails_the_blocking_check(tmp_path: Path, dbt):
    """Two Azure part files of one run both holding the sample's lines: raw holds them twice, so
    every cost reconciliation would agree — the line-identity check sees it and stops the build
    before the FOCUS table counts them twice."""
    exports = tmp_path / "exports"
    for part in ("part_0_0001.csv", "part_0_0002.csv"):
        _write(exports / "azure_cost_details_actual" / "20230901-20230930" / "run-1" / part, AZURE_SAMPLE, T0)
    warehouse, result = _build(dbt, tmp_path, exports)
    assert result.returncode == 1
    assert "FAIL 11 assert_no_billing_line_in_two_files" in result.stdout  # each of the sample's 11 lines
    assert "SKIP relation main.focus_cost_and_usage" in result.stdout


def test_an_incomplete_period_is_marked_in_the_marts(tmp_path: Path, dbt, fetch_rows):
    exports = tmp_path / "exports"
    folder = exports / "azure_cost_details_actual" / "20230901-20230930" / "run-1"
    _write(folder / "part_0_0001.csv", AZURE_SAMPLE, T0)
    _write(folder / "part_0_0002.csv", _to_csv(AZURE_HEADER, set_cost(AZURE_ROWS, row=1, value="3,25")), T0)
    warehouse, result = _build(dbt, tmp_path, exports)
    assert result.returncode == 0, result.stdout[-4000:]
    assert {r["complete"] for r in fetch_rows(
        warehouse, "select distinct x_delivery_complete as complete from main.focus_cost_and_usage")} == {False}
    assert {r["complete"] for r in fetch_rows(
        warehouse, "select distinct delivery_complete as complete from main.fct_cost_daily")} == {False}


def test_a_period_rebuilt_incrementally_is_replaced_by_the_same_rows_computed_once(tmp_path: Path, dbt, fetch_rows):
    """A run of the billing marts for one period (what the daily refresh and a partition backfill
    do) replaces that period's rows by exactly the same rows, newly stamped; its rows are staged as a
    temporary view, never as a temporary table — dbt-duckdb's default computes and holds every row
    of the period in memory before writing them again (1.65x the time at 1M line items, 3.8 GB at
    10M; README "Performance")."""
    exports = tmp_path / "exports"
    _write(exports / "azure_cost_details_actual" / "20230901-20230930" / "run-1" / "part_0_0001.csv", AZURE_SAMPLE, T0)
    warehouse, result = _build(dbt, tmp_path, exports)
    assert result.returncode == 0, result.stdout[-4000:]
    rows = ("select * exclude (x_loaded_at) from main.focus_cost_and_usage order by x_source_file, x_source_row")
    stamps = "select distinct x_loaded_at as at from main.focus_cost_and_usage"
    before, [first] = fetch_rows(warehouse, rows), fetch_rows(warehouse, stamps)
    assert len(before) == len(AZURE_ROWS)

    again = dbt(warehouse, tmp_path, "run", "--select", "focus_cost_and_usage", "fct_cost_daily",
                "--vars", "{billing_periods: ['2023-09']}")
    assert again.returncode == 0, again.stdout[-4000:]
    assert fetch_rows(warehouse, rows) == before
    [second] = fetch_rows(warehouse, stamps)
    assert second["at"] > first["at"]  # replaced, not left as it was
    run_log = (tmp_path / "logs" / "dbt.log").read_text().rsplit("Running with dbt", 1)[1]
    assert 'create temporary view "focus_cost_and_usage__dbt_tmp' in run_log
    assert 'create temporary view "fct_cost_daily__dbt_tmp' in run_log
    assert "create temporary table" not in run_log

    # A table an older Atlas built (one column fewer) is rebuilt whole through the view, the column added.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table main.focus_cost_and_usage drop column x_delivery_complete")
    third = dbt(warehouse, tmp_path, "run", "--select", "focus_cost_and_usage")
    assert third.returncode == 0, third.stdout[-4000:]
    assert fetch_rows(warehouse, rows) == before


def test_held_back_and_incomplete_deliveries_are_named_by_the_warning_check(landing):
    from atlas_pipeline.defs.quality.deliveries import delivery_problems

    exports, con, land = landing
    _azure_run(exports, "run-1", AZURE_SAMPLE, T0)
    land(AZURE)
    assert delivery_problems(con, AZURE.name) == []
    _azure_run(exports, "run-2", _to_csv(AZURE_HEADER, []), T0 + DAY)
    _write(exports / "20231001-20231031" / "run-1" / "part_0_0001.csv",
           _to_csv(AZURE_HEADER, set_cost(AZURE_ROWS, row=1, value="3,25")), T0 + DAY)
    _write(exports / "20231001-20231031" / "run-1" / "part_0_0002.csv", _to_csv(AZURE_HEADER, []), T0 + DAY)
    land(AZURE)
    held, incomplete = delivery_problems(con, AZURE.name)
    assert held.startswith("2023-09@run-2 held back: 0 rows against 11")
    assert incomplete.startswith("2023-10 is incomplete: 1 of 2 file(s)")
    accept_delivery(con, AZURE.name, "2023-09", "me")
    assert delivery_problems(con, AZURE.name) == [incomplete]


def test_the_pane_lists_incomplete_and_held_back_periods(tmp_path: Path, dbt, fetch_rows):
    """reports.rpt_delivery_status, what the dashboard's quality page shows."""
    exports = tmp_path / "exports" / "azure_cost_details_actual"
    _write(exports / "20230901-20230930" / "run-1" / "part_0_0001.csv", AZURE_SAMPLE, T0)
    october = exports / "20231001-20231031" / "run-1"
    _write(october / "part_0_0001.csv", _to_csv(AZURE_HEADER, set_cost(AZURE_ROWS, row=1, value="3,25")), T0)
    _build(dbt, tmp_path, tmp_path / "exports")
    # the next day's export of September comes out empty
    _write(exports / "20230901-20230930" / "run-2" / "part_0_0001.csv", _to_csv(AZURE_HEADER, []), T0 + DAY)
    _build(dbt, tmp_path, tmp_path / "exports")
    result = dbt(tmp_path / "wh.duckdb", tmp_path, "build", "--select", "rpt_delivery_status")
    assert result.returncode == 0, result.stdout[-3000:]
    rows = {r["period"]: r for r in fetch_rows(tmp_path / "wh.duckdb", "select * from reports.rpt_delivery_status")}
    assert rows["2023-09"]["status"] == "held back: accept or re-deliver" and rows["2023-09"]["rows_served"] == 11
    assert rows["2023-09"]["newest_held_back_reason"].startswith("0 rows against 11")
    assert rows["2023-10"]["status"] == "incomplete" and rows["2023-10"]["files_quarantined"] == 1
