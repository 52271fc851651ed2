{#- What GPUs did for each job, per node and UTC hour: the one definition of "active GPU-hours"
    every GPU mart uses. Over the readings labelled with a job (dcgm-exporter's `hpc_job` label
    for Slurm, `pod` / `namespace` for Kubernetes), from every telemetry input (DCGM text,
    Prometheus range JSON, nvidia-smi):

      gpu_hours_sampled = Σ reading GPU-seconds (the host's scrape interval x share) / 3600
      gpu_hours_active  = Σ GPU-seconds x activity / 3600, activity = GR_ENGINE_ACTIVE, else
                          SM_ACTIVE, else GPU_UTIL / 100 (int_gpu_samples)

    where share is 1 for a whole GPU and a MIG instance's part of its GPU (int_gpu_job_readings:
    a job on a 3g.40gb instance of an H100 holds 3/7 of it, busy as that instance's activity says).

    An `hpc_job` label is matched to the Slurm allocation holding the node by its JobID, JobIDRaw
    (an array task's own id) or its heterogeneous job's id; one no sacct row knows keeps its own
    key `<cluster>:<label>`. -#}
with

samples as (
    select * from {{ ref('int_gpu_job_readings') }}
),

labelled as (
    select
        samples.cluster,
        samples.hostname,
        samples.hpc_job_id,
        samples.k8s_namespace,
        samples.k8s_pod,
        {{ dbt.date_trunc('hour', 'samples.sample_at') }} as hour_start,
        count(distinct samples.gpu_index) as gpus_seen,
        count(*) as readings,
        sum(samples.gpu_seconds) as seconds_sampled,
        sum(samples.gpu_seconds * samples.activity) as seconds_active,
        sum(samples.gpu_util_pct) as gpu_util_pct_sum,
        count(samples.gpu_util_pct) as gpu_util_pct_count,
        -- a MIG instance: its share of what the whole GPU drew
        sum(samples.power_w * samples.gpu_seconds) / 3600000 as energy_kwh
    from samples
    group by 1, 2, 3, 4, 5, 6
),

allocations as (
    select distinct
        job_key,
        cluster,
        hostname,
        job_id,
        job_id_raw,
        parent_job_id,
        het_component
    from {{ ref('int_slurm_job_nodes') }}
    where hostname is not null
),

matched as (
    select
        labelled.*,
        allocations.job_key as slurm_job_key,
        row_number() over (
            partition by labelled.cluster, labelled.hostname, labelled.hpc_job_id, labelled.k8s_namespace,
                labelled.k8s_pod, labelled.hour_start
            -- the exact id first, then the array task's raw id, then a heterogeneous job's id
            order by case
                when allocations.job_id = labelled.hpc_job_id then 1
                when allocations.job_id_raw = labelled.hpc_job_id then 2
                else 3
            end
        ) as match_rank
    from labelled
    left join allocations
        on labelled.hpc_job_id is not null
        and labelled.cluster = allocations.cluster
        and labelled.hostname = allocations.hostname
        and (
            allocations.job_id = labelled.hpc_job_id
            or allocations.job_id_raw = labelled.hpc_job_id
            or (allocations.het_component is not null and allocations.parent_job_id = labelled.hpc_job_id)
        )
),

final as (
    select
        -- ids
        case
            when hpc_job_id is not null then coalesce(slurm_job_key, {{ dbt.concat(['cluster', "':'", 'hpc_job_id']) }})
            else {{ dbt.concat(["'k8s:'", "coalesce(k8s_namespace, '')", "'/'", 'k8s_pod']) }}
        end as job_key,
        cluster,
        hostname,
        hpc_job_id,
        k8s_namespace,
        k8s_pod,
        hour_start,
        cast(hour_start as date) as usage_date,

        -- what the GPUs did
        gpus_seen,
        readings,
        seconds_sampled / cast(3600 as double) as gpu_hours_sampled,
        seconds_active / cast(3600 as double) as gpu_hours_active,
        gpu_util_pct_sum,
        gpu_util_pct_count,
        energy_kwh
    from matched
    where match_rank = 1
)

select * from final
