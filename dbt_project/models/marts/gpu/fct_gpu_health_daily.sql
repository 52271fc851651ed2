{#- GPU x UTC day: how healthy the GPU was. Busy readings (activity >= gpu_busy_activity, not
    thermally throttled: int_gpu_reading_states) give its mean SM clock and activity, compared with
    its model's fleet baseline (the median over all GPUs of the model that day); episodes from
    int_gpu_health_episodes give straggler, throttling and XID counts (straggler seconds clipped to
    the day); node and rack (inventory `rack`, else the cluster) power transients (largest dP/dt
    between consecutive readings) come with the sampling interval that bounds what they can show. -#}
{%- set baseline_tolerance = var('baseline_tolerance', 0.1) -%}
with

samples as (
    select * from {{ ref('int_gpu_samples') }}
),

nodes as (
    select * from {{ ref('stg_cluster__gpu_nodes') }}
),

episodes as (
    select * from {{ ref('int_gpu_health_episodes') }}
),

states as (
    select * from {{ ref('int_gpu_reading_states') }}
),

gpu_days as (
    select
        samples.hostname,
        samples.gpu_index,
        samples.sample_date as usage_date,
        max(samples.gpu_uuid) as gpu_uuid,
        max(samples.gpu_model) as gpu_model,
        max(samples.interval_seconds) as interval_seconds,
        sum(samples.interval_seconds) as seconds_sampled,
        -- busy: the GPU was doing work (activity >= gpu_busy_activity) and not throttled, so its
        -- clock says what the silicon can do
        sum(case when states.is_busy and not states.is_thermal_throttled then samples.interval_seconds else 0 end)
            as busy_seconds,
        avg(case when states.is_busy and not states.is_thermal_throttled then samples.sm_clock_mhz end)
            as mean_busy_sm_clock_mhz,
        avg(case when states.is_busy then samples.activity end) as mean_busy_activity,
        max(samples.temperature_c) as max_temperature_c,
        sum(case when states.is_thermal_throttled then samples.interval_seconds else 0 end) as thermal_throttle_seconds,
        sum(case when states.is_power_throttled then samples.interval_seconds else 0 end) as power_throttle_seconds
    from samples
    inner join states
        on samples.hostname = states.hostname
        and samples.gpu_index = states.gpu_index
        and samples.sample_at = states.sample_at
    group by samples.hostname, samples.gpu_index, samples.sample_date
),

baselines as (
    select
        gpu_model,
        usage_date,
        median(mean_busy_sm_clock_mhz) as baseline_sm_clock_mhz,
        count(*) as fleet_gpus
    from gpu_days
    where mean_busy_sm_clock_mhz is not null
    group by gpu_model, usage_date
),

days as (
    select distinct usage_date from gpu_days
),

gpu_episodes as (
    select
        episodes.hostname,
        episodes.gpu_index,
        days.usage_date,
        sum(case when episodes.event_type = 'straggler' and episodes.event_date = days.usage_date then 1 else 0 end)
            as straggler_episodes,
        -- the part of each episode inside the day: episodes of one GPU never overlap, so a day
        -- never counts more than its own seconds
        sum(case when episodes.event_type = 'straggler' then greatest(0, {{ dbt.datediff(
            'greatest(episodes.started_at, cast(days.usage_date as timestamp))',
            'least(episodes.ended_at, ' ~ dbt.dateadd('day', 1, 'cast(days.usage_date as timestamp)') ~ ')',
            'second') }}) else 0 end) as straggler_seconds,
        sum(case when episodes.event_type = 'thermal_throttle' and episodes.event_date = days.usage_date then 1 else 0 end)
            as thermal_throttle_episodes,
        sum(case when episodes.event_type = 'power_throttle' and episodes.event_date = days.usage_date then 1 else 0 end)
            as power_throttle_episodes,
        sum(case when episodes.event_type = 'xid_fatal' and episodes.event_date = days.usage_date then 1 else 0 end)
            as xid_fatal_errors,
        sum(case when episodes.event_type = 'xid_nonfatal' and episodes.event_date = days.usage_date then 1 else 0 end)
            as xid_nonfatal_errors,
        sum(case when episodes.event_type = 'ecc_double_bit' and episodes.event_date = days.usage_date
            then episodes.measure_value else 0 end) as ecc_dbe_errors
    from episodes
    inner join days
        on days.usage_date >= episodes.event_date
        and cast(days.usage_date as timestamp) < episodes.ended_at
        or days.usage_date = episodes.event_date
    where episodes.gpu_index is not null
    group by 1, 2, 3
),

node_power as (
    select
        hostname,
        sample_at,
        sample_date,
        max(interval_seconds) as interval_seconds,
        sum(power_w) as power_w
    from samples
    group by hostname, sample_at, sample_date
),

node_steps as (
    select
        hostname,
        sample_date,
        interval_seconds,
        abs(power_w - lag(power_w) over (partition by hostname order by sample_at))
            / nullif({{ dbt.datediff('lag(sample_at) over (partition by hostname order by sample_at)', 'sample_at', 'second') }}, 0)
            as step_w_per_s
    from node_power
),

node_daily as (
    select
        hostname,
        sample_date as usage_date,
        max(step_w_per_s) as node_max_power_step_w_per_s,
        max(interval_seconds) as power_sampling_interval_seconds
    from node_steps
    group by hostname, sample_date
),

rack_power as (
    select
        nodes.rack,
        node_power.sample_at,
        node_power.sample_date,
        sum(node_power.power_w) as power_w,
        count(*) as nodes_reporting
    from node_power
    inner join nodes
        on node_power.hostname = nodes.hostname
    group by nodes.rack, node_power.sample_at, node_power.sample_date
),

rack_daily as (
    select
        rack,
        sample_date as usage_date,
        max(step_w_per_s) as rack_max_power_step_w_per_s
    from (
        select
            rack,
            sample_date,
            abs(power_w - lag(power_w) over (partition by rack order by sample_at))
                / nullif({{ dbt.datediff('lag(sample_at) over (partition by rack order by sample_at)', 'sample_at', 'second') }}, 0)
                as step_w_per_s,
            nodes_reporting = lag(nodes_reporting) over (partition by rack order by sample_at) as same_nodes
        from rack_power
    ) as steps
    -- a node missing from one reading is not a power step
    where same_nodes
    group by rack, sample_date
),

final as (
    select
        -- grain
        {{ dbt.concat(['gpu_days.hostname', "':'", 'cast(gpu_days.gpu_index as ' ~ dbt.type_string() ~ ')', "'@'",
                       'cast(gpu_days.usage_date as ' ~ dbt.type_string() ~ ')']) }} as gpu_day_key,
        gpu_days.usage_date,
        nodes.cluster,
        nodes.rack,
        gpu_days.hostname,
        gpu_days.gpu_index,
        gpu_days.gpu_uuid,
        gpu_days.gpu_model,

        -- use
        gpu_days.seconds_sampled,
        gpu_days.busy_seconds,
        gpu_days.mean_busy_activity,

        -- against the model's fleet baseline
        gpu_days.mean_busy_sm_clock_mhz,
        baselines.baseline_sm_clock_mhz,
        gpu_days.mean_busy_sm_clock_mhz / nullif(baselines.baseline_sm_clock_mhz, 0) as sm_clock_vs_baseline,
        coalesce(
            baselines.fleet_gpus >= 3
            and gpu_days.busy_seconds >= {{ var('baseline_min_busy_seconds', 3600) }}
            and gpu_days.mean_busy_sm_clock_mhz < (1 - {{ baseline_tolerance }}) * baselines.baseline_sm_clock_mhz,
            false
        ) as is_below_model_baseline,

        -- episodes
        coalesce(gpu_episodes.straggler_episodes, 0) as straggler_episodes,
        coalesce(gpu_episodes.straggler_seconds, 0) as straggler_seconds,
        coalesce(gpu_episodes.thermal_throttle_episodes, 0) as thermal_throttle_episodes,
        gpu_days.thermal_throttle_seconds,
        coalesce(gpu_episodes.power_throttle_episodes, 0) as power_throttle_episodes,
        gpu_days.power_throttle_seconds,
        gpu_days.max_temperature_c,
        coalesce(gpu_episodes.xid_fatal_errors, 0) as xid_fatal_errors,
        coalesce(gpu_episodes.xid_nonfatal_errors, 0) as xid_nonfatal_errors,
        cast(coalesce(gpu_episodes.ecc_dbe_errors, 0) as integer) as ecc_dbe_errors,

        -- power transients of the GPU's node and rack
        node_daily.node_max_power_step_w_per_s,
        rack_daily.rack_max_power_step_w_per_s,
        node_daily.power_sampling_interval_seconds,

        -- summary
        case
            when coalesce(gpu_episodes.xid_fatal_errors, 0) > 0 or coalesce(gpu_episodes.ecc_dbe_errors, 0) > 0
                then 'failed'
            when coalesce(gpu_episodes.straggler_episodes, 0) > 0
                or coalesce(gpu_episodes.thermal_throttle_episodes, 0) > 0
                or (baselines.fleet_gpus >= 3
                    and gpu_days.busy_seconds >= {{ var('baseline_min_busy_seconds', 3600) }}
                    and gpu_days.mean_busy_sm_clock_mhz < (1 - {{ baseline_tolerance }}) * baselines.baseline_sm_clock_mhz)
                then 'degraded'
            else 'healthy'
        end as health_status
    from gpu_days
    left join nodes
        on gpu_days.hostname = nodes.hostname
    left join baselines
        on gpu_days.gpu_model = baselines.gpu_model
        and gpu_days.usage_date = baselines.usage_date
    left join gpu_episodes
        on gpu_days.hostname = gpu_episodes.hostname
        and gpu_days.gpu_index = gpu_episodes.gpu_index
        and gpu_days.usage_date = gpu_episodes.usage_date
    left join node_daily
        on gpu_days.hostname = node_daily.hostname
        and gpu_days.usage_date = node_daily.usage_date
    left join rack_daily
        on nodes.rack = rack_daily.rack
        and gpu_days.usage_date = rack_daily.usage_date
)

select * from final
