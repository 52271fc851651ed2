{#- Every FOCUS file Atlas lands (AWS Data Exports FOCUS, Azure Cost Management FOCUS, a SaaS
    vendor's own FOCUS file; CSV or parquet) in Atlas's FOCUS types, typed in one place: the raw
    sources of the `int_focus_exports__focus_line_items` entry of var billing_inputs, each row with
    its own x_source. stg_aws__focus_line_items, stg_azure__focus_cost and stg_saas__focus_cost are
    each source's rows. Landing has typed money, quantities, times and JSON
    (checks/files/_focus_columns.yaml; spreadsheet spellings where an input's contract allows them);
    text columns get the literal NULL / None some exporters write turned into NULL. FOCUS 1.0/1.1
    files lack later columns: they become NULL here and the intermediate model fills what the spec
    requires. -#}
{%- set wanted = {} -%}
{%- for name, type in focus_columns() -%}{%- do wanted.update({name: type}) -%}{%- endfor -%}
{%- do wanted.update({"x_ChargeType": "varchar", "x_PricingSubcategory": "varchar"}) -%}
{%- set exports = {} -%}
{%- for input in var('billing_inputs') if input.focus_model == 'int_focus_exports__focus_line_items' -%}
    {%- for export in input.sources -%}{%- do exports.update({export.raw: source('raw', export.raw)}) -%}{%- endfor -%}
{%- endfor -%}
with

source as (
    {{- landed_union(exports, wanted, 'x_source') }}
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
        x_source,
        x_source_file,
        x_source_row,
        x_period as x_billing_period,
        x_export_version
    from source
)

select * from typed
