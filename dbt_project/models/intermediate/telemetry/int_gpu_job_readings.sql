{#- The GPU readings that carry a job's labels (dcgm-exporter's `hpc_job` for Slurm, `pod` /
    `namespace` for Kubernetes), each with its node's cluster: where every per-job GPU model starts
    (int_gpu_job_activity_hourly, int_gpu_idle_causes_hourly, fct_gpu_job_usage). A reading of a
    host the inventory does not list has no cluster, so no job to match, and is not here. -#}
with

samples as (
    select * from {{ ref('int_gpu_samples') }}
    where hpc_job_id is not null
        or k8s_pod is not null
),

nodes as (
    select hostname, cluster from {{ ref('stg_cluster__gpu_nodes') }}
),

final as (
    select
        nodes.cluster,
        samples.*
    from samples
    inner join nodes
        on samples.hostname = nodes.hostname
)

select * from final
