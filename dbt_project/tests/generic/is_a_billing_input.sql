{#- The column names a billing input source of var `billing_inputs` (dbt_project.yml): the one list
    of inputs, so an input added there is allowed here without another edit. -#}
{% test is_a_billing_input(model, column_name) %}
    {%- set sources = [] -%}
    {%- for src in billing_sources_list() -%}{%- do sources.append("'" ~ src.raw ~ "'") -%}{%- endfor %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is null or {{ column_name }} not in ({{ sources | join(', ') }})
{% endtest %}
