-- The report's GPU cost split is the view's, with idle in two: per day, cluster, team and currency
-- paid, used, idle and unmeasured are equal, and paid = used + idle + unmeasured.
with

report as (
    select usage_date, cluster, team, currency,
        sum(paid_cost) as paid_cost, sum(used_cost) as used_cost, sum(idle_cost) as idle_cost,
        sum(unmeasured_cost) as unmeasured_cost
    from {{ ref('rpt_gpu_cost_daily') }}
    group by 1, 2, 3, 4
),

view_rows as (
    select usage_date, cluster, team, currency,
        sum(paid_cost) as paid_cost, sum(used_cost) as used_cost, sum(idle_cost) as idle_cost,
        sum(unmeasured_cost) as unmeasured_cost
    from {{ ref('gpu_idle_cost_daily') }}
    group by 1, 2, 3, 4
)

select *
from report
full outer join view_rows using (usage_date, cluster, team, currency)
where coalesce(report.paid_cost, -1) <> coalesce(view_rows.paid_cost, -2)
    or report.used_cost <> view_rows.used_cost
    or report.idle_cost <> view_rows.idle_cost
    or report.unmeasured_cost <> view_rows.unmeasured_cost
    or report.paid_cost <> report.used_cost + report.idle_cost + report.unmeasured_cost
