{#- GPU readings labelled with a job (Slurm `hpc_job`, a Kubernetes pod) from a host that neither
    the inventory (assets: inventory/nodes.csv) nor any sacct NodeList names: no cluster, so no job
    to match, so what those GPUs did is in no per-job model (int_gpu_job_readings leaves them out).
    Per host, with its readings and when; a warning, so the gap is seen: add the host to the
    inventory. -#}
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'int_gpu_job_readings'}}}) }}
with

labelled as (
    select
        hostname,
        count(*) as readings,
        min(sample_at) as first_reading_at,
        max(sample_at) as last_reading_at
    from {{ ref('int_gpu_samples') }}
    where hpc_job_id is not null
        or k8s_pod is not null
    group by hostname
),

matched as (
    select distinct hostname from {{ ref('int_gpu_job_readings') }}
)

select labelled.*
from labelled
where not exists (select 1 from matched where matched.hostname = labelled.hostname)
