{#- Azure cost-details exports, both datasets (actual and amortized share one layout), renamed:
    one row per landed row, `dataset` saying which export it came from. stg_azure__cost_details_actual
    and stg_azure__cost_details_amortized are each dataset's rows. Landing has typed money (exact,
    from text), dates (US-style M/D/YYYY or ISO) and Tags (JSON), and read the column variants of EA
    cost details, the older EA layout (Cost, BillingCurrency, Product, InstanceId) and MCA's
    camelCase names as one set of names (checks/files/azure_cost_details_*.yaml). Azure's
    billing-period end date is inclusive and becomes an exclusive end here. -#}
{%- set exports = {
    'actual': source('raw', 'azure_cost_details_actual'),
    'amortized': source('raw', 'azure_cost_details_amortized'),
} -%}
{%- set columns = {
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
} -%}
with

source as (
    {{- landed_union(exports, columns, 'dataset') }}
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

        -- categories. The codes the FOCUS mapping reads, trimmed: the file contract accepted
        -- " Usage" as Usage (its in_set compares trimmed), so it must map as Usage, not fall
        -- through to Adjustment.
        trim("ChargeType") as charge_type,
        trim("PricingModel") as pricing_model,
        trim("Frequency") as frequency,
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
        case when dataset = 'actual' then "CostInBillingCurrency" end as x_invoice_cost,
        case
            when dataset = 'actual' and {{ azure_is_commitment('trim("PricingModel")') }} then 0
            else "CostInBillingCurrency"
        end as x_amortized_cost,

        -- lineage
        dataset,
        {{ billing_lineage(dbt.concat(["'azure_cost_details_'", 'dataset'])) }}
    from source
)

select * from renamed
