{#- The column is never below zero (NULL passes; pair with not_null where NULL is not allowed). -#}
{% test non_negative(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} < 0
{% endtest %}
