{#- GCP standard billing export (BigQuery NDJSON) -> FOCUS (mapping: macros/gcp_billing_focus.sql). -#}
{{ gcp_billing_to_focus(ref('stg_gcp__billing_line_items')) }}
