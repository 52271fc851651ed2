{#- FOCUS: a service has one ServiceCategory, per provider, across every input Atlas maps itself.
    Native FOCUS exports and SaaS vendors' files keep the provider's own values as delivered (AWS's FOCUS export puts EBS
    volumes under ServiceName "Amazon Elastic Compute Cloud" with ServiceCategory Storage), so
    they are checked within themselves only. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
select
    "ProviderName",
    "ServiceName",
    x_source in ('aws_focus', 'azure_focus', 'saas_focus') as is_native_focus_export,
    list(distinct "ServiceCategory") as categories
from {{ ref('focus_cost_and_usage') }}
where x_source not in ('aws_focus', 'azure_focus', 'saas_focus')
group by all
having count(distinct "ServiceCategory") > 1
