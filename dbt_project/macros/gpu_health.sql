{#- Straggler detection by peer comparison within a group (a job): each member's (a GPU's) median
    value per time window is compared with the median of all members' window medians. Windows
    whose peer median is below `min_peer_value` (idle or nearly idle jobs) are not judged; groups
    need at least `min_members` members in the window. `higher_is_better`: activity, clocks,
    throughput (True); step time (False, the ratio is then inverted).

    straggler_window_ratios: one row per judged (group, member, window) with its ratio to peers.
    straggler_runs: runs of at least `min_windows` consecutive windows with ratio < 1 - tolerance.
    straggler_episodes: both, on `relation` (columns group_col, member_col, time_col as numeric
    seconds or step index, value_col). Returns: group, member, first/last window start, windows,
    mean and min ratio. -#}
{% macro straggler_window_ratios(relation, group_col, member_col, time_col, value_col, window,
                                 higher_is_better=true, min_peer_value=0, min_members=3) -%}
    select
        peer_group,
        member,
        window_index,
        member_value,
        peer_value,
        {% if higher_is_better -%}
        member_value / nullif(peer_value, 0)
        {%- else -%}
        peer_value / nullif(member_value, 0)
        {%- endif %} as ratio
    from (
        select
            *,
            median(member_value) over (partition by peer_group, window_index) as peer_value,
            count(*) over (partition by peer_group, window_index) as members
        from (
            select
                {{ group_col }} as peer_group,
                {{ member_col }} as member,
                floor({{ time_col }} / {{ window }}) as window_index,
                median({{ value_col }}) as member_value
            from {{ relation }}
            where {{ value_col }} is not null
            group by 1, 2, 3
        ) as windowed
    ) as peers
    where members >= {{ min_members }}
        and peer_value >= {{ min_peer_value }}
{%- endmacro %}

{% macro straggler_runs(judged, tolerance, min_windows, window) -%}
    select
        peer_group,
        member,
        min(window_index) * {{ window }} as first_window_start,
        (max(window_index) + 1) * {{ window }} as last_window_end,
        count(*) as windows,
        avg(ratio) as mean_ratio,
        min(ratio) as min_ratio
    from (
        select
            *,
            window_index - row_number() over (partition by peer_group, member order by window_index) as run_id
        from {{ judged }}
        where ratio < 1 - {{ tolerance }}
    ) as slow
    group by peer_group, member, run_id
    having count(*) >= {{ min_windows }}
{%- endmacro %}

{% macro straggler_episodes(relation, group_col, member_col, time_col, value_col, window, tolerance,
                            min_windows, higher_is_better=true, min_peer_value=0, min_members=3) -%}
    with

    judged as (
        {{ straggler_window_ratios(relation, group_col, member_col, time_col, value_col, window,
                                   higher_is_better, min_peer_value, min_members) }}
    )

    {{ straggler_runs('judged', tolerance, min_windows, window) }}
{%- endmacro %}

{#- Episodes of consecutive readings where `condition` holds, per GPU: gaps-and-islands on the
    reading order. `extra` adds aggregates over the episode's readings (a SQL select-list tail). -#}
{% macro reading_episodes(relation, condition, extra='') -%}
    select
        hostname,
        gpu_index,
        min(sample_at) as started_at,
        max(sample_at) as last_sample_at,
        sum(interval_seconds) as duration_seconds,
        max(interval_seconds) as interval_seconds,
        max(temperature_c) as max_temperature_c,
        min(sm_clock_mhz) as min_sm_clock_mhz,
        max(hpc_job_id) as hpc_job_id
        {%- if extra %},
        {{ extra }}
        {%- endif %}
    from (
        select
            *,
            row_number() over (partition by hostname, gpu_index order by sample_at)
                - row_number() over (partition by hostname, gpu_index, ({{ condition }}) order by sample_at) as run_id
        from {{ relation }}
    ) as flagged
    where {{ condition }}
    group by hostname, gpu_index, run_id
{%- endmacro %}
