{{ config(materialized='view') }}
-- GPU cost per day, cluster and team split three ways that add up to paid_cost: used (allocated x
-- GPU activity), idle (allocated-but-unused plus paid GPU-hours no job held) and unmeasured (jobs
-- on GPUs without telemetry: allocated, but nobody can say how much was used — never counted as
-- used). "GPU idle cost last week" is one line:
--   select team, sum(idle_cost) from gpu_idle_cost_daily
--   where usage_date >= current_date - interval 7 day group by team
select
    usage_date,
    cluster,
    coalesce(team, '(unallocated)') as team,
    currency,
    sum(gpu_hours_allocated) as gpu_hours_allocated,
    sum(gpu_hours_unallocated) as gpu_hours_unallocated,
    sum(gpu_hours_unpriced) as gpu_hours_unpriced,
    sum(paid_cost) as paid_cost,
    coalesce(sum(utilization_weighted_cost), 0) as used_cost,
    sum(coalesce(idle_cost_allocated_unused, 0) + coalesce(idle_cost_unallocated, 0)) as idle_cost,
    coalesce(sum(paid_cost) filter (where allocation_type = 'job' and utilization_weighted_cost is null), 0)
        as unmeasured_cost
from {{ ref('fct_gpu_cost_allocation') }}
group by all
