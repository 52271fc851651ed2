{#- Each fault-drill injection (stg_drills__gpu_fault_injections) against what Atlas detected: the
    first health event (gpu_health_events) of the class on the same GPU that started between the
    injection and `fault_drill_detection_window_seconds` after the value stopped being held.

      xid      xid_fatal / xid_nonfatal with the injected code
      thermal  thermal_throttle
      power    power_throttle
      ecc_dbe  ecc_double_bit

    Time to detect = when the evidence crossed the event's threshold - when the value was injected:
    the first reading showing it (XID, ECC, thermal), or for power throttling the moment it had
    lasted `power_throttle_min_seconds` (a brief power cap is normal at full load, so it is not an
    event before that). It includes the scrape interval, not the delivery of the export files. A
    missed injection says why (no telemetry from the GPU; held shorter than the power threshold;
    readings arrived but none showed it). -#}
{%- set window = var('fault_drill_detection_window_seconds', 900) -%}
{%- set skew = var('fault_drill_clock_skew_seconds', 5) -%}
{%- set power_min = var('power_throttle_min_seconds', 600) -%}
with

injections as (
    select * from {{ ref('stg_drills__gpu_fault_injections') }}
),

events as (
    select
        event_key,
        event_type,
        hostname,
        gpu_index,
        started_at,
        measure_value,
        case
            when event_type = 'power_throttle' then {{ dbt.dateadd('second', power_min, 'started_at') }}
            else started_at
        end as detected_at,
        case
            when event_type in ('xid_fatal', 'xid_nonfatal') then 'xid'
            when event_type = 'thermal_throttle' then 'thermal'
            when event_type = 'power_throttle' then 'power'
            when event_type = 'ecc_double_bit' then 'ecc_dbe'
        end as fault_class
    from {{ ref('gpu_health_events') }}
    where gpu_index is not null
),

matches as (
    select
        injections.injection_key,
        events.event_key,
        events.event_type,
        events.started_at,
        events.detected_at,
        row_number() over (partition by injections.injection_key order by events.started_at, events.event_key)
            as match_rank
    from injections
    inner join events
        on injections.hostname = events.hostname
        and injections.gpu_index = events.gpu_index
        and injections.fault_class = events.fault_class
        and events.started_at >= {{ dbt.dateadd('second', -skew, 'injections.injected_at') }}
        and events.started_at <= {{ dbt.dateadd('second', window, 'injections.held_until') }}
        -- an XID is detected as the code injected
        and (injections.fault_class <> 'xid' or events.measure_value = injections.injected_number)
),

readings as (
    select
        injections.injection_key,
        count(samples.sample_at) as readings_in_window
    from injections
    left join {{ ref('int_gpu_samples') }} as samples
        on injections.hostname = samples.hostname
        and injections.gpu_index = samples.gpu_index
        and samples.sample_at >= injections.injected_at
        and samples.sample_at <= {{ dbt.dateadd('second', window, 'injections.held_until') }}
    group by injections.injection_key
),

final as (
    select
        -- grain
        injections.injection_key,
        injections.drill_id,
        injections.injection_date,
        nodes.cluster,
        injections.hostname,
        injections.gpu_index,

        -- what was injected
        coalesce(injections.fault_class, 'unclassified') as fault_class,
        injections.field_id,
        injections.field_name,
        injections.injected_value,
        injections.injected_at,
        injections.duration_seconds,
        injections.held_until,
        injections.note,

        -- what Atlas saw
        readings.readings_in_window,
        matches.event_key is not null as is_detected,
        matches.event_type as detected_as,
        matches.event_key as detected_event_key,
        matches.detected_at,
        {{ dbt.datediff('injections.injected_at', 'matches.detected_at', 'second') }} as seconds_to_detect,
        case
            when matches.event_key is not null then null
            when injections.fault_class is null
                then 'the injected field simulates no fault class Atlas detects (xid, thermal, power, ecc_dbe)'
            when coalesce(readings.readings_in_window, 0) = 0
                then 'no telemetry from the GPU between the injection and ' || '{{ window }}' || ' s after it ended'
            when injections.fault_class = 'power' and injections.duration_seconds < {{ power_min }}
                then 'held ' || cast(injections.duration_seconds as {{ dbt.type_string() }})
                    || ' s: power throttling is an event only after power_throttle_min_seconds ({{ power_min }} s)'
            else 'readings arrived but none showed the fault (a real sample may have overwritten the injected '
                || 'value before the scrape: hold it longer than the scrape interval)'
        end as missed_reason
    from injections
    left join matches
        on injections.injection_key = matches.injection_key
        and matches.match_rank = 1
    left join readings
        on injections.injection_key = readings.injection_key
    left join {{ ref('stg_cluster__gpu_nodes') }} as nodes
        on injections.hostname = nodes.hostname
)

select * from final
