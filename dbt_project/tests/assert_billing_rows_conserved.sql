{#- No billing row is lost silently: per input source × billing period, rows landed in raw = landed
    rows in focus_cost_and_usage + rows the FOCUS model does not take, with their reason
    (macros/billing_checks.sql; the view billing_row_conservation shows every row). A filter that
    drops rows (a NULL in a `not in`) fails here even when the costs of what remains add up. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
select * from ({{ billing_row_conservation() }}) as conservation
where rows_unaccounted <> 0
