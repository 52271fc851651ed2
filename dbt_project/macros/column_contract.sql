{#- A provider export's expected columns with types. Columns the delivered files lack (older
    export versions, optional column groups) become typed NULLs instead of breaking the model;
    extra columns are ignored. -#}
{% macro columns_or_null(relation, columns) -%}
    {%- set present = column_names(relation) -%}
    {%- for name, type in columns.items() %}
        {% if name | lower in present -%}
            {{ adapter.quote(name) }}
        {%- else -%}
            cast(null as {{ type }}) as {{ adapter.quote(name) }}
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
