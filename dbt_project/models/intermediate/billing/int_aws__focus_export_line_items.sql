{#- AWS native FOCUS export -> Atlas's FOCUS table (macros/focus_export.sql). -#}
{{ focus_export_to_focus(ref('stg_aws__focus_line_items'), 'Amazon Web Services') }}
