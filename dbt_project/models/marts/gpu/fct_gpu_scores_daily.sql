{#- A daily score per GPU (0-100, 100 = nothing wrong) that a scheduler can act on, from the health
    marts (fct_gpu_health_daily), each deduction documented with its dbt var:

      clock       `gpu_score_points_per_clock_pct` points per % the GPU's busy, unthrottled SM clock
                  sat below its model's fleet baseline beyond `gpu_score_clock_deadband` ("identical"
                  GPUs differ by a few %), on days with at least `baseline_min_busy_seconds` busy;
                  at most `gpu_score_max_clock_points`
      straggler   `gpu_score_straggler_points` x the share of its busy time in straggler episodes
      throttle    `gpu_score_throttle_points` x the share of its sampled time thermally throttled
                  (and power throttled, on days with a power-throttle episode)
      XIDs        `gpu_score_xid_nonfatal_points` per non-fatal XID, at most `gpu_score_max_xid_points`;
                  a fatal XID or an uncorrectable ECC error scores 0 (failed)

    Faults a declared drill injected that day on that GPU (stg_drills__gpu_fault_injections, by
    class) are not held against it. `scheduler_health` is fct_gpu_health_daily's status on the same
    evidence less the drilled classes: failed / degraded / healthy. Deductions have dead bands so a
    healthy GPU scores 100 every day and its scheduler weight never churns. -#}
{%- set deadband = var('gpu_score_clock_deadband', 0.03) -%}
{%- set per_pct = var('gpu_score_points_per_clock_pct', 2) -%}
{%- set max_clock = var('gpu_score_max_clock_points', 40) -%}
{%- set straggler_points = var('gpu_score_straggler_points', 40) -%}
{%- set throttle_points = var('gpu_score_throttle_points', 40) -%}
{%- set xid_points = var('gpu_score_xid_nonfatal_points', 2) -%}
{%- set max_xid = var('gpu_score_max_xid_points', 10) -%}
with

health as (
    select * from {{ ref('fct_gpu_health_daily') }}
),

drilled as (
    select
        hostname,
        gpu_index,
        injection_date as usage_date,
        {{ dbt.bool_or("fault_class = 'xid'") }} as xid_drilled,
        {{ dbt.bool_or("fault_class = 'thermal'") }} as thermal_drilled,
        {{ dbt.bool_or("fault_class = 'power'") }} as power_drilled,
        {{ dbt.bool_or("fault_class = 'ecc_dbe'") }} as ecc_drilled,
        count(*) as drill_injections
    from {{ ref('stg_drills__gpu_fault_injections') }}
    group by hostname, gpu_index, injection_date
),

evidence as (
    select
        health.*,
        coalesce(drilled.drill_injections, 0) as drill_injections,
        -- the day's evidence, less what a drill injected
        case when coalesce(drilled.xid_drilled, false) then 0 else health.xid_fatal_errors end as fatal_xids,
        case when coalesce(drilled.xid_drilled, false) then 0 else health.xid_nonfatal_errors end as nonfatal_xids,
        case when coalesce(drilled.ecc_drilled, false) then 0 else health.ecc_dbe_errors end as ecc_errors,
        case when coalesce(drilled.thermal_drilled, false) then 0 else health.thermal_throttle_seconds end
            as thermal_seconds,
        case when coalesce(drilled.thermal_drilled, false) then 0 else health.thermal_throttle_episodes end
            as thermal_episodes,
        case when coalesce(drilled.power_drilled, false) or health.power_throttle_episodes = 0 then 0
            else health.power_throttle_seconds end as power_seconds
    from health
    left join drilled
        on health.hostname = drilled.hostname
        and health.gpu_index = drilled.gpu_index
        and health.usage_date = drilled.usage_date
),

deductions as (
    select
        *,
        case
            when busy_seconds >= {{ var('baseline_min_busy_seconds', 3600) }} and sm_clock_vs_baseline is not null
                then least({{ max_clock }}, {{ per_pct }} * 100 * greatest(0, 1 - {{ deadband }} - sm_clock_vs_baseline))
            else 0
        end as clock_points,
        -- (least() skips NULLs: shares are spelled out so an idle GPU loses nothing)
        case when straggler_seconds > 0
            then {{ straggler_points }} * least(1, straggler_seconds * 1.0 / greatest(busy_seconds, straggler_seconds))
            else 0 end as straggler_points,
        case when thermal_seconds + power_seconds > 0 and seconds_sampled > 0
            then {{ throttle_points }} * least(1, (thermal_seconds + power_seconds) * 1.0 / seconds_sampled)
            else 0 end as throttle_points,
        least({{ max_xid }}, {{ xid_points }} * nonfatal_xids) as xid_points,
        fatal_xids > 0 or ecc_errors > 0 as is_failed
    from evidence
),

final as (
    select
        -- grain
        gpu_day_key,
        usage_date,
        cluster,
        rack,
        hostname,
        gpu_index,
        gpu_uuid,
        gpu_model,

        -- the score
        case
            when is_failed then 0
            else cast(greatest(0, round(100 - coalesce(clock_points, 0) - coalesce(straggler_points, 0)
                                        - coalesce(throttle_points, 0) - coalesce(xid_points, 0))) as integer)
        end as score,
        case
            when is_failed then 'failed'
            when straggler_episodes > 0 or thermal_episodes > 0 or is_below_model_baseline then 'degraded'
            else 'healthy'
        end as scheduler_health,

        -- why (points deducted)
        round(coalesce(clock_points, 0), 2) as clock_points,
        round(coalesce(straggler_points, 0), 2) as straggler_points,
        round(coalesce(throttle_points, 0), 2) as throttle_points,
        coalesce(xid_points, 0) as xid_points,
        fatal_xids,
        ecc_errors,
        drill_injections,

        -- evidence (fct_gpu_health_daily)
        health_status,
        sm_clock_vs_baseline,
        busy_seconds,
        straggler_seconds,
        thermal_seconds as thermal_throttle_seconds,
        power_seconds as power_throttle_seconds
    from deductions
)

select * from final
