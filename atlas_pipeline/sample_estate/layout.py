"""Where each provider puts its billing exports: the one place that knows the folder layout.

Every function is pure and returns a path *relative to the estate's export root* (what a bucket
root is to the provider); callers join it with their output folder. The layout mirrors each
provider's own delivery:

- AWS Data Exports (CUR 2.0, parquet):
  ``aws/atlas-cur2/data/BILLING_PERIOD=2026-08/atlas-cur2-00001.snappy.parquet`` and
  ``aws/atlas-cur2/metadata/BILLING_PERIOD=2026-08/atlas-cur2-Manifest.json``
- GCP billing export extracted from BigQuery (newline-delimited JSON, gzip), one folder per
  invoice month: ``gcp/atlas-billing/2026-08/gcp_billing_export_v1_<ACCOUNT_ID>-000000000000.jsonl.gz``
- Azure Cost Management exports (v2), one folder per run:
  ``azure/costexports/atlas/<export>/20260801-20260831/<run-guid>/part_1_0001.csv`` + ``manifest.json``
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import PurePosixPath

AWS_ROOT = PurePosixPath("aws")
AWS_EXPORT_NAME = "atlas-cur2"

GCP_ROOT = PurePosixPath("gcp")
GCP_EXPORT_FOLDER = "atlas-billing"

AZURE_ROOT = PurePosixPath("azure")
AZURE_CONTAINER = "costexports"
AZURE_EXPORT_FOLDER = "atlas"  # the export's root folder path inside the container
AZURE_ACTUAL_EXPORT = "atlas-actual"
AZURE_AMORTIZED_EXPORT = "atlas-amortized"


def period_label(period: date) -> str:
    """A billing period's label, 'YYYY-MM'."""
    return f"{period.year:04d}-{period.month:02d}"


def _last_day(period: date) -> date:
    nxt = date(period.year + 1, 1, 1) if period.month == 12 else date(period.year, period.month + 1, 1)
    return nxt - timedelta(days=1)


# --- AWS ----------------------------------------------------------------------------------------


def aws_cur2_export_dir(export_name: str = AWS_EXPORT_NAME) -> PurePosixPath:
    return AWS_ROOT / export_name


def aws_cur2_data_file(period: date, part: int = 1, export_name: str = AWS_EXPORT_NAME) -> PurePosixPath:
    """One parquet part of a billing period (parts count from 1)."""
    return (
        aws_cur2_export_dir(export_name)
        / "data"
        / f"BILLING_PERIOD={period_label(period)}"
        / f"{export_name}-{part:05d}.snappy.parquet"
    )


def aws_cur2_manifest_file(period: date, export_name: str = AWS_EXPORT_NAME) -> PurePosixPath:
    return (
        aws_cur2_export_dir(export_name)
        / "metadata"
        / f"BILLING_PERIOD={period_label(period)}"
        / f"{export_name}-Manifest.json"
    )


# --- GCP ----------------------------------------------------------------------------------------


def gcp_billing_table_name(billing_account_id: str) -> str:
    """BigQuery's table name for the standard usage cost export: dashes become underscores."""
    return "gcp_billing_export_v1_" + billing_account_id.replace("-", "_")


def gcp_billing_file(period: date, billing_account_id: str, shard: int = 0) -> PurePosixPath:
    """A `bq extract` shard (wildcard URI numbering starts at 000000000000) of one invoice month."""
    return (
        GCP_ROOT
        / GCP_EXPORT_FOLDER
        / period_label(period)
        / f"{gcp_billing_table_name(billing_account_id)}-{shard:012d}.jsonl.gz"
    )


# --- Azure --------------------------------------------------------------------------------------


def azure_date_range(period: date) -> str:
    """The run folder's date range, first and last day of the month inclusive: 20260801-20260831."""
    return f"{period:%Y%m%d}-{_last_day(period):%Y%m%d}"


def azure_export_dir(export_name: str) -> PurePosixPath:
    return AZURE_ROOT / AZURE_CONTAINER / AZURE_EXPORT_FOLDER / export_name


def azure_run_dir(export_name: str, period: date, run_id: str) -> PurePosixPath:
    return azure_export_dir(export_name) / azure_date_range(period) / run_id


def azure_part_file(export_name: str, period: date, run_id: str, part: int = 1) -> PurePosixPath:
    return azure_run_dir(export_name, period, run_id) / f"part_{part}_0001.csv"


def azure_manifest_file(export_name: str, period: date, run_id: str) -> PurePosixPath:
    return azure_run_dir(export_name, period, run_id) / "manifest.json"


def azure_blob_name(relative: PurePosixPath) -> str:
    """A file's blob name as Azure lists it: relative to the storage container."""
    return str(relative.relative_to(AZURE_ROOT / AZURE_CONTAINER))
