{#- GPU cost per UTC day, cluster, team, project and job, reconciling to what the GPU nodes cost.

    Per node and hour (int_gpu_job_hourly_cost over int_gpu_node_hourly_cost: EffectiveCost from
    focus_cost_and_usage, or the declared on-prem price), for Slurm allocations on every node of
    their NodeList and Kubernetes pods (int_gpu_job_hours):
      allocated cost     = the job's GPU-seconds in the hour x the node's price per GPU-second
                           (GPU-hours x price per GPU-hour, the OpenCost way);
      utilization-weighted cost = allocated cost x active / sampled GPU-hours of the job on the
                           node that hour (int_gpu_job_activity_hourly: GR_ENGINE_ACTIVE, else
                           SM_ACTIVE, else GPU_UTIL / 100), NULL without GPU-level telemetry;
      idle, allocated but unused = allocated - utilization-weighted;
      idle, not allocated = node cost - Σ allocated cost of its jobs (one `unallocated` row per
                           cluster and day, team NULL, its GPU-hours in gpu_hours_unallocated).
    Σ paid_cost (allocated cost of job rows + unallocated idle) = Σ node cost, exactly.
    GPU-hours on a node-hour without a price (node not in the inventory, bill not delivered yet,
    on-prem cluster with no declared price) stay on their job's row in gpu_hours_unpriced; a job
    with no priced hour that day has price_source `unpriced` and NULL costs (never zero). -#}
with

node_hours as (
    select * from {{ ref('int_gpu_node_hourly_cost') }}
),

-- per job, node and hour: allocated, utilization-weighted and idle cost (the one cost definition)
job_costs as (
    select * from {{ ref('int_gpu_job_hourly_cost') }}
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
        max(allocation_source) as allocation_source,
        max(currency) as currency,
        -- `unpriced` only when no hour of the job that day had a price
        coalesce(max(case when price_source <> 'unpriced' then price_source end), 'unpriced') as price_source,
        sum(gpu_hours_allocated) as gpu_hours_allocated,
        sum(case when price_source = 'unpriced' then gpu_hours_allocated else 0 end) as gpu_hours_unpriced,
        sum(gpu_hours_active) as gpu_hours_active,
        -- the priced hours' cost; NULL when none was priced (gpu_hours_unpriced says what is missing)
        sum(allocated_cost) as allocated_cost,
        -- NULL as soon as one priced hour of the job has no GPU-level telemetry
        case
            when count(case when allocated_cost is not null then utilization end) = count(allocated_cost)
                then sum(utilization_weighted_cost)
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
        allocation_source,
        currency,
        price_source,
        gpu_hours_allocated,
        cast(0 as double) as gpu_hours_unallocated,
        gpu_hours_unpriced,
        gpu_hours_active,
        allocated_cost,
        utilization_weighted_cost,
        allocated_cost - utilization_weighted_cost as idle_cost_allocated_unused,
        cast(0 as {{ money_type() }}) as idle_cost_unallocated,
        allocated_cost as paid_cost,
        case
            when allocated_cost is null
                then 'unpriced: no bill row or declared price for the node in these hours (GPU-hours kept, cost unknown)'
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
        cast(null as {{ dbt.type_string() }}),
        currency,
        price_source,
        cast(0 as double),
        gpu_hours_unallocated,
        cast(0 as double),
        cast(null as double),
        cast(0 as {{ money_type() }}),
        cast(0 as {{ money_type() }}),
        cast(0 as {{ money_type() }}),
        idle_cost_unallocated,
        idle_cost_unallocated,
        'idle = node cost - allocated cost of its jobs, per node and hour (paid GPU-hours no job held)'
    from unallocated
)

select * from final
