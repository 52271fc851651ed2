-- rpt_spend_monthly loses and invents nothing: per month and currency its spend equals
-- rpt_spend_daily's, and its previous-month columns equal the month before's spend. (Report models
-- only: a test across layers would also run, half-selected, in the warehouse refresh.)
{{ config(meta={'dagster': {'ref': {'name': 'rpt_spend_monthly'}}}) }}

with

truth as (
    select
        billing_month,
        billing_currency,
        sum(effective_cost) as effective_cost,
        sum(billed_cost) as billed_cost
    from {{ ref('rpt_spend_daily') }}
    group by 1, 2
),

report as (
    select
        billing_month,
        billing_currency,
        sum(effective_cost) as effective_cost,
        sum(billed_cost) as billed_cost,
        sum(effective_cost_previous_month) as effective_cost_previous_month
    from {{ ref('rpt_spend_monthly') }}
    group by 1, 2
)

select report.*, truth.effective_cost as truth_effective_cost, before.effective_cost as truth_previous_month
from report
left join truth
    on report.billing_month = truth.billing_month and report.billing_currency = truth.billing_currency
left join truth as before
    on before.billing_month = cast({{ dbt.dateadd('month', -1, 'report.billing_month') }} as date)
    and before.billing_currency = report.billing_currency
where report.effective_cost <> coalesce(truth.effective_cost, 0)
    or report.billed_cost <> coalesce(truth.billed_cost, 0)
    or report.effective_cost_previous_month <> coalesce(before.effective_cost, 0)
