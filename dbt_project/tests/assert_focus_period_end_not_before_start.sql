{#- FOCUS ChargePeriodStart / BillingPeriodStart "MUST be the inclusive start bound" and
    ChargePeriodEnd / BillingPeriodEnd "MUST be the exclusive end bound" of the period (MUST): an
    end before its start contradicts both, so it blocks. The spec has no explicit Start < End rule;
    Start = End (an empty period) only warns, in assert_focus_period_not_empty. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
select *
from {{ ref('focus_cost_and_usage') }}
where "ChargePeriodEnd" < "ChargePeriodStart"
    or "BillingPeriodEnd" < "BillingPeriodStart"
