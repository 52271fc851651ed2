{#- Health episodes found in the GPU readings, one row each: stragglers (peer comparison within a
    job, on activity and on SM clock), thermal and power throttling, node power transients and XID
    errors. Thresholds are dbt vars (see dbt_project.yml). -#}
{%- set window = var('straggler_window_seconds', 3600) -%}
{%- set tolerance = var('straggler_tolerance', 0.15) -%}
{%- set min_windows = var('straggler_min_windows', 2) -%}
with

samples as (
    select * from {{ ref('int_gpu_samples') }}
),

nodes as (
    select * from {{ ref('stg_cluster__gpu_nodes') }}
),

specs as (
    select * from {{ ref('gpu_model_specs') }}
),

xid_codes as (
    select * from {{ ref('xid_codes') }}
),

job_readings as (
    select
        {{ dbt.concat(['nodes.cluster', "':'", 'samples.hpc_job_id']) }} as job_key,
        {{ dbt.concat(['samples.hostname', "'#'", 'cast(samples.gpu_index as ' ~ dbt.type_string() ~ ')']) }} as member,
        {{ dbt.datediff("cast('1970-01-01' as timestamp)", 'samples.sample_at', 'second') }} as epoch_seconds,
        samples.activity,
        samples.sm_clock_mhz
    from samples
    inner join nodes
        on samples.hostname = nodes.hostname
    where samples.hpc_job_id is not null
),

activity_stragglers as (
    {{ straggler_episodes('job_readings', 'job_key', 'member', 'epoch_seconds', 'activity', window, tolerance,
                          min_windows, true, var('straggler_min_peer_activity', 0.4), 2) }}
),

clock_stragglers as (
    {{ straggler_episodes('job_readings', 'job_key', 'member', 'epoch_seconds', 'sm_clock_mhz', window, tolerance,
                          min_windows, true, 0, 2) }}
),

stragglers as (
    select 'activity' as signal, * from activity_stragglers
    union all
    select 'sm_clock' as signal, * from clock_stragglers
),

straggler_events as (
    select
        'straggler' as event_type,
        {{ dbt.split_part('member', "'#'", 1) }} as hostname,
        cast({{ dbt.split_part('member', "'#'", 2) }} as integer) as gpu_index,
        peer_group as job_key,
        cast(to_timestamp(first_window_start) as timestamp) as started_at,
        cast(to_timestamp(last_window_end) as timestamp) as ended_at,
        last_window_end - first_window_start as duration_seconds,
        cast(null as integer) as interval_seconds,
        min_ratio as measure_value,
        {{ dbt.concat(['signal', "' ratio to job peers'"]) }} as measure_unit,
        {{ dbt.concat([
            "signal", "' below job peers: mean ratio '", "cast(round(mean_ratio, 3) as " ~ dbt.type_string() ~ ")",
            "' over '", "cast(windows as " ~ dbt.type_string() ~ ")", "' windows of " ~ window ~ " s (tolerance " ~ tolerance ~ ")'"
        ]) }} as detail
    from stragglers
),

thermal as (
    {{ reading_episodes('samples', '(coalesce(throttle_reasons, 0) & 96) <> 0') }}
),

power_capped as (
    {{ reading_episodes('samples', '(coalesce(throttle_reasons, 0) & 132) <> 0') }}
),

throttle_events as (
    select
        'thermal_throttle' as event_type,
        hostname,
        gpu_index,
        cast(null as {{ dbt.type_string() }}) as job_key,
        started_at,
        {{ dbt.dateadd('second', 'interval_seconds', 'last_sample_at') }} as ended_at,
        duration_seconds,
        interval_seconds,
        max_temperature_c as measure_value,
        'max temperature C' as measure_unit,
        {{ dbt.concat(["'SW/HW thermal slowdown; SM clock down to '", "cast(min_sm_clock_mhz as " ~ dbt.type_string() ~ ")", "' MHz'"]) }}
            as detail
    from thermal
    union all
    select
        'power_throttle',
        hostname,
        gpu_index,
        null,
        started_at,
        {{ dbt.dateadd('second', 'interval_seconds', 'last_sample_at') }},
        duration_seconds,
        interval_seconds,
        min_sm_clock_mhz,
        'min SM clock MHz',
        'SW power cap or HW power brake slowdown'
    from power_capped
    where duration_seconds >= {{ var('power_throttle_min_seconds', 600) }}
),

node_power as (
    select
        samples.hostname,
        samples.sample_at,
        max(samples.interval_seconds) as interval_seconds,
        sum(samples.power_w) as power_w,
        sum(specs.tdp_watts) as tdp_watts
    from samples
    left join specs
        on samples.gpu_model = specs.gpu_model
    group by samples.hostname, samples.sample_at
),

node_steps as (
    select
        hostname,
        sample_at,
        interval_seconds,
        tdp_watts,
        power_w - lag(power_w) over (partition by hostname order by sample_at) as step_w,
        {{ dbt.datediff('lag(sample_at) over (partition by hostname order by sample_at)', 'sample_at', 'second') }}
            as gap_seconds
    from node_power
),

power_events as (
    select
        'power_transient' as event_type,
        hostname,
        cast(null as integer) as gpu_index,
        cast(null as {{ dbt.type_string() }}) as job_key,
        {{ dbt.dateadd('second', '-gap_seconds', 'sample_at') }} as started_at,
        sample_at as ended_at,
        gap_seconds as duration_seconds,
        interval_seconds,
        step_w / gap_seconds as measure_value,
        'W/s' as measure_unit,
        {{ dbt.concat([
            "'node power step of '", "cast(round(step_w) as " ~ dbt.type_string() ~ ")", "' W in '",
            "cast(gap_seconds as " ~ dbt.type_string() ~ ")", "' s (sampling interval '",
            "cast(interval_seconds as " ~ dbt.type_string() ~ ")", "' s hides faster transients)'"
        ]) }} as detail
    from node_steps
    where gap_seconds > 0
        and gap_seconds <= 2 * interval_seconds
        and abs(step_w) > {{ var('power_step_alert_fraction_of_tdp', 1.0) }} * tdp_watts
),

xid_events as (
    select
        case when coalesce(xid_codes.is_fatal, false) then 'xid_fatal' else 'xid_nonfatal' end as event_type,
        samples.hostname,
        samples.gpu_index,
        case when samples.hpc_job_id is not null then samples.hpc_job_id end as job_key,
        samples.sample_at as started_at,
        samples.sample_at as ended_at,
        0 as duration_seconds,
        samples.interval_seconds,
        cast(samples.xid_code as double) as measure_value,
        'XID' as measure_unit,
        coalesce(xid_codes.description, 'XID not in the catalog') as detail
    from samples
    left join xid_codes
        on samples.xid_code = xid_codes.xid_code
    where samples.xid_code is not null
),

unioned as (
    select * from straggler_events
    union all
    select * from throttle_events
    union all
    select * from power_events
    union all
    select * from xid_events
),

final as (
    select
        unioned.event_type,
        nodes.cluster,
        unioned.hostname,
        unioned.gpu_index,
        case
            when unioned.event_type like 'xid%' and unioned.job_key is not null
                then {{ dbt.concat(['nodes.cluster', "':'", 'unioned.job_key']) }}
            else unioned.job_key
        end as job_key,
        unioned.started_at,
        unioned.ended_at,
        cast(unioned.started_at as date) as event_date,
        unioned.duration_seconds,
        unioned.interval_seconds,
        unioned.measure_value,
        unioned.measure_unit,
        unioned.detail
    from unioned
    left join nodes
        on unioned.hostname = nodes.hostname
)

select * from final
