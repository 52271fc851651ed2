{#- AWS Data Exports FOCUS export (parquet or CSV), typed (macros/focus_export.sql). -#}
{{ stg_focus_export(source('raw', 'aws_focus'), 'aws_focus') }}
