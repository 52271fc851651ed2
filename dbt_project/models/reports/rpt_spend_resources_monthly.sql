{#- The drill-down: spend per billing month and resource, with the explorer's dimensions, from the
    FOCUS line items. Charges without a resource (tax, credits, support, purchases) have a NULL
    resource_id and stay in: Σ over resources = Σ of rpt_spend_monthly (singular test). -#}
with

focus as (
    select * from {{ ref('focus_cost_and_usage') }}
),

final as (
    select
        -- grain
        cast({{ dbt.date_trunc('month', '"ChargePeriodStart"') }} as date) as billing_month,
        {{ spend_dimensions() }},
        "ResourceId" as resource_id,
        max("ResourceName") as resource_name,
        max("ResourceType") as resource_type,

        -- money
        sum("BilledCost") as billed_cost,
        sum("EffectiveCost") as effective_cost,
        x_reporting_currency as reporting_currency,
        sum(x_billed_cost_reporting) as billed_cost_reporting,
        sum(x_effective_cost_reporting) as effective_cost_reporting,
        count(*) as line_items
    from focus
    group by all
)

select * from final
