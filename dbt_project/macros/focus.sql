{#- The FOCUS 1.2 columns plus the 1.3 additions, in specification order (alphabetical by
    column id), with the types Atlas stores them as. One place that defines the contract. -#}
{% macro focus_columns() -%}
    {%- set money = money_type() -%}
    {%- set quantity = money_type() -%}
    {%- set ts = "timestamp with time zone" -%}
    {{ return([
        ("AllocatedMethodDetails", "json"),
        ("AllocatedMethodId", "varchar"),
        ("AllocatedResourceId", "varchar"),
        ("AllocatedResourceName", "varchar"),
        ("AllocatedTags", "json"),
        ("AvailabilityZone", "varchar"),
        ("BilledCost", money),
        ("BillingAccountId", "varchar"),
        ("BillingAccountName", "varchar"),
        ("BillingAccountType", "varchar"),
        ("BillingCurrency", "varchar"),
        ("BillingPeriodEnd", ts),
        ("BillingPeriodStart", ts),
        ("CapacityReservationId", "varchar"),
        ("CapacityReservationStatus", "varchar"),
        ("ChargeCategory", "varchar"),
        ("ChargeClass", "varchar"),
        ("ChargeDescription", "varchar"),
        ("ChargeFrequency", "varchar"),
        ("ChargePeriodEnd", ts),
        ("ChargePeriodStart", ts),
        ("CommitmentDiscountCategory", "varchar"),
        ("CommitmentDiscountId", "varchar"),
        ("CommitmentDiscountName", "varchar"),
        ("CommitmentDiscountQuantity", quantity),
        ("CommitmentDiscountStatus", "varchar"),
        ("CommitmentDiscountType", "varchar"),
        ("CommitmentDiscountUnit", "varchar"),
        ("ConsumedQuantity", quantity),
        ("ConsumedUnit", "varchar"),
        ("ContractApplied", "json"),
        ("ContractedCost", money),
        ("ContractedUnitPrice", money),
        ("EffectiveCost", money),
        ("HostProviderName", "varchar"),
        ("InvoiceId", "varchar"),
        ("InvoiceIssuerName", "varchar"),
        ("ListCost", money),
        ("ListUnitPrice", money),
        ("PricingCategory", "varchar"),
        ("PricingCurrency", "varchar"),
        ("PricingCurrencyContractedUnitPrice", money),
        ("PricingCurrencyEffectiveCost", money),
        ("PricingCurrencyListUnitPrice", money),
        ("PricingQuantity", quantity),
        ("PricingUnit", "varchar"),
        ("ProviderName", "varchar"),
        ("PublisherName", "varchar"),
        ("RegionId", "varchar"),
        ("RegionName", "varchar"),
        ("ResourceId", "varchar"),
        ("ResourceName", "varchar"),
        ("ResourceType", "varchar"),
        ("ServiceCategory", "varchar"),
        ("ServiceName", "varchar"),
        ("ServiceProviderName", "varchar"),
        ("ServiceSubcategory", "varchar"),
        ("SkuId", "varchar"),
        ("SkuMeter", "varchar"),
        ("SkuPriceDetails", "json"),
        ("SkuPriceId", "varchar"),
        ("SubAccountId", "varchar"),
        ("SubAccountName", "varchar"),
        ("SubAccountType", "varchar"),
        ("Tags", "json"),
    ]) }}
{%- endmacro %}

{#- Atlas's own columns, after the FOCUS ones. -#}
{% macro focus_extension_columns() -%}
    {{ return([
        ("x_source", "varchar"),
        ("x_source_file", "varchar"),
        ("x_source_row", "bigint"),
        ("x_billing_period", "varchar"),
        ("x_export_version", "varchar"),
        ("x_provider_line_type", "varchar"),
        ("x_team", "varchar"),
        ("x_project", "varchar"),
        ("x_tags", "json"),
    ]) }}
{%- endmacro %}

{#- Select every FOCUS + x_ column from `relation`, cast to its contract type; columns the
    provider model does not produce become typed NULLs. -#}
{% macro focus_conform(relation) -%}
    {%- set present = column_names(relation) -%}
    select
    {%- for name, type in focus_columns() + focus_extension_columns() %}
        {% if name | lower in present -%}
            cast({{ adapter.quote(name) }} as {{ type }})
        {%- else -%}
            cast(null as {{ type }})
        {%- endif %} as {{ adapter.quote(name) }}{{ "," if not loop.last }}
    {%- endfor %}
    from {{ relation }}
{%- endmacro %}
