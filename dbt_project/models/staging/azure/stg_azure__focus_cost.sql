{#- Azure Cost Management FOCUS cost export (CSV or parquet), typed (macros/focus_export.sql). -#}
{{ stg_focus_export(source('raw', 'azure_focus'), 'azure_focus') }}
