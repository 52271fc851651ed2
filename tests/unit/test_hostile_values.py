"""Every value is checked at landing, for every format (issue 15, finding 5): money that is not
finite or not a plausible amount, a date outside the file's period, a column named like Atlas's own
lineage columns — in parquet and JSON as in CSV. The file is quarantined naming its row and column;
the others land; nothing that landed can fail a build later."""

from __future__ import annotations

import gzip
import json
import math
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.ingest.object_store import LocalStore
from atlas_pipeline.lib.ingest.sources import parse_source
from atlas_pipeline.lib.settings import DECLARATIONS_DIR

CUR2 = parse_source(DECLARATIONS_DIR / "sources" / "aws_cur2.yaml")
GCP = parse_source(DECLARATIONS_DIR / "sources" / "gcp_billing.yaml")


@pytest.fixture()
def env(tmp_path: Path):
    exports = tmp_path / "exports"
    exports.mkdir()
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    yield exports, con, tmp_path
    con.close()


def _land(env, source):
    exports, con, root = env
    report = land_source(con, source, LocalStore(exports), root / "landing", root / "quarantine")
    refresh_raw_view(con, source)
    reasons = {Path(q["file"]).name: q for q in report.quarantined}
    return report, reasons


def _cur2(path: Path, costs: list[float], extra: dict | None = None) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    n = len(costs)
    table = {
        "identity_line_item_id": [f"li-{i}" for i in range(n)],
        "bill_payer_account_id": ["111122223333"] * n,
        "line_item_line_item_type": ["Usage"] * n,
        "line_item_usage_start_date": pa.array([start] * n, pa.timestamp("ms", tz="UTC")),
        "line_item_usage_end_date": pa.array([start] * n, pa.timestamp("ms", tz="UTC")),
        "line_item_unblended_cost": pa.array(costs, pa.float64()),
        "line_item_currency_code": ["USD"] * n,
        **(extra or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(table), path)


@pytest.mark.parametrize(
    ("cost", "expectation"),
    [(1e20, "|amount| < 1e+15"), (1e30, "decimal"), (math.inf, "decimal"), (-math.inf, "decimal"),
     (math.nan, "not_null")],
)
def test_parquet_money_that_is_not_an_amount_quarantines_only_its_file(env, cost, expectation):
    exports, con, _ = env
    folder = exports / "data" / "BILLING_PERIOD=2026-03"
    _cur2(folder / "good.parquet", [1.25, 2.5])
    _cur2(folder / "bad.parquet", [3.0, cost, 4.0])
    report, reasons = _land(env, CUR2)
    assert set(reasons) == {"bad.parquet"}
    [violation] = [v for v in reasons["bad.parquet"]["violations"] if v["column"] == "line_item_unblended_cost"]
    assert violation["row"] == 2 and violation["expectation"].startswith(expectation)
    assert con.execute("select count(*), sum(line_item_unblended_cost) from raw.aws_cur2").fetchone() == (2, 3.75)


def test_a_column_named_like_atlas_lineage_is_refused(env):
    exports, con, _ = env
    _cur2(exports / "data" / "BILLING_PERIOD=2026-03" / "x.parquet", [1.0], {"x_source_file": ["s3://elsewhere"]})
    _, reasons = _land(env, CUR2)
    assert reasons["x.parquet"]["kind"] == "reserved_column"
    assert reasons["x.parquet"]["violations"][0]["column"] == "x_source_file"


def _gcp_row(cost, usage: str = "2026-09-03 10:00:00 UTC", invoice: str = "202609") -> str:
    return json.dumps({
        "billing_account_id": "01A2B3-C4D5E6-F7A8B9", "service": {"id": "6F81", "description": "Compute Engine"},
        "sku": {"id": "2E27", "description": "N2 Instance Core"}, "usage_start_time": usage,
        "usage_end_time": usage.replace("10:00", "11:00"), "cost": cost, "currency": "USD",
        "cost_type": "regular", "invoice": {"month": invoice}, "credits": [],
    })


@pytest.mark.parametrize(
    ("bad_line", "column", "expectation"),
    [
        (_gcp_row(1e30), "cost", "decimal"),
        (_gcp_row(2e17), "cost", "|amount| < 1e+15"),
        (_gcp_row(1.0, usage="2027-01-04 10:00:00 UTC"), "usage_start_time", "in_billing_period"),
        (_gcp_row(1.0, invoice="202608"), "invoice.month", "in_billing_period"),
    ],
    ids=["money-1e30", "money-2e17", "usage-in-2027", "another-invoice-month"],
)
def test_json_values_are_checked_like_any_other(env, bad_line, column, expectation):
    exports, con, _ = env
    folder = exports / "2026-09"
    folder.mkdir()
    (folder / "good.jsonl.gz").write_bytes(gzip.compress((_gcp_row(2.5) + "\n").encode()))
    (folder / "bad.jsonl.gz").write_bytes(gzip.compress(("\n".join([_gcp_row(1.5), bad_line]) + "\n").encode()))
    _, reasons = _land(env, GCP)
    assert set(reasons) == {"bad.jsonl.gz"}
    [violation] = [v for v in reasons["bad.jsonl.gz"]["violations"] if v["column"] == column]
    assert violation["row"] == 2 and violation["expectation"].startswith(expectation)
    assert con.execute("select count(*) from raw.gcp_billing").fetchone()[0] == 1


def test_late_usage_on_a_later_invoice_is_legal(env):
    """GCP invoices late usage in the next month: an August usage hour on the September invoice lands."""
    exports, con, _ = env
    folder = exports / "2026-09"
    folder.mkdir()
    (folder / "export.jsonl.gz").write_bytes(gzip.compress(
        (_gcp_row(2.5, usage="2026-08-31 23:00:00 UTC") + "\n").encode()))
    report, _ = _land(env, GCP)
    assert report.quarantined == [] and con.execute("select count(*) from raw.gcp_billing").fetchone()[0] == 1
