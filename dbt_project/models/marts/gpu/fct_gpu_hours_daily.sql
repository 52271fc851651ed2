{#- GPU-hours per UTC day, Slurm cluster and team (the job's Slurm account).

    gpu_hours_allocated: each started job's GPU count x the hours it held them, split at UTC
      midnights. A job still running in its latest sacct file counts until that file's end
      (`reported_through_at`, the sacct `-E` time).
    gpu_hours_active: over the DCGM samples labelled with one of the team's jobs (`hpc_job`),
      the scrape interval x DCGM_FI_PROF_GR_ENGINE_ACTIVE (falling back to GPU_UTIL / 100 when
      the profiling field is blank). NULL on a cluster-day without DCGM samples.
    The scrape interval of a sample is the smallest gap between scrapes of its host that day
    (or that host overall), so missed scrapes are not counted as work. -#}
with

jobs as (
    select * from {{ ref('stg_slurm__jobs') }}
),

samples as (
    select * from {{ ref('stg_dcgm__gpu_samples') }}
),

nodes as (
    select * from {{ ref('stg_cluster__gpu_nodes') }}
),

-- allocation: jobs x the UTC days they overlap

allocations as (
    select
        cluster,
        team,
        job_id,
        gpu_count,
        started_at,
        coalesce(ended_at, reported_through_at) as allocated_until
    from jobs
    where started_at is not null
        and gpu_count > 0
),

allocation_bounds as (
    select
        min(cast(started_at as date)) as first_day,
        max(cast(allocated_until as date)) as last_day
    from allocations
),

day_numbers as (
    {{ dbt.generate_series(var('gpu_max_telemetry_days', 3660)) }}
),

days as (
    select
        cast({{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'allocation_bounds.first_day') }} as date)
            as usage_date
    from day_numbers
    cross join allocation_bounds
    where {{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'allocation_bounds.first_day') }}
        <= allocation_bounds.last_day
),

job_days as (
    select
        days.usage_date,
        allocations.cluster,
        allocations.team,
        allocations.job_id,
        allocations.gpu_count,
        {{ dbt.datediff(
            'greatest(allocations.started_at, cast(days.usage_date as timestamp))',
            'least(allocations.allocated_until, ' ~ dbt.dateadd('day', 1, 'cast(days.usage_date as timestamp)') ~ ')',
            'second'
        ) }} as held_seconds
    from allocations
    inner join days
        on days.usage_date >= cast(allocations.started_at as date)
        and days.usage_date <= cast(allocations.allocated_until as date)
),

allocated_daily as (
    select
        usage_date,
        cluster,
        team,
        count(distinct job_id) as job_count,
        sum(cast(gpu_count * held_seconds as double)) / 3600 as gpu_hours_allocated
    from job_days
    where held_seconds > 0
    group by usage_date, cluster, team
),

-- activity: DCGM samples, one row per GPU and scrape

gpu_scrapes as (
    select
        hostname,
        gpu_index,
        sample_at,
        sample_date,
        hpc_job_id,
        max(case when metric_name = 'DCGM_FI_PROF_GR_ENGINE_ACTIVE' then value end) as gr_engine_active,
        max(case when metric_name = 'DCGM_FI_DEV_GPU_UTIL' then value end) as gpu_util_pct
    from samples
    where metric_name in ('DCGM_FI_PROF_GR_ENGINE_ACTIVE', 'DCGM_FI_DEV_GPU_UTIL')
        and sample_at is not null
    group by hostname, gpu_index, sample_at, sample_date, hpc_job_id
),

host_scrape_times as (
    select distinct
        hostname,
        sample_date,
        sample_at
    from gpu_scrapes
),

scrape_gaps as (
    select
        hostname,
        sample_date,
        {{ dbt.datediff(
            'lag(sample_at) over (partition by hostname order by sample_at)', 'sample_at', 'second'
        ) }} as gap_seconds
    from host_scrape_times
),

host_day_intervals as (
    select
        hostname,
        sample_date,
        min(case when gap_seconds > 0 then gap_seconds end) as interval_seconds
    from scrape_gaps
    group by hostname, sample_date
),

host_intervals as (
    select
        hostname,
        min(interval_seconds) as interval_seconds
    from host_day_intervals
    group by hostname
),

job_scrapes as (
    select
        gpu_scrapes.sample_date as usage_date,
        nodes.cluster,
        jobs.team,
        gpu_scrapes.gpu_util_pct,
        coalesce(gpu_scrapes.gr_engine_active, gpu_scrapes.gpu_util_pct / 100) as activity,
        coalesce(
            host_day_intervals.interval_seconds,
            host_intervals.interval_seconds,
            {{ var('dcgm_scrape_interval_seconds', 30) }}
        ) as interval_seconds
    from gpu_scrapes
    inner join nodes
        on gpu_scrapes.hostname = nodes.hostname
    inner join jobs
        on nodes.cluster = jobs.cluster
        and gpu_scrapes.hpc_job_id = jobs.job_id
    left join host_day_intervals
        on gpu_scrapes.hostname = host_day_intervals.hostname
        and gpu_scrapes.sample_date = host_day_intervals.sample_date
    left join host_intervals
        on gpu_scrapes.hostname = host_intervals.hostname
    where gpu_scrapes.hpc_job_id is not null
),

active_daily as (
    select
        usage_date,
        cluster,
        team,
        sum(interval_seconds * activity) / 3600 as gpu_hours_active,
        sum(cast(interval_seconds as double)) / 3600 as gpu_hours_sampled,
        avg(gpu_util_pct) as mean_gpu_utilization
    from job_scrapes
    group by usage_date, cluster, team
),

sampled_cluster_days as (
    select distinct
        gpu_scrapes.sample_date as usage_date,
        nodes.cluster
    from gpu_scrapes
    inner join nodes
        on gpu_scrapes.hostname = nodes.hostname
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
            when sampled_cluster_days.cluster is not null then coalesce(combined.gpu_hours_active, 0)
        end as gpu_hours_active,
        case
            when sampled_cluster_days.cluster is not null then coalesce(combined.gpu_hours_sampled, 0)
        end as gpu_hours_sampled,

        -- utilization
        combined.mean_gpu_utilization,
        sampled_cluster_days.cluster is not null as has_dcgm_samples
    from combined
    left join sampled_cluster_days
        on combined.usage_date = sampled_cluster_days.usage_date
        and combined.cluster = sampled_cluster_days.cluster
)

select * from final
