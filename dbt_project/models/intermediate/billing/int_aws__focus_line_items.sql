{#- AWS CUR 2.0 -> FOCUS. Amortization follows AWS's own amortized-cost definition: covered
    usage carries its commitment rate, negation and purchase lines carry 0, and the unused part
    of a commitment stays visible on its fee line. -#}
with

line_items as (
    select * from {{ ref('stg_aws__cur2_line_items') }}
),

services as (
    select * from {{ ref('service_categories') }} where provider = 'aws'
),

focus as (
    select
        -- accounts
        line_items.billing_account_id as "BillingAccountId",
        line_items.billing_account_name as "BillingAccountName",
        'Payer Account' as "BillingAccountType",
        line_items.usage_account_id as "SubAccountId",
        line_items.usage_account_name as "SubAccountName",
        'Linked Account' as "SubAccountType",
        line_items.invoice_id as "InvoiceId",
        coalesce(line_items.invoicing_entity, 'Amazon Web Services, Inc.') as "InvoiceIssuerName",
        'Amazon Web Services' as "ProviderName",
        'Amazon Web Services' as "PublisherName",
        'Amazon Web Services' as "ServiceProviderName",
        'Amazon Web Services' as "HostProviderName",

        -- charge classification
        case
            when line_items.line_item_type in (
                'Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation'
            ) then 'Usage'
            when line_items.line_item_type in (
                'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee', 'RIFee', 'Fee'
            ) then 'Purchase'
            when line_items.line_item_type = 'Tax' then 'Tax'
            when line_items.line_item_type in (
                'Credit', 'Refund', 'BundledDiscount', 'EdpDiscount', 'PrivateRateDiscount',
                'DistributorDiscount'
            ) then 'Credit'
            else 'Adjustment'
        end as "ChargeCategory",
        case when line_items.line_item_type = 'Refund' then 'Correction' end as "ChargeClass",
        case
            when line_items.line_item_type in ('SavingsPlanRecurringFee', 'RIFee') then 'Recurring'
            when line_items.line_item_type in (
                'Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation'
            ) then 'Usage-Based'
            else 'One-Time'
        end as "ChargeFrequency",
        line_items.description as "ChargeDescription",
        case
            when line_items.line_item_type in ('DiscountedUsage', 'SavingsPlanCoveredUsage') then 'Committed'
            when line_items.line_item_type = 'Usage' and line_items.pricing_term = 'Spot' then 'Dynamic'
            when line_items.line_item_type in ('Usage', 'SavingsPlanNegation') then 'Standard'
        end as "PricingCategory",

        -- commitments
        coalesce(line_items.savings_plan_arn, line_items.reservation_arn) as "CommitmentDiscountId",
        case
            when line_items.savings_plan_arn is not null then 'Spend'
            when line_items.reservation_arn is not null then 'Usage'
        end as "CommitmentDiscountCategory",
        case
            when line_items.savings_plan_arn is not null then 'Savings Plan'
            when line_items.reservation_arn is not null then 'Reserved Instance'
        end as "CommitmentDiscountType",
        case
            when line_items.line_item_type in ('DiscountedUsage', 'SavingsPlanCoveredUsage') then 'Used'
        end as "CommitmentDiscountStatus",

        -- money
        line_items.unblended_cost as "BilledCost",
        case line_items.line_item_type
            when 'SavingsPlanCoveredUsage' then coalesce(line_items.savings_plan_effective_cost, 0)
            when 'SavingsPlanRecurringFee' then
                coalesce(line_items.savings_plan_total_commitment_to_date, 0)
                - coalesce(line_items.savings_plan_used_commitment, 0)
            when 'SavingsPlanNegation' then 0
            when 'SavingsPlanUpfrontFee' then 0
            when 'DiscountedUsage' then coalesce(line_items.reservation_effective_cost, 0)
            when 'RIFee' then
                coalesce(line_items.reservation_unused_amortized_upfront_fee, 0)
                + coalesce(line_items.reservation_unused_recurring_fee, 0)
            when 'Fee' then case when line_items.reservation_arn is not null then 0 else line_items.unblended_cost end
            else line_items.unblended_cost
        end as "EffectiveCost",
        coalesce(line_items.public_on_demand_cost, line_items.unblended_cost) as "ListCost",
        line_items.public_on_demand_rate as "ListUnitPrice",
        line_items.unblended_cost as "ContractedCost",
        line_items.unblended_rate as "ContractedUnitPrice",
        line_items.billing_currency as "BillingCurrency",

        -- usage
        line_items.usage_amount as "ConsumedQuantity",
        line_items.pricing_unit as "ConsumedUnit",
        line_items.usage_amount as "PricingQuantity",
        line_items.pricing_unit as "PricingUnit",

        -- service, sku, location, resource
        coalesce(services.service_name, line_items.service_code) as "ServiceName",
        coalesce(services.service_category, 'Other') as "ServiceCategory",
        coalesce(services.service_subcategory, 'Other (Other)') as "ServiceSubcategory",
        line_items.sku as "SkuId",
        line_items.usage_type as "SkuMeter",
        line_items.region_code as "RegionId",
        line_items.region_code as "RegionName",
        line_items.availability_zone as "AvailabilityZone",
        line_items.resource_id as "ResourceId",
        line_items.resource_id as "ResourceName",
        line_items.instance_type as "ResourceType",
        cast(to_json(line_items.resource_tags) as json) as "Tags",

        -- periods (UTC, exclusive ends)
        line_items.billing_period_start as "BillingPeriodStart",
        line_items.billing_period_end as "BillingPeriodEnd",
        line_items.usage_start as "ChargePeriodStart",
        line_items.usage_end as "ChargePeriodEnd",

        -- atlas
        line_items.x_source,
        line_items.x_source_file,
        line_items.billing_period as x_billing_period,
        line_items.x_export_version,
        line_items.line_item_type as x_provider_line_type,
        line_items.resource_tags['user_team'] as x_team,
        line_items.resource_tags['user_project'] as x_project
    from line_items
    left join services on services.service_key = line_items.service_code
)

select * from focus
