{#- Azure cost-details exports (actual and amortized share one layout): rename. Landing has typed
    money (exact, from text), dates (US-style M/D/YYYY or ISO) and Tags (JSON), and read the column
    variants of EA cost details, the older EA layout (Cost, BillingCurrency, Product, InstanceId)
    and MCA's camelCase names as one set of names (checks/files/azure_cost_details_*.yaml).
    Azure's billing-period end date is inclusive and becomes an exclusive end here. -#}
{% macro stg_azure_cost_details(source_relation, dataset) -%}
with

source as (
    select
        {{ columns_or_null(source_relation, {
            "BillingAccountId": "varchar",
            "InvoiceId": "varchar",
            "BillingAccountName": "varchar",
            "BillingProfileId": "varchar",
            "BillingProfileName": "varchar",
            "SubscriptionId": "varchar",
            "SubscriptionName": "varchar",
            "ResourceGroup": "varchar",
            "ResourceLocation": "varchar",
            "Date": "date",
            "BillingPeriodStartDate": "date",
            "BillingPeriodEndDate": "date",
            "ProductName": "varchar",
            "MeterCategory": "varchar",
            "MeterSubCategory": "varchar",
            "MeterId": "varchar",
            "MeterName": "varchar",
            "MeterRegion": "varchar",
            "UnitOfMeasure": "varchar",
            "Quantity": money_type(),
            "EffectivePrice": money_type(),
            "CostInBillingCurrency": money_type(),
            "UnitPrice": money_type(),
            "PayGPrice": money_type(),
            "BillingCurrencyCode": "varchar",
            "ConsumedService": "varchar",
            "ResourceId": "varchar",
            "ResourceName": "varchar",
            "Tags": "json",
            "ChargeType": "varchar",
            "Frequency": "varchar",
            "PricingModel": "varchar",
            "ReservationId": "varchar",
            "ReservationName": "varchar",
            "benefitId": "varchar",
            "benefitName": "varchar",
            "ServiceFamily": "varchar",
            "AvailabilityZone": "varchar",
            "PublisherName": "varchar",
            "PublisherType": "varchar",
            "AdditionalInfo": "varchar",
        }) }},
        x_source_file,
        x_source_row,
        x_period,
        x_export_version
    from {{ source_relation }}
),

renamed as (
    select
        -- ids
        "BillingAccountId" as billing_account_id,
        nullif("InvoiceId", '') as invoice_id,
        "BillingAccountName" as billing_account_name,
        "BillingProfileId" as billing_profile_id,
        "SubscriptionId" as subscription_id,
        "SubscriptionName" as subscription_name,
        nullif("ResourceGroup", '') as resource_group,
        nullif("ResourceId", '') as resource_id,
        nullif("ResourceName", '') as resource_name,
        "MeterId" as meter_id,
        nullif(coalesce(nullif("benefitId", ''), "ReservationId"), '') as benefit_id,
        nullif(coalesce(nullif("benefitName", ''), "ReservationName"), '') as benefit_name,

        -- categories
        "ChargeType" as charge_type,
        "PricingModel" as pricing_model,
        "Frequency" as frequency,
        "ProductName" as product_name,
        "MeterCategory" as meter_category,
        "MeterSubCategory" as meter_subcategory,
        "MeterName" as meter_name,
        "ServiceFamily" as service_family,
        lower("ConsumedService") as consumed_service,
        lower(nullif("ResourceLocation", '')) as resource_location,
        nullif("AvailabilityZone", '') as availability_zone,
        "UnitOfMeasure" as unit_of_measure,
        "BillingCurrencyCode" as billing_currency,
        coalesce(nullif("PublisherName", ''), 'Microsoft') as publisher_name,
        coalesce("Tags", cast('{}' as {{ sql_type('json') }})) as tags,

        -- money
        "CostInBillingCurrency" as cost,
        "EffectivePrice" as effective_price,
        "UnitPrice" as unit_price,
        "PayGPrice" as payg_price,

        -- quantities
        "Quantity" as quantity,

        -- timestamps (UTC days; ends exclusive). A file without billing-period columns (some API
        -- versions) is dated by its landing period.
        cast("Date" as {{ sql_type('timestamp with time zone') }}) as charge_date,
        cast(coalesce("BillingPeriodStartDate", cast(x_period || '-01' as date)) as {{ sql_type('timestamp with time zone') }})
            as billing_period_start,
        coalesce(
            cast("BillingPeriodEndDate" as {{ sql_type('timestamp with time zone') }}) + interval 1 day,
            cast(cast(x_period || '-01' as date) as {{ sql_type('timestamp with time zone') }}) + interval 1 month
        ) as billing_period_end,

        -- reconciliation: the actual-cost export is the invoice; the amortized export, when delivered,
        -- is the amortized cost. Without it, the amortized basis is the actual cost of rows that no
        -- commitment covers or buys (the intermediate model makes the same choice per account and period).
        {%- if dataset == 'actual' %}
        "CostInBillingCurrency" as x_invoice_cost,
        case when {{ azure_is_commitment('"PricingModel"') }} then 0 else "CostInBillingCurrency" end as x_amortized_cost,
        {%- else %}
        cast(null as {{ money_type() }}) as x_invoice_cost,
        "CostInBillingCurrency" as x_amortized_cost,
        {%- endif %}

        -- lineage
        '{{ dataset }}' as dataset,
        'azure_cost_details_{{ dataset }}' as x_source,
        x_source_file,
        x_source_row,
        x_period as billing_period,
        x_export_version
    from source
)

select * from renamed
{%- endmacro %}


{#- Whether an Azure cost-details row belongs to a commitment (reservation or savings plan): its
    PricingModel. NULL-safe: a blank PricingModel (on-demand rows in many exports) is not one. -#}
{% macro azure_is_commitment(pricing_model) -%}
    coalesce({{ pricing_model }} in ('Reservation', 'SavingsPlan'), false)
{%- endmacro %}

{#- Whether an amortized-export row is one the FOCUS table takes from that export (with BilledCost 0):
    commitment-covered usage, or the unused part of a commitment. Everything else the actual-cost
    export prices. NULL-safe. -#}
{% macro azure_amortized_row_in_focus(alias) -%}
    (
        (coalesce({{ alias }}.charge_type = 'Usage', false) and {{ alias }}.is_commitment)
        or coalesce({{ alias }}.charge_type in ('UnusedReservation', 'UnusedSavingsPlan'), false)
    )
{%- endmacro %}
