{#- FOCUS files SaaS vendors deliver themselves (FOCUS 1.0-1.2 columns, CSV), typed
    (macros/focus_export.sql). Besides ISO 8601 and plain decimals, US spreadsheet dates (5/1/25)
    and currency ("$10,000.00 ") are read exactly: the FOCUS specification's own SaaS samples are
    written that way. -#}
{{ stg_focus_export(source('raw', 'saas_focus'), 'saas_focus', spreadsheet_values=true) }}
