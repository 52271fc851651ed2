{#- GCP detailed (resource-level) billing export, CSV -> FOCUS (mapping: macros/gcp_billing_focus.sql). -#}
{{ gcp_billing_to_focus(ref('stg_gcp__billing_detailed_line_items')) }}
