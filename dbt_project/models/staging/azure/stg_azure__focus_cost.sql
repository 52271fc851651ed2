{#- Azure Cost Management FOCUS cost export (CSV or parquet): its rows of stg_focus_exports__cost. -#}
select * from {{ ref('stg_focus_exports__cost') }}
where x_source = 'azure_focus'
