{#- AWS cost and usage report lines (CUR 2.0 and legacy CUR, one shape: int_aws__cur_line_items)
    -> FOCUS. Amortization follows AWS's own amortized-cost definition and the FOCUS
    commitment-discount scenarios:
    - commitment-covered usage (DiscountedUsage, SavingsPlanCoveredUsage) carries its amortized
      commitment cost as EffectiveCost;
    - commitment purchases (RIFee, SavingsPlanRecurringFee, the upfront Fee / SavingsPlanUpfrontFee)
      are Purchase rows with EffectiveCost 0: their cost reaches EffectiveCost through the usage;
    - the part of a commitment nobody used becomes its own row: ChargeCategory Usage,
      CommitmentDiscountStatus Unused, BilledCost 0, EffectiveCost = the unused amortized cost
      (RIFee: unused upfront + unused recurring fee; Savings Plan: commitment - used commitment).
    Per payer account and period: Σ BilledCost = Σ line_item_unblended_cost and
    Σ EffectiveCost = Σ AWS amortized cost. -#}
with

line_items as (
    select * from {{ ref('int_aws__cur_line_items') }}
),

services as (
    select * from {{ ref('service_categories') }} where provider = 'aws'
),

units as (
    select * from {{ ref('pricing_units') }} where provider = 'aws'
),

{#- Every line item once, and each commitment fee (RIFee, SavingsPlanRecurringFee) a second time
    for its unused part: a join to two rows, so that the line items are read once (DuckDB writes a
    CTE read twice — here every column of every line item — to a buffer first). -#}
split as (
    select
        line_items.*,
        unused.is_unused_commitment
    from line_items
    inner join (select false as is_unused_commitment union all select true as is_unused_commitment) as unused
        on not unused.is_unused_commitment
        or line_items.line_item_type in ('RIFee', 'SavingsPlanRecurringFee')
),

costed as (
    select
        split.*,
        case when split.is_unused_commitment then cast(0 as {{ money_type() }}) else split.unblended_cost end
            as billed_cost,
        case
            when split.is_unused_commitment then
                case split.line_item_type
                    when 'RIFee' then
                        coalesce(split.reservation_unused_amortized_upfront_fee, 0)
                        + coalesce(split.reservation_unused_recurring_fee, 0)
                    else
                        coalesce(split.savings_plan_total_commitment_to_date, 0)
                        - coalesce(split.savings_plan_used_commitment, 0)
                end
            else
                case split.line_item_type
                    when 'SavingsPlanCoveredUsage' then coalesce(split.savings_plan_effective_cost, 0)
                    when 'DiscountedUsage' then coalesce(split.reservation_effective_cost, 0)
                    when 'SavingsPlanNegation' then 0
                    when 'SavingsPlanRecurringFee' then 0
                    when 'SavingsPlanUpfrontFee' then 0
                    when 'RIFee' then 0
                    when 'Fee' then
                        case when split.reservation_arn is not null or split.savings_plan_arn is not null
                            then 0 else split.unblended_cost end
                    else split.unblended_cost
                end
        end as effective_cost
    from split
),

-- The unused part of a commitment only where some of it went unused.
all_rows as (
    select * from costed
    where not costed.is_unused_commitment or costed.effective_cost <> 0
),

classified as (
    select
        all_rows.*,
        case
            when all_rows.is_unused_commitment then 'Usage'
            when all_rows.line_item_type in (
                'Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation'
            ) then 'Usage'
            when all_rows.line_item_type in (
                'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee', 'RIFee', 'Fee'
            ) then 'Purchase'
            when all_rows.line_item_type = 'Tax' then 'Tax'
            when all_rows.line_item_type in (
                'Credit', 'Refund', 'BundledDiscount', 'EdpDiscount', 'PrivateRateDiscount',
                'DistributorDiscount'
            ) then 'Credit'
            else 'Adjustment'
        end as charge_category,
        coalesce(all_rows.savings_plan_arn, all_rows.reservation_arn) as commitment_id
    from all_rows
),

quantified as (
    select
        classified.*,
        -- FOCUS: PricingQuantity only on Usage and Purchase rows, and only with a unit.
        case
            when classified.charge_category not in ('Usage', 'Purchase') or classified.pricing_unit is null then null
            when classified.is_unused_commitment then classified.reservation_unused_quantity
            else classified.usage_amount
        end as pricing_quantity,
        coalesce(units.focus_unit, classified.pricing_unit) as focus_unit
    from classified
    left join units on units.provider_unit = classified.pricing_unit
),

focus as (
    select
        -- accounts
        c.billing_account_id as "BillingAccountId",
        c.billing_account_name as "BillingAccountName",
        'Payer Account' as "BillingAccountType",
        c.usage_account_id as "SubAccountId",
        c.usage_account_name as "SubAccountName",
        'Linked Account' as "SubAccountType",
        c.invoice_id as "InvoiceId",
        -- AWS's own legal entities invoice as the provider (FOCUS: the issuer differs from the
        -- provider only when a third party, e.g. a reseller, invoices).
        case
            when c.invoicing_entity is null or c.invoicing_entity ilike 'Amazon Web Services%'
                or c.invoicing_entity ilike 'AWS%' then 'Amazon Web Services'
            else c.invoicing_entity
        end as "InvoiceIssuerName",
        'Amazon Web Services' as "ProviderName",
        'Amazon Web Services' as "PublisherName",
        'Amazon Web Services' as "ServiceProviderName",
        'Amazon Web Services' as "HostProviderName",

        -- charge classification
        c.charge_category as "ChargeCategory",
        -- A refund corrects an earlier charge.
        case when c.line_item_type = 'Refund' then 'Correction' end as "ChargeClass",
        case
            when c.charge_category = 'Usage' then 'Usage-Based'
            when c.line_item_type in ('SavingsPlanRecurringFee', 'RIFee', 'Tax') then 'Recurring'
            else 'One-Time'
        end as "ChargeFrequency",
        case
            when c.is_unused_commitment then 'Unused ' || c.line_item_type || ': ' || c.description
            else c.description
        end as "ChargeDescription",
        case
            when c.charge_category = 'Purchase' then 'Standard'
            when c.charge_category <> 'Usage' then null
            when c.is_unused_commitment then 'Committed'
            when c.line_item_type in ('DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation')
                then 'Committed'
            when c.pricing_term = 'Spot' then 'Dynamic'
            else 'Standard'
        end as "PricingCategory",

        -- commitments
        c.commitment_id as "CommitmentDiscountId",
        case
            when c.savings_plan_arn is not null then 'Spend'
            when c.reservation_arn is not null then 'Usage'
        end as "CommitmentDiscountCategory",
        case
            when c.savings_plan_arn is not null then 'Savings Plan'
            when c.reservation_arn is not null then 'Reserved Instance'
        end as "CommitmentDiscountType",
        case
            when c.commitment_id is null or c.charge_category <> 'Usage' then null
            when c.is_unused_commitment then 'Unused'
            else 'Used'
        end as "CommitmentDiscountStatus",
        case
            when c.reservation_arn is null then null
            when c.is_unused_commitment then c.reservation_unused_quantity
            when c.line_item_type = 'DiscountedUsage' then c.usage_amount
        end as "CommitmentDiscountQuantity",
        case
            when c.reservation_arn is not null and (c.is_unused_commitment or c.line_item_type = 'DiscountedUsage')
                then 'Hours'
        end as "CommitmentDiscountUnit",

        -- money
        c.billed_cost as "BilledCost",
        c.effective_cost as "EffectiveCost",
        case
            when c.is_unused_commitment then cast(0 as {{ money_type() }})
            else coalesce(c.public_on_demand_cost, c.unblended_cost)
        end as "ListCost",
        c.public_on_demand_rate as "ListUnitPrice",
        case when c.is_unused_commitment then c.effective_cost else c.unblended_cost end as "ContractedCost",
        c.unblended_rate as "ContractedUnitPrice",
        c.billing_currency as "BillingCurrency",

        -- usage
        case when c.charge_category = 'Usage' and not c.is_unused_commitment then c.usage_amount end
            as "ConsumedQuantity",
        case when c.charge_category = 'Usage' and not c.is_unused_commitment then c.focus_unit end
            as "ConsumedUnit",
        c.pricing_quantity as "PricingQuantity",
        case when c.pricing_quantity is not null then c.focus_unit end as "PricingUnit",

        -- service, sku, location, resource
        coalesce(services.service_name, c.product_name, c.service_code) as "ServiceName",
        coalesce(services.service_category, 'Other') as "ServiceCategory",
        coalesce(services.service_subcategory, 'Other (Other)') as "ServiceSubcategory",
        c.sku as "SkuId",
        c.usage_type as "SkuMeter",
        c.region_code as "RegionId",
        c.region_code as "RegionName",
        c.availability_zone as "AvailabilityZone",
        -- Commitment purchases and unused commitment are charges of the commitment itself.
        case
            when c.is_unused_commitment or c.charge_category = 'Purchase' then coalesce(c.resource_id, c.commitment_id)
            else c.resource_id
        end as "ResourceId",
        case
            when c.is_unused_commitment or c.charge_category = 'Purchase' then coalesce(c.resource_id, c.commitment_id)
            else c.resource_id
        end as "ResourceName",
        c.instance_type as "ResourceType",
        cast(to_json(coalesce(c.resource_tags, map())) as {{ sql_type('json') }}) as "Tags",

        -- periods (UTC, exclusive ends)
        c.billing_period_start as "BillingPeriodStart",
        c.billing_period_end as "BillingPeriodEnd",
        c.usage_start as "ChargePeriodStart",
        c.usage_end as "ChargePeriodEnd",

        -- atlas
        c.x_source,
        c.x_source_file,
        c.x_source_row,
        c.billing_period as x_billing_period,
        c.x_export_version,
        case when c.is_unused_commitment then c.line_item_type || ':unused' else c.line_item_type end
            as x_provider_line_type,
        {{ normalized_tag_map('c.resource_tags', 'user[_:]') }} as x_tag_map
    from quantified as c
    left join services on services.service_key = c.service_code
)

select
    {{ star_except(['x_tag_map']) }},
    {{ tag_columns('x_tag_map') }}
from focus
