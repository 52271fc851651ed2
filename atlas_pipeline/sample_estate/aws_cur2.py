"""AWS Data Exports, CUR 2.0 table, as parquet: one organisation, hourly granularity, with resource ids.

Columns are named and typed as AWS's CUR 2.0 data dictionary names them (bill_*, identity_*,
line_item_*, pricing_*, product MAP plus product_* columns, reservation_*, resource_tags MAP,
savings_plan_*), in the dictionary's alphabetical order. As in the dictionary, costs are DOUBLE
while *rates* (line_item_unblended_rate, line_item_blended_rate, line_item_net_unblended_rate,
pricing_public_on_demand_rate) are strings; timestamps are UTC. Every money value is rounded to at
most 8 decimals. The account has no negotiated discounts, so each net_* value equals its gross one.

What a month contains:
- Non-GPU usage (EC2, EBS, S3, RDS, data transfer, CloudWatch) spread over a stable pool of
  resources, each billing at most once per hour; ~10% of resources carry no tags.
- One line per hour per GPU host. The `committed` host is covered by a Compute Savings Plan
  (No Upfront), following AWS's documented line items: an hourly SavingsPlanRecurringFee (unblended
  = the hourly commitment; savings_plan_total_commitment_to_date / savings_plan_used_commitment),
  SavingsPlanCoveredUsage (unblended = the On-Demand cost, savings_plan_savings_plan_effective_cost
  = usage x Savings Plan rate) and a SavingsPlanNegation per covered line (unblended = minus the
  covered line's unblended cost).
- A Reserved Instance (Standard, 3 years, Partial Upfront) for the data team's c6i.8xlarge build
  host, bought at 00:00 UTC on the estate's first day: a one-time Fee line for the upfront payment
  in the first billing period; per running hour a DiscountedUsage line (unblended 0,
  reservation_effective_cost = amortized upfront + recurring fee per hour); per month one RIFee
  line billing the recurring fee for every reserved hour, with the hours the host did not run as
  reservation_unused_quantity / _unused_recurring_fee / _unused_amortized_upfront_fee.
- Daily promotional Credit lines (negative) and monthly Tax lines per usage account and product.

Totals per (aws, payer account, billing period):
- billed   = Σ line_item_unblended_cost over every line (the invoice).
- amortized = Σ by line type: SavingsPlanCoveredUsage -> savings_plan_savings_plan_effective_cost;
  SavingsPlanRecurringFee -> savings_plan_total_commitment_to_date - savings_plan_used_commitment
  (the unused commitment); SavingsPlanNegation and SavingsPlanUpfrontFee -> 0; DiscountedUsage ->
  reservation_effective_cost; RIFee -> reservation_unused_amortized_upfront_fee_for_billing_period +
  reservation_unused_recurring_fee; the RI's upfront Fee -> 0; every other line ->
  line_item_unblended_cost (the CUDOS dashboards' amortized_cost rule). So billed and amortized
  differ: the upfront payment is billed once and amortized over the term's hours.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from atlas_pipeline.sample_estate import layout
from atlas_pipeline.sample_estate.billing_primitives import (
    DAY_US,
    HOUR_US,
    ROWS_PER_FILE,
    BillingOutput,
    EncodedColumn,
    EncodedMap,
    RowBuffer,
    add_years,
    assign_ownership,
    commitment_start,
    constant,
    days_in,
    epoch_us,
    exact_sum,
    gpu_host_tags,
    guid,
    hours_in,
    lognormal_factor,
    next_month,
    nullable_doubles,
    pool_size,
    random_code,
    random_hex,
    random_tokens,
    rng_for,
    round_money,
    sample_cells,
    weighted_choice,
)
from atlas_pipeline.sample_estate.spec import TEAMS, EstateSpec, GpuHost

PROVIDER = "aws"
PAYER_ACCOUNT_ID = "210987654321"
PAYER_ACCOUNT_NAME = "atlas-management"
LEGAL_ENTITY = "Amazon Web Services, Inc."
# Usage accounts of the organisation, by owning team.
ACCOUNTS: dict[str, tuple[str, str]] = {
    "ml-research": ("345678901234", "atlas-ml"),
    "ml-platform": ("345678901234", "atlas-ml"),
    "data-eng": ("456789012345", "atlas-data"),
    "web": ("567890123456", "atlas-web"),
    "search": ("567890123456", "atlas-web"),
}
ML_ACCOUNT = ACCOUNTS["ml-research"]

# region code, location name, usage-type prefix, price factor, share of resources
_REGIONS: tuple[tuple[str, str, str, float, float], ...] = (
    ("us-east-1", "US East (N. Virginia)", "", 1.0, 0.6),
    ("us-west-2", "US West (Oregon)", "USW2-", 1.0, 0.3),
    ("eu-west-1", "EU (Ireland)", "EU-", 1.1, 0.1),
)

# On-demand price of a p5.48xlarge (8 x H100) in us-east-1.
P5_ON_DEMAND_RATE = 55.04
# The Compute Savings Plan (3 years, No Upfront) that covers the committed host; bought seven
# months before the estate starts (billing_primitives.commitment_start).
SP_HOURLY_COMMITMENT = 40.0  # per committed host
SP_RATE_P5 = 38.528  # the plan's rate for p5.48xlarge (30% off on-demand)
SP_TERM_YEARS = 3
# The Reserved Instance (Standard, 3 years, Partial Upfront) of the data team's build host.
RI_INSTANCE_TYPE = "c6i.8xlarge"
RI_ON_DEMAND_RATE = 1.36
RI_AMORTIZED_UPFRONT_HOURLY = 0.5  # upfront payment = this x the hours of the term
RI_RECURRING_HOURLY = 0.4
RI_TERM_YEARS = 3
RI_RUNNING_SHARE = 0.92  # share of hours the host runs; the rest are unused reserved hours
TAX_RATE = 0.0725
DAILY_CREDIT = 400.0  # promotional credit applied to the ML account's EC2 spend, per day (at most)


@dataclass(frozen=True)
class _Service:
    """One kind of non-GPU usage: a product, usage type and price, and how its amounts vary."""

    key: str
    weight: float
    product_code: str
    servicecode: str
    product_name: str
    usage_type: str
    operation: str
    family: str
    unit: str
    rate: float
    description: str  # formatted with {rate} and {location}
    resource: str  # instance | volume | bucket | db | loggroup | none
    amount: str  # hour | monthly | per_hour
    size: tuple[float, float] = (1.0, 1.0)  # monthly: GB/metrics per resource; per_hour: median, sigma
    instance_type: str | None = None
    instance_family: str | None = None
    normalization: float | None = None
    vcpu: str | None = None
    memory: str | None = None


_SERVICES: tuple[_Service, ...] = (
    _Service(
        "ec2_m6i",
        14,
        "AmazonEC2",
        "AmazonEC2",
        "Amazon Elastic Compute Cloud",
        "BoxUsage:m6i.2xlarge",
        "RunInstances",
        "Compute Instance",
        "Hrs",
        0.384,
        "${rate} per On Demand Linux m6i.2xlarge Instance Hour",
        "instance",
        "hour",
        instance_type="m6i.2xlarge",
        instance_family="General purpose",
        normalization=16.0,
        vcpu="8",
        memory="32 GiB",
    ),
    _Service(
        "ec2_c6i",
        10,
        "AmazonEC2",
        "AmazonEC2",
        "Amazon Elastic Compute Cloud",
        "BoxUsage:c6i.xlarge",
        "RunInstances",
        "Compute Instance",
        "Hrs",
        0.17,
        "${rate} per On Demand Linux c6i.xlarge Instance Hour",
        "instance",
        "hour",
        instance_type="c6i.xlarge",
        instance_family="Compute optimized",
        normalization=8.0,
        vcpu="4",
        memory="8 GiB",
    ),
    _Service(
        "ec2_r6i",
        6,
        "AmazonEC2",
        "AmazonEC2",
        "Amazon Elastic Compute Cloud",
        "BoxUsage:r6i.large",
        "RunInstances",
        "Compute Instance",
        "Hrs",
        0.126,
        "${rate} per On Demand Linux r6i.large Instance Hour",
        "instance",
        "hour",
        instance_type="r6i.large",
        instance_family="Memory optimized",
        normalization=4.0,
        vcpu="2",
        memory="16 GiB",
    ),
    _Service(
        "ebs_gp3",
        14,
        "AmazonEC2",
        "AmazonEC2",
        "Amazon Elastic Compute Cloud",
        "EBS:VolumeUsage.gp3",
        "CreateVolume-Gp3",
        "Storage",
        "GB-Mo",
        0.08,
        "${rate} per GB-month of General Purpose (gp3) provisioned storage - {location}",
        "volume",
        "monthly",
        size=(50.0, 2000.0),
    ),
    _Service(
        "s3_storage",
        12,
        "AmazonS3",
        "AmazonS3",
        "Amazon Simple Storage Service",
        "TimedStorage-ByteHrs",
        "StandardStorage",
        "Storage",
        "GB-Mo",
        0.023,
        "${rate} per GB - first 50 TB / month of storage used",
        "bucket",
        "monthly",
        size=(100.0, 50_000.0),
    ),
    _Service(
        "s3_requests",
        8,
        "AmazonS3",
        "AmazonS3",
        "Amazon Simple Storage Service",
        "Requests-Tier1",
        "PutObject",
        "API Request",
        "Requests",
        0.000005,
        "${rate} per PUT, COPY, POST, or LIST requests",
        "bucket",
        "per_hour",
        size=(20_000.0, 1.2),
    ),
    _Service(
        "rds_r6g",
        6,
        "AmazonRDS",
        "AmazonRDS",
        "Amazon Relational Database Service",
        "InstanceUsage:db.r6g.xlarge",
        "CreateDBInstance:0014",
        "Database Instance",
        "Hrs",
        0.478,
        "${rate} per RDS db.r6g.xlarge Single-AZ instance hour (or partial hour) running PostgreSQL",
        "db",
        "hour",
        instance_type="db.r6g.xlarge",
        instance_family="Memory optimized",
        normalization=8.0,
        vcpu="4",
        memory="32 GiB",
    ),
    _Service(
        "data_transfer_out",
        12,
        "AmazonEC2",
        "AWSDataTransfer",
        "Amazon Elastic Compute Cloud",
        "DataTransfer-Out-Bytes",
        "RunInstances",
        "Data Transfer",
        "GB",
        0.09,
        "${rate} per GB - first 10 TB / month data transfer out beyond the global free tier",
        "instance",
        "per_hour",
        size=(3.0, 1.0),
    ),
    _Service(
        "cw_metrics",
        8,
        "AmazonCloudWatch",
        "AmazonCloudWatch",
        "AmazonCloudWatch",
        "CW:MetricMonitorUsage",
        "MetricStorage",
        "Metric",
        "Metrics",
        0.30,
        "${rate} per metric-month - first 10,000 metrics",
        "none",
        "monthly",
        size=(50.0, 2000.0),
    ),
    _Service(
        "cw_logs",
        10,
        "AmazonCloudWatch",
        "AmazonCloudWatch",
        "AmazonCloudWatch",
        "DataProcessing-Bytes",
        "PutLogEvents",
        "Data Payload",
        "GB",
        0.50,
        "${rate} per GB custom log data ingested",
        "loggroup",
        "per_hour",
        size=(0.4, 1.0),
    ),
)

_STRING = pa.string()
_DOUBLE = pa.float64()
_TS = pa.timestamp("us", tz="UTC")
_MAP_STR = pa.map_(pa.string(), pa.string())
_MAP_DOUBLE = pa.map_(pa.string(), pa.float64())

# The CUR 2.0 columns written, in the data dictionary's (alphabetical) order.
CUR2_SCHEMA = pa.schema(
    [
        ("bill_bill_type", _STRING),
        ("bill_billing_entity", _STRING),
        ("bill_billing_period_end_date", _TS),
        ("bill_billing_period_start_date", _TS),
        ("bill_invoice_id", _STRING),
        ("bill_invoicing_entity", _STRING),
        ("bill_payer_account_id", _STRING),
        ("bill_payer_account_name", _STRING),
        ("cost_category", _MAP_STR),
        ("discount", _MAP_DOUBLE),
        ("discount_bundled_discount", _DOUBLE),
        ("discount_total_discount", _DOUBLE),
        ("identity_line_item_id", _STRING),
        ("identity_time_interval", _STRING),
        ("line_item_availability_zone", _STRING),
        ("line_item_blended_cost", _DOUBLE),
        ("line_item_blended_rate", _STRING),
        ("line_item_currency_code", _STRING),
        ("line_item_legal_entity", _STRING),
        ("line_item_line_item_description", _STRING),
        ("line_item_line_item_type", _STRING),
        ("line_item_net_unblended_cost", _DOUBLE),
        ("line_item_net_unblended_rate", _STRING),
        ("line_item_normalization_factor", _DOUBLE),
        ("line_item_normalized_usage_amount", _DOUBLE),
        ("line_item_operation", _STRING),
        ("line_item_product_code", _STRING),
        ("line_item_resource_id", _STRING),
        ("line_item_tax_type", _STRING),
        ("line_item_unblended_cost", _DOUBLE),
        ("line_item_unblended_rate", _STRING),
        ("line_item_usage_account_id", _STRING),
        ("line_item_usage_account_name", _STRING),
        ("line_item_usage_amount", _DOUBLE),
        ("line_item_usage_end_date", _TS),
        ("line_item_usage_start_date", _TS),
        ("line_item_usage_type", _STRING),
        ("pricing_currency", _STRING),
        ("pricing_lease_contract_length", _STRING),
        ("pricing_offering_class", _STRING),
        ("pricing_public_on_demand_cost", _DOUBLE),
        ("pricing_public_on_demand_rate", _STRING),
        ("pricing_purchase_option", _STRING),
        ("pricing_rate_code", _STRING),
        ("pricing_rate_id", _STRING),
        ("pricing_term", _STRING),
        ("pricing_unit", _STRING),
        ("product", _MAP_STR),
        ("product_comment", _STRING),
        ("product_fee_code", _STRING),
        ("product_fee_description", _STRING),
        ("product_from_location", _STRING),
        ("product_from_location_type", _STRING),
        ("product_from_region_code", _STRING),
        ("product_instance_family", _STRING),
        ("product_instance_type", _STRING),
        ("product_instancesku", _STRING),
        ("product_location", _STRING),
        ("product_location_type", _STRING),
        ("product_operation", _STRING),
        ("product_pricing_unit", _STRING),
        ("product_product_family", _STRING),
        ("product_region_code", _STRING),
        ("product_servicecode", _STRING),
        ("product_sku", _STRING),
        ("product_to_location", _STRING),
        ("product_to_location_type", _STRING),
        ("product_to_region_code", _STRING),
        ("product_usagetype", _STRING),
        ("reservation_amortized_upfront_cost_for_usage", _DOUBLE),
        ("reservation_amortized_upfront_fee_for_billing_period", _DOUBLE),
        ("reservation_availability_zone", _STRING),
        ("reservation_effective_cost", _DOUBLE),
        ("reservation_end_time", _STRING),
        ("reservation_modification_status", _STRING),
        ("reservation_net_amortized_upfront_cost_for_usage", _DOUBLE),
        ("reservation_net_amortized_upfront_fee_for_billing_period", _DOUBLE),
        ("reservation_net_effective_cost", _DOUBLE),
        ("reservation_net_recurring_fee_for_usage", _DOUBLE),
        ("reservation_net_unused_amortized_upfront_fee_for_billing_period", _DOUBLE),
        ("reservation_net_unused_recurring_fee", _DOUBLE),
        ("reservation_net_upfront_value", _DOUBLE),
        ("reservation_normalized_units_per_reservation", _STRING),
        ("reservation_number_of_reservations", _STRING),
        ("reservation_recurring_fee_for_usage", _DOUBLE),
        ("reservation_reservation_a_r_n", _STRING),
        ("reservation_start_time", _STRING),
        ("reservation_subscription_id", _STRING),
        ("reservation_total_reserved_normalized_units", _STRING),
        ("reservation_total_reserved_units", _STRING),
        ("reservation_units_per_reservation", _STRING),
        ("reservation_unused_amortized_upfront_fee_for_billing_period", _DOUBLE),
        ("reservation_unused_normalized_unit_quantity", _DOUBLE),
        ("reservation_unused_quantity", _DOUBLE),
        ("reservation_unused_recurring_fee", _DOUBLE),
        ("reservation_upfront_value", _DOUBLE),
        ("resource_tags", _MAP_STR),
        ("savings_plan_amortized_upfront_commitment_for_billing_period", _DOUBLE),
        ("savings_plan_end_time", _STRING),
        ("savings_plan_instance_type_family", _STRING),
        ("savings_plan_net_amortized_upfront_commitment_for_billing_period", _DOUBLE),
        ("savings_plan_net_recurring_commitment_for_billing_period", _DOUBLE),
        ("savings_plan_net_savings_plan_effective_cost", _DOUBLE),
        ("savings_plan_offering_type", _STRING),
        ("savings_plan_payment_option", _STRING),
        ("savings_plan_purchase_term", _STRING),
        ("savings_plan_recurring_commitment_for_billing_period", _DOUBLE),
        ("savings_plan_region", _STRING),
        ("savings_plan_savings_plan_a_r_n", _STRING),
        ("savings_plan_savings_plan_effective_cost", _DOUBLE),
        ("savings_plan_savings_plan_rate", _DOUBLE),
        ("savings_plan_start_time", _STRING),
        ("savings_plan_total_commitment_to_date", _DOUBLE),
        ("savings_plan_used_commitment", _DOUBLE),
    ]
)

# Columns that vary per line (the rest are fixed per line "kind": one resource, one GPU line type...).
_PER_ROW = (
    "identity_line_item_id",
    "identity_time_interval",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_usage_amount",
    "line_item_normalized_usage_amount",
    "line_item_unblended_cost",
    "line_item_blended_cost",
    "line_item_net_unblended_cost",
    "pricing_public_on_demand_cost",
    "savings_plan_savings_plan_effective_cost",
    "savings_plan_net_savings_plan_effective_cost",
    "savings_plan_total_commitment_to_date",
    "savings_plan_used_commitment",
    "savings_plan_recurring_commitment_for_billing_period",
    "savings_plan_net_recurring_commitment_for_billing_period",
    "savings_plan_amortized_upfront_commitment_for_billing_period",
    "savings_plan_net_amortized_upfront_commitment_for_billing_period",
    "reservation_effective_cost",
    "reservation_net_effective_cost",
    "reservation_amortized_upfront_cost_for_usage",
    "reservation_net_amortized_upfront_cost_for_usage",
    "reservation_recurring_fee_for_usage",
    "reservation_net_recurring_fee_for_usage",
    "reservation_amortized_upfront_fee_for_billing_period",
    "reservation_net_amortized_upfront_fee_for_billing_period",
    "reservation_unused_quantity",
    "reservation_unused_recurring_fee",
    "reservation_net_unused_recurring_fee",
    "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation_net_unused_amortized_upfront_fee_for_billing_period",
)
# Columns fixed for a whole billing period.
_PER_PERIOD = (
    "bill_bill_type",
    "bill_billing_entity",
    "bill_billing_period_end_date",
    "bill_billing_period_start_date",
    "bill_invoice_id",
    "bill_invoicing_entity",
    "bill_payer_account_id",
    "bill_payer_account_name",
    "cost_category",
    "discount",
    "discount_bundled_discount",
    "discount_total_discount",
    "line_item_currency_code",
    "pricing_currency",
)
_PER_KIND = tuple(f.name for f in CUR2_SCHEMA if f.name not in _PER_ROW and f.name not in _PER_PERIOD)

# Line types, as codes in the per-row arrays.
_USAGE, _SP_COVERED, _SP_NEGATION, _SP_FEE, _CREDIT, _TAX, _RI_USAGE, _RI_FEE, _FEE = range(9)
_LINE_TYPE_NAMES = {
    _RI_USAGE: "DiscountedUsage",
    _RI_FEE: "RIFee",
    _FEE: "Fee",
    _USAGE: "Usage",
    _SP_COVERED: "SavingsPlanCoveredUsage",
    _SP_NEGATION: "SavingsPlanNegation",
    _SP_FEE: "SavingsPlanRecurringFee",
    _CREDIT: "Credit",
    _TAX: "Tax",
}


def _rate_text(rate: float) -> str:
    """A rate as CUR writes it in its string rate columns: plain decimal text."""
    return format(Decimal(repr(float(round_money(np.array([rate]))[0]))), "f")


def _ts(us: int) -> str:
    return np.datetime_as_string(np.datetime64(us, "us"), unit="ms") + "Z"


class _Kinds:
    """The fixed attributes of each line kind, gathered into one Arrow table."""

    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []
        self.line_type: list[int] = []
        self.normalization: list[float] = []
        self.rate: list[float] = []
        self.tax_group: list[int] = []  # (account, product) group the line is taxed in; -1 = none
        self._groups: dict[tuple[str, str], int] = {}

    def add(self, line_type: int, normalization: float | None = None, rate: float = np.nan, **columns: object) -> int:
        columns["line_item_line_item_type"] = _LINE_TYPE_NAMES[line_type]
        self.rows.append(columns)
        self.line_type.append(line_type)
        self.normalization.append(np.nan if normalization is None else normalization)
        self.rate.append(rate)
        if line_type == _TAX:
            self.tax_group.append(-1)
        else:
            group = (str(columns["line_item_usage_account_id"]), str(columns["line_item_product_code"]))
            self.tax_group.append(self._groups.setdefault(group, len(self._groups)))
        return len(self.rows) - 1

    @property
    def groups(self) -> dict[tuple[str, str], int]:
        return self._groups

    def table(self) -> pa.Table:
        arrays = []
        for name in _PER_KIND:
            type_ = CUR2_SCHEMA.field(name).type
            values = [row.get(name) for row in self.rows]
            if pa.types.is_map(type_):
                values = [list(v) if v is not None else [] for v in values]
            arrays.append(pa.array(values, type=type_))
        return pa.Table.from_arrays(arrays, names=list(_PER_KIND))


@dataclass
class _Resources:
    """The pool of non-GPU resources: which service, where, whose, and how big."""

    kind: np.ndarray  # kind index of each resource
    service: np.ndarray  # index into _SERVICES
    size: np.ndarray  # GB / metrics (monthly) or median amount per hour (per_hour)


def _pricing_ids(rng: np.random.Generator) -> tuple[str, str, str]:
    sku = random_code(rng, 16)
    return sku, f"{sku}.JRTCKXETXF.6YS6EN2CT7", str(int(rng.integers(10**9, 10**10)))


def _build_resources(spec: EstateSpec, kinds: _Kinds, pool: int) -> _Resources:
    rng = rng_for(spec.seed, PROVIDER, "resources")
    service = weighted_choice(rng, pool, [s.weight for s in _SERVICES])
    region = weighted_choice(rng, pool, [r[4] for r in _REGIONS])
    owner = assign_ownership(rng, pool)
    size = np.zeros(pool)
    # One price-list entry per (service, region): sku, rate code and rate id.
    price_ids = {
        (s, g): _pricing_ids(rng_for(spec.seed, PROVIDER, "sku", svc.key, reg[0]))
        for s, svc in enumerate(_SERVICES)
        for g, reg in enumerate(_REGIONS)
    }
    kind = np.zeros(pool, dtype=np.int64)
    az_letters = "abcd"
    for i in range(pool):
        svc = _SERVICES[int(service[i])]
        code, location, prefix, factor, _ = _REGIONS[int(region[i])]
        team = TEAMS[int(owner.team[i])]
        account_id, account_name = ACCOUNTS[team]
        rate = svc.rate * factor
        if svc.amount == "monthly":
            low, high = svc.size
            size[i] = float(np.exp(rng.uniform(np.log(low), np.log(high))))
        elif svc.amount == "per_hour":
            size[i] = svc.size[0] * float(rng.lognormal(0.0, 0.8))
        az = f"{code}{az_letters[int(rng.integers(0, 3))]}" if svc.resource in ("instance", "volume", "db") else None
        name = f"{team}-{i:05d}"
        if svc.resource == "instance":
            resource_id = f"i-0{random_hex(rng, 16)}"
        elif svc.resource == "volume":
            resource_id = f"vol-0{random_hex(rng, 16)}"
        elif svc.resource == "bucket":
            resource_id = f"atlas-{name}-{random_hex(rng, 6)}"
        elif svc.resource == "db":
            resource_id = f"arn:aws:rds:{code}:{account_id}:db:{name}-pg"
        elif svc.resource == "loggroup":
            resource_id = f"arn:aws:logs:{code}:{account_id}:log-group:/atlas/{name}"
        else:
            resource_id = None
        sku, rate_code, rate_id = price_ids[(int(service[i]), int(region[i]))]
        rate_text = _rate_text(rate)
        product = [("product_name", svc.product_name), ("region", code), ("servicename", svc.product_name)]
        if svc.vcpu:
            product += [
                ("vcpu", svc.vcpu),
                ("memory", svc.memory or ""),
                ("operating_system", "Linux"),
                ("tenancy", "Shared"),
            ]
        if svc.resource == "bucket" and svc.family == "Storage":
            product += [("storage_class", "General Purpose"), ("volume_type", "Standard")]
        tags = [(f"user_{k}", v) for k, v in owner.tags(i)]
        kind[i] = kinds.add(
            _USAGE,
            normalization=svc.normalization,
            rate=float(round_money(np.array([rate]))[0]),
            line_item_availability_zone=az,
            line_item_blended_rate=rate_text,
            line_item_legal_entity=LEGAL_ENTITY,
            line_item_line_item_description=svc.description.format(
                rate=f"{rate:g}" if rate >= 0.001 else rate_text, location=location
            ),
            line_item_net_unblended_rate=rate_text,
            line_item_normalization_factor=svc.normalization,
            line_item_operation=svc.operation,
            line_item_product_code=svc.product_code,
            line_item_resource_id=resource_id,
            line_item_unblended_rate=rate_text,
            line_item_usage_account_id=account_id,
            line_item_usage_account_name=account_name,
            line_item_usage_type=prefix + svc.usage_type,
            pricing_public_on_demand_rate=rate_text,
            pricing_rate_code=rate_code,
            pricing_rate_id=rate_id,
            pricing_term="OnDemand",
            pricing_unit=svc.unit,
            product=product,
            product_instance_family=svc.instance_family,
            product_instance_type=svc.instance_type,
            product_location=location,
            product_location_type="AWS Region",
            product_operation=svc.operation,
            product_pricing_unit=svc.unit,
            product_product_family=svc.family,
            product_region_code=code,
            product_servicecode=svc.servicecode,
            product_sku=sku,
            product_usagetype=prefix + svc.usage_type,
            reservation_subscription_id=str(int(rng.integers(10**8, 10**9))),
            resource_tags=tags,
        )
    return _Resources(kind=kind, service=service, size=size)


@dataclass(frozen=True)
class _GpuKinds:
    host: GpuHost
    usage: int  # Usage or SavingsPlanCoveredUsage kind
    negation: int | None  # SavingsPlanNegation kind (committed host only)


def _gpu_kinds(spec: EstateSpec, kinds: _Kinds, sp_arn: str) -> list[_GpuKinds]:
    sp_start = commitment_start(spec.start_month)
    out = []
    for host in spec.fleet:
        if host.provider != PROVIDER:
            continue
        rng = rng_for(spec.seed, PROVIDER, "gpu", host.hostname)
        sku, rate_code, rate_id = _pricing_ids(rng)
        od_text = _rate_text(P5_ON_DEMAND_RATE)
        region = next((r for r in _REGIONS if r[0] == host.region), _REGIONS[0])
        common = dict(
            line_item_availability_zone=f"{host.region}a",
            line_item_legal_entity=LEGAL_ENTITY,
            line_item_normalization_factor=384.0,
            line_item_operation="RunInstances",
            line_item_product_code="AmazonEC2",
            line_item_resource_id=host.resource_id,
            line_item_usage_account_id=ML_ACCOUNT[0],
            line_item_usage_account_name=ML_ACCOUNT[1],
            line_item_usage_type=f"{region[2]}BoxUsage:{host.instance_type}",
            pricing_public_on_demand_rate=od_text,
            pricing_rate_code=rate_code,
            pricing_rate_id=rate_id,
            pricing_term="OnDemand",
            pricing_unit="Hrs",
            product=[
                ("product_name", "Amazon Elastic Compute Cloud"),
                ("region", host.region),
                ("servicename", "Amazon Elastic Compute Cloud"),
                ("vcpu", "192"),
                ("memory", "2048 GiB"),
                ("gpu", str(host.gpu_count)),
                ("gpu_memory", "640 GB"),
                ("operating_system", "Linux"),
                ("tenancy", "Shared"),
            ],
            product_instance_family="GPU instance",
            product_instance_type=host.instance_type,
            product_location=region[1],
            product_location_type="AWS Region",
            product_operation="RunInstances",
            product_pricing_unit="Hrs",
            product_product_family="Compute Instance",
            product_region_code=host.region,
            product_servicecode="AmazonEC2",
            product_sku=sku,
            product_usagetype=f"{region[2]}BoxUsage:{host.instance_type}",
            reservation_subscription_id=str(int(rng.integers(10**8, 10**9))),
            resource_tags=[(f"user_{k}", v) for k, v in gpu_host_tags(host)],
        )
        description = f"${P5_ON_DEMAND_RATE:g} per On Demand Linux {host.instance_type} Instance Hour"
        if host.committed:
            sp_common = dict(
                savings_plan_savings_plan_a_r_n=sp_arn,
                savings_plan_savings_plan_rate=SP_RATE_P5,
                savings_plan_offering_type="ComputeSavingsPlans",
                savings_plan_payment_option="No Upfront",
                savings_plan_purchase_term=f"{SP_TERM_YEARS}yr",
                savings_plan_start_time=_ts(epoch_us(sp_start)),
                savings_plan_end_time=_ts(epoch_us(add_years(sp_start, SP_TERM_YEARS))),
            )
            usage = kinds.add(
                _SP_COVERED,
                normalization=384.0,
                line_item_blended_rate=od_text,
                line_item_unblended_rate=od_text,
                line_item_net_unblended_rate=od_text,
                line_item_line_item_description=description,
                **common,
                **sp_common,
            )
            negation_text = _rate_text(-P5_ON_DEMAND_RATE)
            negation = kinds.add(
                _SP_NEGATION,
                normalization=384.0,
                line_item_blended_rate=negation_text,
                line_item_unblended_rate=negation_text,
                line_item_net_unblended_rate=negation_text,
                line_item_line_item_description=(
                    f"SavingsPlanNegation used by AccountId : {ML_ACCOUNT[0]} and UsageSku : {sku}"
                ),
                **common,
                **sp_common,
            )
        else:
            usage = kinds.add(
                _USAGE,
                normalization=384.0,
                line_item_blended_rate=od_text,
                line_item_unblended_rate=od_text,
                line_item_net_unblended_rate=od_text,
                line_item_line_item_description=description,
                **common,
            )
            negation = None
        out.append(_GpuKinds(host=host, usage=usage, negation=negation))
    return out


def _sp_fee_kind(kinds: _Kinds, sp_arn: str, sp_start: date, hourly_commitment: float) -> int:
    text = _rate_text(hourly_commitment)
    return kinds.add(
        _SP_FEE,
        line_item_blended_rate=text,
        line_item_unblended_rate=text,
        line_item_net_unblended_rate=text,
        line_item_legal_entity=LEGAL_ENTITY,
        line_item_line_item_description=f"{SP_TERM_YEARS} year No Upfront Compute Savings Plan",
        line_item_product_code="ComputeSavingsPlans",
        line_item_resource_id=sp_arn,
        line_item_usage_account_id=ML_ACCOUNT[0],
        line_item_usage_account_name=ML_ACCOUNT[1],
        line_item_usage_type=f"ComputeSP:{SP_TERM_YEARS}yrNoUpfront",
        line_item_operation="",
        pricing_term="Savings Plan",
        pricing_unit="Hrs",
        pricing_purchase_option="No Upfront",
        pricing_lease_contract_length=f"{SP_TERM_YEARS}yr",
        product=[("product_name", "Savings Plans for AWS Compute usage")],
        product_product_family="Savings Plans",
        savings_plan_savings_plan_a_r_n=sp_arn,
        savings_plan_offering_type="ComputeSavingsPlans",
        savings_plan_payment_option="No Upfront",
        savings_plan_purchase_term=f"{SP_TERM_YEARS}yr",
        savings_plan_start_time=_ts(epoch_us(sp_start)),
        savings_plan_end_time=_ts(epoch_us(add_years(sp_start, SP_TERM_YEARS))),
    )


@dataclass(frozen=True)
class _RiKinds:
    usage: int  # DiscountedUsage
    recurring_fee: int  # RIFee
    upfront_fee: int  # Fee (the upfront payment)
    start: date
    term_hours: int


def _ri_kinds(spec: EstateSpec, kinds: _Kinds) -> _RiKinds:
    """The data team's build host and its Partial Upfront Reserved Instance, bought on the estate's first day."""
    rng = rng_for(spec.seed, PROVIDER, "ri")
    account = ACCOUNTS["data-eng"]
    start = spec.start_month
    end = add_years(start, RI_TERM_YEARS)
    term_hours = (end - start).days * 24
    ri_arn = f"arn:aws:ec2:us-east-1:{account[0]}:reserved-instances/{guid(rng)}"
    sku, rate_code, rate_id = _pricing_ids(rng)
    reservation = dict(
        reservation_reservation_a_r_n=ri_arn,
        reservation_start_time=_ts(epoch_us(start)),
        reservation_end_time=_ts(epoch_us(end)),
        reservation_number_of_reservations="1",
        reservation_units_per_reservation="1",
        reservation_total_reserved_units="1",
        reservation_modification_status="Original",
        pricing_lease_contract_length=f"{RI_TERM_YEARS}yr",
        pricing_offering_class="standard",
        pricing_purchase_option="Partial Upfront",
    )
    common = dict(
        line_item_legal_entity=LEGAL_ENTITY,
        line_item_product_code="AmazonEC2",
        line_item_usage_account_id=account[0],
        line_item_usage_account_name=account[1],
        product=[("product_name", "Amazon Elastic Compute Cloud"), ("region", "us-east-1")],
        product_servicecode="AmazonEC2",
        product_region_code="us-east-1",
        product_instance_type=RI_INSTANCE_TYPE,
        product_sku=sku,
        **reservation,
    )
    usage_type = f"BoxUsage:{RI_INSTANCE_TYPE}"
    od_text = _rate_text(RI_ON_DEMAND_RATE)
    usage = kinds.add(
        _RI_USAGE,
        normalization=64.0,
        line_item_availability_zone="us-east-1b",
        line_item_blended_rate="0.0",
        line_item_unblended_rate="0.0",
        line_item_net_unblended_rate="0.0",
        line_item_line_item_description=(
            f"USD 0.4 hourly fee per Linux/UNIX (Amazon VPC), {RI_INSTANCE_TYPE} instance"
        ),
        line_item_operation="RunInstances",
        line_item_resource_id=f"i-{random_hex(rng, 17)}",
        line_item_usage_type=usage_type,
        pricing_public_on_demand_rate=od_text,
        pricing_rate_code=rate_code,
        pricing_rate_id=rate_id,
        pricing_term="Reserved",
        pricing_unit="Hrs",
        product_instance_family="Compute optimized",
        product_product_family="Compute Instance",
        product_usagetype=usage_type,
        resource_tags=[("user_team", "data-eng"), ("user_project", "ci-build"), ("user_CostCenter", "CC-4410")],
        **common,
    )
    recurring_text = _rate_text(RI_RECURRING_HOURLY)
    recurring_fee = kinds.add(
        _RI_FEE,
        line_item_blended_rate=recurring_text,
        line_item_unblended_rate=recurring_text,
        line_item_net_unblended_rate=recurring_text,
        line_item_line_item_description=(
            f"USD {RI_RECURRING_HOURLY:g} hourly fee per Linux/UNIX (Amazon VPC), {RI_INSTANCE_TYPE} instance"
        ),
        line_item_operation="RunInstances",
        line_item_resource_id=ri_arn,
        line_item_usage_type=f"HeavyUsage:{RI_INSTANCE_TYPE}",
        pricing_term="Reserved",
        pricing_unit="Hrs",
        product_product_family="Compute Instance",
        **common,
    )
    upfront_fee = kinds.add(
        _FEE,
        line_item_line_item_description=f"Sign up charge for subscription: {ri_arn}, planId: {rate_id}",
        line_item_operation="",
        line_item_resource_id=ri_arn,
        line_item_usage_type=f"HeavyUsage:{RI_INSTANCE_TYPE}",
        pricing_term="Reserved",
        product_product_family="Compute Instance",
        **common,
    )
    return _RiKinds(usage=usage, recurring_fee=recurring_fee, upfront_fee=upfront_fee, start=start, term_hours=term_hours)


def _credit_kind(kinds: _Kinds) -> int:
    return kinds.add(
        _CREDIT,
        line_item_legal_entity=LEGAL_ENTITY,
        line_item_line_item_description="AWS Promotional Credit - Generative AI Accelerator",
        line_item_product_code="AmazonEC2",
        line_item_usage_account_id=ML_ACCOUNT[0],
        line_item_usage_account_name=ML_ACCOUNT[1],
        line_item_usage_type="",
        line_item_operation="",
        product=[("product_name", "Amazon Elastic Compute Cloud")],
        product_servicecode="AmazonEC2",
    )


_PRODUCT_NAMES = {
    "AmazonEC2": "Amazon Elastic Compute Cloud",
    "AmazonS3": "Amazon Simple Storage Service",
    "AmazonRDS": "Amazon Relational Database Service",
    "AmazonCloudWatch": "AmazonCloudWatch",
    "ComputeSavingsPlans": "Savings Plans for AWS Compute usage",
}


def _tax_kinds(kinds: _Kinds) -> dict[int, int]:
    """One Tax kind per (usage account, product) group that can carry usage: group -> kind."""
    out = {}
    for (account_id, product_code), group in list(kinds.groups.items()):
        account_name = next(name for acc, name in ACCOUNTS.values() if acc == account_id)
        out[group] = kinds.add(
            _TAX,
            line_item_legal_entity=LEGAL_ENTITY,
            line_item_line_item_description=f"Tax for product code {product_code}",
            line_item_product_code=product_code,
            line_item_tax_type="USSalesTax",
            line_item_usage_account_id=account_id,
            line_item_usage_account_name=account_name,
            line_item_usage_type="",
            line_item_operation="",
            product=[("product_name", _PRODUCT_NAMES.get(product_code, product_code))],
        )
    return out


def _interval_text(start: np.ndarray, end: np.ndarray) -> pa.Array:
    """identity_time_interval, e.g. 2026-08-01T00:00:00Z/2026-08-01T01:00:00Z, built per distinct pair."""
    key = (start // HOUR_US) * (1 << 20) + (end - start) // HOUR_US
    unique, first, inverse = np.unique(key, return_index=True, return_inverse=True)

    def text(us: int) -> str:
        return np.datetime_as_string(np.datetime64(int(us), "us"), unit="s") + "Z"

    labels = pa.array([f"{text(start[i])}/{text(end[i])}" for i in first], type=pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(inverse.reshape(-1).astype(np.int32)), labels)


def write_aws_cur2(out_dir: Path, spec: EstateSpec) -> BillingOutput:
    """Write the CUR 2.0 export (data files and manifests) for every billing period of `spec`."""
    out = BillingOutput()
    kinds = _Kinds()
    sp_arn = f"arn:aws:savingsplans::{ML_ACCOUNT[0]}:savingsplan/{guid(rng_for(spec.seed, PROVIDER, 'sp'))}"
    n_usage = int(round(spec.line_items_per_month * 0.5))
    pool = pool_size(n_usage, 31 * 24)
    resources = _build_resources(spec, kinds, pool) if pool else None
    gpus = _gpu_kinds(spec, kinds, sp_arn)
    has_sp = any(g.negation is not None for g in gpus)
    covered_hosts = sum(1 for g in gpus if g.negation is not None)
    sp_commitment = SP_HOURLY_COMMITMENT * covered_hosts
    fee_kind = _sp_fee_kind(kinds, sp_arn, commitment_start(spec.start_month), sp_commitment) if has_sp else -1
    ri = _ri_kinds(spec, kinds)
    credit_kind = _credit_kind(kinds)
    tax_kinds = _tax_kinds(kinds)
    kind_columns = _KindColumns(kinds.table())
    line_type = np.array(kinds.line_type, dtype=np.int64)
    normalization = np.array(kinds.normalization, dtype=np.float64)
    rate = np.array(kinds.rate, dtype=np.float64)
    tax_group = np.array(kinds.tax_group, dtype=np.int64)
    export_arn = (
        f"arn:aws:bcm-data-exports:us-east-1:{PAYER_ACCOUNT_ID}:export/{layout.AWS_EXPORT_NAME}-"
        f"{guid(rng_for(spec.seed, PROVIDER, 'export'))}"
    )

    for period in spec.billing_periods:
        label = layout.period_label(period)
        rng = rng_for(spec.seed, PROVIDER, label, "rows")
        hours = hours_in(period)
        t0 = epoch_us(period)
        t1 = epoch_us(next_month(period))
        rows = RowBuffer(
            ("kind", "start", "end"),
            (
                "amount", "cost", "od_cost", "sp_eff", "sp_total", "sp_used", "sp_recurring",
                "ri_eff", "ri_amortized", "ri_recurring", "ri_unused_quantity", "ri_unused_amortized",
                "ri_unused_recurring",
            ),
        )

        # Non-GPU usage: distinct (hour, resource) cells.
        if resources is not None and n_usage:
            hour, res = sample_cells(rng, n_usage, pool, hours)
            svc = resources.service[res]
            amount = np.ones(len(res))
            monthly = np.isin(svc, [i for i, s in enumerate(_SERVICES) if s.amount == "monthly"])
            amount[monthly] = resources.size[res[monthly]] / hours
            per_hour = np.isin(svc, [i for i, s in enumerate(_SERVICES) if s.amount == "per_hour"])
            amount[per_hour] = resources.size[res[per_hour]] * lognormal_factor(rng, int(per_hour.sum()), 0.9)
            amount = np.round(amount, 8)
            kind = resources.kind[res]
            cost = round_money(amount * rate[kind])
            rows.add(
                len(res),
                kind=kind,
                start=t0 + hour * HOUR_US,
                end=t0 + (hour + 1) * HOUR_US,
                amount=amount,
                cost=cost,
                od_cost=cost,
            )

        # GPU hosts: one line per host per hour (plus Savings Plan lines for the committed host).
        hour = np.arange(hours, dtype=np.int64)
        start, end = t0 + hour * HOUR_US, t0 + (hour + 1) * HOUR_US
        od = round_money(np.full(hours, P5_ON_DEMAND_RATE))
        for g in gpus:
            if g.negation is None:
                rows.add(hours, kind=g.usage, start=start, end=end, amount=1.0, cost=od, od_cost=od)
            else:
                eff = round_money(np.full(hours, SP_RATE_P5))
                rows.add(hours, kind=g.usage, start=start, end=end, amount=1.0, cost=od, od_cost=od, sp_eff=eff)
                rows.add(hours, kind=g.negation, start=start, end=end, amount=1.0, cost=-od, od_cost=0.0)
        if has_sp:
            used = round_money(np.full(hours, SP_RATE_P5 * covered_hosts))
            commitment = round_money(np.full(hours, sp_commitment))
            rows.add(
                hours,
                kind=fee_kind,
                start=start,
                end=end,
                amount=1.0,
                cost=commitment,
                od_cost=0.0,
                sp_total=commitment,
                sp_used=np.minimum(used, commitment),
                sp_recurring=commitment,
            )

        # The Reserved Instance: the upfront Fee in the month it was bought, DiscountedUsage per
        # running hour, one RIFee per month for every reserved hour (unused hours on it).
        if ri.start == period:
            upfront = RI_AMORTIZED_UPFRONT_HOURLY * ri.term_hours
            rows.add(1, kind=ri.upfront_fee, start=t0, end=t0 + HOUR_US, amount=1.0,
                     cost=round_money(np.array([upfront])), od_cost=0.0)
        running = rng.random(hours) < RI_RUNNING_SHARE
        ran = hour[running]
        rows.add(
            len(ran),
            kind=ri.usage,
            start=t0 + ran * HOUR_US,
            end=t0 + (ran + 1) * HOUR_US,
            amount=1.0,
            cost=0.0,
            od_cost=round_money(np.full(len(ran), RI_ON_DEMAND_RATE)),
            ri_eff=round_money(np.full(len(ran), RI_AMORTIZED_UPFRONT_HOURLY + RI_RECURRING_HOURLY)),
            ri_amortized=RI_AMORTIZED_UPFRONT_HOURLY,
            ri_recurring=RI_RECURRING_HOURLY,
        )
        unused = hours - len(ran)
        rows.add(
            1,
            kind=ri.recurring_fee,
            start=t0,
            end=t1,
            amount=float(hours),
            cost=round_money(np.array([RI_RECURRING_HOURLY * hours])),
            od_cost=0.0,
            ri_amortized=round_money(np.array([RI_AMORTIZED_UPFRONT_HOURLY * hours])),
            ri_unused_quantity=float(unused),
            ri_unused_amortized=round_money(np.array([RI_AMORTIZED_UPFRONT_HOURLY * unused])),
            ri_unused_recurring=round_money(np.array([RI_RECURRING_HOURLY * unused])),
        )

        # Promotional credits: one line per day against the ML account's EC2 spend, never more than it.
        days = days_in(period)
        so_far = rows.arrays()
        credited = tax_group[so_far["kind"]] == tax_group[credit_kind]
        credited_day = (so_far["start"][credited] - t0) // DAY_US
        spend = np.bincount(credited_day, weights=so_far["cost"][credited], minlength=days)[:days]
        credit = -np.minimum(DAILY_CREDIT, np.maximum(round_money(spend, 2), 0.0))
        day = np.flatnonzero(credit < 0)
        rows.add(
            len(day),
            kind=credit_kind,
            start=t0 + day * DAY_US,
            end=t0 + (day + 1) * DAY_US,
            amount=0.0,
            cost=round_money(credit[day]),
            od_cost=0.0,
        )

        # Tax: one line per usage account and product, on the month's net charges.
        data = rows.arrays()
        groups = tax_group[data["kind"]]
        base = np.bincount(groups[groups >= 0], weights=data["cost"][groups >= 0], minlength=len(tax_kinds))
        for group, tax_kind in sorted(tax_kinds.items()):
            if base[group] > 0:
                rows.add(
                    1,
                    kind=tax_kind,
                    start=t0,
                    end=t1,
                    amount=1.0,
                    cost=round_money(np.array([round(base[group] * TAX_RATE, 2)])),
                    od_cost=0.0,
                )
        data = rows.arrays(("start", "end", "kind"))

        files = _write_period(out_dir, period, data, kind_columns, normalization, spec)
        manifest = _write_manifest(out_dir, period, files, export_arn, spec)
        out.files.extend(files + [manifest])
        out.count("aws_cur2", len(data["kind"]))

        key = (PROVIDER, PAYER_ACCOUNT_ID, label)
        lt = line_type[data["kind"]]
        out.billed_cost[key] = exact_sum(data["cost"])
        plain = ~np.isin(lt, [_SP_COVERED, _SP_FEE, _SP_NEGATION, _RI_USAGE, _RI_FEE, _FEE])
        out.amortized_cost[key] = (
            exact_sum(data["cost"][plain])
            + exact_sum(data["ri_eff"][lt == _RI_USAGE])
            + exact_sum(data["ri_unused_amortized"][lt == _RI_FEE])
            + exact_sum(data["ri_unused_recurring"][lt == _RI_FEE])
            + exact_sum(data["sp_eff"][lt == _SP_COVERED])
            + exact_sum(data["sp_total"][lt == _SP_FEE])
            - exact_sum(data["sp_used"][lt == _SP_FEE])
        )
    return out


class _KindColumns:
    """The per-kind columns, ready to expand to rows: strings dictionary-encoded, others by take."""

    def __init__(self, kind_table: pa.Table) -> None:
        self.encoded: dict[str, EncodedColumn | EncodedMap] = {}
        self.other: dict[str, pa.Array] = {}
        for name in kind_table.column_names:
            column = kind_table.column(name).combine_chunks()
            if pa.types.is_string(column.type):
                self.encoded[name] = EncodedColumn.of(column)
            elif pa.types.is_map(column.type):
                self.encoded[name] = EncodedMap.of(column)
            else:
                self.other[name] = column

    def expand(self, name: str, kind: np.ndarray) -> pa.Array:
        if name in self.encoded:
            return self.encoded[name].expand(kind)
        return self.other[name].take(pa.array(kind))


def _string_constant(value: str, n: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value]))


def _write_period(
    out_dir: Path,
    period: date,
    data: dict[str, np.ndarray],
    kind_columns: _KindColumns,
    normalization: np.ndarray,
    spec: EstateSpec,
) -> list[Path]:
    """The period's parquet parts. Strings are written dictionary-encoded (as parquet stores them
    anyway); the file schema is CUR 2.0's plain string/double/timestamp/map types."""
    label = layout.period_label(period)
    n = len(data["kind"])
    invoice_id = str(int(rng_for(spec.seed, PROVIDER, label, "invoice").integers(10**9, 10**10)))
    period_start = epoch_us(period)
    period_end = epoch_us(next_month(period))
    parts = max(1, -(-n // ROWS_PER_FILE))
    files = []
    for part in range(parts):
        lo, hi = part * ROWS_PER_FILE, min(n, (part + 1) * ROWS_PER_FILE)
        m = hi - lo
        sl = {k: v[lo:hi] for k, v in data.items()}
        kind = sl["kind"]
        cost = nullable_doubles(sl["cost"])
        nz = np.round(sl["amount"] * normalization[kind], 8)
        upfront = nullable_doubles(np.where(np.isnan(sl["sp_recurring"]), np.nan, 0.0))
        per_row: dict[str, pa.Array] = {
            "identity_line_item_id": random_tokens(rng_for(spec.seed, PROVIDER, label, "ids", part), m, 52),
            "identity_time_interval": _interval_text(sl["start"], sl["end"]),
            "line_item_usage_start_date": pa.array(sl["start"], type=_TS),
            "line_item_usage_end_date": pa.array(sl["end"], type=_TS),
            "line_item_usage_amount": nullable_doubles(sl["amount"]),
            "line_item_normalized_usage_amount": nullable_doubles(nz),
            "line_item_unblended_cost": cost,
            "line_item_blended_cost": cost,
            "line_item_net_unblended_cost": cost,
            "pricing_public_on_demand_cost": nullable_doubles(sl["od_cost"]),
            "savings_plan_savings_plan_effective_cost": nullable_doubles(sl["sp_eff"]),
            "savings_plan_net_savings_plan_effective_cost": nullable_doubles(sl["sp_eff"]),
            "savings_plan_total_commitment_to_date": nullable_doubles(sl["sp_total"]),
            "savings_plan_used_commitment": nullable_doubles(sl["sp_used"]),
            "savings_plan_recurring_commitment_for_billing_period": nullable_doubles(sl["sp_recurring"]),
            "savings_plan_net_recurring_commitment_for_billing_period": nullable_doubles(sl["sp_recurring"]),
            "savings_plan_amortized_upfront_commitment_for_billing_period": upfront,
            "savings_plan_net_amortized_upfront_commitment_for_billing_period": upfront,
            "reservation_effective_cost": nullable_doubles(sl["ri_eff"]),
            "reservation_net_effective_cost": nullable_doubles(sl["ri_eff"]),
            "reservation_amortized_upfront_cost_for_usage": _usage_only(sl, "ri_amortized", "ri_eff"),
            "reservation_net_amortized_upfront_cost_for_usage": _usage_only(sl, "ri_amortized", "ri_eff"),
            "reservation_recurring_fee_for_usage": nullable_doubles(sl["ri_recurring"]),
            "reservation_net_recurring_fee_for_usage": nullable_doubles(sl["ri_recurring"]),
            "reservation_amortized_upfront_fee_for_billing_period": _fee_only(sl, "ri_amortized"),
            "reservation_net_amortized_upfront_fee_for_billing_period": _fee_only(sl, "ri_amortized"),
            "reservation_unused_quantity": nullable_doubles(sl["ri_unused_quantity"]),
            "reservation_unused_recurring_fee": nullable_doubles(sl["ri_unused_recurring"]),
            "reservation_net_unused_recurring_fee": nullable_doubles(sl["ri_unused_recurring"]),
            "reservation_unused_amortized_upfront_fee_for_billing_period": nullable_doubles(sl["ri_unused_amortized"]),
            "reservation_net_unused_amortized_upfront_fee_for_billing_period": nullable_doubles(
                sl["ri_unused_amortized"]
            ),
            "bill_bill_type": _string_constant("Anniversary", m),
            "bill_billing_entity": _string_constant("AWS", m),
            "bill_billing_period_end_date": pa.array(np.full(m, period_end), type=_TS),
            "bill_billing_period_start_date": pa.array(np.full(m, period_start), type=_TS),
            "bill_invoice_id": _string_constant(invoice_id, m),
            "bill_invoicing_entity": _string_constant(LEGAL_ENTITY, m),
            "bill_payer_account_id": _string_constant(PAYER_ACCOUNT_ID, m),
            "bill_payer_account_name": _string_constant(PAYER_ACCOUNT_NAME, m),
            "cost_category": constant([], m, _MAP_STR),
            "discount": constant([], m, _MAP_DOUBLE),
            "discount_bundled_discount": constant(None, m, _DOUBLE),
            "discount_total_discount": constant(None, m, _DOUBLE),
            "line_item_currency_code": _string_constant("USD", m),
            "pricing_currency": _string_constant("USD", m),
        }
        columns = [per_row[f.name] if f.name in per_row else kind_columns.expand(f.name, kind) for f in CUR2_SCHEMA]
        fields = [pa.field(f.name, c.type) for f, c in zip(CUR2_SCHEMA, columns, strict=True)]
        table = pa.Table.from_arrays(columns, schema=pa.schema(fields))
        path = out_dir / layout.aws_cur2_data_file(period, part + 1)
        path.parent.mkdir(parents=True, exist_ok=True)
        # store_schema=False: readers see CUR 2.0's own types (string, not dictionary<string>).
        pq.write_table(table, path, compression="snappy", store_schema=False)
        files.append(path)
    return files


def _usage_only(sl: dict[str, np.ndarray], field: str, marker: str) -> pa.Array:
    """`field` on DiscountedUsage rows (those with `marker` set), null elsewhere."""
    return nullable_doubles(np.where(np.isnan(sl[marker]), np.nan, sl[field]))


def _fee_only(sl: dict[str, np.ndarray], field: str) -> pa.Array:
    """`field` on RIFee rows (those with an unused quantity), null elsewhere."""
    return nullable_doubles(np.where(np.isnan(sl["ri_unused_quantity"]), np.nan, sl[field]))


def _write_manifest(out_dir: Path, period: date, files: list[Path], export_arn: str, spec: EstateSpec) -> Path:
    """The delivery manifest Data Exports writes beside the data: execution, period, files, columns."""
    label = layout.period_label(period)
    rel_files = [str(p.relative_to(out_dir).as_posix()) for p in files]
    manifest = {
        "executionId": guid(rng_for(spec.seed, PROVIDER, label, "execution")),
        "exportArn": export_arn,
        "exportName": layout.AWS_EXPORT_NAME,
        "billingPeriod": {
            "start": _ts(epoch_us(period)),
            "end": _ts(epoch_us(next_month(period))),
        },
        "dataFiles": [f"s3://atlas-billing-exports/{f}" for f in rel_files],
        "queryStatement": f"SELECT {', '.join(CUR2_SCHEMA.names)} FROM COST_AND_USAGE_REPORT",
        "tableConfigurations": {
            "COST_AND_USAGE_REPORT": {
                "INCLUDE_RESOURCES": "TRUE",
                "INCLUDE_SPLIT_COST_ALLOCATION_DATA": "FALSE",
                "INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY": "FALSE",
                "TIME_GRANULARITY": "HOURLY",
            }
        },
        "columns": [{"name": f.name, "type": _athena_type(f.type)} for f in CUR2_SCHEMA],
        "format": "PARQUET",
        "compression": "PARQUET",
    }
    rel = layout.aws_cur2_manifest_file(period)
    path = out_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path


def _athena_type(type_: pa.DataType) -> str:
    if pa.types.is_map(type_):
        return f"map<string,{_athena_type(type_.item_type)}>"
    if pa.types.is_timestamp(type_):
        return "timestamp"
    if pa.types.is_floating(type_):
        return "double"
    return "string"
