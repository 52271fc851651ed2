{#- Macros the rpt_* report models share. -#}

{#- True when a charge belongs to the spend trend: everything except the lumps listed in the var
    `spend_trend_excluded_charge_categories` (credits and one-off purchases). NULL-safe: a row
    without a charge category stays in the trend (no silent loss through three-valued logic). -#}
{% macro is_spend_trend_charge(column) -%}
    coalesce({{ column }}, '') not in (
        {%- for category in var('spend_trend_excluded_charge_categories') -%}
            '{{ category }}'{{ ', ' if not loop.last }}
        {%- endfor -%}
    )
{%- endmacro %}

{#- A table another stage writes (the forecast assets, the quality report, landing), or — while
    that stage has not run yet — an empty relation with the columns and types declared for it in
    yml. The report views are rebuilt by report_job after each refresh and forecast run, so an
    empty stand-in is replaced as soon as the table exists.
    `sibling` reads another table the same asset writes or reports from (`[schema.]table`, listed
    under the source table's meta.siblings): dagster-dbt maps one source to one asset key, and the
    lineage (a dependency on that asset) is the same. -#}
{% macro source_or_empty(source_name, table_name, sibling=none) -%}
    {%- set relation = source(source_name, table_name) -%}
    {#- in a dbt unit test source() is the fixture (no schema): use it as it is -#}
    {%- if not execute or relation is string or not relation.schema -%}
        {{ relation }}
    {%- else -%}
        {%- set node = graph.sources.values() | selectattr('source_name', 'equalto', source_name)
                                             | selectattr('name', 'equalto', table_name) | first -%}
        {%- if sibling -%}
            {%- set parts = sibling.split('.') -%}
            {%- set relation = relation.incorporate(path={
                    'schema': parts[0] if parts | length > 1 else relation.schema,
                    'identifier': parts[-1]}) -%}
            {%- set columns = node.meta.siblings[sibling] -%}
        {%- else -%}
            {%- set columns = node.columns.values() | list -%}
        {%- endif -%}
        {%- if adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
            {{ relation }}
        {%- else -%}
            {%- do log(relation ~ ' does not exist yet: reading it as empty', info=True) -%}
            (select
                {%- for column in columns %}
                cast(null as {{ column.data_type }}) as {{ adapter.quote(column.name) }}{{ ',' if not loop.last }}
                {%- endfor %}
            where 1 = 0)
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Month over month that survives any filter: `source` (daily rows) summed per `month_column` and
    `dimensions`, each measure beside the same slice's previous month (`<measure>_previous_month`)
    and the change (`<measure>_change`). A slice with a value the month before and none this month
    still gets a row (0 this month), up to the newest month of data: Σ `_previous_month` over any
    filter is then the filtered previous month. `is_complete_month`: the data (`date_column`)
    reaches the month's last day. Zeros take each measure's own type (`measure * 0`). -#}
{% macro month_over_month(source, month_column, date_column, dimensions, measures) -%}
with

monthly as (
    select
        {{ month_column }},
        {{ dimensions | join(', ') }},
        {%- for measure in measures %}
        sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ source }}
    group by all
),

data_bounds as (
    select
        max({{ month_column }}) as last_month,
        max({{ date_column }}) as last_day
    from {{ source }}
),

-- each month's values, once as themselves and once as the following month's previous month
both_months as (
    select
        {{ month_column }},
        {{ dimensions | join(', ') }},
        {%- for measure in measures %}
        {{ measure }},
        {{ measure }} * 0 as {{ measure }}_previous_month{{ ',' if not loop.last }}
        {%- endfor %}
    from monthly

    union all

    select
        cast({{ dbt.dateadd('month', 1, 'monthly.' ~ month_column) }} as date) as {{ month_column }},
        {{ dimensions | join(', ') }},
        {%- for measure in measures %}
        {{ measure }} * 0 as {{ measure }},
        {{ measure }} as {{ measure }}_previous_month{{ ',' if not loop.last }}
        {%- endfor %}
    from monthly
    cross join data_bounds
    where {{ dbt.dateadd('month', 1, 'monthly.' ~ month_column) }} <= data_bounds.last_month
)

select
    -- grain
    both_months.{{ month_column }},
    {%- for dimension in dimensions %}
    both_months.{{ dimension }},
    {%- endfor %}

    -- this month, the month before, the change
    {%- for measure in measures %}
    coalesce(sum(both_months.{{ measure }}), 0) as {{ measure }},
    coalesce(sum(both_months.{{ measure }}_previous_month), 0) as {{ measure }}_previous_month,
    coalesce(sum(both_months.{{ measure }}), 0) - coalesce(sum(both_months.{{ measure }}_previous_month), 0)
        as {{ measure }}_change,
    {%- endfor %}
    {{ dbt.dateadd('month', 1, 'both_months.' ~ month_column) }}
        <= {{ dbt.dateadd('day', 1, 'data_bounds.last_day') }} as is_complete_month
from both_months
cross join data_bounds
group by all
{%- endmacro %}

{#- The spend explorer's dimensions of a FOCUS row, as the spend marts and reports name them
    (fct_cost_daily, rpt_spend_resources_monthly): a charge no tag or rule gives a team is
    '(untagged)'. -#}
{% macro spend_dimensions() -%}
    "ProviderName" as provider_name,
    "BillingAccountId" as billing_account_id,
    "SubAccountId" as sub_account_id,
    "ServiceName" as service_name,
    "ServiceCategory" as service_category,
    "RegionId" as region_id,
    coalesce(x_team, '(untagged)') as team,
    "ChargeCategory" as charge_category,
    "BillingCurrency" as billing_currency
{%- endmacro %}
