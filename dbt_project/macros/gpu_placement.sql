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

{#- Free GPU capacity that no pending job shape could use (stranded), per node and time segment.

    `node_segments`: cluster, segment_start, hostname, gpu_model, gpu_count, gpus_free (may be
    fractional where GPUs are shared), whole_gpus_free (GPUs nothing holds any part of),
    largest_free_fraction (the largest unused share of one GPU: 1 when a whole GPU is free).
    `pending_shapes`: cluster, segment_start, gpus_per_node (whole GPUs the job needs on each of its
    nodes), gpu_fraction (< 1: the share of one GPU a GPU-sharing job needs; 1 otherwise),
    gpu_type (a required GPU type, matched inside the node's model name; NULL = any).

    A node is partly used when some but not all of its capacity is held. Its free capacity is
    stranded when jobs were waiting in that segment and none of their shapes fits on the node:
    a whole-GPU shape needs `gpus_per_node` whole free GPUs, a sharing shape one GPU with at least
    `gpu_fraction` free. Idle nodes are never stranded (anything up to their size fits), and with no
    job waiting nothing is stranded: free capacity nobody asked for is idle, not fragmented. -#}
{% macro stranded_gpu_capacity(node_segments, pending_shapes) -%}
    select
        node_segments.*,
        coalesce(demand.pending_shapes, 0) as pending_shapes,
        coalesce(fitting.shapes_that_fit, 0) as shapes_that_fit,
        node_segments.gpus_free > 0 and node_segments.gpus_free < node_segments.gpu_count as is_partly_used,
        case
            when node_segments.gpus_free > 0
                and node_segments.gpus_free < node_segments.gpu_count
                and coalesce(demand.pending_shapes, 0) > 0
                and fitting.shapes_that_fit is null
                then node_segments.gpus_free
            else 0
        end as gpus_stranded
    from {{ node_segments }} as node_segments
    left join (
        select
            cluster,
            segment_start,
            count(*) as pending_shapes
        from {{ pending_shapes }}
        group by cluster, segment_start
    ) as demand
        on node_segments.cluster = demand.cluster
        and node_segments.segment_start = demand.segment_start
    left join (
        select
            nodes.cluster,
            nodes.segment_start,
            nodes.hostname,
            count(*) as shapes_that_fit
        from {{ node_segments }} as nodes
        inner join {{ pending_shapes }} as shapes
            on nodes.cluster = shapes.cluster
            and nodes.segment_start = shapes.segment_start
            and case
                when shapes.gpu_fraction < 1 then nodes.largest_free_fraction >= shapes.gpu_fraction
                else nodes.whole_gpus_free >= shapes.gpus_per_node
            end
            and (
                shapes.gpu_type is null
                or nodes.gpu_model is null
                or lower(nodes.gpu_model) like {{ dbt.concat(["'%'", 'lower(shapes.gpu_type)', "'%'"]) }}
            )
        group by nodes.cluster, nodes.segment_start, nodes.hostname
    ) as fitting
        on node_segments.cluster = fitting.cluster
        and node_segments.segment_start = fitting.segment_start
        and node_segments.hostname = fitting.hostname
{%- endmacro %}
