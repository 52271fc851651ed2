{#- The newest spend forecast of every series (provider, service, team): point and prediction
    intervals per forecast day, from the series' latest as-of date. -#}
with

forecasts as (
    select * from {{ source_or_empty('forecast_outputs', 'forecast_cost_daily') }} as forecasts
),

latest as (
    select
        series_dimension,
        series_key,
        max(as_of_date) as as_of_date
    from forecasts
    group by series_dimension, series_key
),

final as (
    select forecasts.*
    from forecasts
    inner join latest
        on forecasts.series_dimension = latest.series_dimension
        and forecasts.series_key = latest.series_key
        and forecasts.as_of_date = latest.as_of_date
)

select * from final
