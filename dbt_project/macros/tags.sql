{#- Tags for grouping across providers: a JSON object with every key lowercased (and a provider
    prefix such as AWS's `user_` removed). The provider's own keys stay untouched in FOCUS `Tags`;
    this normalized form is `x_tags`. When two keys collide after lowercasing ("Team", "team"), the
    first in the provider's order wins. -#}
{% macro normalized_tags(tag_map, strip_prefix='') -%}
    cast(to_json({{ normalized_tag_map(tag_map, strip_prefix) }}) as json)
{%- endmacro %}

{#- The same normalized tags kept as MAP(VARCHAR, VARCHAR) until the final columns (tag_columns):
    x_team and x_project are looked up in the map, not parsed back out of JSON. A line item without
    tags (most commitment, tax and credit rows) skips the key rewriting. -#}
{% macro normalized_tag_map(tag_map, strip_prefix='') -%}
    {%- set key -%}
        lower({% if strip_prefix %}regexp_replace({key}, '^{{ strip_prefix }}', ''){% else %}{key}{% endif %})
    {%- endset -%}
    case when coalesce(cardinality({{ tag_map }}), 0) = 0 then cast(map() as map(varchar, varchar))
    else map_from_entries(list_filter(
        list_transform(map_entries({{ tag_map }}), t -> {'key': {{ key | replace('{key}', 't.key') }}, 'value': t.value}),
        (e, i) -> list_position(list_transform(map_keys({{ tag_map }}), k -> {{ key | replace('{key}', 'k') }}), e.key) = i
    )) end
{%- endmacro %}

{#- The final tag columns from a normalized_tag_map column: x_tags (JSON) and the two tags Atlas
    groups by. -#}
{% macro tag_columns(tag_map_column) -%}
    cast(to_json({{ tag_map_column }}) as json) as x_tags,
    {{ tag_map_column }}['team'] as x_team,
    {{ tag_map_column }}['project'] as x_project
{%- endmacro %}

{#- A JSON object of string values (Azure Tags) as MAP(VARCHAR, VARCHAR). -#}
{% macro json_to_tag_map(json_expr) -%}
    json_transform({{ json_expr }}, '"MAP(VARCHAR, VARCHAR)"')
{%- endmacro %}

{#- GCP credit types that are part of the usage's price (folded into EffectiveCost), as a SQL
    tuple; `prefix` spells them as x_provider_line_type does (`credit:`). -#}
{% macro gcp_discount_credit_types(prefix='') -%}
    {%- set types = ['SUSTAINED_USAGE_DISCOUNT', 'COMMITTED_USAGE_DISCOUNT', 'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE',
                     'DISCOUNT'] -%}
    ({% for type in types %}'{{ prefix }}{{ type }}'{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}
