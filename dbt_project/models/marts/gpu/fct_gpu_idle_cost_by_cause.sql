{#- Allocated-but-idle GPU time and cost by cause, per UTC day, cluster, team and job.

    The idle cost is int_gpu_job_hourly_cost's (allocated - utilization-weighted, the same as
    fct_gpu_cost_allocation.idle_cost_allocated_unused), split per job, node and hour in proportion
    to the idle seconds of each cause (int_gpu_idle_causes_hourly: waiting_on_input, job_idle,
    idle_with_some_io, io_not_measured, underused_while_busy, gpu_not_reporting), the largest
    cause taking the rounding remainder so the causes add up to the idle cost exactly. Idle
    GPU-hours are allocated GPU-hours x the cause's share of the sampled time. -#}
with

hourly_costs as (
    select * from {{ ref('int_gpu_job_hourly_cost') }}
    where idle_cost_allocated_unused is not null
),

causes as (
    select * from {{ ref('int_gpu_idle_causes_hourly') }}
),

shares as (
    select
        causes.*,
        sum(causes.seconds_sampled) over (partition by causes.job_key, causes.hostname, causes.hour_start)
            as job_seconds_sampled,
        sum(causes.idle_seconds) over (partition by causes.job_key, causes.hostname, causes.hour_start)
            as job_idle_seconds,
        row_number() over (
            partition by causes.job_key, causes.hostname, causes.hour_start
            order by causes.idle_seconds desc, causes.idle_cause
        ) as cause_rank
    from causes
),

split as (
    select
        hourly_costs.usage_date,
        hourly_costs.cluster,
        hourly_costs.team,
        hourly_costs.project,
        hourly_costs.job_key,
        hourly_costs.job_name,
        hourly_costs.currency,
        shares.idle_cause,
        shares.cause_rank,
        hourly_costs.hostname,
        hourly_costs.hour_start,
        hourly_costs.idle_cost_allocated_unused,
        hourly_costs.gpu_hours_allocated * shares.idle_seconds / nullif(shares.job_seconds_sampled, 0) as gpu_hours_idle,
        case
            when shares.job_idle_seconds > 0
                then cast(round(hourly_costs.idle_cost_allocated_unused * shares.idle_seconds / shares.job_idle_seconds, 12)
                          as {{ money_type() }})
            else cast(0 as {{ money_type() }})
        end as share_cost
    from hourly_costs
    inner join shares
        on hourly_costs.job_key = shares.job_key
        and hourly_costs.hostname = shares.hostname
        and hourly_costs.hour_start = shares.hour_start
),

exact as (
    select
        *,
        -- the largest cause takes what rounding left, so the causes add up to the idle cost
        case
            when cause_rank = 1 then idle_cost_allocated_unused - (
                sum(share_cost) over (partition by job_key, hostname, hour_start) - share_cost
            )
            else share_cost
        end as idle_cost
    from split
),

final as (
    select
        {{ dbt.concat(["cast(usage_date as " ~ dbt.type_string() ~ ")", "'|'", 'job_key', "'|'", 'idle_cause']) }}
            as idle_cause_key,
        usage_date,
        cluster,
        team,
        project,
        job_key,
        max(job_name) as job_name,
        idle_cause,
        max(currency) as currency,
        sum(gpu_hours_idle) as gpu_hours_idle,
        sum(idle_cost) as idle_cost
    from exact
    group by usage_date, cluster, team, project, job_key, idle_cause
)

select * from final
