{#- GCP billing export rows (standard and detailed export, one shape: int_gcp__billing_line_items)
    -> FOCUS. Each export row is a charge at its pre-credit `cost`; each nested
    credit becomes its own Credit row (same period, resource and tags, x_provider_line_type
    `credit:<type>`), so Σ BilledCost = Σ cost + Σ credits.amount, the invoice amount.
    Discount-type credits (sustained use, committed use, negotiated DISCOUNT) are part of the usage's
    price: they are folded into the usage row's EffectiveCost and their Credit row carries
    EffectiveCost 0. Other credits (PROMOTION, FREE_TIER, ...) keep EffectiveCost = their amount.
    Either way Σ EffectiveCost = Σ BilledCost: the standard export has no amortized view. -#}
with

line_items as (
    select * from {{ ref('int_gcp__billing_line_items') }}
),

services as (
    select * from {{ ref('service_categories') }} where provider = 'gcp'
),

units as (
    select * from {{ ref('pricing_units') }} where provider = 'gcp'
),

charges as (
    select
        -- cost after the other columns in both branches of all_rows (a credit row replaces it)
        {{ star_except(['cost'], 'line_items') }},
        line_items.cost,
        line_items.cost + coalesce({{ array_sum(array_transform(
            array_where('line_items.credits', 'c', 'c.type in ' ~ gcp_discount_credit_types()), 'c', 'c.amount'
        ), money_type()) }}, 0) as effective_cost,
        case line_items.cost_type
            when 'regular' then 'Usage'
            when 'tax' then 'Tax'
            when 'adjustment' then 'Credit'
            else 'Adjustment'  -- rounding_error
        end as charge_category,
        case when line_items.cost_type = 'adjustment' then 'Correction' end as charge_class,
        line_items.cost as billed_cost,
        line_items.cost_type as provider_line_type,
        line_items.sku_description as charge_description
    from line_items
),

unnested_credits as (
    select
        line_items.*,
        {{ array_elements('line_items.credits') }} as credit
    from line_items
    where {{ array_length('line_items.credits') }} > 0
),

credit_rows as (
    select
        {{ star_except(['credit', 'cost']) }},
        credit.amount as cost,
        case when credit.type in {{ gcp_discount_credit_types() }} then cast(0 as {{ money_type() }})
            else credit.amount end as effective_cost,
        'Credit' as charge_category,
        cast(null as {{ sql_type('varchar') }}) as charge_class,
        credit.amount as billed_cost,
        'credit:' || coalesce(credit.type, 'UNKNOWN') as provider_line_type,
        coalesce(credit.full_name, credit.name) as charge_description
    from unnested_credits
),

all_rows as (
    select * from charges
    union all
    select * from credit_rows
),

focus as (
    select
        all_rows.billing_account_id as "BillingAccountId",
        'Billing Account' as "BillingAccountType",
        all_rows.project_id as "SubAccountId",
        all_rows.project_name as "SubAccountName",
        'Project' as "SubAccountType",
        'Google Cloud' as "ProviderName",
        'Google Cloud' as "PublisherName",
        'Google Cloud' as "ServiceProviderName",
        'Google Cloud' as "HostProviderName",
        'Google Cloud' as "InvoiceIssuerName",
        all_rows.invoice_month as "InvoiceId",

        all_rows.charge_category as "ChargeCategory",
        all_rows.charge_class as "ChargeClass",
        case
            when all_rows.charge_category = 'Usage' then 'Usage-Based'
            when all_rows.charge_category = 'Tax' then 'Recurring'
            else 'One-Time'
        end as "ChargeFrequency",
        all_rows.charge_description as "ChargeDescription",
        case when all_rows.charge_category = 'Usage' then 'Standard' end as "PricingCategory",

        all_rows.billed_cost as "BilledCost",
        all_rows.effective_cost as "EffectiveCost",
        case when all_rows.charge_category = 'Credit' then 0 else coalesce(all_rows.cost_at_list, all_rows.cost) end as "ListCost",
        all_rows.billed_cost as "ContractedCost",
        all_rows.billing_currency as "BillingCurrency",

        case when all_rows.charge_category = 'Usage' then all_rows.usage_amount end as "ConsumedQuantity",
        case when all_rows.charge_category = 'Usage' then coalesce(consumed_units.focus_unit, all_rows.usage_unit) end
            as "ConsumedUnit",
        case when all_rows.charge_category = 'Usage' and all_rows.usage_pricing_unit is not null
            then all_rows.usage_amount_in_pricing_units end as "PricingQuantity",
        case when all_rows.charge_category = 'Usage' and all_rows.usage_amount_in_pricing_units is not null
            then coalesce(pricing_units.focus_unit, all_rows.usage_pricing_unit) end as "PricingUnit",

        coalesce(services.service_name, all_rows.service_description) as "ServiceName",
        coalesce(services.service_category, 'Other') as "ServiceCategory",
        coalesce(services.service_subcategory, 'Other (Other)') as "ServiceSubcategory",
        all_rows.sku_id as "SkuId",
        all_rows.sku_description as "SkuMeter",
        all_rows.region as "RegionId",
        all_rows.region as "RegionName",
        all_rows.zone as "AvailabilityZone",
        coalesce(all_rows.resource_global_name, all_rows.resource_name) as "ResourceId",
        all_rows.resource_name as "ResourceName",
        cast(to_json(coalesce(all_rows.label_map, map())) as {{ sql_type('json') }}) as "Tags",

        -- The invoice month is the billing period (late usage can land on the next invoice).
        all_rows.invoice_period_start as "BillingPeriodStart",
        all_rows.invoice_period_start + interval 1 month as "BillingPeriodEnd",
        all_rows.usage_start as "ChargePeriodStart",
        all_rows.usage_end as "ChargePeriodEnd",

        all_rows.x_source,
        all_rows.x_source_file,
        all_rows.x_source_row,
        all_rows.billing_period as x_billing_period,
        all_rows.x_export_version,
        all_rows.provider_line_type as x_provider_line_type,
        {{ normalized_tag_map('all_rows.label_map') }} as x_tag_map
    from all_rows
    left join services on services.service_key = all_rows.service_description
    left join units as consumed_units on consumed_units.provider_unit = all_rows.usage_unit
    left join units as pricing_units on pricing_units.provider_unit = all_rows.usage_pricing_unit
)

select
    {{ star_except(['x_tag_map']) }},
    {{ tag_columns('x_tag_map') }}
from focus
