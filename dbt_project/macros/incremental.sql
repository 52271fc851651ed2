{#- Incremental billing marts rebuild whole billing periods (delete+insert on the period).

    Which periods: the dbt var `billing_periods` when it is set — Dagster runs the billing models
    as assets partitioned by billing period and passes the run's partitions
    (`ATLAS_DBT_PARTITIONS='{"billing_periods": ["2026-09", "2026-10"]}'`, or `--vars` by hand), and the model then builds exactly those
    periods, on its first build too. Without the var (a plain `dbt build`), the periods whose current
    delivery changed since the model was last built: the watermark is the model's own `loaded_at`
    column (dbt's run start time, stamped on every row it writes), and a delivery that became current
    after it (`current_since`: landed, or a held-back one accepted) — a new day of the month, a
    restated month, a late file — puts its period back in play, across every billing source. A
    restated month replaces that month and never adds to it. A full refresh (`atlas run
    --full-refresh`, a backfill of every partition, `dbt build --full-refresh`) rebuilds all
    periods: needed after changing the mappings or the seeds (fx_rates, service categories). -#}

{#- The run's partitions from the dbt var `name` (a list, or a comma-separated string), else from
    the JSON object in the environment variable ATLAS_DBT_PARTITIONS (`{"billing_periods": [...]}`,
    what Dagster passes), or none when neither names them. The environment variable is read only
    when executing: dbt's partial parsing keeps working (any change of `--vars` makes dbt re-parse
    the whole project, seconds per run), and the keys never shape a parsed node (configs, refs). -#}
{% macro partition_keys_var(name) -%}
    {%- set keys = var(name, none) -%}
    {%- if keys is none and execute -%}
        {%- set passed = fromjson(env_var('ATLAS_DBT_PARTITIONS', '') or '{}') -%}
        {%- set keys = passed.get(name) if passed is mapping else none -%}
    {%- endif -%}
    {%- if keys is none -%}{{ return(none) }}{%- endif -%}
    {%- if keys is string -%}{%- set keys = keys.split(',') -%}{%- endif -%}
    {{ return(keys | map('string') | map('trim') | list) }}
{%- endmacro %}

{#- The billing periods this build of `relation` writes: the partitions named by var
    `billing_periods`; else, on an incremental build, those landed since `loaded_at_column`; else
    none (= every period: a first or full build). A table lacking one of `columns` (built by an
    older Atlas) is rebuilt whole, every landed period. -#}
{% macro billing_periods_to_build(relation, loaded_at_column, columns=[]) -%}
    {%- set partitions = partition_keys_var('billing_periods') -%}
    {%- if not is_incremental() -%}
        {{ return(partitions) }}
    {%- endif -%}
    {{ return(billing_periods_landed_since(relation, loaded_at_column, columns, partitions)) }}
{%- endmacro %}

{% macro billing_periods_landed_since(relation, loaded_at_column, columns=[], partitions=none) -%}
    {%- set billing_sources = [] -%}
    {%- for src in billing_sources_list() -%}{%- do billing_sources.append("'" ~ src.raw ~ "'") -%}{%- endfor -%}
    {#- A table built by an older Atlas (a column it lacks) is rebuilt whole: every period. -#}
    {%- set stale = _missing_columns(relation, columns) -%}
    {%- if partitions is not none and not stale -%}{{ return(partitions) }}{%- endif -%}
    {%- set query -%}
        select distinct period
        from landing.current_files
        where source in ({{ billing_sources | join(', ') }})
            {%- if not stale %}
            and current_since > (select coalesce(max({{ loaded_at_column }}), {{ minus_infinity_timestamp() }}) from {{ relation }})
            {%- endif %}
        order by period
    {%- endset -%}
    {{ return(_billing_periods(query)) }}
{%- endmacro %}

{#- The billing periods of focus_cost_and_usage rebuilt after `relation` last read it (its
    `loaded_at_column` against the FOCUS rows' x_loaded_at); the partitions named by var
    `billing_periods` when it is set; none (every period) on a first or full build. A table lacking
    one of `columns` is rebuilt whole. -#}
{% macro billing_periods_rebuilt_since(focus_relation, relation, loaded_at_column, columns=[]) -%}
    {%- set partitions = partition_keys_var('billing_periods') -%}
    {%- if not is_incremental() -%}{{ return(partitions) }}{%- endif -%}
    {%- set stale = _missing_columns(relation, columns) -%}
    {%- if partitions is not none and not stale -%}{{ return(partitions) }}{%- endif -%}
    {%- set query -%}
        select distinct x_billing_period
        from {{ focus_relation }}
        {%- if not stale %}
        where x_loaded_at > (select coalesce(max({{ loaded_at_column }}), {{ minus_infinity_timestamp() }}) from {{ relation }})
        {%- endif %}
        order by 1
    {%- endset -%}
    {{ return(_billing_periods(query)) }}
{%- endmacro %}

{#- The first column of `query` as a list, run at compile time (empty while dbt only parses). The
    periods (or days) become literals in the model's filter, so DuckDB prunes files and row groups. -#}
{% macro _billing_periods(query) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{#- A predicate on `column` selecting the given periods — billing periods, or days (none: nothing). -#}
{% macro in_billing_periods(column, periods) -%}
    {%- if periods -%}
        {{ column }} in ({% for p in periods %}'{{ p }}'{{ ", " if not loop.last }}{% endfor %})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}

{#- dbt's run start time as a UTC timestamp: the `loaded_at` stamp of incremental billing marts. -#}
{% macro run_started_at_utc() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00' as {{ sql_type('timestamp with time zone') }})
{%- endmacro %}

{#- Telemetry models are incremental by UTC day, delete+insert on the day. A predicate on
    `day_column` selecting the days this build writes: the partitions named by var `telemetry_days`
    (Dagster's telemetry-day partitions); else, on an incremental build, the newest day already in
    `this` (`this_column`) and every later one — every day when `this` holds none (an empty table:
    `>= max(...)` would be `>= NULL`, no day at all); else every day. The newest day is compiled
    into a literal, as the billing marts' periods are: DuckDB prunes on it, and the query does not
    read the table it replaces rows of (duckdb__create_table_as). -#}
{% macro telemetry_days_to_build(day_column, this_column) -%}
    {%- set days = partition_keys_var('telemetry_days') -%}
    {%- if days is not none -%}
        {{ day_column }} in ({% for d in days %}cast('{{ d }}' as date){{ ", " if not loop.last }}{% endfor %}{{ "null" if not days }})
    {%- elif is_incremental() -%}
        {%- set newest = _newest_built(this_column) -%}
        {{ day_column ~ " >= cast('" ~ newest ~ "' as date)" if newest is not none else "true" }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- A predicate on a raw file's delivery day (`period_column`, 'YYYY-MM-DD') selecting the files an
    incremental build of a per-file telemetry model replaces: the telemetry days named by the run,
    else the newest day already built and every later one, or every day when none is built
    (telemetry_days_to_build for a model keyed by its own day, on the text period so DuckDB prunes
    the files). -#}
{% macro telemetry_files_to_build(period_column) -%}
    {%- set days = partition_keys_var('telemetry_days') -%}
    {%- if days is not none -%}
        {{ in_billing_periods(period_column, days) }}
    {%- else -%}
        {%- set newest = _newest_built(period_column) -%}
        {{ period_column ~ " >= '" ~ newest ~ "'" if newest is not none else "true" }}
    {%- endif -%}
{%- endmacro %}

{#- The newest value of `column` in the model's own table (`this`), run at compile time; none when
    the table holds no row (or while dbt only parses). -#}
{% macro _newest_built(column) -%}
    {%- set newest = _billing_periods("select max(" ~ column ~ ") from " ~ this) -%}
    {{ return(newest[0] if newest else none) }}
{%- endmacro %}

{#- A predicate on a raw file's delivery day (`x_period`, 'YYYY-MM-DD') that keeps the files able
    to hold readings of the days being built: those days and their neighbours (a reading taken just
    before midnight can sit in the next day's file). Lets DuckDB skip every other day's parquet
    file. True when no `telemetry_days` partitions are named. -#}
{% macro telemetry_files_for_days(period_column) -%}
    {%- set days = partition_keys_var('telemetry_days') -%}
    {%- if days is none -%}
        true
    {%- else -%}
        {%- set periods = [] -%}
        {%- for d in days -%}
            {%- set day = modules.datetime.date.fromisoformat(d) -%}
            {%- for offset in (-1, 0, 1) -%}
                {%- do periods.append((day + modules.datetime.timedelta(days=offset)).isoformat()) -%}
            {%- endfor -%}
        {%- endfor -%}
        {{ in_billing_periods(period_column, periods | unique | sort | list) }}
    {%- endif -%}
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
