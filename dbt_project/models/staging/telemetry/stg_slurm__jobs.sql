{#- Slurm allocations from daily `sacct -P` files: one row per cluster and allocation, from the
    latest file that lists it (an allocation spanning days is in every day's file, RUNNING until
    the last). An allocation is a job (`1042`), an array task (`1042_7`) or a heterogeneous job's
    component (`1042+1`, its own nodes and TRES); step rows (`<id>.batch`, `<id>.extern`,
    `<id>.<n>`) repeat their allocation's resources and are dropped; a pending array
    (`1042_[5-9]`) holds nothing. Any `--format` column set is read: JobID, State, Start and End
    are required, the rest become NULL when not exported. The cluster comes from sacct's Cluster
    column when exported, else the file name (`<cluster>/<day>.sacct.txt`, or
    `<cluster>__<day>.sacct.txt` once landed); sacct times are UTC on Atlas's clusters. -#}
with

source as (
    select
        "JobID" as job_id_text,
        "JobIDRaw" as job_id_raw_text,
        "Cluster" as cluster_text,
        "JobName" as job_name_text,
        "User" as user_text,
        "Account" as account_text,
        "Partition" as partition_text,
        "AllocTRES" as alloc_tres_text,
        "ReqTRES" as req_tres_text,
        "Submit" as submit_text,
        "Start" as start_text,
        "End" as end_text,
        "Elapsed" as elapsed_text,
        "State" as state_text,
        "ExitCode" as exit_code_text,
        "NodeList" as node_list_text,
        -- WCKey (workload characterization key) names the project where sites use it
        "WCKey",
        x_source_file
    from (
        select
            {{ columns_or_null(source('raw_telemetry', 'slurm_jobs'), {
                'JobID': 'varchar', 'JobIDRaw': 'varchar', 'Cluster': 'varchar', 'JobName': 'varchar',
                'User': 'varchar', 'Account': 'varchar', 'Partition': 'varchar', 'AllocTRES': 'varchar',
                'ReqTRES': 'varchar', 'Submit': 'varchar', 'Start': 'varchar', 'End': 'varchar', 'Elapsed': 'varchar', 'State': 'varchar',
                'ExitCode': 'varchar', 'NodeList': 'varchar', 'WCKey': 'varchar', 'x_source_file': 'varchar',
            }, required=['JobID', 'JobName', 'User', 'Account', 'Partition', 'AllocTRES', 'Submit', 'Start', 'End',
                         'Elapsed', 'State', 'ExitCode', 'NodeList', 'x_source_file']) }}
        from {{ source('raw_telemetry', 'slurm_jobs') }}
    ) as contracted
),

allocation_rows as (
    select *
    from source
    where job_id_text is not null
        and trim(job_id_text) <> ''
        -- steps repeat their allocation; a pending array range holds nothing yet
        and {{ dbt.position("'.'", 'job_id_text') }} = 0
        and {{ dbt.position("'['", 'job_id_text') }} = 0
),

renamed as (
    select
        -- ids
        coalesce(
            nullif(trim(cluster_text), ''),
            {{ sacct_file_cluster('x_source_file') }}
        ) as cluster,
        trim(job_id_text) as job_id,
        nullif(trim(job_id_raw_text), '') as job_id_raw,
        -- `1042+1` is component 1 of heterogeneous job 1042; `1042_7` is task 7 of array job 1042
        regexp_extract(trim(job_id_text), '^(\d+)', 1) as parent_job_id,
        try_cast(nullif(regexp_extract(trim(job_id_text), '^\d+\+(\d+)$', 1), '') as integer) as het_component,
        try_cast(nullif(regexp_extract(trim(job_id_text), '^\d+_(\d+)$', 1), '') as integer) as array_task_id,
        job_name_text as job_name,
        user_text as user_name,
        coalesce(nullif(trim(account_text), ''), '(no account)') as team,
        partition_text as partition_name,
        nullif(trim(node_list_text), '') as node_list,
        nullif(trim(leading '*' from trim("WCKey")), '') as project,

        -- allocation: `gres/gpu=N` counts every GPU; typed `gres/gpu:<type>=N` entries repeat it
        -- (summed only when the untyped one is missing)
        alloc_tres_text as alloc_tres,
        coalesce(
            try_cast(regexp_extract(alloc_tres_text, '(?:^|,)gres/gpu=(\d+)', 1) as integer),
            {%- set typed_gpu_counts -%}
                regexp_extract_all(alloc_tres_text, '(?:^|,)gres/gpu:[^=,]+=(\d+)', 1)
            {%- endset %}
            {{ array_sum(array_transform(typed_gpu_counts, 'x', 'cast(x as integer)'), 'integer') }},
            0
        ) as gpu_count,
        nullif(regexp_extract(alloc_tres_text, '(?:^|,)gres/gpu:([^=,]+)=', 1), '') as gpu_type,
        -- MIG slices Slurm hands out as GPUs (typed `gres/gpu:a100_3g.20gb=1` beside `gres/gpu=1`):
        -- how many of the job's GPUs are MIG instances, and their compute slices (3g = 3 each)
        {%- set typed_gpus -%}
            {{ array_where("regexp_extract_all(alloc_tres_text, '(?:^|,)(gres/gpu:[^=,]+=[0-9]+)', 1)", 'x',
                           mig_profile_slices('x') ~ ' is not null') }}
        {%- endset %}
        {%- set typed_count = "cast(regexp_extract(x, '=([0-9]+)$', 1) as integer)" %}
        {{ array_sum(array_transform(typed_gpus, 'x', typed_count), 'integer') }} as gpu_mig_instances,
        {{ array_sum(array_transform(typed_gpus, 'x', mig_profile_slices('x') ~ ' * ' ~ typed_count), 'integer') }}
            as gpu_mig_compute_slices,
        try_cast(regexp_extract(alloc_tres_text, '(?:^|,)cpu=(\d+)', 1) as integer) as cpu_count,
        try_cast(regexp_extract(alloc_tres_text, '(?:^|,)node=(\d+)', 1) as integer) as node_count,
        -- what the job asked for (sacct's ReqTRES, when exported): the shape of a job still pending
        coalesce(
            try_cast(regexp_extract(req_tres_text, '(?:^|,)gres/gpu=(\d+)', 1) as integer),
            {%- set typed_requested_gpus -%}
                regexp_extract_all(req_tres_text, '(?:^|,)gres/gpu:[^=,]+=(\d+)', 1)
            {%- endset %}
            {{ array_sum(array_transform(typed_requested_gpus, 'x', 'cast(x as integer)'), 'integer') }}
        ) as requested_gpu_count,
        try_cast(regexp_extract(req_tres_text, '(?:^|,)node=(\d+)', 1) as integer) as requested_node_count,

        -- state
        upper({{ dbt.split_part('trim(state_text)', "' '", 1) }}) as state,
        state_text as state_raw,
        try_cast(regexp_extract(state_text, 'by\s+(\d+)', 1) as integer) as cancelled_by_uid,
        exit_code_text as exit_code,

        -- timestamps (`Unknown` while running, `None` for a job that never started)
        try_cast(replace(submit_text, 'T', ' ') as timestamp) as submitted_at,
        try_cast(replace(start_text, 'T', ' ') as timestamp) as started_at,
        try_cast(replace(end_text, 'T', ' ') as timestamp) as ended_at,
        -- Elapsed is [days-]hours:minutes:seconds
        coalesce(try_cast(regexp_extract(elapsed_text, '^(\d+)-', 1) as integer), 0) * 86400
            + try_cast(regexp_extract(elapsed_text, '(\d+):(\d+):(\d+)$', 1) as integer) * 3600
            + try_cast(regexp_extract(elapsed_text, '(\d+):(\d+):(\d+)$', 2) as integer) * 60
            + try_cast(regexp_extract(elapsed_text, '(\d+):(\d+):(\d+)$', 3) as integer) as elapsed_seconds,

        -- the sacct run: `-E <day+1>T00:00:00`, so a RUNNING job is known to run until then
        {{ sacct_file_day('x_source_file') }} as report_date,

        -- lineage
        x_source_file
    from allocation_rows
),

latest as (
    select
        *,
        row_number() over (
            partition by cluster, job_id
            order by report_date desc, x_source_file desc
        ) as file_rank
    from renamed
),

final as (
    select
        -- ids
        {{ dbt.concat(['cluster', "':'", 'job_id']) }} as job_key,
        cluster,
        job_id,
        job_id_raw,
        parent_job_id,
        het_component,
        array_task_id,
        job_name,
        user_name,
        team,
        partition_name,
        node_list,
        project,

        -- allocation
        gpu_count,
        gpu_type,
        coalesce(gpu_mig_instances, 0) as gpu_mig_instances,
        coalesce(gpu_mig_compute_slices, 0) as gpu_mig_compute_slices,
        cpu_count,
        node_count,
        alloc_tres,
        requested_gpu_count,
        requested_node_count,

        -- state
        state,
        state_raw,
        state = 'RUNNING' as is_running,
        cancelled_by_uid,
        exit_code,

        -- timestamps
        submitted_at,
        started_at,
        ended_at,
        elapsed_seconds,
        report_date,
        {{ dbt.dateadd('day', 1, 'cast(report_date as timestamp)') }} as reported_through_at,

        -- lineage
        x_source_file
    from latest
    where file_rank = 1
)

select * from final
