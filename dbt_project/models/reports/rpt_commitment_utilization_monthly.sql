{#- Each commitment discount (reservation, savings plan, committed use discount) per billing month:
    what its amortized cost paid for (Used), what went unused (Unused), utilization = used /
    (used + unused), and the savings against on-demand (ListCost of the usage it covered minus what
    the commitment cost that month). Commitment types are the providers' labels as delivered
    (e.g. Reserved Instance, Savings Plan, Reservation). -#}
with

focus as (
    select * from {{ ref('focus_cost_and_usage') }}
    where "CommitmentDiscountId" is not null
),

monthly as (
    select
        -- grain
        cast({{ dbt.date_trunc('month', '"ChargePeriodStart"') }} as date) as billing_month,
        "ProviderName" as provider_name,
        "BillingAccountId" as billing_account_id,
        "CommitmentDiscountId" as commitment_discount_id,
        "BillingCurrency" as billing_currency,
        max("CommitmentDiscountName") as commitment_discount_name,
        max("CommitmentDiscountType") as commitment_discount_type,
        max("CommitmentDiscountCategory") as commitment_discount_category,

        -- money, billing currency
        sum(case when "CommitmentDiscountStatus" = 'Used' then "EffectiveCost" else 0 end) as used_cost,
        sum(case when "CommitmentDiscountStatus" = 'Unused' then "EffectiveCost" else 0 end) as unused_cost,
        sum(case when "CommitmentDiscountStatus" = 'Used' then "ListCost" else 0 end) as on_demand_equivalent_cost,
        sum(case when "ChargeCategory" = 'Purchase' then "BilledCost" else 0 end) as purchase_billed_cost,

        -- money, reporting currency
        x_reporting_currency as reporting_currency,
        sum(case when "CommitmentDiscountStatus" = 'Used' then x_effective_cost_reporting else 0 end)
            as used_cost_reporting,
        sum(case when "CommitmentDiscountStatus" = 'Unused' then x_effective_cost_reporting else 0 end)
            as unused_cost_reporting,

        -- quantities (usage-based commitments), in the commitment's unit
        max("CommitmentDiscountUnit") as commitment_discount_unit,
        sum(case when "CommitmentDiscountStatus" = 'Used' then "CommitmentDiscountQuantity" end) as used_quantity,
        sum(case when "CommitmentDiscountStatus" = 'Unused' then "CommitmentDiscountQuantity" end) as unused_quantity
    from focus
    group by
        cast({{ dbt.date_trunc('month', '"ChargePeriodStart"') }} as date),
        "ProviderName", "BillingAccountId", "CommitmentDiscountId", "BillingCurrency", x_reporting_currency
),

final as (
    select
        *,
        used_cost + unused_cost as committed_cost,
        cast(used_cost as double) / nullif(cast(used_cost + unused_cost as double), 0) as utilization,
        on_demand_equivalent_cost - (used_cost + unused_cost) as net_savings
    from monthly
)

select * from final
