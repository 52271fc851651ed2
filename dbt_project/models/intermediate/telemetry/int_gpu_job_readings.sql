{#- The GPU readings that carry a job's labels (dcgm-exporter's `hpc_job` for Slurm, `pod` /
    `namespace` for Kubernetes), each with its host's cluster (int_gpu_host_clusters: the
    inventory's, else the one cluster whose Slurm jobs ran on it): where every per-job GPU model
    starts (int_gpu_job_activity_hourly, int_gpu_idle_causes_hourly, fct_gpu_job_usage). A host
    neither names has no job to match and is not here (assert_gpu_hosts_in_inventory lists it). -#}
with

samples as (
    select * from {{ ref('int_gpu_samples') }}
    where hpc_job_id is not null
        or k8s_pod is not null
),

host_clusters as (
    select hostname, cluster from {{ ref('int_gpu_host_clusters') }}
),

final as (
    select
        host_clusters.cluster,
        samples.*
    from samples
    inner join host_clusters
        on samples.hostname = host_clusters.hostname
)

select * from final
