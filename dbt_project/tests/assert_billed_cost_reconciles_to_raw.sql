{#- Every cent of every raw export is in the FOCUS table: Σ raw invoice cost = Σ BilledCost per
    provider × billing account × billing period (AWS: all line items' unblended cost; GCP: cost
    plus credits; Azure: the actual-cost export). Returns the periods that differ. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
with

raw_totals as (
    select
        'Amazon Web Services' as provider_name,
        bill_payer_account_id as billing_account_id,
        x_period as billing_period,
        sum({{ float_to_money('line_item_unblended_cost') }}) as raw_cost
    from {{ source('raw', 'aws_cur2') }}
    group by all

    union all

    select
        'Google Cloud',
        billing_account_id,
        x_period,
        sum(
            {{ float_to_money('cost') }}
            + coalesce(list_sum(list_transform(credits, c -> {{ float_to_money('c.amount') }})), 0)
        )
    from {{ source('raw', 'gcp_billing') }}
    group by all

    union all

    select
        'Microsoft',
        "BillingAccountId",
        x_period,
        sum({{ text_to_money('"CostInBillingCurrency"') }})
    from {{ source('raw', 'azure_cost_details_actual') }}
    group by all
),

focus_totals as (
    select
        "ProviderName" as provider_name,
        "BillingAccountId" as billing_account_id,
        x_billing_period as billing_period,
        sum("BilledCost") as billed_cost
    from {{ ref('focus_cost_and_usage') }}
    group by all
)

select *
from raw_totals
full outer join focus_totals using (provider_name, billing_account_id, billing_period)
where raw_totals.raw_cost is distinct from focus_totals.billed_cost
