{#- Every cent of every export is in the FOCUS table: Σ invoice cost = Σ BilledCost per input
    (x_source) × billing account × billing period, to the cent. Invoice cost per input: AWS CUR 2.0
    and legacy CUR, all line items' unblended cost; GCP standard and detailed export, cost plus
    credits; Azure, the actual-cost export; native FOCUS exports and SaaS vendors' FOCUS files,
    their own BilledCost.
    CUR 2.0 and the GCP standard export (typed parquet / JSON) are summed straight from raw; the
    CSV inputs (every value text) from their staging models, which only cast and rename, so the
    column variants of one format (EA vs MCA names) reconcile the same way. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
with

raw_totals as (
    select
        'aws_cur2' as x_source,
        bill_payer_account_id as billing_account_id,
        x_period as billing_period,
        sum({{ float_to_money('line_item_unblended_cost') }}) as raw_cost
    from {{ source('raw', 'aws_cur2') }}
    group by all

    union all

    select 'aws_cur_legacy', billing_account_id, billing_period, sum(unblended_cost)
    from {{ ref('stg_aws__cur_legacy_line_items') }}
    group by all

    union all

    select 'aws_focus', "BillingAccountId", x_billing_period, sum("BilledCost")
    from {{ ref('stg_aws__focus_line_items') }}
    group by all

    union all

    select
        'gcp_billing',
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
        'gcp_billing_detailed', billing_account_id, billing_period,
        sum(cost + coalesce(list_sum(list_transform(credits, c -> c.amount)), 0))
    from {{ ref('stg_gcp__billing_detailed_line_items') }}
    group by all

    union all

    select 'azure_cost_details_actual', billing_account_id, billing_period, sum(cost)
    from {{ ref('stg_azure__cost_details_actual') }}
    group by all

    union all

    select 'azure_focus', "BillingAccountId", x_billing_period, sum("BilledCost")
    from {{ ref('stg_azure__focus_cost') }}
    group by all

    union all

    select 'saas_focus', "BillingAccountId", x_billing_period, sum("BilledCost")
    from {{ ref('stg_saas__focus_cost') }}
    group by all
),

focus_totals as (
    select
        -- Azure's cost-details rows come from two exports; they reconcile as one input.
        case when x_source like 'azure_cost_details_%' then 'azure_cost_details_actual' else x_source end
            as x_source,
        "BillingAccountId" as billing_account_id,
        x_billing_period as billing_period,
        sum("BilledCost") as billed_cost
    from {{ ref('focus_cost_and_usage') }}
    group by all
)

select *
from raw_totals
full outer join focus_totals using (x_source, billing_account_id, billing_period)
where raw_totals.raw_cost is distinct from focus_totals.billed_cost
