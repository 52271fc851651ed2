{#- GPU node inventory: one row per hostname (the latest inventory file wins if several are
    landed). Joins DCGM's `Hostname` label and Slurm's NodeList to clusters, racks and cloud
    instances. Only hostname, cluster and gpu_count are required; a node without a provider is
    on-premises. Topology is optional: `rack` (the power domain) falls back to the cluster for the
    rack power steps, while `declared_rack`, `leaf_switch` and `nvlink_domain` stay NULL where the
    inventory does not say (unknown: placement is then judged on nodes only). -#}
with

source as (
    select
        {{ columns_or_null(source('raw_telemetry', 'gpu_nodes'), {
            'hostname': 'varchar', 'cluster': 'varchar', 'provider': 'varchar', 'instance_type': 'varchar',
            'resource_id': 'varchar', 'region': 'varchar', 'gpu_model': 'varchar', 'gpu_count': 'varchar',
            'rack': 'varchar', 'leaf_switch': 'varchar', 'nvlink_domain': 'varchar', 'x_source_file': 'varchar',
        }, required=['hostname', 'cluster', 'provider', 'instance_type', 'resource_id', 'region', 'gpu_model',
                     'gpu_count', 'x_source_file']) }}
    from {{ source('raw_telemetry', 'gpu_nodes') }}
),

renamed as (
    select
        -- ids
        trim(hostname) as hostname,
        trim(cluster) as cluster,
        coalesce(lower(nullif(trim(provider), '')), 'onprem') as provider,
        nullif(trim(instance_type), '') as instance_type,
        nullif(trim(resource_id), '') as resource_id,
        nullif(trim(region), '') as region,
        coalesce(nullif(trim(rack), ''), trim(cluster)) as rack,

        -- topology as declared (NULL = unknown)
        nullif(trim(rack), '') as declared_rack,
        nullif(trim(leaf_switch), '') as leaf_switch,
        nullif(trim(nvlink_domain), '') as nvlink_domain,

        -- hardware
        nullif(trim(gpu_model), '') as gpu_model,
        cast(trim(gpu_count) as integer) as gpu_count,

        -- lineage
        x_source_file
    from source
    where hostname is not null
        and trim(hostname) <> ''
),

latest as (
    select
        *,
        row_number() over (partition by hostname order by x_source_file desc) as file_rank
    from renamed
),

final as (
    select
        hostname,
        cluster,
        provider,
        instance_type,
        resource_id,
        region,
        rack,
        declared_rack,
        leaf_switch,
        nvlink_domain,
        gpu_model,
        gpu_count,
        x_source_file
    from latest
    where file_rank = 1
)

select * from final
