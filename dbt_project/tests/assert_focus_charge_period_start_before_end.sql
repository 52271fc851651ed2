{#- FOCUS: ChargePeriodStart < ChargePeriodEnd and BillingPeriodStart < BillingPeriodEnd (ends exclusive). -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
select *
from {{ ref('focus_cost_and_usage') }}
where not ("ChargePeriodStart" < "ChargePeriodEnd")
    or not ("BillingPeriodStart" < "BillingPeriodEnd")
