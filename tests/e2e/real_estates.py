"""Estates a new user brings, made by hand — never by Atlas's sample generator: the real public
billing samples (tests/fixtures/billing) laid out as each provider delivers them, a CUR 2.0 export
written from AWS's column dictionary, and a small on-prem GPU fleet exported from Prometheus with
its Slurm accounting. Each writer returns what the estate must produce (rows and cost per input,
read from the files' own text) so tests compare Atlas's output with the files, not with itself."""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

FIXTURES = Path(__file__).parents[1] / "fixtures" / "billing"
SCALE = Decimal("1e-12")  # the money type's 12 places (contracts.money_type), rounded half away from zero


@dataclass
class Expected:
    """What an estate must produce: rows and Σ invoiced cost per input source."""

    rows: dict[str, int] = field(default_factory=dict)
    cost: dict[str, Decimal] = field(default_factory=dict)
    gpu_hours: dict[str, Decimal] = field(default_factory=dict)  # per cluster (allocated, from sacct)
    sources: set[str] = field(default_factory=set)  # what the estate delivers (its declarations)


def _money(text: str) -> Decimal:
    return Decimal(text).quantize(SCALE, ROUND_HALF_UP) if text.strip() else Decimal(0)


def _csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _write(path: Path, content: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())


def aws_legacy_cur_gzip(exports: Path, expected: Expected) -> None:
    """Legacy CUR as AWS delivers it: gzip parts in an assembly folder, the month's manifest naming them."""
    header, rows = _csv(FIXTURES / "aws_legacy_cur_2023-11_anonymized.csv")
    base = exports / "aws" / "atlas-cur-legacy" / "20231101-20231201"
    keys = []
    for n, part in enumerate((rows[:700], rows[700:]), start=1):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([header, *part])
        name = f"7f3c2a10-assembly/atlas-cur-legacy-{n:05d}.csv.gz"
        _write(base / name, gzip.compress(buffer.getvalue().encode()))
        keys.append(f"cur/atlas-cur-legacy/20231101-20231201/{name}")
    manifest = {"assemblyId": "7f3c2a10-assembly", "reportKeys": keys, "billingPeriod": {"start": "20231101T000000.000Z"}}
    _write(base / "atlas-cur-legacy-Manifest.json", json.dumps(manifest))
    cost = header.index("lineItem/UnblendedCost")
    expected.rows["aws_cur_legacy"] = len(rows)
    expected.sources.add("aws_cur_legacy")
    expected.cost["aws_cur_legacy"] = sum((_money(r[cost]) for r in rows), Decimal(0))


def azure_actual_only(exports: Path, expected: Expected) -> None:
    """An Azure EA actual-cost export and no amortized one, as many organisations export."""
    path = FIXTURES / "azure_ea_actualcost_2023-09.csv"
    _write(exports / "azure/costexports/atlas/atlas-actual/20230901-20230930/4c1a-run/part_0_0001.csv", path.read_bytes())
    header, rows = _csv(path)
    expected.rows["azure_cost_details_actual"] = len(rows)
    expected.sources.add("azure_cost_details_actual")
    expected.cost["azure_cost_details_actual"] = sum((_money(r[header.index("Cost")]) for r in rows), Decimal(0))


def gcp_detailed_csv(exports: Path, expected: Expected) -> None:
    """GCP's detailed export flattened to CSV (credits as Python-style lists)."""
    path = FIXTURES / "gcp_billing_export_resource_2022-08_anonymized.csv"
    _write(exports / "gcp/atlas-billing-detailed/2022-08/export-000000000000.csv", path.read_bytes())
    header, rows = _csv(path)
    total = Decimal(0)
    for r in rows:
        total += _money(r[header.index("cost")])
        for credit in json.loads(r[header.index("credits")].replace("'", '"').replace("None", "null") or "[]"):
            total += _money(str(credit["amount"]))
    expected.rows["gcp_billing_detailed"] = len(rows)
    expected.sources.add("gcp_billing_detailed")
    expected.cost["gcp_billing_detailed"] = total


def aws_cur2_parquet(exports: Path, expected: Expected) -> None:
    """A CUR 2.0 (Data Exports) parquet file, written from AWS's column dictionary: money as double,
    unblended rate as text, tags and product as maps; on-demand usage, a Savings Plan's covered
    usage, negation and fee, tax and a credit."""
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    sp = "arn:aws:savingsplans::111122223333:savingsplan/3c2e"
    lines = [
        ("Usage", "AmazonEC2", 24.0, 0.096, 2.304, None, None, None, None),
        ("Usage", "AmazonS3", 1500.5, 0.023, 34.5115, None, None, None, None),
        ("SavingsPlanCoveredUsage", "AmazonEC2", 24.0, 0.384, 9.216, sp, 6.12, None, None),
        ("SavingsPlanNegation", "AmazonEC2", 24.0, -0.384, -9.216, sp, None, None, None),
        ("SavingsPlanRecurringFee", "ComputeSavingsPlans", 1.0, 7.2, 7.2, sp, None, 7.2, 6.12),
        ("Tax", "AmazonEC2", 1.0, None, 3.1, None, None, None, None),
        ("Credit", "AmazonEC2", 1.0, None, -1.25, None, None, None, None),
    ]
    rows = []
    for i, (kind, product, amount, rate, cost, arn, sp_eff, sp_commit, sp_used) in enumerate(lines):
        day = start + timedelta(days=i)
        rows.append({
            "identity_line_item_id": f"li-{i:04d}", "identity_time_interval": f"{day:%Y-%m-%dT%H:%M:%SZ}",
            "bill_payer_account_id": "111122223333", "bill_billing_period_start_date": start,
            "bill_billing_period_end_date": end, "bill_invoice_id": "EUINUS26-0001",
            "line_item_usage_account_id": "444455556666", "line_item_line_item_type": kind,
            "line_item_usage_start_date": day, "line_item_usage_end_date": day + timedelta(hours=1),
            "line_item_product_code": product, "line_item_usage_type": "BoxUsage:m5.large",
            "line_item_operation": "RunInstances", "line_item_resource_id": f"i-0{i:07x}" if kind == "Usage" else "",
            "line_item_usage_amount": amount, "line_item_currency_code": "USD",
            "line_item_unblended_rate": None if rate is None else repr(rate), "line_item_unblended_cost": cost,
            "line_item_line_item_description": f"{kind} line", "product_servicecode": product,
            "product_region_code": "us-east-1", "pricing_unit": "Hrs",
            "savings_plan_savings_plan_a_r_n": arn or "", "savings_plan_savings_plan_effective_cost": sp_eff,
            "savings_plan_total_commitment_to_date": sp_commit, "savings_plan_used_commitment": sp_used,
            "product": [("product_name", "Amazon Elastic Compute Cloud"), ("region", "us-east-1")],
            "resource_tags": [("user_team", "data-eng")] if kind == "Usage" else [],
        })
    schema = pa.schema([
        (name, pa.map_(pa.string(), pa.string())) if name in ("product", "resource_tags")
        else (name, pa.timestamp("ms", tz="UTC")) if isinstance(value, datetime)
        else (name, pa.float64()) if isinstance(value, float) or name.startswith(("savings_plan_savings_plan_eff",
                                                                                 "savings_plan_total", "savings_plan_used"))
        else (name, pa.string())
        for name, value in rows[0].items()
    ])
    table = pa.Table.from_pylist(rows, schema=schema)
    path = exports / "aws/atlas-cur2/data/BILLING_PERIOD=2026-03/atlas-cur2-00001.snappy.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    expected.rows["aws_cur2"] = len(rows)
    expected.sources.add("aws_cur2")
    expected.cost["aws_cur2"] = sum((_money(repr(r["line_item_unblended_cost"])) for r in rows), Decimal(0))


ONPREM = "lab-h100"  # the user's own cluster, priced in the user's own gpu_pricing.yaml
ONPREM_PRICE = Decimal("2.40")


def onprem_gpu_fleet(exports: Path, expected: Expected) -> None:
    """Two 4-GPU on-prem hosts exported from Prometheus (range-query JSON, one gzip file per host and
    day, 60 s steps) with their Slurm accounting (`sacct -P`) and inventory: no cloud bill at all.
    Job 5001 holds 4 GPUs of node-01 from 02:00 to 08:00 (busy), job 5002 2 GPUs of node-02 from
    12:00 to 15:30; everything else idles at 70 W."""
    day = datetime(2026, 6, 10, tzinfo=UTC)
    hosts = {"node-01": [(5001, range(4), 2.0, 8.0)], "node-02": [(5002, range(2), 12.0, 15.5)]}
    for host, jobs in hosts.items():
        result = []
        for gpu in range(4):
            held = [(job, start, stop) for job, gpus, start, stop in jobs if gpu in gpus]
            for metric in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
                           "DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_GPU_TEMP"):
                values = []
                for minute in range(24 * 60):
                    hour = minute / 60
                    busy = any(start <= hour < stop for _, start, stop in held)
                    value = {"DCGM_FI_DEV_GPU_UTIL": ("97", "0"), "DCGM_FI_DEV_POWER_USAGE": ("652.5", "71.2"),
                             "DCGM_FI_PROF_GR_ENGINE_ACTIVE": ("0.93", "0"), "DCGM_FI_DEV_SM_CLOCK": ("1980", "345"),
                             "DCGM_FI_DEV_GPU_TEMP": ("67", "33")}[metric][0 if busy else 1]
                    values.append([int((day + timedelta(minutes=minute)).timestamp()), value])
                result.append({"metric": {"__name__": metric, "gpu": str(gpu), "UUID": f"GPU-{host}-{gpu}",
                                          "Hostname": host, "modelName": "NVIDIA H100 80GB HBM3"},
                               "values": values})
        body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
        _write(exports / f"telemetry/prometheus/{ONPREM}/{day:%Y-%m-%d}/{host}.json.gz",
               gzip.compress(json.dumps(body).encode()))
    sacct = [
        "JobID|JobName|User|Account|Partition|AllocTRES|Submit|Start|End|Elapsed|State|ExitCode|NodeList",
        "5001|pretrain|ada|ml-research|gpu|billing=64,cpu=64,gres/gpu=4,mem=512G,node=1|2026-06-10T01:55:00|"
        "2026-06-10T02:00:00|2026-06-10T08:00:00|06:00:00|COMPLETED|0:0|node-01",
        "5001.batch|batch|||||2026-06-10T02:00:00|2026-06-10T02:00:00|2026-06-10T08:00:00|06:00:00|COMPLETED|0:0|node-01",
        "5002|finetune|bob|ml-platform|gpu|billing=32,cpu=32,gres/gpu=2,mem=256G,node=1|2026-06-10T11:58:00|"
        "2026-06-10T12:00:00|2026-06-10T15:30:00|03:30:00|COMPLETED|0:0|node-02",
    ]
    _write(exports / f"telemetry/slurm/{ONPREM}/{day:%Y-%m-%d}.sacct.txt", "\n".join(sacct) + "\n")
    _write(exports / "telemetry/inventory/nodes.csv",
           "hostname,cluster,provider,instance_type,resource_id,region,gpu_model,gpu_count\n"
           f"node-01,{ONPREM},onprem,,,,NVIDIA H100 80GB HBM3,4\nnode-02,{ONPREM},onprem,,,,NVIDIA H100 80GB HBM3,4\n")
    expected.gpu_hours[ONPREM] = Decimal(4 * 6) + Decimal(2) * Decimal("3.5")
    expected.sources |= {"dcgm_prometheus_exports", "slurm_jobs", "gpu_nodes"}


ESTATES = {
    "aws_legacy_cur_gzip_only": [aws_legacy_cur_gzip],
    "aws_cur2_only": [aws_cur2_parquet],
    "azure_actual_only": [azure_actual_only],
    "gcp_detailed_csv_only": [gcp_detailed_csv],
    "gpu_telemetry_only": [onprem_gpu_fleet],
    "billing_without_telemetry": [aws_legacy_cur_gzip, azure_actual_only, gcp_detailed_csv],
}


def write_estate(name: str, exports: Path, assets: Path) -> Expected:
    """Write the named estate under `exports` (laid out as README "Bring your own exports" says) and
    the user's own declarations under `assets` (`$ATLAS_ASSETS`): the repository's declaration of
    each source it has, copied unchanged, and its on-prem GPU price."""
    from atlas_pipeline.lib.settings import DECLARATIONS_DIR

    expected = Expected()
    exports.mkdir(parents=True, exist_ok=True)
    for writer in ESTATES[name]:
        writer(exports, expected)
    (assets / "sources").mkdir(parents=True)
    for source in expected.sources:
        (assets / "sources" / f"{source}.yaml").write_text((DECLARATIONS_DIR / "sources" / f"{source}.yaml").read_text())
    if expected.gpu_hours:
        (assets / "gpu_pricing.yaml").write_text(
            f"currency: USD\nclusters:\n  - cluster: {ONPREM}\n    price_per_gpu_hour: \"{ONPREM_PRICE}\"\n"
            "    effective_from: 2026-01-01\n    note: 8x H100 lab nodes, 3-year depreciation + power\n"
        )
    return expected


def query_warehouse(warehouse: Path, sql: str) -> list[tuple]:
    """Rows of `sql` on a built warehouse, opened read-only (the e2e modules' assertions)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
