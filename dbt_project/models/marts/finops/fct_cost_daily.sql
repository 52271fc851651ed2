{#- Daily cost for analysis and forecasting: day × provider × account × service × region × team
    × charge category, in the billing currency (never summed across currencies here).
    Incremental like its source: the run's billing-period partitions (var billing_periods), else the
    billing periods rebuilt in focus_cost_and_usage since this table last read it (its `loaded_at`,
    the FOCUS rows' x_loaded_at), are replaced whole. -#}
{{ config(materialized='incremental', on_schema_change='append_new_columns', **replace_by_key('billing_period')) }}
{%- set periods = billing_periods_rebuilt_since(ref('focus_cost_and_usage'), this, 'loaded_at',
                                                [('delivery_complete', 'boolean')]) %}
{%- if periods is not none %}
    {%- do log('fct_cost_daily: building billing periods ' ~ (periods | join(', ') or 'none'), info=True) %}
{%- endif %}
with

{# The periods are a literal list (not a subquery) so DuckDB skips the other periods' row groups. #}
focus as (
    select * from {{ ref('focus_cost_and_usage') }}
    {%- if periods is not none %}
    where {{ in_billing_periods('x_billing_period', periods) }}
    {%- endif %}
),

daily as (
    select
        cast({{ dbt.date_trunc('day', '"ChargePeriodStart"') }} as date) as charge_date,
        {{ spend_dimensions() }},
        x_billing_period as billing_period,
        sum("BilledCost") as billed_cost,
        sum("EffectiveCost") as effective_cost,
        -- Summable across currencies: converted at each billing period's rate (focus_cost_and_usage).
        x_reporting_currency as reporting_currency,
        sum(x_billed_cost_reporting) as billed_cost_reporting,
        sum(x_effective_cost_reporting) as effective_cost_reporting,
        count(*) as line_items,
        -- false when any of the day's charges came from a delivery that lost a file to quarantine
        bool_and(x_delivery_complete) as delivery_complete,
        x_loaded_at as loaded_at
    from focus
    group by all
)

select * from daily
