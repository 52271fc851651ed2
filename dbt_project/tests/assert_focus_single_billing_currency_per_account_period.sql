{#- Atlas policy, not a FOCUS rule (warns): one BillingCurrency per billing account and billing
    period. FOCUS only says BillingCurrency "MUST match the currency used in the invoice" (MUST),
    and an account can receive several invoices in a period, in different currencies. -#}
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
select "ProviderName", "BillingAccountId", "BillingPeriodStart", count(distinct "BillingCurrency") as currencies
from {{ ref('focus_cost_and_usage') }}
group by all
having count(distinct "BillingCurrency") > 1
