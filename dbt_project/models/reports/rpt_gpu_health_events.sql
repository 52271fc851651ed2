{#- Every GPU health event (stragglers, throttling, XIDs, power transients, below-baseline days),
    a thin view over gpu_health_events for the worst-GPU drill-down. -#}
with

events as (
    select * from {{ ref('gpu_health_events') }}
),

final as (
    select
        event_key,
        event_date,
        cluster,
        hostname,
        gpu_index,
        event_type,
        started_at,
        ended_at,
        duration_seconds,
        measure_value,
        measure_unit,
        job_key,
        detail
    from events
)

select * from final
