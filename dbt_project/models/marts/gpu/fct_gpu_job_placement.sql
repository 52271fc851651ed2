{#- Where each multi-GPU Slurm allocation was placed, against the tightest placement what was free at
    its start allowed: nodes, racks, leaf switches and NVLink domains used vs the fewest that could
    have held its GPUs, and the GPU-hours and cost of jobs placed wider than needed
    (fct_gpu_cost_allocation, the one cost definition).

    Free at the start = each node's GPUs (inventory) minus what the allocations running then held
    (int_slurm_job_nodes: started before it, or at the same instant with a smaller key, and not yet
    ended), read from a running histogram of free domains (macro fewest_domains_at_start: rows grow
    with allocations, not jobs x nodes). Candidates are the nodes of the job's cluster with its GPU
    model (any model when its nodes' models differ or the inventory does not say). A topology level
    counts only where the inventory declares it for every node of the cluster; otherwise it is
    unknown (NULL), never guessed. A job on one node is on one rack, leaf and NVLink domain: the
    fewest there is.
    Within a node an 8-GPU board is one NVLink domain already, so "nodes used" covers NVLink
    locality where no wider NVLink domain is declared. -#}
with

job_nodes as (
    select * from {{ ref('int_slurm_job_nodes') }}
    where hostname is not null
),

nodes as (
    select * from {{ ref('stg_cluster__gpu_nodes') }}
),

-- which topology levels each cluster's inventory declares for every node
cluster_topology as (
    select
        cluster,
        count(*) = count(declared_rack) as has_racks,
        count(*) = count(leaf_switch) as has_leaf_switches,
        count(*) = count(nvlink_domain) as has_nvlink_domains
    from nodes
    group by cluster
),

jobs as (
    select
        job_nodes.job_key,
        job_nodes.cluster,
        max(job_nodes.job_id) as job_id,
        max(job_nodes.job_name) as job_name,
        max(job_nodes.team) as team,
        max(job_nodes.project) as project,
        min(job_nodes.started_at) as started_at,
        max(job_nodes.allocated_until) as allocated_until,
        max(job_nodes.job_gpu_count) as job_gpus,
        max(job_nodes.gpus_on_node) as max_gpus_per_node,
        count(distinct job_nodes.hostname) as nodes_used,
        count(distinct job_nodes.hostname) - count(distinct nodes.hostname) as nodes_not_in_inventory,
        count(distinct nodes.declared_rack) as racks_used,
        count(distinct nodes.leaf_switch) as leaf_switches_used,
        count(distinct nodes.nvlink_domain) as nvlink_domains_used,
        -- the GPU model it needs: its nodes' one model, else any
        case
            when count(distinct nodes.gpu_model) = 1 and count(nodes.gpu_model) = count(*) then max(nodes.gpu_model)
            else '*'
        end as model_key
    from job_nodes
    left join nodes
        on job_nodes.hostname = nodes.hostname
    group by job_nodes.job_key, job_nodes.cluster
    having max(job_nodes.job_gpu_count) >= 2
),

-- every node under its model and under '*' (any model)
candidate_nodes as (
    select cluster, gpu_model as model_key, hostname, gpu_count, declared_rack, leaf_switch, nvlink_domain
    from nodes
    where gpu_model is not null
    union all
    select cluster, '*', hostname, gpu_count, declared_rack, leaf_switch, nvlink_domain
    from nodes
),

-- every start and end of an allocation on a node: ends first at an instant, then starts by key
node_events as (
    select hostname, cluster, allocated_until as event_at, 0 as event_group, job_key, 1 as event_sub,
           -gpus_on_node as delta
    from job_nodes
    union all
    select hostname, cluster, started_at, 1, job_key, 1, gpus_on_node
    from job_nodes
),

fewest_nodes as (
    {{ fewest_domains_at_start('jobs', 'node_events', 'candidate_nodes', 'hostname') }}
),

-- a job on one node is on one rack, leaf and NVLink domain: the fewest there is; only jobs spread
-- over several nodes are worth the wider levels' histograms
multi_node_jobs as (
    select * from jobs where nodes_used >= 2
),

fewest_racks as (
    {{ fewest_domains_at_start('multi_node_jobs', 'node_events', 'candidate_nodes', 'declared_rack') }}
),

fewest_leaf_switches as (
    {{ fewest_domains_at_start('multi_node_jobs', 'node_events', 'candidate_nodes', 'leaf_switch') }}
),

fewest_nvlink_domains as (
    {{ fewest_domains_at_start('multi_node_jobs', 'node_events', 'candidate_nodes', 'nvlink_domain') }}
),

costs as (
    select
        job_key,
        max(currency) as currency,
        sum(gpu_hours_allocated) as gpu_hours_allocated,
        sum(allocated_cost) as allocated_cost
    from {{ ref('fct_gpu_cost_allocation') }}
    where allocation_type = 'job'
    group by job_key
),

compared as (
    select
        jobs.*,
        fewest_nodes.gpus_free as gpus_free_at_start,
        fewest_nodes.fewest_domains as fewest_nodes,
        -- a level is known only where the whole cluster (and every node of the job) declares it
        case when topology.has_racks and jobs.nodes_not_in_inventory = 0 then jobs.racks_used end as known_racks_used,
        case when topology.has_racks then coalesce(fewest_racks.fewest_domains, single_node.one) end as fewest_racks,
        case when topology.has_leaf_switches and jobs.nodes_not_in_inventory = 0 then jobs.leaf_switches_used end
            as known_leaf_switches_used,
        case when topology.has_leaf_switches then coalesce(fewest_leaf_switches.fewest_domains, single_node.one) end
            as fewest_leaf_switches,
        case when topology.has_nvlink_domains and jobs.nodes_not_in_inventory = 0 then jobs.nvlink_domains_used end
            as known_nvlink_domains_used,
        case when topology.has_nvlink_domains then coalesce(fewest_nvlink_domains.fewest_domains, single_node.one) end
            as fewest_nvlink_domains,
        costs.currency,
        costs.gpu_hours_allocated,
        costs.allocated_cost
    from jobs
    left join cluster_topology as topology
        on jobs.cluster = topology.cluster
    left join (select job_key, 1 as one from jobs where nodes_used = 1) as single_node
        on jobs.job_key = single_node.job_key
    left join fewest_nodes
        on jobs.job_key = fewest_nodes.job_key
    left join fewest_racks
        on jobs.job_key = fewest_racks.job_key
    left join fewest_leaf_switches
        on jobs.job_key = fewest_leaf_switches.job_key
    left join fewest_nvlink_domains
        on jobs.job_key = fewest_nvlink_domains.job_key
    left join costs
        on jobs.job_key = costs.job_key
),

flags as (
    select
        *,
        coalesce(nodes_used > fewest_nodes, false) as wider_nodes,
        coalesce(known_racks_used > fewest_racks, false) as wider_racks,
        coalesce(known_leaf_switches_used > fewest_leaf_switches, false) as wider_leaf_switches,
        coalesce(known_nvlink_domains_used > fewest_nvlink_domains, false) as wider_nvlink_domains
    from compared
),

judged as (
    select
        *,
        wider_nodes or wider_racks or wider_leaf_switches or wider_nvlink_domains as is_wider_than_needed,
        -- the levels it was spread wider on, space-separated
        nullif(trim({{ dbt.concat([
            "case when wider_nodes then 'nodes ' else '' end",
            "case when wider_racks then 'racks ' else '' end",
            "case when wider_leaf_switches then 'leaf_switches ' else '' end",
            "case when wider_nvlink_domains then 'nvlink_domains' else '' end",
        ]) }}), '') as wider_on
    from flags
),

final as (
    select
        -- grain
        job_key,
        cluster,
        job_id,
        job_name,
        team,
        project,

        -- the job
        started_at,
        allocated_until,
        cast(started_at as date) as start_date,
        job_gpus,
        max_gpus_per_node,
        gpus_free_at_start,

        -- used vs the fewest that could have held it
        nodes_used,
        fewest_nodes,
        known_racks_used as racks_used,
        fewest_racks,
        known_leaf_switches_used as leaf_switches_used,
        fewest_leaf_switches,
        known_nvlink_domains_used as nvlink_domains_used,
        fewest_nvlink_domains,
        nodes_not_in_inventory,

        -- verdict
        is_wider_than_needed,
        wider_on,

        -- what it cost (fct_gpu_cost_allocation)
        currency,
        gpu_hours_allocated,
        allocated_cost,
        case when is_wider_than_needed then gpu_hours_allocated else 0 end as gpu_hours_wider_than_needed,
        case when is_wider_than_needed then allocated_cost else cast(0 as {{ money_type() }}) end as cost_wider_than_needed
    from judged
)

select * from final
