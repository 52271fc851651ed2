{#- GPU cost per UTC day, cluster, team, project and job, reconciling to what the GPU nodes cost.

    Per node and hour (int_gpu_node_hourly_cost: EffectiveCost from focus_cost_and_usage, or the
    declared on-prem price):
      allocated cost     = the job's GPU-seconds in the hour x the node's price per GPU-second
                           (GPU-hours x price per GPU-hour, the OpenCost way);
      utilization-weighted cost = allocated cost x the job's mean activity on the node that hour
                           (GR_ENGINE_ACTIVE, else SM_ACTIVE, else GPU_UTIL / 100), NULL without
                           GPU-level telemetry for the job;
      idle, allocated but unused = allocated - utilization-weighted;
      idle, not allocated = node cost - Σ allocated cost of its jobs (one `unallocated` row per
                           cluster and day, team NULL).
    Σ paid_cost (allocated cost of job rows + unallocated idle) = Σ node cost, exactly. -#}
with

node_hours as (
    select * from {{ ref('int_gpu_node_hourly_cost') }}
),

job_hours as (
    select * from {{ ref('int_gpu_job_hours') }}
),

jobs as (
    select job_key, project from {{ ref('stg_slurm__jobs') }}
),

nodes as (
    select hostname, cluster from {{ ref('stg_cluster__gpu_nodes') }}
),

job_activity as (
    select
        nodes.cluster,
        samples.hpc_job_id as job_id,
        samples.hostname,
        {{ dbt.date_trunc('hour', 'samples.sample_at') }} as hour_start,
        sum(samples.interval_seconds * samples.activity) / nullif(sum(samples.interval_seconds), 0)
            as utilization,
        sum(samples.interval_seconds * samples.activity) / 3600 as gpu_hours_active
    from {{ ref('int_gpu_samples') }} as samples
    inner join nodes
        on samples.hostname = nodes.hostname
    where samples.hpc_job_id is not null
    group by nodes.cluster, samples.hpc_job_id, samples.hostname, {{ dbt.date_trunc('hour', 'samples.sample_at') }}
),

job_costs as (
    select
        job_hours.usage_date,
        job_hours.cluster,
        job_hours.team,
        jobs.project,
        job_hours.job_key,
        job_hours.job_name,
        node_hours.currency,
        node_hours.price_source,
        job_hours.gpu_seconds / 3600.0 as gpu_hours_allocated,
        job_activity.gpu_hours_active,
        job_activity.utilization,
        cast(round(
            node_hours.cost * job_hours.gpu_seconds / (node_hours.gpu_count * 3600), 12
        ) as {{ money_type() }}) as allocated_cost,
        job_hours.hostname,
        job_hours.hour_start
    from job_hours
    inner join node_hours
        on job_hours.hostname = node_hours.hostname
        and job_hours.hour_start = node_hours.hour_start
    left join jobs
        on job_hours.job_key = jobs.job_key
    left join job_activity
        on job_hours.cluster = job_activity.cluster
        and job_hours.job_id = job_activity.job_id
        and job_hours.hostname = job_activity.hostname
        and job_hours.hour_start = job_activity.hour_start
),

node_hour_allocated as (
    select
        hostname,
        hour_start,
        sum(allocated_cost) as allocated_cost,
        sum(gpu_hours_allocated) as gpu_hours_allocated
    from job_costs
    group by hostname, hour_start
),

unallocated as (
    select
        cast(node_hours.hour_start as date) as usage_date,
        node_hours.cluster,
        max(node_hours.currency) as currency,
        max(node_hours.price_source) as price_source,
        sum(node_hours.gpu_count - coalesce(node_hour_allocated.gpu_hours_allocated, 0)) as gpu_hours_unallocated,
        sum(node_hours.cost - coalesce(node_hour_allocated.allocated_cost, 0)) as idle_cost_unallocated
    from node_hours
    left join node_hour_allocated
        on node_hours.hostname = node_hour_allocated.hostname
        and node_hours.hour_start = node_hour_allocated.hour_start
    group by cast(node_hours.hour_start as date), node_hours.cluster
),

job_daily as (
    select
        usage_date,
        cluster,
        team,
        project,
        job_key,
        max(job_name) as job_name,
        max(currency) as currency,
        max(price_source) as price_source,
        sum(gpu_hours_allocated) as gpu_hours_allocated,
        sum(gpu_hours_active) as gpu_hours_active,
        sum(allocated_cost) as allocated_cost,
        -- NULL as soon as one hour of the job has no GPU-level telemetry
        case when count(utilization) = count(*) then
            sum(cast(round(allocated_cost * utilization, 12) as {{ money_type() }}))
        end as utilization_weighted_cost
    from job_costs
    group by usage_date, cluster, team, project, job_key
),

final as (
    select
        {{ dbt.concat(["cast(usage_date as " ~ dbt.type_string() ~ ")", "'|'", 'job_key']) }} as cost_allocation_key,
        usage_date,
        cluster,
        team,
        project,
        job_key,
        job_name,
        'job' as allocation_type,
        currency,
        price_source,
        gpu_hours_allocated,
        gpu_hours_active,
        allocated_cost,
        utilization_weighted_cost,
        allocated_cost - utilization_weighted_cost as idle_cost_allocated_unused,
        cast(0 as {{ money_type() }}) as idle_cost_unallocated,
        allocated_cost as paid_cost,
        case
            when utilization_weighted_cost is null
                then 'allocated = GPU-hours x price per GPU-hour; no GPU-level telemetry for the job, unused share not estimated'
            else 'allocated = GPU-hours x price per GPU-hour; idle = allocated x (1 - GPU activity: GR_ENGINE_ACTIVE, else SM_ACTIVE, else GPU_UTIL/100)'
        end as idle_method
    from job_daily

    union all

    select
        {{ dbt.concat(["cast(usage_date as " ~ dbt.type_string() ~ ")", "'|unallocated:'", 'cluster']) }},
        usage_date,
        cluster,
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        'unallocated',
        currency,
        price_source,
        gpu_hours_unallocated,
        cast(0 as double),
        cast(0 as {{ money_type() }}),
        cast(0 as {{ money_type() }}),
        cast(0 as {{ money_type() }}),
        idle_cost_unallocated,
        idle_cost_unallocated,
        'idle = node cost - allocated cost of its jobs, per node and hour (paid GPU-hours no job held)'
    from unallocated
)

select * from final
