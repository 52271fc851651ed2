{#- Azure cost-details exports (actual and amortized share one layout): type and rename.
    Money is parsed from text exactly; dates are US-style (M/D/YYYY) or ISO; Azure's billing-period
    end date is inclusive and becomes an exclusive end here.
    Column variants: EA cost details (CostInBillingCurrency, BillingCurrencyCode, ProductName),
    the older EA actual/amortized layout (Cost, BillingCurrency, Product), and MCA's camelCase
    names (costInBillingCurrency, billingCurrency, …; names match case-insensitively). Each FOCUS
    input takes the first variant present. -#}
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
            "Date": "varchar",
            "BillingPeriodStartDate": "varchar",
            "BillingPeriodEndDate": "varchar",
            "ProductName": "varchar",
            "MeterCategory": "varchar",
            "MeterSubCategory": "varchar",
            "MeterId": "varchar",
            "MeterName": "varchar",
            "MeterRegion": "varchar",
            "UnitOfMeasure": "varchar",
            "Quantity": "varchar",
            "EffectivePrice": "varchar",
            "CostInBillingCurrency": "varchar",
            "Cost": "varchar",
            "PreTaxCost": "varchar",
            "BillingCurrency": "varchar",
            "Currency": "varchar",
            "Product": "varchar",
            "InstanceId": "varchar",
            "ResourceGroupName": "varchar",
            "UnitPrice": "varchar",
            "PayGPrice": "varchar",
            "BillingCurrencyCode": "varchar",
            "ConsumedService": "varchar",
            "ResourceId": "varchar",
            "ResourceName": "varchar",
            "Tags": "varchar",
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
        coalesce(nullif("ResourceGroup", ''), nullif("ResourceGroupName", '')) as resource_group,
        coalesce(nullif("ResourceId", ''), nullif("InstanceId", '')) as resource_id,
        nullif("ResourceName", '') as resource_name,
        "MeterId" as meter_id,
        nullif(coalesce(nullif("benefitId", ''), "ReservationId"), '') as benefit_id,
        nullif(coalesce(nullif("benefitName", ''), "ReservationName"), '') as benefit_name,

        -- categories
        "ChargeType" as charge_type,
        "PricingModel" as pricing_model,
        "Frequency" as frequency,
        coalesce(nullif("ProductName", ''), "Product") as product_name,
        "MeterCategory" as meter_category,
        "MeterSubCategory" as meter_subcategory,
        "MeterName" as meter_name,
        "ServiceFamily" as service_family,
        lower("ConsumedService") as consumed_service,
        lower(nullif("ResourceLocation", '')) as resource_location,
        nullif("AvailabilityZone", '') as availability_zone,
        "UnitOfMeasure" as unit_of_measure,
        coalesce(nullif("BillingCurrencyCode", ''), nullif("BillingCurrency", ''), "Currency") as billing_currency,
        coalesce(nullif("PublisherName", ''), 'Microsoft') as publisher_name,
        -- Older EA exports write tags without the enclosing braces.
        case
            when nullif(trim("Tags"), '') is null then cast('{}' as json)
            when starts_with(trim("Tags"), '{') then cast("Tags" as json)
            else cast('{' || "Tags" || '}' as json)
        end as tags,

        -- money
        coalesce(
            {{ text_to_money('"CostInBillingCurrency"') }},
            {{ text_to_money('"Cost"') }},
            {{ text_to_money('"PreTaxCost"') }}
        ) as cost,
        {{ text_to_money('"EffectivePrice"') }} as effective_price,
        {{ text_to_money('"UnitPrice"') }} as unit_price,
        {{ text_to_money('"PayGPrice"') }} as payg_price,

        -- quantities
        {{ text_to_money('"Quantity"') }} as quantity,

        -- timestamps (UTC days; ends exclusive)
        cast(strptime("Date", ['%m/%d/%Y', '%Y-%m-%d']) as timestamp with time zone) as charge_date,
        cast(strptime("BillingPeriodStartDate", ['%m/%d/%Y', '%Y-%m-%d']) as timestamp with time zone)
            as billing_period_start,
        cast(strptime("BillingPeriodEndDate", ['%m/%d/%Y', '%Y-%m-%d']) as timestamp with time zone)
            + interval 1 day as billing_period_end,

        -- lineage
        '{{ dataset }}' as dataset,
        'azure_cost_details_{{ dataset }}' as x_source,
        x_source_file,
        x_period as billing_period,
        x_export_version
    from source
)

select * from renamed
{%- endmacro %}
