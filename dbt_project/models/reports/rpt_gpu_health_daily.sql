{#- Per GPU and UTC day, how healthy it was: a thin view over fct_gpu_health_daily with the counts
    that rank the worst GPUs (failed and degraded days, fatal XIDs, stragglers, throttling). -#}
with

health as (
    select * from {{ ref('fct_gpu_health_daily') }}
),

final as (
    select
        -- grain
        usage_date,
        cluster,
        hostname,
        gpu_index,
        gpu_uuid,
        gpu_model,

        -- status
        health_status,
        case when health_status = 'failed' then 1 else 0 end as failed_day,
        case when health_status = 'degraded' then 1 else 0 end as degraded_day,

        -- episodes
        xid_fatal_errors,
        xid_nonfatal_errors,
        straggler_episodes,
        thermal_throttle_episodes,
        power_throttle_episodes,
        sm_clock_vs_baseline,
        is_below_model_baseline
    from health
)

select * from final
