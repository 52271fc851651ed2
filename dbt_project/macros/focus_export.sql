{#- A FOCUS file (AWS Data Exports FOCUS, Azure Cost Management FOCUS, a SaaS vendor's own FOCUS
    file; CSV or parquet) in Atlas's FOCUS types. Landing has typed money, quantities, times and JSON
    (checks/files/_focus_columns.yaml; spreadsheet spellings where an input's contract allows them);
    text columns get the literal NULL / None some exporters write turned into NULL. FOCUS 1.0/1.1
    files lack later columns: they become NULL here and the intermediate model fills what the spec
    requires. -#}
{% macro stg_focus_export(source_relation, x_source) -%}
{%- set wanted = {} -%}
{%- for name, type in focus_columns() -%}{%- do wanted.update({name: type}) -%}{%- endfor -%}
{%- do wanted.update({"x_ChargeType": "varchar", "x_PricingSubcategory": "varchar"}) -%}
with

source as (
    select
        {{ columns_or_null(source_relation, wanted) }},
        x_source_file,
        x_source_row,
        x_period,
        x_export_version
    from {{ source_relation }}
),

typed as (
    select
        {%- for name, type in focus_columns() %}
        {%- if type == "varchar" %}
        nullif(nullif(nullif(trim({{ adapter.quote(name) }}), ''), 'NULL'), 'None') as {{ adapter.quote(name) }},
        {%- else %}
        {{ adapter.quote(name) }},
        {%- endif %}
        {%- endfor %}
        nullif(nullif("x_ChargeType", ''), 'NULL') as x_charge_type,
        -- reconciliation: a FOCUS file states its own invoiced and amortized cost
        "BillingAccountId" as billing_account_id,
        x_period as billing_period,
        "BilledCost" as x_invoice_cost,
        "EffectiveCost" as x_amortized_cost,
        '{{ x_source }}' as x_source,
        x_source_file,
        x_source_row,
        x_period as x_billing_period,
        x_export_version
    from source
)

select * from typed
{%- endmacro %}
