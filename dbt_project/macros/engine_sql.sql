{#- SQL that differs between engines, one macro per thing it does: `duckdb__` is the embedded
    warehouse's spelling, `spark__` (or `default__`) Apache Spark's through dbt-spark. Models call
    the plain name; dbt picks the variant for the target (adapter.dispatch). Spark runs with ANSI
    mode, "double-quoted" identifiers and raw regex literals (atlas_pipeline/lib/warehouse/spark_engine.py). -#}

{#- A declared column type (contracts, FOCUS columns: DuckDB's names) in the target's spelling. -#}
{% macro sql_type(type_name) -%}
    {{ return(adapter.dispatch('sql_type', 'atlas')(type_name)) }}
{%- endmacro %}

{% macro default__sql_type(type_name) -%}
    {{ return(type_name) }}
{%- endmacro %}

{% macro spark__sql_type(type_name) -%}
    {%- set name = type_name | trim | lower -%}
    {%- set names = {'varchar': 'string', 'text': 'string', 'json': 'string', 'uuid': 'string',
                     'timestamp with time zone': 'timestamp_ltz', 'timestamptz': 'timestamp_ltz',
                     'timestamp': 'timestamp_ntz', 'integer': 'int', 'ubigint': 'bigint', 'hugeint': 'decimal(38, 0)'} -%}
    {%- if name.startswith('map(') -%}
        {%- set key, value = name[4:-1].split(',') -%}
        {{ return('map<' ~ spark__sql_type(key) ~ ', ' ~ spark__sql_type(value) ~ '>') }}
    {%- endif -%}
    {{ return(names.get(name, type_name)) }}
{%- endmacro %}

{#- The text value of `key` in a JSON object. -#}
{% macro json_text(json_expr, key) -%}
    {{ return(adapter.dispatch('json_text', 'atlas')(json_expr, key)) }}
{%- endmacro %}

{% macro duckdb__json_text(json_expr, key) -%}
    ({{ json_expr }} ->> '{{ key }}')
{%- endmacro %}

{% macro default__json_text(json_expr, key) -%}
    get_json_object({{ json_expr }}, '$.{{ key }}')
{%- endmacro %}

{#- Every column of the row (of `qualifier`, when given) but `columns`. -#}
{% macro star_except(columns, qualifier=none) -%}
    {{ return(adapter.dispatch('star_except', 'atlas')(columns, qualifier)) }}
{%- endmacro %}

{% macro duckdb__star_except(columns, qualifier=none) -%}
    {{ qualifier ~ '.' if qualifier }}* exclude ({{ columns | join(', ') }})
{%- endmacro %}

{#- Spark's EXCEPT list takes `backquoted` names only. -#}
{% macro default__star_except(columns, qualifier=none) -%}
    {%- set names = [] -%}
    {%- for column in columns -%}
        {%- do names.append('`' ~ column[1:-1] ~ '`' if column.startswith('"') else column) -%}
    {%- endfor -%}
    {{ qualifier ~ '.' if qualifier }}* except ({{ names | join(', ') }})
{%- endmacro %}

{#- An array of the given SQL expressions. -#}
{% macro array_literal(items) -%}
    {{ return(adapter.dispatch('array_literal', 'atlas')(items)) }}
{%- endmacro %}

{% macro duckdb__array_literal(items) -%}[{{ items | join(', ') }}]{%- endmacro %}

{% macro default__array_literal(items) -%}array({{ items | join(', ') }}){%- endmacro %}

{#- An empty array literal (of any element type). -#}
{% macro empty_array() -%}
    {{ return(adapter.dispatch('empty_array', 'atlas')()) }}
{%- endmacro %}

{% macro duckdb__empty_array() -%}[]{%- endmacro %}

{% macro default__empty_array() -%}array(){%- endmacro %}

{#- A struct from (name, expression) pairs. -#}
{% macro struct_of(fields) -%}
    {{ return(adapter.dispatch('struct_of', 'atlas')(fields)) }}
{%- endmacro %}

{% macro duckdb__struct_of(fields) -%}
    { {%- for name, expr in fields %}'{{ name }}': {{ expr }}{{ ', ' if not loop.last }}{% endfor -%} }
{%- endmacro %}

{% macro default__struct_of(fields) -%}
    named_struct({%- for name, expr in fields %}'{{ name }}', {{ expr }}{{ ', ' if not loop.last }}{% endfor -%})
{%- endmacro %}

{#- Each element of `array_expr` mapped through `body` (which names the element `var`). -#}
{% macro array_transform(array_expr, var, body) -%}
    {{ return(adapter.dispatch('array_transform', 'atlas')(array_expr, var, body)) }}
{%- endmacro %}

{% macro duckdb__array_transform(array_expr, var, body) -%}
    list_transform({{ array_expr }}, {{ var }} -> {{ body }})
{%- endmacro %}

{% macro default__array_transform(array_expr, var, body) -%}
    transform({{ array_expr }}, {{ var }} -> {{ body }})
{%- endmacro %}

{#- The elements of `array_expr` for which `condition` (naming the element `var`) holds. -#}
{% macro array_where(array_expr, var, condition) -%}
    {{ return(adapter.dispatch('array_where', 'atlas')(array_expr, var, condition)) }}
{%- endmacro %}

{% macro duckdb__array_where(array_expr, var, condition) -%}
    list_filter({{ array_expr }}, {{ var }} -> {{ condition }})
{%- endmacro %}

{% macro default__array_where(array_expr, var, condition) -%}
    filter({{ array_expr }}, {{ var }} -> {{ condition }})
{%- endmacro %}

{#- The sum of a numeric array's elements, typed `element_type`; NULL for an empty or NULL array. -#}
{% macro array_sum(array_expr, element_type) -%}
    {{ return(adapter.dispatch('array_sum', 'atlas')(array_expr, element_type)) }}
{%- endmacro %}

{% macro duckdb__array_sum(array_expr, element_type) -%}
    cast(list_sum({{ array_expr }}) as {{ element_type }})
{%- endmacro %}

{% macro default__array_sum(array_expr, element_type) -%}
    case when size({{ array_expr }}) > 0 then aggregate(
        {{ array_expr }}, cast(0 as {{ element_type }}), (total, element) -> cast(total + element as {{ element_type }})
    ) end
{%- endmacro %}

{#- The number of elements of an array. -#}
{% macro array_length(array_expr) -%}
    {{ return(adapter.dispatch('array_length', 'atlas')(array_expr)) }}
{%- endmacro %}

{% macro duckdb__array_length(array_expr) -%}len({{ array_expr }}){%- endmacro %}

{% macro default__array_length(array_expr) -%}size({{ array_expr }}){%- endmacro %}

{#- One row per element of an array (a select-list expression). -#}
{% macro array_elements(array_expr) -%}
    {{ return(adapter.dispatch('array_elements', 'atlas')(array_expr)) }}
{%- endmacro %}

{% macro duckdb__array_elements(array_expr) -%}unnest({{ array_expr }}){%- endmacro %}

{% macro default__array_elements(array_expr) -%}explode({{ array_expr }}){%- endmacro %}

{#- A MAP from an array of {key, value} structs. -#}
{% macro map_from_key_values(array_expr) -%}
    map_from_entries({{ array_expr }})
{%- endmacro %}

{#- A MAP or struct as JSON text (DuckDB: the JSON type). -#}
{% macro to_json_text(expr) -%}
    cast(to_json({{ expr }}) as {{ sql_type('json') }})
{%- endmacro %}

{#- A JSON object of string values as MAP(VARCHAR, VARCHAR). -#}
{% macro json_to_string_map(json_expr) -%}
    {{ return(adapter.dispatch('json_to_string_map', 'atlas')(json_expr)) }}
{%- endmacro %}

{% macro duckdb__json_to_string_map(json_expr) -%}
    json_transform({{ json_expr }}, '"MAP(VARCHAR, VARCHAR)"')
{%- endmacro %}

{% macro default__json_to_string_map(json_expr) -%}
    from_json({{ json_expr }}, 'map<string, string>')
{%- endmacro %}

{#- A JSON array of objects as an array of structs; `fields` (name, type) in DuckDB's type names. -#}
{% macro json_to_struct_array(json_expr, fields) -%}
    {{ return(adapter.dispatch('json_to_struct_array', 'atlas')(json_expr, fields)) }}
{%- endmacro %}

{% macro duckdb__json_to_struct_array(json_expr, fields) -%}
    json_transform({{ json_expr }}, '[{ {%- for name, type in fields %}"{{ name }}": "{{ type | upper }}"{{ ", " if not loop.last }}{% endfor -%} }]')
{%- endmacro %}

{% macro default__json_to_struct_array(json_expr, fields) -%}
    from_json({{ json_expr }}, 'array<struct<{%- for name, type in fields %}`{{ name }}`: {{ sql_type(type) }}{{ ", " if not loop.last }}{% endfor -%}>>')
{%- endmacro %}

{#- Whether `text` matches the regular expression `pattern` anywhere. -#}
{% macro regex_matches(text, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'atlas')(text, pattern)) }}
{%- endmacro %}

{% macro duckdb__regex_matches(text, pattern) -%}regexp_matches({{ text }}, {{ pattern }}){%- endmacro %}

{% macro default__regex_matches(text, pattern) -%}({{ text }} rlike {{ pattern }}){%- endmacro %}

{#- `0x…` hexadecimal text as BIGINT (NULL when not a number). -#}
{% macro hex_to_bigint(text) -%}
    {{ return(adapter.dispatch('hex_to_bigint', 'atlas')(text)) }}
{%- endmacro %}

{% macro duckdb__hex_to_bigint(text) -%}cast(try_cast({{ text }} as ubigint) as bigint){%- endmacro %}

{% macro default__hex_to_bigint(text) -%}
    try_cast(conv(regexp_replace({{ text }}, '^0[xX]', ''), 16, 10) as bigint)
{%- endmacro %}

{#- strftime-style format (%Y %m %d %H %M %S %g) in Java DateTimeFormatter letters. -#}
{% macro _java_datetime_format(format) -%}
    {%- set letters = {'Y': 'yyyy', 'm': 'MM', 'd': 'dd', 'H': 'HH', 'M': 'mm', 'S': 'ss', 'g': 'SSS'} -%}
    {%- set out = namespace(text='', literal='', escape=false) -%}
    {%- for char in format -%}
        {%- if out.escape -%}
            {%- if out.literal %}{% set out.text = out.text ~ '`' ~ out.literal ~ '`' %}{% set out.literal = '' %}{% endif -%}
            {%- set out.text = out.text ~ letters[char] -%}{%- set out.escape = false -%}
        {%- elif char == '%' -%}{%- set out.escape = true -%}
        {%- elif char in '-:/. ' -%}
            {%- if out.literal %}{% set out.text = out.text ~ '`' ~ out.literal ~ '`' %}{% set out.literal = '' %}{% endif -%}
            {%- set out.text = out.text ~ char -%}
        {%- else -%}{%- set out.literal = out.literal ~ char -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if out.literal %}{% set out.text = out.text ~ '`' ~ out.literal ~ '`' %}{% endif -%}
    {#- Java quotes literals with ' : spelled as a chr(39) concatenation, not a literal quote -#}
    {{ return(out.text) }}
{%- endmacro %}

{% macro _spark_format_literal(format) -%}
    {%- set parts = _java_datetime_format(format).split('`') -%}
    {%- if parts | length == 1 -%}'{{ parts[0] }}'
    {%- else -%}concat({%- for part in parts -%}'{{ part }}'{{ ", chr(39), " if not loop.last }}{%- endfor -%})
    {%- endif -%}
{%- endmacro %}

{#- A timestamp as text in a strftime-style `format`. -#}
{% macro format_timestamp(timestamp_expr, format) -%}
    {{ return(adapter.dispatch('format_timestamp', 'atlas')(timestamp_expr, format)) }}
{%- endmacro %}

{% macro duckdb__format_timestamp(timestamp_expr, format) -%}strftime({{ timestamp_expr }}, '{{ format }}'){%- endmacro %}

{% macro default__format_timestamp(timestamp_expr, format) -%}
    date_format({{ timestamp_expr }}, {{ _spark_format_literal(format) }})
{%- endmacro %}

{#- Text in a strftime-style `format` as a TIMESTAMP; NULL when it does not parse. -#}
{% macro try_parse_timestamp(text, format) -%}
    {{ return(adapter.dispatch('try_parse_timestamp', 'atlas')(text, format)) }}
{%- endmacro %}

{% macro duckdb__try_parse_timestamp(text, format) -%}try_strptime({{ text }}, '{{ format }}'){%- endmacro %}

{% macro default__try_parse_timestamp(text, format) -%}
    cast(try_to_timestamp({{ text }}, {{ _spark_format_literal(format) }}) as timestamp_ntz)
{%- endmacro %}

{#- Text in a strftime-style `format` as a TIMESTAMP (an error when it does not parse). -#}
{% macro parse_timestamp(text, format) -%}
    {{ return(adapter.dispatch('parse_timestamp', 'atlas')(text, format)) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp(text, format) -%}strptime({{ text }}, '{{ format }}'){%- endmacro %}

{% macro default__parse_timestamp(text, format) -%}
    cast(to_timestamp({{ text }}, {{ _spark_format_literal(format) }}) as timestamp_ntz)
{%- endmacro %}

{#- Seconds since the Unix epoch (a number) as a UTC TIMESTAMP. -#}
{% macro timestamp_from_epoch_seconds(seconds) -%}
    {{ return(adapter.dispatch('timestamp_from_epoch_seconds', 'atlas')(seconds)) }}
{%- endmacro %}

{% macro duckdb__timestamp_from_epoch_seconds(seconds) -%}cast(to_timestamp({{ seconds }}) as timestamp){%- endmacro %}

{% macro default__timestamp_from_epoch_seconds(seconds) -%}cast(timestamp_seconds({{ seconds }}) as timestamp_ntz){%- endmacro %}

{#- Milliseconds since the Unix epoch as a UTC TIMESTAMP. -#}
{% macro timestamp_from_epoch_ms(milliseconds) -%}
    {{ return(adapter.dispatch('timestamp_from_epoch_ms', 'atlas')(milliseconds)) }}
{%- endmacro %}

{% macro duckdb__timestamp_from_epoch_ms(milliseconds) -%}epoch_ms({{ milliseconds }}){%- endmacro %}

{% macro default__timestamp_from_epoch_ms(milliseconds) -%}cast(timestamp_millis({{ milliseconds }}) as timestamp_ntz){%- endmacro %}

{#- The earliest timestamp (a watermark before everything). -#}
{% macro minus_infinity_timestamp() -%}
    {{ return(adapter.dispatch('minus_infinity_timestamp', 'atlas')()) }}
{%- endmacro %}

{% macro duckdb__minus_infinity_timestamp() -%}'-infinity'::timestamptz{%- endmacro %}

{% macro default__minus_infinity_timestamp() -%}cast('0001-01-01 00:00:00' as timestamp_ltz){%- endmacro %}

{#- The distinct values of `expr` (text), sorted, joined by `separator` (an aggregate). -#}
{% macro distinct_values_joined(expr, separator) -%}
    {{ return(adapter.dispatch('distinct_values_joined', 'atlas')(expr, separator)) }}
{%- endmacro %}

{% macro duckdb__distinct_values_joined(expr, separator) -%}
    string_agg(distinct {{ expr }}, {{ separator }} order by {{ expr }})
{%- endmacro %}

{#- Spark 4.3 fails on listagg(distinct …) within group (order by <expression>) (ClassCastException). -#}
{% macro default__distinct_values_joined(expr, separator) -%}
    case when count({{ expr }}) > 0 then array_join(array_sort(collect_set({{ expr }})), {{ separator }}) end
{%- endmacro %}

{#- The distinct values of `expr` as a list (an aggregate). -#}
{% macro distinct_values_list(expr) -%}
    {{ return(adapter.dispatch('distinct_values_list', 'atlas')(expr)) }}
{%- endmacro %}

{% macro duckdb__distinct_values_list(expr) -%}list(distinct {{ expr }}){%- endmacro %}

{% macro default__distinct_values_list(expr) -%}collect_set({{ expr }}){%- endmacro %}

{#- dbt.listagg on Spark ignores its order_by_clause; Spark 4 orders with WITHIN GROUP. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with a limit is not supported on Spark") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){%- endif %}
{%- endmacro %}

{#- Config of an incremental model whose run replaces whole slices (a billing period, a UTC day)
    keyed by `key`: DuckDB deletes the slices the new rows have and inserts them; Spark overwrites
    the table's partitions by `key` (dynamic partition overwrite, the same replacement). -#}
{% macro replace_by_key(key) -%}
    {{ return(adapter.dispatch('replace_by_key', 'atlas')(key)) }}
{%- endmacro %}

{% macro default__replace_by_key(key) -%}
    {{ return({'incremental_strategy': 'delete+insert', 'unique_key': key}) }}
{%- endmacro %}

{% macro spark__replace_by_key(key) -%}
    {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': [key], 'file_format': 'parquet'}) }}
{%- endmacro %}

{#- dbt-duckdb stages an incremental run's rows in a temporary table, then deletes the slices they
    have and inserts them from it: every row is computed into memory first (a 10M-row FOCUS month:
    60 s and 3.8 GB), then written a second time. An incremental model whose query does not read its
    own table (the billing marts' periods and the telemetry models' days are compile-time literals)
    is staged as a temporary view instead, so its rows are computed once, straight into the table.
    A query that read its own table would see its rows deleted under it: it keeps the temporary
    table. -#}
{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none) -%}
    {%- if temporary and language == 'sql' and config.get('materialized') == 'incremental'
            and this.render() not in compiled_code -%}
        create temporary view {{ relation.include(database=false, schema=false) }} as (
            {{ compiled_code }}
        )
    {%- else -%}
        {{ dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by, sorted_by) }}
    {%- endif -%}
{%- endmacro %}

{#- dbt-spark's seed loader with try_cast: Atlas runs Spark in ANSI mode (lib/warehouse/spark_engine.py), where
    cast('None' as double) — an empty CSV cell as dbt-spark binds it — is an error, not NULL. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
  {% set batch_size = get_batch_size() %}
  {% set column_override = model['config'].get('column_types', {}) %}
  {% set statements = [] %}
  {% for chunk in agate_table.rows | batch(batch_size) %}
      {% set bindings = [] %}
      {% for row in chunk %}
          {% do bindings.extend(row) %}
      {% endfor %}
      {% set sql %}
          insert into {{ this.render() }} values
          {% for row in chunk -%}
              ({%- for col_name in agate_table.column_names -%}
                  {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                  {%- set type = column_override.get(col_name, inferred_type) -%}
                    try_cast({{ get_binding_char() }} as {{type}})
                  {%- if not loop.last%},{%- endif %}
              {%- endfor -%})
              {%- if not loop.last%},{%- endif %}
          {%- endfor %}
      {% endset %}
      {% do adapter.add_query(sql, bindings=bindings, abridge_sql_log=True) %}
      {% if loop.index0 == 0 %}
          {% do statements.append(sql) %}
      {% endif %}
  {% endfor %}
  {{ return(statements[0]) }}
{% endmacro %}

{#- `like` patterns whose escape character is the backslash (Spark's default; its lexer cannot read '\'). -#}
{% macro like_escape_backslash() -%}
    {{ return(adapter.dispatch('like_escape_backslash', 'atlas')()) }}
{%- endmacro %}

{% macro duckdb__like_escape_backslash() -%}escape '\'{%- endmacro %}

{% macro default__like_escape_backslash() -%}{%- endmacro %}

{#- dbt-spark's split_part builds a regex with '\\' (two backslashes once string literals are read
    as written) and indexes the array (an error past its end in ANSI mode); Spark's own split_part
    splits on the literal delimiter and returns '' past the last part, as DuckDB's does. -#}
{% macro spark__split_part(string_text, delimiter_text, part_number) -%}
    split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }})
{%- endmacro %}

{#- dbt-spark's datediff rounds sub-day parts up from the elapsed seconds and raises on NULL (the
    first row of a lag()); DuckDB's counts the part's boundaries crossed and is NULL on NULL. The
    same on Spark: whole units between the two times truncated to the part. -#}
{% macro spark__datediff(first_date, second_date, datepart) -%}
    timestampdiff({{ datepart }}, date_trunc('{{ datepart }}', {{ first_date }}), date_trunc('{{ datepart }}', {{ second_date }}))
{%- endmacro %}

{#- dbt-spark's dateadd raises on NULL and goes through Unix seconds; Spark's own timestampadd does not. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}

{#- A TIMESTAMP WITH TIME ZONE as the UTC wall-clock TIMESTAMP (Spark's session time zone is UTC). -#}
{% macro utc_wall_clock(timestamp_tz) -%}
    {{ return(adapter.dispatch('utc_wall_clock', 'atlas')(timestamp_tz)) }}
{%- endmacro %}

{% macro duckdb__utc_wall_clock(timestamp_tz) -%}cast(timezone('UTC', {{ timestamp_tz }}) as timestamp){%- endmacro %}

{% macro default__utc_wall_clock(timestamp_tz) -%}cast({{ timestamp_tz }} as timestamp_ntz){%- endmacro %}
