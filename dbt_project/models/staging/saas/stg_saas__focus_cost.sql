{#- FOCUS files SaaS vendors deliver themselves (FOCUS 1.0-1.2 columns, CSV), typed at landing
    (checks/files/saas_focus.yaml: besides ISO 8601 and plain decimals, US spreadsheet dates (5/1/25)
    and currency ("$10,000.00 ") are read exactly — the FOCUS specification's own SaaS samples are
    written that way), in Atlas's FOCUS types: its rows of stg_focus_exports__cost. -#}
select * from {{ ref('stg_focus_exports__cost') }}
where x_source = 'saas_focus'
