"""Azure Cost Management exports (v2) of cost details for an Enterprise Agreement: the *actual* cost
and the *amortized* cost datasets, CSV, one run folder per month with a manifest.json.

The header is the EA cost-details header, column for column as in Microsoft's sample
(CostInBillingCurrency, BillingCurrencyCode, ...). Dates are MM/DD/YYYY, daily (cost details are
daily: one row per resource, meter and day). Money and quantities are plain decimal text with at
most 8 decimals. Tags are written the way EA exports write them, without braces:
``"team": "ml-research","project": "llm-pretrain","env": "prod"``. The billing currency is USD.

What a month contains:
- Non-GPU usage (Dsv5/Esv5 VMs, Premium SSD disks, Blob storage, SQL Database vCores, bandwidth),
  one row per resource per day, ~10% of resources without tags.
- The ND96isr H100 v5 host, one row per day (Quantity 24 hours). It is covered by a 3-year
  reservation paid monthly: the *actual* export has the monthly Purchase row (ChargeType=Purchase,
  PricingModel=Reservation, Frequency=Recurring) and the covered usage at cost 0; the *amortized*
  export has the covered usage at the reservation's effective hourly price and the Purchase row at
  cost 0. The reservation covers one VM that runs every hour, so there is no unused reservation
  (an UnusedReservation row would appear in the amortized export only).
- No tax rows (EA invoices tax outside cost details).

Totals per (azure, billing account, billing period): billed = Σ CostInBillingCurrency of the
actual export; amortized = Σ CostInBillingCurrency of the amortized export.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa

from atlas_pipeline.sample_estate import layout
from atlas_pipeline.sample_estate.billing_primitives import (
    ROWS_PER_FILE,
    TEXT_BATCH_ROWS,
    BillingOutput,
    RowBuffer,
    assign_ownership,
    commitment_start,
    days_in,
    decimal_text,
    exact_sum,
    gpu_host_tags,
    guid,
    join_text,
    lognormal_factor,
    pool_size,
    random_hex,
    rng_for,
    round_money,
    sample_cells,
    text_bytes,
    weighted_choice,
)
from atlas_pipeline.sample_estate.spec import TEAMS, EstateSpec

PROVIDER = "azure"
BILLING_ACCOUNT_ID = "87654321"
BILLING_ACCOUNT_NAME = "Atlas Analytics Inc."
CURRENCY = "USD"

# The EA cost-details header, exactly as Microsoft's sample export writes it.
HEADER: tuple[str, ...] = (
    "InvoiceSectionName", "AccountName", "AccountOwnerId", "SubscriptionId", "SubscriptionName",
    "ResourceGroup", "ResourceLocation", "Date", "ProductName", "MeterCategory", "MeterSubCategory",
    "MeterId", "MeterName", "MeterRegion", "UnitOfMeasure", "Quantity", "EffectivePrice",
    "CostInBillingCurrency", "CostCenter", "ConsumedService", "ResourceId", "Tags", "OfferId",
    "AdditionalInfo", "ServiceInfo1", "ServiceInfo2", "ResourceName", "ReservationId", "ReservationName",
    "UnitPrice", "ProductOrderId", "ProductOrderName", "Term", "PublisherType", "PublisherName",
    "ChargeType", "Frequency", "PricingModel", "AvailabilityZone", "BillingAccountId",
    "BillingAccountName", "BillingCurrencyCode", "BillingPeriodStartDate", "BillingPeriodEndDate",
    "BillingProfileId", "BillingProfileName", "InvoiceSectionId", "IsAzureCreditEligible", "PartNumber",
    "PayGPrice", "PlanName", "ServiceFamily", "CostAllocationRuleName", "benefitId", "benefitName",
)  # fmt: skip
_PER_ROW = ("Date", "Quantity", "EffectivePrice", "CostInBillingCurrency", "BillingPeriodStartDate", "BillingPeriodEndDate")
_PER_KIND = tuple(c for c in HEADER if c not in _PER_ROW)

# Subscriptions (EA accounts live under one enrollment and one department).
_SUBSCRIPTIONS: dict[str, tuple[str, str, str]] = {
    # team: (subscription id, subscription name, cost center)
    "ml-research": ("7d3c1f52-3b1e-4c8a-9d2e-5a6b7c8d9e01", "atlas-ml-prod", "CC-1100"),
    "ml-platform": ("7d3c1f52-3b1e-4c8a-9d2e-5a6b7c8d9e01", "atlas-ml-prod", "CC-1100"),
    "data-eng": ("2b9e4c71-6d3a-4f58-8e1c-0a4b5c6d7e02", "atlas-data-prod", "CC-1200"),
    "web": ("3c0f5d82-7e4b-4a69-9f2d-1b5c6d7e8f03", "atlas-web-prod", "CC-1300"),
    "search": ("4d1a6e93-8f5c-4b7a-a03e-2c6d7e8f9a04", "atlas-search-prod", "CC-1400"),
}
_ENROLLMENT = {
    "InvoiceSectionName": "Engineering",
    "InvoiceSectionId": "221045",
    "AccountName": "Atlas Cloud Operations",
    "AccountOwnerId": "cloud-ops@atlas.example",
    "OfferId": "MS-AZR-0017P",
    "BillingAccountId": BILLING_ACCOUNT_ID,
    "BillingAccountName": BILLING_ACCOUNT_NAME,
    "BillingProfileId": BILLING_ACCOUNT_ID,
    "BillingProfileName": BILLING_ACCOUNT_NAME,
    "BillingCurrencyCode": CURRENCY,
    "IsAzureCreditEligible": "True",
}

# region id, ResourceLocation, meter region / product suffix, price factor, share of resources
_REGIONS = (
    ("eastus", "EastUS", "US East", 1.0, 0.75),
    ("westeurope", "WestEurope", "EU West", 1.08, 0.25),
)

# Pay-as-you-go price of a Standard_ND96isr_H100_v5 (8 x H100) in East US, per hour.
ND_H100_PAYG_RATE = 98.32
# The 3-year reservation covering the committed host, paid monthly: effective hourly price and
# monthly payment. It was bought on the 15th, seven months before the estate starts
# (billing_primitives.commitment_start), and bills on that day each month.
RI_HOURLY_RATE = 61.4496
RI_MONTHLY_PAYMENT = round(RI_HOURLY_RATE * 8760 / 12, 2)
RI_PURCHASE_DAY = 15
RI_TERM_MONTHS = 36


@dataclass(frozen=True)
class _Meter:
    key: str
    weight: float
    product: str  # formatted with {region}
    category: str
    subcategory: str
    meter: str
    unit: str
    price: float
    consumed_service: str
    family: str
    resource: str  # vm | disk | storage | db
    amount: str  # vm_hours | monthly | vcore_hours | per_day
    size: tuple[float, float] = (1.0, 1.0)
    part_number: str = ""
    plan: str = ""
    service_type: str | None = None
    vcpus: int | None = None


_METERS: tuple[_Meter, ...] = (
    _Meter(
        "vm_d8s",
        16,
        "Virtual Machines Dsv5 Series - D8s v5 - {region}",
        "Virtual Machines",
        "Dsv5 Series",
        "D8s v5",
        "1 Hour",
        0.384,
        "Microsoft.Compute",
        "Compute",
        "vm",
        "vm_hours",
        part_number="AAK-71832",
        plan="D8s v5",
        service_type="Standard_D8s_v5",
        vcpus=8,
    ),
    _Meter(
        "vm_e4s",
        10,
        "Virtual Machines Esv5 Series - E4s v5 - {region}",
        "Virtual Machines",
        "Esv5 Series",
        "E4s v5",
        "1 Hour",
        0.252,
        "Microsoft.Compute",
        "Compute",
        "vm",
        "vm_hours",
        part_number="AAK-72231",
        plan="E4s v5",
        service_type="Standard_E4s_v5",
        vcpus=4,
    ),
    _Meter(
        "disk_p30",
        14,
        "Premium SSD Managed Disks - P30 LRS - {region}",
        "Storage",
        "Premium SSD Managed Disks",
        "P30 LRS Disk",
        "1/Month",
        135.17,
        "Microsoft.Compute",
        "Storage",
        "disk",
        "monthly",
        size=(1.0, 1.0),
        part_number="AAD-18152",
        plan="P30",
    ),
    _Meter(
        "blob_hot",
        16,
        "General Block Blob v2 - Hot LRS - {region}",
        "Storage",
        "General Block Blob v2",
        "Hot LRS Data Stored",
        "1 GB/Month",
        0.0184,
        "Microsoft.Storage",
        "Storage",
        "storage",
        "monthly",
        size=(100.0, 40_000.0),
        part_number="AAH-33427",
        plan="Hot",
    ),
    _Meter(
        "sql_gp",
        12,
        "SQL Database Single/Elastic Pool General Purpose - Compute Gen5 - {region}",
        "SQL Database",
        "Single/Elastic Pool General Purpose - Compute Gen5",
        "vCore",
        "1 Hour",
        0.2522,
        "Microsoft.Sql",
        "Databases",
        "db",
        "vcore_hours",
        size=(2.0, 8.0),
        part_number="AAD-34033",
        plan="General Purpose",
    ),
    _Meter(
        "bandwidth",
        14,
        "Rtn Preference: MGN - Data Transfer Out - Zone 1",
        "Bandwidth",
        "Rtn Preference: MGN",
        "Standard Data Transfer Out",
        "1 GB",
        0.087,
        "Microsoft.Compute",
        "Networking",
        "vm",
        "per_day",
        size=(20.0, 1.0),
        part_number="AAF-59412",
        plan="Standard",
    ),
)


def _tags_text(tags: list[tuple[str, str]]) -> str | None:
    """EA export tag text: "k": "v" pairs joined by commas, no enclosing braces."""
    if not tags:
        return None
    return ",".join(f'"{k}": "{v}"' for k, v in tags)


def _additional_info(service_type: str, vcpus: int) -> str:
    return json.dumps(
        {
            "UsageType": "ComputeHR",
            "ImageType": "Canonical",
            "ServiceType": service_type,
            "VMName": None,
            "VMProperties": None,
            "VCPUs": vcpus,
            "CPUs": 0,
        },
        separators=(",", ":"),
    )


class _Kinds:
    def __init__(self) -> None:
        self.rows: list[dict[str, str | None]] = []

    def add(self, **columns: str | None) -> int:
        unknown = set(columns) - set(_PER_KIND)
        if unknown:
            raise KeyError(f"not cost-details columns: {sorted(unknown)}")
        self.rows.append({**_ENROLLMENT, **columns})
        return len(self.rows) - 1

    def fragments(self) -> list[pa.Array]:
        """Each kind's fixed CSV text around the per-row fields: Date | Quantity, EffectivePrice,
        CostInBillingCurrency | BillingPeriodStartDate, BillingPeriodEndDate (see _write_run)."""
        cuts = [HEADER.index(c) for c in ("Date", "Quantity", "BillingPeriodStartDate")]
        spans = [
            (0, cuts[0]),  # ... ResourceLocation
            (cuts[0] + 1, cuts[1]),  # ProductName ... UnitOfMeasure
            (cuts[1] + 3, cuts[2]),  # CostCenter ... BillingCurrencyCode
            (cuts[2] + 2, len(HEADER)),  # BillingProfileId ... benefitName
        ]
        out: list[list[str]] = [[] for _ in spans]
        for row in self.rows:
            for i, (lo, hi) in enumerate(spans):
                text = _csv_fields([row.get(c) for c in HEADER[lo:hi]])
                out[i].append(text + "," if i == 0 else "," + text + ("\n" if i == len(spans) - 1 else ","))
        return [pa.array(values, pa.string()) for values in out]


@dataclass
class _Pool:
    kind: np.ndarray
    meter: np.ndarray
    size: np.ndarray
    price: np.ndarray


def _build_pool(spec: EstateSpec, kinds: _Kinds, pool: int) -> _Pool:
    rng = rng_for(spec.seed, PROVIDER, "resources")
    meter = weighted_choice(rng, pool, [m.weight for m in _METERS])
    region = weighted_choice(rng, pool, [r[4] for r in _REGIONS])
    owner = assign_ownership(rng, pool)
    meter_ids = {
        (i, g): guid(rng_for(spec.seed, PROVIDER, "meter", m.key, r[0]))
        for i, m in enumerate(_METERS)
        for g, r in enumerate(_REGIONS)
    }
    kind = np.zeros(pool, dtype=np.int64)
    size = np.zeros(pool)
    price = np.zeros(pool)
    for i in range(pool):
        m = _METERS[int(meter[i])]
        region_id, location, meter_region, factor, _ = _REGIONS[int(region[i])]
        team = TEAMS[int(owner.team[i])]
        subscription, subscription_name, cost_center = _SUBSCRIPTIONS[team]
        env = ("prod", "staging", "dev")[int(owner.env[i])]
        group = f"rg-{team}-{env}"
        if m.amount == "monthly":
            low, high = m.size
            size[i] = float(np.exp(rng.uniform(np.log(low), np.log(high)))) if high > low else low
        elif m.amount == "vcore_hours":
            size[i] = float(rng.choice([2.0, 4.0, 8.0]))
        elif m.amount == "per_day":
            size[i] = m.size[0] * float(rng.lognormal(0.0, 0.8))
        base = f"/subscriptions/{subscription}/resourceGroups/{group}/providers"
        if m.resource == "vm":
            name = f"vm-{team}-{i:05d}"
            resource_id = f"{base}/Microsoft.Compute/virtualMachines/{name}"
        elif m.resource == "disk":
            name = f"disk-{team}-{i:05d}"
            resource_id = f"{base}/Microsoft.Compute/disks/{name}"
        elif m.resource == "storage":
            name = f"st{team.replace('-', '')}{random_hex(rng, 8)}"
            resource_id = f"{base}/Microsoft.Storage/storageAccounts/{name}"
        else:
            server = f"sql-{team}-{i:05d}"
            name = server
            resource_id = f"{base}/Microsoft.Sql/servers/{server}/databases/db{i:05d}"
        price[i] = round(m.price * factor, 6)
        price_text = _money_text(price[i])
        kind[i] = kinds.add(
            SubscriptionId=subscription,
            SubscriptionName=subscription_name,
            ResourceGroup=group,
            ResourceLocation=location,
            ProductName=m.product.format(region=meter_region),
            MeterCategory=m.category,
            MeterSubCategory=m.subcategory,
            MeterId=meter_ids[(int(meter[i]), int(region[i]))],
            MeterName=m.meter,
            MeterRegion=meter_region,
            UnitOfMeasure=m.unit,
            CostCenter=cost_center,
            ConsumedService=m.consumed_service,
            ResourceId=resource_id,
            Tags=_tags_text(owner.tags(i)),
            AdditionalInfo=_additional_info(m.service_type, m.vcpus) if m.service_type and m.vcpus else None,
            ResourceName=name,
            UnitPrice=price_text,
            PublisherType="Azure",
            PublisherName="Microsoft",
            ChargeType="Usage",
            Frequency="UsageBased",
            PricingModel="OnDemand",
            PartNumber=m.part_number,
            PayGPrice=price_text,
            PlanName=m.plan,
            ServiceFamily=m.family,
        )
    return _Pool(kind=kind, meter=meter, size=size, price=price)


def _money_text(value: float) -> str:
    """Plain decimal text with at most 8 decimals (as decimal_text writes whole columns)."""
    return format(Decimal(repr(float(round_money(np.array([value]))[0]))).normalize(), "f")


def _csv_fields(values: list[str | None]) -> str:
    """Values as one CSV record without its line end (quoted only where needed, None -> empty)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()[:-1]


@dataclass(frozen=True)
class _Gpu:
    usage: int
    committed: bool


def _gpu_kinds(spec: EstateSpec, kinds: _Kinds) -> tuple[list[_Gpu], int | None]:
    """Kinds of the Azure GPU hosts' daily usage, and of the reservation's monthly purchase."""
    rng = rng_for(spec.seed, PROVIDER, "reservation")
    order_id, reservation_id = guid(rng), guid(rng)
    purchased = commitment_start(spec.start_month, RI_PURCHASE_DAY)
    reservation_name = f"ND96isr_H100_v5_RI_{purchased:%m-%d-%Y}"
    order_name = f"Reserved VM Instance, Standard_ND96isr_H100_v5, US East, {RI_TERM_MONTHS // 12} Years"
    benefit_id = f"/providers/Microsoft.Capacity/reservationOrders/{order_id}/reservations/{reservation_id}"
    meter_id = guid(rng_for(spec.seed, PROVIDER, "meter", "nd96isr_h100_v5"))
    payg = _money_text(ND_H100_PAYG_RATE)
    gpus: list[_Gpu] = []
    purchase: int | None = None
    for host in spec.fleet:
        if host.provider != PROVIDER:
            continue
        parts = host.resource_id.split("/")
        subscription = parts[2] if len(parts) > 2 else _SUBSCRIPTIONS["ml-research"][0]
        group = parts[4] if len(parts) > 4 else "rg-ml-train"
        common = dict(
            SubscriptionId=subscription,
            SubscriptionName=_SUBSCRIPTIONS["ml-research"][1],
            ResourceGroup=group,
            ResourceLocation="EastUS",
            ProductName="Virtual Machines NDsr H100 v5 Series - ND96isr H100 v5 - US East",
            MeterCategory="Virtual Machines",
            MeterSubCategory="NDsr H100 v5 Series",
            MeterId=meter_id,
            MeterName="ND96isr H100 v5",
            MeterRegion="US East",
            UnitOfMeasure="1 Hour",
            CostCenter=_SUBSCRIPTIONS["ml-research"][2],
            ConsumedService="Microsoft.Compute",
            ResourceId=host.resource_id,
            Tags=_tags_text(gpu_host_tags(host)),
            AdditionalInfo=_additional_info(host.instance_type, 96),
            ResourceName=host.hostname,
            UnitPrice=payg,
            PublisherType="Azure",
            PublisherName="Microsoft",
            ChargeType="Usage",
            Frequency="UsageBased",
            PartNumber="AAK-90215",
            PayGPrice=payg,
            PlanName="ND96isr H100 v5",
            ServiceFamily="Compute",
        )
        if host.committed:
            reservation = dict(
                ReservationId=reservation_id,
                ReservationName=reservation_name,
                ProductOrderId=order_id,
                ProductOrderName=order_name,
                Term=str(RI_TERM_MONTHS),
                benefitId=benefit_id,
                benefitName=reservation_name,
            )
            gpus.append(_Gpu(kinds.add(**common, **reservation, PricingModel="Reservation"), True))
            if purchase is None:
                purchase = kinds.add(
                    SubscriptionId=subscription,
                    SubscriptionName=_SUBSCRIPTIONS["ml-research"][1],
                    ResourceLocation="eastus",
                    ProductName="Virtual Machines NDsr H100 v5 Series - ND96isr H100 v5 - US East",
                    MeterCategory="Virtual Machines",
                    MeterSubCategory="NDsr H100 v5 Series",
                    MeterId=meter_id,
                    MeterName="ND96isr H100 v5",
                    MeterRegion="US East",
                    UnitOfMeasure="1 Hour",
                    CostCenter=_SUBSCRIPTIONS["ml-research"][2],
                    ConsumedService="Microsoft.Capacity",
                    ResourceId=benefit_id,
                    UnitPrice=_money_text(RI_MONTHLY_PAYMENT),
                    PublisherType="Azure",
                    ChargeType="Purchase",
                    Frequency="Recurring",
                    PricingModel="Reservation",
                    PayGPrice="0",
                    ServiceFamily="Compute",
                    **reservation,
                )
        else:
            gpus.append(_Gpu(kinds.add(**common, PricingModel="OnDemand"), False))
    return gpus, purchase


def write_azure_cost_details(out_dir: Path, spec: EstateSpec) -> BillingOutput:
    """Write the actual and amortized cost-details exports for every billing period of `spec`."""
    out = BillingOutput()
    kinds = _Kinds()
    n_usage = int(round(spec.line_items_per_month * 0.25))
    n_pool = pool_size(n_usage, 31)
    pool = _build_pool(spec, kinds, n_pool) if n_pool else None
    gpus, purchase_kind = _gpu_kinds(spec, kinds)
    fragments = kinds.fragments()

    for period in spec.billing_periods:
        label = layout.period_label(period)
        rng = rng_for(spec.seed, PROVIDER, label, "rows")
        days = days_in(period)
        rows = RowBuffer(("kind", "day"), ("quantity", "price_actual", "cost_actual", "price_amortized", "cost_amortized"))
        if pool is not None:
            day, res = sample_cells(rng, n_usage, n_pool, days)
            meter = pool.meter[res]
            quantity = np.zeros(len(res))
            for i, m in enumerate(_METERS):
                sel = meter == i
                k = int(sel.sum())
                if not k:
                    continue
                if m.amount == "vm_hours":
                    quantity[sel] = np.where(rng.random(k) < 0.85, 24.0, rng.integers(1, 24, k).astype(float))
                elif m.amount == "monthly":
                    quantity[sel] = pool.size[res[sel]] / days
                elif m.amount == "vcore_hours":
                    quantity[sel] = pool.size[res[sel]] * 24.0
                else:
                    quantity[sel] = pool.size[res[sel]] * lognormal_factor(rng, k, 0.9)
            quantity = round_money(quantity)
            price = pool.price[res]
            cost = round_money(quantity * price)
            rows.add(
                len(res),
                kind=pool.kind[res],
                day=day,
                quantity=quantity,
                price_actual=price,
                cost_actual=cost,
                price_amortized=price,
                cost_amortized=cost,
            )

        all_days = np.arange(days, dtype=np.int64)
        for gpu in gpus:
            if gpu.committed:
                amortized = round_money(np.full(days, 24 * RI_HOURLY_RATE))
                rows.add(
                    days,
                    kind=gpu.usage,
                    day=all_days,
                    quantity=24.0,
                    price_actual=0.0,
                    cost_actual=0.0,
                    price_amortized=RI_HOURLY_RATE,
                    cost_amortized=amortized,
                )
            else:
                on_demand = round_money(np.full(days, 24 * ND_H100_PAYG_RATE))
                rows.add(
                    days,
                    kind=gpu.usage,
                    day=all_days,
                    quantity=24.0,
                    price_actual=ND_H100_PAYG_RATE,
                    cost_actual=on_demand,
                    price_amortized=ND_H100_PAYG_RATE,
                    cost_amortized=on_demand,
                )
        if purchase_kind is not None:
            rows.add(
                1,
                kind=purchase_kind,
                day=min(RI_PURCHASE_DAY, days) - 1,
                quantity=1.0,
                price_actual=RI_MONTHLY_PAYMENT,
                cost_actual=RI_MONTHLY_PAYMENT,
                price_amortized=0.0,
                cost_amortized=0.0,
            )
        data = rows.arrays(("day", "kind"))

        key = (PROVIDER, BILLING_ACCOUNT_ID, label)
        for dataset, export_name in (("actual", layout.AZURE_ACTUAL_EXPORT), ("amortized", layout.AZURE_AMORTIZED_EXPORT)):
            files = _write_run(out_dir, period, export_name, dataset, data, fragments, spec)
            out.files.extend(files)
            out.count(f"azure_{dataset}", len(data["kind"]))
            total = exact_sum(data[f"cost_{dataset}"])
            if dataset == "actual":
                out.billed_cost[key] = total
            else:
                out.amortized_cost[key] = total
    return out


def _write_run(
    out_dir: Path,
    period: date,
    export_name: str,
    dataset: str,
    data: dict[str, np.ndarray],
    fragments: list[pa.Array],
    spec: EstateSpec,
) -> list[Path]:
    """One export run: CSV part files plus the run's manifest.json."""
    label = layout.period_label(period)
    run_id = guid(rng_for(spec.seed, PROVIDER, export_name, label, "run"))
    n = len(data["kind"])
    last_day = period + timedelta(days=days_in(period) - 1)
    day_text = pa.array([f"{period + timedelta(days=d):%m/%d/%Y}" for d in range(days_in(period))], pa.string())
    billing_period = f"{period:%m/%d/%Y},{last_day:%m/%d/%Y}"
    header = ",".join(HEADER) + "\n"
    parts = max(1, -(-n // ROWS_PER_FILE))
    files: list[Path] = []
    blobs = []
    for part in range(parts):
        rel = layout.azure_part_file(export_name, period, run_id, part + 1)
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        lo_part, hi_part = part * ROWS_PER_FILE, min(n, (part + 1) * ROWS_PER_FILE)
        with path.open("wb") as f:
            f.write(header.encode())
            for lo in range(lo_part, hi_part, TEXT_BATCH_ROWS):
                hi = min(hi_part, lo + TEXT_BATCH_ROWS)
                kind = pa.array(data["kind"][lo:hi])
                lines = join_text(
                    fragments[0].take(kind),
                    day_text.take(pa.array(data["day"][lo:hi])),
                    fragments[1].take(kind),
                    decimal_text(data["quantity"][lo:hi]),
                    ",",
                    decimal_text(data[f"price_{dataset}"][lo:hi]),
                    ",",
                    decimal_text(data[f"cost_{dataset}"][lo:hi]),
                    fragments[2].take(kind),
                    billing_period,
                    fragments[3].take(kind),
                )
                f.write(text_bytes(lines))
        files.append(path)
        blobs.append(
            {"blobName": layout.azure_blob_name(rel), "byteCount": os.path.getsize(path), "dataRowCount": hi_part - lo_part}
        )

    submitted = period + timedelta(days=days_in(period) + 1)
    minutes = int(rng_for(spec.seed, PROVIDER, export_name, label, "submitted").integers(0, 24 * 60))
    manifest = {
        "manifestVersion": "2024-04-01",
        "byteCount": sum(b["byteCount"] for b in blobs),
        "blobCount": len(blobs),
        "dataRowCount": n,
        "exportConfig": {
            "exportName": export_name,
            "resourceId": (
                f"/providers/Microsoft.Billing/billingAccounts/{BILLING_ACCOUNT_ID}"
                f"/providers/Microsoft.CostManagement/exports/{export_name}"
            ),
            "dataVersion": "2021-10-01",
            "apiVersion": "2023-07-01-preview",
            "type": "ActualCost" if dataset == "actual" else "AmortizedCost",
            "timeFrame": "Custom",
            "granularity": "Daily",
        },
        "deliveryConfig": {
            "partitionData": True,
            "dataOverwriteBehavior": "CreateNewReport",
            "fileFormat": "Csv",
            "compressionMode": "None",
            "containerUri": (
                "/subscriptions/7d3c1f52-3b1e-4c8a-9d2e-5a6b7c8d9e01/resourceGroups/rg-finops"
                "/providers/Microsoft.Storage/storageAccounts/atlasfinopsexports"
            ),
            "rootFolderPath": layout.AZURE_EXPORT_FOLDER,
        },
        "runInfo": {
            "executionType": "Scheduled",
            "submittedTime": f"{submitted:%Y-%m-%d}T{minutes // 60:02d}:{minutes % 60:02d}:00.0000000Z",
            "runId": run_id,
            "startDate": f"{period:%Y-%m-%d}T00:00:00",
            "endDate": f"{last_day:%Y-%m-%d}T00:00:00",
        },
        "blobs": blobs,
    }
    manifest_path = out_dir / layout.azure_manifest_file(export_name, period, run_id)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    files.append(manifest_path)
    return files
