{#- FOCUS: one BillingCurrency per billing account and billing period (an invoice's currency). -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
select "ProviderName", "BillingAccountId", "BillingPeriodStart", count(distinct "BillingCurrency") as currencies
from {{ ref('focus_cost_and_usage') }}
group by all
having count(distinct "BillingCurrency") > 1
