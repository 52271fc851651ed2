{#- Every cent of every export is in the FOCUS table: per billing input × billing account × billing
    period, Σ of the input's own invoiced cost (x_invoice_cost of its staging models: CUR unblended
    cost, GCP cost plus credits, Azure's actual-cost export, a FOCUS file's BilledCost) = Σ BilledCost,
    exactly (macros/billing_checks.sql; the view billing_cost_reconciliation shows every row).
    Returns the rows that differ. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
select * from ({{ billing_cost_reconciliation() }}) as reconciliation
where not billed_reconciles
