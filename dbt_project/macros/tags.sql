{#- Tags for grouping across providers: a JSON object with every key lowercased (and a provider
    prefix such as AWS's `user_` removed). The provider's own keys stay untouched in FOCUS `Tags`;
    this normalized form is `x_tags`. When two keys collide after lowercasing ("Team", "team"), the
    first in the provider's order wins. -#}
{% macro normalized_tags(tag_map, strip_prefix='') -%}
    {{ return(adapter.dispatch('normalized_tags', 'atlas')(tag_map, strip_prefix)) }}
{%- endmacro %}

{% macro _normalized_tag_key(strip_prefix) -%}
    lower({% if strip_prefix %}regexp_replace(t.key, '^{{ strip_prefix }}', ''){% else %}t.key{% endif %})
{%- endmacro %}

{% macro duckdb__normalized_tags(tag_map, strip_prefix='') -%}
    {%- set key = _normalized_tag_key(strip_prefix) -%}
    cast(to_json(map_from_entries(list_filter(
        list_transform(map_entries(coalesce({{ tag_map }}, map())), t -> {'key': {{ key }}, 'value': t.value}),
        (e, i) -> list_position(
            list_transform(map_entries(coalesce({{ tag_map }}, map())), t -> {{ key }}), e.key
        ) = i
    ))) as {{ sql_type('json') }})
{%- endmacro %}

{#- Spark: the lambda's index is 0-based, array_position 1-based. -#}
{% macro default__normalized_tags(tag_map, strip_prefix='') -%}
    {%- set key = _normalized_tag_key(strip_prefix) -%}
    to_json(map_from_entries(filter(
        transform(map_entries(coalesce({{ tag_map }}, map())), t -> named_struct('key', {{ key }}, 'value', t.value)),
        (e, i) -> array_position(
            transform(map_entries(coalesce({{ tag_map }}, map())), t -> {{ key }}), e.key
        ) = i + 1
    )))
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
