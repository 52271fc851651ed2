{#- A FOCUS file (AWS Data Exports FOCUS, Azure Cost Management FOCUS, a SaaS vendor's own FOCUS
    file; CSV or parquet), typed to Atlas's FOCUS contract. Values are read as text first, so CSV
    and parquet go the same way and money is exact; the literal strings NULL / None that some
    exporters write become NULL. FOCUS 1.0/1.1 files lack later columns: they become NULL here and
    the intermediate model fills what the spec requires. `spreadsheet_values`: also accept US
    dates and currency as a spreadsheet writes them (focus_text_to_timestamp / _money below). -#}
{% macro stg_focus_export(source_relation, x_source, spreadsheet_values=false) -%}
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
        {{ focus_text_to_timestamp(text, spreadsheet_values) }} as {{ adapter.quote(name) }},
        {%- elif type == money_type() %}
        {{ focus_text_to_money(text, spreadsheet_values) }} as {{ adapter.quote(name) }},
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

{#- FOCUS date/time text -> timestamp with time zone. Without us_dates: DuckDB's cast (the
    hyperscalers' FOCUS exports carry ISO 8601). With us_dates: ISO 8601 (offset honoured, none =
    UTC), or a US spreadsheet date M/D/YY or M/D/YYYY with an optional H:MM[:SS] (UTC; two-digit
    years are 2000-2068), the form of the FOCUS specification's own sample files. The shape
    decides, because DuckDB's cast alone reads 5/1/25 as year 5; anything else fails the build
    instead of guessing (the file contract quarantines such files first). -#}
{% macro focus_text_to_timestamp(text, us_dates=false) -%}
    {%- if us_dates -%}
    case
        when {{ text }} is null then null
        when regexp_matches({{ text }}, '^\d{4}-\d{2}-\d{2}')
            then cast(replace({{ text }}, 'Z', '+00') as timestamp with time zone)
        when regexp_full_match({{ text }}, '\d{1,2}/\d{1,2}/(\d{2}|\d{4})( \d{1,2}:\d{2}(:\d{2})?)?')
            then timezone('UTC', strptime({{ text }}, [
                '%m/%d/%y', '%m/%d/%Y', '%m/%d/%y %H:%M', '%m/%d/%Y %H:%M', '%m/%d/%y %H:%M:%S', '%m/%d/%Y %H:%M:%S'
            ]))
        else error('not an ISO 8601 or M/D/YY date/time: ' || {{ text }})
    end
    {%- else -%}
    cast(replace({{ text }}, 'Z', '+00') as timestamp with time zone)
    {%- endif -%}
{%- endmacro %}

{#- FOCUS money / quantity text -> exact DECIMAL (never through float). With us_currency, also a
    spreadsheet's US currency format: a leading $ and , thousands separators in groups of three
    ("$10,000.00 "), accepted only when the $ or a decimal point makes the grouping unambiguous
    (a bare "1,000" could be a decimal comma); the symbol carries no currency of its own (FOCUS:
    the amount is in BillingCurrency / PricingCurrency). Anything else fails the cast. -#}
{% macro focus_text_to_money(text, us_currency=false) -%}
    {%- if us_currency -%}
    case
        when regexp_full_match({{ text }}, '-?\$(\d{1,3}(,\d{3})*|\d+)(\.\d+)?|-?\d{1,3}(,\d{3})+\.\d+')
            then cast(replace(replace({{ text }}, '$', ''), ',', '') as {{ money_type() }})
        else cast({{ text }} as {{ money_type() }})
    end
    {%- else -%}
    cast({{ text }} as {{ money_type() }})
    {%- endif -%}
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
               "ServiceCategory", "ServiceSubcategory", "PricingCategory", "Tags", x_charge_type),
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
    {{ normalized_tags(json_to_tag_map('coalesce("Tags", cast(\'{}\' as json))')) }} as x_tags
from rows
)

select
    *,
    x_tags ->> 'team' as x_team,
    x_tags ->> 'project' as x_project
from conformed
{%- endmacro %}
