{#- Azure native FOCUS export -> Atlas's FOCUS table (macros/focus_export.sql). -#}
{{ focus_export_to_focus(ref('stg_azure__focus_cost'), 'Microsoft') }}
