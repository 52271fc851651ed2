{#- GCP standard billing export rows, renamed (landing typed them: checks/files/gcp_billing.yaml,
    money as exact DECIMAL from the numbers BigQuery wrote). `cost` is before credits; credits stay a
    list of structs here and become FOCUS Credit rows in the intermediate model. -#}
with

source as (
    select * from {{ source('raw', 'gcp_billing') }}
),

renamed as (
    select
        -- ids
        billing_account_id,
        project.id as project_id,
        project.name as project_name,
        service.id as service_id,
        service.description as service_description,
        sku.id as sku_id,
        sku.description as sku_description,
        nullif(resource.name, '') as resource_name,
        nullif(resource.global_name, '') as resource_global_name,

        -- categories
        cost_type,
        location.region as region,
        location.zone as zone,
        location.location as location,
        currency as billing_currency,
        invoice.month as invoice_month,
        labels,
        project.labels as project_labels,
        {{ map_from_key_values('labels') }} as label_map,

        -- money
        cost,
        cost_at_list,
        {{ array_transform('coalesce(credits, ' ~ empty_array() ~ ')', 'credit', struct_of([
            ('id', 'credit.id'),
            ('name', 'credit.name'),
            ('full_name', 'credit.full_name'),
            ('type', 'credit.type'),
            ('amount', 'credit.amount'),
        ])) }} as credits,

        -- quantities
        usage.amount as usage_amount,
        usage.unit as usage_unit,
        usage.amount_in_pricing_units as usage_amount_in_pricing_units,
        usage.pricing_unit as usage_pricing_unit,

        cast({{ parse_timestamp("invoice.month || '01'", '%Y%m%d') }} as {{ sql_type('timestamp with time zone') }}) as invoice_period_start,

        -- timestamps (UTC)
        usage_start_time as usage_start,
        usage_end_time as usage_end,
        export_time as exported_at,

        -- lineage (the detailed export's staging model ends with the same columns, in this order,
        -- so that int_gcp__billing_line_items can union the two)
        {{ billing_lineage("'gcp_billing'") }},

        -- reconciliation: the invoice is cost plus every credit; GCP has no separate amortized view
        cost + coalesce({{ array_sum(array_transform('credits', 'c', 'c.amount'), money_type()) }}, 0) as x_invoice_cost,
        cost + coalesce({{ array_sum(array_transform('credits', 'c', 'c.amount'), money_type()) }}, 0) as x_amortized_cost
    from source
)

select * from renamed
