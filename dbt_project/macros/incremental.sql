{#- Incremental billing marts rebuild whole billing periods (delete+insert on the period), and only
    those whose current delivery changed since the model was last built. The watermark is the
    model's own `loaded_at` column (dbt's run start time, stamped on every row it writes): a delivery
    that became current after it (`current_since`: landed, or a held-back one accepted) — a new day
    of the month, a restated month, a late file — puts its period back in play, across every billing source, so a restated month replaces that month and never adds to
    it. A full refresh (`atlas run --full-refresh`, `dbt build --full-refresh`) rebuilds all
    periods: needed after changing the mappings or the seeds (fx_rates, service categories). -#}

{% macro billing_periods_landed_since(relation, loaded_at_column, columns=[]) -%}
    {%- set billing_sources = [] -%}
    {%- for src in billing_sources_list() -%}{%- do billing_sources.append("'" ~ src.raw ~ "'") -%}{%- endfor -%}
    {%- set stale = _missing_columns(relation, columns) -%}
    {%- set query -%}
        select distinct period
        from landing.current_files
        where source in ({{ billing_sources | join(', ') }})
            {%- if not stale %}
            and current_since > (select coalesce(max({{ loaded_at_column }}), '-infinity'::timestamptz) from {{ relation }})
            {%- endif %}
        order by period
    {%- endset -%}
    {{ return(_billing_periods(query)) }}
{%- endmacro %}

{#- The billing periods of focus_cost_and_usage rebuilt after `relation` last read it (its
    `loaded_at_column` against the FOCUS rows' x_loaded_at). -#}
{% macro billing_periods_rebuilt_since(focus_relation, relation, loaded_at_column, columns=[]) -%}
    {%- set stale = _missing_columns(relation, columns) -%}
    {%- set query -%}
        select distinct x_billing_period
        from {{ focus_relation }}
        {%- if not stale %}
        where x_loaded_at > (select coalesce(max({{ loaded_at_column }}), '-infinity'::timestamptz) from {{ relation }})
        {%- endif %}
        order by 1
    {%- endset -%}
    {{ return(_billing_periods(query)) }}
{%- endmacro %}

{#- The first column of `query` as a list, run at compile time (empty while dbt only parses). The
    periods become literals in the model's filter, so DuckDB prunes files and row groups. -#}
{% macro _billing_periods(query) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{#- A predicate on `column` selecting the given billing periods (none: nothing). -#}
{% macro in_billing_periods(column, periods) -%}
    {%- if periods -%}
        {{ column }} in ({% for p in periods %}'{{ p }}'{{ ", " if not loop.last }}{% endfor %})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}

{#- dbt's run start time as a UTC timestamp: the `loaded_at` stamp of incremental billing marts. -#}
{% macro run_started_at_utc() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00' as timestamp with time zone)
{%- endmacro %}

{#- (source, period) of every billing input's current delivery that is incomplete: a file of it was
    quarantined (landing.current_files.delivery_complete), compiled into a literal list. -#}
{% macro incomplete_billing_deliveries() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set query -%}
        select distinct source, period from landing.current_files where not delivery_complete order by 1, 2
    {%- endset -%}
    {%- set found = adapter.get_relation(database=target.database, schema='landing', identifier='current_files') -%}
    {%- if not found -%}{{ return([]) }}{%- endif -%}
    {%- set result = run_query(query) -%}
    {{ return(result.rows | map('list') | list) }}
{%- endmacro %}

{#- The `columns` (name, type) a table built by an older Atlas lacks: such a table is rebuilt whole,
    every period, rather than mixing rows with and without the new column. -#}
{% macro _missing_columns(relation, columns) -%}
    {%- set present = column_names(relation) -%}
    {%- set missing = [] -%}
    {%- for name, type in columns if name | lower not in present -%}{%- do missing.append(name) -%}{%- endfor -%}
    {{ return(missing) }}
{%- endmacro %}
