{{ config(materialized='table') }}
{#- Health events found in the GPU readings, one row each, named by their physics (thresholds are
    dbt vars, documented in dbt_project.yml):

    idle_node_in_job  a whole node of a running multi-node job reads idle (median activity below
                      `idle_node_max_activity`) while the job's other GPUs are busy: one node-level
                      event per run of such windows, not one straggler per GPU.
    straggler         a GPU whose activity or SM clock stays below `1 - straggler_tolerance` of its
                      job's median for `straggler_min_windows` windows of `straggler_window_seconds`,
                      judged on busy windows only (its node not idle, the GPU not thermally
                      throttled); one event per run of slow windows whichever signal was slow, so
                      no second is counted twice; measure = mean ratio over those busy windows.
    thermal_throttle  readings the GPU was slowed for heat (int_gpu_reading_states: violation
                      counter, clock event reason bits, slowdown temperature); measure = max C.
    power_throttle    the same for power, lasting at least `power_throttle_min_seconds`.
    power_transient   a node's power changing by at least `power_transient_fraction_of_swing` of
                      what it can swing (Σ over its GPUs of TDP - idle, gpu_model_specs) between two
                      consecutive readings; measure = ΔW, with dP/dt and the sampling interval
                      (a coarser interval hides faster transients).
    xid_fatal / xid_nonfatal  one event per new XID (the DCGM field is a gauge holding the last
                      error), classified by seeds/xid_codes.csv.
    ecc_double_bit    an uncorrectable ECC error: the GPU's double-bit ECC counter rose
                      (int_gpu_reading_states); measure = new errors. Memory the GPU cannot correct
                      (the driver also raises XID 48 and retires or remaps the row). -#}
{%- set window = var('straggler_window_seconds', 3600) -%}
{%- set tolerance = var('straggler_tolerance', 0.15) -%}
{%- set min_windows = var('straggler_min_windows', 2) -%}
{%- set min_peer_activity = var('straggler_min_peer_activity', 0.4) -%}
{%- set idle_node_max = var('idle_node_max_activity', 0.05) -%}
{%- set swing_fraction = var('power_transient_fraction_of_swing', 0.5) -%}
with

samples as (
    select * from {{ ref('int_gpu_samples') }}
),

states as (
    select * from {{ ref('int_gpu_reading_states') }}
),

nodes as (
    select * from {{ ref('stg_cluster__gpu_nodes') }}
),

-- the cluster of every host the inventory or Slurm names (a host not yet in the inventory keeps
-- its events; one neither names keeps them too, without a cluster)
host_clusters as (
    select hostname, cluster from {{ ref('int_gpu_host_clusters') }}
),

specs as (
    select * from {{ ref('gpu_model_specs') }}
),

xid_codes as (
    select * from {{ ref('xid_codes') }}
),

label_jobs as (
    select
        cluster,
        hpc_job_id,
        max(job_key) as job_key
    from {{ ref('int_gpu_job_activity_hourly') }}
    where hpc_job_id is not null
    group by 1, 2
),

-- readings of GPUs a Slurm job held, with their state

job_readings as (
    select
        {{ dbt.concat(['host_clusters.cluster', "':'", 'samples.hpc_job_id']) }} as peer_group,
        samples.hostname,
        {{ dbt.concat(['samples.hostname', "'#'", 'cast(samples.gpu_index as ' ~ dbt.type_string() ~ ')']) }} as member,
        {{ dbt.datediff("cast('1970-01-01' as timestamp)", 'samples.sample_at', 'second') }} as epoch_seconds,
        samples.activity,
        samples.sm_clock_mhz,
        states.is_thermal_throttled
    from samples
    inner join host_clusters
        on samples.hostname = host_clusters.hostname
    inner join states
        on samples.hostname = states.hostname
        and samples.gpu_index = states.gpu_index
        and samples.sample_at = states.sample_at
    where samples.hpc_job_id is not null
),

node_windows as (
    select
        peer_group,
        hostname,
        floor(epoch_seconds / {{ window }}) as window_index,
        median(activity) as node_activity
    from job_readings
    group by 1, 2, 3
),

job_windows as (
    select
        node_windows.*,
        median(node_activity) over (partition by peer_group, window_index) as job_node_activity,
        count(*) over (partition by peer_group, window_index) as job_nodes,
        max(node_activity) over (partition by peer_group, window_index) as busiest_node_activity
    from node_windows
),

idle_node_windows as (
    select
        *,
        window_index - row_number() over (partition by peer_group, hostname order by window_index) as run_id
    from job_windows
    where job_nodes >= 2
        and node_activity < {{ idle_node_max }}
        and busiest_node_activity >= {{ min_peer_activity }}
),

idle_node_events as (
    select
        'idle_node_in_job' as event_type,
        hostname,
        cast(null as integer) as gpu_index,
        peer_group,
        {{ timestamp_from_epoch_seconds('min(window_index) * ' ~ window) }} as started_at,
        {{ timestamp_from_epoch_seconds('(max(window_index) + 1) * ' ~ window) }} as ended_at,
        count(*) * {{ window }} as duration_seconds,
        cast(null as integer) as interval_seconds,
        avg(node_activity) as measure_value,
        'node median activity while the job ran' as measure_unit,
        cast(null as double) as delta_w,
        cast(null as double) as dp_dt_w_per_s,
        {{ dbt.concat([
            "'whole node idle inside a running multi-node job (node activity '",
            "cast(round(avg(node_activity), 3) as " ~ dbt.type_string() ~ ")",
            "' vs busiest node '", "cast(round(avg(busiest_node_activity), 3) as " ~ dbt.type_string() ~ ")",
            "' over '", "cast(count(*) as " ~ dbt.type_string() ~ ")", "' windows of " ~ window ~ " s)'"
        ]) }} as detail
    from idle_node_windows
    group by peer_group, hostname, run_id
),

-- stragglers: busy windows only (node not idle in the job, GPU not thermally throttled)

busy_readings as (
    select job_readings.*
    from job_readings
    left join idle_node_windows
        on job_readings.peer_group = idle_node_windows.peer_group
        and job_readings.hostname = idle_node_windows.hostname
        and floor(job_readings.epoch_seconds / {{ window }}) = idle_node_windows.window_index
    where idle_node_windows.hostname is null
        and not job_readings.is_thermal_throttled
),

activity_ratios as (
    {{ straggler_window_ratios('busy_readings', 'peer_group', 'member', 'epoch_seconds', 'activity', window,
                               true, min_peer_activity, 2) }}
),

clock_ratios as (
    {{ straggler_window_ratios('busy_readings', 'peer_group', 'member', 'epoch_seconds', 'sm_clock_mhz', window,
                               true, 0, 2) }}
),

window_ratios as (
    select
        peer_group,
        member,
        window_index,
        min(ratio) as ratio,
        {{ dbt.listagg('signal', "'+'", 'order by signal') }} as slow_signals
    from (
        select 'activity' as signal, * from activity_ratios
        union all
        select 'sm_clock' as signal, * from clock_ratios
    ) as ratios
    where ratio < 1 - {{ tolerance }}
    group by 1, 2, 3
),

stragglers as (
    {{ straggler_runs('window_ratios', tolerance, min_windows, window) }}
),

straggler_signals as (
    select
        peer_group,
        member,
        {{ distinct_values_joined('slow_signals', "','") }} as signals
    from window_ratios
    group by 1, 2
),

straggler_events as (
    select
        'straggler' as event_type,
        {{ dbt.split_part('stragglers.member', "'#'", 1) }} as hostname,
        cast({{ dbt.split_part('stragglers.member', "'#'", 2) }} as integer) as gpu_index,
        stragglers.peer_group,
        {{ timestamp_from_epoch_seconds('stragglers.first_window_start') }} as started_at,
        {{ timestamp_from_epoch_seconds('stragglers.last_window_end') }} as ended_at,
        stragglers.last_window_end - stragglers.first_window_start as duration_seconds,
        cast(null as integer) as interval_seconds,
        stragglers.mean_ratio as measure_value,
        'ratio to job peers over busy windows' as measure_unit,
        cast(null as double) as delta_w,
        cast(null as double) as dp_dt_w_per_s,
        {{ dbt.concat([
            "'below job peers (' ", "straggler_signals.signals", "'): mean ratio '",
            "cast(round(stragglers.mean_ratio, 3) as " ~ dbt.type_string() ~ ")",
            "', min '", "cast(round(stragglers.min_ratio, 3) as " ~ dbt.type_string() ~ ")",
            "' over '", "cast(stragglers.windows as " ~ dbt.type_string() ~ ")",
            "' busy windows of " ~ window ~ " s (tolerance " ~ tolerance ~ ")'"
        ]) }} as detail
    from stragglers
    left join straggler_signals
        on stragglers.peer_group = straggler_signals.peer_group
        and stragglers.member = straggler_signals.member
),

-- throttling

labelled_states as (
    select
        states.*,
        samples.hpc_job_id
    from states
    inner join samples
        on states.hostname = samples.hostname
        and states.gpu_index = samples.gpu_index
        and states.sample_at = samples.sample_at
),

thermal as (
    {{ reading_episodes('labelled_states', 'is_thermal_throttled',
        "avg(thermal_throttle_fraction) as mean_counter_fraction, "
        ~ distinct_values_joined('thermal_evidence', "', '") ~ " as evidence") }}
),

power_capped as (
    {{ reading_episodes('labelled_states', 'is_power_throttled') }}
),

throttle_events as (
    select
        'thermal_throttle' as event_type,
        thermal.hostname,
        thermal.gpu_index,
        {{ dbt.concat(['host_clusters.cluster', "':'", 'thermal.hpc_job_id']) }} as peer_group,
        thermal.started_at,
        {{ dbt.dateadd('second', 'thermal.interval_seconds', 'thermal.last_sample_at') }} as ended_at,
        thermal.duration_seconds,
        thermal.interval_seconds,
        thermal.max_temperature_c as measure_value,
        'max temperature C' as measure_unit,
        cast(null as double) as delta_w,
        cast(null as double) as dp_dt_w_per_s,
        {{ dbt.concat(["'thermally throttled (' ", 'thermal.evidence', "'); SM clock down to '",
                       "cast(cast(round(thermal.min_sm_clock_mhz) as integer) as " ~ dbt.type_string() ~ ")", "' MHz'",
                       "coalesce(', ' || cast(cast(round(100 * thermal.mean_counter_fraction) as integer) as " ~ dbt.type_string() ~ ") || ' % of the time by DCGM_FI_DEV_THERMAL_VIOLATION', '')"]) }}
            as detail
    from thermal
    left join host_clusters
        on thermal.hostname = host_clusters.hostname
    union all
    select
        'power_throttle',
        power_capped.hostname,
        power_capped.gpu_index,
        {{ dbt.concat(['host_clusters.cluster', "':'", 'power_capped.hpc_job_id']) }},
        power_capped.started_at,
        {{ dbt.dateadd('second', 'power_capped.interval_seconds', 'power_capped.last_sample_at') }},
        power_capped.duration_seconds,
        power_capped.interval_seconds,
        power_capped.min_sm_clock_mhz,
        'min SM clock MHz',
        cast(null as double),
        cast(null as double),
        'SW power cap, HW power brake or DCGM_FI_DEV_POWER_VIOLATION rising'
    from power_capped
    left join host_clusters
        on power_capped.hostname = host_clusters.hostname
    where power_capped.duration_seconds >= {{ var('power_throttle_min_seconds', 600) }}
),

-- node power transients, against what the node can swing

node_power as (
    select
        samples.hostname,
        samples.sample_at,
        max(samples.interval_seconds) as interval_seconds,
        count(samples.power_w) as gpus_reporting,
        sum(samples.power_w) as power_w,
        sum(specs.tdp_watts - specs.idle_watts) as swing_w
    from samples
    left join specs
        on samples.gpu_model = specs.gpu_model
    group by samples.hostname, samples.sample_at
),

node_steps as (
    select
        hostname,
        sample_at,
        interval_seconds,
        swing_w,
        lag(sample_at) over (partition by hostname order by sample_at) as previous_at,
        power_w - lag(power_w) over (partition by hostname order by sample_at) as step_w,
        gpus_reporting = lag(gpus_reporting) over (partition by hostname order by sample_at) as same_gpus,
        {{ dbt.datediff('lag(sample_at) over (partition by hostname order by sample_at)', 'sample_at', 'second') }}
            as gap_seconds
    from node_power
),

power_events as (
    select
        'power_transient' as event_type,
        hostname,
        cast(null as integer) as gpu_index,
        cast(null as {{ dbt.type_string() }}) as peer_group,
        previous_at as started_at,
        sample_at as ended_at,
        gap_seconds as duration_seconds,
        interval_seconds,
        step_w as measure_value,
        'W' as measure_unit,
        step_w as delta_w,
        step_w / gap_seconds as dp_dt_w_per_s,
        {{ dbt.concat([
            "'node power step of '", "cast(cast(round(step_w) as integer) as " ~ dbt.type_string() ~ ")", "' W in '",
            "cast(gap_seconds as " ~ dbt.type_string() ~ ")", "' s ('",
            "cast(cast(round(100 * abs(step_w) / swing_w) as integer) as " ~ dbt.type_string() ~ ")",
            "' % of the '", "cast(cast(round(swing_w) as integer) as " ~ dbt.type_string() ~ ")",
            "' W the node can swing; sampling interval '",
            "cast(interval_seconds as " ~ dbt.type_string() ~ ")", "' s hides faster transients)'"
        ]) }} as detail
    from node_steps
    where same_gpus
        and gap_seconds > 0
        and gap_seconds <= 1.5 * interval_seconds
        and swing_w > 0
        and abs(step_w) >= {{ swing_fraction }} * swing_w
),

-- events at one reading: an XID (one per new value of the gauge), an uncorrectable ECC error
-- (one per reading the counter rose)

raised_at_reading as (
    select
        case when coalesce(xid_codes.is_fatal, false) then 'xid_fatal' else 'xid_nonfatal' end as event_type,
        states.hostname,
        states.gpu_index,
        states.hpc_job_id,
        states.sample_at,
        states.interval_seconds,
        cast(states.xid_last as double) as measure_value,
        'XID' as measure_unit,
        coalesce(xid_codes.description, 'XID not in the catalog') as detail
    from labelled_states as states
    left join xid_codes
        on states.xid_last = xid_codes.xid_code
    where states.is_xid_raised
    union all
    select
        'ecc_double_bit' as event_type,
        hostname,
        gpu_index,
        hpc_job_id,
        sample_at,
        interval_seconds,
        cast(ecc_dbe_new_errors as double) as measure_value,
        'new uncorrectable ECC errors' as measure_unit,
        'uncorrectable (double-bit) ECC error: DCGM_FI_DEV_ECC_DBE counter rose' as detail
    from labelled_states
    where is_ecc_dbe_raised
),

reading_events as (
    select
        raised.event_type,
        raised.hostname,
        raised.gpu_index,
        {{ dbt.concat(['host_clusters.cluster', "':'", 'raised.hpc_job_id']) }} as peer_group,
        raised.sample_at as started_at,
        raised.sample_at as ended_at,
        0 as duration_seconds,
        raised.interval_seconds,
        raised.measure_value,
        raised.measure_unit,
        cast(null as double) as delta_w,
        cast(null as double) as dp_dt_w_per_s,
        raised.detail
    from raised_at_reading as raised
    left join host_clusters
        on raised.hostname = host_clusters.hostname
),

unioned as (
    select * from idle_node_events
    union all
    select * from straggler_events
    union all
    select * from throttle_events
    union all
    select * from power_events
    union all
    select * from reading_events
),

final as (
    select
        unioned.event_type,
        host_clusters.cluster,
        nodes.rack,
        unioned.hostname,
        unioned.gpu_index,
        coalesce(label_jobs.job_key, unioned.peer_group) as job_key,
        unioned.started_at,
        unioned.ended_at,
        cast(unioned.started_at as date) as event_date,
        unioned.duration_seconds,
        unioned.interval_seconds,
        unioned.measure_value,
        unioned.measure_unit,
        unioned.delta_w,
        unioned.dp_dt_w_per_s,
        unioned.detail
    from unioned
    left join host_clusters
        on unioned.hostname = host_clusters.hostname
    left join nodes
        on unioned.hostname = nodes.hostname
    left join label_jobs
        on unioned.peer_group = {{ dbt.concat(['label_jobs.cluster', "':'", 'label_jobs.hpc_job_id']) }}
)

select * from final
