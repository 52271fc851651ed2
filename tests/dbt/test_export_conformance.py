"""What providers really write, file by file: every variation lands, or is quarantined alone, and no
row or cent is lost between the file and the FOCUS table.

The files are hand-made from the real public samples in tests/fixtures/billing (never the sample
generator): the Azure EA actual-cost export as it was delivered (BOM, the older `Cost` /
`BillingCurrency` names), then gzip, CRLF, quoted newlines, null spelled five ways, a blank
PricingModel, `""` tags, the current column names, a header-only and a zero-byte file, a truncated
gzip and an unparseable amount; the AWS legacy CUR sample split into gzip + CRLF, `None` in the
commitment columns and a BOM; the GCP detailed sample with BOM + CRLF. One estate holds them all; it
is landed with the real landing code and built with dbt once, with the blocking conservation and
reconciliation tests. Expected rows and cents are computed here from the files' text, independently.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from atlas_pipeline.lib.ingest.contracts import money_type
from atlas_pipeline.lib.ingest.gpu_pricing import write_gpu_pricing
from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.ingest.object_store import open_store
from atlas_pipeline.lib.ingest.sources import load_sources
from atlas_pipeline.lib.settings import DECLARATIONS_DIR

pytestmark = pytest.mark.dbt

FIXTURES = Path(__file__).parents[1] / "fixtures" / "billing"
NULLS = ("", "None", "null", "NULL", "NaN", "N/A")


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def to_csv(header: list[str], rows: list[list[str]], *, crlf: bool = False, bom: bool = False) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n" if crlf else "\n").writerows([header, *rows])
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode()


def delivered_name(landed_path: str) -> str:
    """The delivered file's name from its landed path (landing flattens the key with `__`)."""
    return Path(landed_path).name.rsplit("__", 1)[-1]


# Money keeps the money type's scale (12 places: a trillionth of the currency unit); a provider value
# with more digits (Azure writes up to 16) is rounded half away from zero there, as DuckDB casts.
SCALE = Decimal(1).scaleb(-int(money_type().rstrip(")").split(",")[1]))


def money(text: str) -> Decimal:
    return Decimal(0) if text.strip() in NULLS else Decimal(text.strip()).quantize(SCALE, ROUND_HALF_UP)


def set_column(header: list[str], rows: list[list[str]], column: str, values) -> list[list[str]]:
    i = header.index(column)
    return [[*r[:i], values(n, r[i]), *r[i + 1:]] for n, r in enumerate(rows)]


# -- the files ------------------------------------------------------------------------------------

AZURE_HEADER, AZURE_ROWS = read_csv(FIXTURES / "azure_ea_actualcost_2023-09.csv")


def azure_variant(tag: str) -> list[list[str]]:
    """The sample's rows, made distinct per file (another subscription name), as another export run would."""
    return set_column(AZURE_HEADER, AZURE_ROWS, "SubscriptionName", lambda n, v: f"{v} ({tag})")


def renamed_header(header: list[str]) -> list[str]:
    """The current EA cost-details names for the older layout's cost and currency columns."""
    return [{"Cost": "CostInBillingCurrency", "BillingCurrency": "BillingCurrencyCode"}.get(c, c) for c in header]


def azure_files() -> dict[str, tuple[bytes, str]]:
    """file name -> (bytes, expected outcome: landed | empty | quarantined)."""
    h = AZURE_HEADER
    nulls = azure_variant("nulls")
    nulls = set_column(h, nulls, "Quantity", lambda n, v: NULLS[n % len(NULLS)] if n % 2 else v)
    nulls = set_column(h, nulls, "EffectivePrice", lambda n, v: ["NaN", "N/A", "None"][n % 3])
    nulls = set_column(h, nulls, "Tags", lambda n, v: ['""', "null", "", "NULL"][n % 4])
    quoted = set_column(h, azure_variant("quoted"), "AdditionalInfo", lambda n, v: '{\n  "UsageType": "ComputeHR"\n}')
    blank_model = set_column(h, azure_variant("blank-model"), "PricingModel", lambda n, v: "")
    empty_tags = set_column(h, azure_variant("empty-tags"), "Tags", lambda n, v: '""')
    bad_money = set_column(h, azure_variant("bad-money"), "Cost", lambda n, v: "3,25" if n == 1 else v)
    good_gzip = gzip.compress(to_csv(h, azure_variant("gzip")))
    padded = azure_variant("padded")
    for column in ("ChargeType", "PricingModel", "Frequency"):
        padded = set_column(h, padded, column, lambda n, v: f" {v} " if v else v)
    return {
        "part_01_as_exported.csv": ((FIXTURES / "azure_ea_actualcost_2023-09.csv").read_bytes(), "landed"),
        "part_02_gzip.csv.gz": (good_gzip, "landed"),
        "part_03_crlf_bom_current_names.csv": (
            to_csv(renamed_header(h), azure_variant("crlf"), crlf=True, bom=True), "landed"),
        "part_04_quoted_newlines.csv": (to_csv(h, quoted), "landed"),
        "part_05_null_spellings.csv": (to_csv(h, nulls), "landed"),
        "part_06_blank_pricing_model.csv": (to_csv(h, blank_model), "landed"),
        "part_07_empty_tags.csv": (to_csv(h, empty_tags), "landed"),
        "part_08_header_only.csv": (to_csv(h, []), "empty"),
        "part_09_zero_bytes.csv": (b"", "empty"),
        "part_10_truncated.csv.gz": (good_gzip[: len(good_gzip) // 2], "quarantined"),
        "part_11_bad_money.csv": (to_csv(h, bad_money), "quarantined"),
        "part_12_padded_codes.csv": (to_csv(h, padded), "landed"),
    }


LEGACY_HEADER, LEGACY_ROWS = read_csv(FIXTURES / "aws_legacy_cur_2023-11_anonymized.csv")


def legacy_files() -> dict[str, tuple[bytes, str]]:
    h, rows = LEGACY_HEADER, LEGACY_ROWS
    nones = rows[400:800]
    for column in [c for c in h if c.startswith(("savingsPlan/", "reservation/")) and "ARN" not in c]:
        nones = set_column(h, nones, column, lambda n, v: v or "None")  # as some exporters write empty cells
    return {
        "cur-00001.csv.gz": (gzip.compress(to_csv(h, rows[:400], crlf=True)), "landed"),
        "cur-00002.csv": (to_csv(h, nones), "landed"),
        "cur-00003.csv": (to_csv(h, rows[800:], bom=True), "landed"),
    }


GCP_HEADER, GCP_ROWS = read_csv(FIXTURES / "gcp_billing_export_resource_2022-08_anonymized.csv")


def gcp_files() -> dict[str, tuple[bytes, str]]:
    return {"export-000.csv": (to_csv(GCP_HEADER, GCP_ROWS, crlf=True, bom=True), "landed")}


ESTATE = {
    # source: (folder under $ATLAS_EXPORTS, files, cost column, key of a file in the source's listing)
    "azure_cost_details_actual": ("azure/costexports/atlas/atlas-actual/20230901-20230930/run-1", azure_files, "Cost"),
    "aws_cur_legacy": ("aws/atlas-cur-legacy/20231101-20231201/assembly-1", legacy_files, "lineItem/UnblendedCost"),
    "gcp_billing_detailed": ("gcp/atlas-billing-detailed/2022-08", gcp_files, "cost"),
}


def expected_cost(source: str, name: str, content: bytes) -> tuple[int, Decimal]:
    """(data rows, Σ invoiced cost) read from the file's own text, independently of Atlas."""
    data = gzip.decompress(content) if name.endswith(".gz") else content
    if not data:
        return 0, Decimal(0)
    header, rows = next(csv.reader(io.StringIO(data.decode("utf-8-sig")))), list(
        csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]
    column = "CostInBillingCurrency" if "CostInBillingCurrency" in header else ESTATE[source][2]
    total = sum((money(r[header.index(column)]) for r in rows), Decimal(0))
    if source == "gcp_billing_detailed":  # the invoice is cost plus credits (a Python-style list)
        credits = header.index("credits")
        for r in rows:
            for amount in json.loads(r[credits].replace("'", '"').replace("None", "null") or "[]"):
                total += money(str(amount["amount"]))
    return len(rows), total


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, dbt):
    root = tmp_path_factory.mktemp("conformance")
    exports, warehouse = root / "exports", root / "warehouse.duckdb"
    files = {}
    for source, (folder, make, _) in ESTATE.items():
        for name, (content, outcome) in make().items():
            path = exports / folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            files[(source, name)] = (content, outcome)
    con = duckdb.connect(str(warehouse))
    reports = {}
    for source in load_sources(DECLARATIONS_DIR / "sources"):
        store = open_store(source.resolved_location({"ATLAS_EXPORTS": str(exports)}))
        reports[source.name] = land_source(con, source, store, root / "landing", root / "quarantine")
        refresh_raw_view(con, source)
    write_gpu_pricing(con, [])
    con.close()
    result = dbt(warehouse, root, "build", "--exclude-resource-type", "unit_test", "--indirect-selection", "cautious",
                 "--select", "+billing_row_conservation", "+billing_cost_reconciliation")
    return root, warehouse, files, reports, result


def test_the_estate_builds_with_conservation_and_reconciliation_green(built):
    _, _, _, _, result = built
    assert result.returncode == 0, result.stdout[-5000:]
    for test in ("assert_billing_rows_conserved", "assert_billed_cost_reconciles_to_raw",
                 "assert_effective_cost_reconciles_to_amortized"):
        assert f"PASS {test}" in result.stdout


def test_only_the_broken_files_are_quarantined_each_with_file_row_and_column(built):
    root, warehouse, files, reports, _ = built
    quarantined = {(s, Path(q["file"]).name) for s, r in reports.items() for q in r.quarantined}
    assert quarantined == {(s, n) for (s, n), (_, outcome) in files.items() if outcome == "quarantined"}
    reasons = {json.loads(p.read_text())["file"].rsplit("/", 1)[-1]: json.loads(p.read_text())
               for p in (root / "quarantine").rglob("*.reason.json")}
    bad = reasons["part_11_bad_money.csv"]
    assert bad["violations"] == [{"row": 2, "column": "CostInBillingCurrency", "expectation": "decimal", "observed": "3,25"}]
    assert reasons["part_10_truncated.csv.gz"]["kind"] == "malformed"


def test_every_good_file_arrives_whole_to_the_cent(built, fetch_rows):
    _, warehouse, files, _, _ = built
    landed = {
        (r["x_source"], delivered_name(r["x_source_file"])): r
        for r in fetch_rows(
            warehouse,
            "select x_source, x_source_file, count(distinct x_source_row) as rows, sum(\"BilledCost\") as billed "
            "from main.focus_cost_and_usage group by all",
        )
    }
    for (source, name), (content, outcome) in files.items():
        if outcome != "landed":
            assert (source, name) not in landed
            continue
        rows, cost = expected_cost(source, name, content)
        got = landed[(source, name)]
        assert (got["rows"], got["billed"]) == (rows, cost), (source, name)


def test_conservation_ledger_accounts_for_every_landed_row(built, fetch_rows):
    _, warehouse, _, _, _ = built
    ledger = fetch_rows(warehouse, "select * from main.billing_row_conservation where rows_landed > 0 order by 1")
    assert {r["x_source"] for r in ledger} == set(ESTATE)
    assert all(r["rows_unaccounted"] == 0 and r["rows_in_focus"] == r["rows_landed"] for r in ledger)
    basis = fetch_rows(
        warehouse, "select distinct billing_input, effective_cost_basis from main.billing_cost_reconciliation"
    )
    assert {"billing_input": "azure_cost_details_actual",
            "effective_cost_basis": "provider amortized cost of the invoiced rows"} in basis


def test_padded_charge_type_pricing_model_and_frequency_map_as_their_trimmed_value(built, fetch_rows):
    """The contract reads " Usage " as Usage (in_set compares trimmed); the FOCUS mapping must too: a
    padded ChargeType once fell through to ChargeCategory Adjustment, with every check green."""
    _, warehouse, _, _, _ = built
    rows = fetch_rows(
        warehouse,
        "select x_source_file, \"ChargeCategory\", \"ChargeFrequency\", \"PricingCategory\", "
        "\"CommitmentDiscountType\", x_provider_line_type, count(*) as n from main.focus_cost_and_usage "
        "where x_source = 'azure_cost_details_actual' group by all",
    )
    by_file: dict[str, set] = {}
    for row in rows:
        by_file.setdefault(delivered_name(row.pop("x_source_file")), set()).add(tuple(row.values()))
    assert by_file["part_12_padded_codes.csv"] == by_file["part_01_as_exported.csv"]
    assert {r[0] for r in by_file["part_12_padded_codes.csv"]} == {"Usage", "Purchase"}


def test_null_spellings_blank_pricing_model_and_empty_tags_read_as_their_meaning(built, fetch_rows):
    _, warehouse, _, _, _ = built
    rows = fetch_rows(
        warehouse,
        "select x_source_file, \"PricingCategory\", \"ConsumedQuantity\", "
        "cast(\"Tags\" as varchar) as tags, \"BillingCurrency\" from main.focus_cost_and_usage "
        "where x_source = 'azure_cost_details_actual' and \"ChargeCategory\" = 'Usage'",
    )
    by_file: dict[str, list[dict]] = {}
    for row in rows:
        by_file.setdefault(delivered_name(row["x_source_file"]), []).append(row)
    # A blank PricingModel is an on-demand charge, not a dropped one.
    assert {r["PricingCategory"] for r in by_file["part_06_blank_pricing_model.csv"]} == {"Standard"}
    assert {r["tags"] for r in by_file["part_07_empty_tags.csv"]} == {"{}"}
    assert {r["tags"] for r in by_file["part_05_null_spellings.csv"]} == {"{}"}
    assert any(r["ConsumedQuantity"] is None for r in by_file["part_05_null_spellings.csv"])
    # Both spellings of the currency column arrive as BillingCurrency.
    assert {r["BillingCurrency"] for r in by_file["part_03_crlf_bom_current_names.csv"]} == {"USD"}
    assert {r["BillingCurrency"] for r in by_file["part_01_as_exported.csv"]} == {"USD"}
