{#- A provider's native FOCUS export (AWS Data Exports FOCUS, Azure Cost Management FOCUS; CSV or
    parquet), typed to Atlas's FOCUS contract. Values are read as text first, so CSV and parquet
    go the same way and money is exact; the literal strings NULL / None that some exporters write
    become NULL. FOCUS 1.0/1.1 exports lack later columns: they become NULL here and the
    intermediate model fills what the spec requires. -#}
{% macro stg_focus_export(source_relation, x_source) -%}
{%- set wanted = {} -%}
{%- for name, type in focus_columns() -%}{%- do wanted.update({name: "varchar"}) -%}{%- endfor -%}
{%- do wanted.update({"x_ChargeType": "varchar", "x_PricingSubcategory": "varchar"}) -%}
with

source as (
    select
        {{ columns_or_null(source_relation, wanted) }},
        x_source_file,
        x_period,
        x_export_version
    from {{ source_relation }}
),

typed as (
    select
        {%- for name, type in focus_columns() %}
        {%- set text = "nullif(nullif(nullif(trim(cast(" ~ adapter.quote(name) ~ " as varchar)), ''), 'NULL'), 'None')" %}
        {%- if type == "json" %}
        cast({{ text }} as json) as {{ adapter.quote(name) }},
        {%- elif type.startswith("timestamp") %}
        cast(replace({{ text }}, 'Z', '+00') as timestamp with time zone) as {{ adapter.quote(name) }},
        {%- else %}
        cast({{ text }} as {{ type }}) as {{ adapter.quote(name) }},
        {%- endif %}
        {%- endfor %}
        nullif(nullif("x_ChargeType", ''), 'NULL') as x_charge_type,
        '{{ x_source }}' as x_source,
        x_source_file,
        x_period as x_billing_period,
        x_export_version
    from source
)

select * from typed
{%- endmacro %}

{#- A staged FOCUS export -> Atlas's FOCUS table: provider names as in the other models,
    values spelled as FOCUS 1.2 spells them, required columns the older export lacks filled. -#}
{% macro focus_export_to_focus(staging_relation, provider_name) -%}
with

rows as (
    select * from {{ staging_relation }}
),

conformed as (
select
    * exclude ("ProviderName", "ServiceProviderName", "HostProviderName", "ChargeFrequency",
               "ServiceSubcategory", "PricingCategory", "Tags", x_charge_type),
    '{{ provider_name }}' as "ProviderName",
    coalesce("ServiceProviderName", '{{ provider_name }}') as "ServiceProviderName",
    coalesce("HostProviderName", '{{ provider_name }}') as "HostProviderName",
    -- FOCUS 1.0 wrote "Usage-based".
    case when lower("ChargeFrequency") = 'usage-based' then 'Usage-Based' else "ChargeFrequency" end
        as "ChargeFrequency",
    -- ServiceSubcategory arrived in FOCUS 1.1: older exports get their category's "Other (…)".
    coalesce("ServiceSubcategory", 'Other (' || coalesce("ServiceCategory", 'Other') || ')') as "ServiceSubcategory",
    case
        when "PricingCategory" = 'On-Demand' then 'Standard'
        when "PricingCategory" = 'Commitment-Based' then 'Committed'
        else "PricingCategory"
    end as "PricingCategory",
    coalesce("Tags", cast('{}' as json)) as "Tags",
    coalesce(x_charge_type, "ChargeCategory") as x_provider_line_type,
    {{ normalized_tags(json_to_tag_map('coalesce("Tags", cast(\'{}\' as json))')) }} as x_tags
from rows
)

select
    *,
    x_tags ->> 'team' as x_team,
    x_tags ->> 'project' as x_project
from conformed
{%- endmacro %}
