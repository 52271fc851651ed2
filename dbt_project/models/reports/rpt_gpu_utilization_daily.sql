{#- Per GPU host and UTC day: how busy its GPUs were (mean activity over the GPU-hours sampled:
    GR_ENGINE_ACTIVE, else SM_ACTIVE, else GPU_UTIL / 100), for the fleet heatmap. A thin view over
    fct_gpu_usage_hourly. -#}
with

hourly as (
    select * from {{ ref('fct_gpu_usage_hourly') }}
),

final as (
    select
        -- grain
        usage_date,
        cluster,
        hostname,

        -- use
        count(distinct gpu_index) as gpus_sampled,
        avg(mean_activity) as mean_activity,
        sum(gpu_hours_active) as gpu_hours_active
    from hourly
    group by usage_date, cluster, hostname
)

select * from final
