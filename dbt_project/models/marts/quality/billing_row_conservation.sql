{#- Where every landed billing row went, per input source × billing period (macros/billing_checks.sql). -#}
{{ config(materialized='view') }}
{{ billing_row_conservation() }}
