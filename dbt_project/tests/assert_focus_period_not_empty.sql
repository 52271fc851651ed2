{#- Atlas-derived, not a FOCUS rule (warns): a charge or billing period whose exclusive end equals
    its inclusive start covers no time. FOCUS only defines the bounds (MUST inclusive start,
    exclusive end), so a provider's zero-length period is suspicious but not a violation. -#}
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
select *
from {{ ref('focus_cost_and_usage') }}
where "ChargePeriodEnd" = "ChargePeriodStart"
    or "BillingPeriodEnd" = "BillingPeriodStart"
