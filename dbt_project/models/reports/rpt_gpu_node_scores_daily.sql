{#- Per GPU node and UTC day: its score (its worst GPU's), health, and what Slurm and Kubernetes are
    told (Weight, labels). A thin view over fct_gpu_node_scores_daily. -#}
with

scores as (
    select * from {{ ref('fct_gpu_node_scores_daily') }}
),

final as (
    select
        usage_date,
        cluster,
        hostname,
        score,
        health,
        worst_gpu_index,
        gpus_below_100,
        gpus_scored,
        gpus_missing,
        slurm_weight,
        k8s_label_score,
        k8s_label_health,
        scheduler
    from scores
)

select * from final
