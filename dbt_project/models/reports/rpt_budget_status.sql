{#- Each budget once: its status as of the newest as-of date in budget_status. The table keeps one
    row per budget and as-of date (every daily forecast run adds rows); drawing them all stacks the
    same budget once per run. Budgets no longer declared drop out with the next run. -#}
with

status as (
    select * from {{ source_or_empty('forecast_outputs', 'budget_status') }} as status
),

newest as (
    select max(as_of_date) as as_of_date
    from status
),

final as (
    select
        status.budget_name,
        status.scope,
        status.scope_value,
        status.billing_currency,
        status.budget_month,
        status.as_of_date,
        status.days_elapsed,
        status.days_in_month,
        status.budget_amount,
        status.actual_to_date,
        status.forecast_rest_of_month,
        status.projected_month_end,
        status.projected_month_end_upper_80,
        status.budget_used,
        status.overrun_probability,
        status.already_over,
        status.projected_over,
        status.note
    from status
    inner join newest
        on status.as_of_date = newest.as_of_date
)

select * from final
