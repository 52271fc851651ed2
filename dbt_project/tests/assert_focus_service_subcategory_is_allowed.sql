{#- FOCUS: (ServiceCategory, ServiceSubcategory) is one of the specification's allowed pairs. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
select focus."ServiceCategory", focus."ServiceSubcategory", count(*) as line_items
from {{ ref('focus_cost_and_usage') }} as focus
left join {{ ref('focus_service_subcategories') }} as allowed
    on allowed.service_category = focus."ServiceCategory"
    and allowed.service_subcategory = focus."ServiceSubcategory"
where allowed.service_category is null
group by all
