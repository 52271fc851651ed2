{{ config(
    materialized='incremental',
    **replace_by_key('usage_date')
) }}
{#- GPU x UTC hour: how the GPU was used, from int_gpu_samples. Each reading stands for its
    host's scrape interval (seconds sampled, energy, throttle seconds). Incremental by UTC day:
    a run builds the days of its telemetry-day partitions (var telemetry_days), else the newest day
    already here and every later one. p95 is the interpolated percentile (quantile_continuous:
    DuckDB's quantile_cont, Spark's percentile). -#}
with

samples as (
    select * from {{ ref('int_gpu_samples') }}
    where {{ telemetry_days_to_build('sample_date', 'usage_date') }}
),

nodes as (
    select * from {{ ref('stg_cluster__gpu_nodes') }}
),

hourly as (
    select
        hostname,
        gpu_index,
        {{ dbt.date_trunc('hour', 'sample_at') }} as hour_start,
        max(gpu_uuid) as gpu_uuid,
        max(gpu_model) as gpu_model,
        max(telemetry_source) as telemetry_source,
        count(*) as samples,
        sum(interval_seconds) as seconds_sampled,
        max(interval_seconds) as interval_seconds,
        -- a GPU in MIG mode: the shares of its instances jobs held (held_share, int_gpu_samples)
        sum(interval_seconds * held_share) as seconds_held_by_jobs,
        count(distinct coalesce(hpc_job_id, k8s_namespace || '/' || k8s_pod)) as whole_gpu_jobs_seen,

        -- utilization
        avg(gpu_util_pct) as mean_gpu_util_pct,
        {{ quantile_continuous('gpu_util_pct', 0.95) }} as p95_gpu_util_pct,
        avg(gr_engine_active) as mean_gr_engine_active,
        avg(sm_active) as mean_sm_active,
        avg(tensor_active) as mean_tensor_active,
        avg(activity) as mean_activity,
        sum(interval_seconds * activity) / 3600 as gpu_hours_active,

        -- memory, power, heat, clocks
        avg(fb_used_mib) as mean_fb_used_mib,
        max(fb_used_mib) as max_fb_used_mib,
        avg(power_w) as mean_power_w,
        max(power_w) as max_power_w,
        sum(power_w * interval_seconds) / 3600000 as energy_kwh,
        avg(temperature_c) as mean_temperature_c,
        max(temperature_c) as max_temperature_c,
        avg(sm_clock_mhz) as mean_sm_clock_mhz,

        -- seconds with each clock event (throttle) reason active
        {%- for reason in ['sw_power_cap', 'hw_slowdown', 'sw_thermal_slowdown', 'hw_thermal_slowdown', 'hw_power_brake_slowdown'] %}
        sum(case when (throttle_reasons & {{ throttle_bit(reason) }}) <> 0 then interval_seconds else 0 end)
            as throttle_seconds_{{ reason }},
        {%- endfor %}

        -- XID codes the DCGM gauge showed in the hour (it holds the last error until the next one)
        {{ distinct_values_joined('cast(nullif(xid_last, 0) as ' ~ dbt.type_string() ~ ')', "','") }}
            as xid_codes
    from samples
    group by hostname, gpu_index, {{ dbt.date_trunc('hour', 'sample_at') }}
),

mig_jobs as (
    -- the jobs on a GPU's MIG instances (its own rows name none)
    select
        hostname,
        gpu_index,
        {{ dbt.date_trunc('hour', 'sample_at') }} as hour_start,
        count(distinct coalesce(hpc_job_id, k8s_namespace || '/' || k8s_pod)) as jobs_seen
    from {{ ref('int_gpu_instance_samples') }}
    where {{ telemetry_days_to_build('sample_date', 'usage_date') }}
    group by hostname, gpu_index, {{ dbt.date_trunc('hour', 'sample_at') }}
),

final as (
    select
        -- grain
        {{ dbt.concat(['hourly.hostname', "':'", 'cast(hourly.gpu_index as ' ~ dbt.type_string() ~ ')', "'@'",
                       format_timestamp('hourly.hour_start', '%Y-%m-%dT%H')]) }} as gpu_hour_key,
        hourly.hour_start,
        cast(hourly.hour_start as date) as usage_date,
        nodes.cluster,
        hourly.hostname,
        hourly.gpu_index,
        hourly.gpu_uuid,
        coalesce(hourly.gpu_model, nodes.gpu_model) as gpu_model,
        hourly.telemetry_source,
        hourly.interval_seconds,

        hourly.whole_gpu_jobs_seen + coalesce(mig_jobs.jobs_seen, 0) as jobs_seen,

        -- the hour's readings
        {{ star_except(['hostname', 'gpu_index', 'hour_start', 'gpu_uuid', 'gpu_model', 'telemetry_source', 'interval_seconds',
                        'whole_gpu_jobs_seen'], 'hourly') }}
    from hourly
    left join nodes
        on hourly.hostname = nodes.hostname
    left join mig_jobs
        on hourly.hostname = mig_jobs.hostname
        and hourly.gpu_index = mig_jobs.gpu_index
        and hourly.hour_start = mig_jobs.hour_start
)

select * from final
