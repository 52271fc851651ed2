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
