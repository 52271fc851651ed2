{#- Spend per billing month at the explorer's grain, with the same slice's previous month beside
    it, so month-over-month change survives any filter: Σ previous_month over the filtered rows is
    the previous month of the filtered spend (macro month_over_month). -#}
{{ month_over_month(
    source=ref('rpt_spend_daily'),
    month_column='billing_month',
    date_column='charge_date',
    dimensions=['provider_name', 'billing_account_id', 'sub_account_id', 'service_name', 'service_category',
                'region_id', 'team', 'charge_category', 'billing_currency', 'is_spend_trend', 'reporting_currency'],
    measures=['billed_cost', 'effective_cost', 'billed_cost_reporting', 'effective_cost_reporting'],
) }}
