{{ config(materialized='table') }}
{#- What state each GPU was in at each reading, judged by physics, once for every health model:

    busy            activity (GR_ENGINE_ACTIVE, else SM_ACTIVE, else GPU_UTIL / 100) at or above
                    `gpu_busy_activity` (0.3: a GPU doing real work; idle GPUs read ~0).
    thermal_throttled  the GPU was slowed for heat: DCGM_FI_DEV_THERMAL_VIOLATION (a cumulative
                    counter of throttled time) rose by at least `throttle_min_fraction` of the time
                    since the previous reading, or the clock event reason bits say SW/HW thermal
                    slowdown (0x20, 0x40), or the temperature reached the model's slowdown
                    temperature (gpu_model_specs; HW slowdown engages there).
    power_throttled the same from DCGM_FI_DEV_POWER_VIOLATION, or the SW power cap / HW power
                    brake bits (0x4, 0x80).
    ecc_dbe_raised  an uncorrectable (double-bit) ECC error: DCGM_FI_DEV_ECC_DBE_VOL_TOTAL (else the
                    aggregate DCGM_FI_DEV_ECC_DBE_AGG_TOTAL) rose since the previous reading. The
                    volatile counter restarts at 0 when the driver reloads: a decrease is a reset,
                    not an error (the first reading of a GPU is not judged: no baseline).
    xid_raised      the DCGM XID field is a gauge holding the last error: a new error is a change
                    to a non-zero value from the previous reading of the GPU (the first reading of
                    a GPU showing one counts too), so one error is one event at any scrape interval.

    Counters are differenced per GPU in time order; a decrease is a counter reset (driver reload,
    reboot) and the increase is then the new value itself, as Prometheus's increase() does. The
    counter unit is `violation_counter_unit_seconds` (1e-9: nanoseconds, as NVML reports violation
    time and DCGM documents it; older DCGM headers said microseconds). -#}
{%- set busy = var('gpu_busy_activity', 0.3) -%}
{%- set min_fraction = var('throttle_min_fraction', 0.1) -%}
{%- set unit = var('violation_counter_unit_seconds', 1e-9) -%}
{#- NVML clock event reason bits: SW thermal 0x20 + HW thermal 0x40; SW power cap 0x4 + HW power brake 0x80 -#}
{%- set thermal_bits = 96 -%}
{%- set power_bits = 132 -%}
with

samples as (
    select * from {{ ref('int_gpu_samples') }}
),

specs as (
    select * from {{ ref('gpu_model_specs') }}
),

ordered as (
    select
        samples.hostname,
        samples.gpu_index,
        samples.sample_at,
        samples.sample_date,
        samples.interval_seconds,
        samples.activity,
        samples.temperature_c,
        samples.sm_clock_mhz,
        samples.throttle_reasons,
        samples.xid_last,
        specs.slowdown_temp_c,
        {{ dbt.datediff('lag(samples.sample_at) over (partition by samples.hostname, samples.gpu_index order by samples.sample_at)', 'samples.sample_at', 'second') }}
            as gap_seconds,
        samples.thermal_violation_counter
            - lag(samples.thermal_violation_counter) over (partition by samples.hostname, samples.gpu_index order by samples.sample_at)
            as thermal_counter_step,
        samples.thermal_violation_counter,
        samples.power_violation_counter
            - lag(samples.power_violation_counter) over (partition by samples.hostname, samples.gpu_index order by samples.sample_at)
            as power_counter_step,
        samples.power_violation_counter,
        lag(samples.xid_last) over (partition by samples.hostname, samples.gpu_index order by samples.sample_at)
            as previous_xid,
        coalesce(samples.ecc_dbe_volatile_total, samples.ecc_dbe_aggregate_total)
            - lag(coalesce(samples.ecc_dbe_volatile_total, samples.ecc_dbe_aggregate_total))
                over (partition by samples.hostname, samples.gpu_index order by samples.sample_at)
            as ecc_dbe_step
    from samples
    left join specs
        on samples.gpu_model = specs.gpu_model
),

increases as (
    select
        *,
        -- counter increase since the previous reading; after a reset (the counter went down) the
        -- new value is the increase
        case when thermal_counter_step < 0 then thermal_violation_counter else thermal_counter_step end
            * {{ unit }} / nullif(gap_seconds, 0) as thermal_share,
        case when power_counter_step < 0 then power_violation_counter else power_counter_step end
            * {{ unit }} / nullif(gap_seconds, 0) as power_share
    from ordered
),

fractions as (
    select
        *,
        -- share of the time since the previous reading the GPU spent throttled (0-1); NULL without
        -- counters (least() would skip a NULL)
        case when thermal_share > 1 then 1.0 else thermal_share end as thermal_throttle_fraction,
        case when power_share > 1 then 1.0 else power_share end as power_throttle_fraction
    from increases
),

final as (
    select
        -- grain
        hostname,
        gpu_index,
        sample_at,
        sample_date,
        interval_seconds,

        -- readings the states come from
        activity,
        temperature_c,
        sm_clock_mhz,
        thermal_throttle_fraction,
        power_throttle_fraction,

        -- states
        coalesce(activity >= {{ busy }}, false) as is_busy,
        coalesce(thermal_throttle_fraction >= {{ min_fraction }}, false)
            or (coalesce(throttle_reasons, 0) & {{ thermal_bits }}) <> 0
            or coalesce(temperature_c >= slowdown_temp_c, false) as is_thermal_throttled,
        coalesce(power_throttle_fraction >= {{ min_fraction }}, false)
            or (coalesce(throttle_reasons, 0) & {{ power_bits }}) <> 0
            as is_power_throttled,
        case
            when coalesce(thermal_throttle_fraction >= {{ min_fraction }}, false) then 'violation counter'
            when (coalesce(throttle_reasons, 0) & {{ thermal_bits }}) <> 0
                then 'clock event reason'
            when coalesce(temperature_c >= slowdown_temp_c, false) then 'slowdown temperature'
        end as thermal_evidence,
        coalesce(xid_last, 0) <> 0 and xid_last is distinct from previous_xid as is_xid_raised,
        xid_last,
        coalesce(ecc_dbe_step > 0, false) as is_ecc_dbe_raised,
        case when ecc_dbe_step > 0 then ecc_dbe_step else 0 end as ecc_dbe_new_errors
    from fractions
)

select * from final
