{#- nvidia-smi `--query-gpu ... --format=csv` logs: one row per GPU per logged line. Units are
    dropped from values (`87 %`, `512.25 W`) and `[N/A]` becomes NULL. Clock event reasons come as
    `clocks_event_reasons.*` (drivers >= 535) or `clocks_throttle_reasons.*` (older): either is read.
    Fields a log did not query are NULL. Timestamps are the host's clock; hosts log in UTC. -#}
{%- set wanted = {
    'timestamp': 'varchar', 'index': 'varchar', 'name': 'varchar', 'uuid': 'varchar', 'pci.bus_id': 'varchar',
    'hostname': 'varchar',
    'utilization.gpu [%]': 'varchar', 'utilization.memory [%]': 'varchar',
    'memory.used [MiB]': 'varchar', 'memory.total [MiB]': 'varchar', 'power.draw [W]': 'varchar',
    'power.draw.instant [W]': 'varchar', 'enforced.power.limit [W]': 'varchar',
    'temperature.gpu': 'varchar', 'clocks.current.sm [MHz]': 'varchar', 'clocks.max.sm [MHz]': 'varchar',
    'clocks_event_reasons.active': 'varchar', 'clocks_throttle_reasons.active': 'varchar',
    'clocks_event_reasons.sw_power_cap': 'varchar', 'clocks_throttle_reasons.sw_power_cap': 'varchar',
    'clocks_event_reasons.hw_slowdown': 'varchar', 'clocks_throttle_reasons.hw_slowdown': 'varchar',
    'clocks_event_reasons.sw_thermal_slowdown': 'varchar', 'clocks_throttle_reasons.sw_thermal_slowdown': 'varchar',
    'clocks_event_reasons.hw_thermal_slowdown': 'varchar', 'clocks_throttle_reasons.hw_thermal_slowdown': 'varchar',
    'clocks_event_reasons.hw_power_brake_slowdown': 'varchar',
    'clocks_throttle_reasons.hw_power_brake_slowdown': 'varchar',
    'x_source_file': 'varchar', 'x_period': 'varchar',
} -%}
with

source as (
    select
        {{ columns_or_null(source('raw_telemetry', 'nvidia_smi_logs'), wanted) }}
    from {{ source('raw_telemetry', 'nvidia_smi_logs') }}
),

renamed as (
    select
        -- ids: the host from the `hostname` field when queried, else from the file name
        coalesce(
            nullif(nullif(trim("hostname"), '[N/A]'), ''),
            regexp_extract(x_source_file, '([^/\\_]+?)\.csv$', 1)
        ) as hostname,
        try_cast(trim("index") as integer) as gpu_index,
        nullif(trim("uuid"), '[N/A]') as gpu_uuid,
        nullif(trim("pci.bus_id"), '[N/A]') as pci_bus_id,
        nullif(trim("name"), '[N/A]') as gpu_model,

        -- readings
        {{ nvidia_smi_number('"utilization.gpu [%]"') }} as gpu_util_pct,
        {{ nvidia_smi_number('"utilization.memory [%]"') }} as memory_util_pct,
        {{ nvidia_smi_number('"memory.used [MiB]"') }} as fb_used_mib,
        {{ nvidia_smi_number('"memory.total [MiB]"') }} as fb_total_mib,
        coalesce(
            {{ nvidia_smi_number('"power.draw [W]"') }}, {{ nvidia_smi_number('"power.draw.instant [W]"') }}
        ) as power_w,
        {{ nvidia_smi_number('"enforced.power.limit [W]"') }} as power_limit_w,
        {{ nvidia_smi_number('"temperature.gpu"') }} as temperature_c,
        {{ nvidia_smi_number('"clocks.current.sm [MHz]"') }} as sm_clock_mhz,
        {{ nvidia_smi_number('"clocks.max.sm [MHz]"') }} as max_sm_clock_mhz,

        -- clock event (throttle) reasons: the bitmask, else rebuilt from the per-reason flags
        coalesce(
            {{ nvidia_smi_number('coalesce("clocks_event_reasons.active", "clocks_throttle_reasons.active")') }},
            case when {{ nvidia_smi_flag('coalesce("clocks_event_reasons.sw_power_cap", "clocks_throttle_reasons.sw_power_cap")') }} then {{ throttle_bit('sw_power_cap') }} else 0 end
            + case when {{ nvidia_smi_flag('coalesce("clocks_event_reasons.hw_slowdown", "clocks_throttle_reasons.hw_slowdown")') }} then {{ throttle_bit('hw_slowdown') }} else 0 end
            + case when {{ nvidia_smi_flag('coalesce("clocks_event_reasons.sw_thermal_slowdown", "clocks_throttle_reasons.sw_thermal_slowdown")') }} then {{ throttle_bit('sw_thermal_slowdown') }} else 0 end
            + case when {{ nvidia_smi_flag('coalesce("clocks_event_reasons.hw_thermal_slowdown", "clocks_throttle_reasons.hw_thermal_slowdown")') }} then {{ throttle_bit('hw_thermal_slowdown') }} else 0 end
            + case when {{ nvidia_smi_flag('coalesce("clocks_event_reasons.hw_power_brake_slowdown", "clocks_throttle_reasons.hw_power_brake_slowdown")') }} then {{ throttle_bit('hw_power_brake_slowdown') }} else 0 end
        ) as throttle_reasons,

        -- timestamps: `YYYY/MM/DD HH:MM:SS.mmm`
        {{ try_parse_timestamp('trim("timestamp")', '%Y/%m/%d %H:%M:%S.%g') }} as sample_at,

        -- lineage (x_period: the file's delivery day)
        x_source_file,
        x_period
    from source
),

final as (
    select
        *,
        cast(sample_at as date) as sample_date
    from renamed
    where sample_at is not null
        and gpu_index is not null
)

select * from final
