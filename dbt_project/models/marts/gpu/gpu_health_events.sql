{#- Every GPU health event, one row each: idle_node_in_job and power_transient (node-level,
    gpu_index NULL), straggler, thermal_throttle, power_throttle, xid_fatal, xid_nonfatal
    (int_gpu_health_episodes), and below_model_baseline (a GPU-day whose busy, unthrottled SM clock
    is persistently below its model's fleet baseline, from fct_gpu_health_daily). -#}
with

episodes as (
    select * from {{ ref('int_gpu_health_episodes') }}
),

baseline as (
    select
        'below_model_baseline' as event_type,
        cluster,
        rack,
        hostname,
        gpu_index,
        cast(null as {{ dbt.type_string() }}) as job_key,
        cast(usage_date as timestamp) as started_at,
        {{ dbt.dateadd('day', 1, 'cast(usage_date as timestamp)') }} as ended_at,
        usage_date as event_date,
        busy_seconds as duration_seconds,
        cast(null as integer) as interval_seconds,
        sm_clock_vs_baseline as measure_value,
        'busy SM clock / model baseline' as measure_unit,
        cast(null as double) as delta_w,
        cast(null as double) as dp_dt_w_per_s,
        {{ dbt.concat(["'busy SM clock '", "cast(round(mean_busy_sm_clock_mhz) as " ~ dbt.type_string() ~ ")",
                       "' MHz vs fleet baseline '", "cast(round(baseline_sm_clock_mhz) as " ~ dbt.type_string() ~ ")",
                       "' MHz for '", 'gpu_model']) }} as detail
    from {{ ref('fct_gpu_health_daily') }}
    where is_below_model_baseline
),

unioned as (
    select * from episodes
    union all
    select * from baseline
),

final as (
    select
        {{ dbt.concat(['event_type', "'|'", 'hostname', "':'", "coalesce(cast(gpu_index as " ~ dbt.type_string() ~ "), '*')",
                       "'|'", format_timestamp('started_at', '%Y-%m-%dT%H:%M:%S'), "'|'", "coalesce(job_key, '')", "'|'", 'measure_unit']) }} as event_key,
        *
    from unioned
)

select * from final
