"""Bad input at landing: each class of broken file is quarantined with a machine-readable reason (or
accepted with a note), the other files of the run still land, and every good row arrives, typed
(money as exact DECIMAL from the text the provider wrote)."""

from __future__ import annotations

import csv
import io
import json
import os
from decimal import Decimal
from pathlib import Path

from atlas_pipeline.lib.ingest.contracts import iso_4217_codes
from atlas_pipeline.lib.ingest.file_validation import land_file
from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.ingest.object_store import LocalStore
from atlas_pipeline.lib.ingest.raw_relations import landed_rows_sql
from atlas_pipeline.lib.ingest.sources import parse_source
from atlas_pipeline.lib.periods import key_period
from atlas_pipeline.lib.settings import DECLARATIONS_DIR

# The real declarations: their names select the contracts in checks/files/.
AZURE = parse_source(DECLARATIONS_DIR / "sources" / "azure_cost_details_actual.yaml")
NODES = parse_source(DECLARATIONS_DIR / "sources" / "gpu_nodes.yaml")

HEADER = "BillingAccountId,SubscriptionId,Date,Quantity,CostInBillingCurrency,BillingCurrencyCode,ChargeType"


def row(
    n: int, *, date: str = "08/03/2026", qty: str = "2.5", cost: str = "1.25", ccy: str = "USD", kind: str = "Usage"
) -> str:
    return f"8765,sub-{n},{date},{qty},{cost},{ccy},{kind}"


GOOD = [row(1), row(2, cost="7.22904E-05"), row(3, kind="Purchase", qty="1", cost="100.00")]


def deliver(
    exports: Path, month: str, run: str, lines: list[str], *, text: str | None = None, mtime: int = 1_790_000_000,
    bom: bool = False, part: str = "part_1_0001.csv",
) -> Path:
    """Write one Azure part file under `<yyyymm01-yyyymmdd>/<run>/`."""
    end = {"202608": "20260831", "202609": "20260930"}[month]
    path = exports / f"{month}01-{end}" / run / part
    path.parent.mkdir(parents=True, exist_ok=True)
    body = text if text is not None else "\n".join([HEADER, *lines]) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body.encode())
    os.utime(path, (mtime, mtime))
    return path


def land(landing_env, source=AZURE):
    exports, landing, quarantine, con = landing_env
    return land_source(con, source, LocalStore(exports), landing, quarantine)


def raw_rows(con, source=AZURE) -> list[tuple]:
    refresh_raw_view(con, source)
    sql = f'select "SubscriptionId", "CostInBillingCurrency", x_period from raw.{source.name}'
    return sorted(con.execute(sql).fetchall())


def reasons(quarantine: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(quarantine.rglob("*.reason.json"))]


def test_good_files_are_accepted_and_every_row_arrives(landing_env):
    exports, _, quarantine, con = landing_env
    deliver(exports, "202608", "run-a", GOOD)
    report = land(landing_env)
    assert report.quarantined == [] and report.new_versions
    assert raw_rows(con) == [
        ("sub-1", Decimal("1.25"), "2026-08"), ("sub-2", Decimal("0.0000722904"), "2026-08"),
        ("sub-3", Decimal("100.00"), "2026-08"),
    ]
    assert not quarantine.exists() or not any(quarantine.rglob("*"))


def test_malformed_csv_row_quarantines_the_file_naming_the_line_and_other_files_proceed(landing_env):
    exports, _, quarantine, con = landing_env
    deliver(exports, "202608", "run-a", GOOD)
    deliver(exports, "202609", "run-b", [row(4, date="09/02/2026"), row(5, date="09/03/2026") + ",extra,fields"])
    report = land(landing_env)
    [reason] = reasons(quarantine)
    assert reason["kind"] == "malformed" and reason["file"].endswith("run-b/part_1_0001.csv")
    assert reason["problem"].startswith("malformed azure_cost_details_csv")
    [violation] = reason["violations"]
    assert violation["line"] == 3 and violation["row"] == 2  # header is line 1; row 2 is the bad one
    assert violation["expectation"] == "well-formed CSV row" and "extra,fields" in violation["observed"]
    assert len(report.quarantined) == 1
    [(rows,)] = con.execute("select row_count from landing.manifest where status = 'quarantined'").fetchall()
    assert rows == 2  # both data rows of the file are held back, and counted as quarantined
    assert [r[0] for r in raw_rows(con)] == ["sub-1", "sub-2", "sub-3"]  # August arrives whole


def test_wrong_types_are_quarantined_with_row_column_and_observed_value(landing_env):
    exports, _, quarantine, con = landing_env
    deliver(exports, "202608", "run-a", [row(1), row(2, cost="1;25"), row(3, date="2026-13-45")])
    land(landing_env)
    [reason] = reasons(quarantine)
    assert reason["kind"] == "expectation"
    found = {(v["expectation"], v["column"], v["row"], v["observed"]) for v in reason["violations"]}
    assert ("decimal", "CostInBillingCurrency", 2, "1;25") in found
    assert ("date", "Date", 3, "2026-13-45") in found
    assert reason["violating_rows"] == {"date(Date)": 1, "decimal(CostInBillingCurrency)": 1}
    assert raw_rows(con) == []  # nothing landed for the source: its raw view is empty, with its columns


def test_missing_mandatory_column_is_a_blocking_failure_with_a_clear_message(landing_env):
    exports, _, quarantine, con = landing_env
    header = HEADER.replace(",BillingCurrencyCode", "")
    deliver(exports, "202608", "run-a", [], text=f"{header}\n8765,sub-1,08/03/2026,1,1.25,Usage\n")
    deliver(exports, "202609", "run-b", [row(9, date="09/09/2026")])
    report = land(landing_env)
    [reason] = reasons(quarantine)
    assert reason["kind"] == "missing_column"
    assert reason["problem"] == (
        "missing mandatory column(s) BillingCurrencyCode or BillingCurrency or Currency "
        "(declared in azure_cost_details_actual.yaml)"
    )
    assert reason["violations"] == [
        {"row": None, "column": "BillingCurrencyCode or BillingCurrency or Currency",
         "expectation": "mandatory column present", "observed": "absent"}
    ]
    assert [q["period"] for q in report.quarantined] == ["2026-08"]
    assert [r[0] for r in raw_rows(con)] == ["sub-9"]


def test_new_column_is_recorded_as_drift_and_tolerated(landing_env):
    exports, _, quarantine, con = landing_env
    deliver(exports, "202608", "run-a", GOOD, mtime=1_790_000_000)
    land(landing_env)
    drifted = [line + ",gpu" for line in [row(7, date="09/07/2026")]]
    deliver(exports, "202609", "run-b", [], text="\n".join([HEADER + ",x_NewColumn", *drifted]) + "\n", mtime=1_790_100_000)
    report = land(landing_env)
    assert report.quarantined == []
    [(details,)] = con.execute(
        "select details from quality.file_findings where kind = 'schema_drift'"
    ).fetchall()
    assert json.loads(details)["new_columns"] == ["x_NewColumn"]
    assert [r[0] for r in raw_rows(con)] == ["sub-1", "sub-2", "sub-3", "sub-7"]
    assert reasons(quarantine) == []


def test_duplicate_delivery_of_a_month_counts_once(landing_env):
    exports, _, _, con = landing_env
    deliver(exports, "202608", "run-a", GOOD, mtime=1_790_000_000)
    deliver(exports, "202608", "run-b", GOOD, mtime=1_790_100_000)  # same month delivered again
    land(landing_env)
    land(landing_env)  # and a re-run with nothing new
    assert [r[0] for r in raw_rows(con)] == ["sub-1", "sub-2", "sub-3"]
    [(files,)] = con.execute(
        "select count(*) from landing.current_files where source = ? and status = 'landed'", [AZURE.name]
    ).fetchall()
    assert files == 1


def test_negative_usage_quantity_is_quarantined_but_a_negative_refund_is_not(landing_env):
    exports, _, quarantine, con = landing_env
    deliver(exports, "202608", "run-a", [row(1, qty="-3", kind="Refund", cost="-4.00")])
    deliver(exports, "202609", "run-b", [row(2, date="09/02/2026"), row(3, date="09/03/2026", qty="-2")])
    land(landing_env)
    [reason] = reasons(quarantine)
    assert reason["period"] == "2026-09"
    assert reason["violations"] == [
        {"row": 2, "column": "Quantity", "expectation": "non_negative when ChargeType in ['Usage']", "observed": "-2"}
    ]
    assert raw_rows(con) == [("sub-1", Decimal("-4.00"), "2026-08")]


def test_unknown_currency_code_is_quarantined(landing_env):
    exports, _, quarantine, con = landing_env
    deliver(exports, "202608", "run-a", [row(1), row(2, ccy="XYZ"), row(3, ccy="usd")])
    land(landing_env)
    [reason] = reasons(quarantine)
    assert [(v["row"], v["observed"]) for v in reason["violations"]] == [(2, "XYZ"), (3, "usd")]
    assert {"USD", "EUR", "CAD", "JPY"} <= set(iso_4217_codes()) and "XYZ" not in iso_4217_codes()


def test_timestamp_outside_the_billing_period_is_quarantined(landing_env):
    exports, _, quarantine, con = landing_env
    deliver(exports, "202608", "run-a", [row(1, date="08/31/2026"), row(2, date="09/01/2026"), row(3, date="7/31/2026")])
    land(landing_env)
    [reason] = reasons(quarantine)
    assert {(v["row"], v["observed"]) for v in reason["violations"]} == {(2, "09/01/2026"), (3, "7/31/2026")}
    assert reason["violations"][0]["expectation"] == "in_billing_period [2026-08-01, 2026-09-01)"


def test_utf8_bom_is_handled_and_noted(landing_env):
    exports, _, quarantine, con = landing_env
    deliver(exports, "202608", "run-a", GOOD, bom=True)
    report = land(landing_env)
    assert report.quarantined == []
    columns = [d[0] for d in con.execute(f"describe raw.{AZURE.name}").fetchall()] if refresh_raw_view(con, AZURE) else []
    assert columns[0] == "BillingAccountId"  # no \ufeff prefix
    assert len(raw_rows(con)) == 3
    [(kind,)] = con.execute("select kind from quality.file_findings where kind = 'utf8_bom'").fetchall()
    assert kind == "utf8_bom"


def test_empty_file_is_accepted_as_empty_and_header_only_too(landing_env):
    exports, _, quarantine, con = landing_env
    deliver(exports, "202608", "run-a", GOOD)
    deliver(exports, "202608", "run-a", [], part="part_1_0002.csv")  # header only
    deliver(exports, "202608", "run-a", [], text="", part="part_1_0003.csv")  # zero bytes
    report = land(landing_env)
    statuses = dict(con.execute("select object_key, status from landing.manifest").fetchall())
    assert statuses["20260801-20260831/run-a/part_1_0002.csv"] == "empty"
    assert statuses["20260801-20260831/run-a/part_1_0001.csv"] == "landed"
    zero = statuses["20260801-20260831/run-a/part_1_0003.csv"]
    assert zero in ("empty", "quarantined")
    assert [r[0] for r in raw_rows(con)] == ["sub-1", "sub-2", "sub-3"]
    assert len(report.quarantined) == (zero == "quarantined")


def test_fixed_redelivery_is_picked_up_next_run(landing_env):
    exports, _, quarantine, con = landing_env
    deliver(exports, "202608", "run-a", [row(1), row(2, ccy="XYZ")], mtime=1_790_000_000)
    first = land(landing_env)
    assert len(first.quarantined) == 1
    deliver(exports, "202608", "run-b", [row(1), row(2)], mtime=1_790_100_000)  # the provider re-runs the export
    second = land(landing_env)
    assert second.quarantined == [] and second.new_versions
    assert [r[0] for r in raw_rows(con)] == ["sub-1", "sub-2"]


def test_inventory_with_a_non_integer_gpu_count_is_quarantined(landing_env):
    exports, _, quarantine, con = landing_env
    (exports / "nodes.csv").write_text("hostname,cluster,gpu_count\nh1,c1,8\nh2,c1,eight\n")
    report = land(landing_env, NODES)
    [reason] = reasons(quarantine)
    assert reason["violations"] == [{"row": 2, "column": "gpu_count", "expectation": "integer", "observed": "eight"}]
    assert report.quarantined[0]["source"] == "gpu_nodes"
    (exports / "nodes.csv").write_text("hostname,cluster,gpu_count\nh1,c1,8\nh2,c1,8\n")
    assert land(landing_env, NODES).quarantined == []
    refresh_raw_view(con, NODES)
    assert con.execute("select count(*) from raw.gpu_nodes").fetchone()[0] == 2


def test_period_bounds():
    from datetime import date

    assert key_period("2026-12") == (date(2026, 12, 1), date(2027, 1, 1))
    assert key_period("2026-08-31") == (date(2026, 8, 31), date(2026, 9, 1))
    assert key_period("all") is None


def test_text_telemetry_lands_line_by_line(landing_env, tmp_path):
    _, _, _, con = landing_env
    other = parse_source(DECLARATIONS_DIR / "sources" / "dcgm_samples.yaml")
    path = tmp_path / "x.prom"
    path.write_text("# HELP x\nx 1\n")
    verdict = land_file(con, other, "2026-08-01", "v1", "c/2026-08-01/x.prom", path, tmp_path / "x.parquet", str(path))
    assert not verdict.rejected and verdict.notes == [] and verdict.rows == 2
    landed = landed_rows_sql([str(tmp_path / "x.parquet")])
    assert con.execute(f"select line, x_source_row, x_source_file from ({landed})").fetchall() == [
        ("# HELP x", 1, str(path)), ("x 1", 2, str(path))
    ]


def _deliver_numbered(con, exports: Path, rows: int) -> None:
    """One Azure part file of `rows` rows, row i (from 1) for subscription `sub-i`: large enough
    (9 MB) that DuckDB reads it on both threads in several batches."""
    path = exports / "20260801-20260831" / "run-1" / "part_1_0001.csv"
    path.parent.mkdir(parents=True)
    con.execute(
        "copy (select '8765' as BillingAccountId, 'sub-' || (i + 1) as SubscriptionId, '08/03/2026' as Date, "
        "'2.5' as Quantity, '1.25' as CostInBillingCurrency, 'USD' as BillingCurrencyCode, 'Usage' as ChargeType "
        f"from range({rows}) t(i)) to '{path}' (header true)"
    )


def _misnumbered(con) -> int:
    refresh_raw_view(con, AZURE)
    return con.execute(
        "select count(*) filter (where \"SubscriptionId\" <> 'sub-' || x_source_row) from raw.azure_cost_details_actual"
    ).fetchone()[0]


def test_each_landed_row_keeps_its_row_number_without_storing_it(landing_env):
    """A row's x_source_row is its position in the landed parquet (rows written in the delivered
    order, every check of the contract — currency codes, charge types — evaluated without reordering
    them): the number is not stored, and it is right for all 200,000 rows of a file read in parallel."""
    exports, _, _, con = landing_env
    _deliver_numbered(con, exports, 200_000)
    assert land(landing_env).quarantined == []
    [landed] = [r[0] for r in con.execute("select landed_path from landing.current_files").fetchall()]
    assert "x_source_row" not in {r[0] for r in con.execute(f"describe select * from '{landed}'").fetchall()}
    assert _misnumbered(con) == 0


def test_rows_written_out_of_order_carry_their_number(landing_env):
    """Where DuckDB would write the rows in another order (here told it may: preserve_insertion_order
    off, as any join in the plan would), landing numbers each row as it reads it and stores the number."""
    exports, _, _, con = landing_env
    con.execute("set preserve_insertion_order = false")
    _deliver_numbered(con, exports, 200_000)
    assert land(landing_env).quarantined == []
    [landed] = [r[0] for r in con.execute("select landed_path from landing.current_files").fetchall()]
    assert con.execute(f"select count(*) filter (where x_source_row is null) from '{landed}'").fetchone()[0] == 0
    assert _misnumbered(con) == 0


def test_optional_legacy_cur_contract_quarantines_a_file_without_its_cost_column(landing_env):
    """Optional inputs have contracts too: the real legacy CUR sample lands; the same file with
    `lineItem/UnblendedCost` cut out is quarantined naming the missing mandatory column."""
    exports, _, quarantine, con = landing_env
    legacy = parse_source(DECLARATIONS_DIR / "sources" / "aws_cur_legacy.yaml")
    sample = Path(__file__).parents[1] / "fixtures" / "billing" / "aws_legacy_cur_2023-11_anonymized.csv"
    lines = sample.read_text().splitlines()
    good = exports / "20231101-20231201" / "assembly-good" / "cur-1.csv"
    good.parent.mkdir(parents=True)
    good.write_text(sample.read_text())
    report = land(landing_env, legacy)
    assert report.quarantined == []
    refresh_raw_view(con, legacy)
    assert con.execute("select count(*) from raw.aws_cur_legacy").fetchone()[0] == len(lines) - 1

    table = list(csv.reader(io.StringIO(sample.read_text())))
    drop = table[0].index("lineItem/UnblendedCost")
    cut = exports / "20231101-20231201" / "assembly-restated" / "cur-1.csv"
    cut.parent.mkdir(parents=True)
    with open(cut, "w", newline="") as handle:
        csv.writer(handle).writerows([c for i, c in enumerate(r) if i != drop] for r in table)
    report = land(landing_env, legacy)
    [item] = report.quarantined
    assert "assembly-restated" in item["file"] and "lineItem/UnblendedCost" in json.dumps(reasons(quarantine))


def test_saas_focus_contract_reads_spreadsheet_spellings_and_refuses_ambiguous_ones(landing_env):
    """A SaaS vendor's FOCUS file may write US spreadsheet dates (5/1/25) and currency
    ("$10,000.00 ", as the FOCUS spec's samples do): they land. A bare "1,000" (decimal comma or
    thousands?), a date no format reads, and a row billed in another month than its folder are
    quarantined, each named."""
    exports, _, quarantine, con = landing_env
    saas = parse_source(DECLARATIONS_DIR / "sources" / "saas_focus.yaml")
    header = ("BilledCost,EffectiveCost,ListCost,ContractedCost,BillingAccountId,BillingCurrency,BillingPeriodStart,"
              "BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ChargeFrequency,ProviderName,"
              "PublisherName,InvoiceIssuerName,ServiceName")

    def line(cost: str = '"$10,000.00 "', start: str = "4/1/25", billing_start: str = "4/1/25") -> str:
        return (f"{cost},{cost},{cost},{cost},12345,USD,{billing_start},5/1/25,{start},2025-05-01T00:00:00Z,"
                "Purchase,One-Time,ACMECORP,ACMECORP,ACMECORP,ACMECORP Service")

    def put(vendor: str, *lines: str) -> None:
        folder = exports / vendor / "2025-04"
        folder.mkdir(parents=True)
        (folder / "focus.csv").write_text("\n".join([header, *lines]) + "\n")

    put("good", line(), line(cost="48"), line(cost="-$5.00"), line(start="2025-04-01T00:00:00+00:00"))
    report = land(landing_env, saas)
    assert report.quarantined == []
    put("bad", line(cost='"1,000"'), line(start="13/1/25"), line(billing_start="5/1/25"))
    report = land(landing_env, saas)
    [reason] = reasons(quarantine)
    assert reason["file"] == "bad/2025-04/focus.csv"
    found = {(v["expectation"], v["column"], v["row"], v["observed"]) for v in reason["violations"]}
    assert ("decimal", "BilledCost", 1, "1,000") in found
    assert ("timestamp", "ChargePeriodStart", 2, "13/1/25") in found
    assert ("in_billing_period [2025-04-01, 2025-05-01)", "BillingPeriodStart", 3, "5/1/25") in found


def test_a_parquet_export_numbers_each_row_by_its_position_in_the_delivered_file(landing_env):
    """A parquet export (here AWS's FOCUS export as one 200,000-row row group, as an exporter may
    write it) is numbered from the delivered file's own row positions, stored with each row: no
    window, and no order-preserving copy that would hold the whole row group in memory."""
    exports, _, _, con = landing_env
    source = parse_source(DECLARATIONS_DIR / "sources" / "aws_focus.yaml")
    path = exports / "data" / "BILLING_PERIOD=2026-08" / "part-00001.parquet"
    path.parent.mkdir(parents=True)
    con.execute(
        "copy (select cast(1.25 as decimal(18, 2)) as BilledCost, cast(1.25 as decimal(18, 2)) as EffectiveCost, "
        "'123456789012' as BillingAccountId, 'USD' as BillingCurrency, 'Usage' as ChargeCategory, "
        "timestamptz '2026-08-01 00:00:00+00' as BillingPeriodStart, timestamptz '2026-08-03 00:00:00+00' "
        "as ChargePeriodStart, timestamptz '2026-08-03 01:00:00+00' as ChargePeriodEnd, 'r-' || (i + 1) as ResourceId "
        f"from range(200000) t(i)) to '{path}' (format parquet, row_group_size 200000)"
    )
    assert land(landing_env, source).quarantined == []
    [landed] = [r[0] for r in con.execute("select landed_path from landing.current_files").fetchall()]
    assert con.execute(f"select count(x_source_row) from '{landed}'").fetchone()[0] == 200_000
    refresh_raw_view(con, source)
    assert con.execute(
        "select count(*) filter (where \"ResourceId\" <> 'r-' || x_source_row) from raw.aws_focus"
    ).fetchone()[0] == 0
