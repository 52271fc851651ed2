{#- GPU-seconds each allocation held on each node in each UTC hour (the allocation side of GPU
    cost): Slurm allocations on every node of their NodeList (int_slurm_job_nodes), and
    Kubernetes pods from dcgm-exporter's pod labels (a GPU read with a pod's labels is held by
    that pod for the reading's interval), their team from the declared namespace / pod rules
    (raw.kubernetes_teams; first rule wins, else the namespace). A job still running in its newest
    sacct file counts until that file's end; jobs cross midnights and months hour by hour. GPU-seconds
    are in whole GPUs: a MIG instance (Slurm's typed `gres/gpu:a100_3g.20gb`, or a pod on an instance)
    holds its compute slices over the model's (gpu_model_specs.mig_compute_slices), so a node split
    into slices is never allocated more than its GPUs. -#}
with

allocations as (
    select * from {{ ref('int_slurm_job_nodes') }}
    where hostname is not null
),

-- 1 … the longest allocation's hours (at most var gpu_max_job_hours): the join below compares
-- every allocation with every number, so the series is no longer than some allocation needs.
hour_numbers as (
    select generated_number
    from ({{ dbt.generate_series(var('gpu_max_job_hours')) }}) as series
    where generated_number <= (
        select max({{ allocation_hours('started_at', 'allocated_until') }})
        from allocations
    )
),

slurm_hours as (
    select
        allocations.*,
        {{ dbt.dateadd('hour', 'hour_numbers.generated_number - 1', dbt.date_trunc('hour', 'allocations.started_at')) }}
            as hour_start
    from allocations
    inner join hour_numbers
        on hour_numbers.generated_number <= {{ allocation_hours('allocations.started_at', 'allocations.allocated_until') }}
),

slurm as (
    select
        job_key,
        cluster,
        job_id,
        job_name,
        team,
        project,
        hostname,
        gpus_on_node as gpu_count,
        hour_start,
        cast(hour_start as date) as usage_date,
        gpus_held_on_node * {{ dbt.datediff(
            'greatest(started_at, hour_start)',
            'least(allocated_until, ' ~ dbt.dateadd('hour', 1, 'hour_start') ~ ')',
            'second'
        ) }} as gpu_seconds,
        'slurm' as allocation_source
    from slurm_hours
),

pod_readings as (
    -- a pod on a MIG instance holds the instance's share of the GPU (int_gpu_job_readings)
    select
        samples.cluster,
        samples.k8s_namespace,
        samples.k8s_pod,
        samples.k8s_container,
        samples.hostname,
        {{ dbt.date_trunc('hour', 'samples.sample_at') }} as hour_start,
        count(distinct samples.gpu_index) as gpu_count,
        sum(samples.gpu_seconds) as gpu_seconds
    from {{ ref('int_gpu_job_readings') }} as samples
    where samples.k8s_pod is not null
        and samples.hpc_job_id is null
    group by 1, 2, 3, 4, 5, 6
),

pod_teams as (
    select
        pods.*,
        rules.team as rule_team,
        rules.project as rule_project,
        rules.rule_order as rule_order_matched,
        row_number() over (
            partition by pods.cluster, pods.k8s_namespace, pods.k8s_pod, pods.k8s_container, pods.hostname,
                pods.hour_start
            order by rules.rule_order
        ) as rule_rank
    from pod_readings as pods
    left join {{ source('raw_telemetry', 'kubernetes_teams') }} as rules
        on coalesce(pods.k8s_namespace, '') like rules.namespace_pattern {{ like_escape_backslash() }}
        and pods.k8s_pod like rules.pod_pattern {{ like_escape_backslash() }}
        and coalesce(pods.k8s_container, '') like rules.container_pattern {{ like_escape_backslash() }}
),

kubernetes as (
    select
        {{ dbt.concat(["'k8s:'", "coalesce(k8s_namespace, '')", "'/'", 'k8s_pod']) }} as job_key,
        cluster,
        k8s_pod as job_id,
        k8s_pod as job_name,
        -- a pod's containers could match different rules: the pod's first-ordered match decides
        min_by(coalesce(rule_team, k8s_namespace), coalesce(rule_order_matched, 1e9)) as team,
        min_by(rule_project, coalesce(rule_order_matched, 1e9)) as project,
        hostname,
        sum(gpu_count) as gpu_count,
        hour_start,
        cast(hour_start as date) as usage_date,
        sum(gpu_seconds) as gpu_seconds,
        'kubernetes' as allocation_source
    from pod_teams
    where rule_rank = 1
    group by 1, 2, 3, 4, 7, 9, 10
),

unioned as (
    select * from slurm
    union all
    select * from kubernetes
)

select * from unioned
where gpu_seconds > 0
