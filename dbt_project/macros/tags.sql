{#- Tags for grouping across providers: a JSON object with every key lowercased (and a provider
    prefix such as AWS's `user_` removed). The provider's own keys stay untouched in FOCUS `Tags`;
    this normalized form is `x_tags`. When two keys collide after lowercasing ("Team", "team"), the
    first in the provider's order wins. -#}
{% macro normalized_tags(tag_map, strip_prefix='') -%}
    cast(to_json({{ normalized_tag_map(tag_map, strip_prefix) }}) as {{ sql_type('json') }})
{%- endmacro %}

{#- The same normalized tags kept as MAP(VARCHAR, VARCHAR) until the final columns (tag_columns):
    x_team and x_project are looked up in the map, not parsed back out of JSON. A line item without
    tags (most commitment, tax and credit rows) skips the key rewriting. -#}
{% macro normalized_tag_map(tag_map, strip_prefix='') -%}
    {{ return(adapter.dispatch('normalized_tag_map', 'atlas')(tag_map, strip_prefix)) }}
{%- endmacro %}

{#- DuckDB: each key is rewritten once per row — the rewritten entries are bound to `es` by a
    one-element list_transform (SQL has no LET), and the first-occurrence test reads their keys —
    instead of once per entry and again per other entry (n + n² regexp_replace per row; at 1M legacy
    CUR lines with 3 tags, ~7 % of the FOCUS mart's compute). -#}
{% macro duckdb__normalized_tag_map(tag_map, strip_prefix='') -%}
    {%- set key -%}
        lower({% if strip_prefix %}regexp_replace({key}, '^{{ strip_prefix }}', ''){% else %}{key}{% endif %})
    {%- endset -%}
    case when coalesce(cardinality({{ tag_map }}), 0) = 0 then cast(map() as map(varchar, varchar))
    else list_transform(
        [list_transform(map_entries({{ tag_map }}), t -> {'key': {{ key | replace('{key}', 't.key') }}, 'value': t.value})],
        es -> map_from_entries(list_filter(es, (e, i) -> list_position(list_transform(es, x -> x.key), e.key) = i))
    )[1] end
{%- endmacro %}

{#- Spark: the lambda's index is 0-based, array_position 1-based. -#}
{% macro default__normalized_tag_map(tag_map, strip_prefix='') -%}
    {%- set key -%}
        lower({% if strip_prefix %}regexp_replace({key}, '^{{ strip_prefix }}', ''){% else %}{key}{% endif %})
    {%- endset -%}
    case when coalesce(cardinality({{ tag_map }}), 0) = 0 then cast(map() as map<string, string>)
    else map_from_entries(filter(
        transform(map_entries({{ tag_map }}), t -> named_struct('key', {{ key | replace('{key}', 't.key') }}, 'value', t.value)),
        (e, i) -> array_position(transform(map_keys({{ tag_map }}), k -> {{ key | replace('{key}', 'k') }}), e.key) = i + 1
    )) end
{%- endmacro %}

{#- The final tag columns from a normalized_tag_map column: x_tags (JSON) and the two tags Atlas
    groups by. -#}
{% macro tag_columns(tag_map_column) -%}
    {{ return(adapter.dispatch('tag_columns', 'atlas')(tag_map_column)) }}
{%- endmacro %}

{% macro duckdb__tag_columns(tag_map_column) -%}
    cast(to_json({{ tag_map_column }}) as json) as x_tags,
    {{ tag_map_column }}['team'] as x_team,
    {{ tag_map_column }}['project'] as x_project
{%- endmacro %}

{#- Spark: a missing key is NULL (try_element_at), not an error in ANSI mode. -#}
{% macro default__tag_columns(tag_map_column) -%}
    to_json({{ tag_map_column }}) as x_tags,
    try_element_at({{ tag_map_column }}, 'team') as x_team,
    try_element_at({{ tag_map_column }}, 'project') as x_project
{%- endmacro %}

{#- A JSON object of string values (Azure Tags) as MAP(VARCHAR, VARCHAR). -#}
{% macro json_to_tag_map(json_expr) -%}
    {{ json_to_string_map(json_expr) }}
{%- endmacro %}

{#- GCP credit types that are part of the usage's price (folded into EffectiveCost), as a SQL
    tuple; `prefix` spells them as x_provider_line_type does (`credit:`). -#}
{% macro gcp_discount_credit_types(prefix='') -%}
    {%- set types = ['SUSTAINED_USAGE_DISCOUNT', 'COMMITTED_USAGE_DISCOUNT', 'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE',
                     'DISCOUNT'] -%}
    ({% for type in types %}'{{ prefix }}{{ type }}'{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}
