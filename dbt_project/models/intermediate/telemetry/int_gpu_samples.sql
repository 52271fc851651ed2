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
{%- set dcgm_fields = {
    'DCGM_FI_DEV_GPU_UTIL': 'gpu_util_pct',
    'DCGM_FI_PROF_GR_ENGINE_ACTIVE': 'gr_engine_active',
    'DCGM_FI_PROF_SM_ACTIVE': 'sm_active',
    'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE': 'tensor_active',
    'DCGM_FI_DEV_FB_USED': 'fb_used_mib',
    'DCGM_FI_DEV_POWER_USAGE': 'power_w',
    'DCGM_FI_DEV_GPU_TEMP': 'temperature_c',
    'DCGM_FI_DEV_SM_CLOCK': 'sm_clock_mhz',
    'DCGM_FI_DEV_THERMAL_VIOLATION': 'thermal_violation_counter',
    'DCGM_FI_DEV_POWER_VIOLATION': 'power_violation_counter',
    'DCGM_FI_PROF_PCIE_RX_BYTES': 'pcie_rx_bytes_per_second',
    'DCGM_FI_DEV_ECC_DBE_VOL_TOTAL': 'ecc_dbe_volatile_total',
    'DCGM_FI_DEV_ECC_DBE_AGG_TOTAL': 'ecc_dbe_aggregate_total',
} -%}
{#- The readings nvidia-smi logs also print (stg_nvidia_smi__gpu_samples), and who held the GPU
    (dcgm-exporter's HPC job and Kubernetes pod labels). -#}
{%- set nvidia_smi_readings = ['gpu_util_pct', 'fb_used_mib', 'power_w', 'temperature_c', 'sm_clock_mhz'] -%}
{%- set holder_columns = ['hpc_job_id', 'k8s_namespace', 'k8s_pod', 'k8s_container'] -%}
with

dcgm_samples as (
    select 'dcgm_text' as telemetry_source, * from {{ ref('stg_dcgm__gpu_samples') }}
    union all
    select 'prometheus_json' as telemetry_source, * from {{ ref('stg_prometheus__dcgm_samples') }}
),

dcgm_window as (
    select *
    from dcgm_samples
    where sample_at is not null
        and hostname is not null
        and gpu_index is not null
        -- the days being built (their files only: DuckDB skips the others), macros/incremental.sql
        and {{ telemetry_files_for_days('x_period') }}
        and {{ telemetry_days_to_build('sample_date', 'sample_date') }}
),

dcgm_pivoted as (
    select
        telemetry_source,
        hostname,
        gpu_index,
        max(gpu_uuid) as gpu_uuid,
        max(gpu_model) as gpu_model,
        {%- for column in holder_columns %}
        max({{ column }}) as {{ column }},
        {%- endfor %}
        sample_at,
        sample_date,
        {%- for field, column in dcgm_fields.items() %}
        max(case when metric_name = '{{ field }}' then value end) as {{ column }},
        {%- endfor %}
        -- the bitmask is exact in a DOUBLE (< 2^53)
        cast(max(case
            when metric_name in ('DCGM_FI_DEV_CLOCK_THROTTLE_REASONS', 'DCGM_FI_DEV_CLOCKS_EVENT_REASONS') then value
        end) as bigint) as throttle_reasons,
        -- a gauge holding the last XID the GPU raised (0 = none since the driver loaded)
        cast(max(case when metric_name = 'DCGM_FI_DEV_XID_ERRORS' then value end) as integer) as xid_last
    from dcgm_window
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
        {%- for column in holder_columns %}
        cast(null as {{ dbt.type_string() }}) as {{ column }},
        {%- endfor %}
        sample_at,
        sample_date,
        -- the readings in dcgm_pivoted's order (a union matches columns by position)
        {%- for column in dcgm_fields.values() %}
        {{ column if column in nvidia_smi_readings else 'cast(null as double) as ' ~ column }},
        {%- endfor %}
        cast(throttle_reasons as bigint) as throttle_reasons,
        cast(null as integer) as xid_last
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
