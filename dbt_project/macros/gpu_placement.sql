{#- Placement and fragmentation: what could have held a job, and which free GPUs nothing could use.
    One definition each, used by fct_gpu_job_placement and fct_gpu_fragmentation_daily (and, on a
    real scheduler trace, by tests/dbt/test_gpu_fragmentation_openb.py). -#}

{#- The fewest domains (nodes, racks, leaf switches, NVLink domains: `domain`, a column of
    `candidate_nodes`) whose free GPUs could have held each job of `jobs` at its start, and the GPUs
    free then. Greedy, largest free domains first — optimal for "fewest bins whose sum reaches N".

    What was free is not materialized per job and node (jobs x nodes rows): every start and end of an
    allocation (`node_events`: hostname, cluster, event_at, event_group 0 for an end / 1 for a start,
    job_key, event_sub, delta GPUs held) moves its domain from one free value to another, so a
    histogram per free value (how many domains have that many GPUs free) is a running sum over the
    changes, read by each job just before its own start. At one instant, ends come first, then
    starts by job key: a job starting at the same moment with a smaller key went first.

    `jobs`: job_key, cluster, model_key (a GPU model, or '*' for any), started_at, job_gpus.
    `candidate_nodes`: cluster, model_key, hostname, gpu_count, the domain column (each node once
    under its model and once under '*'). Returns job_key, fewest_domains (NULL when nothing could
    hold the job), gpus_free. -#}
{% macro fewest_domains_at_start(jobs, node_events, candidate_nodes, domain) -%}
    with

    capacities as (
        select cluster, model_key, {{ domain }} as domain, sum(gpu_count) as capacity
        from {{ candidate_nodes }}
        where {{ domain }} is not null
        group by cluster, model_key, {{ domain }}
    ),

    -- what each allocation start or end changed in each domain
    changes as (
        select
            candidates.cluster,
            candidates.model_key,
            candidates.{{ domain }} as domain,
            events.event_at,
            events.event_group,
            events.job_key as event_job_key,
            events.event_sub,
            sum(events.delta) as delta
        from {{ node_events }} as events
        inner join {{ candidate_nodes }} as candidates
            on events.hostname = candidates.hostname
            and events.cluster = candidates.cluster
        where candidates.{{ domain }} is not null
        group by 1, 2, 3, 4, 5, 6, 7
    ),

    moves as (
        select
            changes.*,
            capacities.capacity - sum(changes.delta) over (
                partition by changes.cluster, changes.model_key, changes.domain
                order by changes.event_at, changes.event_group, changes.event_job_key, changes.event_sub
                rows between unbounded preceding and current row
            ) as free_after
        from changes
        inner join capacities
            on changes.cluster = capacities.cluster
            and changes.model_key = capacities.model_key
            and changes.domain = capacities.domain
    ),

    -- the histogram's changes: a domain leaves its old free value and joins its new one; before
    -- anything, every domain is wholly free
    deltas as (
        select cluster, model_key, free_after + delta as free_value, event_at, event_group, event_job_key, event_sub,
               -1 as domains
        from moves
        where delta <> 0
        union all
        select cluster, model_key, free_after, event_at, event_group, event_job_key, event_sub, 1
        from moves
        where delta <> 0
        union all
        select cluster, model_key, capacity, cast('1900-01-01' as timestamp), -1, '', 0, count(*)
        from capacities
        group by cluster, model_key, capacity
    ),

    free_values as (
        select distinct cluster, model_key, free_value from deltas where free_value > 0
    ),

    -- each job reads the histogram just before its own start (its own start has event_sub 1)
    stream as (
        select cluster, model_key, free_value, event_at, event_group, event_job_key, event_sub, domains,
               cast(null as {{ dbt.type_string() }}) as job_key, cast(null as integer) as job_gpus
        from deltas
        union all
        select jobs.cluster, jobs.model_key, free_values.free_value, jobs.started_at, 1, jobs.job_key, 0, 0,
               jobs.job_key, jobs.job_gpus
        from {{ jobs }} as jobs
        inner join free_values
            on jobs.cluster = free_values.cluster
            and jobs.model_key = free_values.model_key
    ),

    counted as (
        select
            *,
            sum(domains) over (
                partition by cluster, model_key, free_value
                order by event_at, event_group, event_job_key, event_sub
                rows between unbounded preceding and current row
            ) as domains_with_value
        from stream
    ),

    buckets as (
        select
            job_key,
            job_gpus,
            free_value,
            domains_with_value as domains,
            coalesce(sum(free_value * domains_with_value) over (
                partition by job_key order by free_value desc rows between unbounded preceding and 1 preceding
            ), 0) as gpus_before,
            coalesce(sum(domains_with_value) over (
                partition by job_key order by free_value desc rows between unbounded preceding and 1 preceding
            ), 0) as domains_before
        from counted
        where job_key is not null
            and domains_with_value > 0
    )

    select
        job_key,
        sum(free_value * domains) as gpus_free,
        -- the bucket where the free GPUs taken so far first reach the job's
        min(case when gpus_before < job_gpus and gpus_before + free_value * domains >= job_gpus
            then domains_before + cast(ceil((job_gpus - gpus_before) * 1.0 / free_value) as integer) end)
            as fewest_domains
    from buckets
    group by job_key
{%- endmacro %}

{#- Free GPU capacity that no waiting job could use (stranded), per node and time interval.

    `node_intervals`: cluster, hostname, gpu_model, interval_start, interval_end, gpu_count, gpus_free
    (may be fractional where GPUs are shared), whole_gpus_free (GPUs nothing holds any part of),
    largest_free_fraction (the largest unused share of one GPU: 1 when a whole GPU is free);
    occupancy is constant within an interval.
    `pending_intervals`: cluster, job_key, pending_from, pending_until, gpus_per_node (whole GPUs the
    job needs on each of its nodes), gpu_fraction (< 1: the share of one GPU a GPU-sharing job needs;
    1 otherwise), gpu_type (a required GPU type, matched inside the node's model name; NULL = any).

    A node is partly used when some but not all of its capacity is held. Its free capacity is
    stranded while jobs wait and none of the waiting shapes fits on it: a whole-GPU shape needs
    `gpus_per_node` whole free GPUs, a sharing shape one GPU with at least `gpu_fraction` free. Per
    partly used interval: seconds_with_demand = the time some job waited (the union of the waiting
    intervals, clipped to it), seconds_with_fitting_demand = the time a job that fits waited, and
    stranded_seconds the difference. Idle nodes are never stranded (anything up to their size
    fits), and with no job waiting nothing is: free capacity nobody asked for is idle, not
    fragmented. Only partly used intervals meet the queue, so the work grows with them, not with
    nodes x queue events. -#}
{% macro stranded_gpu_capacity(node_intervals, pending_intervals) -%}
    select
        intervals.*,
        coalesce(demand.seconds_with_demand, 0) as seconds_with_demand,
        coalesce(demand.seconds_with_fitting_demand, 0) as seconds_with_fitting_demand,
        coalesce(demand.seconds_with_demand, 0) - coalesce(demand.seconds_with_fitting_demand, 0) as stranded_seconds,
        intervals.gpus_free
            * (coalesce(demand.seconds_with_demand, 0) - coalesce(demand.seconds_with_fitting_demand, 0))
            as stranded_gpu_seconds
    from (
        select
            node_intervals.*,
            {{ dbt.datediff('node_intervals.interval_start', 'node_intervals.interval_end', 'second') }}
                as interval_seconds,
            node_intervals.gpus_free > 0 and node_intervals.gpus_free < node_intervals.gpu_count as is_partly_used
        from {{ node_intervals }} as node_intervals
    ) as intervals
    left join (
        -- the union of the waiting intervals inside each partly used node interval, for all waiting
        -- jobs and for those that fit the node (gaps and islands)
        select
            cluster,
            hostname,
            interval_start,
            sum(case when demand_kind = 'any' then island_seconds else 0 end) as seconds_with_demand,
            sum(case when demand_kind = 'fits' then island_seconds else 0 end) as seconds_with_fitting_demand
        from (
            select
                cluster,
                hostname,
                interval_start,
                demand_kind,
                {{ dbt.datediff('min(waited_from)', 'max(waited_until)', 'second') }} as island_seconds
            from (
                select
                    *,
                    sum(case when previous_until is null or waited_from > previous_until then 1 else 0 end)
                        over (partition by cluster, hostname, interval_start, demand_kind order by waited_from, waited_until, job_key
                              rows between unbounded preceding and current row) as island
                from (
                    select
                        *,
                        max(waited_until) over (
                            partition by cluster, hostname, interval_start, demand_kind order by waited_from, waited_until, job_key
                            rows between unbounded preceding and 1 preceding
                        ) as previous_until
                    from (
                        select
                            partly.cluster,
                            partly.hostname,
                            partly.interval_start,
                            kinds.demand_kind,
                            -- a total order: both windows below must see tied rows in the same order
                            waiting.job_key,
                            greatest(waiting.pending_from, partly.interval_start) as waited_from,
                            least(waiting.pending_until, partly.interval_end) as waited_until
                        from {{ node_intervals }} as partly
                        inner join {{ pending_intervals }} as waiting
                            on partly.cluster = waiting.cluster
                            and waiting.pending_from < partly.interval_end
                            and waiting.pending_until > partly.interval_start
                        inner join (select 'any' as demand_kind union all select 'fits') as kinds
                            on kinds.demand_kind = 'any'
                            or (
                                case
                                    when waiting.gpu_fraction < 1 then partly.largest_free_fraction >= waiting.gpu_fraction
                                    else partly.whole_gpus_free >= waiting.gpus_per_node
                                end
                                and (
                                    waiting.gpu_type is null
                                    or partly.gpu_model is null
                                    or lower(partly.gpu_model) like {{ dbt.concat(["'%'", 'lower(waiting.gpu_type)', "'%'"]) }}
                                )
                            )
                        where partly.gpus_free > 0
                            and partly.gpus_free < partly.gpu_count
                    ) as clipped
                ) as ordered
            ) as flagged
            group by cluster, hostname, interval_start, demand_kind, island
        ) as islands
        group by cluster, hostname, interval_start
    ) as demand
        on intervals.cluster = demand.cluster
        and intervals.hostname = demand.hostname
        and intervals.interval_start = demand.interval_start
{%- endmacro %}

{#- Whether two rows name the same job's readings: the same `hpc_job` label (Slurm) or the same
    Kubernetes namespace and pod, NULL-safe (a Slurm reading has no pod, a pod's reading no job id). -#}
{% macro same_job_labels(left, right) -%}
    {{ left }}.hpc_job_id is not distinct from {{ right }}.hpc_job_id
        and {{ left }}.k8s_namespace is not distinct from {{ right }}.k8s_namespace
        and {{ left }}.k8s_pod is not distinct from {{ right }}.k8s_pod
{%- endmacro %}
