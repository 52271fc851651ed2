{#- Every AWS cost and usage report line in one shape: CUR 2.0 and legacy CUR (renamed to the
    CUR 2.0 names and types by its staging model), each row keeping its own x_source, file and row.
    int_aws__focus_line_items maps them to FOCUS once. An estate may deliver either, both or
    neither: a source that delivered nothing is an empty view and adds no rows. -#}
with

cur2 as (
    select * from {{ ref('stg_aws__cur2_line_items') }}
),

cur_legacy as (
    select * from {{ ref('stg_aws__cur_legacy_line_items') }}
),

unioned as (
    select * from cur2
    union all
    select * from cur_legacy
)

select * from unioned
