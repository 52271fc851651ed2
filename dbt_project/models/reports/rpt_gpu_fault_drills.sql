{#- Fault drills, one row per injection: what was injected, whether and how fast Atlas detected it,
    why not. A thin view over fct_gpu_fault_drill_injections (per-class totals: fct_gpu_fault_drills,
    the same counts). -#}
with

injections as (
    select * from {{ ref('fct_gpu_fault_drill_injections') }}
),

final as (
    select
        injection_key,
        drill_id,
        injection_date as usage_date,
        cluster,
        hostname,
        gpu_index,
        fault_class,
        field_name,
        injected_value,
        injected_at,
        duration_seconds,
        is_detected,
        detected_as,
        detected_at,
        seconds_to_detect,
        missed_reason
    from injections
)

select * from final
