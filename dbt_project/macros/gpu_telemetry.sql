{#- DCGM's blank sentinels (no value, not found, not supported, no permission) and NaN become NULL,
    as dcgm-exporter itself would skip them. `raw_value` is a DOUBLE. -#}
{% macro dcgm_value(raw_value) -%}
    case
        when {{ raw_value }} is null or isnan({{ raw_value }}) then null
        -- DCGM_FP64_BLANK .. DCGM_FP64_NOT_PERMISSIONED
        when {{ raw_value }} between 140737488355328 and 140737488355331 then null
        -- DCGM_INT32_BLANK .. DCGM_INT32_NOT_PERMISSIONED
        when {{ raw_value }} between 2147483632 and 2147483635 then null
        -- DCGM_INT64_BLANK .. DCGM_INT64_NOT_PERMISSIONED (all round to 2^63 as doubles)
        when {{ raw_value }} >= 9223372036854775792 then null
        else {{ raw_value }}
    end
{%- endmacro %}

{#- A Prometheus exposition label's value from the text `series` (`name{label="value",...}`), NULL
    when absent or empty. `name` is an RE2 pattern (`(?:UUID|uuid)` for the spellings of one label);
    the label is matched where it starts, after `{` or `,`, so labels may come in any order. -#}
{% macro exposition_label(series, name) -%}
    nullif(regexp_extract({{ series }}, '[{,]\s*{{ name }}="([^"]*)"', 1), '')
{%- endmacro %}

{#- The columns of a dcgm-exporter staging model (stg_dcgm__gpu_samples from text exposition,
    stg_prometheus__dcgm_samples from Prometheus JSON: int_gpu_samples unions them), from a relation
    holding the labels (`gpu_text` as written), `raw_value` (DOUBLE), `value_text`, the lineage
    columns, and `sample_at`, the SQL of the sample's UTC timestamp. -#}
{% macro dcgm_sample_columns(sample_at) -%}
        -- ids
        metric_name,
        hostname,
        try_cast(gpu_text as integer) as gpu_index,
        gpu_uuid,
        pci_bus_id,
        device,
        gpu_model,
        -- a MIG GPU instance: dcgm-exporter's GPU_I_ID (unique within its GPU) and GPU_I_PROFILE
        try_cast(gpu_instance_text as integer) as gpu_instance_id,
        gpu_instance_profile,
        hpc_job_id,
        k8s_namespace,
        k8s_pod,
        k8s_container,

        -- value
        {{ dcgm_value('raw_value') }} as value,
        value_text,

        -- timestamps
        {{ sample_at }} as sample_at,
        cast({{ sample_at }} as date) as sample_date,

        -- lineage
        x_source_file,
        x_period
{%- endmacro %}

{#- The samples of a Prometheus range-query export (`relation`: its raw view, read by
    lib/ingest/raw_telemetry.py), one row per sample: the series' label map, the metric name, the
    value as DOUBLE (NaN as written stays NaN) and as written, the time in unix seconds (possibly
    fractional), and the lineage columns. -#}
{% macro prometheus_range_samples(relation) -%}
    select
        metric_labels,
        metric_labels['__name__'] as metric_name,
        try_cast(value_text as double) as raw_value,
        value_text,
        try_cast(timestamp_text as double) as epoch_seconds,
        x_source_file,
        x_period
    from {{ relation }}
{%- endmacro %}

{#- An nvidia-smi CSV value as a number: `87 %`, `512.25 W`, `1980 MHz`, `0x...1F` stay numbers
    (units dropped, hex parsed); `[N/A]`, `[Not Supported]`, `[Unknown Error]` become NULL. -#}
{% macro nvidia_smi_number(column) -%}
    case
        when {{ regex_matches('trim(' ~ column ~ ')', "'^0x[0-9A-Fa-f]+$'") }}
            then {{ hex_to_bigint('trim(' ~ column ~ ')') }}
        else try_cast(nullif(regexp_extract(trim({{ column }}), '^(-?[0-9]+(?:\.[0-9]+)?)', 1), '') as double)
    end
{%- endmacro %}

{#- nvidia-smi's `Active` / `Not Active` flags as BOOLEAN (NULL for `[N/A]`). -#}
{% macro nvidia_smi_flag(column) -%}
    case lower(trim({{ column }})) when 'active' then true when 'not active' then false end
{%- endmacro %}

{#- NVML clock event (throttle) reason bits, as DCGM_FI_DEV_CLOCK_THROTTLE_REASONS reports them. -#}
{% macro throttle_bit(reason) -%}
    {{ {'gpu_idle': 1, 'applications_clocks_setting': 2, 'sw_power_cap': 4, 'hw_slowdown': 8,
        'sync_boost': 16, 'sw_thermal_slowdown': 32, 'hw_thermal_slowdown': 64,
        'hw_power_brake_slowdown': 128}[reason] }}
{%- endmacro %}

{#- The cluster and the UTC day of a sacct file from its name: `<cluster>/<YYYY-MM-DD>.sacct.txt`
    as exported, `<cluster>__<YYYY-MM-DD>.sacct.txt` once landed. -#}
{% macro sacct_file_cluster(path) -%}
    regexp_extract({{ path }}, '([^/\\]+?)(?:__|[/\\])\d{4}-\d{2}-\d{2}\.sacct\.txt$', 1)
{%- endmacro %}

{% macro sacct_file_day(path) -%}
    try_cast(regexp_extract({{ path }}, '(\d{4}-\d{2}-\d{2})\.sacct\.txt$', 1) as date)
{%- endmacro %}

{#- The UTC hours a Slurm allocation spans, its first (partial) hour included: how many hours
    int_gpu_job_hours generates for it, and what assert_gpu_allocations_counted compares with var
    gpu_max_job_hours. -#}
{% macro allocation_hours(started_at, allocated_until) -%}
    ({{ dbt.datediff(dbt.date_trunc('hour', started_at), allocated_until, 'hour') }} + 1)
{%- endmacro %}

{#- The compute slices of a MIG profile as dcgm-exporter (`3g.40gb`, `7g.79gb`) and Slurm's typed
    gres (`a100_3g.20gb`) write it: `<n>g.<m>gb` holds n of the GPU's slices. NULL when `text` names
    no profile. -#}
{% macro mig_profile_slices(text) -%}
    try_cast(nullif(regexp_extract({{ text }}, '([0-9]+)g[.][0-9]+gb', 1), '') as integer)
{%- endmacro %}

{#- The compute slices a MIG GPU of a model divides into: gpu_model_specs.mig_compute_slices
    (`column`), else var gpu_mig_compute_slices for a model it does not list. -#}
{% macro model_mig_slices(column) -%}
    coalesce({{ column }}, {{ var('gpu_mig_compute_slices', 7) }})
{%- endmacro %}

{#- The dcgm-exporter fields Atlas reads -> their int_gpu_samples column. -#}
{% macro dcgm_reading_fields() -%}
    {{ return({
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
    }) }}
{%- endmacro %}

{#- Who held a GPU (or a MIG instance of it): dcgm-exporter's HPC job and Kubernetes pod labels. -#}
{% macro gpu_holder_columns() -%}
    {{ return(['hpc_job_id', 'k8s_namespace', 'k8s_pod', 'k8s_container']) }}
{%- endmacro %}

{#- The dcgm-exporter readings of the telemetry days being built (text exposition and Prometheus
    JSON), one row per GPU instance and reading time, one column per field (dcgm_reading_fields):
    a whole GPU (gpu_instance_id NULL), or one MIG instance of it (`mig_only`: those alone).

    On a MIG GPU dcgm-exporter writes only instance series (NVIDIA/dcgm-exporter: profiling fields
    and framebuffer are the instance's, GR_ENGINE_ACTIVE 1.0 = the instance busy; power,
    temperature, clocks, XID and ECC repeat the whole GPU's value on every instance; GPU_UTIL is not
    supported there and reads 0 or nothing). `gpu_share` is the part of the GPU an instance holds:
    its profile's compute slices over the model's (gpu_model_specs.mig_compute_slices, else var
    gpu_mig_compute_slices: `3g.40gb` on an H100 = 3/7); a profile that does not read as `<n>g.…`
    shares the GPU evenly with the instances reporting beside it, so no GPU-hour is lost. 1 for a
    whole GPU. -#}
{% macro dcgm_instance_readings(mig_only=false) -%}
    {%- set fields = dcgm_reading_fields() -%}
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
            {%- if mig_only %}
            and gpu_instance_id is not null
            {%- endif %}
            -- the days being built (their files only: DuckDB skips the others), macros/incremental.sql
            and {{ telemetry_files_for_days('x_period') }}
            and {{ telemetry_days_to_build('sample_date', 'sample_date') }}
    ),

    pivoted as (
        select
            telemetry_source,
            hostname,
            gpu_index,
            gpu_instance_id,
            max(gpu_instance_profile) as gpu_instance_profile,
            max(gpu_uuid) as gpu_uuid,
            max(gpu_model) as gpu_model,
            {%- for column in gpu_holder_columns() %}
            max({{ column }}) as {{ column }},
            {%- endfor %}
            sample_at,
            sample_date,
            {%- for field, column in fields.items() %}
            max(case when metric_name = '{{ field }}' then value end) as {{ column }},
            {%- endfor %}
            -- the bitmask is exact in a DOUBLE (< 2^53)
            cast(max(case
                when metric_name in ('DCGM_FI_DEV_CLOCK_THROTTLE_REASONS', 'DCGM_FI_DEV_CLOCKS_EVENT_REASONS') then value
            end) as bigint) as throttle_reasons,
            -- a gauge holding the last XID the GPU raised (0 = none since the driver loaded)
            cast(max(case when metric_name = 'DCGM_FI_DEV_XID_ERRORS' then value end) as integer) as xid_last
        from dcgm_window
        group by telemetry_source, hostname, gpu_index, gpu_instance_id, sample_at, sample_date
    ),

    model_slices as (
        select gpu_model, mig_compute_slices from {{ ref('gpu_model_specs') }}
    )

    {%- set profile_slices = mig_profile_slices('pivoted.gpu_instance_profile') %}
    {%- set gpu_slices = model_mig_slices('model_slices.mig_compute_slices') %}
    select
        pivoted.*,
        case
            when pivoted.gpu_instance_id is null then cast(1 as double)
            -- (least() would skip a NULL and give 1)
            when {{ profile_slices }} is null then cast(1 as double) / count(*) over (
                partition by pivoted.telemetry_source, pivoted.hostname, pivoted.gpu_index, pivoted.sample_at)
            when {{ profile_slices }} >= {{ gpu_slices }} then cast(1 as double)
            else {{ profile_slices }} / cast({{ gpu_slices }} as double)
        end as gpu_share
    from pivoted
    left join model_slices
        on pivoted.gpu_model = model_slices.gpu_model
{%- endmacro %}
