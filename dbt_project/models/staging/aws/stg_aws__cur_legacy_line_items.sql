{#- AWS legacy Cost and Usage Report (CSV, `lineItem/UnblendedCost`-style names), renamed to the
    same columns as stg_aws__cur2_line_items so both share one FOCUS mapping. Landing has typed money
    (exact DECIMAL from the text AWS wrote) and times (checks/files/aws_cur_legacy.yaml); the other
    columns stay text as delivered. Tags are the `resourceTags/<key>`
    columns, whatever the report includes, gathered into one map keyed as AWS writes them
    (`user:team`). Optional columns (reservation/…, savingsPlan/…) may be absent: then NULL. -#}
{%- set source_relation = source('raw', 'aws_cur_legacy') -%}
{%- set tag_columns = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(source_relation) -%}
        {%- if (column.name | lower).startswith('resourcetags/') -%}{%- do tag_columns.append(column.name) -%}{%- endif -%}
    {%- endfor -%}
{%- endif -%}
with

source as (
    select
        {{ columns_or_null(source_relation, {
            "identity/LineItemId": "varchar",
            "bill/InvoiceId": "varchar",
            "bill/InvoicingEntity": "varchar",
            "bill/PayerAccountId": "varchar",
            "bill/BillingPeriodStartDate": "timestamp with time zone",
            "bill/BillingPeriodEndDate": "timestamp with time zone",
            "lineItem/UsageAccountId": "varchar",
            "lineItem/LineItemType": "varchar",
            "lineItem/UsageStartDate": "timestamp with time zone",
            "lineItem/UsageEndDate": "timestamp with time zone",
            "lineItem/ProductCode": "varchar",
            "lineItem/UsageType": "varchar",
            "lineItem/Operation": "varchar",
            "lineItem/AvailabilityZone": "varchar",
            "lineItem/ResourceId": "varchar",
            "lineItem/UsageAmount": money_type(),
            "lineItem/CurrencyCode": "varchar",
            "lineItem/UnblendedRate": money_type(),
            "lineItem/UnblendedCost": money_type(),
            "lineItem/LineItemDescription": "varchar",
            "lineItem/LegalEntity": "varchar",
            "product/servicecode": "varchar",
            "product/ProductName": "varchar",
            "product/productFamily": "varchar",
            "product/regionCode": "varchar",
            "product/region": "varchar",
            "product/instanceType": "varchar",
            "product/sku": "varchar",
            "pricing/term": "varchar",
            "pricing/unit": "varchar",
            "pricing/PurchaseOption": "varchar",
            "pricing/publicOnDemandRate": money_type(),
            "pricing/publicOnDemandCost": money_type(),
            "reservation/ReservationARN": "varchar",
            "reservation/EffectiveCost": money_type(),
            "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": money_type(),
            "reservation/UnusedRecurringFee": money_type(),
            "reservation/UnusedQuantity": money_type(),
            "reservation/AmortizedUpfrontFeeForBillingPeriod": money_type(),
            "savingsPlan/SavingsPlanARN": "varchar",
            "savingsPlan/SavingsPlanEffectiveCost": money_type(),
            "savingsPlan/TotalCommitmentToDate": money_type(),
            "savingsPlan/UsedCommitment": money_type(),
        }) }},
        {% if tag_columns -%}
        {%- set tags = [] -%}
        {%- for name in tag_columns -%}
            {%- do tags.append(struct_of([('key', "'" ~ name[13:] ~ "'"), ('value', adapter.quote(name))])) -%}
        {%- endfor %}
        {{ map_from_key_values(array_where(array_literal(tags), 'e', "nullif(e.value, '') is not null")) }}
        {%- else -%}
        cast(map() as {{ sql_type('map(varchar, varchar)') }})
        {%- endif %} as resource_tags,
        {{ landing_lineage() }}
    from {{ source_relation }}
),

renamed as (
    select
        -- ids
        "identity/LineItemId" as line_item_id,
        "bill/InvoiceId" as invoice_id,
        "bill/PayerAccountId" as billing_account_id,
        cast(null as {{ sql_type('varchar') }}) as billing_account_name,
        "lineItem/UsageAccountId" as usage_account_id,
        cast(null as {{ sql_type('varchar') }}) as usage_account_name,
        nullif("lineItem/ResourceId", '') as resource_id,
        nullif("reservation/ReservationARN", '') as reservation_arn,
        nullif("savingsPlan/SavingsPlanARN", '') as savings_plan_arn,

        -- categories
        "lineItem/LineItemType" as line_item_type,
        "lineItem/ProductCode" as product_code,
        coalesce(nullif("product/servicecode", ''), "lineItem/ProductCode") as service_code,
        nullif("product/productFamily", '') as product_family,
        nullif("product/ProductName", '') as product_name,
        nullif("lineItem/UsageType", '') as usage_type,
        nullif("lineItem/Operation", '') as operation,
        coalesce(nullif("product/regionCode", ''), nullif("product/region", '')) as region_code,
        nullif("lineItem/AvailabilityZone", '') as availability_zone,
        nullif("product/instanceType", '') as instance_type,
        nullif("product/sku", '') as sku,
        nullif("pricing/term", '') as pricing_term,
        nullif("pricing/PurchaseOption", '') as pricing_purchase_option,
        nullif("pricing/unit", '') as pricing_unit,
        "lineItem/LineItemDescription" as description,
        coalesce(nullif("bill/InvoicingEntity", ''), nullif("lineItem/LegalEntity", '')) as invoicing_entity,
        "lineItem/CurrencyCode" as billing_currency,
        resource_tags,

        -- money
        "lineItem/UnblendedCost" as unblended_cost,
        "lineItem/UnblendedRate" as unblended_rate,
        "pricing/publicOnDemandCost" as public_on_demand_cost,
        "pricing/publicOnDemandRate" as public_on_demand_rate,
        "reservation/EffectiveCost" as reservation_effective_cost,
        "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"
            as reservation_unused_amortized_upfront_fee,
        "reservation/UnusedRecurringFee" as reservation_unused_recurring_fee,
        "reservation/AmortizedUpfrontFeeForBillingPeriod" as reservation_amortized_upfront_fee,
        "reservation/UnusedQuantity" as reservation_unused_quantity,
        "savingsPlan/SavingsPlanEffectiveCost" as savings_plan_effective_cost,
        "savingsPlan/TotalCommitmentToDate" as savings_plan_total_commitment_to_date,
        "savingsPlan/UsedCommitment" as savings_plan_used_commitment,

        -- quantities
        "lineItem/UsageAmount" as usage_amount,

        -- timestamps (UTC; ends exclusive)
        "bill/BillingPeriodStartDate" as billing_period_start,
        "bill/BillingPeriodEndDate" as billing_period_end,
        "lineItem/UsageStartDate" as usage_start,
        "lineItem/UsageEndDate" as usage_end,

        -- reconciliation: what AWS invoices for the line, and its amortized cost
        "lineItem/UnblendedCost" as x_invoice_cost,
        {{ aws_amortized_cost(
            '"lineItem/LineItemType"', '"lineItem/UnblendedCost"', '"savingsPlan/SavingsPlanEffectiveCost"',
            '"savingsPlan/TotalCommitmentToDate"', '"savingsPlan/UsedCommitment"', '"reservation/EffectiveCost"',
            '"reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"', '"reservation/UnusedRecurringFee"',
            "nullif(\"reservation/ReservationARN\", '') is not null or nullif(\"savingsPlan/SavingsPlanARN\", '') is not null"
        ) }} as x_amortized_cost,

        -- lineage
        {{ billing_lineage("'aws_cur_legacy'") }}
    from source
)

select * from renamed
