{#- Atlas integrity, not a FOCUS rule (blocks): every charge converts to the reporting currency. A
    BillingCurrency without a dated rate in seeds/fx_rates.csv would otherwise be summed
    unconverted, or silently left out of every cross-currency total. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
select "BillingCurrency", x_billing_period, count(*) as line_items
from {{ ref('focus_cost_and_usage') }}
where x_billed_cost_reporting is null or x_effective_cost_reporting is null
group by all
