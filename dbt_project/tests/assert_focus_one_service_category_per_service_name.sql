{#- FOCUS ServiceName "MUST have one and only one ServiceCategory that best aligns with its primary
    purpose" (MUST; blocks), per provider, for every input Atlas maps itself. Native FOCUS exports
    and SaaS vendors' files keep the provider's own values as delivered (AWS's FOCUS export puts EBS
    volumes under ServiceName "Amazon Elastic Compute Cloud" with ServiceCategory Storage), so they
    are left to their provider and not checked here. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
select
    "ProviderName",
    "ServiceName",
    {{ distinct_values_list('"ServiceCategory"') }} as categories
from {{ ref('focus_cost_and_usage') }}
-- NULL-safe: a row without x_source is checked, not skipped.
where coalesce(x_source, '') not in ('aws_focus', 'azure_focus', 'saas_focus')
group by all
having count(distinct "ServiceCategory") > 1
