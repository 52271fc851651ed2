{#- FOCUS: a service has one ServiceCategory (and one ServiceSubcategory) per provider. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
select "ProviderName", "ServiceName", count(distinct ("ServiceCategory", "ServiceSubcategory")) as categories
from {{ ref('focus_cost_and_usage') }}
group by all
having count(distinct ("ServiceCategory", "ServiceSubcategory")) > 1
