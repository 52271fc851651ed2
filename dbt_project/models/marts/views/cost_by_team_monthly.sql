{{ config(materialized='view') }}
-- Spend per team and billing month, in billing currency and in the reporting currency, so
-- "cost by team this month" is one line:
--   select * from cost_by_team_monthly where billing_month = date_trunc('month', current_date)
select
    cast(date_trunc('month', charge_date) as date) as billing_month,
    coalesce(team, '(untagged)') as team,
    billing_currency,
    sum(billed_cost) as billed_cost,
    sum(effective_cost) as effective_cost,
    reporting_currency,
    sum(effective_cost_reporting) as effective_cost_reporting
from {{ ref('fct_cost_daily') }}
group by all
