{#- Money is DECIMAL, never float. -#}
{% macro money_type() -%}
    {{ var('money_type') }}
{%- endmacro %}

{#- Providers that ship money as floating point (CUR 2.0 parquet, BigQuery FLOAT64): cast via the
    shortest round-trip text of the double, which is the value the provider wrote. A direct
    double -> decimal cast rounds the binary fraction instead (1234567.12345678 -> ...7802). -#}
{% macro float_to_money(column) -%}
    cast(cast({{ column }} as {{ sql_type('varchar') }}) as {{ money_type() }})
{%- endmacro %}

{#- Providers that ship money as text (Azure and legacy CUR CSV): exact decimal parse. -#}
{% macro text_to_money(column) -%}
    cast(nullif(trim({{ column }}), '') as {{ money_type() }})
{%- endmacro %}
