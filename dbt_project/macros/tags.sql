{#- Tags for grouping across providers: a JSON object with every key lowercased (and a provider
    prefix such as AWS's `user_` removed). The provider's own keys stay untouched in FOCUS `Tags`;
    this normalized form is `x_tags`. When two keys collide after lowercasing ("Team", "team"), the
    first in the provider's order wins. -#}
{% macro normalized_tags(tag_map, strip_prefix='') -%}
    {%- set key -%}
        lower({% if strip_prefix %}regexp_replace(t.key, '^{{ strip_prefix }}', ''){% else %}t.key{% endif %})
    {%- endset -%}
    cast(to_json(map_from_entries(list_filter(
        list_transform(map_entries(coalesce({{ tag_map }}, map())), t -> {'key': {{ key }}, 'value': t.value}),
        (e, i) -> list_position(
            list_transform(map_entries(coalesce({{ tag_map }}, map())), t -> {{ key }}), e.key
        ) = i
    ))) as json)
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
