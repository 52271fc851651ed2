{#- The GPU readings that carry a job's labels (dcgm-exporter's `hpc_job` for Slurm, `pod` /
    `namespace` for Kubernetes), each with its host's cluster (int_gpu_host_clusters: the
    inventory's, else the one cluster whose Slurm jobs ran on it): where every per-job GPU model
    starts (int_gpu_job_activity_hourly, int_gpu_idle_causes_hourly, fct_gpu_job_usage,
    int_gpu_job_hours). A host neither names has no job to match and is not here
    (assert_gpu_hosts_in_inventory lists it).

    A whole GPU's reading stands for the whole GPU (`gpu_share` 1). A GPU in MIG mode is shared: each
    held instance (int_gpu_instance_samples) is a reading of its own, with its holder, its own
    activity and framebuffer and its `gpu_share` of the GPU, the GPU's device readings (power,
    temperature, clocks) beside it. `gpu_seconds` (interval x share) is what the reading stands
    for: per-job GPU-hours, activity and energy sum it. -#}
{%- set instance_columns = gpu_holder_columns() + ['gr_engine_active', 'sm_active', 'tensor_active', 'activity',
                                                  'fb_used_mib'] -%}
with

whole_gpus as (
    select
        samples.hostname,
        {{ star_except(['hostname'] + instance_columns, 'samples') }},
        {%- for column in instance_columns %}
        samples.{{ column }},
        {%- endfor %}
        cast(null as integer) as gpu_instance_id,
        cast(null as {{ dbt.type_string() }}) as gpu_instance_profile,
        cast(1 as double) as gpu_share
    from {{ ref('int_gpu_samples') }} as samples
    where samples.hpc_job_id is not null
        or samples.k8s_pod is not null
),

mig_instances as (
    select
        gpus.hostname,
        {{ star_except(['hostname'] + instance_columns, 'gpus') }},
        {%- for column in instance_columns %}
        instances.{{ column }},
        {%- endfor %}
        instances.gpu_instance_id,
        instances.gpu_instance_profile,
        instances.gpu_share
    from {{ ref('int_gpu_instance_samples') }} as instances
    inner join {{ ref('int_gpu_samples') }} as gpus
        on instances.telemetry_source = gpus.telemetry_source
        and instances.hostname = gpus.hostname
        and instances.gpu_index = gpus.gpu_index
        and instances.sample_at = gpus.sample_at
    where instances.hpc_job_id is not null
        or instances.k8s_pod is not null
),

samples as (
    select * from whole_gpus
    union all
    select * from mig_instances
),

host_clusters as (
    select hostname, cluster from {{ ref('int_gpu_host_clusters') }}
),

final as (
    select
        host_clusters.cluster,
        samples.*,
        samples.interval_seconds * samples.gpu_share as gpu_seconds
    from samples
    inner join host_clusters
        on samples.hostname = host_clusters.hostname
)

select * from final
