{#- A Python-style list literal written by a CSV flattening of BigQuery's repeated fields
    (`[{'key': 'team', 'value': None}]`) as JSON: single quotes become double quotes and
    None/True/False become null. Breaks on a quote character inside a value. -#}
{% macro python_list_to_json(column) -%}
    cast(regexp_replace(replace(coalesce(nullif(trim({{ column }}), ''), '[]'), chr(39), '"'),
        '\b(None|True|False)\b', 'null', 'g') as json)
{%- endmacro %}
