{#- The column equals `expression` (another column, or a literal such as 0) on every row the test
    selects; NULL on one side only is a difference. -#}
{% test equal_to(model, column_name, expression) %}
select *
from {{ model }}
where {{ column_name }} is distinct from ({{ expression }})
{% endtest %}
