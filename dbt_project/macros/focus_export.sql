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

{#- A staged FOCUS file -> Atlas's FOCUS table: values spelled as FOCUS 1.2 spells them, required
    columns an older or sparser file lacks filled. A hyperscaler's export gets `provider_name` as
    in Atlas's other models (and as Service/HostProviderName when not delivered); a vendor's own
    file (provider_name none) keeps ProviderName as delivered, ServiceProviderName (1.3) is that
    1.2 ProviderName, and HostProviderName, when not delivered, the service provider (FOCUS: a
    provider that does not disclose where it runs names itself). -#}
{% macro focus_export_to_focus(staging_relation, provider_name=none) -%}
{%- set provider = "'" ~ provider_name ~ "'" if provider_name else '"ProviderName"' -%}
with

rows as (
    select * from {{ staging_relation }}
),

conformed as (
select
    * exclude ("ProviderName", "ServiceProviderName", "HostProviderName", "ChargeFrequency",
               "ServiceCategory", "ServiceSubcategory", "PricingCategory", "Tags", x_charge_type,
               billing_account_id, billing_period, x_invoice_cost, x_amortized_cost),
    {{ provider }} as "ProviderName",
    coalesce("ServiceProviderName", {{ provider }}) as "ServiceProviderName",
    {%- if provider_name %}
    coalesce("HostProviderName", {{ provider }}) as "HostProviderName",
    {%- else %}
    coalesce("HostProviderName", "ServiceProviderName", {{ provider }}) as "HostProviderName",
    {%- endif %}
    -- FOCUS 1.0 wrote "Usage-based".
    case when lower("ChargeFrequency") = 'usage-based' then 'Usage-Based' else "ChargeFrequency" end
        as "ChargeFrequency",
    -- FOCUS requires a ServiceCategory; a file without one gets the spec's catch-all.
    coalesce("ServiceCategory", 'Other') as "ServiceCategory",
    -- ServiceSubcategory arrived in FOCUS 1.1: older exports get their category's "Other (…)".
    coalesce("ServiceSubcategory", 'Other (' || coalesce("ServiceCategory", 'Other') || ')') as "ServiceSubcategory",
    case
        when "PricingCategory" = 'On-Demand' then 'Standard'
        when "PricingCategory" = 'Commitment-Based' then 'Committed'
        else "PricingCategory"
    end as "PricingCategory",
    coalesce("Tags", cast('{}' as json)) as "Tags",
    coalesce(x_charge_type, "ChargeCategory") as x_provider_line_type,
    {{ normalized_tag_map(json_to_tag_map('coalesce("Tags", cast(\'{}\' as json))')) }} as x_tag_map
from rows
)

select
    * exclude (x_tag_map),
    {{ tag_columns('x_tag_map') }}
from conformed
{%- endmacro %}
