{#- Every GCP billing export row in one shape: the standard export (BigQuery NDJSON) and the
    detailed, resource-level export (flattened CSV), as typed by their staging models (same columns,
    same order), each row keeping its own x_source, file and row. int_gcp__focus_line_items maps
    them to FOCUS once. A source that delivered nothing is an empty view and adds no rows. -#}
with

standard as (
    select * from {{ ref('stg_gcp__billing_line_items') }}
),

detailed as (
    select * from {{ ref('stg_gcp__billing_detailed_line_items') }}
),

unioned as (
    select * from standard
    union all
    select * from detailed
)

select * from unioned
