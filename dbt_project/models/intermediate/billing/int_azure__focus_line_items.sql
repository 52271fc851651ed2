{#- Azure actual + amortized cost details -> FOCUS.
    BilledCost comes from the actual export and EffectiveCost from the amortized one, per billing
    account and period:
    - rows that only the actual view prices (on-demand usage, purchases, refunds, tax) come from
      the actual export; commitment purchases get EffectiveCost 0 (they are amortized into usage);
    - commitment-covered usage (cost 0 in the actual export) and unused commitment rows come from
      the amortized export, with BilledCost 0.
    So Σ BilledCost = Σ actual cost and Σ EffectiveCost = Σ amortized cost.
    Many organisations export actual cost only: for an account and period without an amortized
    export, every actual row is taken, and EffectiveCost is the actual cost of the rows no
    commitment covers or buys (covered usage and commitment purchases: 0), the basis the
    effective-cost reconciliation then uses. Which rows are taken is decided once, in
    int_azure__cost_details_rows (the rows not taken, with their reason: int_azure__rows_outside_focus). -#}
with

rows as (
    select * from {{ ref('int_azure__cost_details_rows') }}
    where in_focus
),

services as (
    select * from {{ ref('service_categories') }} where provider = 'azure'
),

units as (
    select * from {{ ref('pricing_units') }} where provider = 'azure'
),

all_rows as (
    select
        rows.* exclude (in_focus, outside_focus_reason, has_actual_export, has_amortized_export),
        -- BilledCost from the actual export; the amortized export's rows were not billed as such
        case when rows.dataset = 'actual' then rows.cost else cast(0 as {{ money_type() }}) end as billed_cost,
        case
            when rows.dataset = 'amortized' then rows.cost
            -- Commitment purchases are amortized into the usage they cover.
            when rows.charge_type = 'Purchase' and rows.is_commitment then 0
            -- Actual cost only: covered usage keeps its actual cost (0).
            else rows.cost
        end as effective_cost
    from rows
),

focus as (
    select
        all_rows.billing_account_id as "BillingAccountId",
        all_rows.billing_account_name as "BillingAccountName",
        'Billing Account' as "BillingAccountType",
        all_rows.subscription_id as "SubAccountId",
        all_rows.subscription_name as "SubAccountName",
        'Subscription' as "SubAccountType",
        'Microsoft' as "ProviderName",
        all_rows.publisher_name as "PublisherName",
        'Microsoft' as "ServiceProviderName",
        'Microsoft' as "HostProviderName",
        'Microsoft' as "InvoiceIssuerName",
        all_rows.invoice_id as "InvoiceId",

        case
            when all_rows.charge_type in ('Usage', 'UnusedReservation', 'UnusedSavingsPlan') then 'Usage'
            when all_rows.charge_type = 'Purchase' then 'Purchase'
            when all_rows.charge_type = 'Tax' then 'Tax'
            when all_rows.charge_type = 'Refund' then 'Purchase'
            when all_rows.charge_type = 'Credit' then 'Credit'
            else 'Adjustment'
        end as "ChargeCategory",
        case when all_rows.charge_type = 'Refund' then 'Correction' end as "ChargeClass",
        case
            when all_rows.frequency = 'Recurring' then 'Recurring'
            when all_rows.frequency = 'OneTime' then 'One-Time'
            when all_rows.charge_type in ('Usage', 'UnusedReservation', 'UnusedSavingsPlan') then 'Usage-Based'
            else 'One-Time'
        end as "ChargeFrequency",
        all_rows.product_name as "ChargeDescription",
        case
            when all_rows.charge_type in ('Purchase', 'Refund') then 'Standard'
            when all_rows.charge_type not in ('Usage', 'UnusedReservation', 'UnusedSavingsPlan') then null
            when all_rows.is_commitment then 'Committed'
            when all_rows.pricing_model = 'Spot' then 'Dynamic'
            else 'Standard'
        end as "PricingCategory",

        case when all_rows.is_commitment then all_rows.benefit_id end
            as "CommitmentDiscountId",
        case when all_rows.is_commitment then all_rows.benefit_name end
            as "CommitmentDiscountName",
        case all_rows.pricing_model when 'Reservation' then 'Usage' when 'SavingsPlan' then 'Spend' end
            as "CommitmentDiscountCategory",
        case all_rows.pricing_model when 'Reservation' then 'Reservation' when 'SavingsPlan' then 'Savings Plan' end
            as "CommitmentDiscountType",
        case
            when all_rows.charge_type in ('UnusedReservation', 'UnusedSavingsPlan') then 'Unused'
            when all_rows.charge_type = 'Usage' and all_rows.is_commitment then 'Used'
        end as "CommitmentDiscountStatus",

        all_rows.billed_cost as "BilledCost",
        all_rows.effective_cost as "EffectiveCost",
        coalesce(all_rows.payg_price * all_rows.quantity, all_rows.cost) as "ListCost",
        all_rows.payg_price as "ListUnitPrice",
        coalesce(all_rows.unit_price * all_rows.quantity, all_rows.cost) as "ContractedCost",
        all_rows.unit_price as "ContractedUnitPrice",
        all_rows.billing_currency as "BillingCurrency",

        -- Azure prices in blocks ("100 Hours"): PricingQuantity counts blocks of the PricingUnit
        -- as exported; ConsumedQuantity is in single units. FOCUS: ConsumedQuantity MUST be null
        -- unless the row is Usage, and on the unused part of a commitment (UnusedReservation,
        -- UnusedSavingsPlan), so only ChargeType Usage carries it (not purchases or refunds).
        case when all_rows.charge_type = 'Usage' then all_rows.quantity * coalesce(units.pricing_block_size, 1) end
            as "ConsumedQuantity",
        case when all_rows.charge_type = 'Usage' and all_rows.quantity is not null
            then coalesce(units.focus_unit, all_rows.unit_of_measure) end as "ConsumedUnit",
        case when all_rows.charge_type is distinct from 'Tax' and all_rows.unit_of_measure is not null then all_rows.quantity end
            as "PricingQuantity",
        case when all_rows.charge_type is distinct from 'Tax' and all_rows.quantity is not null then
            case when coalesce(units.pricing_block_size, 1) = 1
                then coalesce(units.focus_unit, all_rows.unit_of_measure) else all_rows.unit_of_measure end
        end as "PricingUnit",

        coalesce(services.service_name, all_rows.meter_category) as "ServiceName",
        coalesce(services.service_category, 'Other') as "ServiceCategory",
        coalesce(services.service_subcategory, 'Other (Other)') as "ServiceSubcategory",
        all_rows.meter_id as "SkuId",
        all_rows.meter_name as "SkuMeter",
        all_rows.resource_location as "RegionId",
        all_rows.resource_location as "RegionName",
        all_rows.availability_zone as "AvailabilityZone",
        all_rows.resource_id as "ResourceId",
        all_rows.resource_name as "ResourceName",
        all_rows.tags as "Tags",

        all_rows.billing_period_start as "BillingPeriodStart",
        all_rows.billing_period_end as "BillingPeriodEnd",
        all_rows.charge_date as "ChargePeriodStart",
        all_rows.charge_date + interval 1 day as "ChargePeriodEnd",

        all_rows.x_source,
        all_rows.x_source_file,
        all_rows.x_source_row,
        all_rows.billing_period as x_billing_period,
        all_rows.x_export_version,
        all_rows.charge_type || '/' || coalesce(all_rows.pricing_model, '') as x_provider_line_type,
        {{ normalized_tag_map(json_to_tag_map('all_rows.tags')) }} as x_tag_map
    from all_rows
    left join services on services.service_key = all_rows.meter_category
    left join units on units.provider_unit = all_rows.unit_of_measure
)

select
    * exclude (x_tag_map),
    {{ tag_columns('x_tag_map') }}
from focus
