{#- Spend per billing month at the explorer's grain, with the same slice's previous month beside
    it, so month-over-month change survives any filter: Σ previous_month over the filtered rows is
    the previous month of the filtered spend. A slice that spent last month and nothing this month
    still has a row (this month 0), up to the newest month of data. -#}
{%- set dimensions = ['provider_name', 'billing_account_id', 'sub_account_id', 'service_name', 'service_category',
                      'region_id', 'team', 'charge_category', 'billing_currency', 'is_spend_trend', 'reporting_currency'] -%}
{%- set measures = ['billed_cost', 'effective_cost', 'billed_cost_reporting', 'effective_cost_reporting'] -%}
with

daily as (
    select * from {{ ref('rpt_spend_daily') }}
),

monthly as (
    select
        billing_month,
        {{ dimensions | join(', ') }},
        {%- for measure in measures %}
        sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from daily
    group by all
),

data_bounds as (
    select
        max(billing_month) as last_month,
        max(charge_date) as last_charge_date
    from daily
),

-- each month's spend, once as itself and once as the following month's previous month
both_months as (
    select
        billing_month,
        {{ dimensions | join(', ') }},
        {%- for measure in measures %}
        {{ measure }},
        cast(0 as {{ money_type() }}) as {{ measure }}_previous_month{{ ',' if not loop.last }}
        {%- endfor %}
    from monthly

    union all

    select
        cast({{ dbt.dateadd('month', 1, 'monthly.billing_month') }} as date) as billing_month,
        {{ dimensions | join(', ') }},
        {%- for measure in measures %}
        cast(0 as {{ money_type() }}) as {{ measure }},
        {{ measure }} as {{ measure }}_previous_month{{ ',' if not loop.last }}
        {%- endfor %}
    from monthly
    cross join data_bounds
    where {{ dbt.dateadd('month', 1, 'monthly.billing_month') }} <= data_bounds.last_month
),

final as (
    select
        -- grain
        both_months.billing_month,
        {%- for dimension in dimensions %}
        both_months.{{ dimension }},
        {%- endfor %}

        -- money: this month, the previous month, the change
        {%- for measure in measures %}
        sum(both_months.{{ measure }}) as {{ measure }},
        sum(both_months.{{ measure }}_previous_month) as {{ measure }}_previous_month,
        sum(both_months.{{ measure }}) - sum(both_months.{{ measure }}_previous_month) as {{ measure }}_change,
        {%- endfor %}

        -- a month is complete once the data reaches its last day
        {{ dbt.dateadd('month', 1, 'both_months.billing_month') }}
            <= {{ dbt.dateadd('day', 1, 'data_bounds.last_charge_date') }} as is_complete_month
    from both_months
    cross join data_bounds
    group by all
)

select * from final
