{#- Job (Slurm allocation or Kubernetes pod) x GPU: what the job held and did on each GPU, from
    the readings that carry its `hpc_job` (Slurm) or `namespace`/`pod` (Kubernetes) labels, with
    the job key, team and allocation the cost marts use (int_gpu_job_activity_hourly matches the
    labels to allocations; int_gpu_job_hours gives teams, Kubernetes teams from the declared
    rules). GPUs read only by nvidia-smi carry no job labels: their jobs appear in
    fct_gpu_cost_allocation (from Slurm), not here. -#}
with

samples as (
    select * from {{ ref('int_gpu_job_readings') }}
),

label_jobs as (
    select
        cluster,
        hostname,
        hpc_job_id,
        k8s_namespace,
        k8s_pod,
        max(job_key) as job_key
    from {{ ref('int_gpu_job_activity_hourly') }}
    group by 1, 2, 3, 4, 5
),

job_teams as (
    select
        job_key,
        max(team) as team,
        max(job_name) as job_name,
        max(allocation_source) as allocation_source
    from {{ ref('int_gpu_job_hours') }}
    group by job_key
),

allocations as (
    select
        job_key,
        min(started_at) as started_at,
        max(allocated_until) as allocated_until
    from {{ ref('int_slurm_job_nodes') }}
    group by job_key
),

jobs as (
    select job_key, state from {{ ref('stg_slurm__jobs') }}
),

per_gpu as (
    select
        samples.cluster,
        samples.hpc_job_id,
        samples.k8s_namespace,
        samples.k8s_pod,
        samples.hostname,
        samples.gpu_index,
        max(samples.gpu_uuid) as gpu_uuid,
        max(samples.gpu_model) as gpu_model,
        min(samples.sample_at) as first_sample_at,
        max(samples.sample_at) as last_sample_at,
        count(*) as samples,
        -- GPU-seconds: the job's share of the GPU (a MIG instance's; the whole GPU otherwise)
        sum(samples.gpu_seconds) / cast(3600 as double) as gpu_hours_sampled,
        sum(samples.gpu_seconds * samples.activity) / 3600 as gpu_hours_active,
        avg(samples.gpu_util_pct) as mean_gpu_util_pct,
        avg(samples.activity) as mean_activity,
        avg(samples.tensor_active) as mean_tensor_active,
        avg(samples.sm_clock_mhz) as mean_sm_clock_mhz,
        max(samples.fb_used_mib) as max_fb_used_mib,
        sum(samples.power_w * samples.gpu_seconds) / 3600000 as energy_kwh
    from samples
    group by samples.cluster, samples.hpc_job_id, samples.k8s_namespace, samples.k8s_pod, samples.hostname,
        samples.gpu_index
),

final as (
    select
        -- grain
        label_jobs.job_key,
        {{ dbt.concat(['label_jobs.job_key', "'|'", 'per_gpu.hostname', "':'",
                       'cast(per_gpu.gpu_index as ' ~ dbt.type_string() ~ ')']) }} as job_gpu_key,
        per_gpu.cluster,
        per_gpu.hpc_job_id as job_id,
        per_gpu.k8s_namespace,
        per_gpu.k8s_pod,
        job_teams.job_name,
        coalesce(job_teams.team, '(unknown job)') as team,
        coalesce(job_teams.allocation_source, case when per_gpu.k8s_pod is not null then 'kubernetes' end)
            as allocation_source,
        jobs.state as job_state,
        per_gpu.hostname,
        per_gpu.gpu_index,
        per_gpu.gpu_uuid,
        per_gpu.gpu_model,

        -- timestamps
        allocations.started_at,
        allocations.allocated_until,
        per_gpu.first_sample_at,
        per_gpu.last_sample_at,

        -- gpu-hours: allocated from Slurm (one GPU of the job; a pod holds what it was seen on),
        -- sampled and active from telemetry (the same definition as every GPU mart)
        coalesce(
            {{ dbt.datediff('allocations.started_at', 'allocations.allocated_until', 'second') }} / cast(3600 as double),
            per_gpu.gpu_hours_sampled
        ) as gpu_hours_allocated,
        per_gpu.gpu_hours_sampled,
        per_gpu.gpu_hours_active,
        per_gpu.gpu_hours_active / nullif(per_gpu.gpu_hours_sampled, 0) as utilization,

        -- readings
        per_gpu.samples,
        per_gpu.mean_gpu_util_pct,
        per_gpu.mean_activity,
        per_gpu.mean_tensor_active,
        per_gpu.mean_sm_clock_mhz,
        per_gpu.max_fb_used_mib,
        per_gpu.energy_kwh
    from per_gpu
    inner join label_jobs
        on per_gpu.cluster = label_jobs.cluster
        and per_gpu.hostname = label_jobs.hostname
        and {{ same_job_labels('per_gpu', 'label_jobs') }}
    left join job_teams
        on label_jobs.job_key = job_teams.job_key
    left join allocations
        on label_jobs.job_key = allocations.job_key
    left join jobs
        on label_jobs.job_key = jobs.job_key
)

select * from final
