{#- What each GPU node cost per UTC hour: the only place GPU telemetry meets billing.

    Cloud nodes: Σ EffectiveCost of the node's rows in focus_cost_and_usage (matched on ResourceId,
    which ends with the inventory's resource_id: GCP prefixes `//compute.googleapis.com/`, Azure may
    change case). A charge spanning several hours (Azure bills a day per row) is spread evenly over
    its hours, the last hour taking the rounding remainder, so the hours sum to the row exactly.
    On-prem nodes (provider `onprem`): GPUs x declared price per GPU-hour (raw.gpu_pricing) for every
    hour the node was reported (int_gpu_node_hours: days with Slurm accounting, hours with telemetry). Only stable FOCUS columns are used:
    ResourceId, EffectiveCost, BillingCurrency, ChargePeriodStart / End. -#}
with

nodes as (
    select * from {{ ref('stg_cluster__gpu_nodes') }}
),

focus as (
    select
        "ResourceId" as resource_id,
        "EffectiveCost" as effective_cost,
        "BillingCurrency" as billing_currency,
        cast("ChargePeriodStart" as timestamp) as charge_start,
        cast("ChargePeriodEnd" as timestamp) as charge_end
    from {{ ref('focus_cost_and_usage') }}
    where "ResourceId" is not null
),

node_charges as (
    select
        nodes.hostname,
        focus.effective_cost,
        focus.billing_currency,
        focus.charge_start,
        greatest(
            {{ dbt.datediff(dbt.date_trunc('hour', 'focus.charge_start'), 'focus.charge_end', 'hour') }}, 1
        ) as charge_hours,
        row_number() over (order by nodes.hostname, focus.charge_start, focus.charge_end, focus.effective_cost)
            as charge_row
    from focus
    inner join nodes
        on lower(focus.resource_id) = lower(nodes.resource_id)
        or lower(focus.resource_id) like '%/' || lower(nodes.resource_id)
    where nodes.provider <> 'onprem'
),

hour_numbers as (
    {{ dbt.generate_series(var('gpu_max_charge_hours', 744)) }}
),

charge_hours as (
    select
        node_charges.hostname,
        node_charges.billing_currency,
        {{ dbt.dateadd('hour', 'hour_numbers.generated_number - 1', dbt.date_trunc('hour', 'node_charges.charge_start')) }}
            as hour_start,
        case
            when hour_numbers.generated_number < node_charges.charge_hours
                then cast(round(node_charges.effective_cost / node_charges.charge_hours, 12) as {{ money_type() }})
            else node_charges.effective_cost - cast(
                round(node_charges.effective_cost / node_charges.charge_hours, 12) as {{ money_type() }}
            ) * (node_charges.charge_hours - 1)
        end as cost
    from node_charges
    inner join hour_numbers
        on hour_numbers.generated_number <= node_charges.charge_hours
),

cloud_hours as (
    select
        hostname,
        hour_start,
        max(billing_currency) as currency,
        sum(cost) as cost,
        'billing' as price_source
    from charge_hours
    group by hostname, hour_start
),

pricing as (
    select * from {{ source('raw_telemetry', 'gpu_pricing') }}
),

onprem_node_hours as (
    select * from {{ ref('int_gpu_node_hours') }}
    where provider = 'onprem'
),

-- the price in effect each hour: the latest declaration that started on or before its day
hour_prices as (
    select
        onprem_node_hours.hostname,
        onprem_node_hours.hour_start,
        onprem_node_hours.gpu_count,
        pricing.price_per_gpu_hour,
        pricing.currency,
        row_number() over (
            partition by onprem_node_hours.hostname, onprem_node_hours.hour_start order by pricing.effective_from desc
        ) as price_rank
    from onprem_node_hours
    inner join pricing
        on onprem_node_hours.cluster = pricing.cluster
        and onprem_node_hours.usage_date >= pricing.effective_from
),

onprem_hours as (
    select
        hostname,
        hour_start,
        currency,
        cast(gpu_count * price_per_gpu_hour as {{ money_type() }}) as cost,
        'declared' as price_source
    from hour_prices
    where price_rank = 1
),

unioned as (
    select * from cloud_hours
    union all
    select * from onprem_hours
),

final as (
    select
        -- grain
        unioned.hostname,
        unioned.hour_start,
        nodes.cluster,
        nodes.provider,
        nodes.resource_id,
        nodes.gpu_count,

        -- money
        unioned.cost,
        cast(unioned.cost / nodes.gpu_count as {{ money_type() }}) as price_per_gpu_hour,
        unioned.currency,
        unioned.price_source
    from unioned
    inner join nodes
        on unioned.hostname = nodes.hostname
)

select * from final
