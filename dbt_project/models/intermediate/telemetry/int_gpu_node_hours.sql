{#- The hours each GPU node was part of the fleet as its cluster reported it: every hour of a day
    the cluster delivered Slurm accounting (a sacct file covers its whole day), and every hour in
    which the node's GPUs were read by any telemetry source. Days nobody reported are not here, so
    capacity and on-prem cost are never invented for them. Cloud nodes also count the hours their
    bill charges (int_gpu_node_hourly_cost). -#}
with

nodes as (
    select * from {{ ref('stg_cluster__gpu_nodes') }}
),

sacct_days as (
    -- every sacct file (one listing no job too), and days of jobs whose rows name their Cluster
    select distinct
        {{ sacct_file_cluster('x_source_file') }} as cluster,
        {{ sacct_file_day('x_source_file') }} as report_date
    from {{ source('raw_telemetry', 'slurm_report_files') }}
    union
    select distinct
        cluster,
        report_date
    from {{ ref('stg_slurm__jobs') }}
),

hour_numbers as (
    {{ dbt.generate_series(24) }}
),

accounting_hours as (
    select
        nodes.hostname,
        {{ dbt.dateadd('hour', 'hour_numbers.generated_number - 1', 'cast(sacct_days.report_date as timestamp)') }}
            as hour_start,
        'slurm' as reported_by
    from nodes
    inner join sacct_days
        on nodes.cluster = sacct_days.cluster
    cross join hour_numbers
),

telemetry_hours as (
    select distinct
        hostname,
        {{ dbt.date_trunc('hour', 'sample_at') }} as hour_start,
        'telemetry' as reported_by
    from {{ ref('int_gpu_samples') }}
),

reported as (
    select * from accounting_hours
    union all
    select * from telemetry_hours
),

final as (
    select
        reported.hostname,
        reported.hour_start,
        cast(reported.hour_start as date) as usage_date,
        nodes.cluster,
        nodes.provider,
        nodes.gpu_count,
        {{ distinct_values_joined('reported.reported_by', "','") }} as reported_by
    from reported
    inner join nodes
        on reported.hostname = nodes.hostname
    group by 1, 2, 3, 4, 5, 6
)

select * from final
