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
