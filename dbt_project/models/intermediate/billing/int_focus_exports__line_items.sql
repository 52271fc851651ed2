{#- Every row of the FOCUS files Atlas lands, in one shape (the staging models share
    stg_focus_exports__cost: same columns, same types): AWS Data Exports FOCUS,
    Azure Cost Management FOCUS and SaaS vendors' own FOCUS files, each row keeping its own
    x_source, file and row. `exporting_provider_name` is the hyperscaler that wrote the export
    (ProviderName as Atlas's other models spell it); NULL for a vendor's own file, whose
    ProviderName stays as delivered. int_focus_exports__focus_line_items conforms them once. A
    source that delivered nothing is an empty view and adds no rows. -#}
with

aws_focus as (
    select *, 'Amazon Web Services' as exporting_provider_name
    from {{ ref('stg_aws__focus_line_items') }}
),

azure_focus as (
    select *, 'Microsoft' as exporting_provider_name
    from {{ ref('stg_azure__focus_cost') }}
),

saas_focus as (
    select *, cast(null as {{ sql_type('varchar') }}) as exporting_provider_name
    from {{ ref('stg_saas__focus_cost') }}
),

unioned as (
    select * from aws_focus
    union all
    select * from azure_focus
    union all
    select * from saas_focus
)

select * from unioned
