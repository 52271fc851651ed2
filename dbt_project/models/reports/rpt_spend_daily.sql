{#- Spend to explore: day x provider x billing account x sub account x service x region x team x
    charge category, billed and effective, in the billing currency and the reporting currency.
    `is_spend_trend` marks the charges the forecasts model (not credits or one-off purchases):
    filter on it to draw actuals under a forecast, or a daily chart that purchases do not flatten. -#}
with

daily as (
    select * from {{ ref('fct_cost_daily') }}
),

final as (
    select
        -- grain
        charge_date,
        cast({{ dbt.date_trunc('month', 'charge_date') }} as date) as billing_month,
        provider_name,
        billing_account_id,
        sub_account_id,
        service_name,
        service_category,
        region_id,
        team,
        charge_category,
        billing_currency,
        {{ is_spend_trend_charge('charge_category') }} as is_spend_trend,

        -- money, billing currency
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost,

        -- money, reporting currency (summable across providers)
        reporting_currency,
        sum(billed_cost_reporting) as billed_cost_reporting,
        sum(effective_cost_reporting) as effective_cost_reporting,

        sum(line_items) as line_items
    from daily
    group by all
)

select * from final
