{#- GPU cost per month, cluster and team with the same slice's previous month beside it (macro
    month_over_month, as rpt_spend_monthly), so "whose GPU spend rose last month, on which cluster,
    and how much sat idle" is one filter and one sort. -#}
{{ month_over_month(
    source=ref('rpt_gpu_cost_daily'),
    month_column='usage_month',
    date_column='usage_date',
    dimensions=['cluster', 'team', 'currency'],
    measures=['paid_cost', 'used_cost', 'idle_cost', 'idle_cost_allocated_unused', 'idle_cost_unallocated',
              'unmeasured_cost', 'gpu_hours_allocated', 'gpu_hours_active'],
) }}
