{#- The continuous (interpolated) `q` quantile of `column` as an aggregate: engine-specific, so
    dispatched (DuckDB quantile_cont by default; Spark's percentile interpolates the same way). -#}
{% macro quantile_continuous(column, q) -%}
    {{ return(adapter.dispatch('quantile_continuous', 'atlas')(column, q)) }}
{%- endmacro %}

{% macro default__quantile_continuous(column, q) -%}
    quantile_cont({{ column }}, {{ q }})
{%- endmacro %}

{% macro spark__quantile_continuous(column, q) -%}
    percentile({{ column }}, {{ q }})
{%- endmacro %}
