{#- Invoiced and amortized cost per billing input × account × period against the FOCUS table, with
    the effective-cost basis used (macros/billing_checks.sql). -#}
{{ config(materialized='view') }}
{{ billing_cost_reconciliation() }}
