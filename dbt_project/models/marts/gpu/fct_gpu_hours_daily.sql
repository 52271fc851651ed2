{#- GPU-hours per UTC day, cluster and team: what allocations held and what their GPUs did.

    gpu_hours_allocated: Σ over Slurm allocations (every node of a multi-node NodeList, GPUs per
      node from AllocTRES) and Kubernetes pods of GPUs held x hours held that day
      (int_gpu_job_hours; split at UTC midnights, a job still running counts until its newest
      sacct file's end).
    gpu_hours_active / gpu_hours_sampled: int_gpu_job_activity_hourly, the one definition of
      active GPU-hours (Σ interval x GR_ENGINE_ACTIVE, else SM_ACTIVE, else GPU_UTIL / 100) over
      every telemetry input; NULL on a cluster-day without GPU telemetry. -#}
with

job_hours as (
    select * from {{ ref('int_gpu_job_hours') }}
),

activity as (
    select * from {{ ref('int_gpu_job_activity_hourly') }}
),

job_teams as (
    select
        job_key,
        max(team) as team
    from job_hours
    group by job_key
),

allocated_daily as (
    select
        usage_date,
        cluster,
        team,
        count(distinct job_key) as job_count,
        sum(cast(gpu_seconds as double)) / 3600 as gpu_hours_allocated
    from job_hours
    group by usage_date, cluster, team
),

active_daily as (
    select
        activity.usage_date,
        activity.cluster,
        -- readings labelled with a job no sacct file or pod rule knows
        coalesce(job_teams.team, '(unknown job)') as team,
        sum(activity.gpu_hours_active) as gpu_hours_active,
        sum(activity.gpu_hours_sampled) as gpu_hours_sampled,
        sum(activity.gpu_util_pct_sum) / nullif(sum(activity.gpu_util_pct_count), 0) as mean_gpu_utilization
    from activity
    left join job_teams
        on activity.job_key = job_teams.job_key
    group by 1, 2, 3
),

telemetry_cluster_days as (
    select distinct
        usage_date,
        cluster
    from {{ ref('int_gpu_node_hours') }}
    where reported_by like '%telemetry%'
),

combined as (
    select
        coalesce(allocated_daily.usage_date, active_daily.usage_date) as usage_date,
        coalesce(allocated_daily.cluster, active_daily.cluster) as cluster,
        coalesce(allocated_daily.team, active_daily.team) as team,
        coalesce(allocated_daily.job_count, 0) as job_count,
        coalesce(allocated_daily.gpu_hours_allocated, 0) as gpu_hours_allocated,
        active_daily.gpu_hours_active,
        active_daily.gpu_hours_sampled,
        active_daily.mean_gpu_utilization
    from allocated_daily
    full outer join active_daily
        on allocated_daily.usage_date = active_daily.usage_date
        and allocated_daily.cluster = active_daily.cluster
        and allocated_daily.team = active_daily.team
),

final as (
    select
        -- grain
        {{ dbt.concat([
            "cast(combined.usage_date as " ~ dbt.type_string() ~ ")", "'|'", 'combined.cluster', "'|'", 'combined.team'
        ]) }} as gpu_hours_daily_key,
        combined.usage_date,
        combined.cluster,
        combined.team,

        -- jobs
        combined.job_count,

        -- gpu-hours
        combined.gpu_hours_allocated,
        case
            when telemetry_cluster_days.cluster is not null then coalesce(combined.gpu_hours_active, 0)
        end as gpu_hours_active,
        case
            when telemetry_cluster_days.cluster is not null then coalesce(combined.gpu_hours_sampled, 0)
        end as gpu_hours_sampled,

        -- utilization
        combined.mean_gpu_utilization,
        telemetry_cluster_days.cluster is not null as has_gpu_telemetry
    from combined
    left join telemetry_cluster_days
        on combined.usage_date = telemetry_cluster_days.usage_date
        and combined.cluster = telemetry_cluster_days.cluster
)

select * from final
