{#- dcgm-exporter samples from a Prometheus range-query JSON export: one row per sample, with the
    same columns as stg_dcgm__gpu_samples (the text exposition). Labels come from the series'
    label map; exporter versions differ in `Hostname` / `hostname` and `UUID` / `uuid`. Prometheus
    keeps DCGM's blank sentinels as numbers and writes NaN as `NaN`: both become NULL. -#}
with

source as (
    select
        metric_labels,
        timestamp_text,
        value_text,
        x_source_file,
        x_period
    from {{ source('raw_telemetry', 'dcgm_prometheus_exports') }}
),

labelled as (
    select
        metric_labels['__name__'] as metric_name,
        coalesce(nullif(metric_labels['Hostname'], ''), nullif(metric_labels['hostname'], '')) as hostname,
        nullif(metric_labels['gpu'], '') as gpu_text,
        coalesce(nullif(metric_labels['UUID'], ''), nullif(metric_labels['uuid'], '')) as gpu_uuid,
        nullif(metric_labels['pci_bus_id'], '') as pci_bus_id,
        nullif(metric_labels['device'], '') as device,
        nullif(metric_labels['modelName'], '') as gpu_model,
        nullif(metric_labels['hpc_job'], '') as hpc_job_id,
        nullif(metric_labels['namespace'], '') as k8s_namespace,
        nullif(metric_labels['pod'], '') as k8s_pod,
        nullif(metric_labels['container'], '') as k8s_container,
        try_cast(value_text as double) as raw_value,
        value_text,
        try_cast(timestamp_text as double) as epoch_seconds,
        x_source_file,
        x_period
    from source
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

        -- timestamps (Prometheus times are unix seconds, possibly fractional)
        {{ timestamp_from_epoch_seconds('epoch_seconds') }} as sample_at,
        cast({{ timestamp_from_epoch_seconds('epoch_seconds') }} as date) as sample_date,

        -- lineage
        x_source_file,
        x_period
    from labelled
    where metric_name is not null
)

select * from final
