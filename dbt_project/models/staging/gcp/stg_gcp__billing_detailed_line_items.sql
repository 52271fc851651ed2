{#- GCP detailed (resource-level) billing export delivered as CSV: BigQuery's nested columns
    flattened to dotted names (`service.description`, `resource.global_name`, …), the repeated
    fields (credits, labels) written as Python-style lists (`[{'name': …, 'amount': -5e-06, …}]`).
    The standard export flattened the same way loads too (its resource.* columns are then NULL).
    Renamed to the same columns as stg_gcp__billing_line_items. Landing has typed money (exact, from
    the text), times, and the lists as JSON (checks/files/gcp_billing_detailed.yaml). -#}
{%- set source_relation = source('raw', 'gcp_billing_detailed') -%}
{%- set credit_shape = [('id', 'varchar'), ('name', 'varchar'), ('full_name', 'varchar'), ('type', 'varchar'), ('amount', 'varchar')] -%}
{#- Credit amounts are JSON numbers: read as their text, then cast exactly. -#}
{%- set kv_shape = [('key', 'varchar'), ('value', 'varchar')] -%}
with

source as (
    select
        {{ columns_or_null(source_relation, {
            "billing_account_id": "varchar",
            "service.id": "varchar",
            "service.description": "varchar",
            "sku.id": "varchar",
            "sku.description": "varchar",
            "usage_start_time": "timestamp with time zone",
            "usage_end_time": "timestamp with time zone",
            "project.id": "varchar",
            "project.name": "varchar",
            "project.labels": "json",
            "labels": "json",
            "location.location": "varchar",
            "location.region": "varchar",
            "location.zone": "varchar",
            "export_time": "timestamp with time zone",
            "cost": money_type(),
            "cost_at_list": money_type(),
            "currency": "varchar",
            "usage.amount": money_type(),
            "usage.unit": "varchar",
            "usage.amount_in_pricing_units": money_type(),
            "usage.pricing_unit": "varchar",
            "credits": "json",
            "invoice.month": "varchar",
            "cost_type": "varchar",
            "resource.name": "varchar",
            "resource.global_name": "varchar",
        }) }},
        {{ landing_lineage() }}
    from {{ source_relation }}
),

parsed as (
    select
        *,
        {{ json_to_struct_array('"labels"', kv_shape) }} as labels_list,
        {{ json_to_struct_array('"project.labels"', kv_shape) }} as project_labels_list,
        {{ json_to_struct_array('"credits"', credit_shape) }} as credits_list
    from source
),

renamed as (
    select
        -- ids
        billing_account_id,
        "project.id" as project_id,
        "project.name" as project_name,
        "service.id" as service_id,
        "service.description" as service_description,
        "sku.id" as sku_id,
        "sku.description" as sku_description,
        nullif("resource.name", '') as resource_name,
        nullif("resource.global_name", '') as resource_global_name,

        -- categories
        cost_type,
        nullif("location.region", '') as region,
        nullif("location.zone", '') as zone,
        nullif("location.location", '') as location,
        currency as billing_currency,
        "invoice.month" as invoice_month,
        labels_list as labels,
        project_labels_list as project_labels,
        {{ map_from_key_values('coalesce(labels_list, ' ~ empty_array() ~ ')') }} as label_map,

        -- money
        cost,
        cost_at_list,
        {{ array_transform('coalesce(credits_list, ' ~ empty_array() ~ ')', 'credit', struct_of([
            ('id', 'credit.id'),
            ('name', 'credit.name'),
            ('full_name', 'credit.full_name'),
            ('type', 'credit.type'),
            ('amount', text_to_money('credit.amount')),
        ])) }} as credits,

        -- quantities
        "usage.amount" as usage_amount,
        "usage.unit" as usage_unit,
        "usage.amount_in_pricing_units" as usage_amount_in_pricing_units,
        "usage.pricing_unit" as usage_pricing_unit,

        cast({{ parse_timestamp('"invoice.month" || \'01\'', '%Y%m%d') }} as {{ sql_type('timestamp with time zone') }}) as invoice_period_start,

        -- timestamps (UTC)
        usage_start_time as usage_start,
        usage_end_time as usage_end,
        export_time as exported_at,

        -- lineage
        {{ billing_lineage("'gcp_billing_detailed'") }}
    from parsed
),

final as (
    select
        *,
        -- reconciliation: the invoice is cost plus every credit; GCP has no separate amortized view
        cost + coalesce({{ array_sum(array_transform('credits', 'c', 'c.amount'), money_type()) }}, 0) as x_invoice_cost,
        cost + coalesce({{ array_sum(array_transform('credits', 'c', 'c.amount'), money_type()) }}, 0) as x_amortized_cost
    from renamed
)

select * from final
