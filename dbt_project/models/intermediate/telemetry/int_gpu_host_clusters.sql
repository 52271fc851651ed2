{#- Each GPU host's cluster: the inventory's (inventory/nodes.csv), else — a host racked before the
    inventory was updated, or a replacement — the one cluster whose Slurm jobs ran on it (sacct's
    NodeList; a host two clusters' jobs name stays unknown). `cluster_from` says which. The one
    definition of a host's cluster for what its GPUs did: job readings (int_gpu_job_readings) and
    health events (int_gpu_health_episodes). A host neither names is not here
    (assert_gpu_hosts_in_inventory lists it). -#}
with

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
    select hostname, cluster, 'inventory' as cluster_from
    from inventory
    union all
    select slurm_hosts.hostname, slurm_hosts.cluster, 'slurm' as cluster_from
    from slurm_hosts
    where not exists (select 1 from inventory where inventory.hostname = slurm_hosts.hostname)
)

select * from final
