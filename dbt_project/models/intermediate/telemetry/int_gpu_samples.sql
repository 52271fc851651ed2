{{ config(
    materialized='incremental',
    schema='intermediate',
    on_schema_change='append_new_columns',
    **replace_by_key('sample_date')
) }}
{#- One row per GPU and reading time, from every telemetry source: dcgm-exporter scrapes (text
    exposition), Prometheus range-query exports and nvidia-smi CSV logs, pivoted to one column per
    reading. Incremental by UTC day: a run builds the days named by its telemetry-day partitions
    (var telemetry_days: Dagster's partitions, so a late file for an old day rebuilds that day);
    without them, the newest day already here and every later one. `interval_seconds` is the host's scrape
    interval that day (the smallest gap between its readings), so missed scrapes are not counted. -#}
{%- set dcgm_fields = dcgm_reading_fields() -%}
{#- The readings nvidia-smi logs also print (stg_nvidia_smi__gpu_samples). -#}
{%- set nvidia_smi_readings = ['gpu_util_pct', 'fb_used_mib', 'power_w', 'temperature_c', 'sm_clock_mhz'] -%}
{#- Per GPU from its MIG instances (macros/gpu_telemetry.sql dcgm_instance_readings): how busy, the
    share-weighted sum of the instances' activity (each relative to its instance); framebuffer, the
    sum of theirs; the device readings every instance repeats, once. -#}
{%- set activity_readings = ['gr_engine_active', 'sm_active', 'tensor_active'] -%}
with

instance_readings as (
    {{ dcgm_instance_readings() }}
),

dcgm_pivoted as (
    select
        telemetry_source,
        hostname,
        gpu_index,
        max(gpu_uuid) as gpu_uuid,
        max(gpu_model) as gpu_model,
        -- who held the whole GPU; a MIG GPU's holders are its instances' (int_gpu_instance_samples)
        {%- for column in gpu_holder_columns() %}
        max(case when gpu_instance_id is null then {{ column }} end) as {{ column }},
        {%- endfor %}
        sample_at,
        sample_date,
        {%- for column in dcgm_fields.values() %}
        {%- if column == 'gpu_util_pct' %}
        -- not supported on MIG instances (0 or nothing): a MIG GPU's utilization is its activity
        max(case when gpu_instance_id is null then gpu_util_pct end) as gpu_util_pct,
        {%- elif column in activity_readings %}
        sum({{ column }} * gpu_share) as {{ column }},
        {%- elif column == 'fb_used_mib' %}
        sum(fb_used_mib) as fb_used_mib,
        {%- else %}
        max({{ column }}) as {{ column }},
        {%- endif %}
        {%- endfor %}
        max(throttle_reasons) as throttle_reasons,
        max(xid_last) as xid_last,
        -- the part of the GPU a job held at this reading: 1 or 0 for a whole GPU, the shares of the
        -- held instances for a MIG GPU
        sum(case when hpc_job_id is not null or k8s_pod is not null then gpu_share else 0 end) as held_share,
        count(gpu_instance_id) as mig_instances
    from instance_readings
    group by telemetry_source, hostname, gpu_index, sample_at, sample_date
),

nvidia_smi as (
    select
        'nvidia_smi_csv' as telemetry_source,
        hostname,
        gpu_index,
        gpu_uuid,
        gpu_model,
        -- nvidia-smi does not say who holds the GPU
        {%- for column in gpu_holder_columns() %}
        cast(null as {{ dbt.type_string() }}) as {{ column }},
        {%- endfor %}
        sample_at,
        sample_date,
        -- the readings in dcgm_pivoted's order (a union matches columns by position)
        {%- for column in dcgm_fields.values() %}
        {{ column if column in nvidia_smi_readings else 'cast(null as double) as ' ~ column }},
        {%- endfor %}
        cast(throttle_reasons as bigint) as throttle_reasons,
        cast(null as integer) as xid_last,
        cast(0 as double) as held_share,
        cast(0 as bigint) as mig_instances
    from {{ ref('stg_nvidia_smi__gpu_samples') }}
    where {{ telemetry_files_for_days('x_period') }}
        and {{ telemetry_days_to_build('sample_date', 'sample_date') }}
),

readings as (
    select * from dcgm_pivoted
    union all
    select * from nvidia_smi
),

gaps as (
    select
        hostname,
        sample_date,
        {{ dbt.datediff('lag(sample_at) over (partition by hostname order by sample_at)', 'sample_at', 'second') }}
            as gap_seconds
    from (select distinct hostname, sample_date, sample_at from readings) as scrape_times
),

host_day_intervals as (
    select
        hostname,
        sample_date,
        min(case when gap_seconds > 0 then gap_seconds end) as interval_seconds
    from gaps
    group by hostname, sample_date
),

final as (
    select
        -- ids
        readings.hostname,
        readings.gpu_index,
        readings.gpu_uuid,
        readings.gpu_model,
        readings.telemetry_source,

        -- who held the GPU
        readings.hpc_job_id,
        readings.k8s_namespace,
        readings.k8s_pod,
        readings.k8s_container,
        -- the part of the GPU held by a job (MIG: the held instances' shares), and its MIG
        -- instances reporting (0: a whole GPU)
        readings.held_share,
        readings.mig_instances,

        -- timestamps
        readings.sample_at,
        readings.sample_date,
        coalesce(host_day_intervals.interval_seconds, {{ var('dcgm_scrape_interval_seconds', 30) }})
            as interval_seconds,

        -- readings
        readings.gpu_util_pct,
        readings.gr_engine_active,
        readings.sm_active,
        readings.tensor_active,
        -- how busy the GPU was (0-1): graphics-engine activity, else SM activity, else GPU_UTIL / 100
        coalesce(readings.gr_engine_active, readings.sm_active, readings.gpu_util_pct / cast(100 as double)) as activity,
        readings.fb_used_mib,
        readings.power_w,
        readings.temperature_c,
        readings.sm_clock_mhz,
        -- cumulative throttling time counters (DCGM *_VIOLATION, ns; differenced downstream)
        readings.thermal_violation_counter,
        readings.power_violation_counter,
        readings.throttle_reasons,
        -- host-to-device PCIe traffic, bytes per second (a rate DCGM computes; the profiling field)
        readings.pcie_rx_bytes_per_second,
        -- uncorrectable (double-bit) ECC errors: volatile since the driver loaded, and aggregate
        -- over the GPU's life (counters; a new error is an increase, int_gpu_reading_states)
        readings.ecc_dbe_volatile_total,
        readings.ecc_dbe_aggregate_total,
        -- the XID gauge as read: a new error shows as a change of value (int_gpu_reading_states)
        readings.xid_last
    from readings
    left join host_day_intervals
        on readings.hostname = host_day_intervals.hostname
        and readings.sample_date = host_day_intervals.sample_date
)

select * from final
