{#- (category, subcategory) is one of the FOCUS specification's allowed pairs (seed
    focus_service_subcategories); a NULL on either side is not a pair. -#}
{% test allowed_service_subcategory(model, category_column, subcategory_column) %}
select tested.{{ category_column }} as service_category, tested.{{ subcategory_column }} as service_subcategory,
    count(*) as line_items
from {{ model }} as tested
left join {{ ref('focus_service_subcategories') }} as allowed
    on allowed.service_category = tested.{{ category_column }}
    and allowed.service_subcategory = tested.{{ subcategory_column }}
where allowed.service_category is null
group by 1, 2
{% endtest %}
