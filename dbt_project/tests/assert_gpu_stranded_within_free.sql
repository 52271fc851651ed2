{#- Stranded GPU-hours are part of the free GPU-hours on partly used nodes, which are part of what
    the cluster reported: a day breaking that counted a GPU twice. -#}
select *
from {{ ref('fct_gpu_fragmentation_daily') }}
where gpu_hours_stranded > gpu_hours_free_on_partly_used_nodes + 1e-9
    or gpu_hours_free_on_partly_used_nodes > gpu_hours_reported + 1e-9
