{#- AWS Data Exports FOCUS export (parquet or CSV): its rows of stg_focus_exports__cost. -#}
select * from {{ ref('stg_focus_exports__cost') }}
where x_source = 'aws_focus'
