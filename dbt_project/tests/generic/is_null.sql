{#- The column is NULL on every row the test selects (with its `where` config: FOCUS's
    "<Column> MUST be null when <condition>"). -#}
{% test is_null(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} is not null
{% endtest %}
