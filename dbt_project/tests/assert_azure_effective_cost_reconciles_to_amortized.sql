{#- Azure: Σ EffectiveCost = Σ amortized-export cost per billing account and period. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
with

raw_totals as (
    select
        "BillingAccountId" as billing_account_id,
        x_period as billing_period,
        sum({{ text_to_money('"CostInBillingCurrency"') }}) as amortized_cost
    from {{ source('raw', 'azure_cost_details_amortized') }}
    group by all
),

focus_totals as (
    select
        "BillingAccountId" as billing_account_id,
        x_billing_period as billing_period,
        sum("EffectiveCost") as effective_cost
    from {{ ref('focus_cost_and_usage') }}
    where "ProviderName" = 'Microsoft'
    group by all
)

select *
from raw_totals
full outer join focus_totals using (billing_account_id, billing_period)
where raw_totals.amortized_cost is distinct from focus_totals.effective_cost
