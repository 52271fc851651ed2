-- The GPU cost split adds up: per day, cluster, team and currency, paid = used + idle (allocated
-- but unused + unallocated) + unmeasured. (That it equals gpu_idle_cost_daily, the view other readers
-- use, is checked end to end against fct_gpu_cost_allocation in tests/e2e: a dbt test across
-- layers would also run, half-selected, in the warehouse refresh, which does not build the reports.)
select *
from {{ ref('rpt_gpu_cost_daily') }}
where paid_cost <> used_cost + idle_cost + unmeasured_cost
    or idle_cost <> idle_cost_allocated_unused + idle_cost_unallocated
