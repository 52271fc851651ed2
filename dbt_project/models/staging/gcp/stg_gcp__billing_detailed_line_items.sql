{#- GCP detailed (resource-level) billing export delivered as CSV: BigQuery's nested columns
    flattened to dotted names (`service.description`, `resource.global_name`, …), the repeated
    fields (credits, labels) written as Python-style lists (`[{'name': …, 'amount': -5e-06, …}]`).
    The standard export flattened the same way loads too (its resource.* columns are then NULL).
    Typed to the same columns as stg_gcp__billing_line_items; money is parsed exactly from text.
    The list parser turns single quotes into double quotes and None/True/False into JSON; a quote
    character inside a credit name or label would break it (none occurs in GCP's credit names). -#}
{%- set source_relation = source('raw', 'gcp_billing_detailed') -%}
{%- set credit_shape = '[{"id": "VARCHAR", "name": "VARCHAR", "full_name": "VARCHAR", "type": "VARCHAR", "amount": "VARCHAR"}]' -%}
{%- set kv_shape = '[{"key": "VARCHAR", "value": "VARCHAR"}]' -%}
with

source as (
    select
        {{ columns_or_null(source_relation, {
            "billing_account_id": "varchar",
            "service.id": "varchar",
            "service.description": "varchar",
            "sku.id": "varchar",
            "sku.description": "varchar",
            "usage_start_time": "varchar",
            "usage_end_time": "varchar",
            "project.id": "varchar",
            "project.name": "varchar",
            "project.labels": "varchar",
            "labels": "varchar",
            "location.location": "varchar",
            "location.region": "varchar",
            "location.zone": "varchar",
            "export_time": "varchar",
            "cost": "varchar",
            "cost_at_list": "varchar",
            "currency": "varchar",
            "usage.amount": "varchar",
            "usage.unit": "varchar",
            "usage.amount_in_pricing_units": "varchar",
            "usage.pricing_unit": "varchar",
            "credits": "varchar",
            "invoice.month": "varchar",
            "cost_type": "varchar",
            "resource.name": "varchar",
            "resource.global_name": "varchar",
        }) }},
        x_source_file,
        x_period,
        x_export_version
    from {{ source_relation }}
),

parsed as (
    select
        *,
        json_transform({{ python_list_to_json('"labels"') }}, '{{ kv_shape }}') as labels_list,
        json_transform({{ python_list_to_json('"project.labels"') }}, '{{ kv_shape }}') as project_labels_list,
        json_transform({{ python_list_to_json('"credits"') }}, '{{ credit_shape }}') as credits_list
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
        map_from_entries(coalesce(labels_list, [])) as label_map,

        -- money (exact text)
        {{ text_to_money('cost') }} as cost,
        {{ text_to_money('cost_at_list') }} as cost_at_list,
        list_transform(
            coalesce(credits_list, []),
            credit -> {
                'id': credit.id,
                'name': credit.name,
                'full_name': credit.full_name,
                'type': credit.type,
                'amount': {{ text_to_money('credit.amount') }}
            }
        ) as credits,

        -- quantities
        {{ text_to_money('"usage.amount"') }} as usage_amount,
        "usage.unit" as usage_unit,
        {{ text_to_money('"usage.amount_in_pricing_units"') }} as usage_amount_in_pricing_units,
        "usage.pricing_unit" as usage_pricing_unit,

        cast(strptime("invoice.month" || '01', '%Y%m%d') as timestamp with time zone) as invoice_period_start,

        -- timestamps: "2022-08-01 03:00:00+00:00" (or BigQuery's "... UTC")
        cast(replace(usage_start_time, ' UTC', '+00') as timestamp with time zone) as usage_start,
        cast(replace(usage_end_time, ' UTC', '+00') as timestamp with time zone) as usage_end,
        cast(replace(export_time, ' UTC', '+00') as timestamp with time zone) as exported_at,

        -- lineage
        'gcp_billing_detailed' as x_source,
        x_source_file,
        x_period as billing_period,
        x_export_version
    from parsed
)

select * from renamed
