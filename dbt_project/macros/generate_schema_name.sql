{#- Layer folders become plain schema names (staging, intermediate); marts stay in the target
    schema (main) so people query `focus_cost_and_usage` without a prefix. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
