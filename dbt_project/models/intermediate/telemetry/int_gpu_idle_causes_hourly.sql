{{ config(materialized='table') }}
{#- Why allocated GPUs sat idle: each job-labelled reading's idle time (interval x (1 - activity),
    the same activity as int_gpu_job_activity_hourly) given one cause, summed per job, node and UTC
    hour.

      underused_while_busy  the GPU was busy (activity >= gpu_busy_activity): the idle share of a
                            working GPU (kernels not filling it), not a stall
      waiting_on_input      activity low while the node read at or near its measured ceiling
                            (int_node_io_rates: disk, network, NFS client; ratio >=
                            `input_bound_ceiling_fraction`) or the GPU's own host-to-device PCIe
                            traffic (DCGM_FI_PROF_PCIE_RX_BYTES, B/s) was near its ceiling
      job_idle              activity low and no input either (every measured ratio below
                            `job_idle_max_io_fraction`): the job held the GPU and did nothing
      idle_with_some_io     activity low with input between the two: not conclusive
      io_not_measured       activity low and neither node_exporter nor PCIe RX for that moment
      gpu_not_reporting     the reading has no activity field (e.g. a GPU that fell off the bus)

    A GPU's PCIe ceiling is its `input_ceiling_quantile` of PCIe RX readings (never below
    `input_min_ceiling_bytes_per_second`). Multi-node jobs: collective traffic over plain Ethernet
    sockets also shows as network receive; NCCL over InfiniBand / RoCE (RDMA) does not. -#}
{%- set busy = var('gpu_busy_activity', 0.3) -%}
{%- set bucket = var('input_bucket_seconds', 60) -%}
{%- set near = var('input_bound_ceiling_fraction', 0.7) -%}
{%- set quiet = var('job_idle_max_io_fraction', 0.1) -%}
{%- set quantile = var('input_ceiling_quantile', 0.99) -%}
{%- set floor = var('input_min_ceiling_bytes_per_second', 10000000) -%}
with

samples as (
    select * from {{ ref('int_gpu_job_readings') }}
),

-- the job each labelled reading belongs to (int_gpu_job_activity_hourly matched labels to allocations)
label_jobs as (
    select distinct
        cluster,
        hostname,
        hpc_job_id,
        k8s_namespace,
        k8s_pod,
        hour_start,
        job_key
    from {{ ref('int_gpu_job_activity_hourly') }}
),

node_input as (
    select
        hostname,
        bucket_index,
        max(ceiling_ratio) as node_input_ratio,
        {{ dbt.listagg('signal', "','", 'order by ceiling_ratio desc') }} as node_signals
    from {{ ref('int_node_io_rates') }}
    group by hostname, bucket_index
),

pcie_ceilings as (
    select
        hostname,
        gpu_index,
        greatest({{ quantile_continuous("pcie_rx_bytes_per_second", quantile) }}, {{ floor }}) as ceiling_bytes_per_second
    from {{ ref('int_gpu_samples') }}
    where pcie_rx_bytes_per_second is not null
    group by hostname, gpu_index
),

readings as (
    select
        label_jobs.job_key,
        samples.cluster,
        samples.hostname,
        samples.gpu_index,
        {{ dbt.date_trunc('hour', 'samples.sample_at') }} as hour_start,
        -- a MIG instance's reading stands for its share of the GPU (int_gpu_job_readings)
        samples.gpu_seconds as interval_seconds,
        samples.activity,
        node_input.node_input_ratio,
        samples.pcie_rx_bytes_per_second / pcie_ceilings.ceiling_bytes_per_second as pcie_ratio
    from samples
    inner join label_jobs
        on samples.cluster = label_jobs.cluster
        and samples.hostname = label_jobs.hostname
        and {{ same_job_labels('samples', 'label_jobs') }}
        and {{ dbt.date_trunc('hour', 'samples.sample_at') }} = label_jobs.hour_start
    left join node_input
        on samples.hostname = node_input.hostname
        and cast(floor({{ dbt.datediff("cast('1970-01-01' as timestamp)", 'samples.sample_at', 'second') }} / {{ bucket }}) as bigint)
            = node_input.bucket_index
    left join pcie_ceilings
        on samples.hostname = pcie_ceilings.hostname
        and samples.gpu_index = pcie_ceilings.gpu_index
),

judged as (
    select
        *,
        -- NULL when neither input signal was measured at that moment
        greatest(coalesce(node_input_ratio, pcie_ratio), coalesce(pcie_ratio, node_input_ratio)) as input_ratio,
        interval_seconds * (1 - least(greatest(coalesce(activity, 0), 0), 1)) as idle_seconds
    from readings
),

caused as (
    select
        *,
        case
            when activity is null then 'gpu_not_reporting'
            when activity >= {{ busy }} then 'underused_while_busy'
            when input_ratio is null then 'io_not_measured'
            when input_ratio >= {{ near }} then 'waiting_on_input'
            when input_ratio < {{ quiet }} then 'job_idle'
            else 'idle_with_some_io'
        end as idle_cause
    from judged
),

final as (
    select
        job_key,
        cluster,
        hostname,
        hour_start,
        cast(hour_start as date) as usage_date,
        idle_cause,
        count(*) as readings,
        sum(interval_seconds) as seconds_sampled,
        sum(idle_seconds) as idle_seconds,
        avg(input_ratio) as mean_input_ratio
    from caused
    group by job_key, cluster, hostname, hour_start, idle_cause
)

select * from final
