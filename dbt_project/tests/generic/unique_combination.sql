{#- A model's grain: no two rows share the values of `columns` (NULLs compare equal, as in GROUP BY).
    dbt_utils is not reachable here (no dbt package hub), so the project keeps its own. -#}
{% test unique_combination(model, columns) %}
select
    {{ columns | join(', ') }},
    count(*) as rows_in_grain
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
