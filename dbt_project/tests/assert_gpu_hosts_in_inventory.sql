{#- Hosts that report GPU telemetry but are not in the GPU node inventory (inventory/nodes.csv):
    their GPUs have no price, capacity or rack, so no GPU-hours of capacity and no cost. Their
    health events are kept (int_gpu_health_episodes), and their job readings are measured when a
    sacct NodeList names the host (`job_readings_measured`: int_gpu_job_readings has them); from a
    host neither names, not even that. Per host, its readings and when; a warning, so the gap is
    seen: add the host to the inventory. -#}
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'int_gpu_job_readings'}}}) }}
with

reporting as (
    select
        hostname,
        count(*) as readings,
        count(*) filter (where held_share > 0) as job_labelled_readings,
        min(sample_at) as first_reading_at,
        max(sample_at) as last_reading_at
    from {{ ref('int_gpu_samples') }}
    group by hostname
),

inventory as (
    select hostname from {{ ref('stg_cluster__gpu_nodes') }}
),

measured as (
    select distinct hostname from {{ ref('int_gpu_job_readings') }}
)

select
    reporting.*,
    exists (select 1 from measured where measured.hostname = reporting.hostname) as job_readings_measured
from reporting
where not exists (select 1 from inventory where inventory.hostname = reporting.hostname)
