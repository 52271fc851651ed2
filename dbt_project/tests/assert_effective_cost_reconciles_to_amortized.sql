{#- Amortization loses and invents nothing: per billing input × billing account × billing period,
    Σ amortized cost = Σ EffectiveCost, exactly. The basis is the input's amortized export where it
    delivered one (Azure), else the provider's own amortized cost of its invoiced rows (AWS's
    amortized-cost columns; Azure actual cost without commitment rows, when only actual cost is
    exported) — `effective_cost_basis` in billing_cost_reconciliation says which. Returns the rows
    that differ. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
select * from ({{ billing_cost_reconciliation() }}) as reconciliation
where not effective_reconciles
