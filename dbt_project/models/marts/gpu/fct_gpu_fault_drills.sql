{#- Per drill and fault class: how many injections, how many Atlas detected, and how fast
    (fct_gpu_fault_drill_injections: seconds from injection to the event's evidence). -#}
with

injections as (
    select * from {{ ref('fct_gpu_fault_drill_injections') }}
),

final as (
    select
        {{ dbt.concat(['drill_id', "'|'", 'fault_class']) }} as drill_class_key,
        drill_id,
        fault_class,
        min(injected_at) as first_injected_at,
        max(injected_at) as last_injected_at,
        count(*) as injected,
        sum(case when is_detected then 1 else 0 end) as detected,
        sum(case when is_detected then 0 else 1 end) as missed,
        avg(case when is_detected then 1.0 else 0.0 end) as detection_rate,
        min(seconds_to_detect) as min_seconds_to_detect,
        avg(seconds_to_detect) as mean_seconds_to_detect,
        max(seconds_to_detect) as max_seconds_to_detect
    from injections
    group by drill_id, fault_class
)

select * from final
