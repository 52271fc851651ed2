{#- Allocated-but-idle GPU time and cost by cause, per UTC day, cluster, team and job. A thin view
    over fct_gpu_idle_cost_by_cause (its causes add up to the idle cost of fct_gpu_cost_allocation). -#}
with

causes as (
    select * from {{ ref('fct_gpu_idle_cost_by_cause') }}
),

final as (
    select
        usage_date,
        cast({{ dbt.date_trunc('month', 'usage_date') }} as date) as usage_month,
        cluster,
        team,
        job_key,
        job_name,
        idle_cause,
        currency,
        gpu_hours_idle,
        idle_cost
    from causes
)

select * from final
