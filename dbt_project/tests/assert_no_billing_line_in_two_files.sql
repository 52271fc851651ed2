{#- A billing line is in one file of its input's period: the same line in two files (a shard an
    earlier export left behind, two overlapping exports) would be summed twice with every cost
    reconciliation still green, because raw holds it twice too (macros/billing_checks.sql). -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
-- depends_on: {{ ref('focus_cost_and_usage') }}
{#- (the check belongs to focus_cost_and_usage in Dagster: dagster-dbt attaches a singular test only
    to a model it depends on, and runs it after that model.) #}
select * from ({{ billing_lines_in_two_files() }}) as duplicated
