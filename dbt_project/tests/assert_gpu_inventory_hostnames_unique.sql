{#- A hostname listed twice in one inventory file with different clusters: the inventory keeps one
    row per hostname (the latest file wins across files), so one of them, its instance and its cost,
    is dropped from GPU cost allocation — and from the GPU cost reconciliation, which joins the same
    inventory. A warning per file and hostname, with the cluster that was kept. -#}
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_cluster__gpu_nodes'}}}) }}
with

listed as (
    select
        x_source_file,
        trim(hostname) as hostname,
        count(distinct trim(cluster)) as clusters
    from {{ source('raw_telemetry', 'gpu_nodes') }}
    where trim(hostname) <> ''
    group by x_source_file, trim(hostname)
    having count(distinct trim(cluster)) > 1
)

select
    listed.*,
    kept.cluster as kept_cluster
from listed
left join {{ ref('stg_cluster__gpu_nodes') }} as kept
    on kept.hostname = listed.hostname
