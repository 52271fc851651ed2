{#- dcgm-exporter samples parsed from Prometheus text exposition: one row per sample line
    (`# HELP` / `# TYPE` comments and blank lines are dropped). Parsing uses DuckDB's RE2
    regexp functions. DCGM's blank sentinels (no value, not found, not supported, no permission)
    become NULL values, as dcgm-exporter itself would skip them. -#}
with

source as (
    select
        line,
        x_source_file,
        x_period
    from {{ source('raw_telemetry', 'dcgm_samples') }}
),

sample_lines as (
    select
        line,
        x_source_file,
        x_period
    from source
    where line is not null
        and trim(line) <> ''
        and left(ltrim(line), 1) <> '#'
),

labelled as (
    select
        regexp_extract(line, '^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)', 1) as metric_name,
        -- labels, each matched where it starts (after `{` or `,`), in any order
        nullif(regexp_extract(line, '[{,]\s*gpu="([^"]*)"', 1), '') as gpu_text,
        nullif(regexp_extract(line, '[{,]\s*(?:UUID|uuid)="([^"]*)"', 1), '') as gpu_uuid,
        nullif(regexp_extract(line, '[{,]\s*pci_bus_id="([^"]*)"', 1), '') as pci_bus_id,
        nullif(regexp_extract(line, '[{,]\s*device="([^"]*)"', 1), '') as device,
        nullif(regexp_extract(line, '[{,]\s*modelName="([^"]*)"', 1), '') as gpu_model,
        nullif(regexp_extract(line, '[{,]\s*(?:Hostname|hostname)="([^"]*)"', 1), '') as hostname,
        nullif(regexp_extract(line, '[{,]\s*hpc_job="([^"]*)"', 1), '') as hpc_job_id,
        -- Kubernetes pod mapping (dcgm-exporter --kubernetes): the pod holding the GPU
        nullif(regexp_extract(line, '[{,]\s*namespace="([^"]*)"', 1), '') as k8s_namespace,
        nullif(regexp_extract(line, '[{,]\s*pod="([^"]*)"', 1), '') as k8s_pod,
        nullif(regexp_extract(line, '[{,]\s*container="([^"]*)"', 1), '') as k8s_container,
        -- after the label set (or the bare metric name): `<value> [<timestamp ms>]`
        case
            when {{ dbt.position("'}'", 'line') }} > 0 then regexp_extract(line, '\}([^}]*)$', 1)
            else regexp_extract(line, '^\s*[a-zA-Z_:][a-zA-Z0-9_:]*(.*)$', 1)
        end as sample_text,
        x_source_file,
        x_period
    from sample_lines
),

values_split as (
    select
        metric_name,
        gpu_text,
        gpu_uuid,
        pci_bus_id,
        device,
        gpu_model,
        hostname,
        hpc_job_id,
        k8s_namespace,
        k8s_pod,
        k8s_container,
        x_source_file,
        x_period,
        regexp_extract(sample_text, '^\s*(\S+)', 1) as value_text,
        nullif(regexp_extract(sample_text, '^\s*\S+\s+(-?\d+)', 1), '') as timestamp_ms_text
    from labelled
),

typed as (
    select
        *,
        try_cast(value_text as double) as raw_value,
        try_cast(timestamp_ms_text as bigint) as timestamp_ms
    from values_split
),

final as (
    select
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
        {{ timestamp_from_epoch_ms('timestamp_ms') }} as sample_at,
        cast({{ timestamp_from_epoch_ms('timestamp_ms') }} as date) as sample_date,

        -- lineage
        x_source_file,
        x_period
    from typed
)

select * from final
