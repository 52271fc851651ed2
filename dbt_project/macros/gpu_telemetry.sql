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

{#- columns_or_null for telemetry text formats whose tools print only the fields asked for: in a
    dbt unit test (no relation to introspect) the `required` columns are read as they are. -#}
{% macro telemetry_columns_or_null(relation, columns, required) -%}
    {{ columns_or_null(relation, columns, required) }}
{%- endmacro %}

{#- The cluster and the UTC day of a sacct file from its name: `<cluster>/<YYYY-MM-DD>.sacct.txt`
    as exported, `<cluster>__<YYYY-MM-DD>.sacct.txt` once landed. -#}
{% macro sacct_file_cluster(path) -%}
    regexp_extract({{ path }}, '([^/\\]+?)(?:__|[/\\])\d{4}-\d{2}-\d{2}\.sacct\.txt$', 1)
{%- endmacro %}

{% macro sacct_file_day(path) -%}
    try_cast(regexp_extract({{ path }}, '(\d{4}-\d{2}-\d{2})\.sacct\.txt$', 1) as date)
{%- endmacro %}
