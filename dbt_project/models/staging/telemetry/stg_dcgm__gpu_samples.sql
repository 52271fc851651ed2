{{ config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    **replace_by_key('x_period')
) }}
{#- dcgm-exporter samples parsed from Prometheus text exposition: one row per sample line
    (`# HELP` / `# TYPE` comments and blank lines are dropped). Parsing uses DuckDB's RE2
    regexp functions. DCGM's blank sentinels (no value, not found, not supported, no permission)
    become NULL values, as dcgm-exporter itself would skip them.

    Parsed once: a table, replaced per delivered day (`x_period`, the telemetry-day partitions a run
    builds), so int_gpu_samples and the checks read typed columns instead of parsing the text again.
    A line is `<series> <value> [<timestamp ms>]`, the series being the metric name and its label
    set; a file repeats each series at every scrape, so the labels are parsed once per distinct
    series (about 1 line in 80), not once per line. -#}
with

source as (
    select
        line,
        x_source_file,
        x_period
    from {{ source('raw_telemetry', 'dcgm_samples') }}
    {%- if is_incremental() %}
    where {{ telemetry_files_to_build('x_period') }}
    {%- endif %}
),

sample_lines as (
    -- neither blank nor a comment (NULL lines drop out too)
    select
        line,
        x_source_file,
        x_period
    from source
    where left(ltrim(line), 1) not in ('', '#')
),

samples as (
    -- after the label set (or the bare metric name): `<value> [<timestamp ms>]`
    select
        line,
        case
            when {{ dbt.position("'}'", 'line') }} > 0 then {{ dbt.split_part('line', "'}'", -1) }}
            else regexp_extract(line, '^\s*[a-zA-Z_:][a-zA-Z0-9_:]*(.*)$', 1)
        end as sample_text,
        x_source_file,
        x_period
    from sample_lines
),

series_samples as (
    select
        -- the line without its sample: what the labels are read from. A line without a label set,
        -- or whose sample holds a quote, is its own series: labels are then read from the whole
        -- line, as a label pattern could match across the end of the label set.
        case
            when {{ dbt.position("'}'", 'line') }} > 0 and {{ dbt.position("'\"'", 'sample_text') }} = 0
                then left(line, length(line) - length(sample_text))
            else line
        end as series,
        sample_text,
        x_source_file,
        x_period
    from samples
),

series as (
    select
        series,
        regexp_extract(series, '^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)', 1) as metric_name,
        -- labels, each matched where it starts (after `{` or `,`), in any order
        {{ exposition_label('series', 'gpu') }} as gpu_text,
        {{ exposition_label('series', '(?:UUID|uuid)') }} as gpu_uuid,
        {{ exposition_label('series', 'pci_bus_id') }} as pci_bus_id,
        {{ exposition_label('series', 'device') }} as device,
        {{ exposition_label('series', 'modelName') }} as gpu_model,
        {{ exposition_label('series', '(?:Hostname|hostname)') }} as hostname,
        -- a MIG GPU instance (absent on a whole GPU): its GPU-instance id and profile (e.g. 3g.40gb)
        {{ exposition_label('series', 'GPU_I_ID') }} as gpu_instance_text,
        {{ exposition_label('series', 'GPU_I_PROFILE') }} as gpu_instance_profile,
        {{ exposition_label('series', 'hpc_job') }} as hpc_job_id,
        -- Kubernetes pod mapping (dcgm-exporter --kubernetes): the pod holding the GPU
        {{ exposition_label('series', 'namespace') }} as k8s_namespace,
        {{ exposition_label('series', 'pod') }} as k8s_pod,
        {{ exposition_label('series', 'container') }} as k8s_container
    from (select distinct series from series_samples) as distinct_series
),

labelled as (
    select
        series.metric_name,
        series.gpu_text,
        series.gpu_uuid,
        series.pci_bus_id,
        series.device,
        series.gpu_model,
        series.hostname,
        series.gpu_instance_text,
        series.gpu_instance_profile,
        series.hpc_job_id,
        series.k8s_namespace,
        series.k8s_pod,
        series.k8s_container,
        regexp_extract(series_samples.sample_text, '^\s*(\S+)', 1) as value_text,
        nullif(regexp_extract(series_samples.sample_text, '^\s*\S+\s+(-?\d+)', 1), '') as timestamp_ms_text,
        series_samples.x_source_file,
        series_samples.x_period
    from series_samples
    inner join series
        on series_samples.series = series.series
),

typed as (
    select
        *,
        try_cast(value_text as double) as raw_value,
        try_cast(timestamp_ms_text as bigint) as timestamp_ms
    from labelled
),

final as (
    select
        {{ dcgm_sample_columns(timestamp_from_epoch_ms('timestamp_ms')) }}
    from typed
)

select * from final
