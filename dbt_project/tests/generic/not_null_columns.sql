{#- None of the columns is NULL on any row the test selects: `not_null` on each column, in one scan.
    For views whose every read re-parses raw files (telemetry staging over the delivered DCGM text):
    eight `not_null` tests read the files eight times (≈60 s of a sample-estate run), this once.
    The failing rows come back whole, so the NULL column shows. -#}
{% test not_null_columns(model, column_names) %}
select *
from {{ model }}
where {% for column in column_names %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
