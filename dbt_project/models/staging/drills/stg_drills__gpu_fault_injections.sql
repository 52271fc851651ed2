{#- Fault-drill logs: one row per DCGM field value injected on purpose (`dcgmi test --inject --gpuid
    <gpu> -f <field> -v <value>`). The fault class is the log's, else the field's
    (seeds/dcgm_fault_fields); clock-event-reason injections are thermal or power by their bits.
    An injection holds until `injected_at + duration_seconds` (re-injected every second; 0 = once). -#}
with

source as (
    select
        {{ columns_or_null(source('raw_telemetry', 'gpu_fault_injections'), {
            'drill_id': 'varchar', 'injected_at': 'timestamp with time zone', 'hostname': 'varchar',
            'gpu_index': 'bigint', 'field_id': 'bigint', 'value': 'varchar', 'duration_seconds': 'bigint',
            'fault_class': 'varchar', 'note': 'varchar', 'x_source_file': 'varchar', 'x_source_row': 'bigint',
        }, required=['drill_id', 'injected_at', 'hostname', 'gpu_index', 'field_id', 'value', 'duration_seconds',
                     'fault_class', 'note', 'x_source_file', 'x_source_row']) }}
    from {{ source('raw_telemetry', 'gpu_fault_injections') }}
),

fields as (
    select * from {{ ref('dcgm_fault_fields') }}
),

renamed as (
    select
        -- ids
        trim(source.drill_id) as drill_id,
        trim(source.hostname) as hostname,
        cast(source.gpu_index as integer) as gpu_index,
        cast(source.field_id as integer) as field_id,
        fields.field_name,
        trim(source.value) as injected_value,
        try_cast(trim(source.value) as double) as injected_number,

        -- what it simulates
        coalesce(
            nullif(lower(trim(source.fault_class)), ''),
            case
                when fields.fault_class <> 'clock_event_reasons' then fields.fault_class
                -- NVML clock event reason bits: thermal 0x20 | 0x40, power 0x4 | 0x80
                when (coalesce(try_cast(trim(source.value) as bigint), 0) & 96) <> 0 then 'thermal'
                when (coalesce(try_cast(trim(source.value) as bigint), 0) & 132) <> 0 then 'power'
            end
        ) as fault_class,
        nullif(trim(source.note), '') as note,

        -- timestamps (UTC)
        {{ utc_wall_clock('source.injected_at') }} as injected_at,
        coalesce(source.duration_seconds, 0) as duration_seconds,

        -- lineage
        source.x_source_file,
        source.x_source_row
    from source
    left join fields
        on cast(source.field_id as integer) = fields.field_id
),

final as (
    select
        {{ dbt.concat(['drill_id', "'|'", 'hostname', "':'", 'cast(gpu_index as ' ~ dbt.type_string() ~ ')', "'|'",
                       'cast(field_id as ' ~ dbt.type_string() ~ ')', "'@'", format_timestamp('injected_at', '%Y-%m-%dT%H:%M:%S')]) }}
            as injection_key,
        *,
        {{ dbt.dateadd('second', 'duration_seconds', 'injected_at') }} as held_until,
        cast(injected_at as date) as injection_date
    from renamed
)

select * from final
