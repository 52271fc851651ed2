"""Slices of the rpt_* report models: the queries the dashboard and the offline overview share.

The definitions (what spend is, which charges make the trend, month-over-month, used vs idle GPU
cost, utilization and coverage, which budget row counts) live in the dbt models under
dbt_project/models/reports; this module only filters and groups them. Money is summed as DECIMAL and
rounded to the cent in SQL; Python never does arithmetic on it. Every function returns a `Query`
(SQL and parameters); `rows()` runs one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

SCHEMA = "reports"
TOP_N = 10

# The spend dimensions people filter and group by: label -> rpt_spend_* column.
SPEND_DIMENSIONS: dict[str, str] = {
    "provider": "provider_name",
    "billing account": "billing_account_id",
    "sub account": "sub_account_id",
    "service": "service_name",
    "region": "region_id",
    "team": "team",
    "charge category": "charge_category",
}


@dataclass(frozen=True)
class Query:
    """One SQL statement over the report models, with its parameters and a name (CSV file names)."""

    name: str
    sql: str
    params: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Slice:
    """What a reader selected: a period [start, end) (None = open) and values per dimension
    (column -> accepted values; an empty tuple or a missing column means all)."""

    start: date | None = None
    end: date | None = None
    values: tuple[tuple[str, tuple[str, ...]], ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, start: date | None = None, end: date | None = None, **values: Sequence[str]) -> Slice:
        return cls(start, end, tuple((column, tuple(v)) for column, v in sorted(values.items()) if v))

    def where(self, date_column: str | None, columns: Sequence[str] | None = None) -> tuple[str, list[Any]]:
        """A SQL condition (never empty) and its parameters. `columns` limits the dimension filters
        to the columns a model has; a date column of None skips the period."""
        parts, params = ["true"], []
        if date_column and self.start:
            parts.append(f"{date_column} >= ?")
            params.append(self.start)
        if date_column and self.end:
            parts.append(f"{date_column} < ?")
            params.append(self.end)
        for column, accepted in self.values:
            if columns is not None and column not in columns:
                continue
            parts.append(f"{column} in ({', '.join('?' for _ in accepted)})")
            params.extend(accepted)
        return " and ".join(parts), params


def rows(con: duckdb.DuckDBPyConnection, query: Query) -> list[dict[str, Any]]:
    """Run a query; one dict per row, money as exact Decimals."""
    cursor = con.execute(query.sql, list(query.params))
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _whole_months(where: Slice) -> Slice:
    """The slice for monthly models: the months starting in [start's month, end)."""
    return Slice(where.start.replace(day=1) if where.start else None, where.end, where.values)


# --- spend ---------------------------------------------------------------------------------------

SPEND_COLUMNS = tuple(SPEND_DIMENSIONS.values())


def spend_period() -> Query:
    """First and last charge day, and how many providers."""
    return Query(
        "spend_period",
        f"select min(charge_date) as first_day, max(charge_date) as last_day, "
        f"count(distinct provider_name) as providers from {SCHEMA}.rpt_spend_daily",
    )


def spend_options(column: str) -> Query:
    """The values a spend filter offers."""
    assert column in SPEND_COLUMNS or column == "billing_month", column
    return Query(
        f"options_{column}",
        f"select distinct {column} as value from {SCHEMA}.rpt_spend_daily where {column} is not null order by 1",
    )


def spend_totals(where: Slice) -> Query:
    """Billed and effective cost of the slice, in the reporting currency."""
    condition, params = where.where("charge_date", SPEND_COLUMNS)
    return Query(
        "spend_totals",
        f"""select any_value(reporting_currency) as reporting_currency,
                   round(coalesce(sum(billed_cost_reporting), 0), 2) as billed_cost,
                   round(coalesce(sum(effective_cost_reporting), 0), 2) as effective_cost
            from {SCHEMA}.rpt_spend_daily where {condition}""",
        tuple(params),
    )


def spend_by(column: str, where: Slice, limit: int | None = None) -> Query:
    """Billed and effective cost of the slice per value of one dimension (reporting currency)."""
    assert column in SPEND_COLUMNS, column
    condition, params = where.where("charge_date", SPEND_COLUMNS)
    return Query(
        f"spend_by_{column}",
        f"""select {column}, reporting_currency,
                   round(sum(billed_cost_reporting), 2) as billed_cost,
                   round(sum(effective_cost_reporting), 2) as effective_cost
            from {SCHEMA}.rpt_spend_daily where {condition}
            group by all order by effective_cost desc, {column}
            {f'limit {int(limit)}' if limit else ''}""",
        tuple(params),
    )


def spend_by_provider_currency(where: Slice = Slice()) -> Query:
    """Per provider and billing currency: billed and effective in the billing currency, effective in
    the reporting currency (the overview's totals table)."""
    condition, params = where.where("charge_date", SPEND_COLUMNS)
    return Query(
        "spend_by_provider",
        f"""select provider_name, billing_currency,
                   round(sum(billed_cost), 2) as billed_cost,
                   round(sum(effective_cost), 2) as effective_cost,
                   reporting_currency,
                   round(sum(effective_cost_reporting), 2) as effective_cost_reporting
            from {SCHEMA}.rpt_spend_daily where {condition}
            group by all order by effective_cost_reporting desc, provider_name, billing_currency""",
        tuple(params),
    )


def spend_daily(where: Slice, column: str = "provider_name", trend_only: bool = False) -> Query:
    """Daily billed and effective cost (reporting currency) per value of one dimension; with
    `trend_only`, credits and one-off purchases are left out (is_spend_trend)."""
    assert column in SPEND_COLUMNS, column
    condition, params = where.where("charge_date", SPEND_COLUMNS)
    trend = " and is_spend_trend" if trend_only else ""
    return Query(
        f"spend_daily_by_{column}",
        f"""select charge_date, {column}, reporting_currency,
                   round(sum(billed_cost_reporting), 2) as billed_cost,
                   round(sum(effective_cost_reporting), 2) as effective_cost
            from {SCHEMA}.rpt_spend_daily where {condition}{trend}
            group by all order by charge_date, {column}""",
        tuple(params),
    )


def spend_monthly(where: Slice, column: str | None = None) -> Query:
    """Per month (and per value of `column`): effective and billed cost in the reporting currency,
    the same slice's previous month and the change, from rpt_spend_monthly. The period selects whole
    months: those starting in [start, end)."""
    if column:
        assert column in SPEND_COLUMNS, column
    condition, params = _whole_months(where).where("billing_month", SPEND_COLUMNS)
    key = f"{column}, " if column else ""
    return Query(
        f"spend_monthly{'_by_' + column if column else ''}",
        f"""select billing_month, {key}reporting_currency, bool_and(is_complete_month) as is_complete_month,
                   round(sum(billed_cost_reporting), 2) as billed_cost,
                   round(sum(effective_cost_reporting), 2) as effective_cost,
                   round(sum(effective_cost_reporting_previous_month), 2) as effective_cost_previous_month,
                   round(sum(effective_cost_reporting_change), 2) as effective_cost_change,
                   round(100 * sum(effective_cost_reporting_change)
                         / nullif(sum(effective_cost_reporting_previous_month), 0), 1) as change_pct
            from {SCHEMA}.rpt_spend_monthly where {condition}
            group by all order by billing_month{', effective_cost desc, ' + column if column else ''}""",
        tuple(params),
    )


def spend_resources(where: Slice, limit: int = 200) -> Query:
    """The drill-down: the slice's costliest resources (whole months starting in the period)."""
    condition, params = _whole_months(where).where("billing_month", SPEND_COLUMNS)
    return Query(
        "spend_resources",
        f"""select coalesce(resource_id, '(no resource)') as resource_id, any_value(resource_name) as resource_name,
                   any_value(resource_type) as resource_type, provider_name, service_name, region_id, team,
                   reporting_currency,
                   round(sum(billed_cost_reporting), 2) as billed_cost,
                   round(sum(effective_cost_reporting), 2) as effective_cost
            from {SCHEMA}.rpt_spend_resources_monthly where {condition}
            group by coalesce(resource_id, '(no resource)'), provider_name, service_name, region_id, team,
                     reporting_currency
            order by effective_cost desc, resource_id limit {int(limit)}""",
        tuple(params),
    )


# --- commitments ---------------------------------------------------------------------------------

COMMITMENT_COLUMNS = ("provider_name", "billing_account_id")


def commitment_utilization(where: Slice) -> Query:
    """Per commitment over the slice's months: used and unused cost, utilization, net savings."""
    condition, params = _whole_months(where).where("billing_month", COMMITMENT_COLUMNS)
    return Query(
        "commitment_utilization",
        f"""select provider_name, commitment_discount_type, commitment_discount_category,
                   commitment_discount_name, commitment_discount_id, billing_currency,
                   round(sum(used_cost), 2) as used_cost,
                   round(sum(unused_cost), 2) as unused_cost,
                   round(100 * sum(used_cost) / nullif(sum(used_cost) + sum(unused_cost), 0), 1) as utilization_pct,
                   round(sum(on_demand_equivalent_cost), 2) as on_demand_equivalent_cost,
                   round(sum(net_savings), 2) as net_savings,
                   round(sum(purchase_billed_cost), 2) as purchase_billed_cost
            from {SCHEMA}.rpt_commitment_utilization_monthly where {condition}
            group by all order by unused_cost desc, provider_name, commitment_discount_id""",
        tuple(params),
    )


def unused_commitment_total(where: Slice) -> Query:
    """Unused commitment cost of the slice, in the reporting currency."""
    condition, params = _whole_months(where).where("billing_month", COMMITMENT_COLUMNS)
    return Query(
        "unused_commitment_total",
        f"""select any_value(reporting_currency) as reporting_currency,
                   round(coalesce(sum(unused_cost_reporting), 0), 2) as unused_cost,
                   round(coalesce(sum(used_cost_reporting), 0), 2) as used_cost
            from {SCHEMA}.rpt_commitment_utilization_monthly where {condition}""",
        tuple(params),
    )


def commitment_coverage(where: Slice) -> Query:
    """Per provider and covering commitment type: share of the eligible usage (on-demand
    equivalent, ListCost) it covered over the slice's months."""
    condition, params = _whole_months(where).where("billing_month", ("provider_name",))
    return Query(
        "commitment_coverage",
        f"""select provider_name, billing_currency, commitment_discount_type,
                   round(sum(list_cost), 2) as list_cost,
                   round(100 * sum(list_cost)
                         / nullif(sum(sum(list_cost)) over (partition by provider_name, billing_currency), 0), 1)
                       as coverage_pct
            from {SCHEMA}.rpt_commitment_coverage_monthly where {condition}
            group by provider_name, billing_currency, commitment_discount_type
            order by provider_name, commitment_discount_type = 'On-demand', list_cost desc""",
        tuple(params),
    )


# --- GPU fleet -----------------------------------------------------------------------------------

GPU_COLUMNS = ("cluster", "team")


def gpu_options(column: str) -> Query:
    assert column in GPU_COLUMNS, column
    return Query(
        f"gpu_options_{column}",
        f"select distinct {column} as value from {SCHEMA}.rpt_gpu_cost_daily order by 1",
    )


def gpu_cost_by(columns: Sequence[str], where: Slice) -> Query:
    """GPU cost of the slice per cluster and/or team: paid, used, idle by cause, unmeasured, with
    GPU-hours and cost per GPU-hour (paid) and per active GPU-hour."""
    assert set(columns) <= set(GPU_COLUMNS), columns
    condition, params = where.where("usage_date", GPU_COLUMNS)
    keys = ", ".join(columns)
    return Query(
        f"gpu_cost_by_{'_'.join(columns)}",
        f"""select {keys}, currency,
                   round(sum(paid_cost), 2) as paid_cost,
                   round(sum(used_cost), 2) as used_cost,
                   round(sum(idle_cost_allocated_unused), 2) as idle_allocated_unused,
                   round(sum(idle_cost_unallocated), 2) as idle_unallocated,
                   round(sum(idle_cost), 2) as idle_cost,
                   round(sum(unmeasured_cost), 2) as unmeasured_cost,
                   round(sum(gpu_hours_allocated), 1) as gpu_hours_allocated,
                   round(sum(gpu_hours_active), 1) as gpu_hours_active,
                   round(sum(paid_cost) / nullif(
                       sum(gpu_hours_allocated) - sum(gpu_hours_unpriced) + sum(gpu_hours_unallocated), 0), 4)
                       as cost_per_gpu_hour,
                   round(sum(paid_cost) / nullif(sum(gpu_hours_active), 0), 4) as cost_per_active_gpu_hour
            from {SCHEMA}.rpt_gpu_cost_daily where {condition}
            group by all order by paid_cost desc, {keys}""",
        tuple(params),
    )


def gpu_cost_totals(where: Slice) -> Query:
    """Paid, used, idle (by cause) and unmeasured GPU cost of the slice, per currency."""
    condition, params = where.where("usage_date", GPU_COLUMNS)
    return Query(
        "gpu_cost_totals",
        f"""select currency,
                   round(sum(paid_cost), 2) as paid_cost,
                   round(sum(used_cost), 2) as used_cost,
                   round(sum(idle_cost_allocated_unused), 2) as idle_allocated_unused,
                   round(sum(idle_cost_unallocated), 2) as idle_unallocated,
                   round(sum(idle_cost), 2) as idle_cost,
                   round(sum(unmeasured_cost), 2) as unmeasured_cost
            from {SCHEMA}.rpt_gpu_cost_daily where {condition}
            group by all order by paid_cost desc""",
        tuple(params),
    )


def gpu_cost_month_over_month(month: date, where: Slice = Slice()) -> Query:
    """Per team and cluster in `month`: paid GPU cost, the month before, the change, and how much of
    it sat idle (allocated but unused, unallocated) — largest rise first."""
    condition, params = Slice(None, None, where.values).where(None, GPU_COLUMNS)
    return Query(
        "gpu_cost_month_over_month",
        f"""select team, cluster, currency,
                   round(sum(paid_cost), 2) as paid_cost,
                   round(sum(paid_cost_previous_month), 2) as paid_cost_previous_month,
                   round(sum(paid_cost_change), 2) as paid_cost_change,
                   round(sum(idle_cost), 2) as idle_cost,
                   round(sum(idle_cost_allocated_unused), 2) as idle_allocated_unused,
                   round(sum(idle_cost_unallocated), 2) as idle_unallocated,
                   round(100 * sum(idle_cost) / nullif(sum(paid_cost), 0), 1) as idle_pct
            from {SCHEMA}.rpt_gpu_cost_monthly where usage_month = ? and {condition}
            group by all order by paid_cost_change desc, team, cluster""",
        (month, *params),
    )


def gpu_months() -> Query:
    return Query(
        "gpu_months",
        f"select distinct usage_month as value, bool_and(is_complete_month) as is_complete_month "
        f"from {SCHEMA}.rpt_gpu_cost_monthly group by 1 order by 1 desc",
    )


def gpu_capacity_by_cluster(where: Slice) -> Query:
    """Capacity vs allocated vs active GPU-hours per cluster over the slice, with the ratios."""
    condition, params = where.where("usage_date", ("cluster",))
    return Query(
        "gpu_capacity_by_cluster",
        f"""select cluster, max(gpu_count) as gpus,
                   round(sum(gpu_hours_capacity), 1) as gpu_hours_capacity,
                   round(sum(gpu_hours_allocated), 1) as gpu_hours_allocated,
                   round(sum(gpu_hours_active), 1) as gpu_hours_active,
                   round(sum(gpu_hours_unallocated), 1) as gpu_hours_unallocated,
                   round(100 * sum(gpu_hours_allocated) / nullif(sum(gpu_hours_capacity), 0), 1) as allocated_pct,
                   round(100 * sum(gpu_hours_active) / nullif(sum(gpu_hours_capacity), 0), 1) as active_pct
            from {SCHEMA}.rpt_gpu_capacity_daily where {condition}
            group by cluster order by cluster""",
        tuple(params),
    )


def _gpu_hours_per_day(name: str, model: str, columns: Sequence[str], where: Slice) -> Query:
    """GPU-hours columns of a daily GPU report model per day, summed over the slice's clusters."""
    condition, params = where.where("usage_date", ("cluster",))
    sums = ",\n".join(f"round(sum({column}), 1) as {column}" for column in columns)
    return Query(
        name,
        f"""select usage_date,
            {sums}
            from {SCHEMA}.{model} where {condition}
            group by usage_date order by usage_date""",
        tuple(params),
    )


def gpu_capacity_daily(where: Slice) -> Query:
    """Capacity vs allocated vs active GPU-hours per day (summed over the slice's clusters)."""
    return _gpu_hours_per_day("gpu_capacity_daily", "rpt_gpu_capacity_daily",
                              ("gpu_hours_capacity", "gpu_hours_allocated", "gpu_hours_active"), where)


def gpu_utilization_heatmap(where: Slice = Slice()) -> Query:
    """Mean GPU activity (%) per host and day."""
    condition, params = where.where("usage_date", ("cluster",))
    return Query(
        "gpu_utilization",
        f"""select hostname, usage_date, round(100 * avg(mean_activity), 1) as utilization_pct
            from {SCHEMA}.rpt_gpu_utilization_daily where {condition}
            group by all order by hostname, usage_date""",
        tuple(params),
    )


def worst_gpus(where: Slice, limit: int = TOP_N) -> Query:
    """The GPUs with the most failed, then degraded days, fatal XIDs and stragglers in the slice."""
    condition, params = where.where("usage_date", ("cluster",))
    return Query(
        "worst_gpus",
        f"""select hostname, gpu_index, any_value(cluster) as cluster, any_value(gpu_model) as gpu_model,
                   sum(failed_day) as failed_days,
                   sum(degraded_day) as degraded_days,
                   sum(xid_fatal_errors) as xid_fatal_errors,
                   sum(straggler_episodes) as straggler_episodes,
                   sum(thermal_throttle_episodes) as thermal_throttle_episodes,
                   sum(power_throttle_episodes) as power_throttle_episodes,
                   round(min(sm_clock_vs_baseline), 3) as worst_clock_vs_baseline
            from {SCHEMA}.rpt_gpu_health_daily where {condition}
            group by hostname, gpu_index
            having sum(failed_day) + sum(degraded_day) > 0
            order by failed_days desc, degraded_days desc, xid_fatal_errors desc, straggler_episodes desc,
                     hostname, gpu_index
            limit {int(limit)}""",
        tuple(params),
    )


def gpu_events(hostname: str, gpu_index: int, where: Slice) -> Query:
    """One GPU's health events in the slice (and its node's, gpu_index NULL: power transients)."""
    condition, params = where.where("event_date", ("cluster",))
    return Query(
        f"gpu_events_{hostname}_{gpu_index}",
        f"""select event_date, event_type, started_at, ended_at, duration_seconds, measure_value, measure_unit,
                   job_key, detail
            from {SCHEMA}.rpt_gpu_health_events
            where hostname = ? and (gpu_index = ? or gpu_index is null) and {condition}
            order by started_at, event_type""",
        (hostname, gpu_index, *params),
    )


def gpu_hours_forecast(clusters: Sequence[str] = ()) -> Query:
    where = Slice.of(cluster=clusters)
    condition, params = where.where(None, ("cluster",))
    return Query(
        "gpu_hours_forecast",
        f"""select cluster, as_of_date, model_name, forecast_date,
                   round(point, 1) as point, round(lower_80, 1) as lower_80, round(upper_80, 1) as upper_80,
                   round(lower_95, 1) as lower_95, round(upper_95, 1) as upper_95
            from {SCHEMA}.rpt_forecast_gpu_hours_daily where {condition}
            order by cluster, forecast_date""",
        tuple(params),
    )


# --- GPU placement, idle causes, scores, fault drills (issue 22) -----------------------------------


def gpu_fragmentation_by_cluster(where: Slice) -> Query:
    """Per cluster over the slice: stranded GPU-hours and cost, and jobs placed wider than needed."""
    condition, params = where.where("usage_date", ("cluster",))
    return Query(
        "gpu_fragmentation_by_cluster",
        f"""select cluster, currency,
                   round(sum(gpu_hours_stranded), 1) as gpu_hours_stranded,
                   round(sum(stranded_cost), 2) as stranded_cost,
                   round(sum(gpu_hours_free_on_partly_used_nodes), 1) as gpu_hours_free_on_partly_used_nodes,
                   round(sum(gpu_hours_waited), 1) as gpu_hours_waited,
                   sum(multi_gpu_jobs_started) as multi_gpu_jobs_started,
                   sum(jobs_started_wider) as jobs_started_wider,
                   round(sum(gpu_hours_placed_wider), 1) as gpu_hours_placed_wider,
                   round(sum(cost_placed_wider), 2) as cost_placed_wider
            from {SCHEMA}.rpt_gpu_fragmentation_daily where {condition}
            group by all order by cluster, currency""",
        tuple(params),
    )


def gpu_fragmentation_daily(where: Slice) -> Query:
    """Stranded and placed-wider GPU-hours per day (summed over the slice's clusters)."""
    return _gpu_hours_per_day("gpu_fragmentation_daily", "rpt_gpu_fragmentation_daily",
                              ("gpu_hours_stranded", "gpu_hours_placed_wider", "gpu_hours_waited"), where)


def gpu_jobs_placed_wider(where: Slice, limit: int = 50) -> Query:
    """Multi-GPU jobs started in the slice that were placed wider than needed, costliest first."""
    condition, params = where.where("usage_date", GPU_COLUMNS)
    return Query(
        "gpu_jobs_placed_wider",
        f"""select job_key, cluster, team, started_at, job_gpus, wider_on,
                   nodes_used, fewest_nodes, racks_used, fewest_racks, leaf_switches_used, fewest_leaf_switches,
                   nvlink_domains_used, fewest_nvlink_domains, currency,
                   round(gpu_hours_allocated, 1) as gpu_hours, round(allocated_cost, 2) as allocated_cost
            from {SCHEMA}.rpt_gpu_job_placement where is_wider_than_needed and {condition}
            order by allocated_cost desc nulls last, job_key limit {int(limit)}""",
        tuple(params),
    )


def gpu_idle_causes(where: Slice, by: str | None = None) -> Query:
    """Allocated-but-idle GPU-hours and cost per cause (and per cluster or team), largest first."""
    assert by is None or by in GPU_COLUMNS, by
    condition, params = where.where("usage_date", GPU_COLUMNS)
    keys = f"{by}, " if by else ""
    return Query(
        f"gpu_idle_causes{'_by_' + by if by else ''}",
        f"""select {keys}idle_cause, currency,
                   round(sum(gpu_hours_idle), 1) as gpu_hours_idle,
                   round(sum(idle_cost), 2) as idle_cost
            from {SCHEMA}.rpt_gpu_idle_causes_daily where {condition}
            group by all order by {keys}idle_cost desc, idle_cause""",
        tuple(params),
    )


def gpu_idle_cause_jobs(cause: str, where: Slice, limit: int = TOP_N) -> Query:
    """The jobs whose GPUs sat idle longest for one cause."""
    condition, params = where.where("usage_date", GPU_COLUMNS)
    return Query(
        f"gpu_idle_jobs_{cause}",
        f"""select job_key, cluster, team, any_value(job_name) as job_name, currency,
                   round(sum(gpu_hours_idle), 1) as gpu_hours_idle, round(sum(idle_cost), 2) as idle_cost
            from {SCHEMA}.rpt_gpu_idle_causes_daily where idle_cause = ? and {condition}
            group by all order by idle_cost desc, job_key limit {int(limit)}""",
        (cause, *params),
    )


def gpu_score_days() -> Query:
    return Query(
        "gpu_score_days",
        f"select distinct usage_date as value from {SCHEMA}.rpt_gpu_node_scores_daily order by 1 desc",
    )


def gpu_node_scores(day: date, where: Slice = Slice()) -> Query:
    """Every node's score on a day, worst first, with what Slurm and Kubernetes are told."""
    condition, params = Slice(None, None, where.values).where(None, ("cluster",))
    return Query(
        "gpu_node_scores",
        f"""select cluster, hostname, score, health, worst_gpu_index, gpus_below_100, gpus_missing, slurm_weight,
                   k8s_label_score as "atlas.gpu/score", k8s_label_health as "atlas.gpu/health", scheduler
            from {SCHEMA}.rpt_gpu_node_scores_daily where usage_date = ? and {condition}
            order by score, cluster, hostname""",
        (day, *params),
    )


def gpu_fault_drill_classes(where: Slice) -> Query:
    """Per drill and fault class: injected, detected, missed, seconds to detect."""
    condition, params = where.where("usage_date", ("cluster",))
    return Query(
        "gpu_fault_drill_classes",
        f"""select drill_id, fault_class, count(*) as injected,
                   count(*) filter (where is_detected) as detected,
                   count(*) filter (where not is_detected) as missed,
                   min(seconds_to_detect) as min_seconds_to_detect,
                   round(avg(seconds_to_detect), 1) as mean_seconds_to_detect,
                   max(seconds_to_detect) as max_seconds_to_detect
            from {SCHEMA}.rpt_gpu_fault_drills where {condition}
            group by all order by drill_id, fault_class""",
        tuple(params),
    )


def gpu_fault_drill_injections(where: Slice) -> Query:
    condition, params = where.where("usage_date", ("cluster",))
    return Query(
        "gpu_fault_drill_injections",
        f"""select drill_id, hostname, gpu_index, fault_class, field_name, injected_value, injected_at,
                   duration_seconds, is_detected, detected_as, seconds_to_detect, missed_reason
            from {SCHEMA}.rpt_gpu_fault_drills where {condition}
            order by drill_id, injected_at, hostname, gpu_index""",
        tuple(params),
    )


# --- forecasts, anomalies, budgets ---------------------------------------------------------------


def forecast(dimension: str, keys: Sequence[str] = ()) -> Query:
    """The newest spend forecast of the series of one dimension (all keys, or those given)."""
    where = Slice.of(series_key=keys)
    condition, params = where.where(None, ("series_key",))
    return Query(
        f"forecast_{dimension}",
        f"""select series_key, billing_currency, as_of_date, model_name, forecast_date,
                   round(point, 2) as point,
                   round(lower_80, 2) as lower_80, round(upper_80, 2) as upper_80,
                   round(lower_95, 2) as lower_95, round(upper_95, 2) as upper_95
            from {SCHEMA}.rpt_forecast_cost_daily where series_dimension = ? and {condition}
            order by series_key, forecast_date""",
        (dimension, *params),
    )


def forecast_actuals(column: str, keys: Sequence[str], start: date, end: date) -> Query:
    """Daily effective cost of the spend trend (what the forecast models: no credits or one-off
    purchases) per value of a series column, in the billing currency."""
    assert column in SPEND_COLUMNS, column
    where = Slice.of(start, end, **{column: keys})
    condition, params = where.where("charge_date", SPEND_COLUMNS)
    return Query(
        f"actuals_by_{column}",
        f"""select charge_date, {column} as series_key, billing_currency,
                   round(sum(effective_cost), 2) as effective_cost
            from {SCHEMA}.rpt_spend_daily where is_spend_trend and {condition}
            group by all order by series_key, charge_date""",
        tuple(params),
    )


def forecast_summary(dimension: str | None = None) -> Query:
    condition = "series_dimension = ?" if dimension else "true"
    return Query(
        "forecast_summary",
        f"""select series_dimension, series_key, billing_currency, as_of_date, model_name, history_days,
                   round(backtest_mae, 2) as backtest_mae, refused_reason, first_day, last_day,
                   round(point_total, 2) as point_total
            from {SCHEMA}.rpt_forecast_summary where {condition}
            order by series_dimension, series_key""",
        (dimension,) if dimension else (),
    )


def anomalies(where: Slice = Slice(), limit: int | None = None) -> Query:
    """Cost anomalies in the slice (series or explaining value in the filter), newest and largest first."""
    condition, params = where.where("usage_date", ())
    return Query(
        "cost_anomalies",
        f"""select usage_date, series_dimension, series_key, billing_currency,
                   round(actual_cost, 2) as actual_cost, round(expected_cost, 2) as expected_cost,
                   round(impact, 2) as impact, severity,
                   explained_by_dimension, explained_by_value, round(explained_by_impact, 2) as explained_by_impact
            from {SCHEMA}.rpt_cost_anomalies where {condition}
            order by usage_date desc, abs(impact) desc
            {f'limit {int(limit)}' if limit else ''}""",
        tuple(params),
    )


def budgets(scope: str | None = None, value: str | None = None) -> Query:
    """Each budget once (newest as-of date), optionally those of one scope and value."""
    condition = "scope = ? and scope_value = ?" if scope else "true"
    return Query(
        "budgets",
        f"""select budget_name, scope, scope_value, billing_currency, budget_month, as_of_date,
                   round(budget_amount, 2) as budget_amount, round(actual_to_date, 2) as actual_to_date,
                   round(projected_month_end, 2) as projected_month_end,
                   round(projected_month_end_upper_80, 2) as projected_month_end_upper_80,
                   round(overrun_probability, 3) as overrun_probability, already_over, projected_over, note
            from {SCHEMA}.rpt_budget_status where {condition}
            order by budget_name""",
        (scope, value) if scope else (),
    )


# --- data quality --------------------------------------------------------------------------------


def quality_by_stage() -> Query:
    return Query("quality_by_stage", f"select * from {SCHEMA}.rpt_data_quality_by_stage order by stage")


def delivery_status(problems_only: bool = True) -> Query:
    """Per source and period: the delivery served, complete or not, and deliveries held back."""
    where = "where status <> 'ok' " if problems_only else ""
    return Query(
        "delivery_status",
        f"""select source, period, status, files, files_quarantined, rows_served, deliveries_held_back,
                   newest_held_back_reason, delivered_at, current_since
            from {SCHEMA}.rpt_delivery_status {where}order by source, period""",
    )


def source_freshness() -> Query:
    return Query(
        "source_freshness",
        f"""select source, status, freshness_status, newest_period, newest_delivery_at, last_landed_at,
                   files_landed, rows_landed, files_quarantined, rows_quarantined,
                   checks_run, checks_passed, checks_failed, checks_warned
            from {SCHEMA}.rpt_source_freshness order by source""",
    )
