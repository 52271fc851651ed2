{#- AWS legacy Cost and Usage Report (CSV, `lineItem/UnblendedCost`-style names), renamed to the
    same columns as stg_aws__cur2_line_items so both share one FOCUS mapping. Every value arrives
    as text, so money is parsed exactly (text_to_money). Tags are the `resourceTags/<key>`
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
            "bill/BillingPeriodStartDate": "varchar",
            "bill/BillingPeriodEndDate": "varchar",
            "lineItem/UsageAccountId": "varchar",
            "lineItem/LineItemType": "varchar",
            "lineItem/UsageStartDate": "varchar",
            "lineItem/UsageEndDate": "varchar",
            "lineItem/ProductCode": "varchar",
            "lineItem/UsageType": "varchar",
            "lineItem/Operation": "varchar",
            "lineItem/AvailabilityZone": "varchar",
            "lineItem/ResourceId": "varchar",
            "lineItem/UsageAmount": "varchar",
            "lineItem/CurrencyCode": "varchar",
            "lineItem/UnblendedRate": "varchar",
            "lineItem/UnblendedCost": "varchar",
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
            "pricing/publicOnDemandRate": "varchar",
            "pricing/publicOnDemandCost": "varchar",
            "reservation/ReservationARN": "varchar",
            "reservation/EffectiveCost": "varchar",
            "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": "varchar",
            "reservation/UnusedRecurringFee": "varchar",
            "reservation/UnusedQuantity": "varchar",
            "reservation/AmortizedUpfrontFeeForBillingPeriod": "varchar",
            "savingsPlan/SavingsPlanARN": "varchar",
            "savingsPlan/SavingsPlanEffectiveCost": "varchar",
            "savingsPlan/TotalCommitmentToDate": "varchar",
            "savingsPlan/UsedCommitment": "varchar",
        }) }},
        {% if tag_columns -%}
        map_from_entries(list_filter([
            {%- for name in tag_columns %}
            {'key': '{{ name[13:] }}', 'value': {{ adapter.quote(name) }}}{{ "," if not loop.last }}
            {%- endfor %}
        ], e -> nullif(e.value, '') is not null))
        {%- else -%}
        cast(map() as map(varchar, varchar))
        {%- endif %} as resource_tags,
        x_source_file,
        x_period,
        x_export_version
    from {{ source_relation }}
),

renamed as (
    select
        -- ids
        "identity/LineItemId" as line_item_id,
        "bill/InvoiceId" as invoice_id,
        "bill/PayerAccountId" as billing_account_id,
        cast(null as varchar) as billing_account_name,
        "lineItem/UsageAccountId" as usage_account_id,
        cast(null as varchar) as usage_account_name,
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

        -- money (exact text)
        {{ text_to_money('"lineItem/UnblendedCost"') }} as unblended_cost,
        {{ text_to_money('"lineItem/UnblendedRate"') }} as unblended_rate,
        {{ text_to_money('"pricing/publicOnDemandCost"') }} as public_on_demand_cost,
        {{ text_to_money('"pricing/publicOnDemandRate"') }} as public_on_demand_rate,
        {{ text_to_money('"reservation/EffectiveCost"') }} as reservation_effective_cost,
        {{ text_to_money('"reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"') }}
            as reservation_unused_amortized_upfront_fee,
        {{ text_to_money('"reservation/UnusedRecurringFee"') }} as reservation_unused_recurring_fee,
        {{ text_to_money('"reservation/AmortizedUpfrontFeeForBillingPeriod"') }} as reservation_amortized_upfront_fee,
        {{ text_to_money('"reservation/UnusedQuantity"') }} as reservation_unused_quantity,
        {{ text_to_money('"savingsPlan/SavingsPlanEffectiveCost"') }} as savings_plan_effective_cost,
        {{ text_to_money('"savingsPlan/TotalCommitmentToDate"') }} as savings_plan_total_commitment_to_date,
        {{ text_to_money('"savingsPlan/UsedCommitment"') }} as savings_plan_used_commitment,

        -- quantities
        {{ text_to_money('"lineItem/UsageAmount"') }} as usage_amount,

        -- timestamps: ISO 8601 UTC ("2023-11-01T00:00:00.000Z" or without millis); ends exclusive
        cast("bill/BillingPeriodStartDate" as timestamp with time zone) as billing_period_start,
        cast("bill/BillingPeriodEndDate" as timestamp with time zone) as billing_period_end,
        cast("lineItem/UsageStartDate" as timestamp with time zone) as usage_start,
        cast("lineItem/UsageEndDate" as timestamp with time zone) as usage_end,

        -- lineage
        'aws_cur_legacy' as x_source,
        x_source_file,
        x_period as billing_period,
        x_export_version
    from source
)

select * from renamed
