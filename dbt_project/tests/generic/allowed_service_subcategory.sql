{#- (category, subcategory) is one of the FOCUS specification's allowed pairs (seed
    focus_service_subcategories); a NULL on either side is not a pair. `model` may be a relation
    or, in a partitioned run, an aliased subquery of the run's periods (get_where_subquery): it is
    read in a CTE so that either works. -#}
{% test allowed_service_subcategory(model, category_column, subcategory_column) %}
with tested as (
    select {{ category_column }} as service_category, {{ subcategory_column }} as service_subcategory
    from {{ model }}
)
select tested.service_category, tested.service_subcategory, count(*) as line_items
from tested
left join {{ ref('focus_service_subcategories') }} as allowed
    on allowed.service_category = tested.service_category
    and allowed.service_subcategory = tested.service_subcategory
where allowed.service_category is null
group by 1, 2
{% endtest %}
