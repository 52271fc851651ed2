{#- What each allocation (Slurm job on each node of its NodeList, or Kubernetes pod) cost per node
    and UTC hour, and how much of it its GPUs used: the one place GPU-hours meet prices, read by
    fct_gpu_cost_allocation (per day) and fct_gpu_idle_cost_by_cause (idle cost by cause).

      allocated cost            = GPU-seconds held in the hour x the node's price per GPU-second
                                  (int_gpu_node_hourly_cost; the OpenCost way)
      utilization               = active / sampled GPU-hours of the job on the node that hour
                                  (int_gpu_job_activity_hourly, the one activity definition); NULL
                                  without GPU-level telemetry
      utilization-weighted cost = allocated cost x utilization (rounded to 12 places)
      idle, allocated but unused = allocated - utilization-weighted
    An hour on a node with no price (not in the inventory, no bill row yet for that hour, or an
    on-prem cluster without a declared price) keeps its GPU-hours with price_source `unpriced`
    and NULL cost: never dropped, never costed at zero. -#}
{#- A table, not a view: utilization is a floating-point ratio, and a view evaluated once per reader
    could round a cent's last (12th) place differently for fct_gpu_cost_allocation and
    fct_gpu_idle_cost_by_cause (parallel float sums are not ordered); computed once, both read the
    same amounts and assert_gpu_idle_causes_add_up holds exactly. -#}
{{ config(materialized='table') }}
with

node_hours as (
    select * from {{ ref('int_gpu_node_hourly_cost') }}
),

job_hours as (
    select * from {{ ref('int_gpu_job_hours') }}
),

activity as (
    select * from {{ ref('int_gpu_job_activity_hourly') }}
),

costed as (
    select
        job_hours.usage_date,
        job_hours.cluster,
        job_hours.team,
        job_hours.project,
        job_hours.job_key,
        job_hours.job_name,
        job_hours.hostname,
        job_hours.hour_start,
        node_hours.currency,
        coalesce(node_hours.price_source, 'unpriced') as price_source,
        job_hours.allocation_source,
        job_hours.gpu_seconds / cast(3600 as double) as gpu_hours_allocated,
        activity.gpu_hours_sampled,
        activity.gpu_hours_active,
        -- the share of the sampled GPU time that was active (one definition: int_gpu_job_activity_hourly)
        activity.gpu_hours_active / nullif(activity.gpu_hours_sampled, 0) as utilization,
        cast(round(
            node_hours.cost * job_hours.gpu_seconds / (node_hours.gpu_count * 3600), 12
        ) as {{ money_type() }}) as allocated_cost
    from job_hours
    left join node_hours
        on job_hours.hostname = node_hours.hostname
        and job_hours.hour_start = node_hours.hour_start
    left join activity
        on job_hours.job_key = activity.job_key
        and job_hours.hostname = activity.hostname
        and job_hours.hour_start = activity.hour_start
),

final as (
    select
        *,
        cast(round(allocated_cost * utilization, 12) as {{ money_type() }}) as utilization_weighted_cost,
        allocated_cost - cast(round(allocated_cost * utilization, 12) as {{ money_type() }})
            as idle_cost_allocated_unused
    from costed
)

select * from final
