{#- The FOCUS cost-and-usage table: every input's intermediate model conformed to the same
    columns, types and order (FOCUS 1.2 + 1.3 additions, then x_ columns), then a plain union.
    Inputs: AWS CUR 2.0, legacy CUR and native FOCUS export; GCP standard and detailed export;
    Azure cost details (actual + amortized) and native FOCUS export. Optional inputs with no files
    contribute no rows. Declare one billing account in one input only (x_source tells which).
    Reporting currency (policy, see docs/focus_mapping.md): BillingCurrency stays as billed; the
    x_*_reporting columns convert it at the FX rate in force on BillingPeriodStart (the latest
    `fx_rates` row dated on or before it), one rate per billing period so that converted totals
    still reconcile per invoice. No rate -> NULL, which a blocking test rejects. -#}
with

unioned as (
    {{ focus_conform(ref('int_aws__focus_line_items')) }}
    union all
    {{ focus_conform(ref('int_gcp__focus_line_items')) }}
    union all
    {{ focus_conform(ref('int_azure__focus_line_items')) }}
    union all
    {{ focus_conform(ref('int_aws__cur_legacy_focus_line_items')) }}
    union all
    {{ focus_conform(ref('int_aws__focus_export_line_items')) }}
    union all
    {{ focus_conform(ref('int_gcp__detailed_focus_line_items')) }}
    union all
    {{ focus_conform(ref('int_azure__focus_export_line_items')) }}
),

fx_rates as (
    select
        currency,
        cast(rate_date as timestamp with time zone) as valid_from,
        rate_date,
        cast(rate as decimal(18, 8)) as rate
    from {{ ref('fx_rates') }}
    where reporting_currency = '{{ var("reporting_currency") }}'
)

select
    unioned.*,
    '{{ var("reporting_currency") }}' as x_reporting_currency,
    fx_rates.rate as x_fx_rate,
    fx_rates.rate_date as x_fx_rate_date,
    cast(unioned."BilledCost" * fx_rates.rate as {{ money_type() }}) as x_billed_cost_reporting,
    cast(unioned."EffectiveCost" * fx_rates.rate as {{ money_type() }}) as x_effective_cost_reporting
from unioned
asof left join fx_rates
    on fx_rates.currency = unioned."BillingCurrency"
    and unioned."BillingPeriodStart" >= fx_rates.valid_from
