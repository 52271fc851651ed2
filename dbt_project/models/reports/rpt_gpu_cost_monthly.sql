{#- GPU cost per month, cluster and team with the same slice's previous month beside it (as in
    rpt_spend_monthly), so "whose GPU spend rose last month, on which cluster, and how much sat
    idle" is one filter and one sort. -#}
{%- set measures = ['paid_cost', 'used_cost', 'idle_cost', 'idle_cost_allocated_unused', 'idle_cost_unallocated',
                    'unmeasured_cost'] -%}
with

daily as (
    select * from {{ ref('rpt_gpu_cost_daily') }}
),

monthly as (
    select
        usage_month,
        cluster,
        team,
        currency,
        sum(gpu_hours_allocated) as gpu_hours_allocated,
        sum(gpu_hours_active) as gpu_hours_active,
        {%- for measure in measures %}
        sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from daily
    group by all
),

data_bounds as (
    select
        max(usage_month) as last_month,
        max(usage_date) as last_usage_date
    from daily
),

both_months as (
    select
        usage_month, cluster, team, currency, gpu_hours_allocated, gpu_hours_active,
        {%- for measure in measures %}
        {{ measure }},
        cast(0 as {{ money_type() }}) as {{ measure }}_previous_month{{ ',' if not loop.last }}
        {%- endfor %}
    from monthly

    union all

    select
        cast({{ dbt.dateadd('month', 1, 'monthly.usage_month') }} as date) as usage_month,
        cluster, team, currency,
        cast(0 as double) as gpu_hours_allocated,
        cast(0 as double) as gpu_hours_active,
        {%- for measure in measures %}
        cast(0 as {{ money_type() }}) as {{ measure }},
        {{ measure }} as {{ measure }}_previous_month{{ ',' if not loop.last }}
        {%- endfor %}
    from monthly
    cross join data_bounds
    where {{ dbt.dateadd('month', 1, 'monthly.usage_month') }} <= data_bounds.last_month
),

final as (
    select
        -- grain
        both_months.usage_month,
        both_months.cluster,
        both_months.team,
        both_months.currency,

        -- gpu-hours
        sum(both_months.gpu_hours_allocated) as gpu_hours_allocated,
        sum(both_months.gpu_hours_active) as gpu_hours_active,

        -- money: this month, the previous month, the change
        {%- for measure in measures %}
        sum(both_months.{{ measure }}) as {{ measure }},
        sum(both_months.{{ measure }}_previous_month) as {{ measure }}_previous_month,
        sum(both_months.{{ measure }}) - sum(both_months.{{ measure }}_previous_month) as {{ measure }}_change,
        {%- endfor %}
        {{ dbt.dateadd('month', 1, 'both_months.usage_month') }}
            <= {{ dbt.dateadd('day', 1, 'data_bounds.last_usage_date') }} as is_complete_month
    from both_months
    cross join data_bounds
    group by all
)

select * from final
