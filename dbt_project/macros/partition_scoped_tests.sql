{#- Data tests of a partitioned build test the partitions it built. When Dagster runs the billing
    models for some billing periods (var billing_periods) or the telemetry models for some days
    (var telemetry_days), every generic test (not_null, unique, accepted_values, the project's own)
    reads only those periods' rows of the model it tests — the other periods were tested when they
    were built and did not change. A model without a period column is tested whole. Without the vars
    (a plain `dbt build`) tests read everything, as dbt's own get_where_subquery does; a test's own
    `where` config still applies. Overrides dbt's global macro (root-project macros win). -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}{%- do conditions.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- set scope = partition_scope(relation) -%}
    {%- if scope -%}{%- do conditions.append(scope) -%}{%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- The predicate restricting `relation` to the run's partitions, or '' (no partition vars, no
    period column, or not executing). Billing models carry the period as x_billing_period (FOCUS
    shape) or billing_period (staging, daily mart); telemetry models as x_period (the delivery day
    of the raw file: DuckDB skips the other days' files), else sample_date / usage_date. -#}
{% macro partition_scope(relation) -%}
    {%- if not execute or relation is string -%}{{ return('') }}{%- endif -%}
    {%- set billing = partition_keys_var('billing_periods') -%}
    {%- set days = partition_keys_var('telemetry_days') -%}
    {%- if billing is none and days is none -%}{{ return('') }}{%- endif -%}
    {%- set present = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do present.append(column.name | lower) -%}
    {%- endfor -%}
    {%- if billing is not none -%}
        {%- for column in ['x_billing_period', 'billing_period'] if column in present -%}
            {{ return(in_billing_periods(column, billing)) }}
        {%- endfor -%}
    {%- endif -%}
    {%- if days is not none -%}
        {%- if 'x_period' in present -%}
            {{ return(in_billing_periods('x_period', days)) }}
        {%- endif -%}
        {%- for column in ['sample_date', 'usage_date'] if column in present -%}
            {{ return(telemetry_days_to_build(column, column)) }}
        {%- endfor -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
