{#- Cost anomalies with the dimension value that explains them best (a thin view over
    cost_anomalies). -#}
with

anomalies as (
    select * from {{ source_or_empty('forecast_outputs', 'cost_anomalies') }} as anomalies
),

final as (
    select
        usage_date,
        series_dimension,
        series_key,
        billing_currency,
        actual_cost,
        expected_cost,
        lower_95,
        upper_95,
        impact,
        relative_impact,
        direction,
        severity,
        explained_by_dimension,
        explained_by_value,
        explained_by_impact,
        forecast_as_of_date,
        model_name
    from anomalies
)

select * from final
