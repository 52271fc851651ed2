{{ config(materialized='table') }}
{#- How hard each node was reading input, per host and time bucket of `input_bucket_seconds`, and
    against what it can do. node_exporter's byte counters (stg_prometheus__node_io_samples) are
    differenced per host, metric and device in time order — a decrease is a counter reset (reboot,
    interface re-created, NFS remount) and the increase is then the new value, as Prometheus's
    increase() does — divided by the time between samples, summed over devices per signal
    (seeds/node_io_signals: disk, network, NFS client ...) and averaged per bucket. A rate belongs
    to the interval (previous sample, sample]: it is placed at the interval's start, so a bucket
    holds what was read inside it.

    ceiling: the signal's `input_ceiling_quantile` (0.99) of the node's bucket rates over everything
    landed — what the node has shown it can read — but never below `input_min_ceiling_bytes_per_second`
    (a node that never reads much is not "at its ceiling" reading a trickle).
    ratio = rate / ceiling; the node's input ratio in a bucket is its largest over the signals. -#}
{%- set bucket = var('input_bucket_seconds', 60) -%}
{%- set quantile = var('input_ceiling_quantile', 0.99) -%}
{%- set floor = var('input_min_ceiling_bytes_per_second', 10000000) -%}
with

samples as (
    select * from {{ ref('stg_prometheus__node_io_samples') }}
    where counter_value is not null
),

steps as (
    select
        hostname,
        signal,
        metric_name,
        device,
        sample_at,
        lag(sample_at) over (partition by hostname, metric_name, device order by sample_at) as interval_start,
        counter_value - lag(counter_value) over (
            partition by hostname, metric_name, device order by sample_at
        ) as counter_step,
        counter_value,
        {{ dbt.datediff(
            'lag(sample_at) over (partition by hostname, metric_name, device order by sample_at)', 'sample_at', 'second'
        ) }} as gap_seconds
    from samples
),

device_rates as (
    select
        hostname,
        signal,
        interval_start,
        case when counter_step < 0 then counter_value else counter_step end / gap_seconds as bytes_per_second
    from steps
    where gap_seconds > 0
),

signal_rates as (
    select
        hostname,
        signal,
        interval_start,
        sum(bytes_per_second) as bytes_per_second
    from device_rates
    group by hostname, signal, interval_start
),

bucketed as (
    select
        hostname,
        signal,
        cast(floor({{ dbt.datediff("cast('1970-01-01' as timestamp)", 'interval_start', 'second') }} / {{ bucket }}) as bigint)
            as bucket_index,
        avg(bytes_per_second) as bytes_per_second
    from signal_rates
    group by 1, 2, 3
),

ceilings as (
    select
        hostname,
        signal,
        {{ quantile_continuous("bytes_per_second", quantile) }} as measured_ceiling_bytes_per_second,
        count(*) as buckets_measured
    from bucketed
    group by hostname, signal
),

final as (
    select
        bucketed.hostname,
        bucketed.signal,
        bucketed.bucket_index,
        cast(to_timestamp(bucketed.bucket_index * {{ bucket }}) as timestamp) as bucket_start,
        bucketed.bytes_per_second,
        ceilings.measured_ceiling_bytes_per_second,
        greatest(ceilings.measured_ceiling_bytes_per_second, {{ floor }}) as ceiling_bytes_per_second,
        bucketed.bytes_per_second / greatest(ceilings.measured_ceiling_bytes_per_second, {{ floor }})
            as ceiling_ratio
    from bucketed
    inner join ceilings
        on bucketed.hostname = ceilings.hostname
        and bucketed.signal = ceilings.signal
)

select * from final
