{#- Amortization loses and invents nothing: Σ amortized cost = Σ EffectiveCost per input
    (x_source) × billing account × billing period, to the cent. Amortized cost is each provider's
    own definition: AWS's amortized cost from the CUR columns (covered usage at its commitment
    cost, unused commitment, purchases and negations at 0), for CUR 2.0 and legacy CUR alike;
    GCP cost + credits (no amortized view); Azure the amortized-cost export; native FOCUS exports
    and SaaS vendors' FOCUS files their own EffectiveCost. CSV inputs are summed from their staging models (cast + rename only).
    Returns the periods that differ. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
with

aws_lines as (
    select
        bill_payer_account_id as billing_account_id,
        x_period as billing_period,
        line_item_line_item_type as line_type,
        {{ float_to_money('line_item_unblended_cost') }} as unblended_cost,
        {{ float_to_money('savings_plan_savings_plan_effective_cost') }} as sp_effective_cost,
        {{ float_to_money('savings_plan_total_commitment_to_date') }} as sp_commitment,
        {{ float_to_money('savings_plan_used_commitment') }} as sp_used,
        {{ float_to_money('reservation_effective_cost') }} as ri_effective_cost,
        {{ float_to_money('reservation_unused_amortized_upfront_fee_for_billing_period') }} as ri_unused_upfront,
        {{ float_to_money('reservation_unused_recurring_fee') }} as ri_unused_recurring,
        nullif(reservation_reservation_a_r_n, '') is not null
            or nullif(savings_plan_savings_plan_a_r_n, '') is not null as is_commitment
    from {{ source('raw', 'aws_cur2') }}
),

legacy_lines as (
    select
        billing_account_id,
        billing_period,
        line_item_type as line_type,
        unblended_cost,
        savings_plan_effective_cost as sp_effective_cost,
        savings_plan_total_commitment_to_date as sp_commitment,
        savings_plan_used_commitment as sp_used,
        reservation_effective_cost as ri_effective_cost,
        reservation_unused_amortized_upfront_fee as ri_unused_upfront,
        reservation_unused_recurring_fee as ri_unused_recurring,
        reservation_arn is not null or savings_plan_arn is not null as is_commitment
    from {{ ref('stg_aws__cur_legacy_line_items') }}
),

aws_all_lines as (
    select 'aws_cur2' as x_source, * from aws_lines
    union all
    select 'aws_cur_legacy', * from legacy_lines
),

raw_totals as (
    select
        x_source,
        billing_account_id,
        billing_period,
        sum(case
            when line_type = 'SavingsPlanCoveredUsage' then coalesce(sp_effective_cost, 0)
            when line_type = 'SavingsPlanRecurringFee' then coalesce(sp_commitment, 0) - coalesce(sp_used, 0)
            when line_type in ('SavingsPlanNegation', 'SavingsPlanUpfrontFee') then 0
            when line_type = 'DiscountedUsage' then coalesce(ri_effective_cost, 0)
            when line_type = 'RIFee' then coalesce(ri_unused_upfront, 0) + coalesce(ri_unused_recurring, 0)
            when line_type = 'Fee' and is_commitment then 0
            else unblended_cost
        end) as amortized_cost
    from aws_all_lines
    group by all

    union all

    select 'aws_focus', "BillingAccountId", x_billing_period, sum("EffectiveCost")
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
    from {{ ref('stg_azure__cost_details_amortized') }}
    group by all

    union all

    select 'azure_focus', "BillingAccountId", x_billing_period, sum("EffectiveCost")
    from {{ ref('stg_azure__focus_cost') }}
    group by all

    union all

    select 'saas_focus', "BillingAccountId", x_billing_period, sum("EffectiveCost")
    from {{ ref('stg_saas__focus_cost') }}
    group by all
),

focus_totals as (
    select
        case when x_source like 'azure_cost_details_%' then 'azure_cost_details_actual' else x_source end
            as x_source,
        "BillingAccountId" as billing_account_id,
        x_billing_period as billing_period,
        sum("EffectiveCost") as effective_cost
    from {{ ref('focus_cost_and_usage') }}
    group by all
)

select *
from raw_totals
full outer join focus_totals using (x_source, billing_account_id, billing_period)
where raw_totals.amortized_cost is distinct from focus_totals.effective_cost
