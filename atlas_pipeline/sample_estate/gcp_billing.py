"""GCP Cloud Billing export (standard usage cost table) as BigQuery extracts it: newline-delimited
JSON, gzip, one folder per invoice month.

Each line has the BigQuery schema's fields, in its order: billing_account_id, service{id,
description}, sku{id, description}, usage_start_time, usage_end_time, project{id, number, name,
labels, ancestry_numbers}, labels[{key, value}], system_labels[{key, value}], location{location,
country, region, zone}, resource{name, global_name}, export_time, cost, currency,
currency_conversion_rate, usage{amount, unit, amount_in_pricing_units, pricing_unit},
credits[{name, amount, full_name, id, type}], invoice{month}, cost_type, adjustment_info{id,
description, mode, type}, cost_at_list. TIMESTAMPs are written as BigQuery's JSON export writes
them ("2026-08-01 00:00:00 UTC"); cost and credit amounts are rounded to 6 decimals.

`resource` is a field of the *detailed* (resource-level) export, not of the standard one; it is
included because the standard export has no other place for the GPU host's instance id, which
GPU cost allocation joins on.

What a month contains:
- Non-GPU usage (N2 and E2 VM cores and RAM, SSD persistent disk, Cloud Storage, BigQuery
  analysis, internet egress), hourly, ~10% of resources without labels.
- The a3-highgpu-8g host billed hourly as three SKUs: H100 GPUs, A3 cores and A3 RAM.
- Credits as nested lists: SUSTAINED_USAGE_DISCOUNT on N2, COMMITTED_USAGE_DISCOUNT on the web
  project's E2 usage (with its hourly commitment fees), PROMOTION on a share of the data project.
- cost_type "tax" rows per project and service.

Totals per (gcp, billing account, invoice month): billed = amortized = Σ cost + Σ credits.amount.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from atlas_pipeline.sample_estate import layout
from atlas_pipeline.sample_estate.billing_primitives import (
    HOUR_US,
    TEXT_BATCH_ROWS,
    BillingOutput,
    RowBuffer,
    assign_ownership,
    decimal_text,
    epoch_us,
    exact_sum,
    gpu_host_tags,
    hours_in,
    join_text,
    lognormal_factor,
    next_month,
    pool_size,
    random_hex,
    rng_for,
    round_money,
    sample_cells,
    text_bytes,
    weighted_choice,
)
from atlas_pipeline.sample_estate.spec import TEAMS, EstateSpec

PROVIDER = "gcp"
BILLING_ACCOUNT_ID = "01A2B3-C4D5E6-F7A8B9"
ORGANIZATION_NUMBER = "734019285566"
MONEY_PLACES = 6
TAX_RATE = 0.06
SUD_SHARE = 0.20  # sustained-use discount on N2 usage that runs all month
CUD_FEE_SHARE = 0.63  # a 1-year resource-based commitment costs 63% of on-demand
PROMOTION_SHARE = 0.04  # share of the data project's lines paid by promotional credits
# Lines per extract shard. `bq extract` splits a large table over numbered files; a reader takes
# one gzip file per thread, so a month in several shards is also read in parallel.
SHARD_ROWS = 400_000

_GIB = float(2**30)
_TIB = float(2**40)

# project id -> (number, ancestry folder)
_PROJECTS: dict[str, tuple[str, str]] = {
    "atlas-ml-prod": ("482901736512", "271004912803"),
    "atlas-data-prod": ("593012847623", "271004912803"),
    "atlas-web-prod": ("604123958734", "382115023914"),
    "atlas-search-prod": ("715234069845", "382115023914"),
}
_TEAM_PROJECT = {
    "ml-research": "atlas-ml-prod",
    "ml-platform": "atlas-ml-prod",
    "data-eng": "atlas-data-prod",
    "web": "atlas-web-prod",
    "search": "atlas-search-prod",
}
_CUD_PROJECT = "atlas-web-prod"
_PROMOTION_PROJECT = "atlas-data-prod"

_COMPUTE = ("6F81-5844-456A", "Compute Engine")
_STORAGE = ("95FF-2EF5-5EA1", "Cloud Storage")
_BIGQUERY = ("24E6-581D-38E5", "BigQuery")
_NETWORKING = ("E505-1604-58F8", "Networking")

_SERVICES = (_COMPUTE, _STORAGE, _BIGQUERY, _NETWORKING)

# region, zones, share of resources
_REGIONS = (("us-central1", ("a", "b", "c", "f"), 0.7), ("us-east4", ("a", "b", "c"), 0.3))


@dataclass(frozen=True)
class _Sku:
    """One SKU of non-GPU usage and how its amounts are produced."""

    key: str
    weight: float
    service: tuple[str, str]
    sku_id: str
    description: str
    unit: str  # usage.unit
    pricing_unit: str  # usage.pricing_unit
    rate: float  # USD per pricing unit
    amount: str  # vm (per-resource size each hour) | monthly (size spread over the month) | per_hour
    size: tuple[float, float]  # vm: (size, 0); monthly: (low, high); per_hour: (median, sigma)
    resource: str  # vm | disk | bucket | none
    machine: tuple[str, int, int] | None = None  # machine type, cores, memory MiB
    discount: str | None = None  # sud | cud


_SKUS: tuple[_Sku, ...] = (
    _Sku(
        "n2_core",
        10,
        _COMPUTE,
        "BB77-5FDA-69D9",
        "N2 Instance Core running in Americas",
        "seconds",
        "hour",
        0.031611,
        "vm",
        (8.0, 0.0),
        "vm",
        ("n2-standard-8", 8, 32768),
        "sud",
    ),
    _Sku(
        "n2_ram",
        10,
        _COMPUTE,
        "5B01-D157-A097",
        "N2 Instance Ram running in Americas",
        "byte-seconds",
        "gibibyte hour",
        0.004237,
        "vm",
        (32.0, 0.0),
        "vm",
        ("n2-standard-8", 8, 32768),
        "sud",
    ),
    _Sku(
        "e2_core",
        9,
        _COMPUTE,
        "CF4E-A0C7-E3BF",
        "E2 Instance Core running in Americas",
        "seconds",
        "hour",
        0.021811,
        "vm",
        (4.0, 0.0),
        "vm",
        ("e2-standard-4", 4, 16384),
        "cud",
    ),
    _Sku(
        "e2_ram",
        9,
        _COMPUTE,
        "F449-33EC-A5EF",
        "E2 Instance Ram running in Americas",
        "byte-seconds",
        "gibibyte hour",
        0.002923,
        "vm",
        (16.0, 0.0),
        "vm",
        ("e2-standard-4", 4, 16384),
        "cud",
    ),
    _Sku(
        "pd_ssd",
        10,
        _COMPUTE,
        "B188-61DD-52E4",
        "SSD backed PD Capacity",
        "byte-seconds",
        "gibibyte month",
        0.17,
        "monthly",
        (100.0, 2000.0),
        "disk",
    ),
    _Sku(
        "gcs_standard",
        14,
        _STORAGE,
        "E5F0-6A5D-7BAD",
        "Standard Storage US Multi-region",
        "byte-seconds",
        "gibibyte month",
        0.026,
        "monthly",
        (100.0, 50_000.0),
        "bucket",
    ),
    _Sku(
        "bq_analysis",
        14,
        _BIGQUERY,
        "3362-E469-6BEE",
        "Analysis",
        "bytes",
        "tebibyte",
        6.25,
        "per_hour",
        (60.0 * _GIB, 1.3),
        "none",
    ),
    _Sku(
        "egress",
        14,
        _NETWORKING,
        "9DE9-9092-B3BC",
        "Network Internet Data Transfer Out from Americas to Americas",
        "bytes",
        "gibibyte",
        0.12,
        "per_hour",
        (2.0 * _GIB, 1.0),
        "vm",
    ),
)

# The a3-highgpu-8g host: three SKUs per hour (id, description, unit, pricing unit, rate, quantity
# in pricing units per hour, usage amount per hour).
_A3_MACHINE = ("a3-highgpu-8g", 208, 1872 * 1024)
_A3_SKUS = (
    ("039F-D0DA-4055", "Nvidia H100 80GB GPU running in Americas", "seconds", "hour", 9.11, 8.0, 8 * 3600.0),
    ("E7A8-6A5C-1D9C", "A3 Instance Core running in Americas", "seconds", "hour", 0.033977, 208.0, 208 * 3600.0),
    (
        "A0F2-F7D6-32B1",
        "A3 Instance Ram running in Americas",
        "byte-seconds",
        "gibibyte hour",
        0.004554,
        1872.0,
        1872 * _GIB * 3600.0,
    ),
)
_CUD_FEES = (
    ("B2E3-4A7C-9F10", "Commitment v1: E2 Cpu in Americas for 1 Year", "seconds", "hour", "e2_core"),
    ("C3F4-5B8D-A021", "Commitment v1: E2 Ram in Americas for 1 Year", "byte-seconds", "gibibyte hour", "e2_ram"),
)


class _Kinds:
    """Fixed attributes of each line kind (one resource's SKU, one GPU SKU, one tax line...)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []
        self.tax_group: list[int] = []  # project x service the line is taxed in

    def add(
        self,
        *,
        service: tuple[str, str],
        sku: tuple[str | None, str],
        project: str,
        labels: list[tuple[str, str]],
        system_labels: list[tuple[str, str]] = (),
        location: tuple[str, str | None, str | None, str | None],
        resource: tuple[str, str] | None = None,
        cost_type: str = "regular",
        unit: str | None = None,
        pricing_unit: str | None = None,
    ) -> int:
        number, folder = _PROJECTS[project]
        self.rows.append(
            {
                "service": {"id": service[0], "description": service[1]},
                "sku": {"id": sku[0], "description": sku[1]},
                "project": {
                    "id": project,
                    "number": number,
                    "name": project,
                    "labels": [{"key": "environment", "value": "prod"}],
                    "ancestry_numbers": f"/{ORGANIZATION_NUMBER}/{folder}/",
                },
                "labels": [{"key": k, "value": v} for k, v in labels],
                "system_labels": [{"key": k, "value": v} for k, v in system_labels],
                "location": dict(zip(("location", "country", "region", "zone"), location, strict=True)),
                "resource": None if resource is None else {"name": resource[0], "global_name": resource[1]},
                "cost_type": cost_type,
                "unit": unit,
                "pricing_unit": pricing_unit,
            }
        )
        self.tax_group.append(list(_PROJECTS).index(project) * len(_SERVICES) + _SERVICES.index(service))
        return len(self.rows) - 1

    def fragments(self) -> dict[str, pa.Array]:
        """Each kind's fixed JSON text between the per-row values of a line (see _write_period)."""

        def dump(value: object) -> str:
            return json.dumps(value, separators=(",", ":"))

        head, middle, unit, pricing_unit, tail = [], [], [], [], []
        for row in self.rows:
            head.append(
                f'{{"billing_account_id":{dump(BILLING_ACCOUNT_ID)},"service":{dump(row["service"])},'
                f'"sku":{dump(row["sku"])},"usage_start_time":"'
            )
            middle.append(
                ",".join(f'"{k}":{dump(row[k])}' for k in ("project", "labels", "system_labels", "location", "resource"))
                + ',"export_time":"'
            )
            unit.append(f'{dump(row["unit"])},"amount_in_pricing_units":')
            pricing_unit.append(f'{dump(row["pricing_unit"])}}},"credits":[')
            tail.append(f'"cost_type":{dump(row["cost_type"])},"adjustment_info":null,"cost_at_list":')
        return {
            "head": pa.array(head, pa.string()),
            "middle": pa.array(middle, pa.string()),
            "unit": pa.array(unit, pa.string()),
            "pricing_unit": pa.array(pricing_unit, pa.string()),
            "tail": pa.array(tail, pa.string()),
        }


def _machine_labels(machine: tuple[str, int, int]) -> list[tuple[str, str]]:
    name, cores, memory = machine
    return [
        ("compute.googleapis.com/machine_spec", name),
        ("compute.googleapis.com/cores", str(cores)),
        ("compute.googleapis.com/memory", str(memory)),
    ]


@dataclass
class _Pool:
    kind: np.ndarray
    sku: np.ndarray
    size: np.ndarray
    project: np.ndarray  # index into list(_PROJECTS)


def _build_pool(spec: EstateSpec, kinds: _Kinds, pool: int) -> _Pool:
    rng = rng_for(spec.seed, PROVIDER, "resources")
    sku = weighted_choice(rng, pool, [s.weight for s in _SKUS])
    region = weighted_choice(rng, pool, [r[2] for r in _REGIONS])
    owner = assign_ownership(rng, pool)
    size = np.zeros(pool)
    kind = np.zeros(pool, dtype=np.int64)
    project_idx = np.zeros(pool, dtype=np.int64)
    projects = list(_PROJECTS)
    for i in range(pool):
        s = _SKUS[int(sku[i])]
        region_name, zones, _ = _REGIONS[int(region[i])]
        zone = f"{region_name}-{zones[int(rng.integers(0, len(zones)))]}"
        team = TEAMS[int(owner.team[i])]
        project = _TEAM_PROJECT[team]
        project_idx[i] = projects.index(project)
        if s.amount == "vm":
            size[i] = s.size[0]
        elif s.amount == "monthly":
            size[i] = float(np.exp(rng.uniform(np.log(s.size[0]), np.log(s.size[1]))))
        else:
            size[i] = s.size[0] * float(rng.lognormal(0.0, 0.8))
        name = f"{s.key.split('_')[0]}-{team}-{i:05d}"
        if s.resource == "vm":
            resource = (name, f"//compute.googleapis.com/projects/{project}/zones/{zone}/instances/{name}")
        elif s.resource == "disk":
            resource = (name, f"//compute.googleapis.com/projects/{project}/zones/{zone}/disks/{name}")
        elif s.resource == "bucket":
            bucket = f"atlas-{team}-{random_hex(rng, 8)}"
            resource = (bucket, f"//storage.googleapis.com/projects/_/buckets/{bucket}")
        else:
            resource = None
        if s.service == _STORAGE:
            location = ("us", "US", None, None)
        elif s.service == _BIGQUERY:
            location = ("US", "US", None, None)
        elif s.resource in ("vm", "disk"):
            location = (region_name, "US", region_name, zone)
        else:
            location = (region_name, "US", region_name, None)
        kind[i] = kinds.add(
            service=s.service,
            sku=(s.sku_id, s.description),
            project=project,
            labels=owner.tags(i),
            system_labels=_machine_labels(s.machine) if s.machine else [],
            location=location,
            resource=resource,
            unit=s.unit,
            pricing_unit=s.pricing_unit,
        )
    return _Pool(kind=kind, sku=sku, size=size, project=project_idx)


def _ts_text(us: np.ndarray) -> list[str]:
    return [s.replace("T", " ") + " UTC" for s in np.datetime_as_string(us.astype("datetime64[us]"), unit="s")]


def write_gcp_billing(out_dir: Path, spec: EstateSpec) -> BillingOutput:
    """Write one gzip'd JSON-lines extract per invoice month of `spec`."""
    out = BillingOutput()
    kinds = _Kinds()
    n_usage = int(round(spec.line_items_per_month * 0.25))
    n_pool = pool_size(n_usage, 31 * 24)
    pool = _build_pool(spec, kinds, n_pool) if n_pool else None
    sku_index = {s.key: i for i, s in enumerate(_SKUS)}

    gpu_kinds: list[int] = []
    for host in spec.fleet:
        if host.provider != PROVIDER:
            continue
        parts = host.resource_id.split("/")
        project = parts[1] if len(parts) > 1 and parts[1] in _PROJECTS else "atlas-ml-prod"
        zone = parts[3] if len(parts) > 3 else f"{host.region}-a"
        resource = (host.hostname, f"//compute.googleapis.com/{host.resource_id}")
        for sku_id, description, unit, pricing_unit, *_ in _A3_SKUS:
            gpu_kinds.append(
                kinds.add(
                    service=_COMPUTE,
                    sku=(sku_id, description),
                    project=project,
                    labels=gpu_host_tags(host),
                    system_labels=_machine_labels(_A3_MACHINE),
                    location=(host.region, "US", host.region, zone),
                    resource=resource,
                    unit=unit,
                    pricing_unit=pricing_unit,
                )
            )
    cud_fee_kinds = [
        kinds.add(
            service=_COMPUTE,
            sku=(sku_id, description),
            project=_CUD_PROJECT,
            labels=[],
            location=("us-central1", "US", "us-central1", None),
            unit=unit,
            pricing_unit=pricing_unit,
        )
        for sku_id, description, unit, pricing_unit, _ in _CUD_FEES
    ]
    # One tax line per project and service (kinds.tax_group numbers them in the same order).
    tax_kinds: list[int] = []
    for project in _PROJECTS:
        for service in _SERVICES:
            tax_kinds.append(
                kinds.add(
                    service=service,
                    sku=(None, "Tax"),
                    project=project,
                    labels=[],
                    location=("us", "US", None, None),
                    cost_type="tax",
                )
            )
    fragments = kinds.fragments()
    kind_tax_group = np.array(kinds.tax_group, dtype=np.int64)

    for period in spec.billing_periods:
        label = layout.period_label(period)
        rng = rng_for(spec.seed, PROVIDER, label, "rows")
        hours = hours_in(period)
        t0 = epoch_us(period)
        rows = RowBuffer(
            ("kind", "start", "end"),
            ("amount", "pricing_amount", "cost", "cost_at_list", "sud", "cud", "promotion"),
        )
        if pool is not None:
            hour, res = sample_cells(rng, n_usage, n_pool, hours)
            sku = pool.sku[res]
            size = pool.size[res]
            pricing = np.zeros(len(res))
            usage = np.zeros(len(res))
            for i, s in enumerate(_SKUS):
                m = sku == i
                k = int(m.sum())
                if not k:
                    continue
                if s.amount == "vm":
                    # Most VM-hours run the full hour; some start or stop within it.
                    fraction = np.where(rng.random(k) < 0.9, 1.0, rng.uniform(0.05, 1.0, k))
                    pricing[m] = size[m] * fraction
                    usage[m] = pricing[m] * 3600.0 * (_GIB if s.unit == "byte-seconds" else 1.0)
                elif s.amount == "monthly":
                    pricing[m] = size[m] / hours
                    usage[m] = size[m] * _GIB * 3600.0
                else:
                    usage[m] = np.rint(size[m] * lognormal_factor(rng, k, s.size[1]))
                    pricing[m] = usage[m] / (_TIB if s.pricing_unit == "tebibyte" else _GIB)
            rates = np.array([s.rate for s in _SKUS])[sku]
            cost = round_money(pricing * rates, MONEY_PLACES)
            # Credits, each a negative amount on the row it discounts.
            sud = np.where(
                np.isin(sku, [sku_index["n2_core"], sku_index["n2_ram"]]),
                round_money(-cost * SUD_SHARE, MONEY_PLACES),
                np.nan,
            )
            in_cud = np.isin(sku, [sku_index["e2_core"], sku_index["e2_ram"]]) & (
                pool.project[res] == list(_PROJECTS).index(_CUD_PROJECT)
            )
            cud = np.where(in_cud, -cost, np.nan)
            promoted = (pool.project[res] == list(_PROJECTS).index(_PROMOTION_PROJECT)) & (
                rng.random(len(res)) < PROMOTION_SHARE
            )
            promotion = np.where(promoted, -(cost + np.nan_to_num(sud)), np.nan)
            promotion = np.where(promoted, round_money(promotion, MONEY_PLACES), np.nan)
            rows.add(
                len(res),
                kind=pool.kind[res],
                start=t0 + hour * HOUR_US,
                end=t0 + (hour + 1) * HOUR_US,
                amount=np.round(usage, 6),
                pricing_amount=np.round(pricing, 9),
                cost=cost,
                cost_at_list=cost,
                sud=sud,
                cud=cud,
                promotion=promotion,
            )
            # The commitment's fees: the covered E2 usage at the committed price, per hour.
            for fee_kind, (*_, sku_key) in zip(cud_fee_kinds, _CUD_FEES, strict=True):
                covered = in_cud & (sku == sku_index[sku_key])
                per_hour = np.bincount(hour[covered], weights=pricing[covered], minlength=hours)
                used = np.flatnonzero(per_hour > 0)
                if len(used):
                    s = _SKUS[sku_index[sku_key]]
                    scale = 3600.0 * (_GIB if s.unit == "byte-seconds" else 1.0)
                    rows.add(
                        len(used),
                        kind=fee_kind,
                        start=t0 + used * HOUR_US,
                        end=t0 + (used + 1) * HOUR_US,
                        amount=np.round(per_hour[used] * scale, 6),
                        pricing_amount=np.round(per_hour[used], 9),
                        cost=(fee := round_money(per_hour[used] * s.rate * CUD_FEE_SHARE, MONEY_PLACES)),
                        cost_at_list=fee,
                    )

        # The GPU host: each of its three SKUs, every hour.
        hour = np.arange(hours, dtype=np.int64)
        for j, gk in enumerate(gpu_kinds):
            _, _, _, _, rate, quantity, usage_amount = _A3_SKUS[j % len(_A3_SKUS)]
            rows.add(
                hours,
                kind=gk,
                start=t0 + hour * HOUR_US,
                end=t0 + (hour + 1) * HOUR_US,
                amount=usage_amount,
                pricing_amount=quantity,
                cost=(gpu_cost := round_money(np.full(hours, quantity * rate), MONEY_PLACES)),
                cost_at_list=gpu_cost,
            )

        # Tax on each project's and service's net charges.
        data = rows.arrays(("start", "kind"))
        net = data["cost"] + np.nan_to_num(data["sud"]) + np.nan_to_num(data["cud"]) + np.nan_to_num(data["promotion"])
        t1 = epoch_us(next_month(period))
        base = np.bincount(kind_tax_group[data["kind"]], weights=net, minlength=len(tax_kinds))
        for group, tax_kind in enumerate(tax_kinds):
            if base[group] > 0:
                rows.add(1, kind=tax_kind, start=t0, end=t1, cost=round(float(base[group]) * TAX_RATE, 2))
        data = rows.arrays(("start", "kind"))

        out.files.extend(_write_period(out_dir, period, data, fragments, spec))
        out.count("gcp_billing", len(data["kind"]))
        key = (PROVIDER, BILLING_ACCOUNT_ID, label)
        total = (
            exact_sum(data["cost"], MONEY_PLACES)
            + exact_sum(data["sud"], MONEY_PLACES)
            + exact_sum(data["cud"], MONEY_PLACES)
            + exact_sum(data["promotion"], MONEY_PLACES)
        )
        out.billed_cost[key] = total
        out.amortized_cost[key] = total
    return out


def _credits_text(data: dict[str, np.ndarray], promotion_id: str) -> pa.Array:
    """Each row's credits as the JSON list body: objects {name, amount, full_name, id, type}, in the
    order SUD, CUD, promotion; "" for rows without credits."""
    n = len(data["kind"])
    kinds = (
        ("sud", {"name": "Sustained Usage Discount", "full_name": None, "id": None, "type": "SUSTAINED_USAGE_DISCOUNT"}),
        ("cud", {"name": "Committed Usage Discount: E2", "full_name": None, "id": None, "type": "COMMITTED_USAGE_DISCOUNT"}),
        (
            "promotion",
            {"name": "Google for Startups Cloud Program", "full_name": None, "id": promotion_id, "type": "PROMOTION"},
        ),
    )
    rows, positions, amounts = [], [], []
    for position, (field_name, _) in enumerate(kinds):
        present = np.flatnonzero(~np.isnan(data[field_name]))
        rows.append(present)
        positions.append(np.full(len(present), position))
        amounts.append(data[field_name][present])
    row = np.concatenate(rows)
    position = np.concatenate(positions)
    amount = np.concatenate(amounts)
    order = np.lexsort((position, row))
    row, position, amount = row[order], position[order], amount[order]

    def part(c: dict[str, str | None], key: str) -> str:
        return f'"{key}":{json.dumps(c[key])}'

    before = pa.array([f'{{{part(c, "name")},"amount":' for _, c in kinds], pa.string())
    after = pa.array([f",{part(c, 'full_name')},{part(c, 'id')},{part(c, 'type')}}}" for _, c in kinds], pa.string())
    take = pa.array(position.astype(np.int64))
    objects = join_text(before.take(take), decimal_text(amount, MONEY_PLACES), after.take(take))
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(row, minlength=n), out=offsets[1:])
    return pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), objects), ",")


def _write_period(
    out_dir: Path, period: date, data: dict[str, np.ndarray], fragments: dict[str, pa.Array], spec: EstateSpec
) -> list[Path]:
    """The month's extract: JSON lines assembled from each kind's fixed text and the row's values,
    in shards of SHARD_ROWS lines, as `bq extract` to a wildcard URI writes a large table."""
    label = layout.period_label(period)
    n = len(data["kind"])
    # Distinct timestamps (hours, month bounds) are formatted once, then looked up.
    stamps, inverse = np.unique(np.concatenate([data["start"], data["end"]]), return_inverse=True)
    stamp_text = pa.array(_ts_text(stamps), pa.string())
    # BigQuery loads each hour's usage a few hours after it ends.
    lag_rng = rng_for(spec.seed, PROVIDER, label, "export_time")
    lag = (3 * 3600 + lag_rng.integers(0, 4 * 3600, size=len(stamps))) * 1_000_000
    export_text = pa.array(_ts_text(stamps + lag), pa.string())
    promotion_id = f"PromotionCredit-{random_hex(rng_for(spec.seed, PROVIDER, 'promotion'), 12)}"
    credits = _credits_text(data, promotion_id)
    invoice = f'],"invoice":{{"month":"{period.year:04d}{period.month:02d}"}},'
    paths = []
    for shard, shard_lo in enumerate(range(0, max(n, 1), SHARD_ROWS)):
        path = out_dir / layout.gcp_billing_file(period, BILLING_ACCOUNT_ID, shard)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_shard(path, range(shard_lo, min(n, shard_lo + SHARD_ROWS)), data, fragments, stamp_text, inverse,
                     export_text, credits, invoice)  # fmt: skip
        paths.append(path)
    return paths


def _write_shard(
    path: Path,
    span: range,
    data: dict[str, np.ndarray],
    fragments: dict[str, pa.Array],
    stamp_text: pa.Array,
    inverse: np.ndarray,
    export_text: pa.Array,
    credits: pa.Array,
    invoice: str,
) -> None:
    n = len(data["kind"])
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as gz:
        for lo in range(span.start, span.stop, TEXT_BATCH_ROWS):
            hi = min(span.stop, lo + TEXT_BATCH_ROWS)
            kind = pa.array(data["kind"][lo:hi])
            start = stamp_text.take(pa.array(inverse[lo:hi]))
            end_idx = pa.array(inverse[n + lo : n + hi])
            cost = decimal_text(data["cost"][lo:hi], MONEY_PLACES)
            lines = join_text(
                fragments["head"].take(kind), start, '","usage_end_time":"', stamp_text.take(end_idx), '",',
                fragments["middle"].take(kind), export_text.take(end_idx), '","cost":', cost,
                ',"currency":"USD","currency_conversion_rate":1.0,"usage":{"amount":',
                decimal_text(data["amount"][lo:hi], 0).fill_null("null"), ',"unit":',
                fragments["unit"].take(kind),
                decimal_text(data["pricing_amount"][lo:hi], 9).fill_null("null"), ',"pricing_unit":',
                fragments["pricing_unit"].take(kind), credits.slice(lo, hi - lo), invoice,
                fragments["tail"].take(kind), decimal_text(data["cost_at_list"][lo:hi], MONEY_PLACES).fill_null("null"),
                "}\n",
            )  # fmt: skip
            gz.write(text_bytes(lines))
