{#- A provider export's expected columns with types. Columns the delivered files lack (older
    export versions, optional column groups) become typed NULLs instead of breaking the model;
    extra columns are ignored. `required`: columns taken as present when the relation cannot be
    introspected (a dbt unit test's input); at run time every column the files lack is a NULL. -#}
{% macro columns_or_null(relation, columns, required=[]) -%}
    {%- set present = column_names(relation) -%}
    {%- for name, type in columns.items() %}
        {% if (name | lower in present) or (not present and name in required) -%}
            {{ adapter.quote(name) }}
        {%- else -%}
            cast(null as {{ sql_type(type) }}) as {{ adapter.quote(name) }}
        {%- endif %}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The column names of `relation`, lowercased (empty while dbt only parses). -#}
{% macro column_names(relation) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do names.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{#- The lineage landing adds to every raw row (lib/ingest/landing.py): its file, its row in the
    file, the billing period (or day) of its delivery and the export's version. A staging model
    reads them with its source columns and keeps them as billing_lineage() says. -#}
{% macro landing_lineage() -%}
    x_source_file,
    x_source_row,
    x_period,
    x_export_version
{%- endmacro %}

{#- A billing staging row's lineage: the billing input it came from (`x_source`, an SQL
    expression), its landed file and row, its billing period and the export's version. -#}
{% macro billing_lineage(x_source) -%}
    {{ x_source }} as x_source,
    x_source_file,
    x_source_row,
    x_period as billing_period,
    x_export_version
{%- endmacro %}

{#- Raw sources of one layout as one relation: each source's `columns` (columns_or_null: NULL where
    its files lack one), a column `label_column` naming which source a row came from (the key of
    `relations`, a dict label -> relation) and the landing lineage. -#}
{% macro landed_union(relations, columns, label_column) -%}
    {%- for label, relation in relations.items() %}
    select
        {{ columns_or_null(relation, columns) }},
        '{{ label }}' as {{ label_column }},
        {{ landing_lineage() }}
    from {{ relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
