{#- Job (or Kubernetes pod) x GPU: what the job held and did on each GPU, from the readings that
    carry its `hpc_job` (Slurm) or `namespace`/`pod` (Kubernetes) labels, joined to Slurm for the
    team and the allocation. GPUs read only by nvidia-smi carry no job labels: their jobs appear in
    fct_gpu_cost_allocation (from Slurm), not here. -#}
with

samples as (
    select * from {{ ref('int_gpu_samples') }}
    where hpc_job_id is not null
        or k8s_pod is not null
),

nodes as (
    select * from {{ ref('stg_cluster__gpu_nodes') }}
),

jobs as (
    select * from {{ ref('stg_slurm__jobs') }}
),

per_gpu as (
    select
        nodes.cluster,
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
        sum(samples.interval_seconds) / 3600.0 as gpu_hours_sampled,
        sum(samples.interval_seconds * samples.activity) / 3600 as gpu_hours_active,
        avg(samples.gpu_util_pct) as mean_gpu_util_pct,
        avg(samples.activity) as mean_activity,
        avg(samples.tensor_active) as mean_tensor_active,
        avg(samples.sm_clock_mhz) as mean_sm_clock_mhz,
        max(samples.fb_used_mib) as max_fb_used_mib,
        sum(samples.power_w * samples.interval_seconds) / 3600000 as energy_kwh
    from samples
    left join nodes
        on samples.hostname = nodes.hostname
    group by nodes.cluster, samples.hpc_job_id, samples.k8s_namespace, samples.k8s_pod, samples.hostname,
        samples.gpu_index
),

final as (
    select
        -- grain
        coalesce(
            {{ dbt.concat(['per_gpu.cluster', "':'", 'per_gpu.hpc_job_id']) }},
            {{ dbt.concat(["'k8s:'", 'per_gpu.k8s_namespace', "'/'", 'per_gpu.k8s_pod']) }}
        ) as job_key,
        {{ dbt.concat([
            "coalesce(" ~ dbt.concat(['per_gpu.cluster', "':'", 'per_gpu.hpc_job_id']) ~ ", "
                ~ dbt.concat(["'k8s:'", 'per_gpu.k8s_namespace', "'/'", 'per_gpu.k8s_pod']) ~ ")",
            "'|'", 'per_gpu.hostname', "':'", 'cast(per_gpu.gpu_index as ' ~ dbt.type_string() ~ ')'
        ]) }} as job_gpu_key,
        per_gpu.cluster,
        per_gpu.hpc_job_id as job_id,
        per_gpu.k8s_namespace,
        per_gpu.k8s_pod,
        jobs.job_name,
        coalesce(jobs.team, per_gpu.k8s_namespace) as team,
        jobs.state as job_state,
        per_gpu.hostname,
        per_gpu.gpu_index,
        per_gpu.gpu_uuid,
        per_gpu.gpu_model,

        -- timestamps
        jobs.started_at,
        coalesce(jobs.ended_at, jobs.reported_through_at) as allocated_until,
        per_gpu.first_sample_at,
        per_gpu.last_sample_at,

        -- gpu-hours: allocated from Slurm (one GPU of the job), sampled and active from telemetry
        {{ dbt.datediff('jobs.started_at', 'coalesce(jobs.ended_at, jobs.reported_through_at)', 'second') }} / 3600.0
            as gpu_hours_allocated,
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
    left join jobs
        on per_gpu.cluster = jobs.cluster
        and per_gpu.hpc_job_id = jobs.job_id
)

select * from final
