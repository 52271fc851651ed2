{#- The GPU readings that carry a job's labels (dcgm-exporter's `hpc_job` for Slurm, `pod` /
    `namespace` for Kubernetes), each with its node's cluster: where every per-job GPU model starts
    (int_gpu_job_activity_hourly, int_gpu_idle_causes_hourly, fct_gpu_job_usage). The cluster is the
    inventory's; for a host the inventory does not list, the one cluster whose Slurm jobs ran on it
    (sacct's NodeList) — its job's GPU-hours are counted from Slurm, so what its GPUs did is measured
    too. A host neither lists has no job to match and is not here. -#}
with

samples as (
    select * from {{ ref('int_gpu_samples') }}
    where hpc_job_id is not null
        or k8s_pod is not null
),

inventory as (
    select hostname, cluster from {{ ref('stg_cluster__gpu_nodes') }}
),

slurm_hosts as (
    select
        hostname,
        min(cluster) as cluster
    from {{ ref('int_slurm_job_nodes') }}
    where hostname is not null
    group by hostname
    having count(distinct cluster) = 1
),

final as (
    select
        coalesce(inventory.cluster, slurm_hosts.cluster) as cluster,
        samples.*
    from samples
    left join inventory
        on samples.hostname = inventory.hostname
    left join slurm_hosts
        on samples.hostname = slurm_hosts.hostname
    where coalesce(inventory.cluster, slurm_hosts.cluster) is not null
)

select * from final
