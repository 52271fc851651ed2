{#- dcgm-exporter samples from a Prometheus range-query JSON export: one row per sample, with the
    same columns as stg_dcgm__gpu_samples (the text exposition). Labels come from the series'
    label map; exporter versions differ in `Hostname` / `hostname` and `UUID` / `uuid`. Prometheus
    keeps DCGM's blank sentinels as numbers and writes NaN as `NaN`: both become NULL. -#}
with

source as (
    {{ prometheus_range_samples(source('raw_telemetry', 'dcgm_prometheus_exports')) }}
),

labelled as (
    select
        metric_name,
        coalesce(nullif(metric_labels['Hostname'], ''), nullif(metric_labels['hostname'], '')) as hostname,
        nullif(metric_labels['gpu'], '') as gpu_text,
        coalesce(nullif(metric_labels['UUID'], ''), nullif(metric_labels['uuid'], '')) as gpu_uuid,
        nullif(metric_labels['pci_bus_id'], '') as pci_bus_id,
        nullif(metric_labels['device'], '') as device,
        nullif(metric_labels['modelName'], '') as gpu_model,
        nullif(metric_labels['GPU_I_ID'], '') as gpu_instance_text,
        nullif(metric_labels['GPU_I_PROFILE'], '') as gpu_instance_profile,
        nullif(metric_labels['hpc_job'], '') as hpc_job_id,
        nullif(metric_labels['namespace'], '') as k8s_namespace,
        nullif(metric_labels['pod'], '') as k8s_pod,
        nullif(metric_labels['container'], '') as k8s_container,
        raw_value,
        value_text,
        epoch_seconds,
        x_source_file,
        x_period
    from source
),

final as (
    select
        -- Prometheus times are unix seconds, possibly fractional
        {{ dcgm_sample_columns(timestamp_from_epoch_seconds('epoch_seconds')) }}
    from labelled
    where metric_name is not null
)

select * from final
