{#- The newest allocated GPU-hours forecast of every cluster: point and prediction intervals per
    forecast day, from the cluster's latest as-of date. -#}
with

forecasts as (
    select * from {{ source_or_empty('forecast_outputs', 'forecast_gpu_hours_daily') }} as forecasts
),

latest as (
    select
        series_key,
        max(as_of_date) as as_of_date
    from forecasts
    group by series_key
),

final as (
    select
        forecasts.series_key as cluster,
        forecasts.*
    from forecasts
    inner join latest
        on forecasts.series_key = latest.series_key
        and forecasts.as_of_date = latest.as_of_date
)

select * from final
