{#- One row per forecast series (spend: provider / service / team; GPU-hours: gpu_cluster) from its
    latest as-of date: the model chosen and its backtest error, or the reason no forecast was made,
    and the forecast's span and point total. -#}
with

runs as (
    select * from {{ source_or_empty('forecast_outputs', 'forecast_cost_daily', sibling='forecast_runs') }} as runs
),

latest_runs as (
    select *
    from runs
    qualify row_number() over (
        partition by series_dimension, series_key order by as_of_date desc
    ) = 1
),

-- DECIMAL for both: money stays exact; GPU-hours (doubles) are rounded to 6 places
forecasts as (
    select series_dimension, series_key, as_of_date, forecast_date, point
    from {{ ref('rpt_forecast_cost_daily') }}
    union all
    select series_dimension, series_key, as_of_date, forecast_date, cast(round(point, 6) as decimal(38, 6))
    from {{ ref('rpt_forecast_gpu_hours_daily') }}
),

totals as (
    select
        series_dimension,
        series_key,
        as_of_date,
        min(forecast_date) as first_day,
        max(forecast_date) as last_day,
        sum(point) as point_total
    from forecasts
    group by series_dimension, series_key, as_of_date
),

final as (
    select
        latest_runs.series_dimension,
        latest_runs.series_key,
        latest_runs.billing_currency,
        latest_runs.as_of_date,
        latest_runs.history_days,
        latest_runs.model_name,
        latest_runs.backtest_mae,
        latest_runs.refused_reason,
        totals.first_day,
        totals.last_day,
        -- money for spend series (billing currency), GPU-hours for gpu_cluster
        totals.point_total
    from latest_runs
    left join totals
        on latest_runs.series_dimension = totals.series_dimension
        and latest_runs.series_key = totals.series_key
        and latest_runs.as_of_date = totals.as_of_date
)

select * from final
