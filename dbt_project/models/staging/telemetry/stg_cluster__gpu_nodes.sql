{#- GPU node inventory: one row per hostname (the latest inventory file wins if several are
    landed). Joins DCGM's `Hostname` label and Slurm's NodeList to clusters and cloud instances. -#}
with

source as (
    select
        hostname,
        cluster,
        provider,
        instance_type,
        resource_id,
        region,
        gpu_model,
        gpu_count,
        x_source_file
    from {{ source('raw_telemetry', 'gpu_nodes') }}
),

renamed as (
    select
        -- ids
        trim(hostname) as hostname,
        trim(cluster) as cluster,
        lower(trim(provider)) as provider,
        trim(instance_type) as instance_type,
        trim(resource_id) as resource_id,
        trim(region) as region,

        -- hardware
        trim(gpu_model) as gpu_model,
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
        gpu_model,
        gpu_count,
        x_source_file
    from latest
    where file_rank = 1
)

select * from final
