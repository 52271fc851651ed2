{#- A daily score per GPU node, and what a scheduler should be told: a node is as good as its worst
    GPU for synchronous jobs (min of fct_gpu_scores_daily), its health the worst of its GPUs'.

      slurm_weight  `gpu_score_slurm_base_weight` + (100 - score): Slurm gives jobs the lowest-weight
                    nodes that fit first, so a healthy node keeps the base weight (Slurm's default
                    is 1) and worse nodes are used last (`scontrol update NodeName=... Weight=...`)
      atlas.gpu/score, atlas.gpu/health   Kubernetes node labels (strings), for node affinity

    A node reporting fewer GPUs than the inventory says it has (`gpus_missing`: a GPU that fell off
    the bus reads nothing the next day, so the health marts never see it) is failed and scores 0: a
    scheduler would otherwise send a full-node job to a node with a dead GPU. A node that reports
    nothing at all has no row (the scheduler keeps what it was told before).

    `scheduler` says which files the node belongs in: `slurm` when its cluster delivered sacct
    accounting, `kubernetes` when pods were seen on it, both when both, and `unknown` otherwise
    (written to both). -#}
{%- set base_weight = var('gpu_score_slurm_base_weight', 1) -%}
with

scores as (
    select * from {{ ref('fct_gpu_scores_daily') }}
),

schedulers as (
    select
        cluster,
        {{ dbt.bool_or("allocation_source = 'slurm'") }} as has_slurm,
        {{ dbt.bool_or("allocation_source = 'kubernetes'") }} as has_kubernetes
    from {{ ref('int_gpu_job_hours') }}
    group by cluster
),

sacct_clusters as (
    select distinct cluster from {{ ref('stg_slurm__jobs') }}
),

nodes as (
    select
        usage_date,
        cluster,
        hostname,
        count(*) as gpus_scored,
        min(score) as score,
        case
            when max(case scheduler_health when 'failed' then 3 when 'degraded' then 2 else 1 end) = 3 then 'failed'
            when max(case scheduler_health when 'failed' then 3 when 'degraded' then 2 else 1 end) = 2 then 'degraded'
            else 'healthy'
        end as health,
        min_by(gpu_index, score * 1000 + gpu_index) as worst_gpu_index,
        sum(case when score < 100 then 1 else 0 end) as gpus_below_100
    from scores
    group by usage_date, cluster, hostname
),

-- GPUs the inventory lists that did not report that day
counted as (
    select
        nodes.*,
        greatest(coalesce(inventory.gpu_count, 0) - nodes.gpus_scored, 0) as gpus_missing
    from nodes
    left join {{ ref('stg_cluster__gpu_nodes') }} as inventory
        on nodes.hostname = inventory.hostname
),

judged as (
    select
        usage_date,
        cluster,
        hostname,
        gpus_scored,
        gpus_missing,
        gpus_below_100,
        worst_gpu_index,
        case when gpus_missing > 0 then 0 else score end as score,
        case when gpus_missing > 0 then 'failed' else health end as health
    from counted
),

final as (
    select
        {{ dbt.concat(['nodes.hostname', "'@'", "cast(nodes.usage_date as " ~ dbt.type_string() ~ ")"]) }}
            as node_day_key,
        nodes.usage_date,
        nodes.cluster,
        nodes.hostname,
        nodes.gpus_scored,
        nodes.gpus_missing,
        nodes.gpus_below_100,
        nodes.worst_gpu_index,
        nodes.score,
        nodes.health,
        {{ base_weight }} + (100 - nodes.score) as slurm_weight,
        cast(nodes.score as {{ dbt.type_string() }}) as k8s_label_score,
        nodes.health as k8s_label_health,
        case
            when (coalesce(schedulers.has_slurm, false) or sacct_clusters.cluster is not null)
                and coalesce(schedulers.has_kubernetes, false) then 'both'
            when coalesce(schedulers.has_slurm, false) or sacct_clusters.cluster is not null then 'slurm'
            when coalesce(schedulers.has_kubernetes, false) then 'kubernetes'
            else 'unknown'
        end as scheduler
    from judged as nodes
    left join schedulers
        on nodes.cluster = schedulers.cluster
    left join sacct_clusters
        on nodes.cluster = sacct_clusters.cluster
)

select * from final
