{#- A billing line is in one file of its input's period: the same line in two files (a shard an
    earlier export left behind, two overlapping exports) would be summed twice with every cost
    reconciliation still green, because raw holds it twice too (macros/billing_checks.sql). -#}
{#- It reads every billing staging model and runs before the FOCUS table, so a failure skips it.
    Dagster shows it as a check of the first billing staging model: dagster-dbt attaches a singular
    test only to a model it depends on (focus_cost_and_usage is downstream, not upstream). -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'stg_aws__cur2_line_items'}}}) }}
select * from ({{ billing_lines_in_two_files() }}) as duplicated
