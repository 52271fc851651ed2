{#- GCP standard billing export rows, typed. `cost` is before credits; credits stay a list of
    structs here (amounts as exact money) and become FOCUS Credit rows in the intermediate model. -#}
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
        map_from_entries(labels) as label_map,

        -- money
        {{ float_to_money('cost') }} as cost,
        {{ float_to_money('cost_at_list') }} as cost_at_list,
        list_transform(
            coalesce(credits, []),
            credit -> {
                'id': credit.id,
                'name': credit.name,
                'full_name': credit.full_name,
                'type': credit.type,
                'amount': {{ float_to_money('credit.amount') }}
            }
        ) as credits,

        -- quantities
        cast(cast(usage.amount as varchar) as {{ money_type() }}) as usage_amount,
        usage.unit as usage_unit,
        cast(cast(usage.amount_in_pricing_units as varchar) as {{ money_type() }}) as usage_amount_in_pricing_units,
        usage.pricing_unit as usage_pricing_unit,

        cast(strptime(invoice.month || '01', '%Y%m%d') as timestamp with time zone) as invoice_period_start,

        -- timestamps: BigQuery writes "YYYY-MM-DD HH:MM:SS[.ffffff] UTC"
        cast(replace(usage_start_time, ' UTC', '+00') as timestamp with time zone) as usage_start,
        cast(replace(usage_end_time, ' UTC', '+00') as timestamp with time zone) as usage_end,
        cast(replace(export_time, ' UTC', '+00') as timestamp with time zone) as exported_at,

        -- lineage
        'gcp_billing' as x_source,
        x_source_file,
        x_period as billing_period,
        x_export_version
    from source
)

select * from renamed
