{#- How much of the usage commitments can cover was covered, per billing month, provider, service
    and covering commitment type, in on-demand terms (ListCost, so a discount does not shrink the
    covered share). Eligible usage: usage of the services a commitment covered at some point in the
    data (spot/dynamic pricing excluded); the row with commitment_discount_type 'On-demand' is the
    uncovered part. Coverage of a type over any slice = Σ list_cost of that type / Σ list_cost. -#}
with

usage as (
    select * from {{ ref('focus_cost_and_usage') }}
    where "ChargeCategory" = 'Usage'
        and coalesce("CommitmentDiscountStatus", '') <> 'Unused'
        and coalesce("PricingCategory", 'Standard') in ('Standard', 'Committed')
),

eligible_services as (
    select distinct
        "ProviderName" as provider_name,
        "ServiceName" as service_name
    from usage
    where "CommitmentDiscountStatus" = 'Used'
),

final as (
    select
        -- grain
        cast({{ dbt.date_trunc('month', 'usage."ChargePeriodStart"') }} as date) as billing_month,
        usage."ProviderName" as provider_name,
        usage."ServiceName" as service_name,
        usage."BillingCurrency" as billing_currency,
        case
            when usage."CommitmentDiscountStatus" = 'Used' then coalesce(usage."CommitmentDiscountType", 'Other')
            else 'On-demand'
        end as commitment_discount_type,

        -- money: on-demand equivalent of the usage, and what it cost
        sum(usage."ListCost") as list_cost,
        sum(usage."EffectiveCost") as effective_cost
    from usage
    inner join eligible_services
        on usage."ProviderName" = eligible_services.provider_name
        and usage."ServiceName" = eligible_services.service_name
    group by all
)

select * from final
