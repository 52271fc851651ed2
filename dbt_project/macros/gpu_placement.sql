{#- Placement and fragmentation: what could have held a job, and which free GPUs nothing could use.
    One definition each, used by fct_gpu_job_placement and fct_gpu_fragmentation_daily (and, on a
    real scheduler trace, by tests/unit/test_gpu_fragmentation_openb.py). -#}

{#- The fewest domains (nodes, racks, leaf switches, NVLink domains) whose free GPUs could have
    held each job, from `node_free` (job_key, job_gpus, <domain column>, free_gpus): the domains'
    free GPUs summed, taken largest first until they reach the job's GPUs — for "fewest bins whose
    sum reaches N", largest-first is optimal. Domains NULL are left out (the caller decides whether
    a partly declared topology counts at all). A job nothing could hold gets no row. -#}
{% macro fewest_domains_holding(node_free, domain) -%}
    select
        job_key,
        min(domain_rank) as fewest_domains
    from (
        select
            job_key,
            job_gpus,
            row_number() over (partition by job_key order by domain_free desc, domain) as domain_rank,
            sum(domain_free) over (
                partition by job_key order by domain_free desc, domain rows between unbounded preceding and current row
            ) as cumulative_free
        from (
            select
                job_key,
                max(job_gpus) as job_gpus,
                {{ domain }} as domain,
                sum(free_gpus) as domain_free
            from {{ node_free }}
            where {{ domain }} is not null
            group by job_key, {{ domain }}
        ) as domains
    ) as ranked
    where cumulative_free >= job_gpus
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
